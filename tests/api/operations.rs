//! Health, readiness, metrics, the OpenAPI document and Swagger UI, request ids.

use crate::fake_carrier::{Answer, FakeCarrier};
use crate::helpers::{Backend, awb, hook, on_both_backends, spawn_app, spawn_app_with};
use serde_json::json;

on_both_backends!(
    health_and_readiness_answer,
    metrics_count_requests_by_route_and_status,
    openapi_lists_every_route_and_its_errors,
    every_response_carries_a_request_id,
    readiness_names_a_carrier_that_refuses_our_credentials,
);

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let health = app
        .request(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(ready.status, 200);
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    };
    assert_eq!(ready.body, json!({"status": "ready", "database": expected}));
}

async fn metrics_count_requests_by_route_and_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "url": hook(1)}))
        .await;
    app.subscribe(&key, json!({"awb": "bad"})).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"skyhook_http_requests_total{method="POST",route="/v1/subscriptions",status="201"}"#,
        r#"skyhook_http_requests_total{method="POST",route="/v1/subscriptions",status="400"}"#,
        "skyhook_http_request_duration_seconds_bucket",
        "skyhook_db_pool_connections",
        "skyhook_db_pool_idle_connections",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

async fn openapi_lists_every_route_and_its_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app
        .request(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200);
    let paths = &doc.body["paths"];
    for (path, method) in [
        ("/v1/subscriptions", "post"),
        ("/v1/subscriptions", "get"),
        ("/v1/subscriptions/{id}", "get"),
        ("/v1/subscriptions/{id}", "put"),
        ("/v1/subscriptions/{id}", "delete"),
        ("/v1/unsubscribe", "post"),
        ("/v1/shipments/{awb}", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ] {
        let responses = &paths[path][method]["responses"];
        assert!(responses.is_object(), "{method} {path} missing");
        if path.starts_with("/v1") {
            for status in ["401", "500"] {
                assert!(
                    responses[status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
        }
        if method == "post" || method == "put" {
            for status in ["400", "413"] {
                assert!(
                    responses[status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
    // Every /v1 operation, listed above or not, needs the key and says so.
    let v1 = paths
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/v1/"));
    let mut operations = 0;
    for (path, item) in v1 {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            for status in ["401", "500"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
            assert_eq!(
                operation["security"],
                json!([{"bearer": []}]),
                "{method} {path}"
            );
        }
    }
    assert!(operations >= 13, "only {operations} /v1 operations");
    let docs = app
        .client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .request(reqwest::Method::GET, "/v1/subscriptions", None, None)
        .await;
    let id = reply.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // A caller's own id is kept, so both sides can correlate logs.
    let echoed = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "tms-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "tms-123");
}

async fn readiness_names_a_carrier_that_refuses_our_credentials(backend: Backend) {
    let fake = FakeCarrier::start().await;
    fake.answer(Answer::status(401));
    let base = fake.base_url.clone();
    let app = spawn_app_with(backend, move |settings| {
        settings.poller.enabled = true;
        settings.carriers.cargoai.base_url = base.parse().unwrap();
    })
    .await;
    let key = app.create_key("acme").await;
    app.subscribed(&key, json!({"awb": awb("020", 1), "url": hook(1)}))
        .await;
    // The poller runs on its own; wait (briefly, polling) for its first answer.
    let mut ready = None;
    for _ in 0..100 {
        let reply = app
            .request(reqwest::Method::GET, "/readyz", None, None)
            .await;
        if reply.body["status"] == "degraded" {
            ready = Some(reply);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ready = ready.expect("readiness never reported the refused credentials");
    assert_eq!(ready.status, 200, "the API still works: stay in rotation");
    let errors = ready.body["carrierErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", ready.body);
    let error = errors[0].as_str().unwrap();
    assert!(error.starts_with("carriers.cargoai:"), "{error}");
    assert!(error.contains("api_key"), "{error}");
}
