//! Registrations: made on the first subscription with a callback URL carrying a token and
//! followed by a fetch at once, checked and renewed when Lufthansa dropped them, replaced when
//! made before tokens, and removed when the last subscription ends, also when a new
//! subscription races the removal.

use super::answers::Step;
use super::fake::{Api, SUBSCRIBE, TRACKING};
use super::{API_KEY, AWB, CALLBACK, Rig, events};
use crate::db;
use crate::helpers::{Backend, hook, on_both_backends};
use chrono::TimeDelta;
use serde_json::json;

on_both_backends!(
    a_registration_is_followed_by_a_fetch_and_the_booking_gives_the_route,
    a_registration_lufthansa_dropped_is_renewed,
    a_registration_made_before_callback_tokens_is_replaced,
    the_registration_is_deleted_after_the_last_subscription_ends,
    an_unregistration_racing_a_new_subscription_leaves_it_registered,
);

async fn a_registration_is_followed_by_a_fetch_and_the_booking_gives_the_route(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    let seen = rig.fake.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path_and_query.as_str()),
        ("POST", SUBSCRIBE)
    );
    assert_eq!(seen[0].headers["apikey"], API_KEY);
    assert_eq!(seen[0].body["AWB"], AWB);
    assert_eq!(seen[0].body["States"], "*");
    let callback = seen[0].body["Callback"].as_str().unwrap();
    let token = callback
        .strip_prefix(&format!("{CALLBACK}/"))
        .expect("the callback is the configured one plus a token");
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    );
    assert_eq!(seen[1].method, "GET");
    assert_eq!(
        seen[1].path_and_query,
        format!("{TRACKING}?aWBPrefix=020&aWBNumber=08002050")
    );
    assert_eq!(seen[1].headers["apikey"], API_KEY);

    let shipment = rig.shipment().await;
    assert_eq!(shipment["carrier"], "lufthansa");
    assert_eq!(
        (
            shipment["origin"].as_str(),
            shipment["destination"].as_str()
        ),
        (Some("FRA"), Some("ORD"))
    );
    assert_eq!(
        (&shipment["pieces"], &shipment["weight"]),
        (&json!(10), &json!(250.0))
    );
    assert_eq!(shipment["status"], "IN_TRANSIT");
    assert_eq!(shipment["pushesReceived"], 0);
    assert_eq!(shipment["lastPushAt"], serde_json::Value::Null);
    assert!(
        shipment["lastCheckedAt"].is_string(),
        "the fetch is the last check"
    );
    assert_eq!(
        rig.events().await,
        events(&[("RCS", false), ("DEP", true), ("ARR", true), ("DLV", true)])
    );
    assert_eq!(rig.message_types().await, ["tracking.updated"]);

    // A second subscription shares the registration, and is fetched for as soon as
    // `poller.min_interval` allows (re-subscribing costs no extra fetches).
    rig.subscribe(2).await;
    assert_eq!(
        rig.poll().await,
        0,
        "not sooner than min_interval after the last fetch"
    );
    let min = TimeDelta::from_std(rig.settings.poller.min_interval.0).unwrap();
    rig.clock.advance(min);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Subscribe), 1, "registered once");
    assert_eq!(rig.fake.calls(Api::Tracking), 2);

    // Lufthansa's preflight of the callback URL.
    let path = url::Url::parse(callback).unwrap().path().to_owned();
    let preflight = rig
        .app
        .request(reqwest::Method::OPTIONS, &path, None, None)
        .await;
    assert_eq!(preflight.status, 200);
    let allow = preflight.headers["allow"].to_str().unwrap();
    assert!(allow.contains("POST"), "Allow: {allow}");
}

async fn a_registration_lufthansa_dropped_is_renewed(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    let old = rig.fake.subscriptions().remove(0);
    // Checked no earlier than poller.max_interval after it was confirmed.
    rig.advance(30 * 60);
    rig.poll().await;
    assert_eq!(rig.fake.calls(Api::Check), 0);

    rig.fake.drop_subscription(&old.id);
    rig.advance(2 * 3600);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Check), 1);
    let subscriptions = rig.fake.subscriptions();
    assert_eq!(subscriptions.len(), 2, "registered again");
    let new = &subscriptions[1];
    assert!(new.live);
    assert_ne!(new.callback, old.callback, "with a new token");
    let seen = rig.fake.seen();
    assert_eq!(seen.last().unwrap().api, Some(Api::Tracking), "and fetched");

    // The old callback URL is no registration's any more; the new one is heard.
    let stale = rig.fake.push_for(&old, "DEP").await;
    assert_eq!(stale.status, 404, "{:?}", stale.body);
    assert_eq!(rig.push("DEP").await.status, 200);

    // A registration Lufthansa still has is confirmed, not renewed.
    rig.advance(2 * 3600);
    rig.poll().await;
    assert_eq!(rig.fake.calls(Api::Check), 2);
    assert_eq!(rig.fake.subscriptions().len(), 2);
}

async fn a_registration_made_before_callback_tokens_is_replaced(backend: Backend) {
    let rig = Rig::new(backend).await;
    rig.registered(Step::Received).await;
    // As migration 0009 leaves a registration of the push-only days: no token, never checked.
    db::execute(
        &rig.app.db.url,
        "UPDATE shipments SET callback_token_hash = NULL, registration_checked_at = NULL",
    )
    .await;
    let old = rig.fake.subscriptions().remove(0);
    rig.advance(2 * 3600);
    assert_eq!(rig.poll().await, 1);
    let apis: Vec<_> = rig.fake.seen().iter().skip(2).map(|s| s.api).collect();
    assert_eq!(
        apis,
        [
            Some(Api::Unsubscribe),
            Some(Api::Subscribe),
            Some(Api::Tracking)
        ]
    );
    let seen = rig.fake.seen();
    assert!(seen[2].path_and_query.ends_with(&old.id));
    assert!(!rig.fake.subscriptions()[0].live);
    assert_eq!(rig.push("DEP").await.status, 200);
}

async fn the_registration_is_deleted_after_the_last_subscription_ends(backend: Backend) {
    let rig = Rig::new(backend).await;
    let first = rig.registered(Step::Received).await;
    let second = rig.subscribe(2).await;
    rig.poll().await;

    let ended = rig
        .app
        .delete(&format!("/v1/subscriptions/{first}"), &rig.key)
        .await;
    assert_eq!(ended.status, 204, "{}", ended.body);
    rig.poll().await;
    assert_eq!(
        rig.fake.calls(Api::Unsubscribe),
        0,
        "another subscription still needs it"
    );

    rig.app
        .post(
            "/v1/unsubscribe",
            &rig.key,
            json!({"awb": AWB, "url": hook(2)}),
        )
        .await;
    let view = rig
        .app
        .get(&format!("/v1/subscriptions/{second}"), &rig.key)
        .await;
    assert_eq!(view.body["status"], "unsubscribed", "{}", view.body);
    let registration = rig.fake.subscriptions().remove(0);
    assert_eq!(rig.poll().await, 1, "the stale registration was claimed");
    let deleted = rig.fake.seen().pop().unwrap();
    assert_eq!(deleted.method, "DELETE");
    assert_eq!(
        deleted.path_and_query,
        format!("{SUBSCRIBE}/{}", registration.id)
    );
    assert_eq!(deleted.headers["apikey"], API_KEY);

    // Removed once; a late push for it is refused and fetches nothing.
    rig.advance(3 * 3600);
    assert_eq!(rig.poll().await, 0);
    assert_eq!(rig.fake.calls(Api::Unsubscribe), 1);
    let late = rig.fake.push_for(&registration, "DEP").await;
    assert_eq!(late.status, 404);

    // A new subscription registers the AWB afresh.
    rig.subscribe(3).await;
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Subscribe), 2);
}

async fn an_unregistration_racing_a_new_subscription_leaves_it_registered(backend: Backend) {
    let rig = Rig::new(backend).await;
    let first = rig.registered(Step::Received).await;
    rig.app
        .delete(&format!("/v1/subscriptions/{first}"), &rig.key)
        .await;
    rig.fake.hold(Api::Unsubscribe);
    let round = tokio::spawn({
        let poller = rig.poller.clone();
        async move { poller.poll_once().await.unwrap() }
    });
    // Lufthansa has the DELETE; while it is on its way a tenant subscribes again.
    rig.fake.wait_for(Api::Unsubscribe, 1).await;
    rig.subscribe(2).await;
    rig.fake.release(Api::Unsubscribe);
    assert_eq!(round.await.unwrap(), 1);
    assert!(!rig.fake.subscriptions()[0].live);

    // The new subscriber's shipment is due at once and registered again.
    assert_eq!(rig.poll().await, 1);
    assert_eq!(rig.fake.calls(Api::Subscribe), 2);
    assert!(rig.fake.subscriptions()[1].live);
    assert_eq!(rig.push("DEP").await.status, 200);
}
