//! Serving the router over HTTP/1.1 with the limits `axum::serve` cannot set: it gives hyper no
//! timer, so hyper's header-read timeout never fires there, and it accepts connections without
//! bound. Here a client has `server.header_timeout` to send each request's headers (hyper
//! starts that timer when the connection opens and again when it waits for the next request
//! of a kept-alive connection, so it is the idle timeout too), and at most
//! `server.max_connections` connections are open at once.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Connection limits, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// How often, at most, reaching the connection cap is logged: under a flood it is reached
/// again each time a slot frees.
const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Serves until `shutdown` is cancelled, then stops accepting, asks every connection to close
/// once its request in flight is answered, and returns when all have. The caller bounds that
/// wait (`server.shutdown_timeout`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: CancellationToken,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    let mut warned_full: Option<Instant> = None;
    loop {
        // A slot before accepting: at the cap, new connections wait in the kernel's listen
        // backlog and are taken as slots free, rather than being accepted only to be closed,
        // which would still cost a descriptor each exactly when they are scarce.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                metrics::counter!("skyhook_http_connection_cap_reached_total").increment(1);
                if warned_full.is_none_or(|at| at.elapsed() >= FULL_WARNING_EVERY) {
                    warned_full = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "every connection slot is taken (server.max_connections); new \
                         connections wait until one closes"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = shutdown.cancelled() => break,
                }
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let open = limits.max_connections - slots.available_permits();
        metrics::gauge!("skyhook_http_connections_open").set(open as f64);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let (shutdown, slots) = (shutdown.clone(), slots.clone());
        connections.spawn(async move {
            let mut connection = pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            // Timeouts, resets and half requests end here; none is the server's failure.
            if let Err(error) = result {
                tracing::debug!(error = %error, "connection ended with an error");
            }
            drop(slot);
            let open = limits.max_connections - slots.available_permits();
            metrics::gauge!("skyhook_http_connections_open").set(open as f64);
        });
    }
    connections.close();
    connections.wait().await;
}

/// A connection that failed before it was accepted concerns only its client. Anything else is
/// the listener's: most likely the process is out of file descriptors (`EMFILE`), so pause
/// rather than spin, giving connections time to close (what hyper's own server did).
async fn wait_after_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "cannot accept connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
