use super::*;
use crate::domain::EventFlight;
use crate::domain::message::{Recipient, expired_message};
use crate::domain::testing::{at, awb, event, summary};
use chrono::{TimeZone, Utc};

const CONSOLE: &str = "https://skyhook.example.com/";

/// The email as the dispatcher renders it, with the console on.
fn rendered(messages: &[Message]) -> EmailContent {
    render(messages, Some(CONSOLE))
}

fn update(status: SummaryStatus, new_events: Vec<TrackingEvent>) -> MessageBody {
    MessageBody::TrackingUpdated(ShipmentUpdate {
        awb: awb(),
        summary: summary("ORD", Some(2), Some(120.5), status),
        new_events: new_events.clone(),
        old_events: Vec::new(),
        events: new_events,
    })
}

fn lifecycle(message: &str) -> Lifecycle {
    Lifecycle {
        awb: Some(awb()),
        flight: None,
        status: None,
        expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
        message: message.to_owned(),
    }
}

fn message(sequence: u64, body: MessageBody) -> Message {
    Message {
        id: format!("msg_{sequence}"),
        subscription_id: uuid::Uuid::nil().into(),
        sequence,
        reference: Some("PO-1".into()),
        timestamp: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        body,
    }
}

#[test]
fn the_subject_names_the_awb_and_the_newest_events_code_place_and_description() {
    let events = vec![
        event("MAN", "FRA", "2026-11-23T08:00:00+01:00"),
        event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
    ];
    let email = rendered(&[message(1, update(SummaryStatus::InTransit, events))]);
    assert_eq!(email.subject, "AWB 020-08002050 · DEP FRA · Departed");
}

#[test]
fn the_subject_prefers_the_sources_description_and_survives_an_unknown_code() {
    let mut described = event("DEP", "FRA", "2026-11-23T10:15:00+01:00");
    described.description = Some("Departed on LH8160".into());
    let email = rendered(&[message(
        1,
        update(SummaryStatus::InTransit, vec![described]),
    )]);
    assert_eq!(
        email.subject,
        "AWB 020-08002050 · DEP FRA · Departed on LH8160"
    );

    let mut unknown = event("XYZ", "", "2026-11-23T10:15:00+01:00");
    unknown.event_location = None;
    let email = rendered(&[message(1, update(SummaryStatus::InTransit, vec![unknown]))]);
    assert_eq!(email.subject, "AWB 020-08002050 · XYZ");
}

#[test]
fn a_planned_event_does_not_take_the_subject_from_what_has_happened() {
    let mut planned = event("ARR", "ORD", "2026-11-23T14:00:00-06:00");
    planned.is_planned = true;
    let events = vec![planned, event("DEP", "FRA", "2026-11-23T10:15:00+01:00")];
    let email = rendered(&[message(1, update(SummaryStatus::InTransit, events))]);
    assert_eq!(email.subject, "AWB 020-08002050 · DEP FRA · Departed");
    assert!(email.text.contains("ARR ORD · Arrived (planned)"));
}

#[test]
fn a_batch_lists_every_messages_events_in_order_with_the_latest_status() {
    let first = update(
        SummaryStatus::PendingDelivery,
        vec![event("BKD", "FRA", "2026-11-22T09:00:00+01:00")],
    );
    let second = update(
        SummaryStatus::InTransit,
        vec![
            event("RCS", "FRA", "2026-11-23T06:00:00+01:00"),
            event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
        ],
    );
    let email = rendered(&[message(3, first), message(4, second)]);
    assert_eq!(email.subject, "AWB 020-08002050 · DEP FRA · Departed");
    let positions: Vec<usize> = ["BKD FRA · Booked", "RCS FRA", "DEP FRA · Departed"]
        .iter()
        .map(|needle| email.text.find(needle).expect(needle))
        .collect();
    assert!(positions.is_sorted(), "{}", email.text);
    assert!(email.text.contains("Status: In transit"));
    assert!(!email.text.contains("Pending delivery"));
    assert!(email.text.contains("messages 3–4"));
    assert!(email.text.contains("Reference: PO-1"));
    for code in ["BKD", "RCS", "DEP"] {
        assert!(email.html.contains(code));
    }
    assert!(email.html.contains("In transit"));
}

#[test]
fn an_event_shows_its_time_with_offset_flight_schedule_pieces_and_weight() {
    let mut dep = event("DEP", "FRA", "2026-11-23T10:15:00+01:00");
    dep.pieces = Some(2);
    dep.weight = Some(120.5);
    dep.flight = Some(EventFlight {
        number: Some("LH8160".into()),
        origin: Some("FRA".into()),
        destination: Some("ORD".into()),
        scheduled_departure: at("2026-11-23T10:00:00+01:00"),
        actual_departure: at("2026-11-23T10:15:00+01:00"),
        scheduled_arrival: at("2026-11-23T12:30:00-06:00"),
        ..EventFlight::default()
    });
    let email = rendered(&[message(1, update(SummaryStatus::InTransit, vec![dep]))]);
    for expected in [
        "Time:      2026-11-23 10:15 +01:00",
        "Flight:    LH8160 FRA → ORD",
        "Scheduled: departure 2026-11-23 10:00 +01:00, arrival 2026-11-23 12:30 -06:00",
        "Actual:    departure 2026-11-23 10:15 +01:00",
        "Pieces:    2",
        "Weight:    120.5 kg",
        "Shipment: 2 pieces, 120.5 kg",
        "AWB 020-08002050, FRA → ORD",
    ] {
        assert!(
            email.text.contains(expected),
            "{expected:?} in\n{}",
            email.text
        );
    }
    assert!(!email.text.contains("Estimated"));
    assert!(email.html.contains("<td>2026-11-23 10:15 +01:00</td>"));
    assert!(email.html.contains("<td>LH8160 FRA → ORD</td>"));
}

#[test]
fn carrier_data_is_escaped_in_html_and_kept_out_of_the_subject_line() {
    let mut hostile = event("DEP", "<b>FRA</b>", "2026-11-23T10:15:00+01:00");
    hostile.description = Some("<script>alert('x')</script>\r\nBcc: a@example.com".into());
    let email = rendered(&[message(1, update(SummaryStatus::InTransit, vec![hostile]))]);
    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(!email.html.contains("<b>"));
    assert!(
        email
            .html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
    );
    assert!(email.html.contains("&lt;b&gt;FRA&lt;/b&gt;"));
    assert!(!email.subject.contains(['\r', '\n']));
    assert!(
        email.text.contains("<script>"),
        "plain text needs no escaping"
    );
}

#[test]
fn escape_covers_the_five_html_specials() {
    assert_eq!(
        escape(r#"<a href="x">&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
    );
}

#[test]
fn the_expiry_notice_says_no_further_updates_and_a_new_subscription_is_needed() {
    let recipient = Recipient {
        subscription_id: uuid::Uuid::nil().into(),
        reference: None,
        states: crate::domain::StateFilter::parse(&["*"]).unwrap(),
        next_sequence: 7,
        expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
        url: None,
        emails: vec!["ops@example.com".into()],
        feed: false,
    };
    let queued = expired_message(&recipient, Some(&awb()), None, Utc::now());
    let queued: Message = serde_json::from_str(&queued.body).unwrap();
    let email = rendered(&[queued]);
    assert_eq!(email.subject, "AWB 020-08002050 · subscription expired");
    for part in [&email.text, &email.html] {
        assert!(part.contains("no further updates"), "{part}");
        assert!(part.contains("new subscription"), "{part}");
    }
}

#[test]
fn an_empty_notice_falls_back_to_words_of_its_own() {
    let body = MessageBody::SubscriptionExpired(lifecycle("  "));
    let email = rendered(&[message(2, body)]);
    assert!(email.text.contains("Create a new subscription"));
}

#[test]
fn completion_and_test_notices_have_their_own_subjects() {
    let completed = MessageBody::SubscriptionCompleted(lifecycle("AWB delivered; complete."));
    let email = rendered(&[message(5, completed)]);
    assert_eq!(email.subject, "AWB 020-08002050 · subscription completed");
    assert!(email.text.contains("AWB delivered; complete."));

    // A test of a flight subscription has no AWB, so no title line either.
    let test = MessageBody::SubscriptionTest(Lifecycle {
        awb: None,
        ..lifecycle("This is a test message.")
    });
    let email = rendered(&[message(1, test)]);
    assert_eq!(email.subject, "Skyhook test message");
    assert!(
        email.text.starts_with("Reference: PO-1\n"),
        "{}",
        email.text
    );
    assert!(email.text.contains("runs until 2026-12-14 00:00 UTC"));
}

#[test]
fn a_delivery_batched_with_its_completion_says_both_in_the_subject() {
    let dlv = update(
        SummaryStatus::Delivered,
        vec![event("DLV", "ORD", "2026-11-24T09:00:00-06:00")],
    );
    let completed = MessageBody::SubscriptionCompleted(lifecycle("Delivered; complete."));
    let email = rendered(&[message(8, dlv), message(9, completed)]);
    assert_eq!(
        email.subject,
        "AWB 020-08002050 · DLV ORD · Delivered · subscription completed"
    );
    let events_at = email.text.find("DLV ORD").unwrap();
    let notice_at = email.text.find("Delivered; complete.").unwrap();
    assert!(events_at < notice_at);
}

/// How the HTML looks and what mail programs keep of it.
mod look;
