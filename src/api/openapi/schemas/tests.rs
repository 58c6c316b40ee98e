//! The document's patterns accept exactly what the parsers accept, on strings made of the
//! characters where they could disagree (digits, separators, every kind of whitespace, ASCII
//! and other letters).

use super::*;
use crate::domain::{AirportCode, AwbError, AwbNumber, FlightNumber, IdempotencyKey};
use proptest::prelude::*;
use regex::Regex;
use std::sync::LazyLock;

fn compiled(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern compiles")
}

/// Short strings over an alphabet that covers every branch of the parsers.
fn tricky(chars: &'static str, max: usize) -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = chars.chars().collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max)
        .prop_map(|chars| chars.into_iter().collect())
}

static AWB: LazyLock<Regex> = LazyLock::new(|| compiled(&awb_pattern()));
static FLIGHT_NUMBER: LazyLock<Regex> = LazyLock::new(|| compiled(&flight_number_pattern()));
static AIRPORT: LazyLock<Regex> = LazyLock::new(|| compiled(&airport_pattern()));
static IDEMPOTENCY_KEY: LazyLock<Regex> =
    LazyLock::new(|| compiled(crate::api::openapi::IDEMPOTENCY_KEY_PATTERN));

/// Designator, zeros, digits and suffix of every length around the limits, with whitespace.
fn near_flight_numbers() -> impl Strategy<Value = String> {
    (
        "[ \u{2003}\u{1c}]{0,1}",
        "[A-Za-z0-9é]{0,4}",
        "0{0,6}",
        "[0-9]{0,6}",
        "[A-Za-z1]{0,2}",
    )
        .prop_map(|(space, designator, zeros, digits, suffix)| {
            format!("{space}{designator}{space}{zeros}{digits}{suffix}{space}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_awb_pattern_is_what_awb_parse_takes_short_of_the_check_digit(
        awb in prop_oneof![
            "[ \t\u{3000}\u{1c}]{0,2}[0-9]{2,4}[- x]{0,2}[0-9]{7,9}[ \t\u{3000}\u{1c}]{0,2}",
            tricky("0123456789012345678901234567890123456789- \t\u{3000}\u{1c}x٣", 16),
        ]
    ) {
        let shape_ok = !matches!(
            AwbNumber::parse(&awb),
            Err(AwbError::NotDigits(_) | AwbError::Length { .. })
        );
        prop_assert_eq!(AWB.is_match(&awb), shape_ok, "{:?}", awb);
    }

    #[test]
    fn the_awb_pattern_matches_every_eleven_digit_shape(
        prefix in "[0-9]{3}", serial in "[0-9]{8}", separator in "(-| )?", space in "[ \t\u{3000}]{0,2}"
    ) {
        let awb = format!("{space}{prefix}{separator}{serial}{space}");
        prop_assert!(AWB.is_match(&awb), "{:?}", awb);
    }

    #[test]
    fn the_flight_number_pattern_is_what_flight_number_parse_takes(
        number in prop_oneof![
            near_flight_numbers(),
            tricky("LHlhDZ5X0001234567890 \u{2003}\u{1c}é-", 10),
        ]
    ) {
        prop_assert_eq!(
            FLIGHT_NUMBER.is_match(&number),
            FlightNumber::parse(&number).is_ok(),
            "{:?}", number
        );
    }

    #[test]
    fn the_airport_pattern_is_what_airport_parse_takes(code in tricky("FRAfraé1 \u{2003}\u{1c}", 6)) {
        prop_assert_eq!(
            AIRPORT.is_match(&code),
            AirportCode::parse(&code).is_ok(),
            "{:?}", code
        );
    }

    #[test]
    fn the_idempotency_key_pattern_is_what_the_key_parse_takes(
        key in tricky("a9-_\"\\ \t~!é\u{7f}", 8)
    ) {
        prop_assert_eq!(
            IDEMPOTENCY_KEY.is_match(&key),
            IdempotencyKey::parse(key.as_bytes()).is_ok(),
            "{:?}", key
        );
    }
}

proptest! {
    #[test]
    fn every_date_parse_flight_date_takes_matches_the_date_pattern(
        date in "[ ]?[+]?[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}[ ]?"
    ) {
        if crate::domain::parse_flight_date(&date).is_ok() {
            prop_assert!(compiled(&date_pattern()).is_match(&date), "{:?}", date);
        }
    }
}

#[test]
fn the_reference_pattern_refuses_exactly_control_characters() {
    let pattern = compiled(NO_CONTROLS);
    for c in ['\0', '\n', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}'] {
        assert!(!pattern.is_match(&format!("PO-{c}")), "{c:?}");
    }
    for text in ["PO-4711", "Auftrag ä/€", ""] {
        assert!(pattern.is_match(text), "{text:?}");
    }
}

#[test]
fn the_url_pattern_takes_absolute_http_urls_without_credentials_or_fragments() {
    let pattern = compiled(URL_PATTERN);
    for url in [
        "https://tms.example.com/hooks",
        "HTTP://10.0.0.1:8080",
        "http://h?x=@",
    ] {
        assert!(pattern.is_match(url), "{url}");
    }
    for url in [
        "ftp://h/",
        "https://u:p@h/",
        "https://h/#top",
        "/relative",
        "https://",
    ] {
        assert!(!pattern.is_match(url), "{url}");
    }
}
