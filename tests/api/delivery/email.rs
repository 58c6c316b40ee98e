//! Emails through a local SMTP sink: one per recipient, the subject, unsubscribe headers,
//! retries after SMTP failures, and the batch window.

use super::{AWB, DeliveryRig, booked, departed, secs};
use crate::helpers::{Backend, on_both_backends};
use crate::smtp_sink::FailAt;
use serde_json::json;

on_both_backends!(
    one_message_is_queued_per_channel_and_each_recipient_gets_an_email_of_their_own,
    smtp_failures_are_retried_on_the_schedule,
    a_permanent_smtp_refusal_fails_the_message_without_retries,
    updates_within_the_batch_window_go_out_in_one_email,
);

async fn one_message_is_queued_per_channel_and_each_recipient_gets_an_email_of_their_own(
    backend: Backend,
) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({
            "url": rig.receiver.url("/hook"),
            "emails": ["ops@forwarder.example", "night-desk@forwarder.example"]
        }))
        .await;
    rig.poll(vec![booked(), departed()]).await;

    // Queued in the poll's transaction: one row per channel target, one message id.
    let log = rig.deliveries(&sub).await;
    let mut targets: Vec<(&str, &str)> = log
        .iter()
        .map(|d| {
            (
                d["channel"].as_str().unwrap(),
                d["target"].as_str().unwrap(),
            )
        })
        .collect();
    targets.sort();
    let url = rig.receiver.url("/hook");
    assert_eq!(
        targets,
        [
            ("email", "night-desk@forwarder.example"),
            ("email", "ops@forwarder.example"),
            ("webhook", url.as_str()),
        ]
    );
    assert!(log.iter().all(|d| d["messageId"] == log[0]["messageId"]));
    assert!(
        log.iter()
            .all(|d| d["sequence"] == 1 && d["status"] == "pending")
    );

    assert_eq!(rig.dispatch().await, 3);
    let mut mails = rig.sink.messages();
    assert_eq!(mails.len(), 2);
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(mails[0].to, ["night-desk@forwarder.example"]);
    assert_eq!(mails[1].to, ["ops@forwarder.example"]);
    let mut links = Vec::new();
    for mail in &mails {
        assert!(!mail.data.contains(if mail.to[0].starts_with("ops") {
            "night-desk@"
        } else {
            "ops@"
        }));
        let subject = mail.header("Subject").unwrap();
        assert!(subject.contains(&format!("AWB {AWB}")), "{subject}");
        assert!(
            subject.contains("DEP"),
            "the newest event names the email: {subject}"
        );
        let link = mail.header("List-Unsubscribe").unwrap();
        assert!(
            link.starts_with("<https://skyhook.example.com/unsubscribe/") && link.ends_with('>'),
            "{link}"
        );
        assert!(
            link.len() > "<https://skyhook.example.com/unsubscribe/>".len(),
            "{link}"
        );
        links.push(link);
        assert_eq!(
            mail.header("List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
    }
    assert_ne!(links[0], links[1], "each recipient has a link of their own");
    // The dispatcher links each email to the subscription's console page under the public URL.
    let console = format!(
        "https://skyhook.example.com/console/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    for mail in &mails {
        let body = mail.unwrapped();
        assert!(
            body.contains(&format!("View in console: {console}")),
            "{body}"
        );
        assert!(body.contains(&format!("href=\"{console}\"")), "{body}");
    }
    let log = rig.deliveries(&sub).await;
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    assert!(
        log.iter()
            .filter(|d| d["channel"] == "email")
            .all(|d| d["lastStatusCode"].is_null() && d["attempts"] == 1)
    );
}

async fn a_permanent_smtp_refusal_fails_the_message_without_retries(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"emails": ["gone@forwarder.example"]}))
        .await;
    rig.sink.fail_next_at(1, FailAt::RcptPermanently);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["nextAttemptAt"], json!(null));
    assert!(log[0]["lastError"].is_string(), "{log:?}");
    rig.advance(chrono::TimeDelta::days(2));
    assert_eq!(rig.dispatch().await, 0, "nothing left to retry");
    assert!(rig.sink.messages().is_empty());
}

async fn smtp_failures_are_retried_on_the_schedule(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"emails": ["ops@forwarder.example"]}))
        .await;
    rig.sink.fail_next_at(1, FailAt::Rcpt);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);
    assert!(rig.sink.messages().is_empty());
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["attempts"], 1);
    assert!(log[0]["lastError"].is_string(), "{log:?}");

    rig.sink.fail_next_at(1, FailAt::Data);
    rig.advance_to_next_attempt(&log);
    assert_eq!(rig.dispatch().await, 1);
    assert!(rig.sink.messages().is_empty());
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["attempts"], 2);

    rig.advance_to_next_attempt(&log);
    assert_eq!(rig.dispatch().await, 1);
    assert_eq!(rig.sink.messages().len(), 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["lastError"], json!(null));
}

async fn updates_within_the_batch_window_go_out_in_one_email(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| s.email.batch_window = secs(600)).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@forwarder.example"]}))
        .await;
    rig.poll(vec![booked()]).await;
    assert_eq!(
        rig.dispatch().await,
        1,
        "the webhook goes at once, the email waits"
    );
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1);
    assert!(rig.sink.messages().is_empty());

    rig.advance(chrono::TimeDelta::seconds(600));
    assert_eq!(
        rig.dispatch().await,
        2,
        "both queued emails are claimed together"
    );
    let mails = rig.sink.messages();
    assert_eq!(mails.len(), 1, "one email for both updates");
    let subject = mails[0].header("Subject").unwrap();
    assert!(subject.contains("DEP"), "{subject}");
    let text = mails[0].unwrapped();
    assert!(text.contains("BKD") && text.contains("DEP"), "{text}");
    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    assert_eq!(rig.receiver.posts().len(), 2);
}
