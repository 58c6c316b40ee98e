//! The TrackingMore adapter against a local fake of `/trackings/aircargo` (seed 004), driven one
//! poll at a time with a manual clock, and seed 004's example end to end through the real server.
//! What its failures mean per AWB is in [`failures`].

use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, TestDb, awb, hook, on_both_backends, spawn_app_with, test_settings};
use chrono::{TimeDelta, Utc};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value, json};
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::{Secret, Settings};
use skyhook::domain::{
    ApiKey, AwbNumber, KeyName, RequestedChannels, SigningSecret, StateFilter, Target,
};
use skyhook::ingest::shipments::Poller;
use skyhook::store::{NewSubscription, ShipmentView, Store};
use std::sync::Arc;

mod failures;

on_both_backends!(
    a_batch_of_awbs_is_one_request_and_each_awb_gets_its_own_answer,
    the_seed_004_example_reaches_the_shipment_api,
    a_batch_larger_than_batch_size_is_split,
);

const API_KEY: &str = "tm-test-key";

/// Test settings with TrackingMore serving a few prefixes from `base_url`.
fn trackingmore_settings(database_url: &str, base_url: &str, batch_size: u32) -> Settings {
    let mut settings = test_settings(database_url);
    let tm = &mut settings.carriers.trackingmore;
    tm.enabled = true;
    tm.base_url = base_url.parse().unwrap();
    tm.api_key = Secret::new(API_KEY);
    tm.prefixes = ["020", "172", "176"].map(String::from).to_vec();
    tm.batch_size = Some(batch_size);
    // The throttle would only slow the split test down; its limits are tested elsewhere.
    tm.rate_limit = 1000.0;
    tm.concurrency = 8;
    settings
}

/// Metrics recorded on this test's thread only. `#[tokio::test]` runs the test and every task it
/// spawns on one thread, so the counts are this test's alone even when `cargo test` runs many
/// tests in one process against the one global recorder.
pub(crate) struct Metrics {
    handle: PrometheusHandle,
    _guard: metrics::LocalRecorderGuard<'static>,
}

impl Metrics {
    pub(crate) fn capture() -> Self {
        // Leaked so the guard can live in a struct; one small recorder per test.
        let recorder = Box::leak(Box::new(PrometheusBuilder::new().build_recorder()));
        Self {
            handle: recorder.handle(),
            _guard: metrics::set_default_local_recorder(recorder),
        }
    }

    /// The value of one series, written as Prometheus renders it; 0 when never recorded.
    pub(crate) fn value(&self, series: &str) -> f64 {
        self.handle
            .render()
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    fn quota(&self) -> f64 {
        self.value("skyhook_trackingmore_quota_spent_total")
    }

    fn polls(&self, outcome: &str) -> f64 {
        self.value(&format!(
            r#"skyhook_polls_total{{carrier="trackingmore",outcome="{outcome}"}}"#
        ))
    }

    fn auth_failures(&self) -> f64 {
        self.value(r#"skyhook_carrier_auth_failures_total{carrier="trackingmore"}"#)
    }
}

/// A poller over a fresh database with subscribed AWBs, a fake TrackingMore and a manual clock.
struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    poller: Arc<Poller>,
    fake: FakeCarrier,
    tenant: skyhook::domain::TenantId,
    metrics: Metrics,
    _db: TestDb,
}

impl Rig {
    async fn new(backend: &Backend, awbs: &[String], batch_size: u32) -> Self {
        skyhook::telemetry::install_crypto_provider();
        let metrics = Metrics::capture();
        let (store, db) = crate::helpers::fresh_store(backend).await;
        let fake = FakeCarrier::start().await;
        let settings = trackingmore_settings(&db.url, &fake.base_url, batch_size);
        let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().unwrap()));
        let poller = crate::helpers::poller(store.clone(), &settings, clock.clone());
        let key = ApiKey::generate();
        let tenant = store
            .create_api_key(&KeyName::parse("acme").unwrap(), &key.hash(), clock.now())
            .await
            .unwrap()
            .id;
        for awb in awbs {
            store
                .create_subscription(NewSubscription {
                    id: skyhook::domain::SubscriptionId::new_random(),
                    tenant,
                    target: Target::Awb(AwbNumber::parse(awb).unwrap()),
                    flight_id: None,
                    channels: RequestedChannels::parse(Some(&hook(1)), &[]).unwrap(),
                    states: StateFilter::All,
                    reference: None,
                    headers: Default::default(),
                    signing_secret: SigningSecret::generate(),
                    created_at: clock.now(),
                    expires_at: clock.now() + TimeDelta::days(21),
                })
                .await
                .unwrap();
        }
        Self {
            store,
            clock,
            poller,
            fake,
            tenant,
            metrics,
            _db: db,
        }
    }

    /// Moves time past any schedule and runs one poll round, which must poll every shipment.
    async fn poll(&self, answer: Answer, expected: usize) {
        self.fake.answer(answer);
        self.clock.advance(TimeDelta::hours(25));
        assert_eq!(
            self.poller.clone().poll_once().await.unwrap(),
            expected,
            "every shipment was due"
        );
    }

    async fn view(&self, awb: &str) -> ShipmentView {
        let awb = AwbNumber::parse(awb).unwrap();
        self.store
            .get_shipment(self.tenant, &awb)
            .await
            .unwrap()
            .unwrap()
    }

    /// How long until the shipment is polled again.
    async fn wait(&self, awb: &str) -> TimeDelta {
        self.view(awb).await.next_poll_at - self.clock.now()
    }

    async fn codes(&self, awb: &str) -> Vec<String> {
        let view = self.view(awb).await;
        view.events.iter().map(|e| e.event.code.clone()).collect()
    }
}

/// A `data` entry with one actual milestone.
fn entry(track_number: &str, status: &str, station: &str) -> Value {
    json!({
        "track_number": track_number,
        "return_data": {
            "origin": "FRA", "destination": "ORD", "piece": 3, "weight": "120K",
            "track_info": [{"plan_date": "", "actual_date": "2026-11-22 08:00:00",
                            "event": "", "station": station, "flight_number": "",
                            "status": status, "piece": "3", "weight": ""}],
            "flight_info": {}
        },
        "airline_info": {"name": "", "url": "", "track_url": ""}
    })
}

/// A successful answer carrying the given entries, keyed as given.
fn answer(entries: Vec<(&str, Value)>) -> Answer {
    let data: Map<String, Value> = entries
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    Answer::json(json!({
        "meta": {"code": 200, "type": "Success", "message": "Request Success"},
        "data": data
    }))
}

fn meta(code: u32, message: &str) -> Answer {
    Answer::json(json!({"meta": {"code": code, "type": "Error", "message": message}, "data": []}))
}

/// The AWBs one request asked for, sorted.
fn asked(body: &Value) -> Vec<String> {
    let mut numbers: Vec<String> = body["track_number"]
        .as_array()
        .expect("track_number is a list")
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    numbers.sort();
    numbers
}

async fn a_batch_of_awbs_is_one_request_and_each_awb_gets_its_own_answer(backend: Backend) {
    let awbs = [awb("172", 1), awb("020", 2), awb("176", 3)];
    let rig = Rig::new(&backend, &awbs, 40).await;
    // In another order than asked, one number echoed without its dash, one AWB left out.
    let undashed = awbs[1].replace('-', "");
    rig.poll(
        answer(vec![
            (&undashed, entry(&undashed, "RCS", "FRA")),
            (&awbs[0], entry(&awbs[0], "BKD", "FRA")),
        ]),
        3,
    )
    .await;

    let seen = rig.fake.seen();
    assert_eq!(seen.len(), 1, "one request for the whole batch");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/trackings/aircargo");
    assert_eq!(seen[0].headers["trackingmore-api-key"], API_KEY);
    assert_eq!(seen[0].headers["content-type"], "application/json");
    let mut keys: Vec<&String> = seen[0].body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["lang", "track_number"]);
    assert_eq!(seen[0].body["lang"], "en");
    let mut all = awbs.to_vec();
    all.sort();
    assert_eq!(asked(&seen[0].body), all);

    assert_eq!(rig.codes(&awbs[0]).await, ["BKD"]);
    assert_eq!(rig.codes(&awbs[1]).await, ["RCS"]);
    let first = rig.view(&awbs[0]).await;
    assert_eq!(first.carrier.as_deref(), Some("trackingmore"));
    assert_eq!(first.summary.weight, Some(120.0));
    assert!(rig.codes(&awbs[2]).await.is_empty());
    assert_eq!(
        rig.wait(&awbs[2]).await,
        TimeDelta::hours(2),
        "missing from the answer: not found, slow schedule"
    );
    assert_eq!(rig.metrics.polls("changed"), 2.0);
    assert_eq!(rig.metrics.polls("not_found"), 1.0);
    assert_eq!(rig.metrics.quota(), 60.0, "20 per AWB asked about");
}

/// Seed 004's response with the braces and brackets its scraped excerpt lost put back.
fn seed_004_response() -> Value {
    json!({
        "meta": {"code": 200, "type": "Success", "message": "Request Success"},
        "data": {
            "172-28891936": {
                "track_number": "172-28891936",
                "return_data": {
                    "weight": "1981K", "piece": 9, "origin": "XMN", "destination": "MXP",
                    "track_info": [
                        {"plan_date": "2018-04-18 20:29:00", "actual_date": "2018-04-17 09:38:00",
                         "event": "Delivery", "station": "MXP", "flight_number": "C80066",
                         "status": "DLV", "piece": "10", "weight": ""},
                        {"plan_date": "2018-04-12 01:20:00", "actual_date": "2018-04-11 17:41:00",
                         "event": "9 piece(s) accepted", "station": "XMN",
                         "flight_number": "CV7493", "status": "RCS", "piece": "9", "weight": ""},
                        {"plan_date": "2018-04-12 16:27:00", "actual_date": "2018-04-11 15:56:00",
                         "event": "9 piece(s) arrived on CV7493", "station": "LUX",
                         "flight_number": "CV7493", "status": "ARR", "piece": "9", "weight": ""}
                    ],
                    "status_number": 4,
                    "flight_info": {
                        "CV7493": {"plan_depart_time": "2018-04-12 08:20:00",
                                   "depart_time": "2018-04-12 08:46:00", "depart_station": "XMN",
                                   "plan_arrival_time": "2018-04-12 16:27:00",
                                   "arrival_time": "2018-04-11 15:56:00", "arrival_station": "LUX"},
                        "C80066": {"plan_arrival_time": "2018-04-14 20:29:00",
                                   "arrival_time": "2018-04-13 20:21:00", "arrival_station": "MXP",
                                   "plan_depart_time": "2018-04-16 20:15:00",
                                   "depart_time": "2018-04-14 19:31:00", "depart_station": "LUX"}
                    },
                    "flight_way_station": [],
                    "last_event": "2018-04-17 09:38:00, Delivery, MXP, C80066"
                },
                "airline_info": {"name": "Cargolux Airlines", "url": "", "track_url": ""}
            }
        }
    })
}

async fn the_seed_004_example_reaches_the_shipment_api(backend: Backend) {
    let metrics = Metrics::capture();
    let fake = FakeCarrier::start().await;
    fake.answer(Answer::json(seed_004_response()));
    let base_url = fake.base_url.clone();
    let app = spawn_app_with(backend, |s| {
        s.carriers.trackingmore = trackingmore_settings(&s.database.url, &base_url, 40)
            .carriers
            .trackingmore;
    })
    .await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": "172-28891936", "url": hook(1)}))
        .await;

    // The server's own poller is off in tests; this one polls its database a day from now.
    let settings = trackingmore_settings(&app.db.url, &fake.base_url, 40);
    let clock = Arc::new(ManualClock::new(Utc::now() + TimeDelta::days(1)));
    let poller = crate::helpers::poller(app.store.clone(), &settings, clock);
    assert_eq!(poller.poll_once().await.unwrap(), 1);
    assert_eq!(asked(&fake.seen()[0].body), ["172-28891936"]);

    let reply = app.get("/v1/shipments/172-28891936", &key).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let shipment = reply.body;
    assert_eq!(shipment["carrier"], "trackingmore");
    assert_eq!(shipment["sandbox"], false);
    assert_eq!(
        (&shipment["origin"], &shipment["destination"]),
        (&json!("XMN"), &json!("MXP"))
    );
    assert_eq!(shipment["pieces"], 9);
    assert_eq!(shipment["weight"], 1981.0, "\"1981K\" normalised");
    let events = shipment["events"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap(),
                e["eventLocation"].as_str().unwrap(),
                e["eventDate"].as_str().unwrap(),
            )
        })
        .collect();
    // Oldest first: the seed's arrival at LUX predates the acceptance at XMN.
    assert_eq!(
        summary,
        [
            ("ARR", "LUX", "2018-04-11T15:56:00Z"),
            ("RCS", "XMN", "2018-04-11T17:41:00Z"),
            ("DLV", "MXP", "2018-04-17T09:38:00Z"),
        ]
    );
    assert_eq!(events[2]["flight"]["number"], "C80066");
    assert_eq!(events[2]["flight"]["origin"], "LUX");
    assert_eq!(shipment["status"], "DELIVERED");
    let anomalies = shipment["anomalies"].to_string();
    assert!(anomalies.contains("no UTC offset"), "{anomalies}");
    assert_eq!(metrics.quota(), 20.0);
}

async fn a_batch_larger_than_batch_size_is_split(backend: Backend) {
    let awbs: Vec<String> = (20..25).map(|n| awb("172", n)).collect();
    let rig = Rig::new(&backend, &awbs, 2).await;
    let entries = awbs
        .iter()
        .map(|a| (a.as_str(), entry(a, "RCS", "XMN")))
        .collect();
    rig.poll(answer(entries), 5).await;

    let seen = rig.fake.seen();
    let mut sizes: Vec<usize> = seen.iter().map(|s| asked(&s.body).len()).collect();
    sizes.sort();
    assert_eq!(sizes, [1, 2, 2]);
    let mut asked_for: Vec<String> = seen.iter().flat_map(|s| asked(&s.body)).collect();
    asked_for.sort();
    assert_eq!(asked_for, awbs, "each AWB asked about once");
    for awb in &awbs {
        assert_eq!(rig.codes(awb).await, ["RCS"], "{awb}");
    }
    assert_eq!(rig.metrics.quota(), 100.0);
}

#[test]
fn a_batch_size_beyond_trackingmores_limit_is_refused() {
    let mut settings = trackingmore_settings("sqlite://unused.db", "http://127.0.0.1:9/", 200);
    assert!(settings.validate().is_ok());
    settings.carriers.trackingmore.batch_size = Some(201);
    let error = settings.validate().unwrap_err().to_string();
    assert!(
        error.contains("carriers.trackingmore.batch_size"),
        "{error}"
    );
    settings.carriers.trackingmore.batch_size = Some(0);
    assert!(settings.validate().is_err());
}
