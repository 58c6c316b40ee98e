//! The console's pages over plain HTTP: the form's errors and search, the CSV upload, the
//! status page, a message's body and the shipment and flight pages.

use super::{Visitor, console_app, queue_test, webhook_subscription};
use crate::helpers::{Backend, on_both_backends};
use chrono::Utc;
use serde_json::json;

on_both_backends!(
    a_rotation_sent_again_rotates_nothing,
    the_list_goes_page_by_page_keeping_its_search,
    the_form_shows_the_apis_error_beside_the_field_and_stores_nothing,
    the_last_update_is_when_the_last_message_was_queued,
    the_live_part_is_sent_again_only_when_it_changed,
    the_status_page_lists_the_sandbox_and_the_tenants_queue,
    a_message_body_the_shipment_and_the_flight_pages_are_the_tenants_own,
);

async fn the_form_shows_the_apis_error_beside_the_field_and_stores_nothing(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let bad = visitor
        .submit(
            "/console/subscriptions",
            &[
                ("awb", "000-00000012"),
                ("emails", "ops@example.com"),
                ("reference", "PO-9"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    let error = regex::Regex::new(r#"id="awb-error">([^<]*)<"#)
        .unwrap()
        .captures(&bad.body)
        .unwrap_or_else(|| panic!("no error beside the AWB: {}", bad.body))[1]
        .to_owned();
    assert!(error.starts_with("ErrInvalidAWBCheckDigit"), "{error}");
    assert!(
        bad.body.contains(r#"value="PO-9""#),
        "the form keeps what was typed"
    );
    let bad_email = visitor
        .submit(
            "/console/subscriptions",
            &[
                ("awb", "000-00000011"),
                ("emails", "ops@example.com\nnot-an-email"),
            ],
        )
        .await;
    assert_eq!(bad_email.status, 400);
    assert!(
        bad_email
            .body
            .contains(r#"id="emails-error">ErrInvalidEmail"#),
        "{}",
        bad_email.body
    );
    assert!(app.all_subscriptions(&key).await.is_empty());

    let created = visitor
        .submit(
            "/console/subscriptions",
            &[
                ("awb", "000-00000011"),
                ("emails", "ops@example.com, two@example.com"),
                ("reference", "PO-10"),
                ("states", "*"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains("whsec_"), "the secret is shown once");
    let stored = app.all_subscriptions(&key).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["emails"],
        json!(["ops@example.com", "two@example.com"])
    );
    assert_eq!(stored[0]["reference"], "PO-10");
    let found = visitor.get("/console/subscriptions?q=po-1").await;
    assert!(
        found.body.contains("000-00000011"),
        "search by reference, any case"
    );
    let none = visitor.get("/console/subscriptions?q=PO-99").await;
    assert!(!none.body.contains("000-00000011") && none.body.contains("match this search"));
    let by_awb = visitor.get("/console/subscriptions?q=00000000011").await;
    assert!(
        by_awb.body.contains("000-00000011"),
        "search by AWB without the dash"
    );
    let by_status = visitor.get("/console/subscriptions?status=completed").await;
    assert!(!by_status.body.contains("000-00000011"));
    let bad_status = visitor.get("/console/subscriptions?status=sideways").await;
    assert_eq!(bad_status.status, 200);
    assert!(
        bad_status.body.contains("status"),
        "the filter's error is on the page"
    );
}

async fn the_status_page_lists_the_sandbox_and_the_tenants_queue(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let id = webhook_subscription(&app, &key, "000-00000011").await;
    queue_test(&app, &key, &id).await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let status = visitor.get("/console/status").await;
    assert_eq!(status.status, 200);
    let demo = regex::Regex::new(r#"(?s)data-source="demo">.*?</tr>"#)
        .unwrap()
        .find(&status.body)
        .expect("the demo carrier is listed")
        .as_str()
        .to_owned();
    assert!(demo.contains("sandbox") && demo.contains("000"), "{demo}");
    let lufthansa = regex::Regex::new(r#"(?s)data-source="lufthansa">.*?</tr>"#)
        .unwrap()
        .find(&status.body)
        .expect("a configured carrier that is off is listed too")
        .as_str()
        .to_owned();
    assert!(
        lufthansa.contains(r#"<span class="muted">no</span>"#),
        "{lufthansa}"
    );
    assert!(
        status.body.contains(r#"id="queue-pending">1<"#),
        "{}",
        status.body
    );
    assert!(status.body.contains(r#"id="deliveries-chart""#));
}

async fn a_message_body_the_shipment_and_the_flight_pages_are_the_tenants_own(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let other = app.create_key("other").await;
    let id = webhook_subscription(&app, &key, "000-00000011").await;
    queue_test(&app, &key, &id).await;
    let today = Utc::now().date_naive().to_string();
    let flight = app
        .subscribed(
            &key,
            json!({"flight": {"number": "LH8160", "date": today, "origin": "FRA"},
                   "emails": ["ops@example.com"]}),
        )
        .await;
    let flight_id = flight["flightUUID"]
        .as_str()
        .expect("the flight is learned");

    let mut visitor = Visitor::signed_in(&app, &key).await;
    let page = visitor.get(&format!("/console/subscriptions/{id}")).await;
    assert_eq!(page.status, 200);
    let delivery = regex::Regex::new(r#"data-delivery-id="([^"]+)""#)
        .unwrap()
        .captures(&page.body)
        .expect("the test message is in the log")[1]
        .to_owned();
    let body_path = format!("/console/subscriptions/{id}/deliveries/{delivery}");
    let body = visitor.get(&body_path).await;
    assert_eq!(body.status, 200);
    assert!(body.body.contains("subscription.test"), "{}", body.body);
    let shipment = visitor.get("/console/shipments/00000000011").await;
    assert_eq!(shipment.status, 200);
    assert!(shipment.body.contains("000-00000011") && shipment.body.contains("No events yet"));
    let flight_page = visitor.get(&format!("/console/flights/{flight_id}")).await;
    assert_eq!(flight_page.status, 200);
    assert!(flight_page.body.contains("LH8160") && flight_page.body.contains(&today));
    // A flight subscription's own page shows the flight's panel and links to it.
    let flight_subscription = visitor
        .get(&format!(
            "/console/subscriptions/{}",
            flight["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(flight_subscription.status, 200);
    assert!(
        flight_subscription
            .body
            .contains(&format!(r#"href="/console/flights/{flight_id}""#)),
        "{}",
        flight_subscription.body
    );
    let live = visitor
        .get(&format!("/console/subscriptions/{id}/live"))
        .await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("delivery-log") && !live.body.contains("<html"));

    let mut stranger = Visitor::signed_in(&app, &other).await;
    assert_eq!(stranger.get(&body_path).await.status, 404);
    assert_eq!(
        stranger.get("/console/shipments/000-00000011").await.status,
        404
    );
}

async fn the_last_update_is_when_the_last_message_was_queued(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let id = webhook_subscription(&app, &key, "000-00000011").await;
    let saved = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(saved.body["lastMessageAt"], serde_json::Value::Null);
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let last_update = regex::Regex::new(r#"class="time last-update">([^<]*)<"#).unwrap();
    let list = visitor.get("/console/subscriptions").await;
    assert_eq!(&last_update.captures(&list.body).unwrap()[1], "—");

    let before = Utc::now();
    queue_test(&app, &key, &id).await;
    let read = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    let at: chrono::DateTime<Utc> = read.body["lastMessageAt"]
        .as_str()
        .expect("set by the test message")
        .parse()
        .unwrap();
    assert!(at >= before - chrono::TimeDelta::seconds(1) && at <= Utc::now());
    let list = visitor.get("/console/subscriptions").await;
    let shown = last_update.captures(&list.body).unwrap()[1].to_owned();
    assert_eq!(shown, at.format("%Y-%m-%d %H:%M UTC").to_string());
}

async fn the_live_part_is_sent_again_only_when_it_changed(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let id = webhook_subscription(&app, &key, "000-00000011").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let page = visitor.get(&format!("/console/subscriptions/{id}")).await;
    let shown = regex::Regex::new(r#"data-version="&quot;([0-9a-f]+)&quot;""#)
        .unwrap()
        .captures(&page.body)
        .expect("the page says which state it shows")[1]
        .to_owned();
    let live = format!("{}/console/subscriptions/{id}/live", visitor.app.address);
    let client = visitor.client.clone();
    let ask = |etag: String| client.get(&live).header("if-none-match", etag);
    let request = ask(format!("\"{shown}\""));
    let same = visitor.send(request).await;
    assert_eq!(same.status, 304, "nothing changed since the page was made");
    assert!(same.body.is_empty());
    queue_test(&app, &key, &id).await;
    let request = ask(format!("\"{shown}\""));
    let changed = visitor.send(request).await;
    assert_eq!(changed.status, 200);
    assert!(changed.body.contains("subscription.test"));
    let etag = changed.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag, format!("\"{shown}\""));
    let request = ask(etag);
    assert_eq!(visitor.send(request).await.status, 304);
}

async fn the_list_goes_page_by_page_keeping_its_search(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let items: Vec<_> = (0..30)
        .map(|n| {
            json!({"awb": crate::helpers::awb("000", 500 + n), "emails": ["ops@example.com"],
                   "reference": format!("PO-{n:02}")})
        })
        .collect();
    let batch = app
        .post("/v1/subscriptions/batch", &key, json!({ "items": items }))
        .await;
    assert_eq!(batch.status, 200);
    app.subscribed(
        &key,
        json!({"awb": "000-00000011", "emails": ["x@example.com"], "reference": "other"}),
    )
    .await;
    let rows = regex::Regex::new(r#"<td class="reference">(PO-\d\d)</td>"#).unwrap();
    let next = regex::Regex::new(r#"<a href="([^"]+)" rel="next">Next page</a>"#).unwrap();
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let first = visitor.get("/console/subscriptions?q=PO-").await;
    let on_first: Vec<String> = rows
        .captures_iter(&first.body)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(on_first.len(), 25, "a page holds 25");
    let link = next.captures(&first.body).expect("a next page")[1].replace("&#38;", "&");
    assert!(link.contains("q=PO-") && link.contains("cursor="), "{link}");
    let second = visitor.get(&link).await;
    let on_second: Vec<String> = rows
        .captures_iter(&second.body)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(on_second.len(), 5);
    assert!(next.captures(&second.body).is_none(), "the last page");
    assert!(second.body.contains(">First page</a>"));
    let mut all: Vec<String> = on_first.into_iter().chain(on_second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 30, "every match once, across the pages");
    assert!(
        !second.body.contains(">other<"),
        "the search holds on the next page"
    );
}

/// A reload of the page that showed the new secret (or Back, then Forward) sends the rotation
/// again; it must not rotate again, or the secret just copied would stop signing in a day.
async fn a_rotation_sent_again_rotates_nothing(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let id = webhook_subscription(&app, &key, "000-00000011").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let page = visitor.get(&format!("/console/subscriptions/{id}")).await;
    let version = regex::Regex::new(r#"name="version" value="([^"]+)""#)
        .unwrap()
        .captures(&page.body)
        .expect("the rotate form carries the version")[1]
        .to_owned();
    let path = format!("/console/subscriptions/{id}/rotate-secret");
    let secret = regex::Regex::new(r"whsec_[A-Za-z0-9+/=]+").unwrap();
    let updated_at =
        async || app.get(&format!("/v1/subscriptions/{id}"), &key).await.body["updatedAt"].clone();

    let before = updated_at().await;
    let rotated = visitor.submit(&path, &[("version", &version)]).await;
    assert_eq!(rotated.status, 200);
    assert!(secret.is_match(&rotated.body), "the new secret is shown");
    let after = updated_at().await;
    assert_ne!(after, before, "rotated");

    let again = visitor.submit(&path, &[("version", &version)]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(!secret.is_match(&again.body), "no other secret shown");
    assert!(again.body.contains("was not rotated again"));
    assert_eq!(updated_at().await, after, "not rotated again");

    // From the page as it is now, it rotates.
    let page = visitor.get(&format!("/console/subscriptions/{id}")).await;
    let version = regex::Regex::new(r#"name="version" value="([^"]+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_owned();
    let fresh = visitor.submit(&path, &[("version", &version)]).await;
    assert_eq!(fresh.status, 200);
    assert!(secret.is_match(&fresh.body));
}
