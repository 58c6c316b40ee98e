//! The whole of a support person's round: a wrong key then the right one, a bad AWB then a good
//! one, found by its reference, its events arriving while the page is open, the shipment page,
//! Send test, Rotate secret, the status page, Unsubscribe, and signing out.

use super::{key_for, live_app, mark_page, page_was_kept};
use crate::browser::Browser;
use crate::helpers::{Backend, on_both_backends};
use crate::receiver::Receiver;
use fantoccini::Locator;
use std::time::Duration;

on_both_backends!(a_support_person_signs_in_makes_a_subscription_finds_it_and_watches_it_move);

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
    browser.click_link("New subscription").await;
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
    browser.click_link("000-00000011").await;
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
        .wait_for("#shipment-heading a")
        .await
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
