//! The harness against pages that exist without the console: Swagger UI at `/docs` (drawn by
//! JavaScript), the one-click unsubscribe page, and a form of the test's own; and what it does
//! when no browser can be had.

use super::launch::{WhenUnavailable, reported_port, when_unavailable};
use super::{Browser, xpath_string};
use crate::helpers::{Backend, awb, on_both_backends, spawn_app};
use base64::Engine;
use futures::FutureExt;
use serde_json::json;
use std::time::{Duration, Instant};

on_both_backends!(the_one_click_page_unsubscribes_with_its_button);

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A page of the test's own, with nothing but `html` in it.
fn data_url(html: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(html);
    format!("data:text/html;charset=utf-8;base64,{encoded}")
}

#[track_caller]
fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        bytes.starts_with(PNG_SIGNATURE) && bytes.len() > 1000,
        "{} is not a PNG screenshot ({} bytes)",
        path.display(),
        bytes.len()
    );
}

#[tokio::test]
async fn swagger_ui_draws_the_api_with_javascript() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    browser.goto(&format!("{}/docs/", app.address)).await;
    // The title and the operations exist only once Swagger UI's script fetched /openapi.json.
    let title = browser
        .wait_for_text(".swagger-ui .info .title", |t| t.contains("Skyhook"))
        .await;
    assert!(title.starts_with("Skyhook"), "{title}");
    browser.wait_for(".opblock-summary-path").await;
    let text = browser.page_text().await;
    assert!(text.contains("/v1/subscriptions"), "{text}");
    let shot = browser.screenshot("harness-swagger-ui").await;
    assert!(shot.ends_with("console-screenshots/harness-swagger-ui.png"));
    assert_png(&shot);
    browser.close().await;
}

async fn the_one_click_page_unsubscribes_with_its_button(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let key = app.create_key("acme").await;
    let number = awb("020", 1);
    let created = app
        .subscribed(
            &key,
            json!({"awb": number, "emails": ["ops@example.com", "desk@example.com"]}),
        )
        .await;
    let token = crate::one_click::token_of(&app, "ops@example.com").await;

    browser
        .goto(&format!("{}/unsubscribe/{token}", app.address))
        .await;
    let asked = browser.page_text().await;
    assert!(
        asked.contains(&format!(
            "Stop emails about AWB {number} to ops@example.com?"
        )),
        "{asked}"
    );
    assert_png(&browser.screenshot("harness-one-click-asks").await);
    assert!(
        app.store
            .email_for_token(&token)
            .await
            .unwrap()
            .is_some_and(|target| target.active),
        "showing the page removes nothing"
    );

    browser.click_button("Unsubscribe").await;
    let done = browser
        .wait_for_text("body", |t| t.contains("will receive no more emails"))
        .await;
    assert!(
        done.contains(&format!(
            "ops@example.com will receive no more emails about AWB {number}."
        )),
        "{done}"
    );
    assert_png(&browser.screenshot("harness-one-click-done").await);
    let target = app.store.email_for_token(&token).await.unwrap().unwrap();
    assert!(!target.active, "the button removed the address");
    let id = created["id"].as_str().unwrap();
    let after = app.get(&format!("/v1/subscriptions/{id}"), &key).await;
    assert_eq!(after.body["emails"], json!(["desk@example.com"]));
}

/// A form whose button shows what was entered a moment later (so only a waiting read sees it).
const ECHO_FORM: &str = r#"<!doctype html><title>echo</title>
<form onsubmit="event.preventDefault();
  const f = event.target;
  setTimeout(() => { document.getElementById('echo').textContent =
    f.reference.value + '|' + f.status.value + '|' + f.emails.value.split('\n').join(','); }, 400);">
  <input name="reference" value="old value">
  <select name="status"><option value="active">Active</option><option value="expired">Expired</option></select>
  <textarea name="emails"></textarea>
  <button type="button">Decoy</button>
  <button type="submit"> Don't "stop" </button>
</form>
<p id="echo">nothing yet</p>"#;

#[tokio::test]
async fn fill_click_and_wait_for_text_work_a_form() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(&data_url(ECHO_FORM)).await;
    browser.fill("reference", "PO-<4711>").await;
    browser.fill("status", "expired").await;
    browser
        .fill("emails", "ops@example.com\ndesk@example.com")
        .await;
    browser.click_button(r#"Don't "stop""#).await;
    let echoed = browser.wait_for_text("#echo", |t| t != "nothing yet").await;
    assert_eq!(echoed, "PO-<4711>|expired|ops@example.com,desk@example.com");
    assert!(browser.page_text().await.ends_with(&echoed));
}

#[tokio::test]
async fn waiting_in_vain_names_the_selector_and_the_page() {
    let Some(mut browser) = Browser::start().await else {
        return;
    };
    browser.wait = Duration::from_millis(300);
    browser.goto(&data_url("<p id=there>here</p>")).await;
    let started = Instant::now();
    let panic = std::panic::AssertUnwindSafe(browser.wait_for("#missing"))
        .catch_unwind()
        .await
        .expect_err("nothing matches #missing");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("CSS `#missing`") && message.contains("on data:text/html"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it waited about browser.wait"
    );
    let panic = std::panic::AssertUnwindSafe(browser.wait_for_text("#there", |t| t == "gone"))
        .catch_unwind()
        .await
        .expect_err("the text never changes");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains(r#"last seen: "here""#), "{message}");
}

/// Two at once, as nextest runs them: each its own driver and profile, and dropping one stops
/// its driver and its Chromium.
#[tokio::test]
async fn browsers_run_side_by_side_and_stop_when_dropped() {
    let (Some(first), Some(second)) = tokio::join!(Browser::start(), Browser::start()) else {
        return;
    };
    assert_ne!(first.driver.port, second.driver.port);
    first.goto(&data_url("<p>first</p>")).await;
    second.goto(&data_url("<p>second</p>")).await;
    assert_eq!(first.page_text().await, "first");
    assert_eq!(second.page_text().await, "second");

    let port = first.driver.port;
    let profile = first.driver.dir.path().join("profile");
    assert!(
        !chromium_processes_using(&profile).is_empty(),
        "Chromium runs with the profile {}",
        profile.display()
    );
    drop(first);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "chromedriver still listens on {port}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !chromium_processes_using(&profile).is_empty() {
        assert!(
            Instant::now() < deadline,
            "Chromium outlived its driver: {:?}",
            chromium_processes_using(&profile)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!profile.exists(), "the profile folder was removed");
    assert_eq!(second.page_text().await, "second", "the other one goes on");
}

/// The pids of processes whose command line names `profile`.
fn chromium_processes_using(profile: &std::path::Path) -> Vec<u32> {
    let needle = format!("--user-data-dir={}", profile.display());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
        })
        .collect()
}

#[test]
fn without_a_browser_a_test_skips_unless_one_is_required() {
    let why = "`chromedriver` is not on PATH";
    for unset_or_off in [None, Some(""), Some("0")] {
        match when_unavailable(why, unset_or_off) {
            WhenUnavailable::Skip(line) => {
                assert!(
                    line.starts_with("SKIPPED: ") && line.ends_with(why),
                    "{line}"
                )
            }
            other => panic!("{unset_or_off:?}: {other:?}"),
        }
    }
    for on in ["1", "true"] {
        match when_unavailable(why, Some(on)) {
            WhenUnavailable::Fail(message) => assert!(
                message.contains(&format!("SKYHOOK_REQUIRE_BROWSER={on}"))
                    && message.ends_with(why),
                "{message}"
            ),
            other => panic!("{on}: {other:?}"),
        }
    }
}

#[test]
fn the_driver_port_is_read_from_its_start_line() {
    let log = "Starting ChromeDriver 156.0.8078.114 on port 0\n\
               Only local connections are allowed.\n\
               ChromeDriver was started successfully on port 33041.\n";
    assert_eq!(reported_port(log), Some(33041));
    assert_eq!(reported_port("Starting ChromeDriver 156 on port 0\n"), None);
    assert_eq!(reported_port("started successfully on port 0.\n"), None);
}

#[test]
fn labels_become_xpath_literals_whatever_their_quotes() {
    assert_eq!(xpath_string("Sign in"), "'Sign in'");
    assert_eq!(xpath_string("Don't"), "\"Don't\"");
    assert_eq!(
        xpath_string(r#"Don't "stop""#),
        r#"concat('Don', "'", 't "stop"')"#
    );
}
