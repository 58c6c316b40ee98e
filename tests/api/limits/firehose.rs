//! A carrier that answers every request with a huge body of blanks, streamed from one 64 KiB
//! piece made once, so the test allocates none of it. It counts what it handed to the
//! connection and notices when the connection stops taking it.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::Response;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const PIECE: usize = 64 * 1024;

#[derive(Clone, Default)]
struct Tally {
    sent: Arc<AtomicUsize>,
    /// The body was dropped: sent in full, or the connection closed.
    ended: Arc<AtomicBool>,
}

/// Marks the body ended when hyper drops it.
struct EndGuard(Tally);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.ended.store(true, Ordering::SeqCst);
    }
}

pub struct Firehose {
    pub base_url: String,
    pub total: usize,
    tally: Tally,
}

impl Firehose {
    /// Answers every request with 200 and `total` bytes, chunked (no Content-Length).
    pub async fn start(total: usize) -> Self {
        let tally = Tally::default();
        let piece = Bytes::from(vec![b' '; PIECE]);
        let state = tally.clone();
        let app = Router::new().fallback(move || {
            let (tally, piece) = (state.clone(), piece.clone());
            async move { answer(tally, piece, total) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base_url,
            total,
            tally,
        }
    }

    /// Bytes handed to the connection once the body has ended (sent in full or cut off).
    pub async fn sent_when_ended(&self) -> usize {
        for _ in 0..200 {
            if self.tally.ended.load(Ordering::SeqCst) {
                return self.tally.sent.load(Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the answer neither finished nor was cut off; {} bytes sent so far",
            self.tally.sent.load(Ordering::SeqCst)
        );
    }
}

fn answer(tally: Tally, piece: Bytes, total: usize) -> Response {
    let guard = EndGuard(tally);
    let pieces = futures::stream::unfold(guard, move |guard| {
        let piece = piece.clone();
        async move {
            let sent = guard.0.sent.load(Ordering::SeqCst);
            if sent >= total {
                return None;
            }
            guard.0.sent.fetch_add(piece.len(), Ordering::SeqCst);
            Some((Ok::<_, Infallible>(piece), guard))
        }
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(pieces))
        .unwrap()
}
