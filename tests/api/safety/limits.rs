//! Limits per API key: the request rate (429 with the draft's headers), test messages per
//! subscription per hour (across instances), and carrier fetches that a subscribe / delete /
//! subscribe loop cannot multiply.

use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{
    Backend, TestApp, on_both_backends, spawn_app_on_clock, spawn_app_with, test_settings,
};
use chrono::TimeDelta;
use serde_json::json;
use skyhook::app::Application;
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::{RateLimitSettings, Settings};
use std::sync::Arc;

on_both_backends!(
    a_key_past_its_rate_is_refused_with_retry_after_and_ratelimit_headers,
    test_messages_are_limited_per_subscription_per_hour_across_instances,
    resubscribing_in_a_loop_fetches_from_the_carrier_once_per_min_interval,
);

async fn a_key_past_its_rate_is_refused_with_retry_after_and_ratelimit_headers(backend: Backend) {
    // One request per 1000 s: nothing refills while the test runs.
    let app = spawn_app_with(backend, |s| {
        s.server.rate_limit = RateLimitSettings {
            per_second: 0.001,
            burst: 2,
        };
    })
    .await;
    let (key, other) = (app.create_key("acme").await, app.create_key("other").await);
    let first = app.get("/v1/subscriptions", &key).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("ratelimit-policy"), "\"per-key\";q=2;w=2000");
    assert_eq!(first.header("ratelimit"), "\"per-key\";r=1;t=1000");
    // POSTs count alike.
    let second = app
        .subscribe(
            &key,
            json!({"awb": "020-08002050", "url": crate::helpers::hook(1)}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.header("ratelimit"), "\"per-key\";r=0;t=2000");

    let refused = app.get("/v1/subscriptions", &key).await;
    let message = refused.assert_error(429, "ErrRateLimited");
    assert!(message.contains("at most 2 at once"), "{message}");
    assert_eq!(refused.header("retry-after"), "1000");
    assert_eq!(refused.header("ratelimit"), "\"per-key\";r=0;t=1000");
    assert_eq!(refused.header("ratelimit-policy"), "\"per-key\";q=2;w=2000");

    // Another key has its own bucket; requests without a valid key are not counted (401).
    assert_eq!(app.get("/v1/subscriptions", &other).await.status, 200);
    for _ in 0..3 {
        let unknown = app.get("/v1/subscriptions", "sk_unknown").await;
        unknown.assert_error(401, "ErrUnauthorized");
        assert_eq!(unknown.header("ratelimit"), "");
    }
    // Routes outside /v1 are not limited.
    assert_eq!(app.get("/healthz", &key).await.status, 200);
}

/// Another server on `app`'s database, on the same clock; stopped when the guard drops.
async fn second_instance(
    app: &TestApp,
    clock: Arc<ManualClock>,
    adjust: impl FnOnce(&mut Settings),
) -> (String, tokio_util::sync::DropGuard) {
    let mut settings = test_settings(&app.db.url);
    adjust(&mut settings);
    let store = skyhook::app::open_store(&settings).await.unwrap();
    let server = Application::build_with(settings, store, clock)
        .await
        .unwrap();
    let address = format!("http://{}", server.local_addr());
    let guard = server.shutdown_token().drop_guard();
    tokio::spawn(server.run_until_stopped());
    (address, guard)
}

async fn test_messages_are_limited_per_subscription_per_hour_across_instances(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().unwrap()));
    let limit = |s: &mut Settings| s.subscriptions.test_limit = 2;
    let app = spawn_app_on_clock(backend, clock.clone(), limit).await;
    let key = app.create_key("acme").await;
    let body = json!({"awb": "020-08002050", "url": crate::helpers::hook(1),
                      "emails": ["ops@forwarder.example"]});
    let sub = app.subscribed(&key, body).await;
    let other = app
        .subscribed(
            &key,
            json!({"awb": "020-08002061", "url": crate::helpers::hook(2)}),
        )
        .await;
    let test_of =
        |s: &serde_json::Value| format!("/v1/subscriptions/{}/test", s["id"].as_str().unwrap());

    assert_eq!(app.post(&test_of(&sub), &key, json!({})).await.status, 202);
    clock.advance(TimeDelta::minutes(10));
    assert_eq!(app.post(&test_of(&sub), &key, json!({})).await.status, 202);
    let refused = app.post(&test_of(&sub), &key, json!({})).await;
    let message = refused.assert_error(429, "ErrTestLimitReached");
    assert!(message.contains("2 test messages"), "{message}");
    assert_eq!(
        refused.header("retry-after"),
        "3000",
        "the first one leaves the hour in 50 min"
    );
    // Another subscription has its own count.
    assert_eq!(
        app.post(&test_of(&other), &key, json!({})).await.status,
        202
    );

    // Counted in the database: another instance (or a restart) sees the same count.
    let (second, _stop) = second_instance(&app, clock.clone(), limit).await;
    let elsewhere = app
        .client
        .post(format!("{second}{}", test_of(&sub)))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 429);

    // The window slides: an hour after the first, one more fits, not two.
    clock.advance(TimeDelta::minutes(50));
    assert_eq!(app.post(&test_of(&sub), &key, json!({})).await.status, 202);
    app.post(&test_of(&sub), &key, json!({}))
        .await
        .assert_error(429, "ErrTestLimitReached");
    let log = app
        .get(
            &format!(
                "/v1/subscriptions/{}/deliveries",
                sub["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    let tests = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["type"] == "subscription.test")
        .count();
    assert_eq!(
        tests,
        3 * 2,
        "three test messages, each to the URL and the email"
    );
}

async fn resubscribing_in_a_loop_fetches_from_the_carrier_once_per_min_interval(backend: Backend) {
    let fake = FakeCarrier::start().await;
    fake.answer(Answer::status(404));
    let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().unwrap()));
    let base_url = fake.base_url.clone();
    let mut poller_settings = None;
    let app = spawn_app_on_clock(backend, clock.clone(), |s| {
        s.carriers.cargoai.base_url = base_url.parse().unwrap();
        poller_settings = Some(s.clone());
    })
    .await;
    let settings = poller_settings.unwrap();
    let min_interval = TimeDelta::from_std(settings.poller.min_interval.0).unwrap();
    let poller = crate::helpers::poller(app.store.clone(), &settings, clock.clone());
    let key = app.create_key("acme").await;
    let body = json!({"awb": "020-08002050", "url": crate::helpers::hook(1)});

    let first = app.subscribed(&key, body.clone()).await;
    assert_eq!(
        poller.clone().poll_once().await.unwrap(),
        1,
        "a new AWB is fetched at once"
    );
    let checked_at = clock.now();
    let mut previous = first;
    for _ in 0..5 {
        clock.advance(TimeDelta::seconds(10));
        let path = format!("/v1/subscriptions/{}", previous["id"].as_str().unwrap());
        assert_eq!(app.delete(&path, &key).await.status, 204);
        previous = app.subscribed(&key, body.clone()).await;
        assert_eq!(
            poller.clone().poll_once().await.unwrap(),
            0,
            "fetched {:?} ago",
            clock.now() - checked_at
        );
    }
    assert_eq!(
        fake.seen().len(),
        1,
        "one carrier request for six subscriptions"
    );

    // min_interval after the fetch (not the 2 h a not-found AWB waits), it is due again.
    clock.advance(checked_at + min_interval - clock.now());
    assert_eq!(poller.clone().poll_once().await.unwrap(), 1);
    assert_eq!(fake.seen().len(), 2);
}
