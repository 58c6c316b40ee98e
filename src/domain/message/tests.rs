use super::*;
use crate::domain::testing::{awb, summary};
use chrono::TimeZone;

fn event(code: &str, place: &str) -> TrackingEvent {
    TrackingEvent {
        event_location: Some(place.into()),
        pieces: Some(2),
        ..TrackingEvent::new(code, None)
    }
}

fn recipient(states: &[&str], url: Option<&str>, emails: &[&str]) -> Recipient {
    Recipient {
        subscription_id: crate::domain::SubscriptionId::new_random(),
        reference: Some("PO-1".into()),
        states: StateFilter::parse(states).unwrap(),
        next_sequence: 4,
        expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
        url: url.map(str::to_owned),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        feed: false,
    }
}

fn change(status: SummaryStatus, changed: Vec<TrackingEvent>) -> ShipmentChange {
    let unchanged = vec![event("BKD", "FRA")];
    let events = unchanged.iter().chain(&changed).cloned().collect();
    ShipmentChange {
        awb: awb(),
        summary: summary("ORD", Some(2), Some(120.0), status),
        changed,
        events,
        unchanged,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

#[test]
fn a_message_goes_to_every_channel_of_a_subscription_whose_filter_matches() {
    let all = recipient(
        &["*"],
        Some("https://tms.example.com/hook"),
        &["ops@example.com"],
    );
    let arrivals = recipient(&["ARR"], Some("https://other.example.com/"), &[]);
    let change = change(SummaryStatus::InTransit, vec![event("DEP", "FRA")]);
    let (messages, completed) = plan_shipment_messages(&change, &[all.clone(), arrivals], now());
    assert!(completed.is_empty());
    assert_eq!(
        messages.len(),
        1,
        "the ARR-only subscription is not told about DEP"
    );
    let message = &messages[0];
    assert_eq!(message.subscription_id, all.subscription_id);
    assert_eq!(message.sequence, 4);
    assert_eq!(message.kind, "tracking.updated");
    assert_eq!(
        message.targets,
        vec![
            (Channel::Webhook, "https://tms.example.com/hook".to_owned()),
            (Channel::Email, "ops@example.com".to_owned())
        ]
    );
}

#[test]
fn the_body_carries_the_envelope_and_new_old_and_all_events() {
    let r = recipient(&["DEP", "ARR"], Some("https://tms.example.com/"), &[]);
    let change = change(
        SummaryStatus::InTransit,
        vec![event("DEP", "FRA"), event("MAN", "FRA")],
    );
    let (messages, _) = plan_shipment_messages(&change, std::slice::from_ref(&r), now());
    let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(body["type"], "tracking.updated");
    assert_eq!(body["id"], messages[0].message_id.as_str());
    assert!(messages[0].message_id.starts_with("msg_"));
    assert_eq!(body["subscriptionId"], r.subscription_id.to_string());
    assert_eq!(body["sequence"], 4);
    assert_eq!(body["reference"], "PO-1");
    assert_eq!(body["awb"], "020-08002050");
    assert_eq!(body["status"], "IN_TRANSIT");
    let codes = |key: &str| -> Vec<String> {
        body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes("newEvents"), ["DEP"], "MAN is filtered out");
    assert_eq!(codes("oldEvents"), ["BKD"]);
    assert_eq!(codes("events"), ["BKD", "DEP", "MAN"]);
    let parsed: Message = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(parsed.sequence, 4);
}

#[test]
fn delivery_completes_every_subscription_after_its_last_update() {
    let dlv_only = recipient(&["DLV"], Some("https://a.example.com/"), &[]);
    let dep_only = recipient(&["DEP"], None, &["ops@example.com"]);
    let change = change(SummaryStatus::Delivered, vec![event("DLV", "ORD")]);
    let (messages, completed) =
        plan_shipment_messages(&change, &[dlv_only.clone(), dep_only.clone()], now());
    let kinds: Vec<_> = messages
        .iter()
        .map(|m| (m.subscription_id, m.kind, m.sequence))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (dlv_only.subscription_id, "tracking.updated", 4),
            (dlv_only.subscription_id, "subscription.completed", 5),
            (dep_only.subscription_id, "subscription.completed", 4),
        ]
    );
    assert_eq!(
        completed,
        vec![dlv_only.subscription_id, dep_only.subscription_id]
    );
}

#[test]
fn nothing_changed_means_no_message() {
    let r = recipient(&["*"], Some("https://a.example.com/"), &[]);
    let (messages, completed) =
        plan_shipment_messages(&change(SummaryStatus::InTransit, vec![]), &[r], now());
    assert!(messages.is_empty());
    assert!(completed.is_empty());
}

#[test]
fn the_expiry_notice_says_a_new_subscription_is_needed() {
    let r = recipient(&["*"], None, &["ops@example.com"]);
    let awb = AwbNumber::parse("020-08002050").unwrap();
    let message = expired_message(&r, Some(&awb), None, now());
    let body: Message = serde_json::from_str(&message.body).unwrap();
    let MessageBody::SubscriptionExpired(lifecycle) = body.body else {
        panic!("wrong type: {}", message.body);
    };
    assert!(lifecycle.message.contains("new subscription"));
    assert!(lifecycle.message.contains("AWB 020-08002050"));
    let flight = expired_message(&r, None, Some("LH8160 on 2026-11-25 from FRA"), now());
    assert!(
        flight
            .body
            .contains("subscription to flight LH8160 on 2026-11-25 from FRA has expired"),
        "{}",
        flight.body
    );
    assert_eq!(
        message.targets,
        vec![(Channel::Email, "ops@example.com".into())]
    );
}

fn flight(state: &crate::domain::FlightState) -> FlightSnapshot {
    let key = crate::domain::FlightKey {
        number: crate::domain::FlightNumber::parse("LH8160").unwrap(),
        date: "2026-11-25".parse().unwrap(),
        origin: crate::domain::AirportCode::parse("FRA").unwrap(),
    };
    FlightSnapshot::new(uuid::Uuid::nil(), &key, state)
}

#[test]
fn a_flight_change_goes_to_every_subscriber_whatever_its_states_filter() {
    use crate::domain::{FlightState, FlightTimes};
    let old = FlightState {
        destination: Some("ORD".into()),
        times: FlightTimes {
            scheduled_departure: Some("2026-11-25T14:05:00+01:00".parse().unwrap()),
            ..FlightTimes::default()
        },
        cancelled: false,
    };
    let new = FlightState {
        times: FlightTimes {
            estimated_departure: Some("2026-11-25T16:40:00+01:00".parse().unwrap()),
            ..old.times.clone()
        },
        ..old.clone()
    };
    let changes = new.changes_since(&old);
    let arrivals_only = recipient(&["ARR"], Some("https://tms.example.com/f"), &[]);
    let (messages, completed) =
        plan_flight_messages(&flight(&new), &changes, &[arrivals_only], true, now());
    assert!(completed.is_empty());
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].kind, "flight.updated");
    assert_eq!(messages[0].sequence, 4);
    let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(body["type"], "flight.updated");
    assert_eq!(body["flight"]["flightUUID"], uuid::Uuid::nil().to_string());
    assert_eq!(body["flight"]["status"], "DELAYED");
    assert_eq!(body["changes"][0]["field"], "estimatedDeparture");
    assert_eq!(
        body["summary"],
        "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
    );
    let parsed: Message = serde_json::from_str(&messages[0].body).unwrap();
    assert!(matches!(parsed.body, MessageBody::FlightUpdated(_)));
}

#[test]
fn an_arrived_or_cancelled_flight_completes_its_subscriptions() {
    use crate::domain::FlightState;
    let cancelled = FlightState {
        cancelled: true,
        ..FlightState::default()
    };
    let changes = cancelled.changes_since(&FlightState::default());
    let subscriber = recipient(&["*"], None, &["ops@example.com"]);
    let id = subscriber.subscription_id;
    let (messages, completed) = plan_flight_messages(
        &flight(&cancelled),
        &changes,
        std::slice::from_ref(&subscriber),
        true,
        now(),
    );
    assert_eq!(completed, [id]);
    let kinds: Vec<_> = messages.iter().map(|m| (m.kind, m.sequence)).collect();
    assert_eq!(
        kinds,
        [("flight.updated", 4), ("subscription.completed", 5)]
    );
    assert!(
        messages[1].body.contains("was cancelled"),
        "{}",
        messages[1].body
    );
    // A subscriber who came after the end gets the completion alone.
    let (late, _) = plan_flight_messages(
        &flight(&cancelled),
        &[],
        std::slice::from_ref(&subscriber),
        true,
        now(),
    );
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].kind, "subscription.completed");
    // A subscription to every leg of the number waits for the other legs.
    let (waiting, completed) =
        plan_flight_messages(&flight(&cancelled), &changes, &[subscriber], false, now());
    assert!(completed.is_empty());
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].kind, "flight.updated");
}
