//! What the browser must not be talked into: a hostile reference runs no script, a CSV's bad row
//! fails alone, a form without its CSRF token is refused, another tenant's page is the 404 page.

use super::sign_in;
use crate::browser::Browser;
use crate::console::console_app;
use crate::helpers::{Backend, on_both_backends};
use serde_json::json;

on_both_backends!(uploads_hostile_text_forged_forms_and_other_tenants_are_handled_in_the_browser);

async fn uploads_hostile_text_forged_forms_and_other_tenants_are_handled_in_the_browser(
    backend: Backend,
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let other = app.create_key("other").await;
    let hostile = "<script>alert(1)</script>";
    app.subscribed(
        &key,
        json!({"awb": "000-00000022", "emails": ["x@example.com"], "reference": hostile}),
    )
    .await;
    let theirs = app
        .subscribed(
            &other,
            json!({"awb": "000-00000033", "emails": ["y@example.com"]}),
        )
        .await;
    sign_in(&browser, &app, &key).await;

    // The hostile reference is text, and no script ran.
    let cell = browser
        .wait_for_text("td.reference", |t| !t.is_empty())
        .await;
    assert_eq!(cell, hostile);
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "no alert opened"
    );

    // A CSV with one bad row.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("awbs.csv");
    std::fs::write(
        &csv,
        "awb,emails,reference\n000-00000044,a@example.com,PO-1\n000-00000045,b@example.com,PO-2\n",
    )
    .unwrap();
    browser
        .goto(&format!("{}/console/subscriptions/new", app.address))
        .await;
    browser
        .wait_for("input[name=csv]")
        .await
        .send_keys(csv.to_str().unwrap())
        .await
        .unwrap();
    browser.click_button("Upload CSV").await;
    let summary = browser
        .wait_for_text("#import-summary", |t| !t.is_empty())
        .await;
    assert_eq!(summary, "1 created, 1 rejected.");
    assert!(
        browser
            .page_text()
            .await
            .contains("ErrInvalidAWBCheckDigit")
    );

    // A form whose CSRF token was taken out is refused.
    browser
        .goto(&format!("{}/console/subscriptions/new", app.address))
        .await;
    browser.wait_for("input[name=awb]").await;
    browser
        .client
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    browser.fill("awb", "000-00000055").await;
    browser.fill("emails", "z@example.com").await;
    browser.click_button("Create subscription").await;
    let heading = browser.wait_for_text("h1", |t| !t.is_empty()).await;
    assert_eq!(heading, "Form expired");
    assert_eq!(
        app.all_subscriptions(&key).await.len(),
        2,
        "the CSV's one and the first"
    );

    // Another tenant's subscription: the 404 page.
    browser
        .goto(&format!(
            "{}/console/subscriptions/{}",
            app.address,
            theirs["id"].as_str().unwrap()
        ))
        .await;
    let heading = browser.wait_for_text("h1", |t| !t.is_empty()).await;
    assert_eq!(heading, "Not found");
    assert!(!browser.page_text().await.contains("000-00000033"));
    browser.close().await;
}
