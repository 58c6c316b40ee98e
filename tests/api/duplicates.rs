//! The duplicate rules: one URL per tenant and target, emails skipped when already there.

use crate::helpers::{Backend, awb, hook, on_both_backends, spawn_app};
use serde_json::json;

on_both_backends!(
    a_url_already_subscribed_to_the_target_is_refused,
    emails_already_subscribed_are_skipped_and_listed,
    when_every_email_is_taken_and_no_url_is_new_nothing_is_created,
    concurrent_identical_requests_create_one_subscription,
);

async fn a_url_already_subscribed_to_the_target_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "url": hook(1)}))
        .await;
    let message = app
        .subscribe(
            &key,
            json!({"awb": "02000000011", "url": hook(1), "emails": ["new@x.io"]}),
        )
        .await
        .assert_error(400, "ErrAlreadySubscribed");
    assert!(message.contains(&hook(1)), "{message}");
    // Another target, or another URL, is fine.
    app.subscribed(&key, json!({"awb": awb("020", 2), "url": hook(1)}))
        .await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "url": hook(2)}))
        .await;
    assert_eq!(app.all_subscriptions(&key).await.len(), 3);
}

async fn emails_already_subscribed_are_skipped_and_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "emails": ["a@x.io"]}))
        .await;
    let second = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 1), "emails": ["A@X.io", "b@x.io"]}),
        )
        .await;
    assert_eq!(second["emails"], json!(["b@x.io"]));
    assert_eq!(second["skippedEmails"], json!(["a@x.io"]));
}

async fn when_every_email_is_taken_and_no_url_is_new_nothing_is_created(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    app.subscribed(
        &key,
        json!({"awb": awb("020", 1), "emails": ["a@x.io", "b@x.io"]}),
    )
    .await;
    let reply = app
        .subscribe(
            &key,
            json!({"awb": awb("020", 1), "emails": ["b@x.io", "a@x.io"]}),
        )
        .await;
    reply.assert_error(400, "AllEmailsSubscribed");
    assert_eq!(reply.body["emails"], json!(["b@x.io", "a@x.io"]));
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
    // With a new URL the subscription is created and the emails are reported as skipped.
    let with_url = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 1), "url": hook(1), "emails": ["a@x.io"]}),
        )
        .await;
    assert_eq!(with_url["emails"], json!([]));
    assert_eq!(with_url["skippedEmails"], json!(["a@x.io"]));
}

async fn concurrent_identical_requests_create_one_subscription(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let body = json!({"awb": awb("020", 42), "url": hook(1), "emails": ["a@x.io"]});
    let replies =
        futures::future::join_all((0..8).map(|_| app.subscribe(&key, body.clone()))).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one request wins the race");
    for reply in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(
            ["ErrAlreadySubscribed", "AllEmailsSubscribed"].contains(&reply.error_name()),
            "{}",
            reply.body
        );
    }
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
}
