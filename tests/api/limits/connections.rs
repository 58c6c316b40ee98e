//! Clients that open connections and never finish a request (slowloris) cannot hold them:
//! `server.header_timeout` closes them, `server.max_connections` caps how many are open, and
//! `/healthz` keeps answering while thousands are.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use skyhook::config::HumanDuration;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Half a request: the request line and one header, never the blank line that ends them.
const HALF_REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: skyhook\r\n";
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: skyhook\r\n\r\n";

async fn app(header_timeout: Duration, max_connections: u32) -> TestApp {
    spawn_app_with(Backend::Sqlite, move |s| {
        s.server.header_timeout = HumanDuration(header_timeout);
        s.server.max_connections = max_connections;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// Reads until the `/healthz` answer is complete; `None` if it has not come within `wait`.
async fn healthz_answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let read = async {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            let n = stream.read(&mut buffer).await.expect("read");
            assert!(n > 0, "closed before answering: {seen:?}");
            seen.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if text.contains(r#"{"status":"ok"}"#) {
                return text;
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok()
}

/// Whether the server closes the connection within `wait`; what it sends first (a 408) is
/// read and ignored.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let drain = async {
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, drain).await.is_ok()
}

/// The most idle sockets this test process can hold: each costs two descriptors here (the
/// client's and the server's, in one process), and the rest of the test needs a few hundred.
fn sockets_the_fd_limit_allows(wanted: usize) -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        })
        .unwrap_or(1024);
    wanted.min(soft_limit.saturating_sub(500) / 2)
}

#[tokio::test]
async fn a_half_sent_request_is_cut_off_after_header_timeout() {
    let app = app(Duration::from_secs(1), 100).await;
    let mut stream = connect(&app).await;
    stream.write_all(HALF_REQUEST).await.unwrap();
    assert!(
        closed_within(&mut stream, Duration::from_secs(10)).await,
        "a connection that never finished its headers was still open after 10 s \
         (header_timeout 1 s)"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed_after_header_timeout() {
    let app = app(Duration::from_secs(1), 100).await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.unwrap();
    let answer = healthz_answer(&mut stream, Duration::from_secs(10)).await;
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    assert!(
        closed_within(&mut stream, Duration::from_secs(10)).await,
        "an idle kept-alive connection was still open after 10 s (header_timeout 1 s)"
    );
}

#[tokio::test]
async fn healthz_answers_while_thousands_of_half_requests_are_open_and_they_are_all_cut_off() {
    let header_timeout = Duration::from_secs(5);
    let app = app(header_timeout, 10_000).await;
    let count = sockets_the_fd_limit_allows(4_000);
    assert!(count >= 1_000, "the fd limit allows only {count} sockets");
    let mut idle = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = connect(&app).await;
        stream.write_all(HALF_REQUEST).await.unwrap();
        idle.push(stream);
    }

    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers");
    assert_eq!(health.status(), 200);

    let closed = futures::future::join_all(
        idle.iter_mut()
            .map(|stream| closed_within(stream, header_timeout + Duration::from_secs(15))),
    )
    .await;
    let still_open = closed.iter().filter(|c| !**c).count();
    assert_eq!(still_open, 0, "of {count} half requests, still open");
}

#[tokio::test]
async fn a_connection_past_max_connections_waits_until_one_closes() {
    let app = app(Duration::from_secs(60), 20).await;
    // Twenty connections each answered once, so the server holds them, kept alive.
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&app).await;
        stream.write_all(HEALTHZ).await.unwrap();
        assert!(
            healthz_answer(&mut stream, Duration::from_secs(10))
                .await
                .is_some()
        );
        held.push(stream);
    }

    // The kernel completes the handshake, but the server does not take the connection yet.
    let mut waiting = connect(&app).await;
    waiting.write_all(HEALTHZ).await.unwrap();
    assert_eq!(
        healthz_answer(&mut waiting, Duration::from_millis(500)).await,
        None,
        "the 21st connection was served while 20 (server.max_connections) were open"
    );

    drop(held.pop());
    let answer = healthz_answer(&mut waiting, Duration::from_secs(10)).await;
    assert!(
        answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "served once a connection closed"
    );
}
