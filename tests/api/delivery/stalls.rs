//! Stalls: a relay or receiver that stops answering costs one failed attempt within the lease,
//! never a second copy of the message and never the other subscribers' deliveries; a late
//! outcome of a lapsed claim cannot overwrite the claim that replaced it.

use super::{DeliveryRig, booked, claim_as, id, outcome, secs};
use crate::helpers::{Backend, on_both_backends, on_postgres_only};
use crate::receiver::{Receiver, Reply};
use chrono::TimeDelta;
use serde_json::{Value, json};
use skyhook::store::{DeliveryScope, NextStep};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

on_both_backends!(
    a_stalled_smtp_relay_costs_one_failed_attempt_and_the_email_goes_once,
    a_message_whose_lease_lapses_mid_send_is_not_sent_again_by_the_same_dispatcher,
    a_late_outcome_of_a_lapsed_claim_does_not_overwrite_the_claim_after_it,
    a_tarpit_host_holds_only_its_share_of_the_slots,
);
on_postgres_only!(an_outcome_is_recorded_while_every_pooled_connection_is_busy);

/// `work`, which must finish within `limit`: a send nothing cuts off would hang the test.
async fn within<T>(what: &str, limit: Duration, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| panic!("{what}: still running after {limit:?}"))
}

/// Waits, for at most ten seconds, until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 10s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn only(log: &[Value]) -> &Value {
    assert_eq!(log.len(), 1, "{log:?}");
    &log[0]
}

async fn a_stalled_smtp_relay_costs_one_failed_attempt_and_the_email_goes_once(backend: Backend) {
    // Attempts are cut off at four fifths of the lease: 1.6 s here.
    let rig = DeliveryRig::with(backend, |s| {
        s.delivery.lease = secs(2);
        s.webhooks.timeout = secs(1);
    })
    .await;
    let sub = rig
        .subscribe(json!({"emails": ["ops@forwarder.example"]}))
        .await;
    rig.sink.stall();
    rig.poll(vec![booked()]).await;

    let claimed = within(
        "an attempt against a relay that never answers RCPT",
        Duration::from_secs(10),
        rig.dispatch(),
    )
    .await;
    assert_eq!(claimed, 1);
    assert_eq!(rig.sink.stalled_sessions(), 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(
        entry["status"], "pending",
        "retried on the schedule: {entry}"
    );
    assert_eq!(entry["attempts"], 1);
    let error = entry["lastError"].as_str().unwrap_or_default();
    assert!(error.contains("did not finish within"), "{entry}");

    // The relay recovers. The stalled session was dropped with its connection, so nothing it
    // held goes out; the retry opens a connection of its own.
    rig.sink.recover();
    rig.advance_to_next_attempt(&log);
    assert_eq!(rig.dispatch().await, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.sink.messages().len(), 1, "exactly one email");
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "delivered");
    assert_eq!(only(&log)["attempts"], 2);
}

async fn a_message_whose_lease_lapses_mid_send_is_not_sent_again_by_the_same_dispatcher(
    backend: Backend,
) {
    let rig = DeliveryRig::with(backend, |s| s.webhooks.timeout = secs(60)).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    rig.receiver.script([Reply::Hang]);

    let first = tokio::spawn(rig.dispatcher.clone().dispatch_once());
    eventually("the first attempt reaches the receiver", || {
        rig.receiver.posts().len() == 1
    })
    .await;
    // The workers' clock passes the lease while the attempt is still waiting for its answer,
    // so the next round of the same dispatcher claims the message again.
    rig.advance(
        TimeDelta::from_std(rig.settings.delivery.lease.0).unwrap() + TimeDelta::seconds(1),
    );
    assert_eq!(rig.dispatch().await, 1, "the lapsed claim is taken again");
    rig.receiver.release();
    within("the first attempt", Duration::from_secs(10), first)
        .await
        .unwrap()
        .unwrap();

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.receiver.posts().len(), 1, "sent once");
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "delivered", "{log:?}");
    assert_eq!(only(&log)["attempts"], 1);
}

async fn a_late_outcome_of_a_lapsed_claim_does_not_overwrite_the_claim_after_it(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    let lease = TimeDelta::from_std(rig.settings.delivery.lease.0).unwrap();
    // One process (one owner id) claims the message twice: the first claim lapsed.
    let owner = uuid::Uuid::new_v4();
    let store = &*rig.app.store;
    let lapsed = claim_as(store, owner, rig.now(), lease).await;
    assert_eq!(lapsed.len(), 1);
    rig.advance(lease + TimeDelta::seconds(1));
    let current = claim_as(store, owner, rig.now(), lease).await;
    assert_eq!(current.len(), 1);
    assert_ne!(lapsed[0].lease_token, current[0].lease_token);

    assert!(
        !store
            .record_delivery(owner, outcome(&lapsed[0], rig.now(), NextStep::GiveUp))
            .await
            .unwrap(),
        "the lapsed claim's outcome is refused"
    );
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "pending", "{log:?}");
    assert_eq!(only(&log)["attempts"], 0);
    assert!(
        store
            .record_delivery(owner, outcome(&current[0], rig.now(), NextStep::Delivered))
            .await
            .unwrap()
    );
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "delivered", "{log:?}");
}

async fn a_tarpit_host_holds_only_its_share_of_the_slots(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        s.delivery.concurrency = 3;
        s.delivery.per_host_concurrency = 2;
        s.webhooks.timeout = secs(60);
    })
    .await;
    // Four subscriptions at a tarpit, whose messages are queued first…
    let tarpit = Receiver::start().await;
    tarpit.always(Reply::Hang);
    for n in 0..4 {
        rig.subscribe(json!({"url": tarpit.url(&format!("/slow/{n}"))}))
            .await;
    }
    rig.poll(vec![booked()]).await;
    // …then three at a receiver that answers at once.
    rig.advance(TimeDelta::seconds(1));
    let mut fast = Vec::new();
    for n in 0..3 {
        fast.push(rig.subscribe_url(&format!("/fast/{n}")).await);
    }
    for sub in &fast {
        let path = format!("/v1/subscriptions/{}/test", id(sub));
        let queued = rig.app.post(&path, &rig.key, json!({})).await;
        assert_eq!(queued.status, 202, "{}", queued.body);
    }
    rig.catch_up();

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(rig.dispatcher.clone().run(shutdown.clone()));
    eventually(
        "the fast receiver's messages, while the tarpit hangs",
        || rig.receiver.posts().len() == 3,
    )
    .await;
    assert_eq!(
        tarpit.posts().len(),
        2,
        "the tarpit has no more than its share in flight"
    );

    tarpit.release();
    eventually("the tarpit's messages once it answers", || {
        tarpit.posts().len() == 4
    })
    .await;
    shutdown.cancel();
    within(
        "the dispatcher's shutdown",
        Duration::from_secs(10),
        running,
    )
    .await
    .unwrap();
    let posts = tarpit.posts();
    let ids: std::collections::HashSet<&str> =
        posts.iter().map(|p| p.header("webhook-id")).collect();
    assert_eq!(ids.len(), 4, "each tarpit message once");
}

#[test]
fn delivery_settings_that_cannot_hold_their_promises_are_refused() {
    let mut settings = crate::helpers::test_settings("sqlite://unused.db");
    assert!(settings.validate().is_ok(), "the defaults hold");
    settings.delivery.per_host_concurrency = 0;
    let error = settings.validate().unwrap_err().to_string();
    assert!(error.contains("delivery.per_host_concurrency"), "{error}");

    let mut settings = crate::helpers::test_settings("sqlite://unused.db");
    // Cut off at 4/5 of 12 s = 9.6 s, a webhook allowed 10 s could never use its timeout.
    settings.delivery.lease = secs(12);
    settings.webhooks.timeout = secs(10);
    let error = settings.validate().unwrap_err().to_string();
    assert!(
        error.contains("delivery.lease") && error.contains("webhooks.timeout"),
        "{error}"
    );
}

/// Recording an outcome must not wait for a pooled connection: with hundreds of sends in flight,
/// a record that waits behind claims, polls and API requests outlives its lease and the message
/// is sent again. Here the store's only pooled connection is stuck behind a row lock.
async fn an_outcome_is_recorded_while_every_pooled_connection_is_busy(backend: Backend) {
    use sqlx::Connection;
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook/a").await;
    let other_sub = rig.subscribe_url("/hook/b").await;
    rig.poll(vec![booked()]).await;
    let store = skyhook::store::connect(&rig.app.db.url, 1).await.unwrap();
    let owner = uuid::Uuid::new_v4();
    let now = rig.now();
    let claimed = claim_as(&*store, owner, now, TimeDelta::seconds(30)).await;
    assert_eq!(claimed.len(), 2);
    let (mine, theirs): (Vec<_>, Vec<_>) = claimed
        .into_iter()
        .partition(|c| c.target.ends_with("/hook/a"));

    // The other message is given back, and another session locks it; a retry of it through
    // `store` then holds the store's one pooled connection, waiting for that lock.
    let destination = theirs[0].destination.clone().unwrap();
    store
        .release_deliveries(owner, &destination, vec![theirs[0].id])
        .await
        .unwrap();
    let mut other = sqlx::PgConnection::connect(&rig.app.db.url).await.unwrap();
    let mut lock = other.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE")
        .bind(theirs[0].id)
        .execute(&mut *lock)
        .await
        .unwrap();
    let stuck = {
        let (store, tenant, id) = (store.clone(), rig.tenant, theirs[0].id);
        tokio::spawn(async move {
            store
                .retry_delivery(DeliveryScope::tenant(tenant), id, chrono::Utc::now())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stuck.is_finished(), "the pooled connection is held");

    let outcome = outcome(&mine[0], rig.now(), NextStep::Delivered);
    let recorded = within(
        "recording with the pool busy",
        Duration::from_secs(3),
        store.record_delivery(owner, outcome),
    )
    .await
    .unwrap();
    assert!(recorded);
    lock.rollback().await.unwrap();
    stuck.await.unwrap().unwrap();
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "delivered");
    assert_eq!(rig.deliveries(&other_sub).await.len(), 1);
}
