//! An in-process webhook receiver: records every request and answers as scripted (500, 410,
//! 429 with `Retry-After`, a redirect, a slow answer, a huge body, no answer until released),
//! 200 otherwise.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the receiver got JSON")
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    RetryAfter(u16, u64),
    /// `Retry-After` as an HTTP date rather than seconds.
    RetryAfterDate(u16, String),
    Redirect,
    Slow(Duration),
    HugeBody(u16),
    /// No answer until [`Receiver::release`]; then 200. A tarpit.
    Hang,
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    /// Answers every request not scripted otherwise; 200 by default.
    fallback: Arc<Mutex<Option<Reply>>>,
    /// Opened by [`Receiver::release`]: hanging requests then answer.
    released: Arc<tokio::sync::watch::Sender<bool>>,
}

pub struct Receiver {
    pub base: String,
    shared: Shared,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let state = shared.clone();
        let app = Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  body: Bytes| {
                let state = state.clone();
                async move { answer(state, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    /// The callback URL of a path on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Lets every [`Reply::Hang`] request answer, now and from now on.
    pub fn release(&self) {
        self.shared.released.send_replace(true);
    }

    pub fn always(&self, reply: Reply) {
        *self.shared.fallback.lock().unwrap() = Some(reply);
    }

    /// POSTs received so far (preflight OPTIONS requests excluded).
    pub fn posts(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

async fn answer(
    state: Shared,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    if method == axum::http::Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, "OPTIONS, POST")]).into_response();
    }
    let scripted = state.script.lock().unwrap().pop_front();
    let reply = scripted.or_else(|| state.fallback.lock().unwrap().clone());
    match reply {
        None => StatusCode::OK.into_response(),
        Some(Reply::Status(code)) => status(code).into_response(),
        Some(Reply::RetryAfter(code, secs)) => {
            (status(code), [(header::RETRY_AFTER, secs.to_string())]).into_response()
        }
        Some(Reply::RetryAfterDate(code, date)) => {
            (status(code), [(header::RETRY_AFTER, date)]).into_response()
        }
        Some(Reply::Redirect) => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/redirected")],
        )
            .into_response(),
        Some(Reply::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK.into_response()
        }
        Some(Reply::HugeBody(code)) => (status(code), "x".repeat(1024 * 1024)).into_response(),
        Some(Reply::Hang) => {
            let mut released = state.released.subscribe();
            let _ = released.wait_for(|open| *open).await;
            StatusCode::OK.into_response()
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}
