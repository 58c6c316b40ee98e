//! The OpenAPI document states what the server enforces, so that a client generated from it
//! (or schemathesis, in `.ci/run openapi`) meets the same rules as the server, and a route
//! added without them is noticed.

use crate::helpers::{Backend, awb, hook, on_both_backends, spawn_app};
use serde_json::{Value, json};

on_both_backends!(
    the_document_states_the_constraints_the_server_enforces,
    every_v1_operation_lists_the_answers_of_its_layers,
    a_body_declared_as_something_other_than_json_is_415,
);

async fn document(backend: Backend) -> Value {
    let app = spawn_app(backend).await;
    let doc = app
        .request(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200);
    doc.body
}

async fn the_document_states_the_constraints_the_server_enforces(backend: Backend) {
    let doc = document(backend).await;
    let schemas = &doc["components"]["schemas"];
    let create = &schemas["CreateSubscriptionRequest"];
    let properties = &create["properties"];
    let awb_pattern = properties["awb"]["pattern"].as_str().unwrap();
    assert!(
        awb_pattern.contains("[0-9]{3}[- ]?[0-9]{8}"),
        "{awb_pattern}"
    );
    assert_eq!(properties["emails"]["maxItems"], 5);
    assert_eq!(properties["emails"]["items"]["format"], "email");
    assert_eq!(properties["url"]["format"], "uri");
    assert!(
        properties["url"]["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^[Hh][Tt][Tt][Pp][Ss]?://")
    );
    let states = properties["states"]["items"]["enum"].as_array().unwrap();
    for code in ["*", "DEP", "ARR", "DLV"] {
        assert!(states.contains(&json!(code)), "states lack {code}");
    }
    assert_eq!(properties["headers"]["maxProperties"], 5);
    assert_eq!(properties["reference"]["maxLength"], 256);
    // Exactly one target, and at least one channel.
    let all_of = create["allOf"].as_array().unwrap();
    let targets: Vec<&Value> = all_of
        .iter()
        .filter_map(|part| part["oneOf"].as_array())
        .flatten()
        .map(|branch| &branch["required"][0])
        .collect();
    for name in ["awb", "flight", "flightUUID"] {
        assert!(targets.contains(&&json!(name)), "oneOf lacks {name}");
    }
    assert!(all_of.iter().any(|part| part["anyOf"].is_array()));
    let flight_number = &schemas["FlightRequest"]["properties"]["number"]["pattern"];
    assert!(flight_number.is_string());
    assert_eq!(
        schemas["BatchRequest"]["properties"]["items"]["maxItems"],
        1000
    );
    // Parameters: the same AWB and flight-number patterns, and the page bounds.
    let parameter = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("GET {path} has no parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(
        parameter("/v1/shipments/{awb}", "awb")["pattern"],
        awb_pattern
    );
    assert_eq!(
        parameter("/v1/subscriptions", "awb")["pattern"],
        awb_pattern
    );
    assert_eq!(
        parameter("/v1/flights", "number")["pattern"],
        *flight_number
    );
    assert_eq!(parameter("/v1/flights", "date")["format"], "date");
    for (path, max) in [("/v1/subscriptions", 200), ("/v1/messages", 1000)] {
        let limit = parameter(path, "limit");
        assert_eq!(
            (&limit["minimum"], &limit["maximum"]),
            (&json!(1), &json!(max))
        );
    }
}

async fn every_v1_operation_lists_the_answers_of_its_layers(backend: Backend) {
    let doc = document(backend).await;
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            for status in ["401", "408", "429", "500"] {
                assert!(
                    responses[status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
            if let Some(body) = operation.get("requestBody") {
                for status in ["413", "415"] {
                    assert!(
                        responses[status].is_object(),
                        "{method} {path} lacks {status}"
                    );
                }
                let media = &body["content"]["application/json"];
                let schema_name = media["schema"]["$ref"].as_str().unwrap().rsplit('/').next();
                let schema = &doc["components"]["schemas"][schema_name.unwrap()];
                assert!(
                    media["example"].is_object()
                        || schema["example"].is_object()
                        || schema["examples"].is_array(),
                    "{method} {path} has no example body"
                );
            }
            if method == "post" {
                posts += 1;
                let key = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"] == "Idempotency-Key")
                    .unwrap_or_else(|| panic!("POST {path} lacks Idempotency-Key"));
                assert_eq!(
                    (&key["in"], &key["required"]),
                    (&json!("header"), &json!(false))
                );
                assert!(key["schema"]["pattern"].is_string());
                let conflict = responses["409"]["description"].as_str().unwrap();
                assert!(
                    conflict.contains("ErrIdempotencyKeyReused"),
                    "POST {path}: {conflict}"
                );
            }
        }
    }
    assert!(posts >= 6, "only {posts} POST operations under /v1");
}

async fn a_body_declared_as_something_other_than_json_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let body = json!({"awb": awb("020", 1), "url": hook(1)}).to_string();
    let send = |content_type: Option<&'static str>| {
        let mut request = app
            .client
            .post(format!("{}/v1/subscriptions", app.address))
            .bearer_auth(&key)
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send()
    };
    for declared in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let reply = send(Some(declared)).await.unwrap();
        assert_eq!(reply.status(), 415, "{declared}");
        let error: Value = reply.json().await.unwrap();
        assert_eq!(error["error"], "ErrUnsupportedMediaType");
    }
    assert!(app.all_subscriptions(&key).await.is_empty());
    // JSON with parameters, and no Content-Type at all, are still taken.
    let reply = send(Some("application/json; charset=utf-8")).await.unwrap();
    assert_eq!(reply.status(), 201);
    let body = json!({"awb": awb("020", 2), "url": hook(2)}).to_string();
    let reply = app
        .client
        .post(format!("{}/v1/subscriptions", app.address))
        .bearer_auth(&key)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    assert_eq!(app.all_subscriptions(&key).await.len(), 2);
}
