//! `POST /v1/subscriptions/batch`: each item answered as the single create would answer it, in
//! input order, the duplicate rules holding within the batch as across requests.

use crate::helpers::{Backend, TestApp, awb, hook, on_both_backends, spawn_app};
use serde_json::{Value, json};

on_both_backends!(
    good_and_bad_items_are_answered_each_in_input_order,
    the_duplicate_rules_hold_within_a_batch_and_across_requests,
    a_batch_of_more_than_1000_items_is_refused_whole,
    a_refused_callback_url_fails_only_the_items_that_name_it,
    a_full_batch_of_1000_creates_every_subscription,
);

async fn batch(app: &TestApp, key: &str, items: Vec<Value>) -> Vec<Value> {
    let reply = app
        .post("/v1/subscriptions/batch", key, json!({ "items": items }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let results = reply.body["results"].as_array().cloned().unwrap();
    let indexes: Vec<u64> = results
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..items.len() as u64).collect::<Vec<_>>());
    results
}

fn statuses(results: &[Value]) -> Vec<(u64, &str)> {
    results
        .iter()
        .map(|r| {
            let status = r["status"].as_u64().unwrap();
            (status, r["error"]["error"].as_str().unwrap_or("-"))
        })
        .collect()
}

async fn good_and_bad_items_are_answered_each_in_input_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let results = batch(
        &app,
        &key,
        vec![
            json!({"awb": awb("020", 1), "url": hook(1), "reference": "PO-1"}),
            json!({"awb": "020-00000012", "url": hook(1)}),
            json!({"awb": awb("020", 2), "url": hook(1), "colour": "blue"}),
            json!({"awb": awb("020", 3), "feed": true}),
            json!({"awb": awb("020", 4)}),
            json!("not an object"),
            json!({"awb": awb("020", 5), "emails": ["ops@x.io", "not-an-email"]}),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results),
        vec![
            (201, "-"),
            (400, "ErrInvalidAWBCheckDigit"),
            (400, "ErrInvalidBody"),
            (201, "-"),
            (400, "ErrMissingKeyParams"),
            (400, "ErrInvalidBody"),
            (400, "ErrInvalidEmail"),
        ]
    );
    let first = &results[0]["subscription"];
    assert_eq!(first["awb"], awb("020", 1));
    assert_eq!(first["reference"], "PO-1");
    assert!(
        first["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(results[3]["subscription"]["feed"], true);
    assert!(results[3]["subscription"]["url"].is_null());
    // What was created is what a read shows, and nothing else was.
    let stored = app.all_subscriptions(&key).await;
    let mut awbs: Vec<&str> = stored.iter().map(|s| s["awb"].as_str().unwrap()).collect();
    awbs.sort();
    assert_eq!(awbs, vec![awb("020", 1), awb("020", 3)]);
    let id = first["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(read.body["url"], hook(1));
}

async fn the_duplicate_rules_hold_within_a_batch_and_across_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": awb("020", 9), "url": hook(9)}))
        .await;
    let results = batch(
        &app,
        &key,
        vec![
            json!({"awb": awb("020", 1), "url": hook(1)}),
            json!({"awb": awb("020", 1), "url": hook(1), "emails": ["new@x.io"]}),
            json!({"awb": awb("020", 2), "emails": ["a@x.io", "b@x.io"]}),
            json!({"awb": awb("020", 2), "emails": ["B@x.io", "c@x.io"]}),
            json!({"awb": awb("020", 2), "emails": ["a@x.io", "c@x.io"]}),
            json!({"awb": awb("020", 9), "url": hook(9)}),
            json!({"awb": awb("020", 3), "feed": true}),
            json!({"awb": awb("020", 3), "feed": true, "emails": ["d@x.io"]}),
            // Another URL, or another target, is fine.
            json!({"awb": awb("020", 1), "url": hook(2)}),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results),
        vec![
            (201, "-"),
            (400, "ErrAlreadySubscribed"),
            (201, "-"),
            (201, "-"),
            (400, "AllEmailsSubscribed"),
            (400, "ErrAlreadySubscribed"),
            (201, "-"),
            (400, "ErrAlreadySubscribed"),
            (201, "-"),
        ]
    );
    let third = &results[3]["subscription"];
    assert_eq!(third["emails"], json!(["c@x.io"]));
    assert_eq!(third["skippedEmails"], json!(["b@x.io"]));
    assert_eq!(results[4]["error"]["emails"], json!(["a@x.io", "c@x.io"]));
    // Across requests: what the batch took, a single create cannot take again.
    app.subscribe(&key, json!({"awb": awb("020", 1), "url": hook(1)}))
        .await
        .assert_error(400, "ErrAlreadySubscribed");
    app.subscribe(&key, json!({"awb": awb("020", 3), "feed": true}))
        .await
        .assert_error(400, "ErrAlreadySubscribed");
    assert_eq!(app.all_subscriptions(&key).await.len(), 6);
    // Another tenant's subscriptions take nothing from this one.
    let other = app.create_key("other").await;
    let results = batch(
        &app,
        &other,
        vec![json!({"awb": awb("020", 1), "url": hook(1)})],
    )
    .await;
    assert_eq!(statuses(&results), vec![(201, "-")]);
}

async fn a_batch_of_more_than_1000_items_is_refused_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let items: Vec<Value> = (0..1001)
        .map(|i| json!({"awb": awb("020", i), "url": hook(1)}))
        .collect();
    let message = app
        .post("/v1/subscriptions/batch", &key, json!({ "items": items }))
        .await
        .assert_error(400, "ErrTooManyItems");
    assert!(
        message.contains("1000") && message.contains("1001"),
        "{message}"
    );
    assert!(app.all_subscriptions(&key).await.is_empty());
    app.post("/v1/subscriptions/batch", &key, json!({"item": []}))
        .await
        .assert_error(400, "ErrInvalidBody");
}

async fn a_refused_callback_url_fails_only_the_items_that_name_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let results = batch(
        &app,
        &key,
        vec![
            json!({"awb": awb("020", 1), "url": "http://127.0.0.1:9/hook"}),
            json!({"awb": awb("020", 2), "url": hook(1)}),
            json!({"awb": awb("020", 3), "url": "http://127.0.0.1:9/hook"}),
            json!({"awb": awb("020", 4), "url": "http://169.254.169.254/latest"}),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results),
        vec![
            (400, "ErrInvalidUrl"),
            (201, "-"),
            (400, "ErrInvalidUrl"),
            (400, "ErrInvalidUrl"),
        ]
    );
    let message = results[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("loopback"), "{message}");
}

async fn a_full_batch_of_1000_creates_every_subscription(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let items: Vec<Value> = (0..1000)
        .map(|i| json!({"awb": awb("176", i), "url": hook(1), "emails": [format!("o{}@x.io", i % 3)]}))
        .collect();
    let results = batch(&app, &key, items).await;
    assert!(
        results.iter().all(|r| r["status"] == 201),
        "{:?}",
        &results[..3]
    );
    let page = app
        .get(&format!("/v1/subscriptions?awb={}", awb("176", 999)), &key)
        .await;
    assert_eq!(page.body["items"][0]["emails"], json!(["o0@x.io"]));
}
