//! The delivery engine end to end: subscriptions made through the real API, a poller against a
//! fake CargoAI, and dispatchers sending to an in-process webhook receiver and a local SMTP
//! sink, all driven one round at a time with a manual clock.

mod email;
mod failures;
mod feed;
mod guard;
mod leases;
mod lifecycle;
mod stalls;
mod wakeups;
mod webhooks;

use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, TestApp, spawn_app_with, test_settings};
use crate::receiver::{Received, Receiver};
use crate::smtp_sink::SmtpSink;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::{HumanDuration, Settings};
use skyhook::dispatch::Dispatcher;
use skyhook::domain::{AllowNetworks, ApiKey, AwbNumber, Cidr, KeyName};
use skyhook::ingest::shipments::Poller;
use skyhook::store::{ClaimedDelivery, DeliveryOutcome, DeliveryQueue, Lease, NextStep};
use std::sync::Arc;
use std::time::Duration;

pub const AWB: &str = "020-08002050";

/// The real server (system clock) plus a poller and a dispatcher sharing its store, moved by a
/// manual clock that starts at the wall clock so signatures verify with real receivers.
pub struct DeliveryRig {
    pub app: TestApp,
    pub key: String,
    pub tenant: skyhook::domain::TenantId,
    pub clock: Arc<ManualClock>,
    pub settings: Settings,
    pub poller: Arc<Poller>,
    pub dispatcher: Arc<Dispatcher>,
    pub fake: FakeCarrier,
    pub receiver: Receiver,
    pub sink: SmtpSink,
}

impl DeliveryRig {
    pub async fn new(backend: Backend) -> Self {
        Self::with(backend, |_| {}).await
    }

    /// A rig whose settings (the API's and the workers') are adjusted by `adjust` after the
    /// delivery defaults: loopback allowed, retries after 5s and 1m, a 5s timeout.
    pub async fn with(backend: Backend, adjust: impl Fn(&mut Settings)) -> Self {
        let fake = FakeCarrier::start().await;
        let receiver = Receiver::start().await;
        let sink = SmtpSink::start().await;
        let configure = |s: &mut Settings| {
            s.carriers.cargoai.base_url = fake.base_url.parse().unwrap();
            s.webhooks.allow_networks = AllowNetworks(vec![Cidr::parse("127.0.0.0/8").unwrap()]);
            s.webhooks.retry_schedule = vec![secs(5), secs(60)];
            s.webhooks.timeout = secs(5);
            s.delivery.lease = secs(30);
            s.email.smtp_url = skyhook::config::Secret::new(sink.url());
            s.server.public_url = "https://skyhook.example.com/".parse().unwrap();
            adjust(s);
        };
        let app = spawn_app_with(backend, configure).await;
        let mut settings = test_settings(&app.db.url);
        configure(&mut settings);
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let poller = crate::helpers::poller(app.store.clone(), &settings, clock.clone());
        let dispatcher =
            Dispatcher::from_settings(app.store.clone(), clock.clone(), &settings).unwrap();
        let key = ApiKey::generate();
        let name = KeyName::parse("acme").unwrap();
        let tenant = app
            .store
            .create_api_key(&name, &key.hash(), Utc::now())
            .await
            .unwrap()
            .id;
        // The receivers are this tenant's own: their answers are kept in its delivery log.
        app.store
            .set_allowed_networks(&name, &loopback())
            .await
            .unwrap();
        Self {
            key: key.expose().to_owned(),
            tenant,
            app,
            clock,
            settings,
            poller,
            dispatcher,
            fake,
            receiver,
            sink,
        }
    }

    /// Another dispatcher on the same store and clock (another instance), with its own settings.
    pub fn another_dispatcher(&self, adjust: impl FnOnce(&mut Settings)) -> Arc<Dispatcher> {
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        Dispatcher::from_settings(self.app.store.clone(), self.clock.clone(), &settings).unwrap()
    }

    /// Replaces the private networks this tenant's key allows (loopback by default).
    pub async fn key_networks(&self, networks: AllowNetworks) {
        let acme = KeyName::parse("acme").unwrap();
        assert!(
            self.app
                .store
                .set_allowed_networks(&acme, &networks)
                .await
                .unwrap()
        );
    }

    /// Creates a subscription of [`AWB`] through the API; `extra` adds or overrides fields.
    /// Returns the created body, `signingSecret` included.
    pub async fn subscribe(&self, extra: Value) -> Value {
        let mut body = json!({"awb": AWB});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let created = self.app.subscribed(&self.key, body).await;
        self.catch_up();
        created
    }

    /// A subscription of [`AWB`] with the receiver at `path` as its callback.
    pub async fn subscribe_url(&self, path: &str) -> Value {
        self.subscribe(json!({"url": self.receiver.url(path)}))
            .await
    }

    /// Moves the manual clock up to the wall clock, so that what the API stamped with the
    /// system clock is in the workers' past.
    pub fn catch_up(&self) {
        let behind = skyhook::clock::truncate_to_micros(Utc::now()) - self.clock.now();
        if behind > TimeDelta::zero() {
            self.clock.advance(behind);
        }
    }

    /// The workers' time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    /// Moves the clock to `at` if that is later.
    pub fn advance_to(&self, at: DateTime<Utc>) {
        let by = at - self.clock.now();
        if by > TimeDelta::zero() {
            self.clock.advance(by);
        }
    }

    /// Scripts the carrier's answer, moves the clock to when the shipment is due and runs one
    /// poll round, which must poll it.
    pub async fn poll(&self, events: Vec<Value>) {
        self.fake.answer(tracking(events));
        self.catch_up();
        let awb = AwbNumber::parse(AWB).unwrap();
        if let Some(shipment) = self
            .app
            .store
            .get_shipment(self.tenant, &awb)
            .await
            .unwrap()
        {
            self.advance_to(shipment.next_poll_at);
        }
        let polled = self.poller.clone().poll_once().await.unwrap();
        assert_eq!(polled, 1, "the shipment was due");
    }

    /// One dispatch round, waiting for its sends; returns how many messages it claimed.
    pub async fn dispatch(&self) -> usize {
        self.dispatcher.clone().dispatch_once().await.unwrap()
    }

    /// The delivery log of a subscription.
    pub async fn deliveries(&self, subscription: &Value) -> Vec<Value> {
        let path = format!("/v1/subscriptions/{}/deliveries", id(subscription));
        let reply = self.app.get(&path, &self.key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }

    /// The subscription as `GET /v1/subscriptions/{id}` shows it now.
    pub async fn reread(&self, subscription: &Value) -> Value {
        let path = format!("/v1/subscriptions/{}", id(subscription));
        let reply = self.app.get(&path, &self.key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// Moves the clock to the `nextAttemptAt` of the only pending message in `log`.
    pub fn advance_to_next_attempt(&self, log: &[Value]) {
        let pending: Vec<&Value> = log.iter().filter(|d| d["status"] == "pending").collect();
        assert_eq!(pending.len(), 1, "one pending message: {log:?}");
        self.advance_to(time(&pending[0]["nextAttemptAt"]));
    }
}

/// `127.0.0.0/8` and `::1`, where every local fake listens.
pub fn loopback() -> AllowNetworks {
    AllowNetworks::parse(&["127.0.0.0/8", "::1/128"]).unwrap()
}

/// Claims up to ten due messages as the worker `owner` would at `now`, leased for `lease`.
pub async fn claim_as(
    store: &(impl DeliveryQueue + ?Sized),
    owner: uuid::Uuid,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Vec<ClaimedDelivery> {
    let lease = Lease {
        owner,
        now,
        until: now + lease,
    };
    store.claim_due_deliveries(lease, 10, &[]).await.unwrap()
}

/// An attempt's outcome for `claimed`, under its claim's token: a 200 when `next` is
/// `Delivered`, a late 500 otherwise.
pub fn outcome(claimed: &ClaimedDelivery, at: DateTime<Utc>, next: NextStep) -> DeliveryOutcome {
    let delivered = next == NextStep::Delivered;
    DeliveryOutcome {
        id: claimed.id,
        lease_token: claimed.lease_token,
        attempted_at: at,
        status_code: Some(if delivered { 200 } else { 500 }),
        error: (!delivered).then(|| "late".to_owned()),
        next,
    }
}

pub fn secs(s: u64) -> HumanDuration {
    HumanDuration(Duration::from_secs(s))
}

pub fn id(subscription: &Value) -> &str {
    subscription["id"].as_str().expect("a subscription id")
}

pub fn secret(subscription: &Value) -> &str {
    subscription["signingSecret"]
        .as_str()
        .expect("the signing secret, shown on creation")
}

pub fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp, got {value}"))
        .parse()
        .unwrap()
}

/// A CargoAI tracking event.
pub fn event(code: &str, location: &str, date: &str) -> Value {
    json!({
        "code": code, "eventDate": date, "eventLocation": location, "isPlanned": false,
        "pieces": "3", "weight": "120.0"
    })
}

pub fn booked() -> Value {
    event("BKD", "FRA", "2026-11-23T08:00:00Z")
}

pub fn departed() -> Value {
    event("DEP", "FRA", "2026-11-25T14:20:00+01:00")
}

pub fn arrived() -> Value {
    event("ARR", "ORD", "2026-11-25T16:50:00-06:00")
}

pub fn delivered() -> Value {
    event("DLV", "ORD", "2026-11-26T09:30:00-06:00")
}

fn tracking(events: Vec<Value>) -> Answer {
    Answer::json(json!({
        "awb": AWB, "origin": "FRA", "destination": "ORD",
        "pieces": "3", "weight": "1981K", "status": "IN_TRANSIT", "events": events
    }))
}

/// The codes of the events under `key` of a message body.
pub fn codes(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is a list: {body}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether the `webhook-signature` of `post` holds a signature by `secret`, as the reference
/// library computes it for the id, timestamp and body received (the clock may be far from the
/// wall clock here, which the library's `verify` would refuse).
pub fn signed_by(post: &Received, secret: &str) -> bool {
    let timestamp: i64 = post.header("webhook-timestamp").parse().unwrap();
    let expected = standardwebhooks::Webhook::new(secret)
        .unwrap()
        .sign(post.header("webhook-id"), timestamp, post.body.as_bytes())
        .unwrap();
    post.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}
