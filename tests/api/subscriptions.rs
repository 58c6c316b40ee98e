//! The subscription lifecycle over HTTP: create, read, list, replace, end, unsubscribe.

use crate::helpers::{Backend, awb, hook, on_both_backends, spawn_app};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;

on_both_backends!(
    creating_a_subscription_returns_it_with_a_signing_secret,
    a_subscription_reads_back_without_its_secret,
    flight_subscriptions_are_stored_normalised,
    listing_pages_through_every_subscription_once,
    listing_filters_by_awb_status_and_url,
    put_replaces_channels_states_and_reference,
    delete_ends_a_subscription_and_frees_its_url,
    unsubscribe_removes_channels_and_ends_empty_subscriptions,
    tenants_never_see_each_others_subscriptions,
);

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn creating_a_subscription_returns_it_with_a_signing_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let reply = app
        .subscribe(
            &key,
            json!({"awb": "02008002050", "url": hook(1), "emails": ["Ops@Acme.example"],
                   "reference": "PO-4711"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = &reply.body;
    let id = body["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(
        reply.headers["location"].to_str().unwrap(),
        format!("/v1/subscriptions/{id}")
    );
    assert_eq!(body["awb"], "020-08002050", "AWB is normalised");
    assert_eq!(body["url"], hook(1));
    assert_eq!(body["emails"], json!(["ops@acme.example"]));
    assert_eq!(body["states"], json!(["*"]));
    assert_eq!(body["reference"], "PO-4711");
    assert_eq!(body["status"], "active");
    assert_eq!(body["skippedEmails"], json!([]));
    assert!(
        body["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let created = time(&body["createdAt"]);
    assert!((Utc::now() - created).num_seconds().abs() < 60);
    assert_eq!(time(&body["expiresAt"]) - created, TimeDelta::days(21));
}

async fn a_subscription_reads_back_without_its_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": "172-28891936", "emails": ["a@x.io", "b@x.io"],
                                 "states": ["dep", "ARR"]}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let reply = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("signingSecret").is_none());
    assert_eq!(reply.body["emails"], json!(["a@x.io", "b@x.io"]));
    assert_eq!(reply.body["states"], json!(["ARR", "DEP"]));
    assert_eq!(reply.body["url"], json!(null));
    for field in ["id", "awb", "createdAt", "expiresAt", "status"] {
        assert_eq!(reply.body[field], created[field], "{field}");
    }
}

async fn flight_subscriptions_are_stored_normalised(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let date = (Utc::now() + TimeDelta::days(2)).date_naive().to_string();
    let created = app
        .subscribed(
            &key,
            json!({"flight": {"number": "lh 08160", "date": date, "origin": "fra"},
                   "url": hook(1)}),
        )
        .await;
    assert_eq!(
        created["flight"],
        json!({"number": "LH8160", "date": date, "origin": "FRA"})
    );
    assert!(created.get("awb").is_none());
    // The same flight spelled differently is the same target for the duplicate rules.
    let again = app
        .subscribe(
            &key,
            json!({"flight": {"number": "LH8160", "date": date, "origin": "FRA"}, "url": hook(1)}),
        )
        .await;
    again.assert_error(400, "ErrAlreadySubscribed");
}

async fn listing_pages_through_every_subscription_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let mut created = Vec::new();
    for n in 0..5 {
        let body = app
            .subscribed(&key, json!({"awb": awb("020", n), "url": hook(n)}))
            .await;
        created.push(body["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/subscriptions?limit=2&cursor={c}"),
            None => "/v1/subscriptions?limit=2".to_owned(),
        };
        let reply = app.get(&path, &key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        pages += 1;
        let items = reply.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match reply.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    created.reverse();
    assert_eq!(seen, created, "newest first, each exactly once");
}

async fn listing_filters_by_awb_status_and_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let first = app
        .subscribed(&key, json!({"awb": awb("020", 1), "url": hook(1)}))
        .await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "url": hook(2)}))
        .await;
    app.subscribed(&key, json!({"awb": awb("172", 9), "url": hook(1)}))
        .await;
    let ended = first["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/v1/subscriptions/{ended}"), &key)
            .await
            .status,
        204
    );

    let count = |reply: crate::helpers::Reply| reply.body["items"].as_array().unwrap().len();
    let by_awb = app
        .get(
            &format!("/v1/subscriptions?awb={}", awb("020", 1).replace('-', "")),
            &key,
        )
        .await;
    assert_eq!(count(by_awb), 2);
    let active = app.get("/v1/subscriptions?status=active", &key).await;
    assert_eq!(count(active), 2);
    let unsubscribed = app.get("/v1/subscriptions?status=unsubscribed", &key).await;
    assert_eq!(unsubscribed.body["items"][0]["id"], ended);
    let url = app
        .get(&format!("/v1/subscriptions?url={}", hook(1)), &key)
        .await;
    assert_eq!(count(url), 2);
    let both = app
        .get(
            &format!("/v1/subscriptions?url={}&status=active", hook(1)),
            &key,
        )
        .await;
    assert_eq!(count(both), 1);
    // `q`: text anywhere in the AWB (with or without its dash), the flight or the reference.
    let tagged = app
        .subscribed(
            &key,
            json!({"awb": awb("172", 9), "url": hook(3), "reference": "PO-Acme-77"}),
        )
        .await;
    let found = app.get("/v1/subscriptions?q=acme-7", &key).await.body;
    let ids: Vec<&Value> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&tagged["id"]]);
    let serial = &awb("172", 9)[4..];
    let by_text = app
        .get(&format!("/v1/subscriptions?q={serial}"), &key)
        .await;
    assert_eq!(count(by_text), 2);
    let blank = app.get("/v1/subscriptions?q=%20", &key).await;
    assert_eq!(count(blank), 4, "blank text filters nothing");
}

async fn put_replaces_channels_states_and_reference(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 7), "url": hook(1), "emails": ["a@x.io", "b@x.io"],
                   "reference": "old"}),
        )
        .await;
    let path = format!("/v1/subscriptions/{}", created["id"].as_str().unwrap());
    let reply = app
        .put(
            &path,
            &key,
            json!({"emails": ["b@x.io", "c@x.io"], "states": ["DLV"], "reference": "new"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let read = app.get(&path, &key).await.body;
    assert_eq!(
        read["url"],
        json!(null),
        "PUT replaces: an omitted url is removed"
    );
    assert_eq!(read["emails"], json!(["b@x.io", "c@x.io"]));
    assert_eq!(read["states"], json!(["DLV"]));
    assert_eq!(read["reference"], "new");
    assert!(time(&read["updatedAt"]) >= time(&read["createdAt"]));
    // A removed address is free for another subscription of the same target.
    app.subscribed(&key, json!({"awb": awb("020", 7), "emails": ["a@x.io"]}))
        .await;
}

async fn delete_ends_a_subscription_and_frees_its_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 3), "url": hook(1), "emails": ["a@x.io"]}),
        )
        .await;
    let path = format!("/v1/subscriptions/{}", created["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, &key).await.status, 204);
    let read = app.get(&path, &key).await.body;
    assert_eq!(read["status"], "unsubscribed");
    assert!(read["endedAt"].is_string());
    assert_eq!(read["emails"], json!([]));
    // Deleting again is harmless, and an ended subscription cannot be changed.
    assert_eq!(app.delete(&path, &key).await.status, 204);
    app.put(&path, &key, json!({"url": hook(2)}))
        .await
        .assert_error(409, "ErrSubscriptionNotActive");
    // The URL and the address may subscribe to the same AWB again.
    app.subscribed(
        &key,
        json!({"awb": awb("020", 3), "url": hook(1), "emails": ["a@x.io"]}),
    )
    .await;
}

async fn unsubscribe_removes_channels_and_ends_empty_subscriptions(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let target = awb("020", 11);
    let url_only = app
        .subscribed(&key, json!({"awb": target, "url": hook(1)}))
        .await;
    let mixed = app
        .subscribed(
            &key,
            json!({"awb": target, "url": hook(2), "emails": ["a@x.io", "b@x.io"]}),
        )
        .await;
    let reply = app
        .post(
            "/v1/unsubscribe",
            &key,
            json!({"awb": target, "url": hook(1), "emails": ["a@x.io", "nobody@x.io"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["emailsNotFound"], json!(["nobody@x.io"]));
    assert_eq!(reply.body["urlNotFound"], false);
    let subs = reply.body["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    let about = |id: &serde_json::Value| {
        subs.iter()
            .find(|s| s["subscriptionId"] == *id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        about(&url_only["id"]),
        json!({"subscriptionId": url_only["id"], "urlRemoved": true, "emailsRemoved": [],
               "status": "unsubscribed"})
    );
    assert_eq!(
        about(&mixed["id"]),
        json!({"subscriptionId": mixed["id"], "urlRemoved": false,
               "emailsRemoved": ["a@x.io"], "status": "active"})
    );
    let mixed_now = app
        .get(
            &format!("/v1/subscriptions/{}", mixed["id"].as_str().unwrap()),
            &key,
        )
        .await
        .body;
    assert_eq!(mixed_now["emails"], json!(["b@x.io"]));
    assert_eq!(mixed_now["url"], hook(2));

    // Nothing left to remove is a clear 404, and changes nothing.
    let message = app
        .post(
            "/v1/unsubscribe",
            &key,
            json!({"awb": target, "url": hook(1)}),
        )
        .await
        .assert_error(404, "ErrSubscriptionNotFound");
    assert!(
        message.starts_with("no active subscription of") && message.contains(target.as_str()),
        "the message names the target, not an id: {message}"
    );
}

async fn tenants_never_see_each_others_subscriptions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.create_key("alice").await, app.create_key("bob").await);
    let created = app
        .subscribed(
            &alice,
            json!({"awb": awb("020", 5), "url": hook(1), "emails": ["a@x.io"]}),
        )
        .await;
    let path = format!("/v1/subscriptions/{}", created["id"].as_str().unwrap());
    app.get(&path, &bob)
        .await
        .assert_error(404, "ErrSubscriptionNotFound");
    app.put(&path, &bob, json!({"url": hook(9)}))
        .await
        .assert_error(404, "ErrSubscriptionNotFound");
    app.delete(&path, &bob)
        .await
        .assert_error(404, "ErrSubscriptionNotFound");
    app.post(
        "/v1/unsubscribe",
        &bob,
        json!({"awb": awb("020", 5), "url": hook(1)}),
    )
    .await
    .assert_error(404, "ErrSubscriptionNotFound");
    assert!(app.all_subscriptions(&bob).await.is_empty());
    // The same URL and email are not duplicates across tenants.
    app.subscribed(
        &bob,
        json!({"awb": awb("020", 5), "url": hook(1), "emails": ["a@x.io"]}),
    )
    .await;
    let alice_view = app.get(&path, &alice).await.body;
    assert_eq!(alice_view["status"], "active");
    assert_eq!(alice_view["url"], hook(1));
    let ids: HashSet<_> = app
        .all_subscriptions(&alice)
        .await
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids.len(), 1);
}
