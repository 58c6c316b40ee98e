//! The rules that decide who is told what when several things report one flight: a source
//! outranks carriers' copies, a subscription open to every leg ends with the last leg, and a
//! subscription made after its flight ended still completes.

use super::{Aero, FlightRig, soon};
use crate::delivery::{AWB, event};
use crate::fake_carrier::Answer;
use crate::helpers::{Backend, on_both_backends};
use chrono::{NaiveDate, TimeDelta};
use serde_json::{Value, json};

on_both_backends!(
    once_a_source_reports_a_flight_carriers_copies_only_link_their_awbs,
    a_subscription_to_every_leg_completes_when_the_last_leg_arrives,
    a_subscription_made_after_its_flight_arrived_completes_at_the_next_check,
    an_expired_flight_subscription_is_told_which_flight,
);

/// A CargoAI event on LH8160 FRA→ORD on `date` with extra flight fields.
fn on_flight(code: &str, date: NaiveDate, times: Value) -> Value {
    let mut flight = json!({
        "number": "LH8160", "origin": "FRA", "destination": "ORD",
        "scheduledDeparture": format!("{date}T14:05:00+01:00"),
    });
    for (k, v) in times.as_object().unwrap() {
        flight[k] = v.clone();
    }
    let mut event = event(code, "FRA", &format!("{date}T09:00:00+01:00"));
    event["flight"] = flight;
    event
}

async fn once_a_source_reports_a_flight_carriers_copies_only_link_their_awbs(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    f.aero.answer(Aero::default().answer(date));
    let flight = json!({"flight": {"number": "LH8160", "date": date.to_string(), "origin": "FRA"}});
    f.subscribe(flight, "/lh", &[]).await;
    assert_eq!(f.check().await, 1);
    assert_eq!(f.delivered_to("/lh").await.len(), 1);

    // The carrier's copy says something else (here a stale estimate without any delay reason).
    f.rig.subscribe_url("/awb").await;
    f.rig
        .poll(vec![on_flight(
            "BKD",
            date,
            json!({"estimatedDeparture": format!("{date}T18:00:00+01:00")}),
        )])
        .await;
    assert_eq!(
        f.delivered_to("/lh").await.len(),
        1,
        "no flight.updated from the copy"
    );
    let known = f.flights("LH8160", date).await;
    assert_eq!(known[0]["status"], "SCHEDULED");
    assert_eq!(known[0]["source"], "flightaware");
    assert_eq!(
        known[0]["awbs"],
        json!([AWB]),
        "the AWB is linked all the same"
    );
}

/// LH8160 FRA→LEJ→ORD on `date`, both legs in the answer; `arrived` legs have an actual
/// gate arrival.
fn two_legs(date: NaiveDate, first_arrived: bool, second_arrived: bool) -> Answer {
    let airport = |iata: &str, icao: &str, zone: &str| json!({"code": icao, "code_icao": icao, "code_iata": iata, "timezone": zone});
    let leg = |from: Value, to: Value, out: &str, arrive: &str, arrived: bool| {
        json!({
            "ident": "DLH8160", "ident_iata": "LH8160", "fa_flight_id": format!("DLH8160-{out}"),
            "origin": from, "destination": to,
            "scheduled_out": format!("{date}T{out}Z"), "scheduled_in": format!("{date}T{arrive}Z"),
            "actual_out": if arrived { json!(format!("{date}T{out}Z")) } else { json!(null) },
            "actual_in": if arrived { json!(format!("{date}T{arrive}Z")) } else { json!(null) },
            "cancelled": false, "diverted": false
        })
    };
    let fra = airport("FRA", "EDDF", "Europe/Berlin");
    let lej = airport("LEJ", "EDDP", "Europe/Berlin");
    let ord = airport("ORD", "KORD", "America/Chicago");
    Answer::json(json!({"links": null, "num_pages": 1, "flights": [
        leg(fra, lej.clone(), "06:00:00", "07:00:00", first_arrived),
        leg(lej, ord, "09:00:00", "19:00:00", second_arrived),
    ]}))
}

async fn a_subscription_to_every_leg_completes_when_the_last_leg_arrives(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    f.aero.answer(two_legs(date, false, false));
    let every_leg = json!({"flight": {"number": "LH8160", "date": date.to_string()}});
    let open = f.subscribe(every_leg, "/open", &[]).await;
    let first_leg =
        json!({"flight": {"number": "LH8160", "date": date.to_string(), "origin": "FRA"}});
    let first = f.subscribe(first_leg, "/first", &[]).await;
    assert_eq!(f.check().await, 1);
    assert_eq!(
        f.flights("LH8160", date).await.len(),
        2,
        "two legs, one per origin"
    );

    f.aero.answer(two_legs(date, true, false));
    assert_eq!(f.check_later().await, 1);
    f.delivered_to("/open").await;
    assert_eq!(f.rig.reread(&first).await["status"], "completed");
    assert_eq!(
        f.rig.reread(&open).await["status"],
        "active",
        "LEJ→ORD is still to come"
    );

    f.aero.answer(two_legs(date, true, true));
    assert_eq!(f.check_later().await, 1);
    let posts = f.delivered_to("/open").await;
    assert_eq!(f.rig.reread(&open).await["status"], "completed");
    let sequences: Vec<u64> = posts
        .iter()
        .map(|p| p["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=sequences.len() as u64).collect::<Vec<_>>(),
        "one sequence"
    );
    let last = posts.last().unwrap();
    assert_eq!(last["type"], "subscription.completed");
    assert_eq!(last["flight"]["origin"], "LEJ");
    // Each leg was told as itself.
    let origins: Vec<&str> = posts
        .iter()
        .filter(|p| p["type"] == "flight.updated")
        .map(|p| p["flight"]["origin"].as_str().unwrap())
        .collect();
    assert!(
        origins.contains(&"FRA") && origins.contains(&"LEJ"),
        "{origins:?}"
    );
}

async fn a_subscription_made_after_its_flight_arrived_completes_at_the_next_check(
    backend: Backend,
) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    // No source knows the flight; a carrier reported it, arrival included.
    f.aero.answer(Answer::status(404));
    f.rig.subscribe_url("/awb").await;
    let arrived = json!({
        "actualDeparture": format!("{date}T14:10:00+01:00"),
        "actualArrival": format!("{date}T16:45:00-06:00"),
    });
    f.rig.poll(vec![on_flight("DEP", date, arrived)]).await;
    let known = f.flights("LH8160", date).await;
    assert_eq!(known[0]["status"], "ARRIVED");
    let uuid = known[0]["flightUUID"].as_str().unwrap().to_owned();

    let late = f.subscribe(json!({"flightUUID": uuid}), "/late", &[]).await;
    assert_eq!(f.check().await, 1);
    let posts = f.delivered_to("/late").await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["type"], "subscription.completed");
    assert_eq!(posts[0]["flight"]["status"], "ARRIVED");
    assert_eq!(f.rig.reread(&late).await["status"], "completed");
}

async fn an_expired_flight_subscription_is_told_which_flight(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    let flight = json!({"flight": {"number": "LH8160", "date": date.to_string(), "origin": "FRA"}});
    let sub = f.subscribe(flight, "/expiring", &[]).await;
    f.rig.advance(TimeDelta::days(22));
    let posts = f.delivered_to("/expiring").await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["type"], "subscription.expired");
    let message = posts[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("flight LH8160 on {date} from FRA has expired")),
        "{message}"
    );
    assert_eq!(f.rig.reread(&sub).await["status"], "expired");
}
