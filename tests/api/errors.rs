//! Every error the API names, and the promise that bad input never changes stored data.

use crate::helpers::{Backend, Reply, TestApp, awb, hook, on_both_backends, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    invalid_create_requests_are_refused_with_their_named_error,
    malformed_and_oversized_bodies_are_refused,
    invalid_updates_leave_the_subscription_unchanged,
    missing_unknown_and_revoked_keys_are_unauthorized,
    unknown_subscriptions_and_routes_are_not_found,
    invalid_list_queries_are_refused,
    flight_uuids_must_name_a_known_flight,
    a_database_failure_is_an_opaque_internal_error,
    an_awb_no_enabled_carrier_serves_is_refused,
);

async fn an_awb_no_enabled_carrier_serves_is_refused(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |s| s.carriers.cargoai.enabled = false).await;
    let key = app.create_key("acme").await;
    let message = app
        .subscribe(&key, json!({"awb": "020-08002050", "url": hook(1)}))
        .await
        .assert_error(400, "ErrNoCarrier");
    assert!(
        message.contains("020") && message.contains("Lufthansa Cargo"),
        "{message}"
    );
    assert_nothing_stored(&app, &key).await;
    // The sandbox prefix is served by the demo carrier out of the box.
    app.subscribed(&key, json!({"awb": "000-00000000", "url": hook(1)}))
        .await;
}

async fn assert_nothing_stored(app: &TestApp, key: &str) {
    assert!(
        app.all_subscriptions(key).await.is_empty(),
        "a refused request stored something"
    );
}

async fn invalid_create_requests_are_refused_with_their_named_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let past = (Utc::now() - TimeDelta::days(4)).date_naive().to_string();
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"url": hook(1)}), "ErrMissingKeyParams", "awb"),
        (json!({"awb": awb("020", 1)}), "ErrMissingKeyParams", "url"),
        (
            json!({"awb": awb("020", 1), "emails": []}),
            "ErrMissingKeyParams",
            "emails",
        ),
        (json!({}), "ErrMissingKeyParams", "target"),
        (
            json!({"awb": "02O-08002050", "url": hook(1)}),
            "ErrInvalidAWB",
            "02O-08002050",
        ),
        (
            json!({"awb": "020-0800205", "url": hook(1)}),
            "ErrInvalidAWBLength",
            "10 digits",
        ),
        (
            json!({"awb": "000-11223345", "url": hook(1)}),
            "ErrInvalidAWBCheckDigit",
            "expected 3",
        ),
        (
            json!({"awb": awb("020", 1), "emails": ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]}),
            "ErrMaximumFiveEmails",
            "6",
        ),
        (
            json!({"awb": awb("020", 1), "emails": ["not-an-email"]}),
            "ErrInvalidEmail",
            "not-an-email",
        ),
        (
            json!({"awb": awb("020", 1), "url": "ftp://x.example/"}),
            "ErrInvalidUrl",
            "ftp",
        ),
        (
            json!({"awb": awb("020", 1), "url": ""}),
            "ErrInvalidUrl",
            "url",
        ),
        (
            json!({"awb": awb("020", 1), "url": hook(1), "states": ["DEPARTED"]}),
            "ErrInvalidBody",
            "DEPARTED",
        ),
        (
            json!({"awb": awb("020", 1), "url": hook(1), "states": []}),
            "ErrInvalidBody",
            "states",
        ),
        (
            json!({"awb": awb("020", 1), "url": hook(1), "emial": ["a@x.io"]}),
            "ErrInvalidBody",
            "emial",
        ),
        (
            json!({"awb": 2008002050u64, "url": hook(1)}),
            "ErrInvalidBody",
            "string",
        ),
        (
            json!({"awb": awb("020", 1), "url": hook(1), "reference": "a\nb"}),
            "ErrInvalidBody",
            "reference",
        ),
        (
            json!({"awb": awb("020", 1), "flight": {"number": "LH1", "date": "2030-01-01"}, "url": hook(1)}),
            "ErrInvalidBody",
            "exactly one",
        ),
        (
            json!({"flight": {"number": "L-H1", "date": "2030-01-01"}, "url": hook(1)}),
            "ErrInvalidFlightNumber",
            "L-H1",
        ),
        (
            json!({"flight": {"number": "LH1", "date": "01/01/2030"}, "url": hook(1)}),
            "ErrInvalidBody",
            "YYYY-MM-DD",
        ),
        (
            json!({"flight": {"number": "LH1", "date": past}, "url": hook(1)}),
            "ErrInvalidFlightDate",
            "past",
        ),
    ];
    for (body, name, mentions) in cases {
        let reply = app.subscribe(&key, body.clone()).await;
        let message = reply.assert_error(400, name);
        assert!(
            message.contains(mentions),
            "{name} for {body}: message `{message}` should mention `{mentions}`"
        );
    }
    assert_nothing_stored(&app, &key).await;
}

async fn malformed_and_oversized_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let send = |body: String| {
        app.client
            .post(format!("{}/v1/subscriptions", app.address))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let malformed = send("{\"awb\": ".into()).await.unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"], "ErrInvalidBody");

    let huge = format!(
        "{{\"awb\": \"{}\", \"url\": \"{}\", \"reference\": \"{}\"}}",
        awb("020", 1),
        hook(1),
        "x".repeat(70 * 1024)
    );
    let too_large = send(huge).await.unwrap();
    assert_eq!(too_large.status(), 413);
    let body: Value = too_large.json().await.unwrap();
    assert_eq!(body["error"], "ErrPayloadTooLarge");

    // A body without a content type is still read as JSON (many TMS clients omit it).
    let untyped = app
        .client
        .post(format!("{}/v1/subscriptions", app.address))
        .bearer_auth(&key)
        .body(json!({"awb": awb("020", 2), "url": hook(2)}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), 201);
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
}

async fn invalid_updates_leave_the_subscription_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 4), "url": hook(1), "emails": ["a@x.io"]}),
        )
        .await;
    let path = format!("/v1/subscriptions/{}", created["id"].as_str().unwrap());
    let before = app.get(&path, &key).await.body;
    for (body, name) in [
        (json!({}), "ErrMissingKeyParams"),
        (json!({"url": "not a url"}), "ErrInvalidUrl"),
        (json!({"emails": ["nope"]}), "ErrInvalidEmail"),
        (json!({"url": hook(1), "states": ["XXX"]}), "ErrInvalidBody"),
        (
            json!({"url": hook(1), "awb": awb("020", 5)}),
            "ErrInvalidBody",
        ),
    ] {
        app.put(&path, &key, body).await.assert_error(400, name);
    }
    assert_eq!(app.get(&path, &key).await.body, before);
}

async fn missing_unknown_and_revoked_keys_are_unauthorized(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    for auth in [None, Some("sk_not-a-key"), Some("")] {
        let reply = app
            .request(Method::GET, "/v1/subscriptions", auth, None)
            .await;
        reply.assert_error(401, "ErrUnauthorized");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
    }
    let basic = app
        .client
        .get(format!("{}/v1/subscriptions", app.address))
        .header("authorization", format!("Basic {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // Unauthenticated writes store nothing.
    app.request(
        Method::POST,
        "/v1/subscriptions",
        None,
        Some(&json!({"awb": awb("020", 1), "url": hook(1)})),
    )
    .await
    .assert_error(401, "ErrUnauthorized");
    assert_nothing_stored(&app, &key).await;

    let name = skyhook::domain::KeyName::parse("acme").unwrap();
    assert!(app.store.revoke_api_key(&name, Utc::now()).await.unwrap());
    app.get("/v1/subscriptions", &key)
        .await
        .assert_error(401, "ErrUnauthorized");
}

async fn unknown_subscriptions_and_routes_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let random = uuid::Uuid::new_v4();
    for path in [
        format!("/v1/subscriptions/{random}"),
        "/v1/subscriptions/not-a-uuid".into(),
    ] {
        app.get(&path, &key)
            .await
            .assert_error(404, "ErrSubscriptionNotFound");
    }
    // A PUT reads its body before its id: a body it cannot read is refused as such, whatever
    // the id; a readable body with an unknown id is not found.
    let unreadable = app
        .client
        .put(format!("{}/v1/subscriptions/not-a-uuid", app.address))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .unwrap();
    Reply::of(unreadable)
        .await
        .assert_error(400, "ErrInvalidBody");
    app.put(
        "/v1/subscriptions/not-a-uuid",
        &key,
        json!({"url": hook(1)}),
    )
    .await
    .assert_error(404, "ErrSubscriptionNotFound");
    app.get("/v1/nothing-here", &key)
        .await
        .assert_error(404, "ErrNotFound");
    app.request(Method::PATCH, "/v1/subscriptions", Some(&key), None)
        .await
        .assert_error(405, "ErrMethodNotAllowed");
}

async fn invalid_list_queries_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "status=paused",
        "cursor=garbage",
        "colour=red",
    ] {
        app.get(&format!("/v1/subscriptions?{query}"), &key)
            .await
            .assert_error(400, "ErrInvalidQuery");
    }
    app.get("/v1/subscriptions?awb=000-11223345", &key)
        .await
        .assert_error(400, "ErrInvalidAWBCheckDigit");
}

async fn flight_uuids_must_name_a_known_flight(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    for flight_uuid in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let message = app
            .subscribe(&key, json!({"flightUUID": flight_uuid, "url": hook(1)}))
            .await
            .assert_error(400, "ErrInvalidFlightUUID");
        assert!(message.contains("not found"), "{message}");
    }
    // A flight Skyhook knows can be subscribed by its UUID.
    let known = crate::db::insert_flight(&app.db.url, "LH8160", "2030-11-25", "FRA").await;
    let created = app
        .subscribed(
            &key,
            json!({"flightUUID": known.to_string(), "url": hook(1)}),
        )
        .await;
    assert_eq!(created["flightUUID"], known.to_string());
    assert_eq!(
        created["flight"],
        json!({"number": "LH8160", "date": "2030-11-25", "origin": "FRA"})
    );
}

async fn a_database_failure_is_an_opaque_internal_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    crate::db::execute(&app.db.url, "DROP TABLE subscription_emails").await;
    let message = app
        .subscribe(&key, json!({"awb": awb("020", 1), "emails": ["a@x.io"]}))
        .await
        .assert_error(500, "ErrInternalServerError");
    assert!(
        !message.contains("subscription_emails") && !message.contains("table"),
        "internals leaked: {message}"
    );
}
