//! Flights followed through flight-status sources: FlightAware (a local fake speaking AeroAPI)
//! and the demo sandbox.

use super::{Aero, FlightRig, change, fields, soon};
use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, on_both_backends, spawn_app_with};
use chrono::TimeDelta;
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    a_flightaware_flight_is_followed_from_delay_to_arrival,
    a_demo_flight_delayed_then_cancelled_completes_its_subscription,
    a_flight_the_source_does_not_know_yet_sends_nothing_and_is_asked_again_later,
    a_flight_source_refusing_our_key_shows_on_readyz_and_is_not_hammered,
    a_flightaware_cancellation_and_a_demo_diversion_are_told_as_such,
);

async fn a_flightaware_flight_is_followed_from_delay_to_arrival(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    f.aero.answer(Aero::default().answer(date));
    let flight =
        json!({"flight": {"number": "lh 08160", "date": date.to_string(), "origin": "fra"}});
    let sub = f
        .subscribe(flight, "/flights", &["ops@forwarder.example"])
        .await;
    // Named with its origin, the flight is known from the subscription on, times to come.
    let learned = f.flights("LH8160", date).await;
    assert_eq!(learned.len(), 1);
    assert_eq!(sub["flightUUID"], learned[0]["flightUUID"]);
    assert_eq!(learned[0]["lastCheckedAt"], json!(null));
    assert_eq!(learned[0]["scheduledDeparture"], json!(null));
    assert_eq!(f.check().await, 1);

    // The source was asked for the normalised number, with our key.
    let seen = f.aero.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].path_and_query.starts_with("/flights/LH8160"),
        "{}",
        seen[0].path_and_query
    );
    assert_eq!(seen[0].headers["x-apikey"], "aero-key");

    // The flight is known now, in local times, with a stable id.
    let known = f.flights("LH8160", date).await;
    assert_eq!(known.len(), 1, "{known:?}");
    let listed = &known[0];
    assert_eq!(listed["status"], "SCHEDULED");
    assert_eq!(
        (listed["origin"].as_str(), listed["destination"].as_str()),
        (Some("FRA"), Some("ORD"))
    );
    assert_eq!(
        listed["scheduledDeparture"],
        format!("{date}T14:05:00+01:00")
    );
    assert_eq!(listed["scheduledArrival"], format!("{date}T16:50:00-06:00"));
    assert_eq!(listed["source"], "flightaware");
    assert_eq!(listed["sandbox"], false);
    assert!(listed["lastCheckedAt"].is_string());
    let uuid = listed["flightUUID"].as_str().unwrap().to_owned();
    assert_eq!(
        sub["flightUUID"],
        uuid.as_str(),
        "the same flight, the same id"
    );
    let by_id = f
        .rig
        .app
        .get(&format!("/v1/flights/{uuid}"), &f.rig.key)
        .await;
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body["flightUUID"], uuid.as_str());

    // What was first learned is the first message.
    let posts = f.delivered_to("/flights").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["type"], "flight.updated");
    assert_eq!(posts[0]["sequence"], 1);
    assert_eq!(posts[0]["flight"]["flightUUID"], uuid.as_str());
    assert_eq!(change(&posts[0], "scheduledDeparture").0, json!(null));

    // A delay: old and new values, and the same in words.
    f.aero.answer(
        Aero {
            estimated_out: Some("15:40:00"),
            ..Aero::default()
        }
        .answer(date),
    );
    assert_eq!(f.check_later().await, 1);
    let posts = f.delivered_to("/flights").await;
    assert_eq!(posts.len(), 2);
    let delayed = &posts[1];
    assert_eq!(delayed["sequence"], 2);
    assert_eq!(fields(delayed), ["estimatedDeparture", "status"]);
    assert_eq!(
        change(delayed, "estimatedDeparture"),
        (json!(null), json!(format!("{date}T16:40:00+01:00")))
    );
    assert_eq!(
        change(delayed, "status"),
        (json!("SCHEDULED"), json!("DELAYED"))
    );
    assert_eq!(
        delayed["summary"],
        "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
    );
    assert_eq!(delayed["flight"]["status"], "DELAYED");
    let mail = f
        .rig
        .sink
        .messages()
        .pop()
        .expect("an email per message")
        .unwrapped();
    assert!(mail.contains("estimated departure 14:05"), "{mail}");
    assert!(mail.contains("(+2h35)"), "{mail}");

    // An unchanged answer says nothing.
    assert_eq!(f.check_later().await, 1);
    assert_eq!(f.delivered_to("/flights").await.len(), 2);

    // Departure, then arrival, which completes the subscription after its message.
    let departed = Aero {
        estimated_out: Some("15:40:00"),
        actual_out: Some("15:45:00"),
        ..Aero::default()
    };
    f.aero.answer(departed.answer(date));
    assert_eq!(f.check_later().await, 1);
    let arrived = Aero {
        actual_in: Some("23:30:00"),
        ..departed
    };
    f.aero.answer(arrived.answer(date));
    assert_eq!(f.check_later().await, 1);
    let posts = f.delivered_to("/flights").await;
    let kinds: Vec<(&str, &str)> = posts
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap(),
                p["flight"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("flight.updated", "SCHEDULED"),
            ("flight.updated", "DELAYED"),
            ("flight.updated", "DEPARTED"),
            ("flight.updated", "ARRIVED"),
            ("subscription.completed", "ARRIVED"),
        ]
    );
    assert_eq!(
        change(&posts[3], "actualArrival").1,
        json!(format!("{date}T17:30:00-06:00"))
    );
    assert!(
        posts[4]["message"]
            .as_str()
            .unwrap()
            .contains("has arrived"),
        "{}",
        posts[4]
    );
    assert_eq!(f.rig.reread(&sub).await["status"], "completed");

    // Nothing left to follow: the source is not asked again.
    let asked = f.aero.seen().len();
    assert_eq!(f.check_later().await, 0);
    assert_eq!(f.aero.seen().len(), asked);
}

async fn a_demo_flight_delayed_then_cancelled_completes_its_subscription(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    let flight = json!({"flight": {"number": "ZZ9002", "date": date.to_string()}});
    let sub = f.subscribe(flight, "/demo", &[]).await;
    assert_eq!(f.check().await, 1);
    let known = f.flights("ZZ9002", date).await;
    assert_eq!(known.len(), 1);
    assert_eq!(known[0]["sandbox"], true, "the demo source is labelled");
    assert_eq!(known[0]["status"], "SCHEDULED");

    // The demo steps once a minute and is checked at that pace.
    f.rig.advance(TimeDelta::seconds(61));
    assert_eq!(f.check().await, 1);
    f.rig.advance(TimeDelta::seconds(61));
    assert_eq!(f.check().await, 1);
    let posts = f.delivered_to("/demo").await;
    let statuses: Vec<&str> = posts
        .iter()
        .map(|p| p["flight"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["SCHEDULED", "DELAYED", "CANCELLED", "CANCELLED"]);
    assert_eq!(
        change(&posts[2], "status"),
        (json!("DELAYED"), json!("CANCELLED"))
    );
    assert_eq!(posts[2]["summary"], "ZZ9002 FRA→ORD cancelled");
    assert_eq!(posts[3]["type"], "subscription.completed");
    assert!(
        posts[3]["message"]
            .as_str()
            .unwrap()
            .contains("was cancelled")
    );
    assert_eq!(f.rig.reread(&sub).await["status"], "completed");
    assert_eq!(f.check_later().await, 0);
}

async fn a_flight_the_source_does_not_know_yet_sends_nothing_and_is_asked_again_later(
    backend: Backend,
) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    f.aero.answer(Answer::status(404));
    let flight = json!({"flight": {"number": "LH8160", "date": date.to_string()}});
    let sub = f.subscribe(flight, "/later", &[]).await;
    assert_eq!(f.check().await, 1);
    assert!(f.flights("LH8160", date).await.is_empty());
    assert!(f.delivered_to("/later").await.is_empty());
    // Not due again at once…
    assert_eq!(f.check().await, 0);
    // …but later, when the source has it. The subscription named no origin: any leg matches.
    f.aero.answer(Aero::default().answer(date));
    assert_eq!(f.check_later().await, 1);
    let posts = f.delivered_to("/later").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["flight"]["origin"], "FRA");
    assert_eq!(f.rig.reread(&sub).await["status"], "active");
}

async fn a_flight_source_refusing_our_key_shows_on_readyz_and_is_not_hammered(backend: Backend) {
    let aero = FakeCarrier::start().await;
    aero.answer(Answer::status(401));
    let base_url = aero.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.poller.enabled = true;
        s.poller.idle_wait = skyhook::config::HumanDuration(Duration::from_millis(20));
        s.flights.flightaware.enabled = true;
        s.flights.flightaware.base_url = base_url.parse().unwrap();
        s.flights.flightaware.api_key = skyhook::config::Secret::new("revoked");
    })
    .await;
    let key = app.create_key("acme").await;
    let flight = json!({"number": "LH8160", "date": soon().to_string()});
    app.subscribed(
        &key,
        json!({"flight": flight, "url": "https://tms.example.com/f"}),
    )
    .await;
    let started = std::time::Instant::now();
    let ready = loop {
        let reply = app
            .request(reqwest::Method::GET, "/readyz", None, None)
            .await;
        if reply.body["status"] == "degraded" {
            break reply;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ready.status, 200);
    let errors = ready.body["carrierErrors"].to_string();
    assert!(errors.contains("flights.flightaware"), "{errors}");
    assert!(errors.contains("flights.flightaware.api_key"), "{errors}");
    // Refused credentials are not retried at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(aero.seen().len(), 1);
}

#[test]
fn flight_source_settings_are_checked_naming_the_key() {
    let valid = || {
        let mut settings = crate::helpers::test_settings("sqlite://unused.db");
        settings.flights.flightaware.enabled = true;
        settings.flights.flightaware.api_key = skyhook::config::Secret::new("k");
        settings.flights.flightaware.designators = vec!["LH".into(), "DLH".into()];
        settings
    };
    assert!(valid().validate().is_ok());
    let refused = |change: fn(&mut skyhook::config::Settings)| {
        let mut settings = valid();
        change(&mut settings);
        settings.validate().unwrap_err().to_string()
    };
    let error = refused(|s| s.flights.flightaware.api_key = skyhook::config::Secret::new(""));
    assert!(error.contains("flights.flightaware.api_key"), "{error}");
    let error = refused(|s| s.flights.flightaware.designators = vec!["LUFT".into()]);
    assert!(error.contains("flights.flightaware.designators"), "{error}");
    assert!(error.contains("LUFT"), "{error}");
    let error = refused(|s| s.flights.flightaware.rate_limit = 0.0);
    assert!(error.contains("flights.flightaware.rate_limit"), "{error}");
    // Two sources for one designator stop startup, naming both.
    let mut both = valid();
    both.flights.demo.designators = vec!["LH".into()];
    skyhook::telemetry::install_crypto_provider();
    let clock = std::sync::Arc::new(skyhook::clock::SystemClock);
    let error = skyhook::ingest::flights::FlightSources::from_settings(
        &both.flights,
        crate::helpers::source_http(&both),
        clock,
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        error.contains("flights.demo") && error.contains("flights.flightaware"),
        "{error}"
    );
}

async fn a_flightaware_cancellation_and_a_demo_diversion_are_told_as_such(backend: Backend) {
    let f = FlightRig::new(backend).await;
    let date = soon();
    f.aero.answer(Aero::default().answer(date));
    let cancelled = f
        .subscribe(
            json!({"flight": {"number": "LH8160", "date": date.to_string()}}),
            "/cx",
            &[],
        )
        .await;
    let diverted = f
        .subscribe(
            json!({"flight": {"number": "ZZ9003", "date": date.to_string()}}),
            "/dv",
            &[],
        )
        .await;
    assert_eq!(f.check().await, 2);
    f.aero.answer(
        Aero {
            cancelled: true,
            ..Aero::default()
        }
        .answer(date),
    );
    // Three more demo steps (a minute each) reach the diversion; two hours later the demo
    // flight has arrived and FlightAware is asked again.
    for _ in 0..3 {
        f.rig.advance(TimeDelta::seconds(61));
        assert_eq!(f.check().await, 1, "only the demo flight is due this soon");
    }
    assert_eq!(f.check_later().await, 2);

    let posts = f.delivered_to("/cx").await;
    let last_update = posts
        .iter()
        .rev()
        .find(|p| p["type"] == "flight.updated")
        .unwrap();
    assert_eq!(
        change(last_update, "status"),
        (json!("SCHEDULED"), json!("CANCELLED"))
    );
    assert_eq!(last_update["summary"], "LH8160 FRA→ORD cancelled");
    assert_eq!(posts.last().unwrap()["type"], "subscription.completed");
    assert_eq!(f.rig.reread(&cancelled).await["status"], "completed");

    let posts = f.delivered_to("/dv").await;
    let diversion = posts
        .iter()
        .find(|p| {
            fields(p).contains(&"destination".to_owned()) && change(p, "destination").0 == "ORD"
        })
        .expect("a diversion message");
    assert_eq!(
        change(diversion, "destination"),
        (json!("ORD"), json!("MKE"))
    );
    assert_eq!(diversion["summary"], "ZZ9003 FRA→ORD diverted to MKE");
    assert_eq!(diversion["flight"]["destination"], "MKE");
    // It then arrives where it was diverted to, which ends the subscription.
    let last = posts.last().unwrap();
    assert_eq!(last["type"], "subscription.completed");
    assert_eq!(
        (
            last["flight"]["status"].as_str(),
            last["flight"]["destination"].as_str()
        ),
        (Some("ARRIVED"), Some("MKE"))
    );
    assert_eq!(f.rig.reread(&diverted).await["status"], "completed");
}
