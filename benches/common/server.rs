//! The release server as a child process, for the benches that drive it over HTTP (each
//! includes this file with `#[path]`): an API key made with `skyhook keys create`, then
//! `skyhook serve` on a free port of 127.0.0.1, ready once `/readyz` answers 200.

use anyhow::{Context, bail, ensure};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const SKYHOOK: &str = env!("CARGO_BIN_EXE_skyhook");
const READY_WITHIN: Duration = Duration::from_secs(30);

/// `skyhook` on `db_url`, with the log level left to the settings.
pub fn skyhook(db_url: &str) -> Command {
    let mut command = Command::new(SKYHOOK);
    // RUST_LOG would override the level we ask for.
    command
        .env("SKYHOOK_DATABASE__URL", db_url)
        .env_remove("RUST_LOG");
    command
}

/// Creates an API key (migrating the database first, as every subcommand does); `skyhook keys
/// create` prints the key alone on its last line.
pub async fn create_key(db_url: &str) -> anyhow::Result<String> {
    let output = skyhook(db_url)
        .args(["keys", "create", "bench"])
        .output()
        .await?;
    ensure!(
        output.status.success(),
        "`skyhook keys create` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout)?;
    let key = stdout
        .lines()
        .last()
        .context("`skyhook keys create` printed nothing")?;
    Ok(key.trim().to_owned())
}

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
}

impl Server {
    /// Starts `skyhook serve` on `db_url`, logging warnings only; `configure` adds settings
    /// (`SKYHOOK_*` variables) and is given the server's base URL.
    pub async fn start(
        db_url: &str,
        configure: impl FnOnce(&mut Command, &str),
    ) -> anyhow::Result<Self> {
        // Racy in theory (the port could be taken before the server binds), fine in practice.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let base = format!("http://127.0.0.1:{port}");
        let mut command = skyhook(db_url);
        command
            .arg("serve")
            .env("SKYHOOK_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("SKYHOOK_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        configure(&mut command, &base);
        let mut server = Self {
            child: command.spawn()?,
            base,
        };
        let readyz = format!("{}/readyz", server.base);
        let give_up = Instant::now() + READY_WITHIN;
        while Instant::now() < give_up {
            if let Some(status) = server.child.try_wait()? {
                bail!("`skyhook serve` exited early: {status}");
            }
            match reqwest::get(&readyz).await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(server),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        bail!("`skyhook serve` was not ready within {READY_WITHIN:?}")
    }

    /// The server's peak resident set so far (`VmHWM`), in bytes; read it before [`stop`].
    ///
    /// [`stop`]: Self::stop
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .context("no VmHWM line in /proc/PID/status")?;
        Ok(kib * 1024)
    }

    pub async fn stop(&mut self) {
        // SIGKILL is fine: nothing is in flight and the database is about to be discarded.
        let _ = self.child.kill().await;
    }
}
