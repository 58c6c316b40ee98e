//! Pushes: a trigger for a fetch after `fetch_delay`, never an event of their own; several
//! within the delay share one fetch; refused without the registration's token, subscription id
//! and AWB; never lost while the registration is being stored.

use super::answers::{DEPARTED_AT, Step};
use super::fake::{Api, PushOnRegister, push_body};
use super::{AWB, Rig, events};
use crate::helpers::{Backend, on_both_backends};
use serde_json::json;
use skyhook::clock::Clock;
use std::time::Duration;

on_both_backends!(
    a_push_is_followed_by_a_fetch_after_the_delay_and_a_webhook_naming_station_and_flight,
    several_pushes_within_the_delay_make_one_fetch,
    a_push_the_tracking_api_does_not_confirm_changes_nothing,
    a_planned_delivery_is_not_a_delivery,
    pushes_to_the_bare_route_or_with_a_wrong_token_are_refused_and_trigger_no_fetch,
    a_push_before_the_registration_answer_is_asked_to_come_again,
    a_push_50_ms_after_the_registration_answer_is_not_lost,
    a_push_during_a_fetch_still_gets_its_own,
);

async fn a_push_is_followed_by_a_fetch_after_the_delay_and_a_webhook_naming_station_and_flight(
    backend: Backend,
) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    rig.fake.track(AWB, super::answers::status(Step::Departed));
    let pushed_at = rig.clock.now();
    let reply = rig.push("DEP").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["awb"], AWB);
    let shipment = rig.shipment().await;
    assert_eq!(shipment["pushesReceived"], 1);
    let last_push: chrono::DateTime<chrono::Utc> =
        shipment["lastPushAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(last_push, pushed_at);
    // The push itself is no event.
    assert_eq!(rig.events().await[1], ("DEP".to_owned(), true));

    rig.advance(9);
    assert_eq!(rig.poll().await, 0, "not before the delay");
    assert_eq!(rig.fake.calls(Api::Tracking), 1);
    rig.advance(1);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Tracking), 2);

    let messages = rig.messages().await;
    let update = messages.last().unwrap();
    assert_eq!(update["type"], "tracking.updated");
    let dep = &update["newEvents"][0];
    assert_eq!(
        (&dep["code"], &dep["isPlanned"]),
        (&json!("DEP"), &json!(false))
    );
    assert_eq!(dep["eventDate"], DEPARTED_AT);
    assert_eq!(dep["eventLocation"], "FRA");
    assert_eq!(dep["flight"]["number"], "LH8160");
    assert_eq!(
        (&dep["flight"]["origin"], &dep["flight"]["destination"]),
        (&json!("FRA"), &json!("ORD"))
    );
    assert_eq!(dep["pieces"], 10);
    assert_eq!(
        (&update["origin"], &update["destination"]),
        (&json!("FRA"), &json!("ORD"))
    );
    let fetched: chrono::DateTime<chrono::Utc> = rig.shipment().await["lastCheckedAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(fetched > last_push, "the last fetch came after the push");
}

async fn several_pushes_within_the_delay_make_one_fetch(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    let first = rig.push("DEP").await;
    rig.advance(3);
    let second = rig.push("DEP").await;
    let third = rig.push("TOA").await;
    for reply in [&second, &third] {
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body["fetchAt"], first.body["fetchAt"],
            "joins the first's fetch"
        );
    }
    rig.advance(7);
    assert_eq!(rig.poll().await, 1);
    rig.advance(10);
    assert_eq!(rig.poll().await, 0);
    assert_eq!(
        rig.fake.calls(Api::Tracking),
        2,
        "the registration's fetch and one more"
    );
    assert_eq!(rig.shipment().await["pushesReceived"], 3);
    assert_eq!(
        rig.metric(r#"skyhook_carrier_pushes_total{carrier="lufthansa",outcome="joined"}"#),
        2.0
    );
}

async fn a_push_the_tracking_api_does_not_confirm_changes_nothing(backend: Backend) {
    let rig = Rig::new(backend).await;
    let id = rig.registered(Step::Departed).await;
    let before = rig.events().await;
    // A DLV push, forged or early: the Shipment Tracking API still says departed.
    assert_eq!(rig.push("DLV").await.status, 200);
    rig.advance(10);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Tracking), 2, "the push cost one fetch");
    assert_eq!(rig.events().await, before, "no false DLV");
    assert_eq!(rig.shipment().await["status"], "IN_TRANSIT");
    assert_eq!(
        rig.message_types().await,
        ["tracking.updated"],
        "no completion"
    );
    let subscription = rig
        .app
        .get(&format!("/v1/subscriptions/{id}"), &rig.key)
        .await;
    assert_eq!(subscription.body["status"], "active");
    rig.poll().await;
    assert_eq!(rig.fake.calls(Api::Unsubscribe), 0, "still registered");
}

async fn a_planned_delivery_is_not_a_delivery(backend: Backend) {
    let rig = Rig::new(backend).await;
    let id = rig.registered(Step::Arrived).await;
    assert_eq!(
        rig.events().await,
        events(&[
            ("RCS", false),
            ("DEP", false),
            ("ARR", false),
            ("DLV", true)
        ])
    );
    assert_eq!(rig.shipment().await["status"], "AT_DESTINATION");
    let subscription = rig
        .app
        .get(&format!("/v1/subscriptions/{id}"), &rig.key)
        .await;
    assert_eq!(subscription.body["status"], "active");

    // The delivery itself completes the subscription.
    rig.fake.track(AWB, super::answers::status(Step::Delivered));
    rig.push("DLV").await;
    rig.advance(10);
    rig.poll().await;
    assert_eq!(rig.shipment().await["status"], "DELIVERED");
    assert_eq!(
        rig.message_types().await,
        [
            "tracking.updated",
            "tracking.updated",
            "subscription.completed"
        ]
    );
}

async fn pushes_to_the_bare_route_or_with_a_wrong_token_are_refused_and_trigger_no_fetch(
    backend: Backend,
) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    let sub = rig.fake.subscriptions().remove(0);
    let path = url::Url::parse(&sub.callback).unwrap().path().to_owned();
    let body = push_body(&sub, "DLV");

    let bare = rig
        .fake
        .post_push("/carriers/lufthansa/callback", body.clone())
        .await;
    assert_eq!(
        (bare.status, &bare.body["error"]),
        (404, &json!("ErrUnknownCarrierSubscription"))
    );
    let wrong = format!("/carriers/lufthansa/callback/{}", "A".repeat(43));
    let guessed = rig.fake.post_push(&wrong, body.clone()).await;
    assert_eq!(
        (guessed.status, &guessed.body["error"]),
        (404, &json!("ErrUnknownCarrierSubscription"))
    );
    let mut other_id = body.clone();
    other_id["subscriptionId"] = json!("00000000-0000-4000-8000-000000000000");
    assert_eq!(rig.fake.post_push(&path, other_id).await.status, 404);
    let mut other_awb = body.clone();
    other_awb["AWB"] = json!("176-12345675");
    let refused = rig.fake.post_push(&path, other_awb).await;
    assert_eq!(
        (refused.status, &refused.body["error"]),
        (400, &json!("ErrInvalidBody"))
    );
    let unreadable = rig
        .fake
        .post_push(&path, json!({"subscriptionId": sub.id}))
        .await;
    assert_eq!(unreadable.status, 400);

    rig.advance(10);
    assert_eq!(rig.poll().await, 0, "nothing was scheduled");
    assert_eq!(rig.fake.calls(Api::Tracking), 1);
    assert_eq!(rig.shipment().await["pushesReceived"], 0);
    assert_eq!(rig.events().await[0], ("RCS".to_owned(), false));
    // The real push still works.
    assert_eq!(rig.fake.post_push(&path, body).await.status, 200);
}

async fn a_push_before_the_registration_answer_is_asked_to_come_again(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.fake
        .push_on_register(PushOnRegister::BeforeAnswer, "RCS");
    rig.registered(Step::Received).await;
    let early = rig.fake.replies_on_register(1).await.remove(0);
    assert_eq!(
        (early.status, early.retry_after.as_deref()),
        (503, Some("5")),
        "{:?}",
        early.body
    );
    assert_eq!(early.body["error"], "ErrBusy");
    // Sent again, as asked, it schedules its fetch.
    assert_eq!(rig.push("RCS").await.status, 200);
    rig.advance(10);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Tracking), 2);
}

async fn a_push_50_ms_after_the_registration_answer_is_not_lost(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.fake
        .push_on_register(PushOnRegister::After(Duration::from_millis(50)), "RCS");
    rig.registered(Step::Received).await;
    let reply = rig.fake.replies_on_register(1).await.remove(0);
    // Heard, or (had it overtaken the stored id) asked to come again: never refused.
    match reply.status {
        200 => {}
        503 => {
            assert!(reply.retry_after.is_some());
            assert_eq!(rig.push("RCS").await.status, 200);
        }
        other => panic!("the push was refused with {other}: {:?}", reply.body),
    }
    assert_eq!(rig.shipment().await["pushesReceived"], 1);
    rig.advance(10);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Tracking), 2, "its fetch");
}

async fn a_push_during_a_fetch_still_gets_its_own(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    rig.advance(2 * 3600);
    rig.fake.hold(Api::Tracking);
    let round = tokio::spawn({
        let poller = rig.poller.clone();
        async move { poller.poll_once().await.unwrap() }
    });
    // The scheduled fetch has asked; the news the push announces may be too late for it.
    rig.fake.wait_for(Api::Tracking, 2).await;
    assert_eq!(rig.push("DEP").await.status, 200);
    rig.fake.release(Api::Tracking);
    assert_eq!(round.await.unwrap(), 1);

    rig.fake.track(AWB, super::answers::status(Step::Departed));
    rig.fake.release(Api::Tracking);
    rig.advance(10);
    assert_eq!(rig.poll().await, 1, "the push's fetch is still due");
    assert_eq!(rig.fake.calls(Api::Tracking), 3);
    assert_eq!(rig.events().await[1], ("DEP".to_owned(), false));
}
