//! Counting what the store asks of the database, in a separate (untimed) run because counting
//! costs CPU in the bench process:
//!
//! - Postgres round trips, on the wire: a TCP proxy between the pool and the server reads the
//!   frontend protocol and counts `Sync` and simple `Query` messages. Each one ends a request
//!   the client then waits on (the server answers it with `ReadyForQuery`), so the count is
//!   the number of times the client waits for the server; sqlx does not pipeline across them.
//!   Connections opened through the proxy are counted too.
//! - SQL statements, from sqlx's own statement log (`sqlx::query` events), on both backends.
//!   That log leaves out the pool's liveness ping and `BEGIN` (and `COMMIT` on SQLite), which
//!   is why the wire count is the one to read for Postgres.

use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

pub static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);
pub static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Statements logged by sqlx, by their first word (`UPDATE`, `INSERT`, `WITH`, …): how many,
/// and how long they took as the client saw it (seconds, queueing in the pool excluded).
pub static STATEMENTS: Mutex<BTreeMap<String, Statements>> = Mutex::new(BTreeMap::new());

#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Statements {
    pub count: u64,
    pub seconds: f64,
}

pub fn statements_snapshot() -> BTreeMap<String, Statements> {
    STATEMENTS.lock().expect("statement counts").clone()
}

/// Installs the global subscriber that counts sqlx's statement log (and records nothing else).
pub fn count_statements() -> anyhow::Result<()> {
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("sqlx::query", tracing::Level::TRACE);
    let subscriber = tracing_subscriber::registry().with(StatementCounter.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber).context("a subscriber is already set")
}

struct StatementCounter;

impl<S: tracing::Subscriber> Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut summary = Summary::default();
        event.record(&mut summary);
        let kind = summary
            .text
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_ascii_uppercase();
        let mut statements = STATEMENTS.lock().expect("statement counts");
        let entry = statements.entry(kind).or_default();
        entry.count += 1;
        entry.seconds += summary.elapsed_secs;
    }
}

#[derive(Default)]
struct Summary {
    text: String,
    elapsed_secs: f64,
}

impl Visit for Summary {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            value.clone_into(&mut self.text);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.text = format!("{value:?}").trim_matches('"').to_owned();
        }
    }
}

/// Where the proxy forwards to: the server's TCP port, or its Unix socket when the URL names a
/// socket directory (`?host=/var/run/postgresql`).
#[derive(Clone)]
enum Upstream {
    Tcp(String),
    Unix(String),
}

/// Starts the counting proxy in front of `database_url`'s server and returns the URL to use
/// instead: same database, through the proxy (TCP on 127.0.0.1), without TLS (the proxy must
/// read the protocol).
pub async fn proxy(database_url: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(database_url)?;
    let port = url.port().unwrap_or(5432);
    let socket_dir = url
        .query_pairs()
        .find(|(key, value)| key == "host" && value.starts_with('/'))
        .map(|(_, dir)| dir.into_owned());
    let upstream = match socket_dir {
        Some(dir) => Upstream::Unix(format!("{dir}/.s.PGSQL.{port}")),
        None => Upstream::Tcp(format!(
            "{}:{port}",
            url.host_str().context("database URL without host")?
        )),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy_port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Err(err) = relay(client, &upstream).await {
                    eprintln!("counting proxy: {err:#}");
                }
            });
        }
    });
    url.set_host(Some("127.0.0.1"))?;
    url.set_port(Some(proxy_port))
        .map_err(|()| anyhow::anyhow!("cannot set the proxy port"))?;
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "sslmode" && key != "host")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(others)
        .append_pair("sslmode", "disable");
    Ok(url.into())
}

async fn relay(client: TcpStream, upstream: &Upstream) -> anyhow::Result<()> {
    CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    // Without this, Nagle's algorithm would delay the small messages the proxy forwards.
    client.set_nodelay(true)?;
    match upstream {
        Upstream::Tcp(address) => {
            let server = TcpStream::connect(address).await?;
            server.set_nodelay(true)?;
            forward(client, server).await
        }
        Upstream::Unix(path) => forward(client, UnixStream::connect(path).await?).await,
    }
}

/// Copies both ways, counting the frontend's requests on the way up.
async fn forward(
    client: TcpStream,
    server: impl AsyncRead + AsyncWrite + Unpin,
) -> anyhow::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = tokio::io::split(server);
    let upward = async {
        let mut counter = FrontendMessages::default();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = client_read.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            ROUND_TRIPS.fetch_add(counter.feed(&buffer[..n]), Ordering::Relaxed);
            server_write.write_all(&buffer[..n]).await?;
        }
        server_write.shutdown().await
    };
    let downward = async {
        tokio::io::copy(&mut server_read, &mut client_write).await?;
        client_write.shutdown().await
    };
    tokio::try_join!(upward, downward)?;
    Ok(())
}

/// Splits the frontend (client → server) byte stream into messages, counting those that end
/// a request: `Sync` (`S`, extended protocol) and `Query` (`Q`, simple protocol).
#[derive(Default)]
struct FrontendMessages {
    /// The startup message (untyped) has been read.
    started: bool,
    header: Vec<u8>,
    /// Bytes of the current message's body still to skip.
    skip: usize,
}

impl FrontendMessages {
    /// The SSL and GSSAPI encryption requests come before the startup message, untyped too.
    const ENCRYPTION_REQUESTS: [u32; 2] = [80_877_103, 80_877_104];

    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut requests = 0;
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            // Untyped: length (4) + code (4). Typed: type (1) + length (4).
            let header_len = if self.started { 5 } else { 8 };
            let n = (header_len - self.header.len()).min(data.len());
            self.header.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.header.len() < header_len {
                break;
            }
            let be = |bytes: &[u8]| u32::from_be_bytes(bytes.try_into().expect("four bytes"));
            if self.started {
                let length = be(&self.header[1..5]) as usize;
                if matches!(self.header[0], b'S' | b'Q') {
                    requests += 1;
                }
                self.skip = length.saturating_sub(4);
            } else {
                let length = be(&self.header[0..4]) as usize;
                let code = be(&self.header[4..8]);
                self.started = !Self::ENCRYPTION_REQUESTS.contains(&code);
                self.skip = length.saturating_sub(8);
            }
            self.header.clear();
        }
        requests
    }
}
