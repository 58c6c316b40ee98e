//! Leases: a message claimed by a worker that died is sent once its lease expires, and two
//! dispatchers on one Postgres never send the same message.

use super::{DeliveryRig, booked, claim_as, outcome, secs};
use crate::helpers::{Backend, on_both_backends};
use chrono::TimeDelta;
use serde_json::json;
use skyhook::store::NextStep;
use std::collections::HashSet;
use std::time::Duration;

on_both_backends!(
    a_message_claimed_by_a_crashed_worker_is_sent_after_its_lease_expires,
    a_manual_retry_during_a_live_attempt_is_refused_and_never_sends_twice,
    a_manual_retry_after_a_lapsed_lease_sends_once_and_fences_the_old_claim,
);

async fn a_message_claimed_by_a_crashed_worker_is_sent_after_its_lease_expires(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;

    // A worker claims the message and dies before sending or recording anything.
    let crashed = uuid::Uuid::new_v4();
    let now = rig.now();
    let lease = TimeDelta::from_std(rig.settings.delivery.lease.0).unwrap();
    let claimed = claim_as(&*rig.app.store, crashed, now, lease).await;
    assert_eq!(claimed.len(), 1);

    assert_eq!(rig.dispatch().await, 0, "leased to the dead worker");
    rig.advance(lease - TimeDelta::seconds(1));
    assert_eq!(rig.dispatch().await, 0, "still leased");
    assert!(rig.receiver.posts().is_empty());

    rig.advance(TimeDelta::seconds(2));
    assert_eq!(
        rig.dispatch().await,
        1,
        "the lease expired: another worker takes it"
    );
    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("webhook-id"), claimed[0].message_id);
    assert_eq!(
        posts[0].body, claimed[0].body,
        "the bytes queued before the crash"
    );

    // The dead worker's late report changes nothing: it no longer holds the lease.
    let late = outcome(&claimed[0], rig.now(), NextStep::GiveUp);
    assert!(!rig.app.store.record_delivery(crashed, late).await.unwrap());
    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["lastStatusCode"], 200);
}

async fn a_manual_retry_during_a_live_attempt_is_refused_and_never_sends_twice(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;

    // Another instance has the message in flight (claimed, not yet recorded)…
    let sending = uuid::Uuid::new_v4();
    let now = rig.now();
    let lease = TimeDelta::from_std(rig.settings.delivery.lease.0).unwrap();
    let claimed = claim_as(&*rig.app.store, sending, now, lease).await;
    assert_eq!(claimed.len(), 1);
    // …when the subscriber asks for it to be sent again: refused, saying why.
    let log = rig.deliveries(&sub).await;
    let path = format!("/v1/deliveries/{}/retry", log[0]["id"].as_str().unwrap());
    rig.app
        .post(&path, &rig.key, json!({}))
        .await
        .assert_error(409, "ErrDeliveryInFlight");
    rig.catch_up();
    assert_eq!(
        rig.dispatch().await,
        0,
        "a message is never sent by two instances at once"
    );
    assert!(rig.receiver.posts().is_empty());
    let done = outcome(&claimed[0], rig.now(), NextStep::Delivered);
    assert!(
        rig.app.store.record_delivery(sending, done).await.unwrap(),
        "the sender still holds its lease and records the attempt"
    );
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 1);

    // Once the outcome is in, the retry is taken and sent.
    let reply = rig.app.post(&path, &rig.key, json!({})).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(rig.receiver.posts().len(), 1);
    assert_eq!(rig.deliveries(&sub).await[0]["attempts"], 2);
}

/// A retry of a message whose claim lapsed (its worker died) clears the lapsed lease: the
/// message goes at once, and the dead worker's late outcome is fenced out.
async fn a_manual_retry_after_a_lapsed_lease_sends_once_and_fences_the_old_claim(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        s.delivery.lease = secs(2);
        s.webhooks.timeout = secs(1);
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    // The API stamps with the system clock, so this lease is on the system clock too.
    let crashed = uuid::Uuid::new_v4();
    let now = chrono::Utc::now();
    let claimed = claim_as(&*rig.app.store, crashed, now, TimeDelta::seconds(1)).await;
    assert_eq!(claimed.len(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let log = rig.deliveries(&sub).await;
    let path = format!("/v1/deliveries/{}/retry", log[0]["id"].as_str().unwrap());
    let reply = rig.app.post(&path, &rig.key, json!({})).await;
    assert_eq!(reply.status, 202, "the lease lapsed: {}", reply.body);
    let late = outcome(&claimed[0], rig.now(), NextStep::GiveUp);
    assert!(!rig.app.store.record_delivery(crashed, late).await.unwrap());
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(rig.receiver.posts().len(), 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "delivered");
}

/// Two instances (two dispatchers, each its own lease owner) race over one queue on Postgres;
/// each message reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_on_one_postgres_never_send_a_message_twice() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let rig = DeliveryRig::with(backend, |s| {
        s.delivery.batch_size = 3;
        s.delivery.concurrency = 3;
        s.delivery.lease = secs(30);
    })
    .await;
    const SUBSCRIPTIONS: usize = 24;
    let mut ids = Vec::new();
    for i in 0..SUBSCRIPTIONS {
        let sub = rig.subscribe_url(&format!("/hook/{i}")).await;
        ids.push(sub["id"].as_str().unwrap().to_owned());
    }
    rig.poll(vec![booked()]).await;
    // Each answer takes a moment, so that both instances have sends in flight together.
    rig.receiver
        .always(crate::receiver::Reply::Slow(Duration::from_millis(20)));

    let one = rig.dispatcher.clone();
    let two = rig.another_dispatcher(|_| {});
    let (mut by_one, mut by_two) = (0, 0);
    loop {
        let (a, b) = tokio::join!(
            tokio::spawn(one.clone().dispatch_once()),
            tokio::spawn(two.clone().dispatch_once())
        );
        let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
        by_one += a;
        by_two += b;
        if a + b == 0 {
            break;
        }
    }
    assert_eq!(by_one + by_two, SUBSCRIPTIONS, "each message claimed once");
    assert!(
        by_one > 0 && by_two > 0,
        "both instances worked: {by_one} + {by_two}"
    );

    let posts = rig.receiver.posts();
    let unique: HashSet<&str> = posts.iter().map(|p| p.header("webhook-id")).collect();
    assert_eq!(posts.len(), SUBSCRIPTIONS, "no message was sent twice");
    assert_eq!(unique.len(), SUBSCRIPTIONS);
    for id in &ids {
        let log = rig
            .app
            .get(&format!("/v1/subscriptions/{id}/deliveries"), &rig.key)
            .await
            .body;
        assert_eq!(log["items"][0]["status"], json!("delivered"));
        assert_eq!(log["items"][0]["attempts"], json!(1));
    }
}

/// Two `skyhook serve` instances (each with its own pool and dispatcher loop, on the system
/// clock) share one Postgres queue; every message reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_share_the_queue_without_sending_twice() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let rig = DeliveryRig::new(backend).await;
    const SUBSCRIPTIONS: usize = 16;
    for i in 0..SUBSCRIPTIONS {
        rig.subscribe_url(&format!("/hook/{i}")).await;
    }
    rig.poll(vec![booked()]).await;

    let (mut stops, mut servers) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let mut settings = rig.settings.clone();
        settings.delivery.enabled = true;
        settings.delivery.batch_size = 2;
        settings.delivery.idle_wait = super::HumanDuration(Duration::from_millis(20));
        let store = skyhook::app::open_store(&settings).await.unwrap();
        let app = skyhook::app::Application::build_with(
            settings,
            store,
            std::sync::Arc::new(skyhook::clock::SystemClock),
        )
        .await
        .unwrap();
        stops.push(app.shutdown_token());
        servers.push(tokio::spawn(app.run_until_stopped()));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rig.receiver.posts().len() < SUBSCRIPTIONS {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {SUBSCRIPTIONS} messages arrived",
            rig.receiver.posts().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stop both and let whatever they had in flight finish before counting.
    stops.iter().for_each(|s| s.cancel());
    for server in servers {
        server.await.unwrap().unwrap();
    }
    let posts = rig.receiver.posts();
    let unique: HashSet<&str> = posts.iter().map(|p| p.header("webhook-id")).collect();
    assert_eq!(unique.len(), posts.len(), "a message was sent twice");
    assert_eq!(unique.len(), SUBSCRIPTIONS);
}
