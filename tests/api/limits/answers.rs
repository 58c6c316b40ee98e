//! Carrier answers are read through one bound (`carriers.max_response_bytes`), and a
//! shipment keeps at most `poller.max_events_per_shipment` events, whatever a carrier lists.

use super::firehose::Firehose;
use crate::delivery::{AWB, DeliveryRig, codes, event, time};
use crate::helpers::{Backend, on_both_backends};
use chrono::TimeDelta;

on_both_backends!(a_carrier_answer_past_the_limit_fails_the_poll_unread_and_backs_off);

const MIB: usize = 1024 * 1024;

async fn a_carrier_answer_past_the_limit_fails_the_poll_unread_and_backs_off(backend: Backend) {
    let firehose = Firehose::start(300 * MIB).await;
    let base_url = firehose.base_url.clone();
    let rig = DeliveryRig::with(backend, move |s| {
        s.carriers.cargoai.base_url = base_url.parse().unwrap();
    })
    .await;
    rig.subscribe_url("/hook").await;
    let path = format!("/v1/shipments/{AWB}");

    rig.poll(Vec::new()).await;
    let shipment = rig.app.get(&path, &rig.key).await.body;
    let error = shipment["lastError"].as_str().unwrap_or_default();
    assert!(
        error.contains("cargoai answered more than 8 MiB")
            && error.contains("carriers.max_response_bytes"),
        "lastError: {error:?}"
    );
    // Cut off at the limit: what the fake got into the connection is the limit plus what the
    // sockets buffer, nowhere near the 300 MiB it had to send.
    let sent = firehose.sent_when_ended().await;
    assert!(
        sent < 64 * MIB,
        "{} MiB of {} MiB sent before the connection was dropped",
        sent / MIB,
        firehose.total / MIB
    );
    assert!(shipment["events"].as_array().unwrap().is_empty());
    let wait = |s: &serde_json::Value| time(&s["nextCheckAt"]) - time(&s["lastCheckedAt"]);
    assert_eq!(wait(&shipment), TimeDelta::minutes(5), "first failure");

    rig.poll(Vec::new()).await;
    let again = rig.app.get(&path, &rig.key).await.body;
    assert_eq!(wait(&again), TimeDelta::minutes(10), "backing off");
}

on_both_backends!(a_shipment_keeps_the_latest_events_up_to_the_cap_and_so_does_every_webhook);

/// Events `first..last` (exclusive), each its own identity, a minute apart.
fn events(first: usize, last: usize) -> Vec<serde_json::Value> {
    let start: chrono::DateTime<chrono::Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    (first..last)
        .map(|i| {
            let at = start + TimeDelta::minutes(i as i64);
            event(&format!("E{i:04}"), "FRA", &at.to_rfc3339())
        })
        .collect()
}

async fn a_shipment_keeps_the_latest_events_up_to_the_cap_and_so_does_every_webhook(
    backend: Backend,
) {
    // The default cap is 500 (poller.max_events_per_shipment).
    let rig = DeliveryRig::new(backend).await;
    rig.subscribe_url("/hook").await;
    let path = format!("/v1/shipments/{AWB}");

    rig.poll(events(0, 600)).await;
    let shipment = rig.app.get(&path, &rig.key).await.body;
    let kept = codes(&shipment, "events");
    assert_eq!(kept.len(), 500, "the cap");
    assert_eq!(
        (kept[0].as_str(), kept[499].as_str()),
        ("E0100", "E0599"),
        "the latest are kept"
    );
    let anomalies = shipment["anomalies"].to_string();
    assert!(
        anomalies.contains("600 events") && anomalies.contains("poller.max_events_per_shipment"),
        "{anomalies}"
    );
    assert_eq!(rig.dispatch().await, 1);
    let body = rig.receiver.posts()[0].json();
    assert_eq!(codes(&body, "events").len(), 500);
    assert_eq!(codes(&body, "newEvents").len(), 500);

    // One more: it is announced alone, the earliest drops out (withdrawn, not announced), and
    // the webhook still lists 500.
    rig.poll(events(0, 601)).await;
    let shipment = rig.app.get(&path, &rig.key).await.body;
    let current: Vec<&serde_json::Value> = shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["withdrawn"] == false)
        .collect();
    assert_eq!(current.len(), 500);
    assert_eq!(current[499]["code"], "E0600");
    assert_eq!(rig.dispatch().await, 1);
    let body = rig.receiver.posts()[1].json();
    assert_eq!(codes(&body, "newEvents"), ["E0600"]);
    assert_eq!(codes(&body, "events").len(), 500);
}
