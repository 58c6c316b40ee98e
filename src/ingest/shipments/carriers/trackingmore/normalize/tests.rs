//! Tests for the TrackingMore normaliser, on seed 004's example.

use super::*;
use chrono::{DateTime, FixedOffset};
use serde_json::json;

/// Seed 004's response with the braces and brackets its scraped excerpt lost put back.
pub(super) fn seed_response() -> Value {
    json!({
        "meta": {"code": 200, "type": "Success", "message": "Request Success"},
        "data": {
            "172-28891936": {
                "track_number": "172-28891936",
                "return_data": {
                    "weight": "1981K",
                    "piece": 9,
                    "origin": "XMN",
                    "destination": "MXP",
                    "track_info": [
                        {"plan_date": "2018-04-18 20:29:00", "actual_date": "2018-04-17 09:38:00",
                         "event": "Delivery", "station": "MXP", "flight_number": "C80066",
                         "status": "DLV", "piece": "10", "weight": ""},
                        {"plan_date": "2018-04-12 01:20:00", "actual_date": "2018-04-11 17:41:00",
                         "event": "9 piece(s) accepted", "station": "XMN", "flight_number": "CV7493",
                         "status": "RCS", "piece": "9", "weight": ""},
                        {"plan_date": "2018-04-12 16:27:00", "actual_date": "2018-04-11 15:56:00",
                         "event": "9 piece(s) arrived on CV7493", "station": "LUX",
                         "flight_number": "CV7493", "status": "ARR", "piece": "9", "weight": ""}
                    ],
                    "status_number": 4,
                    "flight_info": {
                        "CV7493": {
                            "plan_depart_time": "2018-04-12 08:20:00",
                            "depart_time": "2018-04-12 08:46:00",
                            "depart_station": "XMN",
                            "plan_arrival_time": "2018-04-12 16:27:00",
                            "arrival_time": "2018-04-11 15:56:00",
                            "arrival_station": "LUX"
                        },
                        "C80066": {
                            "plan_arrival_time": "2018-04-14 20:29:00",
                            "arrival_time": "2018-04-13 20:21:00",
                            "arrival_station": "MXP",
                            "plan_depart_time": "2018-04-16 20:15:00",
                            "depart_time": "2018-04-14 19:31:00",
                            "depart_station": "LUX"
                        }
                    },
                    "flight_way_station": [],
                    "last_event": "2018-04-17 09:38:00, Delivery, MXP, C80066"
                },
                "airline_info": {"name": "Cargolux Airlines", "url": "", "track_url": ""}
            }
        }
    })
}

pub(super) fn cargolux() -> AwbNumber {
    AwbNumber::parse("172-28891936").unwrap()
}

fn utc(s: &str) -> Option<DateTime<FixedOffset>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap())
}

fn seed_tracking() -> Tracking {
    let entries = parse_trackingmore_response(&seed_response()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "172-28891936");
    from_trackingmore(&cargolux(), &entries[0].1).unwrap()
}

fn has_note(tracking: &Tracking, needle: &str) -> bool {
    tracking.anomalies.iter().any(|n| n.contains(needle))
}

#[test]
fn seed_004_example_is_fully_mapped() {
    let t = seed_tracking();
    assert_eq!(t.awb, cargolux());
    assert_eq!(
        (t.origin.as_deref(), t.destination.as_deref()),
        (Some("XMN"), Some("MXP"))
    );
    assert_eq!(
        (t.pieces, t.weight, t.volume, t.status),
        (Some(9), Some(1981.0), None, None)
    );

    let summary: Vec<_> = t
        .events
        .iter()
        .map(|e| {
            (
                e.code.as_str(),
                e.event_location.as_deref(),
                e.pieces,
                e.weight,
                e.is_planned,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("DLV", Some("MXP"), Some(10), None, false),
            ("RCS", Some("XMN"), Some(9), None, false),
            ("ARR", Some("LUX"), Some(9), None, false),
        ]
    );
    let delivery = &t.events[0];
    assert_eq!(delivery.description.as_deref(), Some("Delivery"));
    // The actual time wins even though it is before the plan.
    assert_eq!(delivery.event_date, utc("2018-04-17T09:38:00+00:00"));

    let c80066 = delivery.flight.as_ref().unwrap();
    assert_eq!(
        c80066,
        &EventFlight {
            number: Some("C80066".into()),
            origin: Some("LUX".into()),
            destination: Some("MXP".into()),
            scheduled_departure: utc("2018-04-16T20:15:00Z"),
            estimated_departure: None,
            actual_departure: utc("2018-04-14T19:31:00Z"),
            scheduled_arrival: utc("2018-04-14T20:29:00Z"),
            estimated_arrival: None,
            actual_arrival: utc("2018-04-13T20:21:00Z"),
        }
    );
    let cv7493 = t.events[2].flight.as_ref().unwrap();
    assert_eq!(
        (cv7493.origin.as_deref(), cv7493.destination.as_deref()),
        (Some("XMN"), Some("LUX"))
    );
    assert_eq!(t.events[1].flight, t.events[2].flight);
}

#[test]
fn seed_004_times_lack_offsets_and_some_legs_run_backwards() {
    let t = seed_tracking();
    let offsets: Vec<_> = t
        .anomalies
        .iter()
        .filter(|n| n.contains("no UTC offset"))
        .collect();
    // 6 event times + 8 flight times, reported once.
    assert_eq!(offsets.len(), 1, "{:#?}", t.anomalies);
    assert!(
        offsets[0].starts_with("14 time(s) had no UTC offset"),
        "{}",
        offsets[0]
    );
    assert!(has_note(
        &t,
        "flight_info.CV7493: actual arrival 2018-04-11T15:56:00+00:00 is before"
    ));
    assert!(has_note(&t, "flight_info.C80066: scheduled arrival"));
    assert!(has_note(&t, "flight_info.C80066: actual arrival"));
    assert!(!has_note(&t, "flight_info.CV7493: scheduled arrival"));
}

#[test]
fn a_plan_alone_makes_a_planned_event() {
    let entry = json!({"track_number": "17228891936", "return_data": {"track_info": [
        {"plan_date": "2018-04-12 01:20:00", "actual_date": "", "status": "dep", "flight_number": "cv 7493"}
    ]}});
    let t = from_trackingmore(&cargolux(), &entry).unwrap();
    let event = &t.events[0];
    assert!(event.is_planned);
    assert_eq!(event.event_date, utc("2018-04-12T01:20:00Z"));
    assert_eq!(
        event.description.as_deref(),
        Some("Departed"),
        "filled from the code"
    );
    // Not in flight_info: the number alone is still worth keeping.
    let flight = event.flight.as_ref().unwrap();
    assert_eq!(flight.number.as_deref(), Some("CV7493"));
    assert_eq!(flight.origin, None);
}

#[test]
fn meta_errors_reject_the_whole_response() {
    let body = json!({"meta": {"code": 4101, "type": "Bad Request", "message": "Tracking No. is empty"}, "data": []});
    let err = parse_trackingmore_response(&body).unwrap_err();
    assert_eq!(
        err,
        NormalizeError::Rejected {
            code: "4101".into(),
            message: "Tracking No. is empty".into()
        }
    );
    assert!(err.to_string().contains("Tracking No. is empty"));
}

#[test]
fn meta_201_is_success_too() {
    let mut body = seed_response();
    body["meta"]["code"] = json!("201");
    let entries = parse_trackingmore_response(&body).unwrap();
    assert_eq!(entries.len(), 1);
}

#[test]
fn an_entry_for_another_awb_is_an_error() {
    let entry = json!({"track_number": "020-08002050", "return_data": {}});
    let err = from_trackingmore(&cargolux(), &entry).unwrap_err();
    assert!(matches!(err, NormalizeError::AwbMismatch { .. }), "{err}");
    let err = from_trackingmore(&cargolux(), &json!("172-28891936")).unwrap_err();
    assert!(matches!(err, NormalizeError::NotAnObject { .. }));
}

#[test]
fn an_entry_without_details_is_empty_and_noted() {
    let t = from_trackingmore(&cargolux(), &json!({"track_number": "172-28891936"})).unwrap();
    assert!(t.events.is_empty());
    assert!(has_note(&t, "return_data missing"), "{:?}", t.anomalies);
}
