//! The Lufthansa push carrier (seed 002) against a local fake of its subscribe API: AWBs are
//! registered on their first subscription, Lufthansa's preflight and pushes reach the real
//! server's callback, and registrations are removed once no subscription needs them. The poller
//! is driven one round at a time with a manual clock; the server runs on the system clock.

use crate::db;
use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, TestApp, hook, on_both_backends, spawn_app_with, test_settings};
use crate::trackingmore::Metrics;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::{Secret, Settings};
use skyhook::domain::AwbNumber;
use skyhook::ingest::shipments::Poller;
use skyhook::ingest::shipments::lufthansa_callback;
use skyhook::store::RefClaim;
use std::sync::Arc;

on_both_backends!(
    the_first_subscription_registers_the_awb_and_pushes_become_events,
    pushes_that_name_no_registration_are_refused,
    the_registration_is_removed_when_the_last_subscription_ends,
    refused_credentials_at_registration_are_not_hammered,
);

const API_KEY: &str = "lh-test-key";
const AWB: &str = "020-08002050";
const SUBSCRIPTION_ID: &str = "9b2d5c0e-5d1c-4f7a-8d6e-3c2b1a0f9e8d";
const PUBLIC_URL: &str = "https://skyhook.example.com/";
const CALLBACK: &str = "https://skyhook.example.com/carriers/lufthansa/callback";

fn lufthansa_settings(settings: &mut Settings, base_url: &str) {
    settings.server.public_url = PUBLIC_URL.parse().unwrap();
    let lh = &mut settings.carriers.lufthansa;
    lh.enabled = true;
    lh.base_url = base_url.parse().unwrap();
    lh.api_key = Secret::new(API_KEY);
    lh.rate_limit = 1000.0;
}

/// The real server, a fake Lufthansa and a poller the test drives on a manual clock.
struct Rig {
    app: TestApp,
    fake: FakeCarrier,
    clock: Arc<ManualClock>,
    poller: Arc<Poller>,
    key: String,
    metrics: Metrics,
}

impl Rig {
    async fn new(backend: Backend) -> Self {
        let metrics = Metrics::capture();
        let fake = FakeCarrier::start().await;
        let app = spawn_app_with(backend, |s| lufthansa_settings(s, &fake.base_url)).await;
        let mut settings = test_settings(&app.db.url);
        lufthansa_settings(&mut settings, &fake.base_url);
        settings.carriers.lufthansa.callback_url =
            Some(lufthansa_callback(&settings.server.public_url));
        // Ahead of the server's clock, so that what it just created is due.
        let clock = Arc::new(ManualClock::new(Utc::now() + TimeDelta::minutes(5)));
        let poller = crate::helpers::poller(app.store.clone(), &settings, clock.clone());
        let key = app.create_key("acme").await;
        Self {
            app,
            fake,
            clock,
            poller,
            key,
            metrics,
        }
    }

    async fn poll(&self) -> usize {
        self.poller.clone().poll_once().await.unwrap()
    }

    async fn subscribe(&self, n: u32) -> String {
        let body = self
            .app
            .subscribed(&self.key, json!({"awb": AWB, "url": hook(n)}))
            .await;
        body["id"].as_str().unwrap().to_owned()
    }

    /// Subscribes, and lets the poller register the AWB with the fake.
    async fn registered(&self) -> String {
        let id = self.subscribe(1).await;
        self.fake.answer(Answer::json(json!({
            "subscriptionId": SUBSCRIPTION_ID, "AWB": AWB, "Callback": CALLBACK, "States": "*"
        })));
        assert_eq!(self.poll().await, 1);
        id
    }

    /// Sends a push to the server's callback as Lufthansa would.
    async fn push(&self, body: Value) -> (u16, Value) {
        let reply = self
            .app
            .request(
                reqwest::Method::POST,
                "/carriers/lufthansa/callback",
                None,
                Some(&body),
            )
            .await;
        (reply.status, reply.body)
    }

    async fn shipment(&self) -> Value {
        let reply = self.app.get("/v1/shipments/02008002050", &self.key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    async fn codes_and_dates(&self) -> Vec<(String, String)> {
        let shipment = self.shipment().await;
        shipment["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap().to_owned(),
                    e["eventDate"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    async fn queued(&self) -> i64 {
        db::count(&self.app.db.url, "SELECT COUNT(*) FROM deliveries").await
    }

    fn auth_failures(&self) -> f64 {
        self.metrics
            .value(r#"skyhook_carrier_auth_failures_total{carrier="lufthansa"}"#)
    }
}

fn status_push(state: &str, timestamp: &str) -> Value {
    json!({"subscriptionId": SUBSCRIPTION_ID, "AWB": AWB, "State": state,
           "toaTimestamp": null, "timestamp": timestamp})
}

fn toa_push(toa: &str, timestamp: &str) -> Value {
    json!({"subscriptionId": SUBSCRIPTION_ID, "AWB": AWB, "State": "TOA",
           "toaTimestamp": toa, "timestamp": timestamp})
}

async fn the_first_subscription_registers_the_awb_and_pushes_become_events(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered().await;
    let seen = rig.fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/lh/handling/shipment/subscribe");
    assert_eq!(seen[0].headers["apikey"], API_KEY);
    assert_eq!(
        seen[0].body,
        json!({"AWB": AWB, "Callback": CALLBACK, "States": "*"})
    );
    let shipment = rig.shipment().await;
    assert_eq!(shipment["carrier"], "lufthansa");
    assert!(
        shipment["nextCheckAt"].as_str().unwrap() > shipment["lastCheckedAt"].as_str().unwrap(),
        "pushes drive updates: no polling soon"
    );

    // A second subscription to the AWB shares the registration.
    rig.subscribe(2).await;
    // Due again `poller.min_interval` after its last check, not sooner (safety::limits).
    rig.clock.advance(TimeDelta::minutes(5));
    assert_eq!(rig.poll().await, 1, "the new subscription made it due");
    assert_eq!(rig.fake.seen().len(), 1, "registered once");

    // Lufthansa's preflight.
    let preflight = rig
        .app
        .request(
            reqwest::Method::OPTIONS,
            "/carriers/lufthansa/callback",
            None,
            None,
        )
        .await;
    assert_eq!(preflight.status, 200);
    let allow = preflight.headers["allow"].to_str().unwrap();
    assert!(allow.contains("POST"), "Allow: {allow}");

    let (status, receipt) = rig
        .push(status_push("DEP", "2026-11-25T14:20:00+01:00"))
        .await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt, json!({"awb": AWB, "changed": 1}));
    assert_eq!(
        rig.codes_and_dates().await,
        [("DEP".to_owned(), "2026-11-25T14:20:00+01:00".to_owned())]
    );
    assert_eq!(rig.queued().await, 2, "one message per subscription");
    assert_eq!(rig.shipment().await["status"], "IN_TRANSIT");

    // Lufthansa sending the same push again adds nothing and notifies no one.
    let (status, receipt) = rig
        .push(status_push("DEP", "2026-11-25T14:20:00+01:00"))
        .await;
    assert_eq!((status, &receipt["changed"]), (200, &json!(0)));
    assert_eq!(rig.codes_and_dates().await.len(), 1);
    assert_eq!(rig.queued().await, 2);

    // A TOA is dated by the new time of availability; a later TOA moves it.
    rig.push(toa_push("2026-11-26T09:00:00Z", "2026-11-25T20:00:00Z"))
        .await;
    rig.push(toa_push("2026-11-26T11:30:00Z", "2026-11-25T22:00:00Z"))
        .await;
    let (_, repeat) = rig
        .push(toa_push("2026-11-26T11:30:00Z", "2026-11-25T22:00:00Z"))
        .await;
    assert_eq!(repeat["changed"], 0);
    assert_eq!(
        rig.codes_and_dates().await,
        [
            ("DEP".to_owned(), "2026-11-25T14:20:00+01:00".to_owned()),
            ("TOA".to_owned(), "2026-11-26T11:30:00Z".to_owned()),
        ]
    );
    let toa = &rig.shipment().await["events"][1];
    assert_eq!(
        toa["additionalInformation"]["timeOfAvailability"],
        "2026-11-26T11:30:00Z"
    );
    assert_eq!(rig.queued().await, 6, "two TOA changes, two subscribers");
}

async fn pushes_that_name_no_registration_are_refused(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered().await;
    let unknown = json!({"subscriptionId": "00000000-0000-4000-8000-000000000000",
                         "AWB": AWB, "State": "DEP", "timestamp": "2026-11-25T14:20:00Z"});
    let (status, body) = rig.push(unknown).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("ErrUnknownCarrierSubscription"))
    );
    let (status, body) = rig.push(json!({"AWB": AWB, "State": "DEP"})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("ErrInvalidBody"))
    );
    let other_awb = json!({"subscriptionId": SUBSCRIPTION_ID, "AWB": "176-12345675",
                           "State": "DEP", "timestamp": "2026-11-25T14:20:00Z"});
    let (status, body) = rig.push(other_awb).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("ErrInvalidBody"))
    );
    assert!(rig.codes_and_dates().await.is_empty(), "nothing was stored");
    assert_eq!(rig.queued().await, 0);
    // The refused push left the shipment free for the next one.
    let (status, _) = rig.push(status_push("RCS", "2026-11-24T10:00:00Z")).await;
    assert_eq!(status, 200);
    assert_eq!(rig.codes_and_dates().await.len(), 1);

    // While someone else holds the shipment, a push waits, then asks to be sent again.
    let holder = uuid::Uuid::new_v4();
    let now = Utc::now();
    let held = rig
        .app
        .store
        .claim_by_carrier_ref(
            skyhook::store::Lease {
                owner: holder,
                now,
                until: now + TimeDelta::minutes(1),
            },
            "lufthansa",
            SUBSCRIPTION_ID,
        )
        .await
        .unwrap();
    assert!(matches!(held, RefClaim::Claimed(_)));
    let reply = rig
        .app
        .request(
            reqwest::Method::POST,
            "/carriers/lufthansa/callback",
            None,
            Some(&status_push("MAN", "2026-11-25T09:00:00Z")),
        )
        .await;
    reply.assert_error(503, "ErrBusy");
    assert_eq!(reply.headers["retry-after"], "5");
    let awb = AwbNumber::parse(AWB).unwrap();
    rig.app.store.release_shipment(holder, &awb).await.unwrap();
    let (status, _) = rig.push(status_push("MAN", "2026-11-25T09:00:00Z")).await;
    assert_eq!(status, 200);
    assert_eq!(rig.codes_and_dates().await.len(), 2);
}

async fn the_registration_is_removed_when_the_last_subscription_ends(backend: Backend) {
    let rig = Rig::new(backend).await;
    let first = rig.registered().await;
    let second = rig.subscribe(2).await;
    rig.poll().await;

    let ended = rig
        .app
        .delete(&format!("/v1/subscriptions/{first}"), &rig.key)
        .await;
    assert_eq!(ended.status, 204, "{}", ended.body);
    rig.poll().await;
    assert_eq!(
        rig.fake.seen().len(),
        1,
        "another subscription still needs it"
    );

    rig.fake.answer(Answer::status(204));
    rig.app
        .post(
            "/v1/unsubscribe",
            &rig.key,
            json!({"awb": AWB, "url": hook(2)}),
        )
        .await;
    let view = rig
        .app
        .get(&format!("/v1/subscriptions/{second}"), &rig.key)
        .await;
    assert_eq!(view.body["status"], "unsubscribed", "{}", view.body);
    assert_eq!(rig.poll().await, 1, "the stale registration was claimed");
    let seen = rig.fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].method, "DELETE");
    assert_eq!(
        seen[1].path_and_query,
        format!("/lh/handling/shipment/subscribe/{SUBSCRIPTION_ID}")
    );
    assert_eq!(seen[1].headers["apikey"], API_KEY);

    // Removed once; a late push for it is now refused.
    rig.clock.advance(TimeDelta::hours(3));
    assert_eq!(rig.poll().await, 0);
    assert_eq!(rig.fake.seen().len(), 2);
    let (status, _) = rig.push(status_push("DEP", "2026-11-25T14:20:00Z")).await;
    assert_eq!(status, 404);

    // A new subscription registers the AWB afresh.
    rig.subscribe(3).await;
    rig.fake
        .answer(Answer::json(json!({"subscriptionId": "second-id"})));
    assert_eq!(rig.poll().await, 1);
    let seen = rig.fake.seen();
    assert_eq!((seen.len(), seen[2].method.as_str()), (3, "POST"));
}

async fn refused_credentials_at_registration_are_not_hammered(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.subscribe(1).await;
    rig.fake.answer(Answer::status(401));
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.auth_failures(), 1.0);
    let awb = AwbNumber::parse(AWB).unwrap();
    let next = |view: skyhook::store::ShipmentView| view.next_poll_at - rig.clock.now();
    let tenant = rig
        .app
        .store
        .list_api_keys()
        .await
        .unwrap()
        .first()
        .unwrap()
        .id;
    let view = rig
        .app
        .store
        .get_shipment(tenant, &awb)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next(view), TimeDelta::hours(2), "the longest wait");
    rig.clock.advance(TimeDelta::minutes(30));
    assert_eq!(rig.poll().await, 0, "not asked again soon");
    assert_eq!(rig.fake.seen().len(), 1);

    // Rate limited: Retry-After is honoured.
    rig.clock.advance(TimeDelta::hours(2));
    rig.fake
        .answer(Answer::status(429).with_header("retry-after", "5400"));
    assert_eq!(rig.poll().await, 1);
    let view = rig
        .app
        .store
        .get_shipment(tenant, &awb)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next(view), TimeDelta::minutes(90));

    rig.clock.advance(TimeDelta::hours(2));
    rig.fake
        .answer(Answer::json(json!({"subscriptionId": SUBSCRIPTION_ID})));
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.seen().len(), 3);
    assert_eq!(rig.auth_failures(), 1.0);
    let (status, _) = rig.push(status_push("RCS", "2026-11-24T10:00:00Z")).await;
    assert_eq!(status, 200, "registered at last");
}
