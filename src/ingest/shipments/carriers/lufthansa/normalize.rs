//! A Lufthansa Cargo push (seed 002, "What we will send you"), read as what it is: a notice
//! that the AWB has news, to be fetched from the Shipment Tracking API. Its
//! `{subscriptionId, AWB, State, toaTimestamp, timestamp}` is never stored as an event; only
//! the registration it names and the AWB it concerns are checked. Field names are matched
//! without regard to case.

use crate::domain::AwbNumber;
use crate::domain::normalize::{NormalizeError, lenient};
use crate::ingest::shipments::carriers::reading;
use serde_json::{Map, Value};

/// A push, read far enough to check whom it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct LufthansaPush {
    /// Lufthansa's subscription id: which registration the push is about.
    pub subscription_id: String,
    /// The status it announces (`DEP`, `TOA`, …), upper-cased; for the log only.
    pub state: String,
    fields: Map<String, Value>,
}

impl LufthansaPush {
    /// Reads the envelope. Only a body that is not an object, or names no subscription or no
    /// state, is unusable.
    pub fn parse(body: &Value) -> Result<Self, NormalizeError> {
        let fields = reading::object("Lufthansa push", body)?.clone();
        let text = |name: &'static str| {
            field(&fields, name)
                .and_then(|v| lenient::text(name, Some(v), &mut Vec::new()))
                .ok_or(NormalizeError::Missing { what: name })
        };
        let subscription_id = text("subscriptionId")?;
        let state = text("State")?.to_ascii_uppercase();
        Ok(Self {
            subscription_id,
            state,
            fields,
        })
    }

    /// Whether the push may be about `awb`, the shipment its registration names: only another
    /// AWB is refused; a missing or malformed one is taken to be it.
    pub fn check_awb(&self, awb: &AwbNumber) -> Result<(), NormalizeError> {
        lenient::check_awb("AWB", awb, field(&self.fields, "AWB"), &mut Vec::new())
    }
}

/// A field by name, in whatever case Lufthansa wrote it (`AWB`, `awb`, `subscriptionID`).
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

#[cfg(test)]
mod robustness;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn awb() -> AwbNumber {
        AwbNumber::parse("020-08002050").unwrap()
    }

    #[test]
    fn a_push_names_its_registration_and_state_in_whatever_case() {
        let push = LufthansaPush::parse(&json!({
            "subscriptionid": " 6f1c ", "awb": "02008002050", "state": "dep",
            "toaTimestamp": null, "timestamp": "2026-11-25T14:20:00+01:00"
        }))
        .unwrap();
        assert_eq!(push.subscription_id, "6f1c");
        assert_eq!(push.state, "DEP");
        assert_eq!(push.check_awb(&awb()), Ok(()));
        // Seed 002 writes the AWB with its dash too; a push without one is taken to be ours.
        let dashed = json!({"subscriptionId": "6f1c", "AWB": "020-08002050", "State": "TOA",
                            "toaTimestamp": "2026-11-26T09:00:00Z"});
        assert_eq!(
            LufthansaPush::parse(&dashed).unwrap().check_awb(&awb()),
            Ok(())
        );
        let bare = json!({"subscriptionId": "6f1c", "State": "RCS"});
        assert_eq!(
            LufthansaPush::parse(&bare).unwrap().check_awb(&awb()),
            Ok(())
        );
    }

    #[test]
    fn a_push_without_subscription_or_state_or_for_another_awb_is_refused() {
        for body in [
            json!({"AWB": "020-08002050", "State": "DEP"}),
            json!({"subscriptionId": "", "State": "DEP"}),
            json!({"subscriptionId": "6f1c"}),
            json!(["not", "an", "object"]),
        ] {
            assert!(LufthansaPush::parse(&body).is_err(), "{body}");
        }
        let other = LufthansaPush::parse(&json!({
            "subscriptionId": "6f1c", "AWB": "176-12345675", "State": "DEP"
        }))
        .unwrap();
        assert!(matches!(
            other.check_awb(&awb()),
            Err(NormalizeError::AwbMismatch { .. })
        ));
    }
}
