//! A tenant's delivery figures for the status page, made through the real outbox flow (test
//! messages queued, claimed and recorded at known times), and a message's body.

use super::create;
use crate::delivery::{claim_as, outcome};
use crate::helpers::{Backend, fresh_store, on_both_backends};
use crate::storage::{new_subscription, tenant};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use skyhook::clock::{Clock, SystemClock};
use skyhook::domain::{SubscriptionId, TenantId};
use skyhook::store::{DeliveryScope, DeliveryStats, HourlyDeliveries, NextStep, Store, TestLimit};

on_both_backends!(
    delivery_stats_count_each_hour_of_the_day,
    delivery_stats_of_a_quiet_tenant_are_zeros,
    a_delivery_body_is_found_only_in_its_scope,
    retrying_the_failed_retries_only_the_subscriptions_failed_messages,
);

/// Queues a test message of `sub` at `at` and makes its attempt then with outcome `next` (one
/// per channel target); returns how many were attempted.
async fn attempt(
    store: &dyn Store,
    tenant: TenantId,
    sub: SubscriptionId,
    at: DateTime<Utc>,
    next: NextStep,
) -> usize {
    queue(store, tenant, sub, at).await;
    let owner = uuid::Uuid::new_v4();
    let claimed = claim_as(store, owner, at, TimeDelta::minutes(1)).await;
    for message in &claimed {
        assert!(
            store
                .record_delivery(owner, outcome(message, at, next.clone()))
                .await
                .unwrap()
        );
    }
    claimed.len()
}

/// Queues a test message of `sub` at `at`, due then.
async fn queue(store: &dyn Store, tenant: TenantId, sub: SubscriptionId, at: DateTime<Utc>) {
    let limit = TestLimit {
        max: 1000,
        window: TimeDelta::hours(1),
    };
    store
        .queue_test_message(tenant, sub, at, limit)
        .await
        .unwrap()
        .expect("queued");
}

async fn delivery_stats_count_each_hour_of_the_day(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let store = &*store;
    let (alice, bob) = (tenant(store, "alice").await, tenant(store, "bob").await);
    let hook = Some("https://a.example/h");
    let url_only = create(store, new_subscription(alice, "020-08002050", hook, &[])).await;
    let both = create(
        store,
        new_subscription(alice, "172-28891936", hook, &["ops@a.example"]),
    )
    .await;
    let parking = create(store, new_subscription(alice, "020-08002061", hook, &[])).await;
    let bobs = create(store, new_subscription(bob, "020-08002050", hook, &[])).await;

    let now = SystemClock.now();
    let hour = TimeDelta::hours(1);
    let current = now.duration_trunc(hour).unwrap();
    let first = current - hour * 23;
    let tick = TimeDelta::microseconds(1);
    // In time order: each claim takes every message due by then.
    let (d, f) = (NextStep::Delivered, NextStep::GiveUp);
    assert_eq!(
        attempt(store, alice, url_only, first - tick, d.clone()).await,
        1,
        "a day ago"
    );
    assert_eq!(attempt(store, alice, url_only, first, d.clone()).await, 1);
    let retry = NextStep::RetryAt(now + hour);
    assert_eq!(
        attempt(store, alice, url_only, first + hour * 5, retry).await,
        1,
        "pending"
    );
    let tenth = first + hour * 10 + TimeDelta::minutes(30);
    assert_eq!(
        attempt(store, alice, both, tenth, f.clone()).await,
        2,
        "webhook and email"
    );
    // Failed without an attempt (its channel went away): in no hour.
    assert_eq!(
        attempt(store, alice, url_only, tenth, NextStep::Cancelled).await,
        1
    );
    assert_eq!(
        attempt(store, alice, parking, tenth, NextStep::Park).await,
        1
    );
    assert_eq!(
        attempt(store, alice, url_only, current - tick, d.clone()).await,
        1
    );
    assert_eq!(attempt(store, alice, url_only, current, d.clone()).await, 1);
    assert_eq!(attempt(store, alice, url_only, current, f.clone()).await, 1);
    assert_eq!(attempt(store, alice, both, current, d.clone()).await, 2);
    assert_eq!(attempt(store, bob, bobs, current, d.clone()).await, 1);
    // Still to send, due since then.
    queue(store, alice, url_only, current - hour * 2).await;
    queue(store, alice, url_only, current - hour).await;
    queue(store, bob, bobs, current - hour * 3).await;

    let mut expected: Vec<HourlyDeliveries> = (0..24)
        .map(|n| HourlyDeliveries {
            hour_start: first + hour * n,
            delivered: 0,
            failed: 0,
        })
        .collect();
    expected[0].delivered = 1;
    expected[10].failed = 2;
    expected[22].delivered = 1;
    expected[23].delivered = 3;
    expected[23].failed = 1;
    let stats = store.delivery_stats(alice, now).await.unwrap();
    assert_eq!(stats.hourly, expected);
    assert_eq!(
        stats.hourly[23].hour_start, current,
        "the last entry is this hour"
    );
    assert_eq!(stats.failure_rate(), Some(3.0 / 8.0));
    assert_eq!(
        (stats.pending, stats.parked),
        (3, 1),
        "the retry and the two queued"
    );
    assert_eq!(
        stats.oldest_due_at,
        Some(current - hour * 2),
        "the retry is not due yet"
    );

    let bobs_stats = store.delivery_stats(bob, now).await.unwrap();
    let delivered: Vec<u64> = bobs_stats.hourly.iter().map(|h| h.delivered).collect();
    assert_eq!(delivered.iter().sum::<u64>(), 1);
    assert_eq!(delivered[23], 1);
    assert_eq!(bobs_stats.failure_rate(), Some(0.0));
    assert_eq!((bobs_stats.pending, bobs_stats.parked), (1, 0));
    assert_eq!(bobs_stats.oldest_due_at, Some(current - hour * 3));

    // An hour later the day has moved on: the oldest hour is gone, a new one is empty.
    let later = store.delivery_stats(alice, now + hour).await.unwrap();
    assert_eq!(later.hourly[..23], expected[1..]);
    assert_eq!(
        later.hourly[23],
        HourlyDeliveries {
            hour_start: current + hour,
            delivered: 0,
            failed: 0
        }
    );
}

async fn delivery_stats_of_a_quiet_tenant_are_zeros(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    create(
        &*store,
        new_subscription(alice, "020-08002050", Some("https://a.example/h"), &[]),
    )
    .await;
    let now = SystemClock.now();
    let stats: DeliveryStats = store.delivery_stats(alice, now).await.unwrap();
    assert_eq!(stats.hourly.len(), 24);
    assert!(
        stats
            .hourly
            .iter()
            .all(|h| h.delivered == 0 && h.failed == 0)
    );
    assert!(
        stats
            .hourly
            .windows(2)
            .all(|w| w[1].hour_start - w[0].hour_start == TimeDelta::hours(1))
    );
    assert!(
        stats.hourly[23].hour_start <= now
            && now < stats.hourly[23].hour_start + TimeDelta::hours(1)
    );
    assert_eq!(stats.failure_rate(), None);
    assert_eq!(
        (stats.pending, stats.parked, stats.oldest_due_at),
        (0, 0, None)
    );
}

async fn a_delivery_body_is_found_only_in_its_scope(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let store = &*store;
    let (alice, bob) = (tenant(store, "alice").await, tenant(store, "bob").await);
    let sub = create(
        store,
        new_subscription(alice, "020-08002050", Some("https://a.example/h"), &[]),
    )
    .await;
    let now = SystemClock.now();
    queue(store, alice, sub, now).await;
    let claimed = claim_as(store, uuid::Uuid::new_v4(), now, TimeDelta::minutes(1)).await;
    assert_eq!(claimed.len(), 1);
    let sent = &claimed[0];
    assert!(sent.body.contains("subscription.test"), "{}", sent.body);
    let other = create(
        store,
        new_subscription(alice, "020-08002061", Some("https://a.example/h"), &[]),
    )
    .await;
    let body = async |scope, id| store.delivery_body(scope, id).await.unwrap();
    for found in [
        DeliveryScope::tenant(alice),
        DeliveryScope::subscription(alice, sub),
    ] {
        assert_eq!(body(found, sent.id).await.as_deref(), Some(&*sent.body));
    }
    for (scope, what) in [
        (
            DeliveryScope::subscription(alice, other),
            "another subscription's",
        ),
        (DeliveryScope::tenant(bob), "another tenant's"),
        (
            DeliveryScope::subscription(bob, sub),
            "another tenant's, named",
        ),
    ] {
        assert_eq!(body(scope, sent.id).await, None, "{what}");
    }
    assert_eq!(
        body(DeliveryScope::tenant(alice), uuid::Uuid::new_v4()).await,
        None
    );
}

async fn retrying_the_failed_retries_only_the_subscriptions_failed_messages(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let store = &*store;
    let alice = tenant(store, "alice").await;
    let url = Some("https://a.example/h");
    let sub = create(store, new_subscription(alice, "020-08002050", url, &[])).await;
    let other = create(store, new_subscription(alice, "020-08002061", url, &[])).await;
    let now = SystemClock.now();
    for _ in 0..2 {
        attempt(store, alice, sub, now, NextStep::GiveUp).await;
    }
    attempt(store, alice, sub, now, NextStep::Delivered).await;
    attempt(store, alice, other, now, NextStep::GiveUp).await;
    let statuses = async |id| -> Vec<String> {
        let log = store
            .list_deliveries(alice, id, 100)
            .await
            .unwrap()
            .unwrap();
        log.into_iter().map(|d| d.status).collect()
    };
    assert_eq!(statuses(sub).await, ["failed", "failed", "delivered"]);

    let later = now + TimeDelta::minutes(1);
    let scope = DeliveryScope::subscription(alice, sub);
    assert_eq!(
        store.retry_failed_deliveries(scope, later).await.unwrap(),
        2
    );
    assert_eq!(statuses(sub).await, ["pending", "pending", "delivered"]);
    assert_eq!(statuses(other).await, ["failed"], "another subscription's");
    let due = claim_as(store, uuid::Uuid::new_v4(), later, TimeDelta::minutes(1)).await;
    assert_eq!(due.len(), 2, "due at once");
    // No longer failed, so a second press has nothing to retry.
    assert_eq!(
        store.retry_failed_deliveries(scope, later).await.unwrap(),
        0
    );
}
