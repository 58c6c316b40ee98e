//! Flights learned from carriers' AWB data, without any flight-status source: found through
//! `GET /v1/flights`, subscribed by `flightUUID`, and updated whenever a carrier reports new
//! times. Also the errors of the flights API.

use super::{change, soon};
use crate::delivery::{AWB, DeliveryRig, event};
use crate::helpers::{Backend, on_both_backends, spawn_app};
use chrono::NaiveDate;
use serde_json::{Value, json};

on_both_backends!(
    a_flight_first_seen_in_awb_data_is_subscribed_by_its_uuid_and_updated_from_it,
    the_flights_api_refuses_bad_input_with_a_named_error,
);

/// A CargoAI event on LH8160 FRA→ORD on `date`, with the flight's times as given.
fn on_flight(code: &str, location: &str, date: NaiveDate, times: Value) -> Value {
    let mut flight = json!({
        "number": "LH8160", "origin": "FRA", "destination": "ORD",
        "scheduledDeparture": format!("{date}T14:05:00+01:00"),
        "scheduledArrival": format!("{date}T16:50:00-06:00"),
    });
    for (k, v) in times.as_object().unwrap() {
        flight[k] = v.clone();
    }
    let mut event = event(code, location, &format!("{date}T09:00:00+01:00"));
    event["flight"] = flight;
    event
}

async fn a_flight_first_seen_in_awb_data_is_subscribed_by_its_uuid_and_updated_from_it(
    backend: Backend,
) {
    let rig = DeliveryRig::new(backend).await;
    let date = soon();
    rig.subscribe_url("/awb").await;
    rig.poll(vec![on_flight("BKD", "FRA", date, json!({}))])
        .await;

    let path = format!("/v1/flights?number=LH8160&date={date}");
    let reply = rig.app.get(&path, &rig.key).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let listed = reply.body["items"][0].clone();
    assert_eq!(listed["status"], "SCHEDULED");
    assert_eq!(listed["destination"], "ORD");
    assert_eq!(listed["awbs"], json!([AWB]), "the AWB it was seen on");
    assert_eq!(listed["source"], "cargoai");
    let uuid = listed["flightUUID"].as_str().unwrap().to_owned();

    // Another tenant sees the flight, but not our AWB on it.
    let other = rig.app.create_key("other").await;
    let theirs = rig.app.get(&format!("/v1/flights/{uuid}"), &other).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.body["awbs"], json!([]));

    let sub = rig
        .app
        .subscribed(
            &rig.key,
            json!({"flightUUID": uuid, "url": rig.receiver.url("/flight")}),
        )
        .await;
    assert_eq!(sub["flightUUID"], uuid.as_str());
    assert_eq!(sub["flight"]["number"], "LH8160");
    assert_eq!(sub["flight"]["origin"], "FRA");
    // Subscribing by number, date and origin finds the same flight.
    let by_number = rig
        .app
        .subscribed(
            &rig.key,
            json!({"flight": {"number": "LH 8160", "date": date.to_string(), "origin": "FRA"},
                   "emails": ["ops@forwarder.example"]}),
        )
        .await;
    assert_eq!(by_number["flightUUID"], uuid.as_str());

    // The carrier reports a later departure estimate: the flight's subscriber is told.
    rig.poll(vec![on_flight(
        "BKD",
        "FRA",
        date,
        json!({"estimatedDeparture": format!("{date}T16:40:00+01:00")}),
    )])
    .await;
    // Then the departure itself, on a new event.
    rig.poll(vec![
        on_flight(
            "BKD",
            "FRA",
            date,
            json!({"estimatedDeparture": format!("{date}T16:40:00+01:00")}),
        ),
        on_flight(
            "DEP",
            "FRA",
            date,
            json!({"actualDeparture": format!("{date}T16:45:00+01:00")}),
        ),
    ])
    .await;
    while rig.dispatch().await > 0 {}
    let to_flight: Vec<Value> = rig
        .receiver
        .posts()
        .iter()
        .filter(|p| p.path == "/flight")
        .map(|p| p.json())
        .collect();
    assert_eq!(to_flight.len(), 2, "{to_flight:?}");
    assert!(to_flight.iter().all(|m| m["type"] == "flight.updated"));
    assert_eq!(
        change(&to_flight[0], "estimatedDeparture"),
        (json!(null), json!(format!("{date}T16:40:00+01:00")))
    );
    assert_eq!(
        to_flight[0]["summary"],
        "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
    );
    assert_eq!(to_flight[1]["flight"]["status"], "DEPARTED");
    assert_eq!(
        change(&to_flight[1], "status"),
        (json!("DELAYED"), json!("DEPARTED"))
    );
    // The AWB subscriber got its own tracking updates all along.
    assert!(
        rig.receiver
            .posts()
            .iter()
            .filter(|p| p.path == "/awb")
            .all(|p| p.json()["type"] == "tracking.updated")
    );
    let now = rig.app.get(&format!("/v1/flights/{uuid}"), &rig.key).await;
    assert_eq!(now.body["status"], "DEPARTED");
    assert_eq!(
        now.body["actualDeparture"],
        format!("{date}T16:45:00+01:00")
    );
}

async fn the_flights_api_refuses_bad_input_with_a_named_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let cases = [
        (
            "/v1/flights?number=L-H1&date=2026-11-25",
            400,
            "ErrInvalidFlightNumber",
        ),
        (
            "/v1/flights?number=LH1&date=25.11.2026",
            400,
            "ErrInvalidQuery",
        ),
        ("/v1/flights?number=LH1", 400, "ErrInvalidQuery"),
        (
            "/v1/flights?number=LH1&date=2026-11-25&x=1",
            400,
            "ErrInvalidQuery",
        ),
        (
            "/v1/flights/3f1c1a52-0000-4000-8000-000000000000",
            404,
            "ErrFlightNotFound",
        ),
        ("/v1/flights/not-a-uuid", 404, "ErrFlightNotFound"),
    ];
    for (path, status, name) in cases {
        let message = app.get(path, &key).await.assert_error(status, name);
        assert!(!message.is_empty(), "{path}");
    }
    let unknown = app
        .get("/v1/flights?number=LH1&date=2026-11-25", &key)
        .await;
    assert_eq!(
        (unknown.status, unknown.body.clone()),
        (200, json!({"items": []}))
    );
    let anonymous = app
        .request(
            reqwest::Method::GET,
            "/v1/flights?number=LH1&date=2026-11-25",
            None,
            None,
        )
        .await;
    anonymous.assert_error(401, "ErrUnauthorized");
}
