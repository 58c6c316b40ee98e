//! How subscriptions end: delivered (completed), expired, deleted, unsubscribed; and that
//! nothing new is sent after.

use super::{AWB, DeliveryRig, arrived, booked, codes, delivered, departed, id, time};
use crate::helpers::{Backend, on_both_backends};
use chrono::TimeDelta;
use serde_json::{Value, json};

on_both_backends!(
    a_delivered_shipment_sends_its_update_then_completes_the_subscription,
    an_expired_subscription_gets_one_notice_and_nothing_after,
    after_delete_nothing_queued_or_new_is_sent,
    an_unsubscribed_channel_gets_nothing_new_while_the_others_do,
    a_completed_subscription_frees_its_channels_for_a_new_one,
    an_expired_subscription_frees_its_channels_for_a_new_one,
);

fn kinds(posts: &[crate::receiver::Received]) -> Vec<(String, Value)> {
    posts
        .iter()
        .map(|p| {
            let body = p.json();
            (
                body["type"].as_str().unwrap().to_owned(),
                body["sequence"].clone(),
            )
        })
        .collect()
}

async fn a_delivered_shipment_sends_its_update_then_completes_the_subscription(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked(), departed(), arrived()]).await;
    assert_eq!(rig.dispatch().await, 1);
    rig.poll(vec![booked(), departed(), arrived(), delivered()])
        .await;
    let ended = rig.reread(&sub).await;
    assert_eq!(ended["status"], "completed");
    assert!(ended["endedAt"].is_string());

    // The notice waits for the update before it.
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(rig.dispatch().await, 1);
    let posts = rig.receiver.posts();
    assert_eq!(
        kinds(&posts),
        [
            ("tracking.updated".to_owned(), json!(1)),
            ("tracking.updated".to_owned(), json!(2)),
            ("subscription.completed".to_owned(), json!(3)),
        ]
    );
    let update = posts[1].json();
    assert_eq!(update["status"], "DELIVERED");
    assert_eq!(codes(&update, "newEvents"), ["DLV"]);
    let notice = posts[2].json();
    assert_eq!(notice["awb"], AWB);
    assert_eq!(notice["subscriptionId"], id(&sub));
    assert!(
        notice["message"].as_str().unwrap().contains("delivered"),
        "{notice}"
    );

    // Nothing after: later carrier news (if polled at all) reaches no one.
    rig.fake.answer(crate::fake_carrier::Answer::status(404));
    rig.advance(TimeDelta::days(1));
    let _ = rig.poller.clone().poll_once().await.unwrap();
    assert_eq!(rig.dispatch().await, 0);
    assert_eq!(rig.receiver.posts().len(), 3);
    assert!(
        rig.deliveries(&sub)
            .await
            .iter()
            .all(|d| d["status"] == "delivered")
    );

    // An ended subscription takes no test message and no new secret; its log stays readable
    // to its owner only.
    for action in ["test", "rotate-secret"] {
        let path = format!("/v1/subscriptions/{}/{action}", id(&sub));
        rig.app
            .post(&path, &rig.key, json!({}))
            .await
            .assert_error(409, "ErrSubscriptionNotActive");
    }
    let other = rig.app.create_key("other").await;
    let path = format!("/v1/subscriptions/{}/deliveries", id(&sub));
    rig.app
        .get(&path, &other)
        .await
        .assert_error(404, "ErrSubscriptionNotFound");
}

async fn an_expired_subscription_gets_one_notice_and_nothing_after(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]}))
        .await;
    let expires_at = time(&sub["expiresAt"]);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 2);

    rig.advance_to(expires_at - TimeDelta::seconds(1));
    assert_eq!(rig.dispatch().await, 0);
    assert_eq!(rig.reread(&sub).await["status"], "active");
    rig.advance_to(expires_at);
    assert_eq!(rig.dispatch().await, 2, "the notice, to both channels");
    let now = rig.reread(&sub).await;
    assert_eq!(now["status"], "expired");
    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 2);
    let notice = posts[1].json();
    assert_eq!(notice["type"], "subscription.expired");
    assert_eq!(notice["sequence"], 2);
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains("new subscription"),
        "{notice}"
    );
    let mails = rig.sink.messages();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].header("Subject").unwrap().contains("expired"));

    // The shipment moves on; the expired subscription hears nothing of it.
    rig.fake.answer(crate::fake_carrier::Answer::json(json!({
        "awb": AWB, "origin": "FRA", "destination": "ORD", "events": [booked(), departed()]
    })));
    rig.advance(TimeDelta::days(1));
    let _ = rig.poller.clone().poll_once().await.unwrap();
    rig.advance(TimeDelta::days(1));
    assert_eq!(rig.dispatch().await, 0);
    assert_eq!(rig.receiver.posts().len(), 2);
    assert_eq!(rig.sink.messages().len(), 2);
    assert_eq!(rig.deliveries(&sub).await.len(), 4);
}

async fn after_delete_nothing_queued_or_new_is_sent(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]}))
        .await;
    rig.poll(vec![booked()]).await;
    let path = format!("/v1/subscriptions/{}", id(&sub));
    assert_eq!(rig.app.delete(&path, &rig.key).await.status, 204);
    rig.catch_up();

    assert_eq!(rig.dispatch().await, 2, "claimed, then dropped");
    assert!(rig.receiver.posts().is_empty());
    assert!(rig.sink.messages().is_empty());
    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 2);
    for entry in &log {
        assert_eq!(entry["status"], "failed", "{entry}");
        assert_eq!(entry["attempts"], 0, "no attempt was made");
        assert!(
            entry["lastError"].as_str().unwrap().contains("removed"),
            "{entry}"
        );
    }
    rig.fake.answer(crate::fake_carrier::Answer::json(json!({
        "awb": AWB, "origin": "FRA", "destination": "ORD", "events": [booked(), departed()]
    })));
    rig.advance(TimeDelta::days(1));
    let _ = rig.poller.clone().poll_once().await.unwrap();
    assert_eq!(rig.dispatch().await, 0);
    assert_eq!(rig.deliveries(&sub).await.len(), 2);
}

async fn an_unsubscribed_channel_gets_nothing_new_while_the_others_do(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({
            "url": rig.receiver.url("/hook"),
            "emails": ["ops@forwarder.example", "night-desk@forwarder.example"]
        }))
        .await;
    rig.poll(vec![booked()]).await;
    // Queued for all three, then one address and the URL are unsubscribed before sending.
    let reply = rig
        .app
        .post(
            "/v1/unsubscribe",
            &rig.key,
            json!({"awb": AWB, "url": rig.receiver.url("/hook"),
                   "emails": ["night-desk@forwarder.example"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 3);
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1);

    assert!(rig.receiver.posts().is_empty());
    let mails = rig.sink.messages();
    assert_eq!(mails.len(), 2);
    assert!(
        mails.iter().all(|m| m.to == ["ops@forwarder.example"]),
        "{mails:?}"
    );
    let log = rig.deliveries(&sub).await;
    let second: Vec<&str> = log
        .iter()
        .filter(|d| d["sequence"] == 2)
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    assert_eq!(second, ["ops@forwarder.example"]);
    assert_eq!(rig.reread(&sub).await["status"], "active");
}

/// Subscribes [`AWB`] again with the same URL and email, which must be a new subscription with
/// both channels, and checks that `ended` still shows the email it ended with.
async fn the_same_channels_subscribe_again(rig: &DeliveryRig, ended: &Value) {
    let body =
        json!({"awb": AWB, "url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]});
    let again = rig.app.post("/v1/subscriptions", &rig.key, body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.body["id"], ended["id"]);
    assert_eq!(
        again.body["emails"],
        json!(["ops@forwarder.example"]),
        "{}",
        again.body
    );
    assert!(
        again.body["skippedEmails"]
            .as_array()
            .is_none_or(|s| s.is_empty()),
        "{}",
        again.body
    );
    let before = rig.reread(ended).await;
    assert_eq!(
        before["emails"],
        json!(["ops@forwarder.example"]),
        "{before}"
    );
}

async fn a_completed_subscription_frees_its_channels_for_a_new_one(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]}))
        .await;
    rig.poll(vec![booked(), delivered()]).await;
    assert_eq!(rig.reread(&sub).await["status"], "completed");
    // The update, then the notice, to both channels: the email of an ended subscription
    // still gets what was queued for it.
    while rig.dispatch().await > 0 {}
    assert_eq!(rig.sink.messages().len(), 2);
    assert_eq!(rig.receiver.posts().len(), 2);

    the_same_channels_subscribe_again(&rig, &sub).await;
}

async fn an_expired_subscription_frees_its_channels_for_a_new_one(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]}))
        .await;
    rig.advance_to(time(&sub["expiresAt"]));
    assert_eq!(rig.dispatch().await, 2, "the notice, to both channels");
    assert_eq!(rig.reread(&sub).await["status"], "expired");
    assert_eq!(rig.sink.messages().len(), 1);

    the_same_channels_subscribe_again(&rig, &sub).await;
}
