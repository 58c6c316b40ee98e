//! The one-click unsubscribe link carried by every email (RFC 8058).

use crate::helpers::{Backend, TestApp, awb, on_both_backends, spawn_app};
use serde_json::json;

on_both_backends!(
    the_link_page_asks_before_removing_anything,
    a_one_click_post_removes_only_that_address_from_that_subscription,
    the_last_address_leaving_ends_the_subscription,
    an_unknown_link_is_not_found,
);

pub(crate) async fn token_of(app: &TestApp, email: &str) -> String {
    let sql = format!("SELECT unsubscribe_token FROM subscription_emails WHERE email = '{email}'");
    let url = &app.db.url;
    if url.starts_with("sqlite:") {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap()
    } else {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap()
    }
}

async fn link(app: &TestApp, method: reqwest::Method, token: &str) -> (u16, String) {
    let response = app
        .client
        .request(method, format!("{}/unsubscribe/{token}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn the_link_page_asks_before_removing_anything(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 1), "emails": ["ops@example.com"]}),
        )
        .await;
    let token = token_of(&app, "ops@example.com").await;
    let (status, page) = link(&app, reqwest::Method::GET, &token).await;
    assert_eq!(status, 200);
    assert!(page.contains("ops@example.com") && page.contains("<form method=\"post\""));
    let id = created["id"].as_str().unwrap();
    let after = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(
        after.body["emails"],
        json!(["ops@example.com"]),
        "a GET removes nothing"
    );
}

async fn a_one_click_post_removes_only_that_address_from_that_subscription(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 1), "emails": ["ops@example.com", "desk@example.com"]}),
        )
        .await;
    let token = token_of(&app, "ops@example.com").await;
    let (status, page) = link(&app, reqwest::Method::POST, &token).await;
    assert_eq!(status, 200);
    assert!(page.contains("will receive no more emails"), "{page}");
    let id = created["id"].as_str().unwrap();
    let after = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(after.body["emails"], json!(["desk@example.com"]));
    assert_eq!(after.body["status"], "active");
    // Mail programs may send it twice.
    assert_eq!(link(&app, reqwest::Method::POST, &token).await.0, 200);
}

async fn the_last_address_leaving_ends_the_subscription(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let created = app
        .subscribed(
            &key,
            json!({"awb": awb("020", 1), "emails": ["ops@example.com"]}),
        )
        .await;
    let token = token_of(&app, "ops@example.com").await;
    link(&app, reqwest::Method::POST, &token).await;
    let id = created["id"].as_str().unwrap();
    let after = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(after.body["status"], "unsubscribed");
    let (_, page) = link(&app, reqwest::Method::GET, &token).await;
    assert!(
        !page.contains("<form"),
        "nothing left to unsubscribe: {page}"
    );
}

async fn an_unknown_link_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(link(&app, reqwest::Method::POST, "nope").await.0, 404);
    assert_eq!(link(&app, reqwest::Method::GET, "nope").await.0, 404);
}
