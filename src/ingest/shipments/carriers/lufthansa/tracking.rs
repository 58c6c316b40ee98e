//! Lufthansa's Shipment Tracking answer (`shipmentTrackingStatus`, from its developer
//! documentation and OpenAPI description) into [`Tracking`].
//!
//! - `shipment.shipmentId` (`carrierNumericCode` + `aWBNumber`) must be the AWB asked about;
//!   a re-used AWB number (`aWBSequenceNumber` above 0) is noted.
//! - `booking`: `origin` and `destination` are the shipment's; `totals` its pieces and weight.
//! - `milestonePlan.milestones.milestone[]` are the events: `type` the code, `station` the
//!   place. An `actualTime` makes an actual event; a milestone with only a `plannedTime` (or
//!   none) is a planned one (`isPlanned`), so a planned DLV is never a delivery. Pieces and
//!   weight are the sum of `actualTotals` (a shipment handled in parts lists several, kept in
//!   `additionalInformation.parts`), or `plannedTotals` for a plan.
//! - A milestone's `flight` becomes the event's flight, the same for every milestone on it:
//!   `flightCarrierCode` + `flightNumber`, segment origin and destination, the DEP milestone's
//!   times as its departure and the ARR milestone's as its arrival, and the estimated arrival
//!   of `flightMovementDetails` (`eta`, or `etaUTC`) when it names that flight.
//! - Top-level `events.event[]` add what the plan does not have (a DIS, a TOA): an event whose
//!   code and station a milestone already has is that milestone's.
//!
//! Times without an offset are read as UTC and noted once per answer.

use crate::domain::normalize::{NormalizeError, Times, describe_code, lenient};
use crate::domain::{AwbNumber, Tracking, TrackingEvent};
use crate::ingest::shipments::carriers::reading::{self, Shipment};
use chrono::{DateTime, FixedOffset};
use flights::{FlightKey, Flights};
use serde_json::{Map, Value, json};

/// Normalises one answer for `awb`. Only a body that is not an object, has no
/// `shipmentTrackingStatus`, or names another AWB, is an error.
pub fn from_lufthansa(awb: &AwbNumber, body: &Value) -> Result<Tracking, NormalizeError> {
    let root = reading::object("Lufthansa shipment tracking answer", body)?;
    let status = root
        .get("shipmentTrackingStatus")
        .ok_or(NormalizeError::Missing {
            what: "shipmentTrackingStatus",
        })?;
    let status = reading::object("shipmentTrackingStatus", status)?;
    let mut notes = Vec::new();
    check_shipment(awb, status.get("shipment"), &mut notes)?;

    let empty = Map::new();
    let booking = object("booking", status.get("booking"), &mut notes).unwrap_or(&empty);
    let origin = lenient::airport("booking.origin", booking.get("origin"), &mut notes);
    let destination = lenient::airport(
        "booking.destination",
        booking.get("destination"),
        &mut notes,
    );
    let totals = object("booking.totals", booking.get("totals"), &mut notes);
    let (pieces, weight) = totals.map_or((None, None), |t| total("booking.totals", t, &mut notes));

    let mut times = Times::default();
    let plan = status
        .get("milestonePlan")
        .and_then(|p| p.get("milestones"))
        .map(|m| m.get("milestone").unwrap_or(m));
    let milestones: Vec<Milestone> = list("milestonePlan.milestones.milestone", plan, &mut notes)
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            Milestone::read(&format!("milestone[{i}]"), item, &mut times, &mut notes)
        })
        .collect();
    let mut flights = Flights::of(&milestones);
    flights.estimate(status.get("flightMovementDetails"), &mut notes);
    flights.check(&mut notes);

    let mut events: Vec<TrackingEvent> = milestones.iter().map(|m| m.event(&flights)).collect();
    let listed = status.get("events").map(|e| e.get("event").unwrap_or(e));
    for (i, item) in list("events.event", listed, &mut notes).iter().enumerate() {
        let path = format!("events.event[{i}]");
        if let Some(event) = extra_event(&path, item, &milestones, &mut times, &mut notes) {
            events.push(event);
        }
    }
    let shipment = Shipment {
        origin,
        destination,
        pieces,
        weight,
    };
    // Lufthansa's `status` is a code (BKD, DEP, …), not one of the four summary states.
    Ok(reading::of_events(awb, shipment, events, times, notes))
}

/// The AWB the answer is about must be ours; a re-used number is worth a note.
fn check_shipment(
    awb: &AwbNumber,
    shipment: Option<&Value>,
    notes: &mut Vec<String>,
) -> Result<(), NormalizeError> {
    let id = shipment.and_then(|s| s.get("shipmentId"));
    let part = |name: &str, notes: &mut Vec<String>| {
        let value = id.and_then(|i| i.get(name));
        lenient::text(&format!("shipment.shipmentId.{name}"), value, notes)
    };
    let named = match (part("carrierNumericCode", notes), part("aWBNumber", notes)) {
        (Some(prefix), Some(number)) => Some(Value::String(format!("{prefix}{number}"))),
        _ => None,
    };
    lenient::check_awb("shipment.shipmentId", awb, named.as_ref(), notes)?;
    let field = "shipment.shipmentId.aWBSequenceNumber";
    let sequence = lenient::count(field, id.and_then(|i| i.get("aWBSequenceNumber")), notes);
    if let Some(sequence) = sequence.filter(|s| *s > 0) {
        notes.push(format!(
            "{field} {sequence}: Lufthansa has re-used this AWB number; this is its latest use"
        ));
    }
    Ok(())
}

/// One milestone of the plan, read once for its event and for its flight.
struct Milestone {
    code: String,
    station: Option<String>,
    planned: Option<DateTime<FixedOffset>>,
    actual: Option<DateTime<FixedOffset>>,
    pieces: Option<u32>,
    weight: Option<f64>,
    parts: Vec<Value>,
    flight: Option<FlightKey>,
}

impl Milestone {
    fn read(path: &str, item: &Value, times: &mut Times, notes: &mut Vec<String>) -> Option<Self> {
        let m = lenient::event_object(path, item, notes)?;
        let field = |name: &str| format!("{path}.{name}");
        let code = lenient::status_code(&field("type"), m.get("type"), notes);
        let actual = times.read(&field("actualTime"), m.get("actualTime"), notes);
        let planned = times.read(&field("plannedTime"), m.get("plannedTime"), notes);
        let (pieces, weight, parts) = if actual.is_some() {
            actual_totals(&field("actualTotals"), m.get("actualTotals"), notes)
        } else {
            let planned = object(&field("plannedTotals"), m.get("plannedTotals"), notes);
            let (pieces, weight) =
                planned.map_or((None, None), |t| total(&field("plannedTotals"), t, notes));
            (pieces, weight, Vec::new())
        };
        let flight = m
            .get("flight")
            .and_then(|f| FlightKey::read(&field("flight"), f, notes));
        Some(Self {
            code,
            station: lenient::airport(&field("station"), m.get("station"), notes),
            planned,
            actual,
            pieces,
            weight,
            parts,
            flight,
        })
    }

    fn event(&self, flights: &Flights) -> TrackingEvent {
        let info = (self.parts.len() > 1).then(|| json!({ "parts": self.parts }));
        TrackingEvent {
            description: describe_code(&self.code).map(str::to_owned),
            event_location: self.station.clone(),
            is_planned: self.actual.is_none(),
            pieces: self.pieces,
            weight: self.weight,
            flight: self.flight.as_ref().map(|key| flights.get(key)),
            additional_information: info,
            ..TrackingEvent::new(self.code.clone(), self.actual.or(self.planned))
        }
    }
}

/// `actualTotals`: one total per part handled; the event carries their sum.
fn actual_totals(
    path: &str,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> (Option<u32>, Option<f64>, Vec<Value>) {
    let mut pieces: Option<u32> = None;
    let mut weight: Option<f64> = None;
    let mut parts = Vec::new();
    for (i, item) in list(path, value, notes).iter().enumerate() {
        let Some(total_of) = object(&format!("{path}[{i}]"), Some(item), notes) else {
            continue;
        };
        let (p, w) = total(&format!("{path}[{i}]"), total_of, notes);
        pieces = p.map(|p| pieces.unwrap_or(0).saturating_add(p)).or(pieces);
        weight = w.map(|w| weight.unwrap_or(0.0) + w).or(weight);
        let complete = lenient::flag(
            &format!("{path}[{i}].isComplete"),
            total_of.get("isComplete"),
            notes,
        );
        parts.push(json!({"pieces": p, "weight": w, "isComplete": complete}));
    }
    (pieces, weight.filter(|w| w.is_finite()), parts)
}

/// `noOfPieces` (documented as text) and `weight` of a totals object.
fn total(
    path: &str,
    totals: &Map<String, Value>,
    notes: &mut Vec<String>,
) -> (Option<u32>, Option<f64>) {
    (
        lenient::count(
            &format!("{path}.noOfPieces"),
            totals.get("noOfPieces"),
            notes,
        ),
        lenient::weight_kg(&format!("{path}.weight"), totals.get("weight"), notes),
    )
}

/// A top-level event that the milestone plan does not already have, as an actual event.
fn extra_event(
    path: &str,
    item: &Value,
    milestones: &[Milestone],
    times: &mut Times,
    notes: &mut Vec<String>,
) -> Option<TrackingEvent> {
    let e = lenient::event_object(path, item, notes)?;
    let field = |name: &str| format!("{path}.{name}");
    let code = lenient::status_code(&field("type"), e.get("type"), notes);
    let station = lenient::airport(&field("station"), e.get("station"), notes);
    if milestones
        .iter()
        .any(|m| m.code == code && m.station == station)
    {
        return None;
    }
    let at = times.read(&field("actualTime"), e.get("actualTime"), notes);
    let (pieces, weight, _) = actual_totals(&field("actualTotals"), e.get("actualTotals"), notes);
    let mut info = Map::new();
    for name in ["category", "classifier"] {
        if let Some(text) = lenient::text(&field(name), e.get(name), notes) {
            info.insert(name.to_owned(), Value::String(text));
        }
    }
    Some(TrackingEvent {
        description: describe_code(&code).map(str::to_owned),
        event_location: station,
        pieces,
        weight,
        additional_information: (!info.is_empty()).then_some(Value::Object(info)),
        ..TrackingEvent::new(code, at)
    })
}

/// An object, or a note that it was not one.
fn object<'a>(
    path: &str,
    value: Option<&'a Value>,
    notes: &mut Vec<String>,
) -> Option<&'a Map<String, Value>> {
    match value? {
        Value::Null => None,
        Value::Object(fields) => Some(fields),
        other => {
            notes.push(format!(
                "{path} `{}`: not an object; left out",
                lenient::show(other)
            ));
            None
        }
    }
}

/// A list; a single object stands for a list of one (XML-born APIs write one element so).
fn list<'a>(path: &str, value: Option<&'a Value>, notes: &mut Vec<String>) -> &'a [Value] {
    match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        Some(other) => {
            notes.push(format!(
                "{path} `{}`: not a list; nothing read",
                lenient::show(other)
            ));
            &[]
        }
    }
}

mod flights;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;
