//! `skyhook import FILE.csv --key-name NAME`: subscriptions for a migration, from a CSV with
//! the columns `awb,url,emails,reference` (a header row naming them, in any order; `emails`
//! separated by `;` or spaces). The file is streamed, [`BATCH_ROWS`] rows at a time, through
//! the same path as `POST /v1/subscriptions/batch`; every rejected row is written, with its
//! error, to a CSV beside the input (or `--rejected PATH`).

use crate::api::subscriptions::Subscribing;
use crate::api::subscriptions::batch::{MAX_BATCH_ITEMS, create_batch};
use crate::api::subscriptions::csv_rows::{COLUMNS, column_positions, create_body, row};
use crate::domain::{AllowNetworks, TenantId};
use anyhow::Context;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Rows per batch: as many as one batch request may carry.
const BATCH_ROWS: usize = MAX_BATCH_ITEMS;

/// Who the subscriptions are for.
pub struct ImportKey {
    pub name: String,
    pub tenant: TenantId,
    pub networks: AllowNetworks,
}

/// What an import did.
#[derive(Debug, Default)]
struct Tally {
    rows: u64,
    created: u64,
    rejected: u64,
}

pub async fn run(
    subscribing: &Subscribing,
    key: &ImportKey,
    file: &Path,
    rejected_path: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(input));
    let columns = column_positions(reader.headers().context("cannot read the header row")?)?;
    let rejected_path = rejected_path.unwrap_or_else(|| rejected_beside(file));
    let rejected_path = std::path::absolute(&rejected_path).unwrap_or(rejected_path);
    let mut rejected = csv::Writer::from_path(&rejected_path)
        .with_context(|| format!("cannot write {}", rejected_path.display()))?;
    rejected.write_record(COLUMNS.iter().copied().chain(["error", "message"]))?;
    let mut progress = Progress::new(size);
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut records = reader.records();
    loop {
        let mut rows: Vec<[String; 4]> = Vec::with_capacity(BATCH_ROWS);
        for record in records.by_ref().take(BATCH_ROWS) {
            let record = record.with_context(|| {
                format!("cannot read {} after row {}", file.display(), tally.rows)
            })?;
            rows.push(row(&columns, &record));
        }
        if rows.is_empty() {
            break;
        }
        let bodies = rows.iter().map(create_body).collect();
        let outcomes = create_batch(subscribing, key.tenant, &key.networks, bodies)
            .await
            .map_err(|e| anyhow::anyhow!("the database refused a batch: {e:#}"))?;
        let first = tally.rows + 1;
        tally.rows += rows.len() as u64;
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Ok(_) => tally.created += 1,
                Err(err) => {
                    tally.rejected += 1;
                    let body = err.body();
                    rejected.write_record(
                        row.iter()
                            .map(String::as_str)
                            .chain([body.error, &body.message]),
                    )?;
                }
            }
        }
        rejected.flush()?;
        let read = records.reader().position().byte();
        progress.show(read, first, &tally);
    }
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "Imported {} for API key `{}`: {} rows, {} created, {} rejected in {seconds:.1} s \
         ({:.0} rows/s).",
        file.display(),
        key.name,
        tally.rows,
        tally.created,
        tally.rejected,
        tally.rows as f64 / seconds.max(f64::EPSILON)
    );
    println!(
        "Rejected rows, each with its error: {}",
        rejected_path.display()
    );
    Ok(if tally.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `migration.csv` → `migration.rejected.csv`, in the same directory.
fn rejected_beside(file: &Path) -> PathBuf {
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    file.with_file_name(format!("{stem}.rejected.csv"))
}

/// A bar redrawn in place on a terminal; a plain line per batch otherwise (logs, CI).
struct Progress {
    size: u64,
    terminal: bool,
}

impl Progress {
    fn new(size: u64) -> Self {
        Self {
            size,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, read: u64, first: u64, tally: &Tally) {
        let mut err = std::io::stderr().lock();
        let counts = format!("{} created, {} rejected", tally.created, tally.rejected);
        if self.terminal {
            let share = if self.size == 0 {
                1.0
            } else {
                (read as f64 / self.size as f64).min(1.0)
            };
            let filled = (share * 30.0).round() as usize;
            let _ = write!(
                err,
                "\r[{}{}] {:>3.0}%  {} rows: {counts}",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                share * 100.0,
                tally.rows
            );
        } else {
            let _ = writeln!(err, "rows {first}–{}: {counts} so far", tally.rows);
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
