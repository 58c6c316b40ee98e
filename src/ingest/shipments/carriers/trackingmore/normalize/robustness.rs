//! Whatever TrackingMore answers, the envelope, the entry reader and the batch matching do not
//! panic: they fail with a typed error or return tracking the store and the diff can use.

use super::super::{FetchRequest, Fetched, match_entries};
use super::tests::{cargolux, seed_response};
use super::{from_trackingmore, parse_trackingmore_response};
use crate::domain::normalize::arbitrary::{self, check_usable};
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "meta",
    "code",
    "type",
    "message",
    "data",
    "172-28891936",
    "17228891936",
    "track_number",
    "return_data",
    "weight",
    "piece",
    "origin",
    "destination",
    "track_info",
    "plan_date",
    "actual_date",
    "event",
    "station",
    "flight_number",
    "status",
    "status_number",
    "flight_info",
    "CV7493",
    "plan_depart_time",
    "depart_time",
    "depart_station",
    "plan_arrival_time",
    "arrival_time",
    "arrival_station",
    "missing",
];

fn request() -> FetchRequest {
    FetchRequest {
        awb: cargolux(),
        first_seen: chrono::Utc::now(),
    }
}

/// The whole way a batch answer is read, each entry's tracking checked.
fn read(body: &serde_json::Value) -> Result<(), TestCaseError> {
    if let Ok(entries) = parse_trackingmore_response(body) {
        for (_, entry) in entries {
            if let Ok(tracking) = from_trackingmore(&cargolux(), &entry) {
                check_usable(&tracking)?;
            }
        }
    }
    for fetched in match_entries(&[request()], body).into_iter().flatten() {
        if let Fetched::Found { tracking, .. } = fetched {
            check_usable(&tracking)?;
        }
    }
    Ok(())
}

arbitrary::read_or_refused!(read, seed_response(), KEYS);
