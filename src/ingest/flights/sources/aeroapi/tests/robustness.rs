//! Whatever AeroAPI answers, the reader does not panic: it fails with a [`SourceError`] or
//! returns reports of the asked flight on the asked date.

use super::*;
use crate::domain::normalize::arbitrary;
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "flights",
    "links",
    "num_pages",
    "ident",
    "ident_icao",
    "ident_iata",
    "fa_flight_id",
    "operator",
    "operator_iata",
    "origin",
    "destination",
    "code",
    "code_icao",
    "code_iata",
    "timezone",
    "cancelled",
    "diverted",
    "status",
    "scheduled_out",
    "estimated_out",
    "actual_out",
    "scheduled_off",
    "estimated_off",
    "actual_off",
    "scheduled_on",
    "estimated_on",
    "actual_on",
    "scheduled_in",
    "estimated_in",
    "actual_in",
];

fn example() -> Value {
    answer_of(vec![leg(
        "DLH8160-1",
        fra(),
        ord(),
        &[
            ("scheduled_out", "2026-11-25T13:05:00Z"),
            ("estimated_out", "2026-11-25T13:20:00Z"),
            ("scheduled_in", "2026-11-25T22:40:00Z"),
        ],
    )])
}

fn read(body: &Value) -> Result<(), TestCaseError> {
    let bytes = serde_json::to_vec(body).expect("JSON serialises");
    if let Ok(reports) = read_answer(&query(), &bytes) {
        for report in reports {
            prop_assert_eq!(&report.key.number, &query().number);
            prop_assert_eq!(report.key.date, query().date, "only legs of the asked date");
        }
    }
    Ok(())
}

arbitrary::read_or_refused!(read, example(), KEYS);
