//! The update email as a recipient sees it: sent by the real dispatcher for a demo shipment,
//! taken from the SMTP sink, its HTML part opened in Chromium and screenshotted.

use super::console_app;
use crate::browser::Browser;
use crate::helpers::{Backend, on_both_backends};
use crate::smtp_sink::SmtpSink;
use base64::Engine;
use fantoccini::Locator;
use serde_json::json;
use skyhook::config::{HumanDuration, Secret};
use std::time::Duration;

on_both_backends!(the_update_email_renders_in_a_browser_with_its_route_and_console_link);

async fn the_update_email_renders_in_a_browser_with_its_route_and_console_link(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let app = console_app(backend, |s| {
        s.poller.enabled = true;
        s.poller.idle_wait = HumanDuration(Duration::from_millis(50));
        s.carriers.demo.step = Some(HumanDuration(Duration::from_millis(300)));
        s.delivery.enabled = true;
        s.delivery.idle_wait = HumanDuration(Duration::from_millis(50));
        s.email.smtp_url = Secret::new(sink.url());
        s.server.public_url = "https://skyhook.example.com/".parse().unwrap();
    })
    .await;
    let key = app.create_key("acme").await;
    let saved = app
        .subscribed(
            &key,
            json!({"awb": "000-00000011", "emails": ["ops@example.com"], "reference": "PO-4711"}),
        )
        .await;
    let mail = sink.wait_for(1, Duration::from_secs(30)).await.remove(0);
    let html = html_part(&mail.data);
    assert!(!html.contains("<script"), "no script in an email");

    let encoded = base64::engine::general_purpose::STANDARD.encode(html.as_bytes());
    browser
        .goto(&format!("data:text/html;charset=utf-8;base64,{encoded}"))
        .await;
    let link = browser
        .wait_for_text("a", |t| t.contains("View in console"))
        .await;
    assert!(link.contains("View in console"));
    let href = browser
        .client
        .find(Locator::LinkText(&link))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        href,
        format!(
            "https://skyhook.example.com/console/subscriptions/{}",
            saved["id"].as_str().unwrap()
        )
    );
    let text = browser.page_text().await;
    assert!(
        text.contains("000-00000011") && text.contains("PO-4711"),
        "{text}"
    );
    assert!(
        text.contains("FRA"),
        "the route strip names the origin: {text}"
    );
    let images = browser
        .client
        .execute(
            "return document.images.length + document.scripts.length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(images, json!(0), "no images, no scripts");
    browser.screenshot("email").await;
    browser.close().await;
}

/// The `text/html` part of a raw mail, its quoted-printable undone.
fn html_part(raw: &str) -> String {
    let start = raw
        .find("Content-Type: text/html")
        .expect("the mail has an HTML part");
    let part = &raw[start..];
    let body_at = part.find("\r\n\r\n").expect("the part has a body") + 4;
    let body = &part[body_at..];
    let end = body.find("\r\n--").unwrap_or(body.len());
    let headers = &part[..body_at];
    if headers.contains("Content-Transfer-Encoding: base64") {
        let compact: String = body[..end].split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("a base64 part");
        return String::from_utf8(bytes).expect("the HTML part is UTF-8");
    }
    decode_quoted_printable(&body[..end])
}

fn decode_quoted_printable(encoded: &str) -> String {
    let joined = encoded.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len() + 1
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("the HTML part is UTF-8")
}

#[test]
fn quoted_printable_is_undone() {
    assert_eq!(
        decode_quoted_printable("a=3Db =E2=86=92 c=\r\nd"),
        "a=b → cd"
    );
}
