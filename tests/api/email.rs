//! The mailer against a local SMTP sink and against its file backend: what a recipient's mail
//! server actually receives.

use crate::smtp_sink::{FailAt, SmtpSink};
use chrono::{DateTime, TimeZone, Utc};
use skyhook::dispatch::email::{EmailContent, Mailer, render};
use skyhook::domain::message::{Lifecycle, Message, MessageBody, ShipmentUpdate};
use skyhook::domain::{AwbNumber, EmailAddress, SummaryStatus, TrackingEvent};
use std::time::Duration;

const UNSUBSCRIBE: &str =
    "https://skyhook.example.com/unsubscribe/tok_3f9a8c7e2b1d4f60a5c9e8d7b6a5f4e3";
/// The server's public URL, under which the console is served.
const PUBLIC_URL: &str = "https://skyhook.example.com/";
const SUBSCRIPTION: &str = "6b1f0c2e-4d3a-4e8b-9f7a-1c2d3e4f5a6b";

fn departed() -> EmailContent {
    let event = TrackingEvent {
        code: "DEP".into(),
        description: None,
        event_date: Some(DateTime::parse_from_rfc3339("2026-11-23T10:15:00+01:00").unwrap()),
        event_location: Some("FRA".into()),
        is_planned: false,
        pieces: Some(2),
        weight: Some(120.0),
        volume: None,
        flight: None,
        event_ulds: Vec::new(),
        additional_information: None,
    };
    let update = ShipmentUpdate {
        awb: AwbNumber::parse("020-08002050").unwrap(),
        summary: skyhook::domain::ShipmentSummary {
            origin: Some("FRA".into()),
            destination: Some("ORD".into()),
            pieces: Some(2),
            weight: Some(120.0),
            volume: None,
            status: SummaryStatus::InTransit,
        },
        new_events: vec![event.clone()],
        old_events: Vec::new(),
        events: vec![event],
    };
    render(
        &[message(MessageBody::TrackingUpdated(update))],
        Some(PUBLIC_URL),
    )
}

fn message(body: MessageBody) -> Message {
    Message {
        id: "msg_1".into(),
        subscription_id: uuid::Uuid::parse_str(SUBSCRIPTION).unwrap().into(),
        sequence: 1,
        reference: None,
        timestamp: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        body,
    }
}

fn address(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

/// Inside a runtime: lettre's SMTP pool starts a task when the mailer is built.
fn smtp_mailer(sink: &SmtpSink) -> Mailer {
    let dir = tempfile::tempdir().unwrap();
    Mailer::from_settings(
        Some(&sink.url()),
        dir.path(),
        "Skyhook <skyhook@example.com>",
    )
    .unwrap()
}

#[tokio::test]
async fn each_recipient_gets_a_message_of_their_own() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(&sink);
    let content = departed();
    for to in ["ops@forwarder.example", "night-desk@forwarder.example"] {
        mailer
            .send(&address(to), &content, UNSUBSCRIBE)
            .await
            .unwrap();
    }
    let mails = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].to, ["ops@forwarder.example"]);
    assert_eq!(mails[1].to, ["night-desk@forwarder.example"]);
    assert!(!mails[0].data.contains("night-desk"));
    assert!(!mails[1].data.contains("ops@"));
    assert_eq!(mails[0].from, "skyhook@example.com");
    assert_eq!(mails[0].header("To").unwrap(), "ops@forwarder.example");
    assert_eq!(mails[0].header("Cc"), None);
    assert_eq!(mails[0].header("Bcc"), None);
}

#[tokio::test]
async fn an_email_has_a_text_and_an_html_part_the_subject_and_unsubscribe_headers() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(&sink);
    mailer
        .send(&address("ops@forwarder.example"), &departed(), UNSUBSCRIBE)
        .await
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(5)).await.remove(0);

    let content_type = mail.header("Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let body = mail.unwrapped();
    assert!(body.contains("Content-Type: text/plain"), "{body}");
    assert!(body.contains("Content-Type: text/html"), "{body}");
    assert!(body.contains("DEP FRA"), "{body}");
    assert!(body.contains("<td>2026-11-23 10:15 +01:00</td>"), "{body}");
    // Both parts link to the subscription's page in the console.
    let console = format!("https://skyhook.example.com/console/subscriptions/{SUBSCRIPTION}");
    assert!(
        body.contains(&format!("View in console: {console}")),
        "{body}"
    );
    assert!(body.contains(&format!("<a href=\"{console}\"")), "{body}");
    assert!(body.contains(">View in console</a>"), "{body}");
    // The arrow travels quoted-printable.
    assert!(
        body.contains("Route: FRA =E2=86=92 ORD (departed FRA)"),
        "{body}"
    );

    // The `·` is RFC 2047-encoded; the ASCII words around it are sent as they are.
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("AWB 020-08002050"), "{subject}");
    assert_eq!(
        mail.header("List-Unsubscribe").unwrap(),
        format!("<{UNSUBSCRIBE}>")
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
}

#[tokio::test]
async fn a_transient_smtp_failure_is_an_error_and_the_next_attempt_goes_through() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(&sink);
    let to = address("ops@forwarder.example");
    for stage in [FailAt::Rcpt, FailAt::Data] {
        sink.fail_next_at(1, stage);
        let err = mailer
            .send(&to, &departed(), UNSUBSCRIBE)
            .await
            .unwrap_err();
        assert!(!err.is_permanent(), "{stage:?}: {err:?}");
    }
    assert!(
        sink.messages().is_empty(),
        "refused mails are not delivered"
    );

    sink.fail_next(1);
    assert!(mailer.send(&to, &departed(), UNSUBSCRIBE).await.is_err());
    mailer.send(&to, &departed(), UNSUBSCRIBE).await.unwrap();
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_an_error() {
    // Bind and drop a listener: nothing answers on that port any more.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{port}");
    let mailer = Mailer::from_settings(Some(&url), dir.path(), "skyhook@example.com").unwrap();
    let err = mailer
        .send(&address("ops@forwarder.example"), &departed(), UNSUBSCRIBE)
        .await
        .unwrap_err();
    assert!(!err.is_permanent(), "{err:?}");
}

#[tokio::test]
async fn without_smtp_each_email_is_written_as_an_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("mail");
    let mailer = Mailer::from_settings(None, &outbox, "skyhook@example.com").unwrap();
    let test_notice = render(
        &[message(MessageBody::SubscriptionTest(Lifecycle {
            awb: None,
            flight: None,
            status: None,
            expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
            message: "This is a test message from Skyhook.".into(),
        }))],
        None,
    );
    mailer
        .send(&address("ops@forwarder.example"), &test_notice, UNSUBSCRIBE)
        .await
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("Subject: Skyhook test message"), "{eml}");
    assert!(eml.contains("Message-ID: <"), "{eml}");
    assert!(eml.contains(&format!("List-Unsubscribe: <{UNSUBSCRIBE}>")));
}
