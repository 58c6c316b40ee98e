//! Wake-ups: work committed by the API, a poll or another instance starts the idle worker at
//! once. Every worker here idles for an hour between empty rounds, so anything that arrives
//! within the test's deadline arrived because the worker was woken.

use super::{DeliveryRig, booked, id, secs};
use crate::helpers::{Backend, on_both_backends, on_postgres_only};
use serde_json::json;
use skyhook::app::Application;
use skyhook::clock::SystemClock;
use skyhook::config::Settings;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

on_both_backends!(
    test_messages_go_out_while_the_dispatcher_idles_for_an_hour,
    new_subscriptions_are_fetched_while_the_poller_idles_for_an_hour,
    what_a_poll_finds_goes_out_while_the_dispatcher_idles_for_an_hour,
);

/// Waits, for at most ten seconds, until `done` holds, then lets the worker finish its round
/// and go back to idling: from then on only a wake-up brings it back within the hour.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: the idle worker was not woken"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    settle().await;
}

/// Long enough for a worker to end its round (and an instance to start listening), on a slow
/// machine too. Only the order of events is asserted: a worker not idle yet when the work
/// arrives would find it without a wake-up, so a short settle can only make a test pass
/// wrongly, never fail wrongly.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Queues three test messages one after the other, each once the dispatcher is idle again,
/// and waits for each to arrive.
async fn three_test_messages_arrive(rig: &DeliveryRig, sub: &serde_json::Value, what: &str) {
    for sent in 1..=3 {
        let path = format!("/v1/subscriptions/{}/test", id(sub));
        let queued = rig.app.post(&path, &rig.key, json!({})).await;
        assert_eq!(queued.status, 202, "{}", queued.body);
        until(what, || rig.receiver.posts().len() == sent).await;
    }
}

/// Subscribes two AWBs one after the other, each once the poller is idle again, and waits for
/// each to be fetched.
async fn two_subscriptions_are_fetched(rig: &DeliveryRig, what: &str) {
    for (n, awb) in ["020-08002050", "020-08002061"].into_iter().enumerate() {
        rig.app
            .subscribed(
                &rig.key,
                json!({"awb": awb, "url": rig.receiver.url("/hook")}),
            )
            .await;
        until(what, || rig.fake.seen().len() > n).await;
    }
}

fn idle_for_an_hour(settings: &mut Settings) {
    settings.delivery.idle_wait = secs(3600);
    settings.poller.idle_wait = secs(3600);
}

async fn test_messages_go_out_while_the_dispatcher_idles_for_an_hour(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        idle_for_an_hour(s);
        s.delivery.enabled = true;
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    settle().await;
    // One after the other: after each, the dispatcher's next round finds nothing and it idles.
    three_test_messages_arrive(&rig, &sub, "test message").await;
}

async fn new_subscriptions_are_fetched_while_the_poller_idles_for_an_hour(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        idle_for_an_hour(s);
        s.poller.enabled = true;
    })
    .await;
    rig.fake.answer(super::tracking(vec![booked()]));
    settle().await;
    two_subscriptions_are_fetched(&rig, "first fetch of a new subscription").await;
}

async fn what_a_poll_finds_goes_out_while_the_dispatcher_idles_for_an_hour(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        idle_for_an_hour(s);
        s.delivery.enabled = true;
    })
    .await;
    rig.subscribe_url("/hook").await;
    settle().await;
    // The rig's own poller records what the fake carrier answers, as the server's would.
    rig.poll(vec![booked()]).await;
    until("tracking update", || rig.receiver.posts().len() == 1).await;
}

on_postgres_only!(
    messages_queued_by_one_instance_are_sent_by_another_at_once,
    subscriptions_made_through_one_instance_are_fetched_by_another_at_once,
);

/// A second instance on the rig's database, its workers idling for an hour as `adjust` enables
/// them; stopped when the token is cancelled.
async fn other_instance(
    rig: &DeliveryRig,
    adjust: impl FnOnce(&mut Settings),
) -> CancellationToken {
    let mut settings = rig.settings.clone();
    idle_for_an_hour(&mut settings);
    adjust(&mut settings);
    let store = skyhook::app::open_store(&settings).await.unwrap();
    let other = Application::build_with(settings, store, Arc::new(SystemClock))
        .await
        .unwrap();
    let stop = other.shutdown_token();
    tokio::spawn(other.run_until_stopped());
    stop
}

/// Two instances on one database: this one's API queues a message, the other one's idle
/// dispatcher hears of it through Postgres (`NOTIFY` at commit, relayed by its `LISTEN`).
async fn messages_queued_by_one_instance_are_sent_by_another_at_once(backend: Backend) {
    let rig = DeliveryRig::with(backend, idle_for_an_hour).await;
    let stop = other_instance(&rig, |s| s.delivery.enabled = true).await;
    let sub = rig.subscribe_url("/hook").await;
    settle().await;
    three_test_messages_arrive(&rig, &sub, "message queued by the other instance").await;
    stop.cancel();
}

/// Likewise for a new subscription and the other instance's idle poller.
async fn subscriptions_made_through_one_instance_are_fetched_by_another_at_once(backend: Backend) {
    let rig = DeliveryRig::with(backend, idle_for_an_hour).await;
    rig.fake.answer(super::tracking(vec![booked()]));
    let stop = other_instance(&rig, |s| s.poller.enabled = true).await;
    settle().await;
    two_subscriptions_are_fetched(&rig, "subscription made through the other instance").await;
    stop.cancel();
}
