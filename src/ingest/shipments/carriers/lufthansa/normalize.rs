//! A Lufthansa Cargo push (seed 002, "What we will send you") into one [`TrackingEvent`].
//!
//! A push is thin: `{subscriptionId, AWB, State, toaTimestamp, timestamp}`. `State` is the
//! status code; `timestamp` (when Lufthansa's backend received the status) is the event's date.
//! A `TOA` push announces a new time of availability: its event is dated `toaTimestamp` (the
//! new time, which is what changes) and replaces the previous TOA, so a re-sent TOA is nothing
//! new and a moved one is an update. Field names are matched without regard to case, times
//! without an offset are read as UTC and numbers as Unix time; each guess is noted.

use crate::domain::normalize::{NormalizeError, describe_code, lenient};
use crate::domain::{AwbNumber, TrackingEvent};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde_json::{Map, Value, json};

/// The code of a time-of-availability change.
pub const TOA: &str = "TOA";

/// A push, read far enough to find the shipment it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct LufthansaPush {
    /// Lufthansa's subscription id: which of our registrations the push is about.
    pub subscription_id: String,
    fields: Map<String, Value>,
}

/// The event a push means for a shipment.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedEvent {
    pub event: TrackingEvent,
    /// Replaces the stored event of the same code instead of adding another (TOA).
    pub replaces_previous: bool,
    pub anomalies: Vec<String>,
}

impl LufthansaPush {
    /// Reads the envelope. Only a body that is not an object, or names no subscription or no
    /// state, is unusable.
    pub fn parse(body: &Value) -> Result<Self, NormalizeError> {
        let fields = body
            .as_object()
            .ok_or(NormalizeError::NotAnObject {
                what: "Lufthansa push",
            })?
            .clone();
        let subscription_id = field(&fields, "subscriptionId")
            .and_then(|v| lenient::text("subscriptionId", Some(v), &mut Vec::new()))
            .ok_or(NormalizeError::Missing {
                what: "subscriptionId",
            })?;
        if field(&fields, "State")
            .and_then(|v| lenient::text("State", Some(v), &mut Vec::new()))
            .is_none()
        {
            return Err(NormalizeError::Missing { what: "State" });
        }
        Ok(Self {
            subscription_id,
            fields,
        })
    }

    /// The event for `awb`, the shipment the subscription id names. A push naming another AWB
    /// is refused; a missing or malformed AWB is noted.
    pub fn event_for(&self, awb: &AwbNumber) -> Result<PushedEvent, NormalizeError> {
        let mut notes = Vec::new();
        lenient::check_awb("AWB", awb, field(&self.fields, "AWB"), &mut notes)?;
        let code = lenient::status_code("State", field(&self.fields, "State"), &mut notes);
        let reported = time("timestamp", field(&self.fields, "timestamp"), &mut notes);
        let toa = time(
            "toaTimestamp",
            field(&self.fields, "toaTimestamp"),
            &mut notes,
        );
        let is_toa = code == TOA;
        let event_date = if is_toa {
            if toa.is_none() {
                notes.push(
                    "TOA push without toaTimestamp; dated by its timestamp instead".to_owned(),
                );
            }
            toa.or(reported)
        } else {
            reported
        };
        if event_date.is_none() {
            notes.push(format!(
                "{code} push without a usable timestamp; kept undated"
            ));
        }
        let mut info = Map::new();
        if let Some(at) = reported {
            info.insert("reportedAt".into(), json!(at));
        }
        if let Some(at) = toa {
            info.insert("timeOfAvailability".into(), json!(at));
        }
        lenient::dedup_notes(&mut notes);
        Ok(PushedEvent {
            event: TrackingEvent {
                description: describe_code(&code).map(str::to_owned),
                additional_information: (!info.is_empty()).then_some(Value::Object(info)),
                ..TrackingEvent::new(code, event_date)
            },
            replaces_previous: is_toa,
            anomalies: notes,
        })
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

/// A time written as text (RFC 3339 or naive, read as UTC) or as Unix seconds/milliseconds.
fn time(
    field: &str,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> Option<DateTime<FixedOffset>> {
    let Some(Value::Number(number)) = value else {
        return lenient::timestamp(field, value, notes);
    };
    let raw = number.as_i64()?;
    // Milliseconds since 1970 pass 10^11 in 1973; seconds will not before the year 5138.
    let parsed = if raw.abs() >= 100_000_000_000 {
        Utc.timestamp_millis_opt(raw).single()
    } else {
        Utc.timestamp_opt(raw, 0).single()
    };
    match parsed {
        Some(at) => {
            notes.push(format!("{field} `{raw}` read as Unix time (UTC)"));
            Some(at.fixed_offset())
        }
        None => {
            notes.push(format!("{field} `{raw}`: not a time; left out"));
            None
        }
    }
}

#[cfg(test)]
mod robustness;

#[cfg(test)]
mod tests {
    use super::*;

    fn awb() -> AwbNumber {
        AwbNumber::parse("020-08002050").unwrap()
    }

    fn push(body: Value) -> PushedEvent {
        LufthansaPush::parse(&body)
            .unwrap()
            .event_for(&awb())
            .unwrap()
    }

    #[test]
    fn a_status_push_is_an_event_dated_by_its_timestamp() {
        let pushed = push(json!({
            "subscriptionId": "6f1c", "AWB": "020-08002050", "State": "dep",
            "toaTimestamp": null, "timestamp": "2026-11-25T14:20:00+01:00"
        }));
        assert_eq!(pushed.event.code, "DEP");
        assert_eq!(pushed.event.description.as_deref(), Some("Departed"));
        assert_eq!(
            pushed.event.event_date.unwrap().to_rfc3339(),
            "2026-11-25T14:20:00+01:00"
        );
        assert!(!pushed.replaces_previous);
        assert!(pushed.anomalies.is_empty(), "{:?}", pushed.anomalies);
    }

    #[test]
    fn a_toa_push_is_dated_by_the_new_time_of_availability_and_replaces_the_last() {
        let pushed = push(json!({
            "subscriptionid": "6f1c", "awb": "02008002050", "state": "TOA",
            "toaTimestamp": "2026-11-26T09:00:00Z", "timestamp": "2026-11-25T20:00:00Z"
        }));
        assert_eq!(pushed.event.code, TOA);
        assert_eq!(
            pushed.event.event_date.unwrap().to_rfc3339(),
            "2026-11-26T09:00:00+00:00"
        );
        assert!(pushed.replaces_previous);
        let info = pushed.event.additional_information.unwrap();
        assert_eq!(info["timeOfAvailability"], "2026-11-26T09:00:00Z");
        assert_eq!(info["reportedAt"], "2026-11-25T20:00:00Z");
    }

    #[test]
    fn odd_times_are_read_leniently_and_noted() {
        let pushed = push(json!({
            "subscriptionId": "6f1c", "AWB": "020-08002050", "State": "RCS",
            "timestamp": 1_764_000_000_000_i64
        }));
        assert_eq!(
            pushed.event.event_date.unwrap().to_rfc3339(),
            "2025-11-24T16:00:00+00:00"
        );
        assert_eq!(pushed.anomalies.len(), 1, "{:?}", pushed.anomalies);
        let naive = push(json!({
            "subscriptionId": "6f1c", "State": "RCS", "timestamp": "2026-11-25 14:20:00"
        }));
        assert!(naive.event.event_date.is_some());
        assert_eq!(naive.anomalies.len(), 2, "AWB missing, no offset");
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
            other.event_for(&awb()),
            Err(NormalizeError::AwbMismatch { .. })
        ));
    }
}
