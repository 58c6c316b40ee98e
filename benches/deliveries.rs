//! Webhook delivery on Postgres: how fast the dispatcher drains a backlog of queued messages to
//! a local receiver, the queue-to-delivery latency when messages arrive at a steady rate below
//! capacity, and both again with 10% of the subscriptions pointing at a receiver that takes 2 s
//! to answer, to show whether slow receivers hold up the others.
//!
//! Messages are queued by inserting outbox rows straight into `deliveries`, shaped as the
//! poller writes them (one `tracking.updated` webhook row per message, a ~2 KB body rendered
//! from the real [`Message`] type, due at once). The dispatcher is the real one
//! (`Dispatcher::from_settings` with the default `[delivery]` and `[webhooks]` settings, plus
//! `127.0.0.0/8` in `webhooks.allow_networks`), on the default database pool size, with the
//! system clock. The receiver is an in-process axum server on 127.0.0.1; it counts requests and
//! notes when each message arrived. Latency is arrival at the receiver minus the row's
//! `created_at`. Each INSERT wakes the dispatcher in-process, as the commit of a poll round
//! does. The network's yardstick, measured just before A: a plain reqwest client POSTing as
//! many bodies of the same size to the same receiver, as many in flight as the dispatcher.
//!
//! Run with `cargo bench --bench deliveries`. Environment: `BENCH_BACKLOG` (20000 messages),
//! `BENCH_RATE` (500 messages/s), `BENCH_SECONDS` (10), `SKYHOOK_BENCH_DATABASE_URL` (a
//! Postgres URL allowed to create and drop databases), and any `SKYHOOK_SECTION__KEY` setting
//! (e.g. `SKYHOOK_DELIVERY__CONCURRENCY=128`) to try other settings.

#[path = "common/bench_database.rs"]
mod bench_database;
#[path = "common/stats.rs"]
mod stats;

use anyhow::{bail, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use bench_database::BenchDatabase;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use skyhook::clock::{Clock, SystemClock};
use skyhook::config::Settings;
use skyhook::dispatch::Dispatcher;
use skyhook::domain::message::{Message, MessageBody, ShipmentUpdate};
use skyhook::domain::{
    ApiKey, AwbNumber, EventFlight, KeyName, SigningSecret, SummaryStatus, TrackingEvent,
};
use skyhook::store::{Store, Work};
use sqlx::PgPool;
use stats::{env_or, percentile_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Subscriptions (one AWB and callback URL each); the last tenth answer slowly.
const SUBSCRIPTIONS: usize = 1000;
const SLOW_EVERY: usize = 10;
const SLOW_ANSWER: Duration = Duration::from_secs(2);
/// Messages in the backlog of the slow-receiver scenario: enough for the slow tenth to occupy
/// the dispatcher for a while, small enough to keep the run short.
const SLOW_BACKLOG: usize = 10_000;
/// Rows per INSERT when queuing a backlog.
const INSERT_CHUNK: usize = 1000;
/// Steady queuing happens in ticks of this length, one INSERT (a poll round's worth of
/// messages) each. Chosen when sqlx 0.9.0 left Nagle's algorithm on and every INSERT of large
/// bodies stalled ~40 ms over TCP; kept so the figures stay comparable.
const TICK: Duration = Duration::from_millis(100);
/// The longest any scenario may take to drain before the run is declared stuck.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skyhook::telemetry::install_crypto_provider();
    // Only the dispatcher's complaints (lost leases, failed records) are worth seeing here.
    tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .init();
    let backlog = env_or("BENCH_BACKLOG", 20_000)? as usize;
    let rate = env_or("BENCH_RATE", 500)? as usize;
    let seconds = env_or("BENCH_SECONDS", 10)?;
    let steady = rate * seconds as usize;

    let admin_url =
        std::env::var("SKYHOOK_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
    let db = BenchDatabase::create(&admin_url, "bench_deliveries")?;
    let config = Settings::load(None)?;
    let store = skyhook::store::connect(&db.url, config.database.max_connections).await?;
    store.migrate().await?;
    let pool = PgPool::connect(&db.url).await?;

    // Every scenario's messages get their own range of indexes, so one tally serves the run.
    let total = backlog + steady + steady + SLOW_BACKLOG;
    let tally = Arc::new(Tally::new(total));
    let receiver = start_receiver(tally.clone()).await?;
    let subscriptions = create_subscriptions(&store, &pool, &receiver).await?;
    let bench = Bench {
        settings: bench_settings(config)?,
        store,
        pool,
        tally,
        subscriptions,
    };

    let mut rows = Vec::new();
    let mut next = 0;
    let fast_only = |i: usize| i % (SUBSCRIPTIONS - SUBSCRIPTIONS / SLOW_EVERY);
    let mixed = |i: usize| i % SUBSCRIPTIONS;

    // The network's yardstick for A, measured just before it.
    let reference = reference_rate(&receiver, &bench, backlog).await?;
    let run = bench.backlog(next..next + backlog, fast_only).await?;
    let a = run.fast(&format!("A. backlog of {backlog}, fast receivers"));
    let a_ratio = a.per_second / reference;
    rows.push(a);
    next += backlog;

    let run = bench.steady(next..next + steady, rate, fast_only).await?;
    rows.push(run.fast(&format!(
        "B. steady {rate}/s for {seconds} s, fast receivers"
    )));
    next += steady;

    let run = bench.steady(next..next + steady, rate, mixed).await?;
    let name = format!("C. steady {rate}/s for {seconds} s, 10% slow (2 s)");
    rows.push(run.fast(&format!("{name}: fast")));
    rows.push(run.slow(&format!("{name}: slow")));
    next += steady;

    let run = bench.backlog(next..next + SLOW_BACKLOG, mixed).await?;
    let name = format!("D. backlog of {SLOW_BACKLOG}, 10% slow (2 s)");
    rows.push(run.fast(&format!("{name}: fast")));
    rows.push(run.slow(&format!("{name}: slow")));

    let d = &bench.settings.delivery;
    println!(
        "\ndelivery.concurrency = {}, per_host_concurrency = {}, batch_size = {}, \
         idle_wait = {}, database pool = {}; {SUBSCRIPTIONS} subscriptions\n",
        d.concurrency,
        d.per_host_concurrency,
        d.batch_size,
        humantime::format_duration(d.idle_wait.0),
        bench.settings.database.max_connections,
    );
    print_table(&rows);
    println!(
        "\nreference: a plain reqwest client POSTing {backlog} bodies like A's to the same \
         receiver, {} in flight: {reference:.0}/s; A / reference = {a_ratio:.2}",
        d.concurrency
    );
    drop(bench);
    drop(db);
    Ok(())
}

/// The default settings, with the local receiver allowed through the SSRF guard and the
/// (unused) email outbox kept out of the working tree. The one local receiver stands in for
/// the many hosts of many subscribers, so unless `SKYHOOK_DELIVERY__PER_HOST_CONCURRENCY` says
/// otherwise it gets the whole of `delivery.concurrency`: with the per-destination default
/// (16) every scenario would measure one host's share, and the slow tenth would hold up the
/// fast receivers only because they share its address.
fn bench_settings(mut settings: Settings) -> anyhow::Result<Settings> {
    settings
        .webhooks
        .allow_networks
        .0
        .push("127.0.0.0/8".parse()?);
    settings.email.outbox_dir = std::env::temp_dir().join("skyhook-bench-mail");
    if std::env::var_os("SKYHOOK_DELIVERY__PER_HOST_CONCURRENCY").is_none() {
        settings.delivery.per_host_concurrency = settings.delivery.concurrency;
    }
    Ok(settings)
}

/// A subscription as the benchmark queues messages for it.
struct Subscription {
    id: Uuid,
    awb: AwbNumber,
    url: String,
    slow: bool,
}

struct Bench {
    settings: Settings,
    store: Arc<dyn Store>,
    pool: PgPool,
    tally: Arc<Tally>,
    subscriptions: Vec<Subscription>,
}

/// What one scenario's messages went through.
struct Run {
    /// Latencies (arrival − created_at) at the fast and the slow receivers, sorted.
    fast: Vec<Duration>,
    slow: Vec<Duration>,
    /// From the dispatcher's start (backlog) or the first message queued (steady) to the last
    /// arrival of each kind.
    fast_elapsed: Duration,
    slow_elapsed: Duration,
    duplicates: u64,
    latency_meaningful: bool,
}

impl Bench {
    /// Queues every message, then starts the dispatcher and waits until all are delivered.
    async fn backlog(
        &self,
        range: std::ops::Range<usize>,
        subscription_of: impl Fn(usize) -> usize,
    ) -> anyhow::Result<Run> {
        self.reset().await?;
        let mut created = Vec::with_capacity(range.len());
        let indexes: Vec<usize> = range.clone().collect();
        for chunk in indexes.chunks(INSERT_CHUNK) {
            created.extend(self.enqueue(chunk, &subscription_of).await?);
        }
        let started_at = SystemClock.now();
        let (shutdown, dispatcher) = self.start_dispatcher()?;
        self.wait_delivered(range.len()).await?;
        shutdown.cancel();
        dispatcher.await?;
        Ok(self.collect(&range, &created, &subscription_of, started_at, false))
    }

    /// Starts the dispatcher, then queues `rate` messages a second (in ticks of [`TICK`])
    /// until the range is used up, and waits until all are delivered.
    async fn steady(
        &self,
        range: std::ops::Range<usize>,
        rate: usize,
        subscription_of: impl Fn(usize) -> usize,
    ) -> anyhow::Result<Run> {
        self.reset().await?;
        let (shutdown, dispatcher) = self.start_dispatcher()?;
        let per_tick = (rate * TICK.as_millis() as usize / 1000).max(1);
        let indexes: Vec<usize> = range.clone().collect();
        let mut created = Vec::with_capacity(range.len());
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started_at = SystemClock.now();
        for chunk in indexes.chunks(per_tick) {
            ticks.tick().await;
            created.extend(self.enqueue(chunk, &subscription_of).await?);
        }
        self.wait_delivered(range.len()).await?;
        shutdown.cancel();
        dispatcher.await?;
        Ok(self.collect(&range, &created, &subscription_of, started_at, true))
    }

    /// An empty outbox, so each scenario starts from the same state.
    async fn reset(&self) -> anyhow::Result<()> {
        sqlx::query("TRUNCATE deliveries")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn start_dispatcher(&self) -> anyhow::Result<(CancellationToken, tokio::task::JoinHandle<()>)> {
        let dispatcher =
            Dispatcher::from_settings(self.store.clone(), Arc::new(SystemClock), &self.settings)?;
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(dispatcher.run(shutdown.clone()));
        Ok((shutdown, handle))
    }

    /// Inserts one outbox row per index in one statement, as a poll round does, and wakes the
    /// dispatcher as that round's commit would (the INSERT bypasses the store, which is what
    /// wakes it); returns the `created_at` they got.
    async fn enqueue(
        &self,
        indexes: &[usize],
        subscription_of: &impl Fn(usize) -> usize,
    ) -> anyhow::Result<Vec<DateTime<Utc>>> {
        let now = SystemClock.now();
        let mut message_ids = Vec::with_capacity(indexes.len());
        let mut subscription_ids = Vec::with_capacity(indexes.len());
        let mut targets = Vec::with_capacity(indexes.len());
        let mut sequences = Vec::with_capacity(indexes.len());
        let mut bodies = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let subscription = &self.subscriptions[subscription_of(index)];
            let message_id = message_id(index);
            bodies.push(tracking_body(
                &message_id,
                index as u64 + 1,
                subscription,
                now,
            )?);
            message_ids.push(message_id);
            subscription_ids.push(subscription.id);
            targets.push(subscription.url.clone());
            sequences.push(index as i64 + 1);
        }
        sqlx::query(
            "INSERT INTO deliveries (id, message_id, subscription_id, type, channel, target, \
                 sequence, body, next_attempt_at, created_at) \
             SELECT gen_random_uuid(), u.m, u.s, 'tracking.updated', 'webhook', u.t, u.q, \
                 u.b, $1, $1 \
             FROM unnest($2::text[], $3::uuid[], $4::text[], $5::bigint[], $6::text[]) \
                 AS u(m, s, t, q, b)",
        )
        .bind(now)
        .bind(message_ids)
        .bind(subscription_ids)
        .bind(targets)
        .bind(sequences)
        .bind(bodies)
        .execute(&self.pool)
        .await?;
        self.store.wakeups().wake(Work::Deliveries);
        Ok(vec![now; indexes.len()])
    }

    /// Waits until the receiver has seen every message of the scenario (cheap to watch), then
    /// until the outbox shows them all delivered (a table scan, so watched only at the end).
    async fn wait_delivered(&self, expected: usize) -> anyhow::Result<()> {
        let give_up = Instant::now() + DRAIN_LIMIT;
        while self.tally.received.load(Ordering::Relaxed) < expected as u64 {
            if Instant::now() > give_up {
                bail!(
                    "the receiver got only {} of {expected} messages after {DRAIN_LIMIT:?}",
                    self.tally.received.load(Ordering::Relaxed)
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            let (delivered, other): (i64, i64) = sqlx::query_as(
                "SELECT count(*) FILTER (WHERE status = 'delivered'), \
                        count(*) FILTER (WHERE status = 'failed' OR attempts > 1) \
                 FROM deliveries",
            )
            .fetch_one(&self.pool)
            .await?;
            ensure!(
                other == 0,
                "{other} messages failed or were retried; the receiver only answers 200"
            );
            if delivered as usize >= expected {
                return Ok(());
            }
            if Instant::now() > give_up {
                bail!("only {delivered} of {expected} messages delivered after {DRAIN_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn collect(
        &self,
        range: &std::ops::Range<usize>,
        created: &[DateTime<Utc>],
        subscription_of: &impl Fn(usize) -> usize,
        started_at: DateTime<Utc>,
        latency_meaningful: bool,
    ) -> Run {
        let mut run = Run {
            fast: Vec::new(),
            slow: Vec::new(),
            fast_elapsed: Duration::ZERO,
            slow_elapsed: Duration::ZERO,
            duplicates: 0,
            latency_meaningful,
        };
        for (index, created_at) in range.clone().zip(created) {
            let arrived = self
                .tally
                .arrived(index)
                .expect("every message was delivered");
            let latency = (arrived - *created_at).to_std().unwrap_or_default();
            let elapsed = (arrived - started_at).to_std().unwrap_or_default();
            let (latencies, last) = if self.subscriptions[subscription_of(index)].slow {
                (&mut run.slow, &mut run.slow_elapsed)
            } else {
                (&mut run.fast, &mut run.fast_elapsed)
            };
            latencies.push(latency);
            *last = (*last).max(elapsed);
        }
        run.duplicates = self.tally.duplicates.swap(0, Ordering::Relaxed);
        self.tally.received.store(0, Ordering::Relaxed);
        run.fast.sort_unstable();
        run.slow.sort_unstable();
        run
    }
}

impl Run {
    fn fast(&self, name: &str) -> Row {
        self.row(name, &self.fast, self.fast_elapsed)
    }

    fn slow(&self, name: &str) -> Row {
        self.row(name, &self.slow, self.slow_elapsed)
    }

    fn row(&self, name: &str, latencies: &[Duration], elapsed: Duration) -> Row {
        let latency = |q| {
            self.latency_meaningful
                .then(|| percentile_ms(latencies, q))
                .flatten()
        };
        Row {
            run: name.to_owned(),
            messages: latencies.len(),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_ms: latency(0.50),
            p99_ms: latency(0.99),
            max_ms: latency(1.0),
            duplicates: self.duplicates,
        }
    }
}

/// The receiver's record: when each message first arrived, in microseconds since the epoch
/// (0 = not yet), how many arrived in this scenario and how many arrived more than once.
struct Tally {
    arrivals: Vec<AtomicI64>,
    received: AtomicU64,
    duplicates: AtomicU64,
}

impl Tally {
    fn new(messages: usize) -> Self {
        Self {
            arrivals: (0..messages).map(|_| AtomicI64::new(0)).collect(),
            received: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        }
    }

    fn record(&self, headers: &HeaderMap) {
        let now = Utc::now().timestamp_micros();
        let index = headers
            .get("webhook-id")
            .and_then(|id| id.to_str().ok())
            .and_then(|id| id.strip_prefix("msg_bench_"))
            .and_then(|n| n.parse::<usize>().ok());
        let Some(slot) = index.and_then(|i| self.arrivals.get(i)) else {
            eprintln!("the receiver got a message it did not expect: {headers:?}");
            return;
        };
        if slot
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.received.fetch_add(1, Ordering::Relaxed);
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn arrived(&self, index: usize) -> Option<DateTime<Utc>> {
        match self.arrivals[index].load(Ordering::Relaxed) {
            0 => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }
}

/// Starts the receiver; returns its base URL. `/fast/…` answers at once, `/slow/…` after
/// [`SLOW_ANSWER`]; both note the arrival first.
async fn start_receiver(tally: Arc<Tally>) -> anyhow::Result<String> {
    async fn fast(State(tally): State<Arc<Tally>>, headers: HeaderMap, _body: Bytes) {
        tally.record(&headers);
    }
    async fn slow(State(tally): State<Arc<Tally>>, headers: HeaderMap, _body: Bytes) {
        tally.record(&headers);
        tokio::time::sleep(SLOW_ANSWER).await;
    }
    let app = Router::new()
        .route("/reference", post(|_body: Bytes| async {}))
        .route("/fast/{n}", post(fast))
        .route("/slow/{n}", post(slow))
        .with_state(tally);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// POSTs per second of a plain reqwest client (pooled, like the dispatcher's) sending
/// `messages` ~2 KB tracking bodies to the receiver with `delivery.concurrency` in flight: what
/// the network and the receiver allow, without Skyhook.
async fn reference_rate(receiver: &str, bench: &Bench, messages: usize) -> anyhow::Result<f64> {
    use futures::StreamExt;
    let client = reqwest::Client::new();
    let url = format!("{receiver}/reference");
    let body = tracking_body(
        "msg_reference",
        1,
        &bench.subscriptions[0],
        SystemClock.now(),
    )?;
    let in_flight = bench.settings.delivery.concurrency as usize;
    let started = Instant::now();
    let failures = futures::stream::iter(0..messages)
        .map(|n| {
            client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", format!("msg_reference_{n}"))
                .body(body.clone())
                .send()
        })
        .buffer_unordered(in_flight)
        .filter(|sent| {
            let failed = !matches!(sent, Ok(response) if response.status().is_success());
            async move { failed }
        })
        .count()
        .await;
    let elapsed = started.elapsed();
    ensure!(failures == 0, "{failures} reference POSTs failed");
    Ok(messages as f64 / elapsed.as_secs_f64())
}

/// One API key and [`SUBSCRIPTIONS`] active AWB subscriptions with callback URLs on the
/// receiver, inserted in one statement; the last tenth point at its slow path.
async fn create_subscriptions(
    store: &Arc<dyn Store>,
    pool: &PgPool,
    receiver: &str,
) -> anyhow::Result<Vec<Subscription>> {
    let now = SystemClock.now();
    let key = store
        .create_api_key(&KeyName::parse("bench")?, &ApiKey::generate().hash(), now)
        .await?;
    let subscriptions: Vec<Subscription> = (0..SUBSCRIPTIONS)
        .map(|n| {
            let slow = n >= SUBSCRIPTIONS - SUBSCRIPTIONS / SLOW_EVERY;
            let serial = 1_000_000 + n;
            let awb = AwbNumber::parse(&format!("020-{serial:07}{}", serial % 7))?;
            let path = if slow { "slow" } else { "fast" };
            Ok(Subscription {
                id: Uuid::new_v4(),
                awb,
                url: format!("{receiver}/{path}/{n}"),
                slow,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    sqlx::query(
        "INSERT INTO subscriptions (id, tenant_id, target_key, awb, url, states, status, \
             signing_secret, created_at, updated_at, expires_at) \
         SELECT u.id, $1, 'awb:' || u.awb, u.awb, u.url, '[\"*\"]', 'active', $2, $3, $3, \
             $3 + interval '21 days' \
         FROM unnest($4::uuid[], $5::text[], $6::text[]) AS u(id, awb, url)",
    )
    .bind(key.id.as_uuid())
    .bind(SigningSecret::generate().expose())
    .bind(now)
    .bind(subscriptions.iter().map(|s| s.id).collect::<Vec<_>>())
    .bind(
        subscriptions
            .iter()
            .map(|s| s.awb.as_str().to_owned())
            .collect::<Vec<_>>(),
    )
    .bind(
        subscriptions
            .iter()
            .map(|s| s.url.clone())
            .collect::<Vec<_>>(),
    )
    .execute(pool)
    .await?;
    Ok(subscriptions)
}

fn message_id(index: usize) -> String {
    format!("msg_bench_{index}")
}

/// A `tracking.updated` body as the poller renders it: five known milestones and one new
/// departure, about 2 KB of JSON.
fn tracking_body(
    message_id: &str,
    sequence: u64,
    subscription: &Subscription,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let at = |hours: i64| -> DateTime<FixedOffset> {
        (now - TimeDelta::hours(48) + TimeDelta::hours(hours)).fixed_offset()
    };
    let event =
        |code: &str, description: &str, hours: i64, location: &str, flight: bool| TrackingEvent {
            code: code.to_owned(),
            description: Some(description.to_owned()),
            event_date: Some(at(hours)),
            event_location: Some(location.to_owned()),
            is_planned: false,
            pieces: Some(12),
            weight: Some(1981.0),
            volume: Some(11.4),
            flight: flight.then(|| EventFlight {
                number: Some("LH8400".to_owned()),
                origin: Some("FRA".to_owned()),
                destination: Some("ORD".to_owned()),
                scheduled_departure: Some(at(30)),
                actual_departure: Some(at(31)),
                scheduled_arrival: Some(at(40)),
                estimated_arrival: Some(at(40)),
                ..EventFlight::default()
            }),
            event_ulds: Vec::new(),
            additional_information: None,
        };
    let old = vec![
        event("BKD", "Booked", 0, "FRA", false),
        event("RCS", "Received from shipper", 6, "FRA", false),
        event("PRE", "Prepared for loading", 20, "FRA", true),
        event("MAN", "Manifested", 26, "FRA", true),
    ];
    let new = vec![event("DEP", "Departed", 31, "FRA", true)];
    let message = Message {
        id: message_id.to_owned(),
        subscription_id: subscription.id.into(),
        sequence,
        reference: Some(format!("bench-{}", subscription.awb.as_str())),
        timestamp: now,
        body: MessageBody::TrackingUpdated(ShipmentUpdate {
            awb: subscription.awb.clone(),
            summary: skyhook::domain::ShipmentSummary {
                origin: Some("FRA".to_owned()),
                destination: Some("ORD".to_owned()),
                pieces: Some(12),
                weight: Some(1981.0),
                volume: Some(11.4),
                status: SummaryStatus::InTransit,
            },
            events: old.iter().chain(&new).cloned().collect(),
            new_events: new,
            old_events: old,
        }),
    };
    Ok(serde_json::to_string(&message)?)
}

/// One line of the final table.
struct Row {
    run: String,
    messages: usize,
    per_second: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    duplicates: u64,
}

fn print_table(rows: &[Row]) {
    let cell = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"));
    println!("| run | messages | deliveries/s | p50 ms | p99 ms | max ms | duplicates |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            row.run,
            row.messages,
            row.per_second,
            cell(row.p50_ms),
            cell(row.p99_ms),
            cell(row.max_ms),
            row.duplicates,
        );
    }
}
