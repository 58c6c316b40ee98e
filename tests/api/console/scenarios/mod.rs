//! A support person's work in a real headless Chromium, one scenario per file: sign in, make
//! and find a subscription, watch its events arrive, send a test, rotate the secret,
//! unsubscribe and sign out (`walkthrough.rs`); a failing receiver and its retries
//! (`delivery_log.rs`); a CSV upload, hostile text, a forged form and another tenant's page
//! (`guards.rs`). Each main page is screenshotted into `target/console-screenshots/`.

mod delivery_log;
mod guards;
mod walkthrough;

use crate::browser::Browser;
use crate::console::console_app;
use crate::helpers::{Backend, TestApp};
use skyhook::config::{HumanDuration, Settings};
use skyhook::domain::{AllowNetworks, Cidr, KeyName};
use std::time::Duration;

/// The console with the demo carrier stepping fast, the poller and the dispatcher on, and
/// loopback receivers allowed.
pub(super) async fn live_app(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
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

pub(super) fn loopback() -> AllowNetworks {
    AllowNetworks(vec![Cidr::parse("127.0.0.0/8").unwrap()])
}

pub(super) async fn key_for(app: &TestApp, name: &str) -> String {
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

pub(super) async fn sign_in(browser: &Browser, app: &TestApp, key: &str) {
    browser.goto(&format!("{}/console", app.address)).await;
    browser.wait_for("input[name=api_key]").await;
    browser.fill("api_key", key).await;
    browser.click_button("Sign in").await;
    browser.wait_for("table#subscriptions, p.empty").await;
}

/// Whether the page is the one [`mark_page`] marked (not reloaded since): a marker on `window`
/// survives only as long as the document does.
pub(super) async fn page_was_kept(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.skyhookTestMarker === 42;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

pub(super) async fn mark_page(browser: &Browser) {
    browser
        .client
        .execute("window.skyhookTestMarker = 42;", vec![])
        .await
        .unwrap();
}
