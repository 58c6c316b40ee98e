//! Carrier answers are read through one bound (`carriers.max_response_bytes`), and a
//! shipment keeps at most `poller.max_events_per_shipment` events, whatever a carrier lists.

use super::firehose::Firehose;
use crate::delivery::{AWB, DeliveryRig, time};
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
