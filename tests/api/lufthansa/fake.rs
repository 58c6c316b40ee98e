//! A local Lufthansa Cargo, written from its documentation: the Shipment Tracking Subscribe API
//! of seed 002 (`POST …/subscribe`, `GET`/`DELETE …/subscribe/{subscriptionId}`, header
//! `apikey`) and the Shipment Tracking API (`GET lh/handling/shipment?aWBPrefix=&aWBNumber=`,
//! answering `shipmentTrackingStatus`). It answers from the state a test gives it, records every
//! request, and pushes to a subscription's callback URL as Lufthansa does, to the server under
//! test whatever host the URL names.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const SUBSCRIBE: &str = "/lh/handling/shipment/subscribe";
pub const TRACKING: &str = "/lh/handling/shipment";

/// Which of Lufthansa's operations a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Subscribe,
    Check,
    Unsubscribe,
    Tracking,
}

/// What the fake saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub api: Option<Api>,
    pub method: String,
    pub path_and_query: String,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

/// One of Lufthansa's subscriptions.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: String,
    pub awb: String,
    pub callback: String,
    /// False once Lufthansa dropped or deleted it.
    pub live: bool,
}

/// When Lufthansa pushes on its own after a subscription is created.
#[derive(Clone, Copy, Debug)]
pub enum PushOnRegister {
    /// Before it answers the registration: Skyhook cannot know the id yet.
    BeforeAnswer,
    /// This long after it answered.
    After(Duration),
}

/// Skyhook's answer to a push.
#[derive(Clone, Debug)]
pub struct PushReply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Lufthansa {
    seen: Vec<Seen>,
    subscriptions: Vec<Subscription>,
    /// `shipmentTrackingStatus` answers by AWB (11 digits); no answer is a 404.
    tracking: HashMap<String, Value>,
    /// Error statuses (and `Retry-After`) to give before answering normally, per operation.
    failures: HashMap<Api, VecDeque<(u16, Option<String>)>>,
    push_on_register: Option<(PushOnRegister, String)>,
    replies: Vec<PushReply>,
    /// Requests held until a permit is added, per operation.
    gates: HashMap<Api, Arc<Semaphore>>,
}

#[derive(Clone)]
pub struct FakeLufthansa {
    pub base_url: String,
    state: Arc<Mutex<Lufthansa>>,
    /// Where pushes go: the server under test.
    app: Arc<Mutex<String>>,
}

impl FakeLufthansa {
    pub async fn start() -> Self {
        let fake = Self {
            base_url: String::new(),
            state: Arc::default(),
            app: Arc::default(),
        };
        let router = Router::new().fallback(answer).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base_url, ..fake }
    }

    /// Pushes go to the server at `address` (`http://127.0.0.1:port`).
    pub fn push_to_server(&self, address: &str) {
        *self.app.lock().unwrap() = address.to_owned();
    }

    fn with<T>(&self, f: impl FnOnce(&mut Lufthansa) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// What the Shipment Tracking API answers for `awb` from now on.
    pub fn track(&self, awb: &str, status: Value) {
        let key: String = awb.chars().filter(char::is_ascii_digit).collect();
        self.with(|s| s.tracking.insert(key, status));
    }

    /// The next request to `api` fails with `status` (and `Retry-After`, if given).
    pub fn fail(&self, api: Api, status: u16, retry_after: Option<&str>) {
        self.with(|s| {
            s.failures
                .entry(api)
                .or_default()
                .push_back((status, retry_after.map(str::to_owned)))
        });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    /// How many requests `api` has had.
    pub fn calls(&self, api: Api) -> usize {
        self.with(|s| s.seen.iter().filter(|r| r.api == Some(api)).count())
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.with(|s| s.subscriptions.clone())
    }

    /// Lufthansa forgets a subscription on its own.
    pub fn drop_subscription(&self, id: &str) {
        self.with(|s| {
            for sub in s.subscriptions.iter_mut().filter(|sub| sub.id == id) {
                sub.live = false;
            }
        });
    }

    /// Pushes `state` for the AWB's live subscription, as Lufthansa does.
    pub async fn push(&self, awb: &str, state: &str) -> PushReply {
        let sub = self
            .subscriptions()
            .into_iter()
            .rev()
            .find(|s| s.live && s.awb == awb)
            .expect("a live subscription of the AWB");
        self.push_for(&sub, state).await
    }

    /// Pushes `state` to a subscription's callback (live or not).
    pub async fn push_for(&self, sub: &Subscription, state: &str) -> PushReply {
        let path = url::Url::parse(&sub.callback).unwrap().path().to_owned();
        self.post_push(&path, push_body(sub, state)).await
    }

    /// POSTs `body` to `path` on the server under test.
    pub async fn post_push(&self, path: &str, body: Value) -> PushReply {
        let address = self.app.lock().unwrap().clone();
        let response = reqwest::Client::new()
            .post(format!("{address}{path}"))
            .json(&body)
            .send()
            .await
            .expect("the server under test answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        PushReply {
            status,
            retry_after,
            body,
        }
    }

    /// Lufthansa pushes `state` on its own when it creates the next subscription.
    pub fn push_on_register(&self, when: PushOnRegister, state: &str) {
        self.with(|s| s.push_on_register = Some((when, state.to_owned())));
    }

    /// Skyhook's answers to the pushes sent on registering, once `n` have come.
    pub async fn replies_on_register(&self, n: usize) -> Vec<PushReply> {
        for _ in 0..500 {
            let replies = self.with(|s| s.replies.clone());
            if replies.len() >= n {
                return replies;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no answer to the push sent on registering");
    }

    /// Holds every request to `api` until [`FakeLufthansa::release`] lets one through.
    pub fn hold(&self, api: Api) {
        self.with(|s| s.gates.insert(api, Arc::new(Semaphore::new(0))));
    }

    pub fn release(&self, api: Api) {
        if let Some(gate) = self.with(|s| s.gates.get(&api).cloned()) {
            gate.add_permits(1);
        }
    }

    /// Waits until `api` has had `n` requests.
    pub async fn wait_for(&self, api: Api, n: usize) {
        for _ in 0..1000 {
            if self.calls(api) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{api:?} was not called {n} times: {:?}", self.seen());
    }
}

/// A push as seed 002 describes it.
pub fn push_body(sub: &Subscription, state: &str) -> Value {
    json!({"subscriptionId": sub.id, "AWB": sub.awb, "State": state,
           "toaTimestamp": null, "timestamp": "2026-11-25T14:25:00+01:00"})
}

fn api_of(method: &str, path: &str) -> Option<Api> {
    match (method, path) {
        ("POST", SUBSCRIBE) => Some(Api::Subscribe),
        ("GET", p) if p.starts_with(&format!("{SUBSCRIBE}/")) => Some(Api::Check),
        ("DELETE", p) if p.starts_with(&format!("{SUBSCRIBE}/")) => Some(Api::Unsubscribe),
        ("GET", TRACKING) => Some(Api::Tracking),
        _ => None,
    }
}

fn status(code: u16, retry_after: Option<String>) -> Response {
    let mut response = (
        StatusCode::from_u16(code).unwrap(),
        axum::Json(json!({"error": code})),
    )
        .into_response();
    if let Some(wait) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", wait.parse().unwrap());
    }
    response
}

async fn answer(State(fake): State<FakeLufthansa>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let api = api_of(&method, &path);
    let failure = fake.with(|s| {
        s.seen.push(Seen {
            api,
            method: method.clone(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: parts.headers.clone(),
            body: body.clone(),
        });
        api.and_then(|api| s.failures.get_mut(&api)?.pop_front())
    });
    let gate = api.and_then(|api| fake.with(|s| s.gates.get(&api).cloned()));
    if let Some(gate) = gate {
        gate.acquire().await.unwrap().forget();
    }
    if let Some((code, retry_after)) = failure {
        return status(code, retry_after);
    }
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    match api {
        Some(Api::Subscribe) => subscribe(&fake, body).await,
        Some(Api::Check) => match fake.with(|s| {
            s.subscriptions
                .iter()
                .find(|x| x.id == id && x.live)
                .cloned()
        }) {
            Some(sub) => axum::Json(json!({"subscriptionId": sub.id, "AWB": sub.awb,
                                           "Callback": sub.callback, "States": "*"}))
            .into_response(),
            None => status(404, None),
        },
        Some(Api::Unsubscribe) => {
            let found = fake.with(|s| {
                let sub = s.subscriptions.iter_mut().find(|x| x.id == id && x.live);
                sub.map(|sub| sub.live = false).is_some()
            });
            if found {
                StatusCode::NO_CONTENT.into_response()
            } else {
                status(404, None)
            }
        }
        Some(Api::Tracking) => {
            let query = parts.uri.query().unwrap_or_default();
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .unwrap_or_default()
                    .to_owned()
            };
            let key = format!("{}{}", param("aWBPrefix"), param("aWBNumber"));
            match fake.with(|s| s.tracking.get(&key).cloned()) {
                Some(status) => axum::Json(status).into_response(),
                None => status(404, None),
            }
        }
        None => status(404, None),
    }
}

/// Creates a subscription; pushes on its own first or later if the test asked for it.
async fn subscribe(fake: &FakeLufthansa, body: Value) -> Response {
    let sub = Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        awb: body["AWB"].as_str().unwrap_or_default().to_owned(),
        callback: body["Callback"].as_str().unwrap_or_default().to_owned(),
        live: true,
    };
    let plan = fake.with(|s| {
        s.subscriptions.push(sub.clone());
        s.push_on_register.take()
    });
    match plan {
        Some((PushOnRegister::BeforeAnswer, state)) => {
            let reply = fake.push_for(&sub, &state).await;
            fake.with(|s| s.replies.push(reply));
        }
        Some((PushOnRegister::After(delay), state)) => {
            let (fake, sub) = (fake.clone(), sub.clone());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let reply = fake.push_for(&sub, &state).await;
                fake.with(|s| s.replies.push(reply));
            });
        }
        None => {}
    }
    axum::Json(
        json!({"subscriptionId": sub.id, "AWB": sub.awb, "Callback": sub.callback,
                      "States": body["States"]}),
    )
    .into_response()
}
