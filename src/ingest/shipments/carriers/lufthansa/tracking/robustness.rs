//! Whatever the Shipment Tracking API answers, the reader does not panic: it fails with a
//! [`NormalizeError`] or returns tracking the store and the diff can use.

use super::tests::departed;
use super::{NormalizeError, from_lufthansa};
use crate::domain::AwbNumber;
use crate::domain::normalize::arbitrary::{self, check_usable};
use proptest::prelude::*;
use serde_json::Value;

const KEYS: &[&str] = &[
    "shipmentTrackingStatus",
    "shipment",
    "shipmentId",
    "carrierNumericCode",
    "aWBNumber",
    "aWBSequenceNumber",
    "status",
    "booking",
    "origin",
    "destination",
    "totals",
    "noOfPieces",
    "weight",
    "milestonePlan",
    "milestones",
    "milestone",
    "type",
    "station",
    "plannedTime",
    "actualTime",
    "plannedTotals",
    "actualTotals",
    "isComplete",
    "flight",
    "flightCarrierCode",
    "flightNumber",
    "flightDate",
    "flightSegmentOrigin",
    "flightSegmentDestination",
    "events",
    "event",
    "category",
    "classifier",
    "flightMovementDetails",
    "eta",
    "etaUTC",
];

fn read(body: &Value) -> Result<(), TestCaseError> {
    let awb = AwbNumber::parse("020-08002050").expect("a valid AWB");
    match from_lufthansa(&awb, body) {
        Ok(tracking) => check_usable(&tracking),
        Err(
            NormalizeError::NotAnObject { .. }
            | NormalizeError::Missing { .. }
            | NormalizeError::AwbMismatch { .. },
        ) => Ok(()),
        Err(other) => Err(TestCaseError::fail(format!("unexpected error {other}"))),
    }
}

arbitrary::read_or_refused!(read, departed(), KEYS);
