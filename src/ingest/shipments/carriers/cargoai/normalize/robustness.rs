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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_is_read_or_refused(body in arbitrary::value(KEYS)) {
        if let Ok(tracking) = from_cargoai(&seed_awb(), &body) {
            check_usable(&tracking)?;
        }
    }

    #[test]
    fn seed_001_with_parts_replaced_is_read_or_refused(
        body in arbitrary::mutated(seed(), KEYS)
    ) {
        if let Ok(tracking) = from_cargoai(&seed_awb(), &body) {
            check_usable(&tracking)?;
        }
    }
}
