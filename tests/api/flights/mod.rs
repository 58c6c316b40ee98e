//! Flight subscriptions end to end: the real server, a flight poller against a local fake of
//! FlightAware AeroAPI and the demo source, the shipment poller against a fake CargoAI (flights
//! learned from AWB data), and the dispatcher sending to a local receiver and SMTP sink — all
//! driven one round at a time with a manual clock.

mod learned;
mod rules;
mod sources;

use crate::delivery::{DeliveryRig, secs};
use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::Backend;
use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use skyhook::config::Secret;
use skyhook::ingest::flights::{FlightPoller, FlightSources};
use std::sync::Arc;

/// A [`DeliveryRig`] plus a flight poller on its store and clock, with FlightAware pointed at
/// a fake and the demo source stepping once a minute.
pub struct FlightRig {
    pub rig: DeliveryRig,
    pub flights: Arc<FlightPoller>,
    pub aero: FakeCarrier,
}

impl FlightRig {
    pub async fn new(backend: Backend) -> Self {
        let aero = FakeCarrier::start().await;
        let base_url = aero.base_url.clone();
        let rig = DeliveryRig::with(backend, move |s| {
            let flightaware = &mut s.flights.flightaware;
            flightaware.enabled = true;
            flightaware.base_url = base_url.parse().unwrap();
            flightaware.api_key = Secret::new("aero-key");
            s.flights.demo.step = Some(secs(60));
        })
        .await;
        let sources = FlightSources::from_settings(
            &rig.settings.flights,
            crate::helpers::source_http(&rig.settings),
            rig.clock.clone(),
        )
        .unwrap();
        let flights = FlightPoller::new(
            rig.app.store.clone(),
            Arc::new(sources),
            rig.clock.clone(),
            rig.settings.poller.clone(),
        );
        Self { rig, flights, aero }
    }

    /// One flight-check round; returns how many checks it claimed.
    pub async fn check(&self) -> usize {
        self.rig.catch_up();
        self.flights.clone().check_once().await.unwrap()
    }

    /// Moves past any check schedule (`poller.max_interval` is 2h), then checks.
    pub async fn check_later(&self) -> usize {
        self.rig
            .advance(TimeDelta::hours(2) + TimeDelta::minutes(1));
        self.check().await
    }

    /// Subscribes the receiver at `path` (and `emails`, if any) to a flight.
    pub async fn subscribe(&self, flight: Value, path: &str, emails: &[&str]) -> Value {
        let mut body = json!({"url": self.rig.receiver.url(path)});
        if !emails.is_empty() {
            body["emails"] = json!(emails);
        }
        for (k, v) in flight.as_object().unwrap() {
            body[k] = v.clone();
        }
        let created = self.rig.app.subscribed(&self.rig.key, body).await;
        self.rig.catch_up();
        created
    }

    /// Dispatches until nothing more is due; returns the bodies posted to `path`, in order.
    pub async fn delivered_to(&self, path: &str) -> Vec<Value> {
        while self.rig.dispatch().await > 0 {}
        self.rig
            .receiver
            .posts()
            .iter()
            .filter(|p| p.path == path)
            .map(|p| p.json())
            .collect()
    }

    pub async fn flights(&self, number: &str, date: NaiveDate) -> Vec<Value> {
        let path = format!("/v1/flights?number={number}&date={date}");
        let reply = self.rig.app.get(&path, &self.rig.key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }
}

/// A flight date two days ahead, so subscriptions accept it whatever today is.
pub fn soon() -> NaiveDate {
    (Utc::now() + TimeDelta::days(2)).date_naive()
}

/// The `field`s of a message's `changes`.
pub fn fields(message: &Value) -> Vec<String> {
    message["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("`changes` is a list: {message}"))
        .iter()
        .map(|c| c["field"].as_str().unwrap().to_owned())
        .collect()
}

/// The change of `field` in a message, as `(old, new)`.
pub fn change(message: &Value, field: &str) -> (Value, Value) {
    let change = message["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no `{field}` change in {message}"));
    (change["old"].clone(), change["new"].clone())
}

/// What the fake AeroAPI reports of LH8160 FRA→ORD on `date`, scheduled 14:05 CET → 16:50 CST
/// (13:05Z → 22:50Z), in AeroAPI's format (UTC times, airports with IANA time zones).
#[derive(Debug, Clone, Default)]
pub struct Aero {
    pub estimated_out: Option<&'static str>,
    pub actual_out: Option<&'static str>,
    pub actual_in: Option<&'static str>,
    pub cancelled: bool,
}

impl Aero {
    pub fn answer(&self, date: NaiveDate) -> Answer {
        let at = |time: Option<&str>| time.map(|t| format!("{date}T{t}Z"));
        let airport = |iata: &str, icao: &str, zone: &str| {
            json!({"code": icao, "code_icao": icao, "code_iata": iata, "code_lid": null,
                   "timezone": zone, "name": iata, "city": iata})
        };
        Answer::json(json!({
            "links": null,
            "num_pages": 1,
            "flights": [{
                "ident": "DLH8160", "ident_icao": "DLH8160", "ident_iata": "LH8160",
                "fa_flight_id": format!("DLH8160-{date}"), "operator": "DLH",
                "flight_number": "8160", "registration": null,
                "origin": airport("FRA", "EDDF", "Europe/Berlin"),
                "destination": airport("ORD", "KORD", "America/Chicago"),
                "scheduled_out": at(Some("13:05:00")), "estimated_out": at(self.estimated_out),
                "actual_out": at(self.actual_out),
                "scheduled_off": at(Some("13:20:00")), "estimated_off": null, "actual_off": null,
                "scheduled_on": at(Some("22:40:00")), "estimated_on": null, "actual_on": null,
                "scheduled_in": at(Some("22:50:00")), "estimated_in": null,
                "actual_in": at(self.actual_in),
                "cancelled": self.cancelled, "diverted": false,
                "status": if self.cancelled { "Cancelled" } else { "Scheduled" }
            }]
        }))
    }
}
