//! The server's own poller, idle for an hour between rounds, is woken by what a push schedules:
//! at once with `fetch_delay = "0s"` (when the push is committed), and when a later fetch falls
//! due. Nothing but the wake-up can make these fetches happen within the test.

use super::answers::{self, Step};
use super::fake::{Api, FakeLufthansa};
use super::{AWB, lufthansa_settings};
use crate::helpers::{Backend, TestApp, hook, on_both_backends, spawn_app_with};
use serde_json::json;
use skyhook::config::HumanDuration;
use std::time::Duration;

on_both_backends!(
    with_no_fetch_delay_a_push_wakes_the_poller_at_once,
    a_fetch_due_later_wakes_the_poller_when_it_falls_due,
);

async fn serving(backend: Backend, fetch_delay: Duration) -> (TestApp, FakeLufthansa, String) {
    let fake = FakeLufthansa::start().await;
    let app = spawn_app_with(backend, |s| {
        lufthansa_settings(s, &fake.base_url);
        s.carriers.lufthansa.fetch_delay = Some(HumanDuration(fetch_delay));
        s.poller.enabled = true;
        s.poller.idle_wait = HumanDuration(Duration::from_secs(3600));
    })
    .await;
    fake.push_to_server(&app.address);
    fake.track(AWB, answers::status(Step::Received));
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": AWB, "url": hook(1)}))
        .await;
    // The new subscription woke the poller: registered and fetched.
    fake.wait_for(Api::Tracking, 1).await;
    fake.track(AWB, answers::status(Step::Departed));
    (app, fake, key)
}

async fn departed_webhook_queued(app: &TestApp, key: &str) {
    for _ in 0..500 {
        let shipment = app.get("/v1/shipments/02008002050", key).await.body;
        let departed = shipment["events"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["code"] == "DEP" && e["isPlanned"] == false)
        });
        if departed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fetch after the push was not recorded");
}

async fn with_no_fetch_delay_a_push_wakes_the_poller_at_once(backend: Backend) {
    let (app, fake, key) = serving(backend, Duration::ZERO).await;
    assert_eq!(fake.push(AWB, "DEP").await.status, 200);
    fake.wait_for(Api::Tracking, 2).await;
    departed_webhook_queued(&app, &key).await;
}

async fn a_fetch_due_later_wakes_the_poller_when_it_falls_due(backend: Backend) {
    let (app, fake, key) = serving(backend, Duration::from_millis(300)).await;
    assert_eq!(fake.push(AWB, "DEP").await.status, 200);
    fake.wait_for(Api::Tracking, 2).await;
    departed_webhook_queued(&app, &key).await;
}
