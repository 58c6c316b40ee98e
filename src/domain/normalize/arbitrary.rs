//! Arbitrary JSON for the readers' robustness properties (a `cargo fuzz` stand-in that runs on
//! stable): whatever a source may send, either built from its format's field names or a real
//! example with parts replaced, so that the values reach past the first field check.

use crate::domain::diff;
use crate::domain::{Tracking, TrackingEvent};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Number, Value};

/// Texts that have tripped readers: units, offsets, impossible dates, numbers too large for
/// any type, AWBs with and without check digits, swapped coordinates, case-changing letters.
const TRICKY: &[&str] = &[
    "",
    " ",
    "1981K",
    "12.5 LBS",
    "3 pcs",
    "-3",
    "1e400",
    "NaN",
    "inf",
    "18446744073709551616",
    "2026-11-25T14:20:00+01:00",
    "2026-11-25T14:20:00",
    "2026-11-25 14:20",
    "2026-11-25",
    "2026-02-30T00:00:00Z",
    "2026-11-25T14:20:00+25:00",
    "9999-12-31T23:59:59-23:59",
    "+262143-12-31T23:59:59Z",
    "1764000000",
    "1764000000000",
    "lh 08160",
    "00768",
    "LH",
    "020-08002050",
    "02008002050",
    "000-11223345",
    "176-1234567",
    "FRA",
    "fra",
    "2.07845998,41.29710007",
    "41.29,2.07",
    "-999,999",
    "DEP",
    "TOA",
    "DLV",
    "true",
    "null",
    "Zürich",
    "ﬃ",
    "ǅ",
    "🛫",
    "\u{0}",
    "\u{202e}",
];

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        // Non-finite numbers cannot be written in JSON, so they cannot arrive either.
        1 => any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        3 => prop::sample::select(TRICKY).prop_map(|s| Value::String(s.to_owned())),
        1 => "[0-9.:+TZ -]{0,30}".prop_map(Value::String),
        1 => "[0-9]{300,330}(K|LB)?".prop_map(Value::String),
        1 => any::<String>().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, its objects keyed mostly by `keys` (the format's own field names).
pub(crate) fn value(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    let key = prop_oneof![
        4 => prop::sample::select(keys).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
    ]
    .boxed();
    leaf()
        .prop_recursive(4, 48, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..10)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// `example` with one to three of its parts (the whole included) replaced by arbitrary values.
pub(crate) fn mutated(example: Value, keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop::collection::vec((any::<Index>(), value(keys)), 1..=3)
        .prop_map(move |edits| {
            let mut doc = example.clone();
            for (at, replacement) in edits {
                let mut paths = Vec::new();
                pointers(&doc, String::new(), &mut paths);
                if let Some(part) = doc.pointer_mut(at.get(&paths).as_str()) {
                    *part = replacement;
                }
            }
            doc
        })
        .boxed()
}

/// JSON pointers to every part of `value`, the root (`""`) first.
fn pointers(value: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{here}/{i}"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{here}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// What a reader returns must be usable downstream: stored as JSON and read back unchanged
/// (the store keeps events as JSON payloads), and diffed against itself to nothing.
pub(crate) fn check_usable(tracking: &Tracking) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(tracking).expect("a tracking serialises");
    let back: Tracking = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("stored {text} reads back as {e}")))?;
    prop_assert_eq!(&back, tracking, "changed by a JSON round trip: {}", text);
    check_diffable(&tracking.events)
}

/// Events diffed into an empty store, then again against what that stored: nothing new.
pub(crate) fn check_diffable(events: &[TrackingEvent]) -> Result<(), TestCaseError> {
    let stored = crate::domain::testing::stored(events);
    let again = diff::diff(&stored, events);
    prop_assert!(again.is_empty(), "the same events twice: {:?}", again);
    Ok(())
}

/// The two robustness properties every reader has, 256 cases each: any JSON built from the
/// format's `$keys`, and `$example` (a real answer) with parts replaced, are each read or
/// refused by `$read` (a `fn(&Value) -> Result<(), TestCaseError>` that checks what it read),
/// never a panic.
macro_rules! read_or_refused {
    ($read:expr, $example:expr, $keys:expr) => {
        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

            #[test]
            fn any_json_is_read_or_refused(
                body in $crate::domain::normalize::arbitrary::value($keys)
            ) {
                $read(&body)?;
            }

            #[test]
            fn a_real_answer_with_parts_replaced_is_read_or_refused(
                body in $crate::domain::normalize::arbitrary::mutated($example, $keys)
            ) {
                $read(&body)?;
            }
        }
    };
}
pub(crate) use read_or_refused;
