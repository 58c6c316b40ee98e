//! What TrackingMore's failures mean for each AWB of a batch: not found, an unreadable entry,
//! refused credentials, rate limits and outages.

use super::{Rig, answer, entry, meta};
use crate::fake_carrier::Answer;
use crate::helpers::{Backend, awb, on_both_backends};
use chrono::TimeDelta;
use serde_json::json;

on_both_backends!(
    awbs_reported_without_data_are_not_found,
    an_unreadable_entry_fails_only_its_own_awb,
    refused_credentials_fail_the_whole_batch_and_are_not_hammered,
    rate_limits_and_outages_back_off_honouring_retry_after,
);

async fn awbs_reported_without_data_are_not_found(backend: Backend) {
    let awbs = [awb("172", 4), awb("176", 5)];
    let rig = Rig::new(&backend, &awbs, 40).await;
    rig.poll(
        answer(vec![
            (
                &awbs[0],
                json!({"track_number": awbs[0], "return_data": {}}),
            ),
            (&awbs[1], entry(&awbs[1], "RCS", "FRA")),
        ]),
        2,
    )
    .await;
    assert!(rig.codes(&awbs[0]).await.is_empty());
    assert_eq!(rig.wait(&awbs[0]).await, TimeDelta::hours(2));
    assert_eq!(rig.codes(&awbs[1]).await, ["RCS"]);
    assert_eq!(
        (rig.metrics.polls("not_found"), rig.metrics.polls("changed")),
        (1.0, 1.0)
    );

    // "Tracking does not exist" for the whole request: every AWB not found, nothing lost.
    rig.poll(meta(4017, "Tracking does not exist."), 2).await;
    assert_eq!(rig.metrics.polls("not_found"), 3.0);
    assert_eq!(rig.metrics.polls("failed"), 0.0);
    assert_eq!(rig.codes(&awbs[1]).await, ["RCS"]);
}

async fn an_unreadable_entry_fails_only_its_own_awb(backend: Backend) {
    let awbs = [awb("172", 6), awb("020", 7), awb("176", 8)];
    let rig = Rig::new(&backend, &awbs, 40).await;
    rig.poll(
        answer(vec![
            (&awbs[0], json!("no data, try later")),
            // Filed under our AWB but about another one: storing it would be wrong.
            (&awbs[1], entry(&awb("020", 99), "DLV", "ORD")),
            (&awbs[2], entry(&awbs[2], "BKD", "FRA")),
        ]),
        3,
    )
    .await;
    assert_eq!(rig.fake.seen().len(), 1);
    assert_eq!(rig.codes(&awbs[2]).await, ["BKD"]);
    for bad in &awbs[..2] {
        assert!(rig.codes(bad).await.is_empty(), "{bad}");
        assert_eq!(rig.wait(bad).await, TimeDelta::minutes(5), "{bad}");
    }
    assert_eq!(
        (rig.metrics.polls("failed"), rig.metrics.polls("changed")),
        (2.0, 1.0)
    );
}

async fn refused_credentials_fail_the_whole_batch_and_are_not_hammered(backend: Backend) {
    let awbs = [awb("172", 10), awb("020", 11), awb("176", 12)];
    let rig = Rig::new(&backend, &awbs, 40).await;
    rig.poll(Answer::status(401), 3).await;
    assert_eq!(rig.fake.seen().len(), 1);
    assert_eq!(rig.metrics.auth_failures(), 3.0, "every AWB of the batch");
    for awb in &awbs {
        assert_eq!(rig.wait(awb).await, TimeDelta::hours(2), "{awb}");
    }

    // A bad key can also come as HTTP 200 with TrackingMore's own code.
    rig.poll(meta(4001, "Invalid API key."), 3).await;
    assert_eq!(rig.fake.seen().len(), 2);
    assert_eq!(rig.metrics.auth_failures(), 6.0);
    for awb in &awbs {
        assert_eq!(rig.wait(awb).await, TimeDelta::hours(2), "{awb}");
    }
    assert_eq!(rig.metrics.polls("failed"), 6.0);
}

async fn rate_limits_and_outages_back_off_honouring_retry_after(backend: Backend) {
    let awbs = [awb("172", 13), awb("176", 14)];
    let rig = Rig::new(&backend, &awbs, 40).await;
    rig.poll(Answer::status(503), 2).await;
    for awb in &awbs {
        assert_eq!(rig.wait(awb).await, TimeDelta::minutes(5), "{awb}");
    }
    rig.poll(Answer::status(503), 2).await;
    for awb in &awbs {
        assert_eq!(rig.wait(awb).await, TimeDelta::minutes(10), "backing off");
    }
    rig.poll(Answer::status(429).with_header("retry-after", "5400"), 2)
        .await;
    for awb in &awbs {
        assert_eq!(rig.wait(awb).await, TimeDelta::minutes(90), "Retry-After");
    }
    assert_eq!(rig.fake.seen().len(), 3, "one request per round");
    assert_eq!(rig.metrics.auth_failures(), 0.0);
}
