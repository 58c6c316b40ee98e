//! A local CargoAI that answers at once: `GET /track?awb=…` with `x-api-key`, answered with a
//! seed-001 tracking object for that AWB (five events, four on a flight). The answer for an AWB
//! never changes, so a second poll finds nothing new.
//!
//! It runs on a thread of its own (a current-thread runtime), so its CPU time can be told
//! apart from the poller's although both live in the bench process.

use anyhow::Context;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const API_KEY: &str = "bench-key";
/// Events in every answer.
pub const EVENTS_PER_ANSWER: i64 = 5;
const AWB_PLACEHOLDER: &str = "__AWB__";

pub struct FakeCargoAi {
    pub base_url: String,
    /// The server thread, as `/proc/self/task/{tid}` names it.
    pub thread_id: u32,
    requests: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Answer {
    /// The serialised answer, split where the AWB goes.
    before: String,
    after: String,
    requests: Arc<AtomicU64>,
}

impl FakeCargoAi {
    /// Starts the server; the answers' times are laid out around `now`.
    pub fn start(now: DateTime<Utc>) -> anyhow::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let body = answer(now).to_string();
        let (before, after) = body
            .split_once(AWB_PLACEHOLDER)
            .context("the template names the AWB")?;
        let state = Arc::new(Answer {
            before: before.to_owned(),
            after: after.to_owned(),
            requests: requests.clone(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-cargoai".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    let started = listener
                        .local_addr()
                        .map_err(anyhow::Error::from)
                        .and_then(|addr| Ok((addr, super::measure::current_thread_id()?)));
                    let _ = ready_tx.send(started);
                    let app = Router::new()
                        .route("/track", axum::routing::get(track))
                        .with_state(state);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop_rx.await;
                        })
                        .await
                        .expect("fake CargoAI server");
                });
            })?;
        let (addr, thread_id) = ready_rx.recv()??;
        Ok(Self {
            base_url: format!("http://{addr}/"),
            thread_id,
            requests,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for FakeCargoAi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn track(
    State(answer): State<Arc<Answer>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    answer.requests.fetch_add(1, Ordering::Relaxed);
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(awb) = query.get("awb") else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let body = format!("{}{awb}{}", answer.before, answer.after);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A Dubai → Chicago shipment on EK9901: booked, received, manifested and departed, with the
/// arrival still planned. Shaped like seed 001 (strings for numbers, flight objects, lat,lon
/// coordinates), with nothing odd in it, so the run measures the normal path.
fn answer(now: DateTime<Utc>) -> serde_json::Value {
    let dubai = FixedOffset::east_opt(4 * 3600).expect("valid offset");
    let chicago = FixedOffset::west_opt(6 * 3600).expect("valid offset");
    let at =
        |offset: TimeDelta, zone: FixedOffset| (now + offset).with_timezone(&zone).to_rfc3339();
    let departure = at(TimeDelta::hours(-1), dubai);
    let arrival = at(TimeDelta::hours(13), chicago);
    let flight = json!({
        "number": "EK9901",
        "origin": "DXB",
        "destination": "ORD",
        "originCoord": "25.25279999,55.36439896",
        "destinationCoord": "41.97859955,-87.90480042",
        "date": at(TimeDelta::hours(-1), dubai),
        "scheduledDeparture": departure,
        "scheduledArrival": arrival,
        "carbonEmission": "1211.40 kg (est)",
        "distance": "11965.32",
        "duration": "14h 5m 0s"
    });
    let event = |code: &str, place: &str, date: String, planned: bool, on_flight: bool| {
        let mut event = json!({
            "code": code,
            "eventDate": date,
            "eventLocation": place,
            "eventLocationCoord": if place == "DXB" { "25.25279999,55.36439896" } else { "41.97859955,-87.90480042" },
            "weight": "1450.0",
            "pieces": "12",
            "isPlanned": planned,
            "origin": "DXB",
            "destination": "ORD",
        });
        if on_flight {
            let extra = json!({
                "flight": flight.clone(),
                "flightNumber": "EK9901",
                "scheduledDepartureDate": departure,
                "distance": "11965.32",
                "time": "14h 5m 0s",
                "carbonEmission": "1211.40 kg (est)"
            });
            for (key, value) in extra.as_object().expect("object") {
                event[key] = value.clone();
            }
        }
        event
    };
    json!({
        "awb": AWB_PLACEHOLDER,
        "origin": "DXB",
        "destination": "ORD",
        "pieces": "12",
        "weight": "1450.0",
        "volume": "8.2",
        "status": "IN_TRANSIT",
        "originCoord": "25.25279999,55.36439896",
        "destinationCoord": "41.97859955,-87.90480042",
        "carbonEmission": "1211.40 kg (est)",
        "distance": "11965.32",
        "time": "14h 5m 0s",
        "events": [
            event("BKD", "DXB", at(TimeDelta::days(-2), dubai), false, true),
            event("RCS", "DXB", at(TimeDelta::hours(-20), dubai), false, false),
            event("MAN", "DXB", at(TimeDelta::hours(-3), dubai), false, true),
            event("DEP", "DXB", at(TimeDelta::minutes(-55), dubai), false, true),
            event("ARR", "ORD", arrival, true, true),
        ]
    })
}
