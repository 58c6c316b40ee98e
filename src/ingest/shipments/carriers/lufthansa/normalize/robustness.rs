//! Whatever Lufthansa pushes (or answers to a registration), the readers do not panic: a push
//! is refused with a [`NormalizeError`] or becomes an event the store and the diff can use.

use super::super::subscription_id;
use super::LufthansaPush;
use crate::domain::AwbNumber;
use crate::domain::TrackingEvent;
use crate::domain::normalize::arbitrary::{self, check_diffable};
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
    subscription_id(body);
    let Ok(push) = LufthansaPush::parse(body) else {
        return Ok(());
    };
    prop_assert!(!push.subscription_id.is_empty());
    let awb = AwbNumber::parse("020-08002050").expect("a valid AWB");
    if let Ok(pushed) = push.event_for(&awb) {
        let text = serde_json::to_string(&pushed.event).expect("an event serialises");
        let back: TrackingEvent = serde_json::from_str(&text).expect("an event reads back");
        prop_assert_eq!(
            &back,
            &pushed.event,
            "changed by a JSON round trip: {}",
            text
        );
        check_diffable(&[pushed.event])?;
    }
    Ok(())
}

arbitrary::read_or_refused!(read, example(), KEYS);
