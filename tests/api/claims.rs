//! Storage conformance for the poller's claims: leases make a shipment one instance's at a time.

use crate::helpers::{Backend, fresh_store, on_both_backends};
use crate::storage::{new_subscription, tenant};
use chrono::TimeDelta;
use skyhook::domain::AwbNumber;
use uuid::Uuid;

on_both_backends!(shipment_claims_are_exclusive_until_their_lease_expires);

async fn shipment_claims_are_exclusive_until_their_lease_expires(backend: Backend) {
    use skyhook::store::{Lease, PollRecord, PollResult};
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let new = new_subscription(alice, "020-08002050", Some("https://a.example/h"), &[]);
    let (now, id) = (new.created_at, new.id);
    store.create_subscription(new).await.unwrap();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let lease = TimeDelta::minutes(2);
    let lease_at = |owner, now| Lease {
        owner,
        now,
        until: now + lease,
    };

    let claimed = store
        .claim_due_shipments(lease_at(first, now), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due_shipments(lease_at(second, now), 10)
            .await
            .unwrap()
            .is_empty(),
        "a live claim is not handed out twice"
    );
    // The first instance "crashes"; after the lease the second takes the shipment over…
    let later = now + lease + TimeDelta::seconds(1);
    let taken = store
        .claim_due_shipments(lease_at(second, later), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    // …and the first one's late answer is dropped rather than overwriting the second's.
    let record = |at| PollRecord {
        awb: AwbNumber::parse("020-08002050").unwrap(),
        carrier: "cargoai",
        claimed_at: at,
        checked_at: at,
        next_poll_at: at + TimeDelta::minutes(5),
        poll_failures: 0,
        result: PollResult::NotFound,
    };
    assert!(
        store
            .record_polls(first, vec![record(later)])
            .await
            .unwrap()[0]
            .is_none()
    );
    assert!(
        store
            .record_polls(second, vec![record(later)])
            .await
            .unwrap()[0]
            .is_some()
    );
    // Released and not due yet: nobody claims it until its next poll time.
    assert!(
        store
            .claim_due_shipments(lease_at(first, later), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = later + TimeDelta::minutes(5);
    let claim = store
        .claim_due_shipments(lease_at(first, due), 10)
        .await
        .unwrap();
    assert_eq!(claim.len(), 1);
    assert!(store.record_polls(first, vec![record(due)]).await.unwrap()[0].is_some());
    // A shipment nobody is subscribed to any more is not fetched.
    store
        .unsubscribe_subscription(alice, id, due)
        .await
        .unwrap();
    let much_later = due + TimeDelta::hours(5);
    let unwanted = store
        .claim_due_shipments(lease_at(first, much_later), 10)
        .await
        .unwrap();
    assert!(unwanted.is_empty());
}

on_both_backends!(polls_recorded_together_are_each_fenced_by_their_own_claim);

async fn polls_recorded_together_are_each_fenced_by_their_own_claim(backend: Backend) {
    use skyhook::store::{Lease, PollRecord, PollResult};
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let awbs = ["020-08002050", "020-08002061", "020-08002072"];
    let mut now = None;
    for awb in awbs {
        let new = new_subscription(alice, awb, Some("https://a.example/h"), &[]);
        now = Some(new.created_at); // the last, when all three are due
        store.create_subscription(new).await.unwrap();
    }
    let now = now.unwrap();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let lease = TimeDelta::minutes(2);
    let lease_at = |owner, now| Lease {
        owner,
        now,
        until: now + lease,
    };
    assert_eq!(
        store
            .claim_due_shipments(lease_at(first, now), 10)
            .await
            .unwrap()
            .len(),
        3
    );
    // The first instance stalls past its lease; the second takes one of the three over.
    let later = now + lease + TimeDelta::seconds(1);
    let taken = store
        .claim_due_shipments(lease_at(second, later), 1)
        .await
        .unwrap();
    let [taken] = taken.as_slice() else {
        panic!("one claim taken over, got {}", taken.len())
    };
    let record = |awb: &str| PollRecord {
        awb: AwbNumber::parse(awb).unwrap(),
        carrier: "cargoai",
        claimed_at: now,
        checked_at: later,
        next_poll_at: later + TimeDelta::minutes(5),
        poll_failures: 0,
        result: PollResult::NotFound,
    };
    let recorded = store
        .record_polls(first, awbs.iter().map(|a| record(a)).collect())
        .await
        .unwrap();
    let written: Vec<bool> = recorded.iter().map(Option::is_some).collect();
    let expected: Vec<bool> = awbs.iter().map(|a| *a != taken.awb.as_str()).collect();
    assert_eq!(written, expected, "only the claim taken over is left out");
    // The two written are released and not due; the one taken over is still the second's.
    let due_again = store
        .claim_due_shipments(lease_at(first, later), 10)
        .await
        .unwrap();
    assert!(due_again.is_empty(), "{due_again:?}");
    assert!(
        store
            .record_polls(second, vec![record(taken.awb.as_str())])
            .await
            .unwrap()[0]
            .is_some(),
        "the second instance's claim survived the first one's late batch"
    );
}
