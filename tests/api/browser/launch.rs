//! Getting a browser: finding chromedriver and Chromium, starting a chromedriver of one's own
//! and stopping it again, opening the headless session, and what happens when none can be had.

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set (to anything but empty or `0`) where a browser must be had: a test fails, not skips.
pub const REQUIRE_BROWSER_VAR: &str = "SKYHOOK_REQUIRE_BROWSER";

/// How long chromedriver may take to report its port and then to say it is ready, each.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(15);
/// chromedriver's stdout and stderr, in its folder.
const DRIVER_LOG: &str = "chromedriver.log";

/// The names Chromium goes by on `PATH`, Debian's first.
const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// Why no browser could be had.
#[derive(Debug, thiserror::Error)]
pub enum BrowserUnavailable {
    #[error("`{0}` is not on PATH (Debian: apt-get install chromium chromium-driver)")]
    NotOnPath(String),
    #[error("could not start {program}: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("chromedriver exited ({status}) before it was ready; its output:\n{log}")]
    DriverExited {
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("chromedriver did not {what} within {DRIVER_START_TIMEOUT:?}; its output:\n{log}")]
    DriverTimeout { what: &'static str, log: String },
    #[error("chromedriver could not open a Chromium session: {error}; its output:\n{log}")]
    Session { error: String, log: String },
    #[error("temporary directory: {0}")]
    TempDir(std::io::Error),
}

/// What [`super::Browser::start`] does when no browser can be had.
#[derive(Debug, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// Print this line and let the test pass.
    Skip(String),
    /// Fail the test with this message.
    Fail(String),
}

/// Skip, unless `require` (the value of [`REQUIRE_BROWSER_VAR`]) is set to something other than
/// empty or `0`.
pub fn when_unavailable(why: &str, require: Option<&str>) -> WhenUnavailable {
    match require {
        Some(value) if !value.is_empty() && value != "0" => WhenUnavailable::Fail(format!(
            "{REQUIRE_BROWSER_VAR}={value} but no browser could be started: {why}"
        )),
        _ => WhenUnavailable::Skip(format!(
            "SKIPPED: no browser could be started, so this browser test did not run: {why}"
        )),
    }
}

/// A running chromedriver, stopped on drop, and the folder with its output and Chromium's
/// profile, removed after it stopped.
pub(super) struct Driver {
    process: Child,
    pub(super) port: u16,
    pub(super) dir: tempfile::TempDir,
}

/// Starts a chromedriver and opens a headless Chromium session on it.
pub(super) async fn launch() -> Result<(Client, Driver), BrowserUnavailable> {
    let chromedriver = find_on_path("chromedriver")
        .ok_or_else(|| BrowserUnavailable::NotOnPath("chromedriver".into()))?;
    let chromium = CHROMIUM_NAMES
        .iter()
        .find_map(|name| find_on_path(name))
        .ok_or_else(|| BrowserUnavailable::NotOnPath(CHROMIUM_NAMES.join("` or `")))?;
    let driver = Driver::start(&chromedriver).await?;
    let capabilities = chromium_capabilities(&chromium, &driver.dir.path().join("profile"));
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .map_err(|error| BrowserUnavailable::Session {
            error: error.to_string(),
            log: driver.log(),
        })?;
    Ok((client, driver))
}

impl Driver {
    /// Starts chromedriver and waits until it is ready for a session.
    async fn start(chromedriver: &Path) -> Result<Driver, BrowserUnavailable> {
        let dir = tempfile::tempdir().map_err(BrowserUnavailable::TempDir)?;
        let log = File::create(dir.path().join(DRIVER_LOG)).map_err(BrowserUnavailable::TempDir)?;
        let log_too = log.try_clone().map_err(BrowserUnavailable::TempDir)?;
        // Port 0: chromedriver binds a free port itself and prints which, so two tests never
        // race for one the way a probed-then-released port could.
        let process = Command::new(chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_too)
            .spawn()
            .map_err(|source| BrowserUnavailable::Spawn {
                program: chromedriver.to_owned(),
                source,
            })?;
        // From here on an error drops `driver`, which stops the process.
        let mut driver = Driver {
            process,
            port: 0,
            dir,
        };
        driver.port = driver.reported_port().await?;
        driver.until_ready().await?;
        Ok(driver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What chromedriver printed so far.
    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(self.dir.path().join(DRIVER_LOG)) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// The port from chromedriver's "ChromeDriver was started successfully on port N." line.
    async fn reported_port(&mut self) -> Result<u16, BrowserUnavailable> {
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        loop {
            let log = self.log();
            if let Some(port) = reported_port(&log) {
                return Ok(port);
            }
            self.fail_if_exited(&log)?;
            if Instant::now() > deadline {
                return Err(BrowserUnavailable::DriverTimeout {
                    what: "report the port it listens on",
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `GET /status` until chromedriver says `ready`.
    async fn until_ready(&mut self) -> Result<(), BrowserUnavailable> {
        skyhook::telemetry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let status_url = format!("{}/status", self.url());
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        loop {
            if let Ok(response) = http.get(&status_url).send().await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            let log = self.log();
            self.fail_if_exited(&log)?;
            if Instant::now() > deadline {
                return Err(BrowserUnavailable::DriverTimeout {
                    what: "answer ready on /status",
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn fail_if_exited(&mut self, log: &str) -> Result<(), BrowserUnavailable> {
        match self.process.try_wait() {
            Ok(Some(status)) => Err(BrowserUnavailable::DriverExited {
                status,
                log: log.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver's /shutdown ends its sessions (so Chromium quits before its profile is
        // removed) and exits; a kill makes sure of the exit. Best effort: Drop cannot fail.
        if self.port != 0 {
            request_shutdown(self.port);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Headless, sized like a laptop screen, runnable as root and in containers with a small
/// /dev/shm, with its profile in `profile`.
fn chromium_capabilities(chromium: &Path, profile: &Path) -> serde_json::Map<String, Value> {
    let capabilities = json!({
        "browserName": "chrome",
        // A page that never loads fails its test instead of hanging it.
        "timeouts": {"pageLoad": 30_000, "script": 10_000},
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                "--no-first-run",
                "--no-default-browser-check",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

pub(super) fn reported_port(log: &str) -> Option<u16> {
    let (_, rest) = log.split_once("started successfully on port ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|port| *port != 0)
}

/// `GET /shutdown` over a plain socket: Drop cannot await.
fn request_shutdown(port: u16) {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let request =
        format!("GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let _ = stream.read(&mut [0; 512]);
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
