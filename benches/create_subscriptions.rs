//! Throughput and latency of `POST /v1/subscriptions` against the release server on SQLite and
//! Postgres, next to pgbench's raw single-row insert rate on the same Postgres, so the HTTP
//! number has a yardstick; then bulk subscribing (`bulk.rs`): the batch endpoint and
//! `skyhook import` on both backends, against the same pgbench rate.
//!
//! Run with `cargo bench --bench create_subscriptions`. Environment: `BENCH_SECONDS` (10),
//! `BENCH_CONCURRENCY` (32), `BENCH_BULK_AWBS` (100000), `BENCH_BULK_IN_FLIGHT` (2),
//! `SKYHOOK_BENCH_DATABASE_URL` (a Postgres URL allowed to create and drop databases; Postgres
//! is skipped when it is unreachable).

#[path = "create_subscriptions/bulk.rs"]
mod bulk;

#[path = "common/bench_database.rs"]
mod bench_database;
#[path = "common/server.rs"]
mod server;
#[path = "common/stats.rs"]
mod stats;

use anyhow::{Context, ensure};
use bench_database::{BenchDatabase, psql};
use server::{Server, create_key};
use stats::{env_or, percentile_ms};
use std::io::Write;
use std::process::Command as StdCommand;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const WARMUP: Duration = Duration::from_secs(2);
/// Callback URLs: an IP literal, so the SSRF guard's subscribe-time check resolves nothing (a
/// host name is looked up on every create, and here `tms.example.com` waited out the guard's
/// 5 s resolve timeout); allowed through `webhooks.allow_networks`. Nothing listens there,
/// and nothing is sent: the poller is off, so no message is ever queued.
const CALLBACK_BASE: &str = "http://127.0.0.1:9/hooks";

/// Shared by every client (and both backends) so no AWB is ever subscribed twice.
static NEXT_AWB: AtomicU64 = AtomicU64::new(0);

struct Config {
    duration: Duration,
    concurrency: usize,
}

/// One line of the final table; pgbench reports no latency percentiles, errors or server.
struct Row {
    run: String,
    per_second: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    errors: Option<u64>,
    /// The server's, in bytes.
    peak_rss: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("a rustls crypto provider is already installed"))?;
    let config = Config {
        duration: Duration::from_secs(env_or("BENCH_SECONDS", 10)?),
        concurrency: env_or("BENCH_CONCURRENCY", 32)?.try_into()?,
    };
    let mut rows = Vec::new();

    let dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
    rows.push(bench_http("HTTP create, SQLite", &sqlite_url, &config).await?);

    let admin_url =
        std::env::var("SKYHOOK_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
    let mut ratio = None;
    let mut pgbench = None;
    match BenchDatabase::create(&admin_url, "bench") {
        Err(err) => eprintln!("skipping Postgres: {err:#}"),
        Ok(db) => {
            let http = bench_http("HTTP create, Postgres", &db.url, &config).await?;
            // After the server is gone, so pgbench has the machine to itself as well.
            let tps = pgbench_insert_tps(&db, &config)?;
            pgbench = Some(tps);
            ratio = Some(http.per_second / tps);
            rows.push(http);
            rows.push(Row {
                run: "pgbench single-row INSERT".into(),
                per_second: tps,
                p50_ms: None,
                p99_ms: None,
                errors: None,
                peak_rss: None,
            });
        }
    }

    println!(
        "\n{} clients, {} s per run\n",
        config.concurrency,
        config.duration.as_secs()
    );
    print_table(&rows);
    if let Some(ratio) = ratio {
        println!("\nPostgres HTTP create rate / pgbench insert rate: {ratio:.3}");
    }
    bench_bulk(&dir, &admin_url, pgbench).await
}

/// The batch endpoint and `skyhook import`, each on a fresh database of each backend.
async fn bench_bulk(
    dir: &tempfile::TempDir,
    admin_url: &str,
    pgbench: Option<f64>,
) -> anyhow::Result<()> {
    let count = env_or("BENCH_BULK_AWBS", 100_000)?;
    let in_flight: usize = env_or("BENCH_BULK_IN_FLIGHT", 2)?.try_into()?;
    let rows = bulk::rows(count);
    let sqlite = |name: &str| format!("sqlite://{}/{name}.db", dir.path().display());
    let mut lines = vec![(
        "batch endpoint, SQLite".to_owned(),
        bulk::through_batches(&sqlite("bulk"), &rows, in_flight).await?,
    )];
    let mut imports = vec![(
        "SQLite",
        bulk::through_import(&sqlite("import"), &rows).await?,
    )];
    let postgres = BenchDatabase::create(admin_url, "bulk")
        .and_then(|b| Ok((b, BenchDatabase::create(admin_url, "import")?)));
    match postgres {
        Err(err) => eprintln!("skipping bulk on Postgres: {err:#}"),
        Ok((batches, import)) => {
            let result = bulk::through_batches(&batches.url, &rows, in_flight).await?;
            lines.push(("batch endpoint, Postgres".to_owned(), result));
            imports.push(("Postgres", bulk::through_import(&import.url, &rows).await?));
        }
    }
    println!("\n{count} AWBs in batches of 1000, {in_flight} batches in flight\n");
    println!(
        "| run | AWBs/s | × pgbench | batch p50 ms | batch p99 ms | refused | server peak RSS MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (run, r) in &lines {
        let times = pgbench
            .filter(|_| run.ends_with("Postgres"))
            .map_or("–".to_owned(), |tps| format!("{:.2}", r.per_second / tps));
        println!(
            "| {run} | {:.0} | {times} | {:.0} | {:.0} | {} | {:.0} |",
            r.per_second,
            r.batch_p50_ms.unwrap_or_default(),
            r.batch_p99_ms.unwrap_or_default(),
            r.refused,
            r.peak_rss as f64 / 1e6
        );
        ensure!(r.created == count, "{run}: only {} created", r.created);
    }
    println!("\n| `skyhook import` | rows/s (its own count) | rows/s (whole process) |");
    println!("|---|---:|---:|");
    for (backend, r) in &imports {
        println!(
            "| {backend} | {:.0} | {:.0} |",
            r.rows_per_second, r.wall_rows_per_second
        );
        eprintln!("{backend}: {}", r.summary);
    }
    Ok(())
}

async fn bench_http(run: &str, db_url: &str, config: &Config) -> anyhow::Result<Row> {
    let key = create_key(db_url).await?;
    let mut server = Server::start(db_url, |command, _| {
        command
            // One connection per client, so the run measures the server, not a pool queue.
            .env(
                "SKYHOOK_DATABASE__MAX_CONNECTIONS",
                config.concurrency.to_string(),
            )
            // Creates only: the poller would compete for the same cores and connections.
            .env("SKYHOOK_POLLER__ENABLED", "false")
            .env("SKYHOOK_WEBHOOKS__ALLOW_NETWORKS", r#"["127.0.0.0/8"]"#)
            // The preflight is an OPTIONS round trip to the subscriber's server: its cost is
            // the receiver's, not Skyhook's, and the bench's callback URLs have no server.
            .env("SKYHOOK_WEBHOOKS__PREFLIGHT", "off")
            // One key creating as fast as it can: the per-key rate limit would be the figure.
            .env("SKYHOOK_SERVER__RATE_LIMIT__PER_SECOND", "0");
    })
    .await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = format!("{}/v1/subscriptions", server.base);

    // Warm-up fills the connection pools (ours and the server's) and the page cache.
    load(&client, &url, &key, config.concurrency, WARMUP).await;
    let started = Instant::now();
    let mut result = load(&client, &url, &key, config.concurrency, config.duration).await;
    let elapsed = started.elapsed();
    let peak_rss = server.peak_rss()?;
    server.stop().await;

    if let Some(first) = &result.first_error {
        eprintln!(
            "{run}: {} unexpected responses, first: {first}",
            result.errors
        );
    }
    result.latencies.sort_unstable();
    // Only 201s count towards the rate: fast failures must not look like throughput.
    let created = result.latencies.len() as u64 - result.errors;
    Ok(Row {
        run: run.to_owned(),
        per_second: created as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile_ms(&result.latencies, 0.50),
        p99_ms: percentile_ms(&result.latencies, 0.99),
        errors: Some(result.errors),
        peak_rss: Some(peak_rss),
    })
}

#[derive(Default)]
struct LoadResult {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

/// `concurrency` clients, each sending one create after another until `duration` is up.
async fn load(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let deadline = Instant::now() + duration;
    let mut clients = JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, key) = (client.clone(), url.to_owned(), key.to_owned());
        clients.spawn(async move {
            let mut result = LoadResult::default();
            while Instant::now() < deadline {
                let (n, awb) = next_awb();
                let body = serde_json::json!({
                    "awb": awb,
                    "url": format!("{CALLBACK_BASE}/{n}"),
                    "reference": format!("bench-{n}"),
                });
                let sent = Instant::now();
                let outcome = create(&client, &url, &key, &body).await;
                result.latencies.push(sent.elapsed());
                if let Err(err) = outcome {
                    result.errors += 1;
                    result.first_error.get_or_insert(err);
                }
            }
            result
        });
    }
    let mut total = LoadResult::default();
    for result in clients.join_all().await {
        total.latencies.extend(result.latencies);
        total.errors += result.errors;
        total.first_error = total.first_error.or(result.first_error);
    }
    total
}

/// Sends one create and reads the whole response, so latency includes the body.
async fn create(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: &serde_json::Value,
) -> Result<(), String> {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .map_err(|err| err.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|err| err.to_string())?;
    match status {
        reqwest::StatusCode::CREATED => Ok(()),
        _ => Err(format!("{status}: {text}")),
    }
}

/// A valid AWB `000-SSSSSSSC` (the sandbox prefix, served by the built-in demo carrier on a
/// default configuration): the check digit C is the seven-digit serial mod 7.
fn next_awb() -> (u64, String) {
    let n = NEXT_AWB.fetch_add(1, Ordering::Relaxed);
    let serial = n % 10_000_000;
    (n, format!("000-{serial:07}{}", serial % 7))
}

/// The best case for one durable row per transaction over the same number of connections.
fn pgbench_insert_tps(db: &BenchDatabase, config: &Config) -> anyhow::Result<f64> {
    psql(
        &db.url,
        "CREATE TABLE pgbench_single_insert (id bigserial PRIMARY KEY, awb text NOT NULL, \
         created_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let mut script = tempfile::NamedTempFile::new()?;
    writeln!(
        script,
        "INSERT INTO pgbench_single_insert (awb) VALUES ('020-00000000');"
    )?;
    let output = StdCommand::new("pgbench")
        .args(["-n", "-j", "2"])
        .args(["-c", &config.concurrency.to_string()])
        .args(["-T", &config.duration.as_secs().to_string()])
        .arg("-f")
        .arg(script.path())
        .arg(&db.url)
        .output()
        .context("cannot run pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "pgbench failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    // e.g. `tps = 1234.567890 (without initial connection time)`
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no `tps = …` line in pgbench output:\n{stdout}"))
}

fn print_table(rows: &[Row]) {
    let cell = |value: Option<String>| value.unwrap_or_else(|| "–".to_owned());
    println!("| run | requests/s | p50 ms | p99 ms | errors | server peak RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {:.0} | {} | {} | {} | {} |",
            row.run,
            row.per_second,
            cell(row.p50_ms.map(|ms| format!("{ms:.2}"))),
            cell(row.p99_ms.map(|ms| format!("{ms:.2}"))),
            cell(row.errors.map(|errors| errors.to_string())),
            cell(
                row.peak_rss
                    .map(|bytes| format!("{:.0}", bytes as f64 / 1e6))
            ),
        );
    }
}
