//! A carrier's history that flaps: events that vanish and come back, and earlier events
//! back-filled beside stored ones. Subscribers hear of an event once, and again only when what
//! it says changed (issue 12, item 6).

use crate::delivery::{AWB, DeliveryRig, codes};
use crate::helpers::{Backend, on_both_backends};
use serde_json::{Value, json};
use skyhook::domain::AwbNumber;

on_both_backends!(
    events_that_come_back_unchanged_are_not_announced_again,
    an_event_back_filled_before_a_stored_twin_is_the_only_new_one,
);

/// A CargoAI event of one piece (of the shipment's three).
fn event(code: &str, location: &str, date: &str) -> Value {
    json!({
        "code": code, "eventDate": date, "eventLocation": location, "isPlanned": false,
        "pieces": "1", "weight": "40.0"
    })
}

fn bkd() -> Value {
    event("BKD", "FRA", "2026-11-23T08:00:00Z")
}

fn rcs() -> Value {
    event("RCS", "FRA", "2026-11-24T09:00:00+01:00")
}

fn dep(date: &str) -> Value {
    event("DEP", "FRA", date)
}

/// The bodies the receiver got, in order.
fn bodies(rig: &DeliveryRig) -> Vec<Value> {
    rig.receiver.posts().iter().map(|p| p.json()).collect()
}

/// The stored history as (code, withdrawn), oldest first.
async fn history(rig: &DeliveryRig) -> Vec<(String, bool)> {
    let awb = AwbNumber::parse(AWB).unwrap();
    let view = rig.app.store.get_shipment(rig.tenant, &awb).await.unwrap();
    view.expect("the shipment is stored")
        .events
        .into_iter()
        .map(|stored| (stored.event.code, stored.withdrawn))
        .collect()
}

async fn events_that_come_back_unchanged_are_not_announced_again(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    rig.subscribe_url("/hook").await;
    let departure = "2026-11-25T14:20:00+01:00";

    rig.poll(vec![bkd(), rcs(), dep(departure)]).await;
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(codes(&bodies(&rig)[0], "newEvents"), ["BKD", "RCS", "DEP"]);

    // A truncated answer withdraws what it lacks and tells nobody.
    rig.poll(vec![bkd()]).await;
    assert_eq!(rig.dispatch().await, 0, "a withdrawal is not announced");
    let withdrawn = [("BKD", false), ("RCS", true), ("DEP", true)];
    assert_eq!(
        history(&rig).await,
        withdrawn.map(|(c, w)| (c.to_owned(), w))
    );

    // The full history again: restored as it was, so nothing to announce.
    rig.poll(vec![bkd(), rcs(), dep(departure)]).await;
    let sent = rig.dispatch().await;
    let again: Vec<Vec<String>> = bodies(&rig)[1..]
        .iter()
        .map(|body| codes(body, "newEvents"))
        .collect();
    assert_eq!(
        (sent, again),
        (0, Vec::<Vec<String>>::new()),
        "restored events were announced again"
    );
    let restored = [("BKD", false), ("RCS", false), ("DEP", false)];
    assert_eq!(
        history(&rig).await,
        restored.map(|(c, w)| (c.to_owned(), w))
    );

    // Withdrawn again, then back re-timed: that is news, and only the re-timed event is.
    rig.poll(vec![bkd()]).await;
    assert_eq!(rig.dispatch().await, 0);
    rig.poll(vec![bkd(), rcs(), dep("2026-11-25T15:05:00+01:00")])
        .await;
    assert_eq!(rig.dispatch().await, 1);
    let retimed = bodies(&rig).pop().unwrap();
    assert_eq!(codes(&retimed, "newEvents"), ["DEP"]);
    assert_eq!(
        retimed["newEvents"][0]["eventDate"],
        "2026-11-25T15:05:00+01:00"
    );
    assert_eq!(codes(&retimed, "oldEvents"), ["BKD", "RCS"]);
    assert_eq!(codes(&retimed, "events"), ["BKD", "RCS", "DEP"]);
}

async fn an_event_back_filled_before_a_stored_twin_is_the_only_new_one(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    rig.subscribe_url("/hook").await;
    // Pieces are accepted one at a time: two RCS of one piece each, the same identity.
    let later = event("RCS", "FRA", "2026-11-24T10:00:00+01:00");
    let earlier = event("RCS", "FRA", "2026-11-24T08:00:00+01:00");

    rig.poll(vec![bkd(), later.clone()]).await;
    assert_eq!(rig.dispatch().await, 1);

    // The aggregator back-fills the first acceptance, which it had not reported.
    rig.poll(vec![bkd(), earlier, later]).await;
    assert_eq!(rig.dispatch().await, 1);
    let body = bodies(&rig).pop().unwrap();
    let announced: Vec<&Value> = body["newEvents"].as_array().unwrap().iter().collect();
    let dates: Vec<&str> = announced
        .iter()
        .map(|e| e["eventDate"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2026-11-24T08:00:00+01:00"],
        "only the back-filled RCS is new; the stored one did not change"
    );
    assert_eq!(codes(&body, "oldEvents"), ["BKD", "RCS"]);
    assert_eq!(
        body["oldEvents"][1]["eventDate"],
        "2026-11-24T10:00:00+01:00"
    );
    assert_eq!(codes(&body, "events"), ["BKD", "RCS", "RCS"]);
    let none_withdrawn = [("BKD", false), ("RCS", false), ("RCS", false)];
    assert_eq!(
        history(&rig).await,
        none_withdrawn.map(|(c, w)| (c.to_owned(), w))
    );
}
