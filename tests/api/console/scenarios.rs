//! A support person's work in a real headless Chromium: sign in, make and find a subscription,
//! watch its events arrive, retry a failing receiver, send a test, rotate the secret, upload a
//! CSV, and sign out. Each main page is screenshotted into `target/console-screenshots/`.

use super::console_app;
use crate::browser::Browser;
use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::receiver::{Receiver, Reply};
use fantoccini::Locator;
use serde_json::json;
use skyhook::config::{HumanDuration, Settings};
use skyhook::domain::{AllowNetworks, Cidr, KeyName};
use std::time::Duration;

on_both_backends!(
    a_support_person_signs_in_makes_a_subscription_finds_it_and_watches_it_move,
    a_failing_receiver_shows_its_attempts_and_retry_makes_another,
    uploads_hostile_text_forged_forms_and_other_tenants_are_handled_in_the_browser,
);

/// The console with the demo carrier stepping fast, the poller and the dispatcher on, and
/// loopback receivers allowed.
async fn live_app(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    console_app(backend, |s| {
        s.poller.enabled = true;
        s.poller.idle_wait = HumanDuration(Duration::from_millis(50));
        // Slow enough that the shipment is still moving once its page is open.
        s.carriers.demo.step = Some(HumanDuration(Duration::from_millis(1500)));
        s.delivery.enabled = true;
        s.delivery.idle_wait = HumanDuration(Duration::from_millis(50));
        s.webhooks.allow_networks = loopback();
        adjust(s);
    })
    .await
}

fn loopback() -> AllowNetworks {
    AllowNetworks(vec![Cidr::parse("127.0.0.0/8").unwrap()])
}

async fn key_for(app: &TestApp, name: &str) -> String {
    let key = app.create_key(name).await;
    let name = KeyName::parse(name).unwrap();
    assert!(
        app.store
            .set_allowed_networks(&name, &loopback())
            .await
            .unwrap()
    );
    key
}

async fn sign_in(browser: &Browser, app: &TestApp, key: &str) {
    browser.goto(&format!("{}/console", app.address)).await;
    browser.wait_for("input[name=api_key]").await;
    browser.fill("api_key", key).await;
    browser.click_button("Sign in").await;
    browser.wait_for("table#subscriptions, p.empty").await;
}

/// Whether the page has been reloaded since [`mark_page`]: a marker on `window` survives only
/// as long as the document does.
async fn page_was_kept(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.skyhookTestMarker === 42;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

async fn mark_page(browser: &Browser) {
    browser
        .client
        .execute("window.skyhookTestMarker = 42;", vec![])
        .await
        .unwrap();
}

async fn a_support_person_signs_in_makes_a_subscription_finds_it_and_watches_it_move(
    backend: Backend,
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let app = live_app(backend, |_| {}).await;
    let key = key_for(&app, "acme").await;
    // Tall enough that the screenshots show whole pages (they are the README's).
    browser.client.set_window_size(1280, 1500).await.unwrap();

    // A wrong key, then the right one.
    browser.goto(&format!("{}/console", app.address)).await;
    browser.wait_for("input[name=api_key][type=password]").await;
    browser.fill("api_key", "sk_wrong").await;
    browser.click_button("Sign in").await;
    let error = browser
        .wait_for_text("#login-error", |t| !t.is_empty())
        .await;
    assert!(error.contains("not valid"), "{error}");
    browser.fill("api_key", &key).await;
    browser.click_button("Sign in").await;
    browser.wait_for("p.empty").await;

    // A bad AWB: the API's error beside the field, nothing stored.
    browser
        .client
        .find(Locator::LinkText("New subscription"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("input[name=awb]").await;
    browser.fill("awb", "000-00000012").await;
    browser.fill("url", &receiver.url("/hooks")).await;
    browser.fill("reference", "PO-4711").await;
    browser.click_button("Create subscription").await;
    let error = browser.wait_for_text("#awb-error", |t| !t.is_empty()).await;
    assert!(error.starts_with("ErrInvalidAWBCheckDigit"), "{error}");
    assert!(app.all_subscriptions(&key).await.is_empty());

    // A good one on the demo carrier.
    browser.fill("awb", "000-00000011").await;
    browser.click_button("Create subscription").await;
    let secret = browser
        .wait_for_text("#signing-secret", |t| !t.is_empty())
        .await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Found in the list by its reference.
    browser
        .goto(&format!("{}/console/subscriptions", app.address))
        .await;
    browser.fill("q", "po-4711").await;
    browser.click_button("Search").await;
    browser.wait_for("tr[data-subscription-id]").await;
    let rows = browser
        .client
        .find_all(Locator::Css("tr[data-subscription-id]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(browser.page_text().await.contains("PO-4711"));
    browser.screenshot("subscriptions").await;

    // Opened, its demo events appear without a reload.
    browser
        .client
        .find(Locator::LinkText("000-00000011"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#live").await;
    let id = browser.url().await.rsplit('/').next().unwrap().to_owned();
    mark_page(&browser).await;
    let actual_events = || async {
        browser
            .client
            .find_all(Locator::Css("#timeline li.event.actual"))
            .await
            .unwrap()
            .len()
    };
    let at_load = actual_events().await;
    assert!(
        at_load < 8,
        "the demo shipment is still moving when the page opens"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while actual_events().await <= at_load {
        assert!(std::time::Instant::now() < deadline, "no event appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser
        .wait_for("#delivery-log tr[data-status=delivered]")
        .await;
    assert!(
        page_was_kept(&browser).await,
        "the page updated itself, no reload"
    );
    browser.wait_for("#route circle[data-current=true]").await;
    assert!(!receiver.posts().is_empty());
    browser.screenshot("subscription").await;

    // The shipment's own page, from the panel's AWB link.
    browser
        .client
        .find(Locator::Css("#shipment-heading a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#timeline li.event").await;
    assert!(
        browser
            .url()
            .await
            .ends_with("/console/shipments/000-00000011")
    );
    browser.wait_for("#route").await;
    browser
        .goto(&format!("{}/console/subscriptions/{id}", app.address))
        .await;
    browser.wait_for("#live").await;

    // Send test, then Rotate secret.
    browser.click_button("Send test").await;
    let notice = browser.wait_for_text("#notice", |t| !t.is_empty()).await;
    assert!(notice.contains("test message"), "{notice}");
    browser
        .wait_for_text("#delivery-log", |t| t.contains("subscription.test"))
        .await;
    browser.click_button("Rotate secret").await;
    let rotated = browser
        .wait_for_text("#signing-secret", |t| !t.is_empty())
        .await;
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    browser
        .goto(&format!("{}/console/status", app.address))
        .await;
    browser.wait_for("#deliveries-chart").await;
    assert!(browser.page_text().await.contains("demo"));
    browser.screenshot("status").await;

    // Unsubscribe (after the confirmation), then sign out from that page: the back button
    // shows nothing private.
    browser
        .goto(&format!("{}/console/subscriptions/{id}", app.address))
        .await;
    browser.click_button("Unsubscribe").await;
    browser.client.accept_alert().await.unwrap();
    let status = browser
        .wait_for_text("#subscription-status", |t| t == "unsubscribed")
        .await;
    assert_eq!(status, "unsubscribed");
    assert_eq!(
        app.all_subscriptions(&key).await[0]["status"],
        "unsubscribed"
    );
    browser.click_button("Sign out").await;
    browser.wait_for("input[name=api_key]").await;
    browser.client.back().await.unwrap();
    browser.wait_for("input[name=api_key]").await;
    let text = browser.page_text().await;
    assert!(
        !text.contains("PO-4711") && !text.contains("000-00000011") && !text.contains("acme"),
        "{text}"
    );
    browser.close().await;
}

async fn a_failing_receiver_shows_its_attempts_and_retry_makes_another(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    // The next automatic attempt is an hour away: a new attempt can only be the button's.
    // No poller: the log holds the one test message and nothing else.
    let app = live_app(backend, |s| {
        s.poller.enabled = false;
        s.webhooks.retry_schedule = vec![HumanDuration(Duration::from_secs(3600))];
    })
    .await;
    let key = key_for(&app, "acme").await;
    let saved = app
        .subscribed(
            &key,
            json!({"awb": "000-00000022", "url": receiver.url("/hooks")}),
        )
        .await;
    let id = saved["id"].as_str().unwrap();
    let test = app
        .post(&format!("/v1/subscriptions/{id}/test"), &key, json!({}))
        .await;
    assert_eq!(test.status, 202);
    sign_in(&browser, &app, &key).await;
    browser
        .goto(&format!("{}/console/subscriptions/{id}", app.address))
        .await;
    browser.wait_for("#live").await;
    let row = "#delivery-log tr[data-delivery-id]";
    let attempts_css = format!("{row} td.attempts");
    browser
        .wait_for_text(&attempts_css, |t| t.trim() == "1")
        .await;
    let answer = browser
        .wait_for_text(&format!("{row} td.last-answer"), |t| t.contains("500"))
        .await;
    assert!(answer.contains("500"), "{answer}");
    let before = receiver.posts().len();
    browser
        .client
        .find(Locator::Css(&format!("{row} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#notice", |t| t.contains("again"))
        .await;
    browser
        .wait_for_text(&attempts_css, |t| t.trim() == "2")
        .await;
    assert!(
        receiver.posts().len() > before,
        "the receiver was called again"
    );
    browser.screenshot("delivery-log-retry").await;
    // Its one retry spent, the message has failed: Retry all failed sends it once more.
    browser
        .wait_for(&format!("{row}[data-status=failed]"))
        .await;
    browser.click_button("Retry all failed (1)").await;
    browser
        .wait_for_text("#notice", |t| t.contains("1 failed message"))
        .await;
    browser
        .wait_for_text(&attempts_css, |t| t.trim() == "3")
        .await;
    // Nothing changes any more: the live part stays as it is (a focused button keeps focus).
    let refreshed = || async {
        browser
            .client
            .execute(
                "return document.getElementById('live').dataset.refreshed || '';",
                vec![],
            )
            .await
            .unwrap()
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let settled = refreshed().await;
    browser
        .client
        .execute("document.querySelector('#delivery-log a').focus();", vec![])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(refreshed().await, settled, "not replaced while unchanged");
    let focused = browser
        .client
        .execute("return document.activeElement.textContent;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("Body"));
    browser.close().await;
}

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
