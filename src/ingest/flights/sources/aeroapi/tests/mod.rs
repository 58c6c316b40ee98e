//! Against a local fake AeroAPI speaking the documented format over a real socket.

use super::*;
use crate::config::Secret;
use crate::domain::FlightNumber;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// What the fake saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: String,
    headers: HeaderMap,
}

#[derive(Clone)]
struct Fake {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn answer(State(fake): State<Fake>, request: Request) -> Response {
    fake.seen.lock().unwrap().push(Seen {
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or_default().to_owned(),
        headers: request.headers().clone(),
    });
    let mut response = (
        HttpStatus::from_u16(fake.status).unwrap(),
        [("content-type", "application/json")],
        fake.body.clone(),
    )
        .into_response();
    for (name, value) in &fake.headers {
        response.headers_mut().insert(*name, value.parse().unwrap());
    }
    response
}

/// Starts a fake that gives every request the same answer; returns the adapter pointed at it
/// and what the fake saw.
async fn serve(
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: impl Into<String>,
) -> (AeroApi, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        status,
        headers,
        body: body.into(),
        seen: seen.clone(),
    };
    let app = Router::new().fallback(answer).with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/aeroapi/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let settings = FlightSourceSettings {
        enabled: true,
        base_url: base_url.parse().unwrap(),
        api_key: Secret::new("test-key"),
        designators: vec!["LH".into()],
        rate_limit: 1.0,
        concurrency: 1,
        step: None,
    };
    (AeroApi::new(client(), &settings, clock()), seen)
}

async fn json_answer(body: Value) -> (AeroApi, Arc<Mutex<Vec<Seen>>>) {
    serve(200, Vec::new(), body.to_string()).await
}

fn query() -> FlightQuery {
    FlightQuery {
        number: FlightNumber::parse("LH8160").unwrap(),
        date: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        first_checked: Utc::now(),
    }
}

fn airport(icao: &str, iata: Option<&str>, timezone: Option<&str>) -> Value {
    json!({"code": icao, "code_icao": icao, "code_iata": iata, "code_lid": null,
           "timezone": timezone, "name": "x", "city": "x", "airport_info_url": null})
}

fn fra() -> Value {
    airport("EDDF", Some("FRA"), Some("Europe/Berlin"))
}

fn ord() -> Value {
    airport("KORD", Some("ORD"), Some("America/Chicago"))
}

/// A leg as AeroAPI writes one, every time null unless given.
fn leg(id: &str, origin: Value, destination: Value, times: &[(&str, &str)]) -> Value {
    let mut leg = json!({
        "ident": "DLH8160", "ident_icao": "DLH8160", "ident_iata": "LH8160",
        "fa_flight_id": id, "operator": "DLH", "operator_iata": "LH",
        "origin": origin, "destination": destination,
        "cancelled": false, "diverted": false, "status": "Scheduled", "type": "Airline",
    });
    for field in ["out", "off", "on", "in"] {
        for kind in ["scheduled", "estimated", "actual"] {
            leg[format!("{kind}_{field}")] = Value::Null;
        }
    }
    for (field, time) in times {
        leg[*field] = json!(time);
    }
    leg
}

fn answer_of(legs: Vec<Value>) -> Value {
    json!({"flights": legs, "links": null, "num_pages": 1})
}

fn at(text: &str) -> Option<DateTime<FixedOffset>> {
    Some(DateTime::parse_from_rfc3339(text).unwrap())
}

/// Direct to the fake, whatever proxy the environment names, with the default answer limit.
fn client() -> SourceHttp {
    crate::telemetry::install_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    SourceHttp::new(client, 8 * 1024 * 1024)
}

/// The morning of the asked flight: its whole window is inside AeroAPI's limits.
fn clock() -> Arc<dyn crate::clock::Clock> {
    Arc::new(crate::clock::ManualClock::new(
        "2026-11-25T06:00:00Z".parse().unwrap(),
    ))
}

mod failures;
mod reading;
mod robustness;

#[test]
fn the_window_is_cut_to_what_aeroapi_accepts() {
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert_eq!(
        window(date, at("2026-11-20T12:00:00Z")),
        None,
        "two days ahead of the 20th does not reach the 24th: nothing to ask yet"
    );
    assert_eq!(
        window(date, at("2026-11-24T12:00:00Z")),
        Some((
            "2026-11-24T00:00:00Z".to_owned(),
            "2026-11-26T11:59:00Z".to_owned()
        ))
    );
    assert_eq!(
        window(date, at("2026-12-04T12:00:00Z")),
        Some((
            "2026-11-24T12:01:00Z".to_owned(),
            "2026-11-27T00:00:00Z".to_owned()
        ))
    );
    assert_eq!(window(date, at("2026-12-10T00:00:00Z")), None);
}
