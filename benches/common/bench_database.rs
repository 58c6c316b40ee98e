//! A throwaway Postgres database for a benchmark run, shared by the benches (each includes
//! this file with `#[path]`), created and dropped with `psql` so no pool outlives it.

use anyhow::{Context, ensure};
use std::process::Command;

/// A throwaway database, dropped (with any leftover connections) when this goes out of scope.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl BenchDatabase {
    /// `skyhook_{label}_{pid}` on the server of `admin_url`.
    pub fn create(admin_url: &str, label: &str) -> anyhow::Result<Self> {
        psql(admin_url, "SELECT 1").context("Postgres is unreachable")?;
        let name = format!("skyhook_{label}_{}", std::process::id());
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&name);
        psql(admin_url, &format!("CREATE DATABASE {name}"))?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.into(),
        })
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(err) = psql(&self.admin_url, &sql) {
            eprintln!("could not drop database {}: {err:#}", self.name);
        }
    }
}

/// Runs one SQL statement with `psql`, failing with its error output.
pub fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .context("cannot run psql")?;
    ensure!(
        output.status.success(),
        "psql `{sql}` failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}
