//! Whatever Lufthansa pushes (or answers to a registration), the readers do not panic: a push
//! is refused with a [`NormalizeError`](crate::domain::normalize::NormalizeError) or read with a
//! subscription id and a state.

use super::super::subscribe::subscription_id;
use super::LufthansaPush;
use crate::domain::AwbNumber;
use crate::domain::normalize::arbitrary;
use proptest::prelude::*;
use serde_json::{Value, json};

const KEYS: &[&str] = &[
    "subscriptionId",
    "subscriptionid",
    "AWB",
    "awb",
    "State",
    "state",
    "toaTimestamp",
    "timestamp",
];

fn example() -> Value {
    json!({
        "subscriptionId": "6f1c", "AWB": "020-08002050", "State": "TOA",
        "toaTimestamp": "2026-11-26T09:00:00Z", "timestamp": "2026-11-25T20:00:00Z"
    })
}

fn read(body: &Value) -> Result<(), TestCaseError> {
    if let Some(id) = subscription_id(body) {
        prop_assert!(!id.is_empty() && !id.contains('\0'));
    }
    let Ok(push) = LufthansaPush::parse(body) else {
        return Ok(());
    };
    prop_assert!(!push.subscription_id.is_empty());
    prop_assert!(!push.state.is_empty());
    let awb = AwbNumber::parse("020-08002050").expect("a valid AWB");
    let _ = push.check_awb(&awb);
    Ok(())
}

arbitrary::read_or_refused!(read, example(), KEYS);
