//! Tests for the lenient readers.

use super::*;
use serde_json::json;

fn run<T>(f: impl Fn(&str, Option<&Value>, &mut Vec<String>) -> T, v: Value) -> (T, Vec<String>) {
    let mut notes = Vec::new();
    let out = f("f", Some(&v), &mut notes);
    (out, notes)
}

#[test]
fn numbers_may_be_strings_and_empty_strings_are_absent() {
    assert_eq!(run(number, json!("1000.0")), (Some(1000.0), vec![]));
    assert_eq!(run(number, json!(9)), (Some(9.0), vec![]));
    assert_eq!(run(count, json!("34")), (Some(34), vec![]));
    assert_eq!(run(count, json!(9)), (Some(9), vec![]));
    assert_eq!(run(count, json!("")), (None, vec![]));
    assert_eq!(run(number, Value::Null), (None, vec![]));
    let (n, notes) = run(count, json!("3.5"));
    assert_eq!(n, None);
    assert!(notes[0].contains("f `3.5`: not a whole count"), "{notes:?}");
}

#[test]
fn weights_accept_cargo_imp_units() {
    for raw in ["1981K", "1981 KG", "1981kg", " 1981 "] {
        assert_eq!(run(weight_kg, json!(raw)), (Some(1981.0), vec![]), "{raw}");
    }
    let (kg, notes) = run(weight_kg, json!("100L"));
    assert_eq!(kg, Some(45.359));
    assert!(notes[0].contains("pounds"), "{notes:?}");
    let (kg, notes) = run(weight_kg, json!("12 tonnes"));
    assert_eq!(kg, None);
    assert!(notes[0].contains("unknown weight unit"), "{notes:?}");
}

/// Found by the CargoAI robustness property: 309 digits parse to infinity, which the store's
/// JSON writes as `null`.
#[test]
fn a_weight_too_large_for_a_number_is_left_out() {
    let huge = format!("1{}", "0".repeat(309));
    for raw in [
        format!("{huge}K"),
        format!("{huge}LB"),
        format!("{}LB", "9".repeat(308)),
    ] {
        let (kg, notes) = run(weight_kg, json!(raw));
        assert_eq!(kg, None, "{raw}");
        assert!(notes[0].contains("not a weight"), "{notes:?}");
    }
}

/// Found by the TrackingMore robustness property: serde_json's fast float parser can read
/// back a neighbour of the number it wrote, and a stored weight that differs from the
/// fetched one in its last bit is an update, announced on every poll.
#[test]
fn numbers_survive_the_stores_json_round_trip_exactly() {
    for weight in [2.152_187_447_113_215_6e-149, 1981.0, 45.359, 0.1 + 0.2] {
        let text = serde_json::to_string(&weight).unwrap();
        assert_eq!(
            serde_json::from_str::<f64>(&text).unwrap(),
            weight,
            "{text}"
        );
    }
}

#[test]
fn timestamps_keep_their_offsets() {
    let (z, notes) = run(timestamp, json!("2025-01-16T08:50:39Z"));
    let (cet, _) = run(timestamp, json!("2025-01-16T08:50:39+01:00"));
    assert!(notes.is_empty());
    let (z, cet) = (z.unwrap(), cet.unwrap());
    assert_eq!(z.offset().local_minus_utc(), 0);
    assert_eq!(cet.offset().local_minus_utc(), 3600);
    // Same wall-clock reading, different instants: the source's duplicate is not one.
    assert_eq!(z.naive_local(), cet.naive_local());
    assert_eq!(z - cet, chrono::TimeDelta::hours(1));
}

#[test]
fn naive_timestamps_are_read_as_utc_and_noted() {
    let (t, notes) = run(timestamp, json!("2018-04-18 20:29:00"));
    assert_eq!(t.unwrap().to_rfc3339(), "2018-04-18T20:29:00+00:00");
    assert!(
        notes[0].contains("`2018-04-18 20:29:00` has no UTC offset"),
        "{notes:?}"
    );
    let (t, notes) = run(timestamp, json!("yesterday"));
    assert_eq!(t, None);
    assert!(notes[0].contains("not a date-time"), "{notes:?}");
}

#[test]
fn airports_are_three_letters_upper_cased() {
    assert_eq!(run(airport, json!(" mxp ")), (Some("MXP".into()), vec![]));
    let (code, notes) = run(airport, json!("LFPG"));
    assert_eq!(code, None);
    assert!(
        notes[0].contains("not a 3-letter IATA airport code"),
        "{notes:?}"
    );
}

#[test]
fn longitude_first_coordinates_are_detected_when_they_can_be() {
    let mex = json!("-99.07209778,19.43630028");
    assert!(
        swapped_coordinates("c", Some(&mex))
            .unwrap()
            .contains("longitude,latitude")
    );
    // BCN's pair fits either order: nothing to say.
    assert_eq!(
        swapped_coordinates("c", Some(&json!("2.07845998,41.29710007"))),
        None
    );
    assert_eq!(swapped_coordinates("c", Some(&json!("19.43,-99.07"))), None);
}

#[test]
fn flags_may_be_strings() {
    assert_eq!(run(flag, json!("true")), (Some(true), vec![]));
    assert_eq!(run(flag, json!(false)), (Some(false), vec![]));
    assert_eq!(run(flag, json!("maybe")).0, None);
}
