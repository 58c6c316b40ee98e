//! The tracking engine end to end: the demo sandbox through the real server, and the CargoAI
//! adapter against a local fake of its API, driven one poll at a time with a manual clock.

use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, TestDb, on_both_backends, spawn_app_with, test_settings};
use chrono::TimeDelta;
use serde_json::{Value, json};
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::HumanDuration;
use skyhook::domain::{
    ApiKey, AwbNumber, KeyName, RequestedChannels, SigningSecret, StateFilter, Target,
};
use skyhook::ingest::shipments::Poller;
use skyhook::store::{NewSubscription, ShipmentView, Store};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(
    the_demo_sandbox_delivers_a_scripted_shipment_end_to_end,
    cargoai_answers_are_fetched_normalised_and_diffed,
    carrier_errors_back_off_and_bad_credentials_are_not_hammered,
);

async fn the_demo_sandbox_delivers_a_scripted_shipment_end_to_end(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.poller.enabled = true;
        s.poller.idle_wait = HumanDuration(Duration::from_millis(50));
        s.carriers.demo.step = Some(HumanDuration(Duration::from_millis(200)));
    })
    .await;
    let key = app.create_key("acme").await;
    let other = app.create_key("other").await;
    app.subscribed(
        &key,
        json!({"awb": "000-00000000", "url": "https://tms.example.com/h"}),
    )
    .await;
    let path = "/v1/shipments/00000000000";
    let started = std::time::Instant::now();
    let shipment = loop {
        let reply = app.get(path, &key).await;
        if reply.status == 200 && reply.body["status"] == "DELIVERED" {
            break reply.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not delivered: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let codes: Vec<&str> = shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["BKD", "RCS", "MAN", "DEP", "ARR", "RCF", "NFD", "DLV"]
    );
    assert_eq!(shipment["carrier"], "demo");
    assert_eq!(shipment["sandbox"], true);
    assert_eq!(
        (
            shipment["origin"].as_str(),
            shipment["destination"].as_str()
        ),
        (Some("FRA"), Some("JFK"))
    );
    assert!(shipment["lastCheckedAt"].is_string());
    let dep = &shipment["events"][3];
    assert_eq!(dep["isPlanned"], false);
    assert!(
        dep["eventDate"].as_str().unwrap().ends_with("+01:00"),
        "FRA local offset kept"
    );
    assert_eq!(dep["flight"]["number"], "ZZ100");
    app.get(path, &other)
        .await
        .assert_error(404, "ErrShipmentNotFound");
}

/// A poller over a fresh database, a fake CargoAI and a clock the test moves.
struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    poller: Arc<Poller>,
    fake: FakeCarrier,
    tenant: skyhook::domain::TenantId,
    subscription: skyhook::domain::SubscriptionId,
    awb: AwbNumber,
    _db: TestDb,
}

impl Rig {
    async fn new(backend: &Backend) -> Self {
        skyhook::telemetry::install_crypto_provider();
        let (store, db) = crate::helpers::fresh_store(backend).await;
        let fake = FakeCarrier::start().await;
        let mut settings = test_settings(&db.url);
        settings.carriers.cargoai.base_url = fake.base_url.parse().unwrap();
        let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().unwrap()));
        let poller = crate::helpers::poller(store.clone(), &settings, clock.clone());
        let key = ApiKey::generate();
        let tenant = store
            .create_api_key(&KeyName::parse("acme").unwrap(), &key.hash(), clock.now())
            .await
            .unwrap()
            .id;
        let awb = AwbNumber::parse("020-08002050").unwrap();
        let subscription = store
            .create_subscription(NewSubscription {
                id: skyhook::domain::SubscriptionId::new_random(),
                tenant,
                target: Target::Awb(awb.clone()),
                flight_id: None,
                channels: RequestedChannels::parse(Some("https://tms.example.com/h"), &[]).unwrap(),
                states: StateFilter::All,
                reference: None,
                headers: Default::default(),
                signing_secret: SigningSecret::generate(),
                created_at: clock.now(),
                expires_at: clock.now() + TimeDelta::days(21),
            })
            .await
            .unwrap()
            .subscription
            .id;
        Self {
            store,
            clock,
            poller,
            fake,
            tenant,
            subscription,
            awb,
            _db: db,
        }
    }

    /// Moves time past any schedule and runs one poll round, which must poll the shipment.
    async fn poll(&self, answer: Answer) -> ShipmentView {
        self.fake.answer(answer);
        self.clock.advance(TimeDelta::hours(25));
        assert_eq!(
            self.poller.clone().poll_once().await.unwrap(),
            1,
            "the shipment was due"
        );
        self.view().await
    }

    /// When the subscription's last message was queued (`lastMessageAt`).
    async fn last_message_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.store
            .get_subscription(self.tenant, self.subscription)
            .await
            .unwrap()
            .unwrap()
            .last_message_at
    }

    async fn view(&self) -> ShipmentView {
        self.store
            .get_shipment(self.tenant, &self.awb)
            .await
            .unwrap()
            .unwrap()
    }
}

fn event(code: &str, location: &str, date: &str, planned: bool) -> Value {
    json!({
        "code": code, "eventDate": date, "eventLocation": location, "isPlanned": planned,
        "pieces": "3", "weight": "120.0",
        "flight": {"number": "LH8160", "origin": "FRA", "destination": "ORD",
                   "scheduledDeparture": "2026-11-25T14:05:00+01:00",
                   "scheduledArrival": "2026-11-25T16:40:00-06:00"}
    })
}

fn tracking(events: Vec<Value>) -> Answer {
    Answer::json(json!({
        "awb": "020-08002050", "origin": "FRA", "destination": "ORD",
        "pieces": "3", "weight": "1981K", "status": "IN_TRANSIT", "events": events
    }))
}

async fn cargoai_answers_are_fetched_normalised_and_diffed(backend: Backend) {
    let rig = Rig::new(&backend).await;

    let not_yet = rig.poll(Answer::status(404)).await;
    assert!(not_yet.events.is_empty());
    assert_eq!(
        not_yet.next_poll_at - rig.clock.now(),
        TimeDelta::hours(2),
        "slow schedule"
    );
    let seen = rig.fake.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].body, Value::Null);
    assert_eq!(seen[0].path_and_query, "/track?awb=020-08002050");
    assert_eq!(seen[0].headers["x-api-key"], "test-key");
    assert_eq!(rig.last_message_at().await, None, "nothing to tell yet");

    let booked = vec![
        event("BKD", "FRA", "2026-11-23T08:00:00Z", false),
        event("DEP", "FRA", "2026-11-25T14:05:00+01:00", true),
    ];
    let first = rig.poll(tracking(booked.clone())).await;
    assert_eq!(first.events.len(), 2);
    assert_eq!(first.summary.weight, Some(1981.0), "\"1981K\" normalised");
    assert_eq!(first.summary.pieces, Some(3));
    assert_eq!(first.carrier.as_deref(), Some("cargoai"));
    let told_at = rig.clock.now();
    assert_eq!(
        rig.last_message_at().await,
        Some(told_at),
        "the update was queued"
    );
    assert_eq!(
        first.next_poll_at - rig.clock.now(),
        TimeDelta::minutes(5),
        "dense after a change"
    );

    let again = rig.poll(tracking(booked.clone())).await;
    assert_eq!(
        again.events, first.events,
        "the same data twice is nothing new"
    );
    assert!(again.next_poll_at - rig.clock.now() > TimeDelta::minutes(5));
    assert_eq!(
        rig.last_message_at().await,
        Some(told_at),
        "nothing new, nothing queued"
    );

    let departed = vec![
        booked[0].clone(),
        event("DEP", "FRA", "2026-11-25T14:20:00+01:00", false),
        event("ARR", "ORD", "2026-11-25T16:50:00-06:00", false),
    ];
    let moved = rig.poll(tracking(departed)).await;
    assert_eq!(
        moved.events.len(),
        3,
        "the planned DEP was updated, not duplicated"
    );
    let dep = moved.events.iter().find(|e| e.event.code == "DEP").unwrap();
    assert!(!dep.event.is_planned);
    assert_eq!(
        dep.event.event_date.unwrap().to_rfc3339(),
        "2026-11-25T14:20:00+01:00"
    );
    assert_eq!(moved.summary.status.as_str(), "AT_DESTINATION");

    // The carrier stops reporting the booking: it stays in history, marked withdrawn; the
    // status does not move backwards on a thinner answer.
    let thinner = rig
        .poll(tracking(vec![event(
            "DEP",
            "FRA",
            "2026-11-25T14:20:00+01:00",
            false,
        )]))
        .await;
    let bkd = thinner
        .events
        .iter()
        .find(|e| e.event.code == "BKD")
        .unwrap();
    assert!(bkd.withdrawn);
    assert_eq!(thinner.events.len(), 3);
    assert_eq!(thinner.summary.status.as_str(), "AT_DESTINATION");
}

async fn carrier_errors_back_off_and_bad_credentials_are_not_hammered(backend: Backend) {
    let rig = Rig::new(&backend).await;
    let unavailable = rig.poll(Answer::status(503)).await;
    assert_eq!(
        unavailable.next_poll_at - rig.clock.now(),
        TimeDelta::minutes(5)
    );
    let again = rig.poll(Answer::status(503)).await;
    assert_eq!(
        again.next_poll_at - rig.clock.now(),
        TimeDelta::minutes(10),
        "backing off"
    );
    let slow_down = rig
        .poll(Answer::status(429).with_header("retry-after", "5400"))
        .await;
    assert_eq!(
        slow_down.next_poll_at - rig.clock.now(),
        TimeDelta::minutes(90),
        "Retry-After"
    );
    let refused = rig.poll(Answer::status(401)).await;
    assert_eq!(refused.next_poll_at - rig.clock.now(), TimeDelta::hours(2));
    // A good answer resets the back-off.
    let fine = rig
        .poll(tracking(vec![event(
            "BKD",
            "FRA",
            "2026-11-23T08:00:00Z",
            false,
        )]))
        .await;
    assert_eq!(fine.next_poll_at - rig.clock.now(), TimeDelta::minutes(5));
    assert_eq!(fine.last_checked_at, Some(rig.clock.now()));
}
