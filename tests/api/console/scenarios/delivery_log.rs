//! A receiver that answers 500: the delivery log shows each attempt and the answer, Retry and
//! Retry all failed make more, and an unchanged log is left alone on the page.

use super::{key_for, live_app, sign_in};
use crate::browser::Browser;
use crate::helpers::{Backend, on_both_backends};
use crate::receiver::{Receiver, Reply};
use serde_json::json;
use skyhook::config::HumanDuration;
use std::time::Duration;

on_both_backends!(a_failing_receiver_shows_its_attempts_and_retry_makes_another);

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
        .wait_for(&format!("{row} button"))
        .await
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
