//! Lufthansa Cargo as seed 002 describes it, against a local fake that speaks its subscribe API
//! and its Shipment Tracking API ([`fake`]): AWBs are registered with a callback URL carrying a
//! token and fetched at once; a push only schedules a fetch; registrations are checked, renewed
//! and removed. The server and the poller share a manual clock, and the test drives the poller
//! one round at a time (except in [`wakeups`], where the server's own poller runs).

use crate::db;
use crate::helpers::{Backend, TestApp, hook, spawn_app_on_clock, test_settings};
use crate::trackingmore::Metrics;
use answers::Step;
use chrono::{TimeDelta, Utc};
use fake::{Api, FakeLufthansa, PushReply};
use serde_json::{Value, json};
use skyhook::clock::ManualClock;
use skyhook::config::{HumanDuration, Secret, Settings};
use skyhook::ingest::shipments::Poller;
use std::sync::Arc;
use std::time::Duration;

mod answers;
mod failures;
mod fake;
mod pushes;
mod registration;
mod wakeups;

const API_KEY: &str = "lh-test-key";
const AWB: &str = "020-08002050";
const PUBLIC_URL: &str = "https://skyhook.example.com/";
const CALLBACK: &str = "https://skyhook.example.com/carriers/lufthansa/callback";

fn lufthansa_settings(settings: &mut Settings, base_url: &str) {
    settings.server.public_url = PUBLIC_URL.parse().unwrap();
    let lh = &mut settings.carriers.lufthansa;
    lh.enabled = true;
    lh.base_url = base_url.parse().unwrap();
    lh.api_key = Secret::new(API_KEY);
    lh.rate_limit = 1000.0;
    lh.fetch_delay = Some(HumanDuration(Duration::from_secs(10)));
}

/// The real server, a fake Lufthansa and a poller the test drives, on one manual clock.
struct Rig {
    app: TestApp,
    fake: FakeLufthansa,
    clock: Arc<ManualClock>,
    poller: Arc<Poller>,
    settings: Settings,
    key: String,
    metrics: Metrics,
}

impl Rig {
    async fn new(backend: Backend) -> Self {
        let metrics = Metrics::capture();
        let fake = FakeLufthansa::start().await;
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let app = spawn_app_on_clock(backend, clock.clone(), |s| {
            lufthansa_settings(s, &fake.base_url)
        })
        .await;
        fake.push_to_server(&app.address);
        let mut settings = test_settings(&app.db.url);
        lufthansa_settings(&mut settings, &fake.base_url);
        settings.carriers.lufthansa.callback_url = Some(CALLBACK.parse().unwrap());
        let poller = crate::helpers::poller(app.store.clone(), &settings, clock.clone());
        let key = app.create_key("acme").await;
        Self {
            app,
            fake,
            clock,
            poller,
            settings,
            key,
            metrics,
        }
    }

    async fn poll(&self) -> usize {
        self.poller.clone().poll_once().await.unwrap()
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(TimeDelta::seconds(seconds));
    }

    async fn subscribe(&self, n: u32) -> String {
        let body = self
            .app
            .subscribed(&self.key, json!({"awb": AWB, "url": hook(n)}))
            .await;
        body["id"].as_str().unwrap().to_owned()
    }

    /// Subscribes while Lufthansa reports `step`, and lets the poller register and fetch.
    async fn registered(&self, step: Step) -> String {
        self.fake.track(AWB, answers::status(step));
        let id = self.subscribe(1).await;
        assert_eq!(self.poll().await, 1);
        assert_eq!(self.fake.calls(Api::Subscribe), 1);
        id
    }

    async fn push(&self, state: &str) -> PushReply {
        self.fake.push(AWB, state).await
    }

    async fn shipment(&self) -> Value {
        let reply = self.app.get("/v1/shipments/02008002050", &self.key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// The shipment's events as (code, isPlanned).
    async fn events(&self) -> Vec<(String, bool)> {
        let shipment = self.shipment().await;
        shipment["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let code = e["code"].as_str().unwrap().to_owned();
                (code, e["isPlanned"].as_bool().unwrap())
            })
            .collect()
    }

    /// Every queued message body, oldest first.
    async fn messages(&self) -> Vec<Value> {
        let bodies = db::texts(
            &self.app.db.url,
            "SELECT body FROM deliveries ORDER BY created_at, sequence",
        )
        .await;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect()
    }

    async fn message_types(&self) -> Vec<String> {
        let messages = self.messages().await;
        messages
            .iter()
            .map(|m| m["type"].as_str().unwrap().to_owned())
            .collect()
    }

    fn metric(&self, series: &str) -> f64 {
        self.metrics.value(series)
    }
}

/// The events as (code, isPlanned), for comparing.
fn events(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(c, p)| ((*c).to_owned(), *p)).collect()
}
