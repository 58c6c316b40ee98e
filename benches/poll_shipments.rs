//! Poller throughput: 10,000 active AWB subscriptions polled by the real [`Poller`] (real
//! carrier registry, real CargoAI adapter) against a local fake CargoAI that answers at once,
//! on SQLite and on a fresh Postgres database. Two rounds: the first poll of every shipment
//! (every event is new) and a steady-state round where every answer is the same as before
//! (nothing is new: the common case).
//!
//! Reported per round: shipments polled per second; CPU time per shipment of the bench process
//! (poller, store client and, for SQLite, the database engine), of the fake carrier (its own
//! thread in the same process) and of the Postgres backends serving the run; database round
//! trips and SQL statements per shipment; the peak RSS of the bench process while polling.
//!
//! Each run is a child process of its own, so its peak RSS is its own. Round trips and
//! statements are counted in a second, untimed run per backend, because counting costs CPU
//! (see `poll_shipments/counting.rs`).
//!
//! Run with `cargo bench --bench poll_shipments`. Environment: `BENCH_SHIPMENTS` (10000),
//! `BENCH_CARRIER_CONCURRENCY` (64, requests in flight to the fake carrier),
//! `BENCH_BACKENDS` (`sqlite,postgres`), `SKYHOOK_BENCH_DATABASE_URL` (a Postgres URL allowed
//! to create and drop databases; Postgres is skipped when it is unreachable),
//! `BENCH_QUIET_WAIT` (60: seconds to wait, before each timed run, for the machine to be
//! mostly idle; the table shows how much CPU other processes took anyway). Skyhook's own
//! `SKYHOOK_<SECTION>__<KEY>` variables apply too, e.g. `SKYHOOK_POLLER__BATCH_SIZE=200` or
//! `SKYHOOK_DATABASE__MAX_CONNECTIONS=20`.

// A bench target's root resolves modules next to itself; these live in a folder of its own.
#[path = "poll_shipments/counting.rs"]
mod counting;
#[path = "poll_shipments/fake_cargoai.rs"]
mod fake_cargoai;
#[path = "poll_shipments/measure.rs"]
mod measure;

#[path = "common/bench_database.rs"]
mod bench_database;

use anyhow::{Context, bail, ensure};
use bench_database::BenchDatabase;
use chrono::{DateTime, TimeDelta, Utc};
use fake_cargoai::FakeCargoAi;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use skyhook::clock::{Clock, ManualClock};
use skyhook::config::{LogFormat, Secret, Settings};
use skyhook::domain::{
    ApiKey, AwbNumber, KeyName, RequestedChannels, SigningSecret, StateFilter, Target,
};
use skyhook::ingest::shipments::Carriers;
use skyhook::ingest::shipments::Poller;
use skyhook::store::{NewSubscription, Store};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Set on a child process: the JSON of the [`RunSpec`] it is to run.
const CHILD_ENV: &str = "POLL_BENCH_RUN";
/// Subscriptions created at once while seeding.
const SEED_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "Postgres",
        }
    }
}

/// One child run: a fresh database, seeded, polled twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunSpec {
    backend: Backend,
    database_url: String,
    /// Count round trips and statements (untimed) instead of measuring time.
    count: bool,
    shipments: u64,
    carrier_concurrency: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunReport {
    batch_size: u32,
    max_connections: u32,
    seed_seconds: f64,
    rounds: Vec<RoundReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoundReport {
    name: String,
    shipments: u64,
    seconds: f64,
    /// CPU of the whole bench process, the fake carrier's thread included.
    process_cpu: f64,
    fake_carrier_cpu: f64,
    postgres_cpu: Option<f64>,
    /// Share of all cores busy during the round, whatever ran on them.
    machine_busy: f64,
    /// Share of all cores taken by other processes (not the bench, not its Postgres backends).
    others_busy: f64,
    peak_rss: u64,
    round_trips: Option<u64>,
    connections_opened: Option<u64>,
    statements: BTreeMap<String, counting::Statements>,
}

fn main() -> anyhow::Result<()> {
    match std::env::var(CHILD_ENV) {
        Ok(spec) => child(serde_json::from_str(&spec).context("bad run spec")?),
        Err(_) => parent(),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent: one child per backend and kind of run, then the table.

fn parent() -> anyhow::Result<()> {
    let shipments = env_or("BENCH_SHIPMENTS", 10_000)?;
    let carrier_concurrency = u32::try_from(env_or("BENCH_CARRIER_CONCURRENCY", 64)?)?;
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let spec = |backend, database_url: &str, count| RunSpec {
        backend,
        database_url: database_url.to_owned(),
        count,
        shipments,
        carrier_concurrency,
    };
    let mut results = Vec::new();
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        match backend {
            "sqlite" => {
                let (timed, counted) = (tempfile::tempdir()?, tempfile::tempdir()?);
                let url =
                    |dir: &tempfile::TempDir| format!("sqlite://{}/bench.db", dir.path().display());
                let timed = run_child(&spec(Backend::Sqlite, &url(&timed), false))?;
                let counted = run_child(&spec(Backend::Sqlite, &url(&counted), true))?;
                results.push((Backend::Sqlite, timed, counted));
            }
            "postgres" => {
                let admin = std::env::var("SKYHOOK_BENCH_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
                let timed_db = match BenchDatabase::create(&admin, "pollbench_timed") {
                    Ok(db) => db,
                    Err(err) => {
                        eprintln!("skipping Postgres: {err:#}");
                        continue;
                    }
                };
                let timed = run_child(&spec(Backend::Postgres, &timed_db.url, false))?;
                drop(timed_db);
                let counted_db = BenchDatabase::create(&admin, "pollbench_counted")?;
                let counted = run_child(&spec(Backend::Postgres, &counted_db.url, true))?;
                results.push((Backend::Postgres, timed, counted));
            }
            other => bail!("BENCH_BACKENDS: unknown backend `{other}` (sqlite, postgres)"),
        }
    }
    print_results(shipments, carrier_concurrency, &results);
    Ok(())
}

fn run_child(spec: &RunSpec) -> anyhow::Result<RunReport> {
    let kind = if spec.count {
        "counting run"
    } else {
        "timed run"
    };
    eprintln!("\n== {}, {kind} ==", spec.backend.name());
    if !spec.count {
        let patience = Duration::from_secs(env_or("BENCH_QUIET_WAIT", 60)?);
        let busy = measure::wait_for_quiet(patience)?;
        eprintln!("machine {:.0}% busy before the run", busy * 100.0);
    }
    let output = Command::new(std::env::current_exe()?)
        .env(CHILD_ENV, serde_json::to_string(spec)?)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start the bench child process")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "{} {kind} failed ({}): {stdout}",
        spec.backend.name(),
        output.status
    );
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .with_context(|| format!("no RESULT line from the child:\n{stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

fn print_results(
    shipments: u64,
    carrier_concurrency: u32,
    results: &[(Backend, RunReport, RunReport)],
) {
    let Some((_, first, _)) = results.first() else {
        println!("nothing was run");
        return;
    };
    println!(
        "\n{shipments} shipments; poller.batch_size = {}, database.max_connections = {}, \
         cargoai concurrency = {carrier_concurrency} (no rate limit); the fake carrier and the \
         poller share one process and its peak RSS\n",
        first.batch_size, first.max_connections
    );
    println!(
        "| backend | round | shipments/s | CPU µs/shipment: bench process | of which fake carrier \
         | Postgres backends | DB round trips/shipment | SQL statements/shipment | peak RSS MB \
         | machine busy | of which others |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (backend, timed, counted) in results {
        for (round, counts) in timed.rounds.iter().zip(&counted.rounds) {
            let n = round.shipments as f64;
            let per = |seconds: f64| format!("{:.0}", seconds * 1e6 / n);
            let statements: u64 = counts.statements.values().map(|s| s.count).sum();
            println!(
                "| {} | {} | {:.0} | {} | {} | {} | {} | {:.2} | {:.0} | {:.0}% | {:.0}% |",
                backend.name(),
                round.name,
                n / round.seconds,
                per(round.process_cpu),
                per(round.fake_carrier_cpu),
                round.postgres_cpu.map_or_else(|| "–".to_owned(), per),
                counts.round_trips.map_or_else(
                    || "n/a (in-process)".to_owned(),
                    |trips| format!("{:.2}", trips as f64 / counts.shipments as f64)
                ),
                statements as f64 / counts.shipments as f64,
                round.peak_rss as f64 / (1024.0 * 1024.0),
                round.machine_busy * 100.0,
                round.others_busy * 100.0,
            );
        }
    }
    println!();
    for (backend, timed, counted) in results {
        println!(
            "{}: seeding {} subscriptions took {:.1} s (not measured)",
            backend.name(),
            shipments,
            timed.seed_seconds
        );
        for counts in &counted.rounds {
            let n = counts.shipments as f64;
            let kinds: Vec<String> = counts
                .statements
                .iter()
                .map(|(kind, s)| {
                    format!(
                        "{kind} {:.2} ({:.2} ms each)",
                        s.count as f64 / n,
                        s.seconds * 1e3 / s.count as f64
                    )
                })
                .collect();
            let connections = counts
                .connections_opened
                .map(|c| format!("; {c} connections opened"))
                .unwrap_or_default();
            println!(
                "  {}: statements per shipment by kind (client-side time): {}{connections}",
                counts.name,
                kinds.join(", ")
            );
        }
    }
    println!(
        "\nRound trips: Postgres frontend `Sync` + `Query` messages seen by a counting proxy \
         (each is a wait for the server's ReadyForQuery); SQLite runs in-process. Statements: \
         sqlx's statement log, which leaves out the pool's liveness ping and BEGIN (and COMMIT \
         on SQLite)."
    );
}

// ---------------------------------------------------------------------------------------------
// The child: one run, reported as a `RESULT {json}` line on stdout.

fn child(spec: RunSpec) -> anyhow::Result<()> {
    // The same runtime `skyhook serve` gets from `#[tokio::main]`: one worker per core.
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(run(&spec))?;
    println!("RESULT {}", serde_json::to_string(&report)?);
    Ok(())
}

async fn run(spec: &RunSpec) -> anyhow::Result<RunReport> {
    skyhook::telemetry::install_crypto_provider();
    if spec.count {
        counting::count_statements()?;
    } else {
        // As `skyhook serve` runs: logging at the default level, metrics recorded.
        skyhook::telemetry::init_tracing(LogFormat::Pretty, "info");
    }
    let _metrics = skyhook::telemetry::metrics_handle();

    let clock = Arc::new(ManualClock::new(Utc::now()));
    let fake = FakeCargoAi::start(clock.now())?;
    let mut settings = Settings::load(None)?;
    settings.database.url = match (spec.backend, spec.count) {
        (Backend::Postgres, true) => counting::proxy(&spec.database_url).await?,
        _ => spec.database_url.clone(),
    };
    let cargoai = &mut settings.carriers.cargoai;
    cargoai.enabled = true;
    cargoai.base_url = fake.base_url.parse()?;
    cargoai.api_key = Secret::new(fake_cargoai::API_KEY);
    cargoai.rate_limit = 1e9;
    cargoai.concurrency = spec.carrier_concurrency;
    settings.validate()?;

    let store = skyhook::app::open_store(&settings).await?;
    let seeding = Instant::now();
    seed(&store, clock.now(), spec.shipments).await?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} subscriptions in {seed_seconds:.1} s",
        spec.shipments
    );

    // Built as `Application::build_with` builds them.
    let http = reqwest::Client::builder()
        .user_agent(concat!("skyhook/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()?;
    let http = skyhook::ingest::SourceHttp::new(http, settings.carriers.max_response_bytes);
    let carriers = Carriers::from_settings(&settings.carriers, http, clock.clone())?;
    let poller = Poller::new(
        store.clone(),
        store.clone(),
        Arc::new(carriers),
        clock.clone(),
        settings.poller.clone(),
    );
    let mut checker = Checker::connect(spec).await?;
    checker.analyze().await?;

    let mut rounds = Vec::new();
    for name in ["first poll", "steady state"] {
        let report = round(name, &poller, &fake, &mut checker, spec.count).await?;
        // Proof that the round did the work it is credited with.
        ensure!(
            report.shipments == spec.shipments,
            "{name}: polled {} of {} shipments",
            report.shipments,
            spec.shipments
        );
        let recorded = checker.recorded_shipments().await?;
        ensure!(
            recorded == spec.shipments,
            "{name}: only {recorded} shipments were recorded without error"
        );
        let events = checker.live_events().await?;
        let expected = spec.shipments * fake_cargoai::EVENTS_PER_ANSWER as u64;
        ensure!(
            events == expected,
            "{name}: {events} events stored, expected {expected}"
        );
        eprintln!(
            "{name}: {} shipments in {:.2} s ({:.0}/s), {} carrier requests so far",
            report.shipments,
            report.seconds,
            report.shipments as f64 / report.seconds,
            fake.requests()
        );
        rounds.push(report);
        // Everything is due again, and the carrier still says the same.
        clock.advance(TimeDelta::days(1));
    }
    Ok(RunReport {
        batch_size: settings.poller.batch_size,
        max_connections: settings.database.max_connections,
        seed_seconds,
        rounds,
    })
}

/// Polls until nothing is due, measuring as it goes.
async fn round(
    name: &str,
    poller: &Arc<Poller>,
    fake: &FakeCargoAi,
    checker: &mut Checker,
    count: bool,
) -> anyhow::Result<RoundReport> {
    let pids = checker.backend_pids().await?;
    let postgres_before = measure::processes_cpu(&pids);
    measure::reset_peak_rss()?;
    let machine_before = measure::MachineCpu::now()?;
    let process_before = measure::process_cpu()?;
    let fake_before = measure::thread_cpu(fake.thread_id)?;
    let trips_before = counting::ROUND_TRIPS.load(Ordering::Relaxed);
    let connections_before = counting::CONNECTIONS.load(Ordering::Relaxed);
    let statements_before = counting::statements_snapshot();
    let started = Instant::now();

    let mut shipments = 0;
    loop {
        let claimed = poller.clone().poll_once().await?;
        if claimed == 0 {
            break;
        }
        shipments += claimed as u64;
    }

    let seconds = started.elapsed().as_secs_f64();
    let process_cpu = measure::process_cpu()?.saturating_sub(process_before);
    let fake_carrier_cpu = measure::thread_cpu(fake.thread_id)?.saturating_sub(fake_before);
    let machine_after = measure::MachineCpu::now()?;
    let machine_busy = machine_after.busy_since(&machine_before);
    let peak_rss = measure::peak_rss()?;
    let trips = counting::ROUND_TRIPS.load(Ordering::Relaxed) - trips_before;
    let connections = counting::CONNECTIONS.load(Ordering::Relaxed) - connections_before;
    let mut statements = counting::statements_snapshot();
    for (kind, counted) in &mut statements {
        let before = statements_before.get(kind).copied().unwrap_or_default();
        counted.count -= before.count;
        counted.seconds -= before.seconds;
    }
    statements.retain(|_, counted| counted.count > 0);
    let mut all_pids = pids;
    all_pids.extend(checker.backend_pids().await?);
    let postgres_cpu = match checker {
        Checker::Postgres(_) => Some(
            measure::processes_cpu_delta(&postgres_before, &measure::processes_cpu(&all_pids))
                .as_secs_f64(),
        ),
        Checker::Sqlite(_) => None,
    };
    let ours = process_cpu.as_secs_f64() + postgres_cpu.unwrap_or(0.0);
    let others_busy = (machine_after.busy_time_since(&machine_before).as_secs_f64() - ours)
        .max(0.0)
        / machine_after
            .total_time_since(&machine_before)
            .as_secs_f64()
            .max(f64::MIN_POSITIVE);
    let proxied = count && checker.is_postgres();
    Ok(RoundReport {
        name: name.to_owned(),
        shipments,
        seconds,
        process_cpu: process_cpu.as_secs_f64(),
        fake_carrier_cpu: fake_carrier_cpu.as_secs_f64(),
        postgres_cpu,
        machine_busy,
        others_busy,
        peak_rss,
        round_trips: proxied.then_some(trips),
        connections_opened: proxied.then_some(connections),
        statements,
    })
}

/// `176-SSSSSSSC`: Emirates, served by CargoAI (its `*` prefixes); C is the serial mod 7.
fn awb(n: u64) -> anyhow::Result<AwbNumber> {
    let serial = 1_000_000 + n;
    ensure!(
        serial < 10_000_000,
        "too many shipments for seven serial digits"
    );
    Ok(AwbNumber::parse(&format!("176-{serial:07}{}", serial % 7))?)
}

/// One key and one subscription per AWB, through the store as the API would make them.
async fn seed(store: &Arc<dyn Store>, now: DateTime<Utc>, shipments: u64) -> anyhow::Result<()> {
    let tenant = store
        .create_api_key(&KeyName::parse("bench")?, &ApiKey::generate().hash(), now)
        .await?
        .id;
    futures::stream::iter(0..shipments)
        .map(|n| {
            let store = store.clone();
            async move {
                let url = format!("https://tms.example.com/hooks/{n}");
                store
                    .create_subscription(NewSubscription {
                        id: skyhook::domain::SubscriptionId::new_random(),
                        tenant,
                        target: Target::Awb(awb(n)?),
                        flight_id: None,
                        channels: RequestedChannels::parse(Some(&url), &[])?,
                        states: StateFilter::All,
                        reference: None,
                        headers: Default::default(),
                        signing_secret: SigningSecret::generate(),
                        created_at: now,
                        expires_at: now + TimeDelta::days(21),
                    })
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<()>()
        .await
}

/// A connection of its own (never through the counting proxy) to check results and find the
/// Postgres backends serving the run.
enum Checker {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Checker {
    async fn connect(spec: &RunSpec) -> anyhow::Result<Self> {
        Ok(match spec.backend {
            Backend::Postgres => {
                Self::Postgres(sqlx::PgConnection::connect(&spec.database_url).await?)
            }
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&spec.database_url)?
                    .read_only(true);
                Self::Sqlite(sqlx::SqliteConnection::connect_with(&options).await?)
            }
        })
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    async fn backend_pids(&mut self) -> anyhow::Result<Vec<i32>> {
        match self {
            Self::Postgres(conn) => Ok(sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_all(conn)
            .await?),
            Self::Sqlite(_) => Ok(Vec::new()),
        }
    }

    /// Gives Postgres the statistics autovacuum would have gathered on a server that has been
    /// running: it analyses a table once a tenth of it has changed, a minute or so later, and
    /// the seeding has just filled empty tables. Without statistics the claim's plan reads
    /// every active subscription for each batch (70–250 ms a claim at 10,000, measured).
    /// SQLite gathers none unless asked, so it is left as a server would have it.
    async fn analyze(&mut self) -> anyhow::Result<()> {
        if let Self::Postgres(conn) = self {
            sqlx::query("ANALYZE").execute(conn).await?;
        }
        Ok(())
    }

    /// Shipments polled, recorded without error and released.
    async fn recorded_shipments(&mut self) -> anyhow::Result<u64> {
        self.count(
            "SELECT count(*) FROM shipments \
             WHERE last_checked_at IS NOT NULL AND last_error IS NULL AND lease_owner IS NULL",
        )
        .await
    }

    async fn live_events(&mut self) -> anyhow::Result<u64> {
        self.count("SELECT count(*) FROM events WHERE withdrawn_at IS NULL")
            .await
    }

    async fn count(&mut self, sql: &'static str) -> anyhow::Result<u64> {
        let count: i64 = match self {
            Self::Postgres(conn) => sqlx::query_scalar(sql).fetch_one(conn).await?,
            Self::Sqlite(conn) => sqlx::query_scalar(sql).fetch_one(conn).await?,
        };
        Ok(u64::try_from(count)?)
    }
}

fn env_or(name: &str, default: u64) -> anyhow::Result<u64> {
    std::env::var(name).map_or(Ok(default), |value| {
        value
            .parse()
            .with_context(|| format!("{name}=`{value}` is not a count"))
    })
}
