//! `Idempotency-Key` on POSTs under /v1: replays, reuse with another request, per-key scope,
//! expiry, a duplicate while the first still runs, a client that gave up, bad keys.

use super::slow_callback::SlowCallback;
use crate::helpers::{
    Backend, Reply, TestApp, on_both_backends, spawn_app_on_clock, spawn_app_with,
};
use chrono::TimeDelta;
use serde_json::{Value, json};
use skyhook::clock::ManualClock;
use skyhook::domain::PreflightMode;
use std::sync::Arc;

on_both_backends!(
    the_same_request_with_the_same_key_is_answered_once_and_replayed,
    a_key_used_for_another_request_is_refused,
    keys_belong_to_one_api_key,
    a_key_can_be_used_again_once_its_window_has_passed,
    a_duplicate_while_the_first_runs_is_refused_and_not_run,
    a_client_that_gave_up_gets_the_answer_on_its_retry,
    malformed_keys_are_refused_with_the_reason,
);

const CREATE: &str = "/v1/subscriptions";

fn create_body(n: u32) -> Value {
    json!({"awb": crate::helpers::awb("020", 1000 + n), "url": crate::helpers::hook(n)})
}

async fn post(app: &TestApp, key: &str, idempotency_key: &str, path: &str, body: &Value) -> Reply {
    app.post_with(path, key, &[("Idempotency-Key", idempotency_key)], body)
        .await
}

async fn the_same_request_with_the_same_key_is_answered_once_and_replayed(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let body = create_body(1);
    let first = post(&app, &key, "retry-1", CREATE, &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), "");
    // The draft's structured-field form is the same key.
    for sent_as in ["retry-1", "\"retry-1\""] {
        let again = post(&app, &key, sent_as, CREATE, &body).await;
        assert_eq!(
            again.status, 201,
            "not ErrAlreadySubscribed: {}",
            again.body
        );
        assert_eq!(
            again.body, first.body,
            "the first answer, signingSecret included"
        );
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("content-type"), "application/json");
        assert_eq!(again.header("idempotent-replayed"), "true");
    }
    assert_eq!(app.all_subscriptions(&key).await.len(), 1, "created once");

    // Without a key, the same body is a new request again.
    post_without_key_is_a_new_request(&app, &key, &body).await;
}

async fn post_without_key_is_a_new_request(app: &TestApp, key: &str, body: &Value) {
    app.subscribe(key, body.clone())
        .await
        .assert_error(400, "ErrAlreadySubscribed");
}

async fn a_key_used_for_another_request_is_refused(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let key = app.create_key("acme").await;
    assert_eq!(
        post(&app, &key, "k", CREATE, &create_body(1)).await.status,
        201
    );
    let message = post(&app, &key, "k", CREATE, &create_body(2))
        .await
        .assert_error(409, "ErrIdempotencyKeyReused");
    assert!(
        message.contains("`k`") && message.contains("new key"),
        "{message}"
    );
    // Another route with the same body is another request too.
    post(&app, &key, "k", "/v1/unsubscribe", &create_body(1))
        .await
        .assert_error(409, "ErrIdempotencyKeyReused");
    assert_eq!(
        app.all_subscriptions(&key).await.len(),
        1,
        "the second never ran"
    );
}

async fn keys_belong_to_one_api_key(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let (acme, other) = (app.create_key("acme").await, app.create_key("other").await);
    let first = post(&app, &acme, "shared", CREATE, &create_body(1)).await;
    let second = post(&app, &other, "shared", CREATE, &create_body(1)).await;
    assert_eq!((first.status, second.status), (201, 201), "{}", second.body);
    assert_eq!(
        second.header("idempotent-replayed"),
        "",
        "run for the other tenant"
    );
    assert_ne!(first.body["id"], second.body["id"]);
    // And a different body under the other key is not a reuse of acme's key.
    assert_eq!(
        post(&app, &other, "k2", CREATE, &create_body(2))
            .await
            .status,
        201
    );
    assert_eq!(
        post(&app, &acme, "k2", CREATE, &create_body(3))
            .await
            .status,
        201
    );
}

async fn a_key_can_be_used_again_once_its_window_has_passed(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().unwrap()));
    let app = spawn_app_on_clock(backend, clock.clone(), |_| {}).await;
    let key = app.create_key("acme").await;
    let body = create_body(1);
    assert_eq!(post(&app, &key, "k", CREATE, &body).await.status, 201);

    clock.advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    let replayed = post(&app, &key, "k", CREATE, &body).await;
    assert_eq!(
        replayed.header("idempotent-replayed"),
        "true",
        "still within 24 h"
    );
    post(&app, &key, "k", CREATE, &create_body(2))
        .await
        .assert_error(409, "ErrIdempotencyKeyReused");

    clock.advance(TimeDelta::seconds(1));
    // Expired: the request runs again (and meets the subscription it made the first time) ...
    post(&app, &key, "k", CREATE, &body)
        .await
        .assert_error(400, "ErrAlreadySubscribed");
    // ... and since a 400 is an outcome, that is what the key now replays.
    let again = post(&app, &key, "k", CREATE, &body).await;
    assert_eq!(
        (again.error_name(), again.header("idempotent-replayed")),
        ("ErrAlreadySubscribed", "true")
    );
}

/// A create with `idempotency_key` on a server whose preflight of it the test holds: returned
/// once the create waits on that preflight (so it holds the key).
struct HeldCreate {
    app: Arc<TestApp>,
    key: String,
    body: Value,
    callback: SlowCallback,
    first: tokio::task::JoinHandle<Reply>,
}

impl HeldCreate {
    async fn start(backend: Backend, idempotency_key: &'static str) -> Self {
        let callback = SlowCallback::start().await;
        let app = Arc::new(
            spawn_app_with(backend, |s| {
                s.webhooks.preflight = PreflightMode::Reachable;
                s.webhooks.allow_networks = crate::delivery::loopback();
            })
            .await,
        );
        let key = app.create_key("acme").await;
        let body = json!({"awb": "020-08002050", "url": callback.url});
        let first = {
            let (app, key, body) = (app.clone(), key.clone(), body.clone());
            tokio::spawn(async move { post(&app, &key, idempotency_key, CREATE, &body).await })
        };
        callback.arrived.notified().await;
        Self {
            app,
            key,
            body,
            callback,
            first,
        }
    }
}

async fn a_duplicate_while_the_first_runs_is_refused_and_not_run(backend: Backend) {
    let HeldCreate {
        app,
        key,
        body,
        callback,
        first,
    } = HeldCreate::start(backend, "once").await;
    // The first request holds the key (it is waiting on its preflight).
    let duplicate = post(&app, &key, "once", CREATE, &body).await;
    duplicate.assert_error(409, "ErrIdempotencyKeyInFlight");
    assert_eq!(duplicate.header("retry-after"), "1");

    callback.release();
    let first = first.await.unwrap();
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = post(&app, &key, "once", CREATE, &body).await;
    assert_eq!((retry.status, retry.body.clone()), (201, first.body));
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
}

async fn a_client_that_gave_up_gets_the_answer_on_its_retry(backend: Backend) {
    let HeldCreate {
        app,
        key,
        body,
        callback,
        first: gave_up,
    } = HeldCreate::start(backend, "tms-42").await;
    // The TMS times out: its connection goes away mid-request.
    gave_up.abort();
    assert!(gave_up.await.is_err_and(|e| e.is_cancelled()));
    callback.release();

    // It retries, perhaps while the first run is still finishing.
    let retry = loop {
        let reply = post(&app, &key, "tms-42", CREATE, &body).await;
        if reply.error_name() != "ErrIdempotencyKeyInFlight" {
            break reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(retry.status, 201, "the first run's answer: {}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), "true");
    assert!(retry.body["signingSecret"].is_string());
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
}

async fn malformed_keys_are_refused_with_the_reason(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let long = "k".repeat(256);
    for (bad, says) in [
        (long.as_str(), "at most 255"),
        ("two words", "visible ASCII"),
        ("\"\"", "empty"),
    ] {
        let message = post(&app, &key, bad, CREATE, &create_body(1))
            .await
            .assert_error(400, "ErrInvalidIdempotencyKey");
        assert!(message.contains(says), "{bad}: {message}");
    }
    assert!(app.all_subscriptions(&key).await.is_empty(), "nothing ran");
    // Without a valid API key the answer is 401 whatever the header says.
    app.post_with(
        CREATE,
        "sk_nope",
        &[("Idempotency-Key", "two words")],
        &create_body(1),
    )
    .await
    .assert_error(401, "ErrUnauthorized");
    // GET ignores the header.
    let listed = app
        .client
        .get(format!("{}{CREATE}", app.address))
        .bearer_auth(&key)
        .header("Idempotency-Key", "two words")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}
