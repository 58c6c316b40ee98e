//! Lufthansa failing: 401/429/5xx from the Shipment Tracking API or the subscribe API back off
//! like every carrier's (refused credentials wait `poller.max_interval`, `Retry-After` is
//! honoured, outages back off exponentially), and the next success resets it all.

use super::answers::Step;
use super::fake::Api;
use super::{AWB, Rig};
use crate::helpers::{Backend, on_both_backends};
use chrono::{DateTime, TimeDelta, Utc};
use skyhook::clock::Clock;

on_both_backends!(
    the_tracking_api_refusing_or_failing_backs_off_like_the_other_carriers,
    refused_credentials_at_registration_are_not_hammered,
);

impl Rig {
    /// How long from now until the shipment's next check, and its last error.
    async fn next_check(&self) -> (TimeDelta, Option<String>) {
        let shipment = self.shipment().await;
        let next: DateTime<Utc> = shipment["nextCheckAt"].as_str().unwrap().parse().unwrap();
        let error = shipment["lastError"].as_str().map(str::to_owned);
        (next - self.clock.now(), error)
    }

    fn auth_failures(&self) -> f64 {
        self.metric(r#"skyhook_carrier_auth_failures_total{carrier="lufthansa"}"#)
    }
}

async fn the_tracking_api_refusing_or_failing_backs_off_like_the_other_carriers(backend: Backend) {
    let rig = Rig::new(backend).await;
    let min = TimeDelta::from_std(rig.settings.poller.min_interval.0).unwrap();
    rig.fake.track(AWB, super::answers::status(Step::Received));
    rig.subscribe(1).await;
    rig.fake.fail(Api::Tracking, 401, None);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(
        rig.fake.calls(Api::Subscribe),
        1,
        "registered; the fetch was refused"
    );
    let (wait, error) = rig.next_check().await;
    assert_eq!(wait, TimeDelta::hours(2), "the longest wait");
    assert!(error.unwrap().contains("carriers.lufthansa.api_key"));
    assert_eq!(rig.auth_failures(), 1.0);
    rig.advance(30 * 60);
    assert_eq!(rig.poll().await, 0, "not asked again soon");

    // Rate limited: Retry-After is honoured.
    rig.advance(2 * 3600);
    rig.fake.fail(Api::Tracking, 429, Some("5400"));
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.next_check().await.0, TimeDelta::minutes(90));

    // An outage backs off exponentially: the third failure in a row waits four minimums.
    rig.advance(2 * 3600);
    rig.fake.fail(Api::Tracking, 503, None);
    assert_eq!(rig.poll().await, 1);
    let (wait, error) = rig.next_check().await;
    assert_eq!(wait, min * 4);
    assert!(error.unwrap().contains("HTTP 503"));

    // A push during the back-off is still heard: it only brings the fetch forward.
    assert_eq!(rig.push("RCS").await.status, 200);
    rig.advance(10);
    assert_eq!(rig.poll().await, 1);
    let (_, error) = rig.next_check().await;
    assert_eq!(error, None, "the fetch succeeded");
    assert_eq!(rig.fake.calls(Api::Tracking), 4);
    assert_eq!(rig.fake.calls(Api::Subscribe), 1);
    assert_eq!(rig.auth_failures(), 1.0);
}

async fn refused_credentials_at_registration_are_not_hammered(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.fake.track(AWB, super::answers::status(Step::Received));
    rig.subscribe(1).await;
    rig.fake.fail(Api::Subscribe, 401, None);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.auth_failures(), 1.0);
    assert_eq!(
        rig.fake.calls(Api::Tracking),
        0,
        "nothing fetched unregistered"
    );
    assert_eq!(rig.next_check().await.0, TimeDelta::hours(2));
    rig.advance(30 * 60);
    assert_eq!(rig.poll().await, 0);

    rig.advance(2 * 3600);
    rig.fake.fail(Api::Subscribe, 500, Some("5400"));
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.next_check().await.0, TimeDelta::minutes(90));

    rig.advance(2 * 3600);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Subscribe), 3);
    assert_eq!(rig.fake.calls(Api::Tracking), 1, "fetched once registered");
    assert_eq!(rig.push("RCS").await.status, 200, "registered at last");
}
