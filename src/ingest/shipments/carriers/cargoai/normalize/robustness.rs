//! Whatever CargoAI answers, the reader does not panic: it fails with a [`NormalizeError`]
//! or returns tracking the store and the diff can use.

use super::from_cargoai;
use super::tests::{SEED_001, seed_awb};
use crate::domain::normalize::arbitrary::{self, check_usable};
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "awb",
    "origin",
    "destination",
    "pieces",
    "weight",
    "volume",
    "status",
    "events",
    "code",
    "description",
    "eventDate",
    "eventLocation",
    "eventLocationCoord",
    "isPlanned",
    "flight",
    "number",
    "date",
    "scheduledDeparture",
    "estimatedDeparture",
    "actualDeparture",
    "scheduledArrival",
    "estimatedArrival",
    "actualArrival",
    "originCoord",
    "destinationCoord",
    "flightNumber",
    "scheduledDepartureDate",
    "eventUlds",
    "uld",
    "additionalInformation",
    "bookingStatus",
];

fn seed() -> serde_json::Value {
    serde_json::from_str(SEED_001).expect("seed 001 is JSON")
}

/// Reads `body` as CargoAI's answer for the seed AWB and checks what it read.
fn read(body: &serde_json::Value) -> Result<(), TestCaseError> {
    if let Ok(tracking) = from_cargoai(&seed_awb(), body) {
        check_usable(&tracking)?;
    }
    Ok(())
}

arbitrary::read_or_refused!(read, seed(), KEYS);
