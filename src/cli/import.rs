//! `skyhook import FILE.csv --key-name NAME`: subscriptions for a migration, from a CSV with
//! the columns `awb,url,emails,reference` (a header row naming them, in any order; `emails`
//! separated by `;` or spaces). The file is streamed, [`BATCH_ROWS`] rows at a time, through
//! the same path as `POST /v1/subscriptions/batch`; every rejected row is written, with its
//! error, to a CSV beside the input (or `--rejected PATH`).

use crate::api::subscriptions::Subscribing;
use crate::api::subscriptions::batch::{MAX_BATCH_ITEMS, create_batch};
use crate::domain::{AllowNetworks, TenantId};
use anyhow::Context;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Rows per batch: as many as one batch request may carry.
const BATCH_ROWS: usize = MAX_BATCH_ITEMS;
const COLUMNS: [&str; 4] = ["awb", "url", "emails", "reference"];

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
            rows.push(columns.map(|position| {
                position
                    .and_then(|i| record.get(i))
                    .unwrap_or_default()
                    .to_owned()
            }));
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

/// Where each of [`COLUMNS`] is in the file; an unknown column is an error (a typo would
/// otherwise drop its data silently).
fn column_positions(header: &csv::StringRecord) -> anyhow::Result<[Option<usize>; 4]> {
    let mut positions = [None; 4];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
            anyhow::bail!(
                "unknown column `{name}` in the header row; the columns are {}",
                COLUMNS.join(",")
            );
        };
        positions[column] = Some(i);
    }
    if positions[0].is_none() {
        anyhow::bail!(
            "the header row names no `awb` column; the columns are {}",
            COLUMNS.join(",")
        );
    }
    Ok(positions)
}

/// The `POST /v1/subscriptions` body a row stands for; empty cells are left out.
fn create_body([awb, url, emails, reference]: &[String; 4]) -> serde_json::Value {
    let mut body = serde_json::json!({ "awb": awb });
    if !url.is_empty() {
        body["url"] = url.as_str().into();
    }
    let emails: Vec<&str> = emails.split([';', ' ']).filter(|e| !e.is_empty()).collect();
    if !emails.is_empty() {
        body["emails"] = emails.into();
    }
    if !reference.is_empty() {
        body["reference"] = reference.as_str().into();
    }
    body
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_becomes_the_create_body_it_stands_for() {
        let row = [
            "020-08002050".to_owned(),
            String::new(),
            "a@x.io; b@x.io".to_owned(),
            "PO-1".to_owned(),
        ];
        assert_eq!(
            create_body(&row),
            serde_json::json!({"awb": "020-08002050", "emails": ["a@x.io", "b@x.io"],
                               "reference": "PO-1"})
        );
    }

    #[test]
    fn an_unknown_column_is_refused_by_name() {
        let header = csv::StringRecord::from(vec!["awb", "emial"]);
        let err = column_positions(&header).unwrap_err().to_string();
        assert!(err.contains("`emial`"), "{err}");
    }
}
