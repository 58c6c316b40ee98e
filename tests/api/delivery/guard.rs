//! The SSRF guard at subscribe/update time and at send time, and the callback preflight.

use super::{AWB, DeliveryRig, booked, id};
use crate::helpers::{Backend, hook, on_both_backends, spawn_app};
use crate::receiver::Reply;
use serde_json::json;
use skyhook::domain::PreflightMode;
use skyhook::domain::{AllowNetworks, Cidr};

on_both_backends!(
    an_answer_from_a_network_only_the_operator_exempted_is_not_kept,
    a_keys_own_network_opens_only_that_tenants_callbacks,
    internal_callback_urls_are_refused_at_subscribe_and_update_saying_why,
    the_send_time_guard_refuses_an_internal_url_the_api_let_through,
    the_send_time_resolver_refuses_a_host_name_resolving_to_an_internal_address,
    a_reachable_preflight_refuses_a_callback_that_does_not_answer,
    a_strict_preflight_wants_a_2xx_allowing_post,
);

async fn internal_callback_urls_are_refused_at_subscribe_and_update_saying_why(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let refused = [
        ("http://127.0.0.1:8080/hook", "loopback"),
        // A name is refused without saying where it points: that would map the network.
        (
            "http://localhost:8080/hook",
            "does not resolve to a public address",
        ),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.10.1/hook", "link-local"),
        ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
    ];
    for (url, why) in refused {
        let message = app
            .subscribe(&key, json!({"awb": AWB, "url": url}))
            .await
            .assert_error(400, "ErrInvalidUrl");
        assert!(message.contains(why), "{url}: {message}");
    }
    assert!(app.all_subscriptions(&key).await.is_empty());

    let sub = app
        .subscribed(&key, json!({"awb": AWB, "url": hook(1)}))
        .await;
    let path = format!("/v1/subscriptions/{}", id(&sub));
    let message = app
        .put(&path, &key, json!({"url": "http://10.0.0.7/hook"}))
        .await
        .assert_error(400, "ErrInvalidUrl");
    assert!(message.contains("private"), "{message}");
    assert_eq!(app.get(&path, &key).await.body["url"], hook(1), "unchanged");
}

async fn the_send_time_guard_refuses_an_internal_url_the_api_let_through(backend: Backend) {
    // The API allows loopback (as the rig's settings say); this dispatcher does not, as if the
    // operator had narrowed `allow_networks` after the subscription was made.
    let rig = DeliveryRig::new(backend).await;
    rig.key_networks(AllowNetworks::default()).await;
    let strict = rig.another_dispatcher(|s| s.webhooks.allow_networks = AllowNetworks(vec![]));
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    assert_eq!(strict.dispatch_once().await.unwrap(), 1);

    assert!(
        rig.receiver.posts().is_empty(),
        "nothing reached the receiver"
    );
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["lastStatusCode"], json!(null));
    let error = log[0]["lastError"].as_str().unwrap();
    assert!(error.contains("loopback address 127.0.0.1"), "{error}");
}

async fn the_send_time_resolver_refuses_a_host_name_resolving_to_an_internal_address(
    backend: Backend,
) {
    let loopback = || {
        AllowNetworks(vec![
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("::1/128").unwrap(),
        ])
    };
    let rig = DeliveryRig::with(backend, move |s| s.webhooks.allow_networks = loopback()).await;
    rig.key_networks(AllowNetworks::default()).await;
    let url = rig.receiver.url("/hook").replace("127.0.0.1", "localhost");
    let sub = rig.subscribe(json!({"url": url})).await;
    rig.poll(vec![booked()]).await;

    // An instance that does not allow loopback refuses the name when it connects…
    let allowing = rig.another_dispatcher(|_| {});
    let refusing = rig.another_dispatcher(|s| s.webhooks.allow_networks = AllowNetworks(vec![]));
    assert_eq!(refusing.dispatch_once().await.unwrap(), 1);
    assert!(rig.receiver.posts().is_empty());
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "pending");
    let error = log[0]["lastError"].as_str().unwrap();
    assert!(
        error.contains("localhost does not resolve to a public address"),
        "{error}"
    );
    assert!(
        !error.contains("127.0.0.1") && !error.contains("::1") && !error.contains("loopback"),
        "the tenant is not told where the name points: {error}"
    );

    // …which an instance allowing loopback reaches.
    rig.advance_to_next_attempt(&log);
    assert_eq!(allowing.dispatch_once().await.unwrap(), 1);
    assert_eq!(rig.receiver.posts().len(), 1);
}

async fn a_reachable_preflight_refuses_a_callback_that_does_not_answer(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| s.webhooks.preflight = PreflightMode::Reachable).await;
    let message = rig
        .app
        .subscribe(
            &rig.key,
            json!({"awb": AWB, "url": "http://127.0.0.1:9/hook"}),
        )
        .await
        .assert_error(400, "ErrCallbackPreflightFailed");
    assert!(message.contains("did not answer"), "{message}");

    // Any HTTP answer will do: the fake carrier answers 404 without an Allow header.
    let url = format!("{}hook", rig.fake.base_url);
    let reply = rig
        .app
        .subscribe(&rig.key, json!({"awb": AWB, "url": url}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    rig.subscribe_url("/hook").await;
    let asked = rig.receiver.all();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].method, "OPTIONS");
}

async fn a_strict_preflight_wants_a_2xx_allowing_post(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| s.webhooks.preflight = PreflightMode::Strict).await;
    let url = format!("{}hook", rig.fake.base_url);
    let message = rig
        .app
        .subscribe(&rig.key, json!({"awb": AWB, "url": url}))
        .await
        .assert_error(400, "ErrCallbackPreflightFailed");
    assert!(message.contains("404"), "{message}");
    // The receiver answers OPTIONS with 204 and `Allow: OPTIONS, POST`.
    rig.subscribe_url("/hook").await;
    assert_eq!(rig.receiver.all()[0].method, "OPTIONS");
}

async fn an_answer_from_a_network_only_the_operator_exempted_is_not_kept(backend: Backend) {
    // The operator exempts loopback; this tenant's key claims no network of its own.
    let rig = DeliveryRig::new(backend).await;
    rig.key_networks(AllowNetworks::default()).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver.script([Reply::HugeBody(500), Reply::Redirect]);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["lastStatusCode"], 500);
    let error = log[0]["lastError"].as_str().unwrap();
    assert!(error.starts_with("HTTP 500"), "{error}");
    assert!(error.contains("not kept"), "{error}");
    assert!(
        !error.contains("xxxx"),
        "the answer's body stays out of the log: {error}"
    );

    rig.advance_to_next_attempt(&log);
    assert_eq!(rig.dispatch().await, 1);
    let error = rig.deliveries(&sub).await[0]["lastError"].clone();
    assert!(
        !error.as_str().unwrap().contains("/redirected"),
        "nor its Location: {error}"
    );
}

async fn a_keys_own_network_opens_only_that_tenants_callbacks(backend: Backend) {
    // The operator exempts nothing; the rig's key allows loopback, its tenant's network.
    let rig = DeliveryRig::with(backend, |s| {
        s.webhooks.allow_networks = AllowNetworks(vec![])
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(rig.receiver.posts().len(), 1);
    assert_eq!(rig.deliveries(&sub).await[0]["status"], "delivered");

    let other = rig.app.create_key("other").await;
    let message = rig
        .app
        .subscribe(
            &other,
            json!({"awb": AWB, "url": rig.receiver.url("/hook/other")}),
        )
        .await
        .assert_error(400, "ErrInvalidUrl");
    assert!(message.contains("loopback"), "{message}");
}
