//! What the carriers' readers share around their own reading of an answer: opening it (an
//! object, naming the AWB asked about) and closing it (each note once, and a [`Tracking`]
//! whose summary status Skyhook derives from the events). What an answer says is each
//! reader's own, beside its adapter; the lenient reading of single values is the domain's
//! `lenient`.

use crate::domain::normalize::{NormalizeError, Times, lenient};
use crate::domain::{AwbNumber, Tracking, TrackingEvent};
use serde_json::{Map, Value};

/// `value` as an object; `what` names it in the error when it is not one.
pub(super) fn object<'a>(
    what: &'static str,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, NormalizeError> {
    value
        .as_object()
        .ok_or(NormalizeError::NotAnObject { what })
}

/// Opens an answer about `awb` that names its AWB at `field`: the answer's object, and the
/// notes begun by checking that AWB (only another AWB is an error).
pub(super) fn open<'a>(
    what: &'static str,
    answer: &'a Value,
    field: &str,
    awb: &AwbNumber,
) -> Result<(&'a Map<String, Value>, Vec<String>), NormalizeError> {
    let root = object(what, answer)?;
    let mut notes = Vec::new();
    lenient::check_awb(field, awb, root.get(field), &mut notes)?;
    Ok((root, notes))
}

/// The shipment as a whole, as a carrier states it beside its events.
pub(super) struct Shipment {
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    /// Kilograms.
    pub weight: Option<f64>,
}

/// Closes the reading of an answer whose status is not one of the four summary states (a
/// carrier's own codes or scale), so Skyhook derives its own from the events: the times read
/// without an offset are noted once, and every note once.
pub(super) fn of_events(
    awb: &AwbNumber,
    shipment: Shipment,
    events: Vec<TrackingEvent>,
    times: Times,
    mut notes: Vec<String>,
) -> Tracking {
    times.report(&mut notes);
    lenient::dedup_notes(&mut notes);
    Tracking {
        origin: shipment.origin,
        destination: shipment.destination,
        pieces: shipment.pieces,
        weight: shipment.weight,
        ..Tracking::of_events(awb.clone(), events, notes)
    }
}
