//! What a webhook carries: the documented body, Standard Webhooks headers and signatures,
//! per-subscription sequences, the `states` filter, static headers, secret rotation, test
//! messages and manual re-sends.

use super::{DeliveryRig, arrived, booked, codes, departed, id, secret, signed_by, time};
use crate::helpers::{Backend, on_both_backends};
use chrono::TimeDelta;
use serde_json::json;
use standardwebhooks::Webhook;

on_both_backends!(
    a_tracking_update_is_posted_signed_and_shaped_as_documented,
    the_states_filter_decides_which_new_events_trigger_a_message,
    static_headers_go_with_every_webhook_and_reserved_names_are_refused,
    after_a_rotation_messages_carry_both_signatures_for_a_day,
    a_test_message_and_a_manual_retry_resend_the_same_body_and_id,
    the_servers_own_dispatcher_sends_what_is_queued,
);

async fn a_tracking_update_is_posted_signed_and_shaped_as_documented(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "reference": "PO-1"}))
        .await;
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1);

    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.path, "/hook");
    assert_eq!(post.header("content-type"), "application/json");
    let msg_id = post.header("webhook-id");
    assert!(msg_id.starts_with("msg_"), "{msg_id}");
    let timestamp: i64 = post.header("webhook-timestamp").parse().unwrap();
    assert_eq!(timestamp, rig.now().timestamp());
    // The clock is at the wall clock here, so the reference library's full check applies.
    Webhook::new(secret(&sub))
        .unwrap()
        .verify(post.body.as_bytes(), &post.headers)
        .expect("the reference library verifies the message");
    assert!(
        Webhook::new(skyhook::domain::SigningSecret::generate().expose())
            .unwrap()
            .verify(post.body.as_bytes(), &post.headers)
            .is_err()
    );

    let body = post.json();
    assert_eq!(body["type"], "tracking.updated");
    assert_eq!(body["id"], msg_id);
    assert_eq!(body["subscriptionId"], id(&sub));
    assert_eq!(body["sequence"], 1);
    assert_eq!(body["reference"], "PO-1");
    assert_eq!(body["awb"], super::AWB);
    assert_eq!(
        (&body["origin"], &body["destination"]),
        (&json!("FRA"), &json!("ORD"))
    );
    assert_eq!(body["pieces"], 3);
    assert_eq!(body["weight"], 1981.0);
    assert!(
        body.get("volume").is_some(),
        "volume is part of the body: {body}"
    );
    assert_eq!(body["status"], "IN_TRANSIT");
    assert_eq!(codes(&body, "newEvents"), ["BKD", "DEP"]);
    assert!(codes(&body, "oldEvents").is_empty());
    assert_eq!(codes(&body, "events"), ["BKD", "DEP"]);

    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry["messageId"], msg_id);
    assert_eq!(entry["type"], "tracking.updated");
    assert_eq!(entry["channel"], "webhook");
    assert_eq!(entry["target"], rig.receiver.url("/hook"));
    assert_eq!(entry["sequence"], 1);
    assert_eq!(entry["status"], "delivered");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["lastStatusCode"], 200);
    assert_eq!(entry["lastError"], json!(null));
    assert_eq!(entry["nextAttemptAt"], json!(null));
    assert_eq!(time(&entry["deliveredAt"]), rig.now());
    assert_eq!(time(&entry["lastAttemptAt"]), rig.now());
    assert!(time(&entry["createdAt"]) <= rig.now());

    // The next change is message 2, telling what is new and what was known.
    rig.poll(vec![booked(), departed(), arrived()]).await;
    assert_eq!(rig.dispatch().await, 1);
    let second = rig.receiver.posts()[1].json();
    assert_eq!(second["sequence"], 2);
    assert_ne!(second["id"], body["id"]);
    assert_eq!(codes(&second, "newEvents"), ["ARR"]);
    assert_eq!(codes(&second, "oldEvents"), ["BKD", "DEP"]);
    assert_eq!(codes(&second, "events"), ["BKD", "DEP", "ARR"]);
    assert_eq!(second["status"], "AT_DESTINATION");
    assert_eq!(rig.dispatch().await, 0, "nothing else is due");
}

async fn the_states_filter_decides_which_new_events_trigger_a_message(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let arrivals = rig
        .subscribe(json!({"url": rig.receiver.url("/arrivals"), "states": ["ARR"]}))
        .await;
    let everything = rig.subscribe_url("/all").await;

    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1);
    assert!(
        rig.deliveries(&arrivals).await.is_empty(),
        "BKD and DEP are not ARR"
    );
    assert_eq!(rig.deliveries(&everything).await.len(), 1);

    rig.poll(vec![booked(), departed(), arrived()]).await;
    assert_eq!(rig.dispatch().await, 2);
    let to = |path: &str| -> Vec<serde_json::Value> {
        rig.receiver
            .posts()
            .into_iter()
            .filter(|p| p.path == path)
            .map(|p| p.json())
            .collect()
    };
    let arrivals_got = to("/arrivals");
    assert_eq!(arrivals_got.len(), 1);
    assert_eq!(arrivals_got[0]["sequence"], 1, "its own first message");
    assert_eq!(arrivals_got[0]["subscriptionId"], id(&arrivals));
    assert_eq!(codes(&arrivals_got[0], "newEvents"), ["ARR"]);
    assert_eq!(codes(&arrivals_got[0], "events"), ["BKD", "DEP", "ARR"]);
    let all_got = to("/all");
    assert_eq!(
        all_got
            .iter()
            .map(|b| b["sequence"].clone())
            .collect::<Vec<_>>(),
        [json!(1), json!(2)]
    );
}

async fn static_headers_go_with_every_webhook_and_reserved_names_are_refused(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({
            "url": rig.receiver.url("/hook"),
            "headers": {"Authorization": "Bearer tms-token", "X-Tenant": "acme"}
        }))
        .await;
    assert_eq!(
        rig.reread(&sub).await["headerNames"],
        json!(["authorization", "x-tenant"])
    );
    let test = rig
        .app
        .post(
            &format!("/v1/subscriptions/{}/test", id(&sub)),
            &rig.key,
            json!({}),
        )
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 1);
    let post = &rig.receiver.posts()[0];
    assert_eq!(post.header("authorization"), "Bearer tms-token");
    assert_eq!(post.header("x-tenant"), "acme");
    assert_eq!(post.header("content-type"), "application/json");
    assert!(signed_by(post, secret(&sub)));

    for headers in [
        json!({"webhook-signature": "v1,forged"}),
        json!({"Content-Type": "text/plain"}),
        json!({"A": "1", "B": "2", "C": "3", "D": "4", "E": "5", "F": "6"}),
    ] {
        let reply = rig
            .app
            .subscribe(
                &rig.key,
                json!({"awb": super::AWB, "url": rig.receiver.url("/other"), "headers": headers}),
            )
            .await;
        assert_eq!(
            reply.status, 400,
            "{headers} must be refused: {}",
            reply.body
        );
    }
}

async fn after_a_rotation_messages_carry_both_signatures_for_a_day(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    let old = secret(&sub).to_owned();
    let rotated = rig
        .app
        .post(
            &format!("/v1/subscriptions/{}/rotate-secret", id(&sub)),
            &rig.key,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_"));
    assert_ne!(new, old);
    let valid_until = time(&rotated.body["previousSecretValidUntil"]);

    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);
    let during = &rig.receiver.posts()[0];
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    for secret in [&new, &old] {
        Webhook::new(secret)
            .unwrap()
            .verify(during.body.as_bytes(), &during.headers)
            .expect("receivers holding either secret verify during the overlap");
    }

    rig.advance_to(valid_until + TimeDelta::seconds(1));
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1);
    let after = &rig.receiver.posts()[1];
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    assert!(signed_by(after, &new));
    assert!(
        !signed_by(after, &old),
        "the old secret is retired after a day"
    );
}

async fn a_test_message_and_a_manual_retry_resend_the_same_body_and_id(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    let queued = rig
        .app
        .post(
            &format!("/v1/subscriptions/{}/test", id(&sub)),
            &rig.key,
            json!({}),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let msg_id = queued.body["messageId"].as_str().unwrap().to_owned();
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 1);
    let first = rig.receiver.posts().remove(0);
    assert_eq!(first.header("webhook-id"), msg_id);
    let body = first.json();
    assert_eq!(body["type"], "subscription.test");
    assert_eq!(body["id"], msg_id.as_str());
    assert_eq!(body["sequence"], 1);
    assert_eq!(body["awb"], super::AWB);
    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["type"], "subscription.test");
    assert_eq!(log[0]["status"], "delivered");

    rig.advance(TimeDelta::seconds(30));
    let path = format!("/v1/deliveries/{}/retry", log[0]["id"].as_str().unwrap());
    let retried = rig.app.post(&path, &rig.key, json!({})).await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 1);
    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 2);
    let again = &posts[1];
    assert_eq!(again.body, first.body, "the same bytes");
    assert_eq!(again.header("webhook-id"), msg_id);
    assert_ne!(
        again.header("webhook-timestamp"),
        first.header("webhook-timestamp"),
        "a fresh timestamp"
    );
    assert_ne!(
        again.header("webhook-signature"),
        first.header("webhook-signature")
    );
    assert!(signed_by(again, secret(&sub)));
    let log = rig.deliveries(&sub).await;
    assert_eq!(
        (&log[0]["status"], &log[0]["attempts"]),
        (&json!("delivered"), &json!(2))
    );

    let other = rig.app.create_key("other").await;
    rig.app
        .post(&path, &other, json!({}))
        .await
        .assert_error(404, "ErrDeliveryNotFound");
    let unknown = format!("/v1/deliveries/{}/retry", uuid::Uuid::new_v4());
    rig.app
        .post(&unknown, &rig.key, json!({}))
        .await
        .assert_error(404, "ErrDeliveryNotFound");
}

async fn the_servers_own_dispatcher_sends_what_is_queued(backend: Backend) {
    // The server as `skyhook serve` runs it: its own dispatcher, on the system clock.
    let rig = DeliveryRig::with(backend, |s| {
        s.delivery.enabled = true;
        s.delivery.idle_wait = super::HumanDuration(std::time::Duration::from_millis(20));
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    let queued = rig
        .app
        .post(
            &format!("/v1/subscriptions/{}/test", id(&sub)),
            &rig.key,
            json!({}),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rig.receiver.posts().is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let post = &rig.receiver.posts()[0];
    assert_eq!(
        post.header("webhook-id"),
        queued.body["messageId"].as_str().unwrap()
    );
    Webhook::new(secret(&sub))
        .unwrap()
        .verify(post.body.as_bytes(), &post.headers)
        .expect("signed with the subscription's secret");
}
