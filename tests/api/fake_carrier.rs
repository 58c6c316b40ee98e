//! A local stand-in for a carrier's HTTP API: answers from a script and records what it was
//! asked, so adapter tests speak the documented format over a real socket.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Answer {
    pub fn json(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Value::Null,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// What the fake saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    /// Answers not given yet, in order.
    answers: VecDeque<Answer>,
    /// The last answer given, repeated while nothing new is queued.
    current: Option<Answer>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct FakeCarrier {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeCarrier {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base_url, script }
    }

    /// The next answer(s); the last answer given repeats until replaced.
    pub fn answer(&self, answer: Answer) {
        self.script.lock().unwrap().answers.push_back(answer);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut script = script.lock().unwrap();
    script.seen.push(Seen {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts.headers.clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    if let Some(next) = script.answers.pop_front() {
        script.current = Some(next);
    }
    let Some(answer) = script.current.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        axum::Json(answer.body),
    )
        .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
