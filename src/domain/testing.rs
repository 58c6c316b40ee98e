//! Fixtures the domain's and the dispatcher's unit tests share: one way to write an event, a
//! time, a stored history and a shipment's summary, so that tests read as their cases.

use super::diff::{StoredEvent, diff};
use super::{AwbNumber, ShipmentSummary, SummaryStatus, TrackingEvent};
use chrono::{DateTime, FixedOffset};

/// The AWB of seed 001.
pub(crate) fn awb() -> AwbNumber {
    AwbNumber::parse("020-08002050").expect("a valid AWB")
}

pub(crate) fn at(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    Some(DateTime::parse_from_rfc3339(rfc3339).expect("test date"))
}

/// An actual event `code` at `place`, at `date` (RFC 3339).
pub(crate) fn event(code: &str, place: &str, date: &str) -> TrackingEvent {
    TrackingEvent {
        event_location: Some(place.to_owned()),
        ..TrackingEvent::new(code, at(date))
    }
}

/// What the store holds after `events` were first fetched.
pub(crate) fn stored(events: &[TrackingEvent]) -> Vec<StoredEvent> {
    diff(&[], events).new.into_iter().map(Into::into).collect()
}

/// A shipment from FRA to `destination`.
pub(crate) fn summary(
    destination: &str,
    pieces: Option<u32>,
    weight: Option<f64>,
    status: SummaryStatus,
) -> ShipmentSummary {
    ShipmentSummary {
        origin: Some("FRA".to_owned()),
        destination: Some(destination.to_owned()),
        pieces,
        weight,
        volume: None,
        status,
    }
}
