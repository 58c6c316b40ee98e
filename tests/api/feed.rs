//! `GET /v1/messages`: a tenant's feed of the messages of its `"feed": true` subscriptions, in
//! queue order, paged by cursor, long-polled with `wait`; and feed subscriptions themselves.

use crate::helpers::{Backend, TestApp, awb, hook, on_both_backends, on_postgres_only, spawn_app};
use serde_json::{Value, json};

on_both_backends!(
    the_feed_lists_a_tenants_feed_messages_in_queue_order_page_by_page,
    a_long_poll_is_woken_by_a_new_message,
    bad_feed_queries_are_refused_by_name,
    a_feed_subscription_needs_no_url_or_email_and_keeps_its_feed,
);
on_postgres_only!(a_message_committed_out_of_order_is_not_skipped);

async fn feed_subscription(app: &TestApp, key: &str, serial: u32) -> Value {
    app.subscribed(key, json!({"awb": awb("020", serial), "feed": true}))
        .await
}

async fn test_message(app: &TestApp, key: &str, subscription: &Value) -> String {
    let id = subscription["id"].as_str().unwrap();
    let reply = app
        .post(&format!("/v1/subscriptions/{id}/test"), key, json!({}))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.body["messageId"].as_str().unwrap().to_owned()
}

async fn feed(app: &TestApp, key: &str, query: &str) -> (Vec<String>, String) {
    let reply = app.get(&format!("/v1/messages{query}"), key).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let ids = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, reply.body["nextCursor"].as_str().unwrap().to_owned())
}

async fn the_feed_lists_a_tenants_feed_messages_in_queue_order_page_by_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let a = feed_subscription(&app, &key, 1).await;
    let b = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 2), "feed": true, "url": hook(1)}),
        )
        .await;
    let webhook_only = app
        .subscribed(&key, json!({"awb": awb("020", 3), "url": hook(1)}))
        .await;
    let other = app.create_key("other").await;
    let elsewhere = app
        .subscribed(&other, json!({"awb": awb("020", 1), "feed": true}))
        .await;
    let (empty, start) = feed(&app, &key, "").await;
    assert!(empty.is_empty());

    let first = test_message(&app, &key, &a).await;
    test_message(&app, &key, &webhook_only).await;
    let second = test_message(&app, &key, &b).await;
    let third = test_message(&app, &key, &a).await;
    let not_ours = test_message(&app, &other, &elsewhere).await;

    // `wait`: on Postgres what is committed can be held back for a moment by other
    // transactions on the server (see `store/feed.rs`); a long poll answers once it is not.
    let (page, cursor) = feed(&app, &key, "?limit=2&wait=10s").await;
    assert_eq!(page, vec![first.clone(), second.clone()]);
    let (page, last) = feed(&app, &key, &format!("?after={cursor}&wait=10s")).await;
    assert_eq!(page, vec![third.clone()]);
    // Past the end: nothing, and the same cursor to ask again with.
    let (page, again) = feed(&app, &key, &format!("?after={last}")).await;
    assert!(page.is_empty());
    assert_eq!(again, last);
    // From the start, or from the first cursor handed out, it is all there in order.
    let (all, _) = feed(&app, &key, &format!("?after={start}&wait=10s")).await;
    assert_eq!(all, vec![first, second, third]);
    assert_eq!(feed(&app, &other, "?wait=10s").await.0, vec![not_ours]);
}

async fn a_long_poll_is_woken_by_a_new_message(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let key = app.create_key("acme").await;
    let sub = feed_subscription(&app, &key, 1).await;
    let (_, cursor) = feed(&app, &key, "").await;
    let poll = {
        let (app, key) = (app.clone(), key.clone());
        tokio::spawn(async move { feed(&app, &key, &format!("?after={cursor}&wait=30s")).await })
    };
    // Let the request reach its wait (if it has not, it finds the message at once instead).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !poll.is_finished(),
        "the long poll answered with nothing queued"
    );
    let sent = test_message(&app, &key, &sub).await;
    let (page, _) = poll.await.unwrap();
    assert_eq!(page, vec![sent]);
}

async fn bad_feed_queries_are_refused_by_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    for (query, says) in [
        ("?limit=0", "`limit`"),
        ("?limit=1001", "`limit`"),
        ("?limit=ten", "limit"),
        ("?wait=31s", "at most 30s"),
        ("?wait=soon", "`wait`"),
        ("?after=bm90LWEtY3Vyc29y", "`after`"),
        ("?after=%25%25", "`after`"),
        ("?since=1", "since"),
    ] {
        let message = app
            .get(&format!("/v1/messages{query}"), &key)
            .await
            .assert_error(400, "ErrInvalidQuery");
        assert!(message.contains(says), "{query}: {message}");
    }
    let reply = app
        .request(reqwest::Method::GET, "/v1/messages", None, None)
        .await;
    reply.assert_error(401, "ErrUnauthorized");
}

async fn a_feed_subscription_needs_no_url_or_email_and_keeps_its_feed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let sub = feed_subscription(&app, &key, 1).await;
    assert_eq!(sub["feed"], true);
    assert!(sub["url"].is_null() && sub["emails"] == json!([]));
    let plain = app
        .subscribed(&key, json!({"awb": awb("020", 2), "url": hook(1)}))
        .await;
    assert_eq!(plain["feed"], false);
    app.subscribe(
        &key,
        json!({"awb": awb("020", 1), "feed": true, "url": hook(2)}),
    )
    .await
    .assert_error(400, "ErrAlreadySubscribed");
    app.subscribe(&key, json!({"awb": awb("020", 3), "feed": false}))
        .await
        .assert_error(400, "ErrMissingKeyParams");
    let id = sub["id"].as_str().unwrap();
    // A PUT replaces the channels: without the feed, a subscription needs another channel.
    app.put(&format!("/v1/subscriptions/{id}"), &key, json!({}))
        .await
        .assert_error(400, "ErrMissingKeyParams");
    let changed = app
        .put(
            &format!("/v1/subscriptions/{id}"),
            &key,
            json!({"feed": true, "url": hook(3)}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        (&changed.body["feed"], &changed.body["url"]),
        (&json!(true), &json!(hook(3)))
    );
    // Removing its URL leaves it active: the feed is still a channel.
    let removed = app
        .post(
            "/v1/unsubscribe",
            &key,
            json!({"awb": awb("020", 1), "url": hook(3)}),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let read = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(
        (&read.body["status"], &read.body["feed"]),
        (&json!("active"), &json!(true))
    );
}

/// Two queueing transactions commit in the other order than they took their positions: the
/// one that took position n stays open while a later one (n + 1) commits. A reader must not
/// move its cursor past n + 1 while n may still appear.
async fn a_message_committed_out_of_order_is_not_skipped(backend: Backend) {
    use sqlx::Connection;
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let a = feed_subscription(&app, &key, 1).await;
    let b = feed_subscription(&app, &key, 2).await;
    let mut conn = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    let mut early = conn.begin().await.unwrap();
    let early_body = json!({"id": "msg_early", "type": "subscription.test"}).to_string();
    sqlx::query(
        "INSERT INTO feed_messages (tenant_id, subscription_id, message_id, type, sequence, \
             body, created_at) \
         SELECT tenant_id, id, 'msg_early', 'subscription.test', 99, $2, now() \
         FROM subscriptions WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(a["id"].as_str().unwrap()).unwrap())
    .bind(&early_body)
    .execute(&mut *early)
    .await
    .unwrap();
    let late = test_message(&app, &key, &b).await;
    let (seen, cursor) = feed(&app, &key, "").await;
    assert!(
        seen.is_empty(),
        "the later message must wait for the earlier transaction: {seen:?}"
    );
    early.commit().await.unwrap();
    let (seen, _) = feed(&app, &key, &format!("?after={cursor}&wait=10s")).await;
    assert_eq!(seen, vec!["msg_early".to_owned(), late]);
}
