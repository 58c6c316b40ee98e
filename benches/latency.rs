//! Latency on an idle server: how long one thing takes to come out of the release server when
//! nothing else is queued, on SQLite and on Postgres (over TCP and over the Unix socket).
//!
//! Three figures, one sample at a time, each timed from the moment the bench sends the request
//! that starts it (so the request's own answer time is inside the figure; it is shown apart):
//!
//! - **test → webhook**: `POST /v1/subscriptions/{id}/test` sent → that message (matched by
//!   `webhook-id`) reaches the local receiver.
//! - **push → webhook**: a Lufthansa push (seed 002: `{subscriptionId, AWB, State,
//!   toaTimestamp, timestamp}`) sent to the AWB's callback URL (`/carriers/lufthansa/callback/
//!   {token}`) → the poller's fetch of the Shipment Tracking API, which the push only asks for →
//!   the `tracking.updated` webhook of that AWB's subscription reaches the receiver. Every push
//!   announces a milestone the fake's tracking answer has just gained (eight per AWB, none of
//!   them a delivery), so each one is a new event and a webhook. The server runs with
//!   `carriers.lufthansa.fetch_delay = "0s"`: the default 10s would be in every sample.
//! - **subscription → carrier**: `POST /v1/subscriptions` for a new Lufthansa AWB sent → the
//!   poller's registration of it (`POST /lh/handling/shipment/subscribe`) reaches the local fake
//!   Lufthansa. This is the same path as a pull carrier's first poll (the new subscription makes
//!   its shipment due now and wakes the poller; it claims the shipment and calls the carrier).
//!
//! Two references, measured in the same server run before the figures: a plain reqwest client
//! (pooled, like the dispatcher's) POSTing a ~1.5 KB JSON body to the same receiver, timed from
//! send to arrival, which the figures are divided by; and one autocommitted single-row INSERT
//! on the server's database, what one commit costs at the moment (every figure needs at least
//! one). The slowest samples are listed with their answer times, to tell a slow commit in the
//! request from a slow worker after it.
//! Arrivals are stamped by the receiver (axum on 127.0.0.1, in this process) when the request
//! reaches its handler. Between samples the bench pauses [`PAUSE`], so the previous delivery's
//! outcome is recorded and the workers are idle again when the next sample starts.
//!
//! Server settings: the defaults, plus `127.0.0.0/8` in `webhooks.allow_networks` (the SSRF
//! guard would refuse the local receiver), `webhooks.preflight = "off"` (the create then times
//! Skyhook, not an OPTIONS round trip to the receiver) and Lufthansa enabled against the fake
//! with `rate_limit = 1000` (the default 5/s would throttle back-to-back registrations) and
//! `fetch_delay = "0s"`.
//!
//! Run with `cargo bench --bench latency`. Environment: `BENCH_SAMPLES` (200 per figure),
//! `BENCH_BACKENDS` (`sqlite,tcp,socket`), `SKYHOOK_BENCH_DATABASE_URL` (the Postgres URL of
//! the TCP run, allowed to create and drop databases), `SKYHOOK_BENCH_SOCKET_URL` (the Unix
//! socket run's). A Postgres run whose server is unreachable is skipped.

#[path = "common/bench_database.rs"]
mod bench_database;
#[path = "common/server.rs"]
mod server;
#[path = "common/stats.rs"]
mod stats;

use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use bench_database::BenchDatabase;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use server::{Server, create_key};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, PgConnection, SqliteConnection};
use stats::{env_or, percentile_ms};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_SOCKET: &str = "postgresql://postgres@localhost/postgres?host=/var/run/postgresql";
const LUFTHANSA_KEY: &str = "bench-lh-key";
/// The states pushed to each AWB, in order: new every time, and none completes the subscription.
const PUSH_STATES: [&str; 8] = ["RCS", "MAN", "DEP", "ARR", "RCF", "NFD", "RCT", "TFD"];
/// Between samples: the previous delivery is recorded and the workers are idle again.
const PAUSE: Duration = Duration::from_millis(50);
/// Longer than any sample may take: the fallback polls (`idle_wait`) are 0.5 s and 1 s.
const WAIT_LIMIT: Duration = Duration::from_secs(10);
/// Slowest samples shown per figure, to tell a slow answer from a slow worker.
const SLOWEST: usize = 5;
/// Requests to the receiver before the reference is timed, so its connection is open.
const WARMUP: usize = 10;

#[derive(Clone, Copy)]
enum Figure {
    Reference,
    DatabaseReference,
    Test,
    Push,
    Subscribe,
}

impl Figure {
    fn name(self) -> &'static str {
        match self {
            Self::Reference => "reference: reqwest POST → receiver",
            Self::DatabaseReference => "reference: one-row INSERT, commit",
            Self::Test => "test → webhook",
            Self::Push => "push → webhook",
            Self::Subscribe => "subscription → carrier request",
        }
    }
}

/// One figure's samples on one backend.
struct Samples {
    figure: Figure,
    /// Per sample: send → the request's own 2xx answer (none for the reference) and send →
    /// arrival at the receiver or the fake carrier; slowest arrival last once finished.
    samples: Vec<(Option<Duration>, Duration)>,
    /// Sorted, once finished.
    answered: Vec<Duration>,
    arrived: Vec<Duration>,
}

impl Samples {
    fn new(figure: Figure) -> Self {
        Self {
            figure,
            samples: Vec::new(),
            answered: Vec::new(),
            arrived: Vec::new(),
        }
    }

    fn push(&mut self, answered: Option<Duration>, arrived: Duration) {
        self.samples.push((answered, arrived));
    }

    fn finished(mut self) -> Self {
        self.samples.sort_unstable_by_key(|&(_, arrived)| arrived);
        self.answered = self.samples.iter().filter_map(|&(a, _)| a).collect();
        self.answered.sort_unstable();
        self.arrived = self.samples.iter().map(|&(_, a)| a).collect();
        self
    }
}

struct BackendRun {
    backend: String,
    figures: Vec<Samples>,
    peak_rss: u64,
    load_before: String,
    load_after: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skyhook::telemetry::install_crypto_provider();
    let samples = env_or("BENCH_SAMPLES", 200)? as usize;
    ensure!(samples > 0, "BENCH_SAMPLES must be at least 1");
    let backends =
        std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,tcp,socket".to_owned());
    let receiver = Receiver::start().await?;
    let lufthansa = FakeLufthansa::start().await?;
    let bench = Bench {
        samples,
        receiver,
        lufthansa,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        next_serial: Mutex::new(1_000_000),
    };

    let mut runs = Vec::new();
    for backend in backends.split(',').map(str::trim) {
        let admin_url = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}/bench.db", dir.path().display());
                runs.push(bench.run("SQLite", &url).await?);
                continue;
            }
            "tcp" => std::env::var("SKYHOOK_BENCH_DATABASE_URL")
                .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned()),
            "socket" => std::env::var("SKYHOOK_BENCH_SOCKET_URL")
                .unwrap_or_else(|_| DEFAULT_SOCKET.to_owned()),
            other => bail!("BENCH_BACKENDS: unknown backend `{other}` (sqlite, tcp, socket)"),
        };
        // Named by what the URL says, so an overridden URL is not mislabelled.
        let name = if admin_url.contains("host=/") {
            "Postgres, Unix socket"
        } else {
            "Postgres, TCP"
        };
        match BenchDatabase::create(&admin_url, "latency") {
            Err(err) => eprintln!("skipping {name}: {err:#}"),
            Ok(db) => runs.push(bench.run(name, &db.url).await?),
        }
    }

    println!("\n{samples} samples per figure, one at a time, {PAUSE:?} apart\n");
    print_table(&runs);
    Ok(())
}

struct Bench {
    samples: usize,
    receiver: Receiver,
    lufthansa: FakeLufthansa,
    client: reqwest::Client,
    /// AWB serials, never reused within the run (the fake's registrations are keyed by AWB).
    next_serial: Mutex<u64>,
}

impl Bench {
    async fn run(&self, backend: &str, db_url: &str) -> anyhow::Result<BackendRun> {
        eprintln!("{backend}: starting");
        let load_before = load_average()?;
        let key = create_key(db_url).await?;
        let mail = tempfile::tempdir()?;
        let lufthansa_url = self.lufthansa.base_url.clone();
        let mut server = Server::start(db_url, |command, base| {
            command
                .env("SKYHOOK_SERVER__PUBLIC_URL", base)
                .env("SKYHOOK_WEBHOOKS__ALLOW_NETWORKS", r#"["127.0.0.0/8"]"#)
                .env("SKYHOOK_WEBHOOKS__PREFLIGHT", "off")
                .env("SKYHOOK_EMAIL__OUTBOX_DIR", mail.path())
                .env("SKYHOOK_CARRIERS__LUFTHANSA__ENABLED", "true")
                .env("SKYHOOK_CARRIERS__LUFTHANSA__BASE_URL", lufthansa_url)
                .env("SKYHOOK_CARRIERS__LUFTHANSA__API_KEY", LUFTHANSA_KEY)
                .env("SKYHOOK_CARRIERS__LUFTHANSA__RATE_LIMIT", "1000")
                .env("SKYHOOK_CARRIERS__LUFTHANSA__FETCH_DELAY", "0s")
                // 200 test messages to one subscription, and requests back to back.
                .env("SKYHOOK_SUBSCRIPTIONS__TEST_LIMIT", "1000000")
                .env("SKYHOOK_SERVER__RATE_LIMIT__PER_SECOND", "0");
        })
        .await?;
        let api = Api {
            client: &self.client,
            base: &server.base,
            key: &key,
        };

        let mut figures = vec![self.reference().await?];
        figures.push(self.database_reference(db_url).await?);
        eprintln!("{backend}: references done");
        let (subscribe, subscriptions) = self.subscribe(&api).await?;
        figures.push(subscribe);
        eprintln!("{backend}: subscriptions done");
        figures.push(self.test(&api, &subscriptions[0].id).await?);
        eprintln!("{backend}: test messages done");
        figures.push(self.push(&api, &subscriptions).await?);
        eprintln!("{backend}: pushes done");

        let peak_rss = server.peak_rss()?;
        server.stop().await;
        let unexpected = self.receiver.drain_unexpected();
        ensure!(
            unexpected == 0,
            "{backend}: the receiver got {unexpected} messages no sample asked for"
        );
        Ok(BackendRun {
            backend: backend.to_owned(),
            figures: figures.into_iter().map(Samples::finished).collect(),
            peak_rss,
            load_before,
            load_after: load_average()?,
        })
    }

    /// A plain client's POST of a webhook-sized body to the same receiver.
    async fn reference(&self) -> anyhow::Result<Samples> {
        let mut samples = Samples::new(Figure::Reference);
        let url = format!("{}/reference", self.receiver.base);
        let body = reference_body();
        for n in 0..WARMUP + self.samples {
            let id = format!("ref_{}", Uuid::new_v4().simple());
            let sent = Instant::now();
            let response = self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .body(body.clone())
                .send()
                .await?;
            ensure!(response.status().is_success(), "receiver: {response:?}");
            let arrived = self
                .receiver
                .wait(|a| a.webhook_id.as_deref() == Some(&id))
                .await?;
            if n >= WARMUP {
                samples.push(None, arrived - sent);
            }
            tokio::time::sleep(PAUSE).await;
        }
        Ok(samples)
    }

    /// One autocommitted single-row INSERT at a time on the server's database, through a
    /// connection of the bench's own (SQLite with the server's WAL and `synchronous = NORMAL`):
    /// what one commit costs at this moment.
    async fn database_reference(&self, db_url: &str) -> anyhow::Result<Samples> {
        const CREATE: &str =
            "CREATE TABLE bench_reference (id BIGINT PRIMARY KEY, at TEXT NOT NULL)";
        const INSERT: &str = "INSERT INTO bench_reference (id, at) VALUES ($1, $2)";
        let mut samples = Samples::new(Figure::DatabaseReference);
        // The same loop on either connection type (sqlx's `Any` driver is not built here).
        macro_rules! time_inserts {
            ($conn:expr) => {{
                let mut conn = $conn;
                sqlx::query(CREATE).execute(&mut conn).await?;
                for n in 0..WARMUP + self.samples {
                    let sent = Instant::now();
                    sqlx::query(INSERT)
                        .bind(n as i64)
                        .bind(Utc::now().to_rfc3339())
                        .execute(&mut conn)
                        .await?;
                    if n >= WARMUP {
                        samples.push(None, sent.elapsed());
                    }
                    tokio::time::sleep(PAUSE).await;
                }
                conn.close().await?;
            }};
        }
        if db_url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(db_url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            time_inserts!(SqliteConnection::connect_with(&options).await?);
        } else {
            time_inserts!(PgConnection::connect(db_url).await?);
        }
        Ok(samples)
    }

    /// Subscribes one new Lufthansa AWB per sample and times its registration.
    async fn subscribe(&self, api: &Api<'_>) -> anyhow::Result<(Samples, Vec<Subscribed>)> {
        let mut samples = Samples::new(Figure::Subscribe);
        let mut subscriptions = Vec::with_capacity(self.samples);
        for _ in 0..self.samples {
            let awb = self.next_awb();
            let body = json!({"awb": awb, "url": format!("{}/hooks/{awb}", self.receiver.base)});
            let sent = Instant::now();
            let created = api.post("/v1/subscriptions", Some(&body)).await?;
            let answered = sent.elapsed();
            let registered = self.lufthansa.wait_registration(&awb).await?;
            samples.push(Some(answered), registered.at - sent);
            let id = created["id"]
                .as_str()
                .context("the created subscription has an id")?
                .to_owned();
            subscriptions.push(Subscribed {
                id,
                awb,
                carrier_ref: registered.subscription_id,
                callback_path: registered.callback_path,
            });
            tokio::time::sleep(PAUSE).await;
        }
        Ok((samples, subscriptions))
    }

    async fn test(&self, api: &Api<'_>, subscription: &str) -> anyhow::Result<Samples> {
        let mut samples = Samples::new(Figure::Test);
        let path = format!("/v1/subscriptions/{subscription}/test");
        for _ in 0..self.samples {
            let sent = Instant::now();
            let queued = api.post(&path, None).await?;
            let answered = sent.elapsed();
            let message = queued["messageId"]
                .as_str()
                .context("the test answer names its message")?;
            let arrived = self
                .receiver
                .wait(|a| a.webhook_id.as_deref() == Some(message))
                .await?;
            samples.push(Some(answered), arrived - sent);
            tokio::time::sleep(PAUSE).await;
        }
        Ok(samples)
    }

    /// Pushes [`PUSH_STATES`] to one registered AWB after another, as Lufthansa would.
    async fn push(&self, api: &Api<'_>, subscriptions: &[Subscribed]) -> anyhow::Result<Samples> {
        let mut samples = Samples::new(Figure::Push);
        // Lufthansa dates a push by when its backend received the status: minutes apart here.
        let start = Utc::now() - TimeDelta::days(1);
        for n in 0..self.samples {
            let subscription = &subscriptions[n / PUSH_STATES.len()];
            let state = PUSH_STATES[n % PUSH_STATES.len()];
            let timestamp = start + TimeDelta::minutes(n as i64);
            let body = json!({
                "subscriptionId": subscription.carrier_ref,
                "AWB": subscription.awb,
                "State": state,
                "toaTimestamp": null,
                "timestamp": timestamp.to_rfc3339(),
            });
            // Lufthansa's tracking has the milestone before it pushes.
            self.lufthansa
                .reached(&subscription.awb, state, &timestamp.to_rfc3339());
            let sent = Instant::now();
            let receipt = api.post(&subscription.callback_path, Some(&body)).await?;
            let answered = sent.elapsed();
            ensure!(
                receipt["fetchAt"].is_string(),
                "push {state} for {} scheduled no fetch: {receipt}",
                subscription.awb
            );
            let arrived = self
                .receiver
                .wait(|a| {
                    a.subscription_id.as_deref() == Some(&subscription.id)
                        && a.kind.as_deref() == Some("tracking.updated")
                })
                .await?;
            samples.push(Some(answered), arrived - sent);
            tokio::time::sleep(PAUSE).await;
        }
        Ok(samples)
    }

    /// A valid Lufthansa AWB `020-SSSSSSSC`: the check digit C is the serial mod 7.
    fn next_awb(&self) -> String {
        let mut next = self.next_serial.lock().expect("not poisoned");
        let serial = *next;
        *next += 1;
        format!("020-{serial:07}{}", serial % 7)
    }
}

struct Subscribed {
    id: String,
    awb: String,
    /// Lufthansa's subscription id for the AWB, which its pushes name.
    carrier_ref: String,
    /// Where Lufthansa pushes for the AWB: the path of its registration's callback URL.
    callback_path: String,
}

/// The server's API with the run's key.
struct Api<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    key: &'a str,
}

impl Api<'_> {
    /// POSTs and reads the whole answer, which must be a 2xx with a JSON body.
    async fn post(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        ensure!(status.is_success(), "POST {path}: {status}: {text}");
        Ok(serde_json::from_str(&text)?)
    }
}

/// What the receiver noted of one request.
struct Arrival {
    at: Instant,
    webhook_id: Option<String>,
    subscription_id: Option<String>,
    kind: Option<String>,
}

/// The local webhook receiver: `/hooks/{anything}` and `/reference` answer 200 at once and
/// hand every arrival to the bench.
struct Receiver {
    base: String,
    arrivals: tokio::sync::Mutex<mpsc::UnboundedReceiver<Arrival>>,
    unexpected: std::sync::atomic::AtomicU64,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        async fn arrive(
            State(tx): State<mpsc::UnboundedSender<Arrival>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let at = Instant::now();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let text = |value: &Value| value.as_str().map(str::to_owned);
            let _ = tx.send(Arrival {
                at,
                webhook_id: headers
                    .get("webhook-id")
                    .and_then(|id| id.to_str().ok())
                    .map(str::to_owned),
                subscription_id: text(&body["subscriptionId"]),
                kind: text(&body["type"]),
            });
            StatusCode::OK
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/hooks/{path}", post(arrive))
            .route("/reference", post(arrive))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            base,
            arrivals: tokio::sync::Mutex::new(rx),
            unexpected: Default::default(),
        })
    }

    /// The arrival time of the next request `expected` accepts; others are counted.
    async fn wait(&self, expected: impl Fn(&Arrival) -> bool) -> anyhow::Result<Instant> {
        let mut arrivals = self.arrivals.lock().await;
        let give_up = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            let arrival = tokio::time::timeout_at(give_up, arrivals.recv())
                .await
                .with_context(|| {
                    format!("nothing expected reached the receiver in {WAIT_LIMIT:?}")
                })?
                .context("the receiver stopped")?;
            if expected(&arrival) {
                return Ok(arrival.at);
            }
            self.unexpected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Messages that arrived but no sample waited for, since the last call.
    fn drain_unexpected(&self) -> u64 {
        let mut count = self
            .unexpected
            .swap(0, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut arrivals) = self.arrivals.try_lock() {
            while arrivals.try_recv().is_ok() {
                count += 1;
            }
        }
        count
    }
}

/// A registration as the fake Lufthansa answered it.
struct Registration {
    at: Instant,
    subscription_id: String,
    callback_path: String,
}

/// Milestones reached, by AWB (11 digits): what the Shipment Tracking API answers.
type Reached = Arc<Mutex<HashMap<String, Vec<Value>>>>;

/// Lufthansa's subscribe API (seed 002): `POST /lh/handling/shipment/subscribe` answers a new
/// `subscriptionId`; `DELETE …/subscribe/{id}` answers 204. Its Shipment Tracking API
/// (`GET /lh/handling/shipment?aWBPrefix=&aWBNumber=`) answers the milestones the AWB has
/// reached ([`FakeLufthansa::reached`]), 404 before the first.
struct FakeLufthansa {
    base_url: String,
    registrations: Arc<Mutex<HashMap<String, Registration>>>,
    registered: Arc<tokio::sync::Notify>,
    reached: Reached,
}

#[derive(Clone)]
struct FakeState {
    registrations: Arc<Mutex<HashMap<String, Registration>>>,
    registered: Arc<tokio::sync::Notify>,
    reached: Reached,
}

impl FakeLufthansa {
    async fn start() -> anyhow::Result<Self> {
        async fn subscribe(
            State(state): State<FakeState>,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, axum::Json<Value>) {
            let at = Instant::now();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if headers.get("apikey").and_then(|v| v.to_str().ok()) != Some(LUFTHANSA_KEY) {
                return (StatusCode::UNAUTHORIZED, axum::Json(Value::Null));
            }
            let Some(awb) = body["AWB"].as_str() else {
                return (StatusCode::BAD_REQUEST, axum::Json(Value::Null));
            };
            let subscription_id = Uuid::new_v4().to_string();
            let callback = body["Callback"]
                .as_str()
                .and_then(|c| url::Url::parse(c).ok());
            let Some(callback) = callback else {
                return (StatusCode::BAD_REQUEST, axum::Json(Value::Null));
            };
            state.registrations.lock().expect("not poisoned").insert(
                awb.to_owned(),
                Registration {
                    at,
                    subscription_id: subscription_id.clone(),
                    callback_path: callback.path().to_owned(),
                },
            );
            state.registered.notify_waiters();
            let answer = json!({
                "subscriptionId": subscription_id,
                "AWB": awb,
                "Callback": body["Callback"],
                "States": body["States"],
            });
            (StatusCode::OK, axum::Json(answer))
        }
        async fn unsubscribe(Path(_id): Path<String>) -> StatusCode {
            StatusCode::NO_CONTENT
        }
        async fn track(
            State(state): State<FakeState>,
            Query(query): Query<HashMap<String, String>>,
        ) -> (StatusCode, axum::Json<Value>) {
            let prefix = query.get("aWBPrefix").cloned().unwrap_or_default();
            let number = query.get("aWBNumber").cloned().unwrap_or_default();
            let reached = state.reached.lock().expect("not poisoned");
            let Some(milestones) = reached.get(&format!("{prefix}{number}")) else {
                return (StatusCode::NOT_FOUND, axum::Json(Value::Null));
            };
            let status = json!({"shipmentTrackingStatus": {
                "shipment": {"shipmentId": {"carrierNumericCode": prefix, "aWBNumber": number}},
                "booking": {"origin": "FRA", "destination": "ORD",
                            "totals": {"noOfPieces": "12", "weight": 1981.0}},
                "milestonePlan": {"version": "1", "milestones": {"milestone": milestones}},
            }});
            (StatusCode::OK, axum::Json(status))
        }
        let registrations = Arc::new(Mutex::new(HashMap::new()));
        let registered = Arc::new(tokio::sync::Notify::new());
        let reached = Reached::default();
        let app = Router::new()
            .route("/lh/handling/shipment", get(track))
            .route("/lh/handling/shipment/subscribe", post(subscribe))
            .route("/lh/handling/shipment/subscribe/{id}", delete(unsubscribe))
            .with_state(FakeState {
                registrations: registrations.clone(),
                registered: registered.clone(),
                reached: reached.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}/", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            base_url,
            registrations,
            registered,
            reached,
        })
    }

    /// The AWB has reached a milestone, at `at`, which its tracking answers from now on.
    fn reached(&self, awb: &str, state: &str, at: &str) {
        let key: String = awb.chars().filter(char::is_ascii_digit).collect();
        let milestone = json!({"type": state, "station": "FRA", "actualTime": at,
                               "actualTotals": [{"noOfPieces": "12", "weight": 1981.0}]});
        let mut reached = self.reached.lock().expect("not poisoned");
        reached.entry(key).or_default().push(milestone);
    }

    /// Waits until `awb` has been registered.
    async fn wait_registration(&self, awb: &str) -> anyhow::Result<Registration> {
        let give_up = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            // Armed before looking, so a registration between the look and the wait wakes it.
            let registered = self.registered.notified();
            tokio::pin!(registered);
            registered.as_mut().enable();
            if let Some(registration) = self.registrations.lock().expect("not poisoned").remove(awb)
            {
                return Ok(registration);
            }
            tokio::time::timeout_at(give_up, registered)
                .await
                .with_context(|| format!("{awb} was not registered within {WAIT_LIMIT:?}"))?;
        }
    }
}

/// About the size of a `tracking.updated` body with a few events.
fn reference_body() -> String {
    let event = json!({
        "code": "DEP", "eventDate": "2026-11-25T14:20:00+01:00", "eventLocation": "FRA",
        "pieces": 12, "weight": 1981.0, "isPlanned": false,
        "flight": {"number": "LH8400", "origin": "FRA", "destination": "ORD"},
    });
    json!({
        "id": "msg_reference", "type": "tracking.updated", "sequence": 1,
        "subscriptionId": Uuid::nil(), "awb": "020-08002050",
        "events": vec![event; 8],
    })
    .to_string()
}

fn load_average() -> anyhow::Result<String> {
    let loadavg = std::fs::read_to_string("/proc/loadavg")?;
    Ok(loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" "))
}

fn print_table(runs: &[BackendRun]) {
    let ms = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    println!(
        "| figure | backend | answer p50 ms | p50 ms | p99 ms | max ms | p50 / ref | p99 / ref |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for run in runs {
        let reference = &run.figures[0];
        let ref_p50 = percentile_ms(&reference.arrived, 0.50);
        let ref_p99 = percentile_ms(&reference.arrived, 0.99);
        let ratio = |value: Option<f64>, of: Option<f64>| match (value, of) {
            (Some(value), Some(of)) if of > 0.0 => format!("{:.1}", value / of),
            _ => "–".to_owned(),
        };
        for samples in &run.figures {
            let p50 = percentile_ms(&samples.arrived, 0.50);
            let p99 = percentile_ms(&samples.arrived, 0.99);
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                samples.figure.name(),
                run.backend,
                ms(percentile_ms(&samples.answered, 0.50)),
                ms(p50),
                ms(p99),
                ms(percentile_ms(&samples.arrived, 1.0)),
                ratio(p50, ref_p50),
                ratio(p99, ref_p99),
            );
        }
    }
    println!("\nSlowest samples (answer / arrival, ms):");
    for run in runs {
        let figures = run.figures.iter().filter(|samples| {
            !matches!(
                samples.figure,
                Figure::Reference | Figure::DatabaseReference
            )
        });
        for samples in figures {
            let slowest: Vec<String> = samples.samples
                [samples.samples.len().saturating_sub(SLOWEST)..]
                .iter()
                .rev()
                .map(|(answered, arrived)| {
                    format!(
                        "{} / {:.1}",
                        ms(answered.map(|a| a.as_secs_f64() * 1e3)),
                        arrived.as_secs_f64() * 1e3
                    )
                })
                .collect();
            println!(
                "- {}, {}: {}",
                samples.figure.name(),
                run.backend,
                slowest.join(", ")
            );
        }
    }
    println!();
    for run in runs {
        println!(
            "{}: server peak RSS {:.0} MB; load average {} before, {} after",
            run.backend,
            run.peak_rss as f64 / 1e6,
            run.load_before,
            run.load_after,
        );
    }
}
