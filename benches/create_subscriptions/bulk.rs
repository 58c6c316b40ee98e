//! Bulk subscribing: `BENCH_BULK_AWBS` (100,000) AWBs through `POST /v1/subscriptions/batch`
//! in batches of 1,000 (`BENCH_BULK_IN_FLIGHT` batches at once, default 2), and the same rows
//! through `skyhook import` into a fresh database of the same backend.

use super::server::{Server, create_key, skyhook};
use super::{CALLBACK_BASE, next_awb};
use anyhow::{Context, ensure};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const BATCH: usize = 1000;

/// The rows of a bulk run: AWB and callback URL.
pub fn rows(count: u64) -> Vec<(String, String)> {
    (0..count)
        .map(|_| {
            let (n, awb) = next_awb();
            (awb, format!("{CALLBACK_BASE}/{n}"))
        })
        .collect()
}

pub struct BulkResult {
    pub per_second: f64,
    pub created: u64,
    pub refused: u64,
    pub peak_rss: u64,
    pub batch_p50_ms: Option<f64>,
    pub batch_p99_ms: Option<f64>,
}

/// The release server on `db_url` as the single-create runs configure it.
pub async fn server(db_url: &str, connections: usize) -> anyhow::Result<Server> {
    Server::start(db_url, |command, _| {
        configure(command, connections);
    })
    .await
}

fn configure(command: &mut tokio::process::Command, connections: usize) {
    command
        .env("SKYHOOK_DATABASE__MAX_CONNECTIONS", connections.to_string())
        .env("SKYHOOK_POLLER__ENABLED", "false")
        .env("SKYHOOK_WEBHOOKS__ALLOW_NETWORKS", r#"["127.0.0.0/8"]"#)
        .env("SKYHOOK_WEBHOOKS__PREFLIGHT", "off");
}

/// Every row through the batch endpoint, `in_flight` batches at a time.
pub async fn through_batches(
    db_url: &str,
    rows: &[(String, String)],
    in_flight: usize,
) -> anyhow::Result<BulkResult> {
    let key = create_key(db_url).await?;
    let mut server = server(db_url, in_flight.max(2)).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let url = format!("{}/v1/subscriptions/batch", server.base);
    let bodies: Vec<serde_json::Value> = rows
        .chunks(BATCH)
        .map(|chunk| {
            let items: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(awb, hook)| serde_json::json!({"awb": awb, "url": hook}))
                .collect();
            serde_json::json!({ "items": items })
        })
        .collect();
    let started = Instant::now();
    let mut queue = bodies.into_iter();
    let mut running = JoinSet::new();
    let (mut created, mut refused, mut latencies) = (0_u64, 0_u64, Vec::new());
    loop {
        while running.len() < in_flight {
            let Some(body) = queue.next() else { break };
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            running.spawn(async move { send(&client, &url, &key, &body).await });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (ok, bad, took) = done??;
        created += ok;
        refused += bad;
        latencies.push(took);
    }
    let elapsed = started.elapsed();
    let peak_rss = server.peak_rss()?;
    server.stop().await;
    latencies.sort_unstable();
    Ok(BulkResult {
        per_second: created as f64 / elapsed.as_secs_f64(),
        created,
        refused,
        peak_rss,
        batch_p50_ms: super::percentile_ms(&latencies, 0.5),
        batch_p99_ms: super::percentile_ms(&latencies, 0.99),
    })
}

/// One batch: how many items were created and refused, and how long it took.
async fn send(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(u64, u64, Duration)> {
    let sent = Instant::now();
    let response = client.post(url).bearer_auth(key).json(body).send().await?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await?;
    let took = sent.elapsed();
    ensure!(status.is_success(), "batch answered {status}: {answer}");
    let results = answer["results"].as_array().context("no results")?;
    let created = results.iter().filter(|r| r["status"] == 201).count() as u64;
    if let Some(first) = results.iter().find(|r| r["status"] != 201) {
        eprintln!("a batch item was refused: {first}");
    }
    Ok((created, results.len() as u64 - created, took))
}

pub struct ImportResult {
    /// As `skyhook import` reports it (reading, checking and writing, without start-up).
    pub rows_per_second: f64,
    /// The whole process, start-up and migrations included.
    pub wall_rows_per_second: f64,
    pub summary: String,
}

/// The rows as a CSV through `skyhook import`, into `db_url` (fresh).
pub async fn through_import(
    db_url: &str,
    rows: &[(String, String)],
) -> anyhow::Result<ImportResult> {
    create_key(db_url).await?;
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile()?;
    writeln!(file, "awb,url,emails,reference")?;
    for (i, (awb, hook)) in rows.iter().enumerate() {
        writeln!(file, "{awb},{hook},,import-{i}")?;
    }
    file.flush()?;
    let rejected = tempfile::NamedTempFile::new()?;
    let mut command = skyhook(db_url);
    configure(&mut command, 4);
    command
        .arg("import")
        .arg(file.path())
        .args(["--key-name", "bench", "--rejected"])
        .arg(rejected.path())
        .env("SKYHOOK_LOG__LEVEL", "warn");
    let started = Instant::now();
    let output = command.output().await?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "skyhook import failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // `… in 12.3 s (8130 rows/s).`
    let rows_per_second = stdout
        .split(" rows/s)")
        .next()
        .and_then(|head| head.rsplit('(').next()?.parse().ok())
        .with_context(|| format!("no rows/s in: {stdout}"))?;
    Ok(ImportResult {
        rows_per_second,
        wall_rows_per_second: rows.len() as f64 / wall.as_secs_f64(),
        summary: stdout.lines().next().unwrap_or_default().to_owned(),
    })
}
