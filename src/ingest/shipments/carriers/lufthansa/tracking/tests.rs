//! Examples written from Lufthansa Cargo's "Shipment Tracking" documentation and its OpenAPI
//! description (`shipmentTrackingStatus`: `shipment.shipmentId`, `status`, `booking`,
//! `milestonePlan.milestones.milestone[]`, `events.event[]`, `flightMovementDetails`,
//! `shipmentStatusEvents`).

use super::*;
use crate::domain::SummaryStatus;
use crate::domain::diff::summary_status;

fn awb() -> AwbNumber {
    AwbNumber::parse("020-08002050").unwrap()
}

fn flight(number: &str, date: &str, from: &str, to: &str) -> Value {
    json!({"flightCarrierCode": "LH", "flightNumber": number, "flightDate": date,
           "flightSegmentOrigin": from, "flightSegmentDestination": to})
}

/// FRA → ORD on LH8160: received and departed, the arrival and delivery still planned.
pub(super) fn departed() -> Value {
    json!({"shipmentTrackingStatus": {
        "shipment": {
            "shipmentId": {"carrierNumericCode": "020", "aWBNumber": "08002050",
                           "isAWBNoCheckDigitUsed": "true", "aWBSequenceNumber": 0},
            "awbIssueStation": "FRA"
        },
        "status": "DEP",
        "milestonePlan": {"version": "1", "milestones": {"milestone": [
            {"type": "RCS", "station": "FRA",
             "plannedTime": "2026-11-24T18:00:00+01:00", "actualTime": "2026-11-24T16:42:00+01:00",
             "plannedTotals": {"noOfPieces": "10", "weight": 250.0},
             "actualTotals": [{"noOfPieces": "10", "weight": 250.0, "isComplete": "true"}]},
            {"type": "DEP", "station": "FRA",
             "plannedTime": "2026-11-25T14:05:00+01:00", "actualTime": "2026-11-25T14:20:00+01:00",
             "plannedTotals": {"noOfPieces": "10", "weight": 250.0},
             "actualTotals": [{"noOfPieces": "10", "weight": 250.0, "isComplete": "true"}],
             "flight": flight("8160", "2026-11-25", "FRA", "ORD")},
            {"type": "ARR", "station": "ORD", "plannedTime": "2026-11-25T16:35:00-06:00",
             "plannedTotals": {"noOfPieces": "10", "weight": 250.0},
             "flight": flight("8160", "2026-11-25", "FRA", "ORD")},
            {"type": "DLV", "station": "ORD", "plannedTime": "2026-11-26T10:00:00-06:00",
             "plannedTotals": {"noOfPieces": "10", "weight": 250.0}}
        ]}},
        "booking": {
            "product": {"productName": "td.Pro", "productConditions": {"sPLList": {"splCode": []}}},
            "totals": {"noOfPieces": "10", "weight": 250.0},
            "origin": "FRA", "destination": "ORD",
            "bookingTime": "2026-11-23T09:12:00+01:00", "isSplitBooking": "false"
        },
        "events": {"event": [
            {"type": "RCS", "station": "FRA", "actualTime": "2026-11-24T16:42:00+01:00",
             "category": "HANDLING"}
        ]},
        "flightMovementDetails": {"flightCarrierCode": "LH", "flightNumber": "8160",
            "flightDate": "2026-11-25", "eta": "2026-11-25T16:50:00", "etaUTC": "2026-11-25T22:50:00Z"},
        "shipmentStatusEvents": {"event": []}
    }})
}

fn read(body: &Value) -> Tracking {
    from_lufthansa(&awb(), body).unwrap()
}

fn codes(tracking: &Tracking) -> Vec<(&str, bool)> {
    tracking
        .events
        .iter()
        .map(|e| (e.code.as_str(), e.is_planned))
        .collect()
}

#[test]
fn milestones_become_events_and_the_booking_gives_the_route() {
    let tracking = read(&departed());
    assert_eq!(tracking.origin.as_deref(), Some("FRA"));
    assert_eq!(tracking.destination.as_deref(), Some("ORD"));
    assert_eq!((tracking.pieces, tracking.weight), (Some(10), Some(250.0)));
    assert_eq!(tracking.status, None, "Skyhook derives its own");
    // The top-level RCS is the RCS milestone's, not a second one.
    assert_eq!(
        codes(&tracking),
        [("RCS", false), ("DEP", false), ("ARR", true), ("DLV", true)]
    );
    assert!(tracking.anomalies.is_empty(), "{:?}", tracking.anomalies);

    let dep = &tracking.events[1];
    assert_eq!(dep.event_location.as_deref(), Some("FRA"));
    assert_eq!(
        dep.event_date.unwrap().to_rfc3339(),
        "2026-11-25T14:20:00+01:00"
    );
    assert_eq!((dep.pieces, dep.weight), (Some(10), Some(250.0)));
    assert_eq!(dep.description.as_deref(), Some("Departed"));
    let flight = dep.flight.as_ref().unwrap();
    assert_eq!(flight.number.as_deref(), Some("LH8160"));
    assert_eq!(
        (flight.origin.as_deref(), flight.destination.as_deref()),
        (Some("FRA"), Some("ORD"))
    );
    let times = [
        flight.scheduled_departure,
        flight.actual_departure,
        flight.scheduled_arrival,
        flight.estimated_arrival,
    ]
    .map(|t| t.map(|t| t.to_rfc3339()));
    let expected = [
        "2026-11-25T14:05:00+01:00",
        "2026-11-25T14:20:00+01:00",
        "2026-11-25T16:35:00-06:00",
        // `eta` has no offset, so the UTC one is taken.
        "2026-11-25T22:50:00+00:00",
    ];
    assert_eq!(times, expected.map(|t| Some(t.to_owned())));
    assert_eq!(
        tracking.events[2].flight.as_ref(),
        Some(flight),
        "one flight on every milestone that names it"
    );
    assert_eq!(tracking.events[3].flight, None);
}

#[test]
fn a_planned_delivery_is_not_a_delivery() {
    let tracking = read(&departed());
    let dlv = &tracking.events[3];
    assert!(dlv.is_planned);
    assert_eq!(
        dlv.event_date.unwrap().to_rfc3339(),
        "2026-11-26T10:00:00-06:00"
    );
    assert_eq!(
        dlv.pieces,
        Some(10),
        "pieces of a plan are its plannedTotals"
    );
    let status = summary_status(
        &tracking.events,
        tracking.destination.as_deref(),
        tracking.pieces,
        None,
    );
    assert_eq!(status, SummaryStatus::InTransit);
}

#[test]
fn an_actual_arrival_at_the_destination_and_the_delivery_in_parts() {
    let mut body = departed();
    let plan = &mut body["shipmentTrackingStatus"]["milestonePlan"]["milestones"]["milestone"];
    plan[2]["actualTime"] = json!("2026-11-25T16:41:00-06:00");
    plan[2]["actualTotals"] = json!([{"noOfPieces": "10", "weight": 250.0, "isComplete": "true"}]);
    plan[3]["actualTime"] = json!("2026-11-26T09:30:00-06:00");
    plan[3]["actualTotals"] = json!([
        {"noOfPieces": "6", "weight": 150.0, "isComplete": "false"},
        {"noOfPieces": "4", "weight": 100.0, "isComplete": "true"}
    ]);
    let tracking = read(&body);
    let arr = &tracking.events[2];
    assert!(!arr.is_planned);
    assert_eq!(
        arr.flight
            .as_ref()
            .unwrap()
            .actual_arrival
            .unwrap()
            .to_rfc3339(),
        "2026-11-25T16:41:00-06:00"
    );
    let dlv = &tracking.events[3];
    assert_eq!((dlv.pieces, dlv.weight), (Some(10), Some(250.0)));
    let parts = &dlv.additional_information.as_ref().unwrap()["parts"];
    assert_eq!(
        parts,
        &json!([
            {"pieces": 6, "weight": 150.0, "isComplete": false},
            {"pieces": 4, "weight": 100.0, "isComplete": true}
        ])
    );
    let status = summary_status(&tracking.events, Some("ORD"), Some(10), None);
    assert_eq!(status, SummaryStatus::Delivered);
}

#[test]
fn events_the_plan_does_not_have_are_added_as_actual_events() {
    let mut body = departed();
    body["shipmentTrackingStatus"]["events"]["event"] = json!([
        {"type": "RCS", "station": "FRA", "actualTime": "2026-11-24T16:42:00+01:00"},
        {"type": "DIS", "station": "FRA", "actualTime": "2026-11-25T13:00:00+01:00",
         "actualTotals": [{"noOfPieces": "2", "weight": 50.0}],
         "category": "DISCREPANCY", "classifier": "OFLD"}
    ]);
    let tracking = read(&body);
    let dis = tracking.events.last().unwrap();
    assert_eq!((dis.code.as_str(), dis.is_planned), ("DIS", false));
    assert_eq!(dis.pieces, Some(2));
    assert_eq!(
        dis.additional_information,
        Some(json!({"category": "DISCREPANCY", "classifier": "OFLD"}))
    );
    assert_eq!(tracking.events.len(), 5);
}

#[test]
fn odd_values_are_read_leniently_and_noted() {
    let body = json!({"shipmentTrackingStatus": {
        "shipment": {"shipmentId": {"carrierNumericCode": "020", "aWBNumber": "08002051",
                                    "aWBSequenceNumber": 1}},
        "milestonePlan": {"milestones": {"milestone": {
            "type": "rcs", "station": "fra", "actualTime": "2026-11-24 16:42",
            "actualTotals": {"noOfPieces": "10", "weight": "250K"}
        }}},
        "booking": {"origin": "Frankfurt", "destination": "ORD", "totals": "lots"}
    }});
    let tracking = read(&body);
    assert_eq!(codes(&tracking), [("RCS", false)]);
    let rcs = &tracking.events[0];
    assert_eq!(rcs.event_location.as_deref(), Some("FRA"));
    assert_eq!((rcs.pieces, rcs.weight), (Some(10), Some(250.0)));
    assert_eq!(
        rcs.event_date.unwrap().to_rfc3339(),
        "2026-11-24T16:42:00+00:00"
    );
    assert_eq!(tracking.origin, None);
    let notes = tracking.anomalies.join("\n");
    for expected in [
        "only in its check digit",
        "re-used this AWB number",
        "not a 3-letter IATA airport code",
        "booking.totals `lots`: not an object",
        "1 time(s) had no UTC offset",
    ] {
        assert!(notes.contains(expected), "{expected} in:\n{notes}");
    }
}

#[test]
fn an_answer_about_another_awb_or_without_a_status_is_refused() {
    let mut other = departed();
    other["shipmentTrackingStatus"]["shipment"]["shipmentId"]["aWBNumber"] = json!("12345675");
    other["shipmentTrackingStatus"]["shipment"]["shipmentId"]["carrierNumericCode"] = json!("176");
    assert!(matches!(
        from_lufthansa(&awb(), &other),
        Err(NormalizeError::AwbMismatch { .. })
    ));
    assert!(matches!(
        from_lufthansa(&awb(), &json!({"status": "DEP"})),
        Err(NormalizeError::Missing { .. })
    ));
    assert!(from_lufthansa(&awb(), &json!([1, 2])).is_err());
    assert!(from_lufthansa(&awb(), &json!({"shipmentTrackingStatus": "DEP"})).is_err());
}
