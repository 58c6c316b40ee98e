//! Shipment Tracking answers (`shipmentTrackingStatus`) as Lufthansa Cargo's documentation and
//! OpenAPI description shape them, for AWB 020-08002050 booked FRA → ORD on LH8160: the plan
//! (RCS, DEP, ARR, DLV) with planned times, and actual times as the shipment moves on.

use serde_json::{Value, json};

fn lh8160() -> Value {
    json!({"flightCarrierCode": "LH", "flightNumber": "8160", "flightDate": "2026-11-25",
           "flightSegmentOrigin": "FRA", "flightSegmentDestination": "ORD"})
}

fn totals() -> Value {
    json!({"noOfPieces": "10", "weight": 250.0})
}

/// One milestone; `actual` makes it happened.
fn milestone(kind: &str, station: &str, planned: &str, actual: Option<&str>) -> Value {
    let mut m = json!({"type": kind, "station": station, "plannedTime": planned,
                       "plannedTotals": totals()});
    if let Some(actual) = actual {
        m["actualTime"] = json!(actual);
        m["actualTotals"] = json!([{"noOfPieces": "10", "weight": 250.0, "isComplete": "true"}]);
    }
    if matches!(kind, "DEP" | "ARR") {
        m["flight"] = lh8160();
    }
    m
}

/// How far the shipment has come: each step adds the actual time of the next milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Received,
    Departed,
    Arrived,
    Delivered,
}

pub const DEPARTED_AT: &str = "2026-11-25T14:20:00+01:00";

pub fn status(step: Step) -> Value {
    let at = |reached: Step, time: &'static str| (step >= reached).then_some(time);
    let milestones = [
        milestone(
            "RCS",
            "FRA",
            "2026-11-24T18:00:00+01:00",
            at(Step::Received, "2026-11-24T16:42:00+01:00"),
        ),
        milestone(
            "DEP",
            "FRA",
            "2026-11-25T14:05:00+01:00",
            at(Step::Departed, DEPARTED_AT),
        ),
        milestone(
            "ARR",
            "ORD",
            "2026-11-25T16:35:00-06:00",
            at(Step::Arrived, "2026-11-25T16:41:00-06:00"),
        ),
        milestone(
            "DLV",
            "ORD",
            "2026-11-26T10:00:00-06:00",
            at(Step::Delivered, "2026-11-26T09:30:00-06:00"),
        ),
    ];
    let code = match step {
        Step::Received => "RCS",
        Step::Departed => "DEP",
        Step::Arrived => "ARR",
        Step::Delivered => "DLV",
    };
    json!({"shipmentTrackingStatus": {
        "shipment": {
            "shipmentId": {"carrierNumericCode": "020", "aWBNumber": "08002050",
                           "isAWBNoCheckDigitUsed": "true", "aWBSequenceNumber": 0},
            "awbIssueStation": "FRA"
        },
        "status": code,
        "milestonePlan": {"version": "1", "milestones": {"milestone": milestones}},
        "booking": {
            "product": {"productName": "td.Pro", "productConditions": {"sPLList": {"splCode": []}}},
            "totals": totals(), "origin": "FRA", "destination": "ORD",
            "bookingTime": "2026-11-23T09:12:00+01:00", "isSplitBooking": "false"
        },
        "events": {"event": []},
        "flightMovementDetails": {"flightCarrierCode": "LH", "flightNumber": "8160",
            "flightDate": "2026-11-25", "etaUTC": "2026-11-25T22:50:00Z"},
        "shipmentStatusEvents": {"event": []}
    }})
}
