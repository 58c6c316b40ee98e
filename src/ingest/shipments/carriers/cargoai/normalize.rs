//! CargoAI's tracking object (seed 001; also the `events` of its booking callback, seed 003)
//! into [`Tracking`]. CargoAI's format *is* the model, so this is mostly reading leniently and
//! checking the examples' known slips: swapped coordinates, arrivals before departures, an
//! event-level copy of the flight date that disagrees with the flight, a wrong check digit.

use crate::domain::normalize::{NormalizeError, lenient};
use crate::domain::{AwbNumber, EventFlight, SummaryStatus, Tracking, TrackingEvent, Uld};
use crate::ingest::shipments::carriers::reading;
use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Map, Value};

/// An event dated further than this from its flight's scheduled departure is probably mistyped
/// (seed 001 books a 2025 flight with a 2023 date); bookings are rarely made further ahead.
const FAR_FROM_FLIGHT: TimeDelta = TimeDelta::days(180);

/// Normalises one CargoAI tracking object for `awb`. Only a body that is not an object, or that
/// names a different AWB, is an error; every other oddity is kept or dropped and noted.
pub fn from_cargoai(awb: &AwbNumber, body: &Value) -> Result<Tracking, NormalizeError> {
    let (root, mut notes) = reading::open("CargoAI tracking body", body, "awb", awb)?;

    // The booking callback calls the same thing `bookingStatus`.
    let (status_field, status_value) = match root.get("status") {
        Some(v) if !v.is_null() => ("status", Some(v)),
        _ => ("bookingStatus", root.get("bookingStatus")),
    };
    let status = lenient::text(status_field, status_value, &mut notes).and_then(|raw| {
        let parsed = SummaryStatus::parse(&raw);
        if parsed.is_none() {
            notes.push(format!(
                "{status_field} `{raw}`: not a known summary status; left out"
            ));
        }
        parsed
    });

    let origin = lenient::airport("origin", root.get("origin"), &mut notes);
    let destination = lenient::airport("destination", root.get("destination"), &mut notes);
    let pieces = lenient::count("pieces", root.get("pieces"), &mut notes);
    let weight = lenient::weight_kg("weight", root.get("weight"), &mut notes);
    let volume = lenient::number("volume", root.get("volume"), &mut notes);

    let events: Vec<TrackingEvent> = match root.get("events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| event(&format!("events[{i}]"), item, &mut notes))
            .collect(),
        Some(other) => {
            notes.push(format!(
                "events `{}`: not a list; no events read",
                lenient::show(other)
            ));
            Vec::new()
        }
    };
    check_flights(&events, &mut notes);
    if let Some(note) = first_swapped_coordinates("", body) {
        notes.push(format!("{note} (only the first such pair is noted)"));
    }
    lenient::dedup_notes(&mut notes);

    Ok(Tracking {
        awb: awb.clone(),
        origin,
        destination,
        pieces,
        weight,
        volume,
        status,
        events,
        anomalies: notes,
    })
}

fn event(path: &str, item: &Value, notes: &mut Vec<String>) -> Option<TrackingEvent> {
    let obj = lenient::event_object(path, item, notes)?;
    let field = |name: &str| format!("{path}.{name}");
    let (code, description) =
        lenient::code_and_description(path, obj, ("code", "description"), notes);
    let event_date = lenient::timestamp(&field("eventDate"), obj.get("eventDate"), notes);
    let flight = flight(path, obj, notes);
    if let Some((date, departure)) =
        event_date.zip(flight.as_ref().and_then(|f| f.scheduled_departure))
        && (date - departure).abs() > FAR_FROM_FLIGHT
    {
        notes.push(format!(
            "{path}.eventDate {} is more than {} days from its flight's scheduled departure {}; kept as given",
            date.to_rfc3339(),
            FAR_FROM_FLIGHT.num_days(),
            departure.to_rfc3339()
        ));
    }
    Some(TrackingEvent {
        code,
        description,
        event_date,
        event_location: lenient::airport(&field("eventLocation"), obj.get("eventLocation"), notes),
        is_planned: lenient::flag(&field("isPlanned"), obj.get("isPlanned"), notes)
            .unwrap_or(false),
        pieces: lenient::count(&field("pieces"), obj.get("pieces"), notes),
        weight: lenient::weight_kg(&field("weight"), obj.get("weight"), notes),
        volume: lenient::number(&field("volume"), obj.get("volume"), notes),
        flight,
        event_ulds: ulds(&field("eventUlds"), obj.get("eventUlds"), notes),
        additional_information: obj
            .get("additionalInformation")
            .filter(|v| has_content(v))
            .cloned(),
    })
}

/// The event's flight: the nested `flight` object, completed from the event-level copies of its
/// identity (`flightNumber`, `scheduledDepartureDate`, `origin`, `destination`), which are also
/// all there is when `flight` is missing. Where both are given and disagree the flight wins.
fn flight(path: &str, event: &Map<String, Value>, notes: &mut Vec<String>) -> Option<EventFlight> {
    let fp = format!("{path}.flight");
    let nested = match event.get("flight") {
        Some(Value::Object(m)) => Some(m),
        None | Some(Value::Null) => None,
        Some(other) => {
            notes.push(format!(
                "{fp} `{}`: not an object; left out",
                lenient::show(other)
            ));
            None
        }
    };
    let number = lenient::flight_number(
        &format!("{path}.flightNumber"),
        event.get("flightNumber"),
        notes,
    );
    let departure_field = format!("{path}.scheduledDepartureDate");
    let departure =
        lenient::timestamp(&departure_field, event.get("scheduledDepartureDate"), notes);
    if nested.is_none() && number.is_none() && departure.is_none() {
        return None;
    }

    let mut flight = nested
        .map(|m| nested_flight(&fp, m, notes))
        .unwrap_or_default();
    match (&flight.number, number) {
        (None, number) => flight.number = number,
        (Some(a), Some(b)) if *a != b => notes.push(format!(
            "{path}.flightNumber `{b}` disagrees with {fp}.number `{a}`; kept the flight's"
        )),
        _ => {}
    }
    match (flight.scheduled_departure, departure) {
        (None, departure) => flight.scheduled_departure = departure,
        (Some(a), Some(b)) if a != b => notes.push(format!(
            "{departure_field} {} disagrees with {fp}.scheduledDeparture {}; kept the flight's",
            b.to_rfc3339(),
            a.to_rfc3339()
        )),
        _ => {}
    }
    if flight.origin.is_none() {
        flight.origin = lenient::airport(&format!("{path}.origin"), event.get("origin"), notes);
    }
    if flight.destination.is_none() {
        flight.destination = lenient::airport(
            &format!("{path}.destination"),
            event.get("destination"),
            notes,
        );
    }
    Some(flight)
}

fn nested_flight(fp: &str, m: &Map<String, Value>, notes: &mut Vec<String>) -> EventFlight {
    let mut time = |name: &str| -> Option<DateTime<FixedOffset>> {
        lenient::timestamp(&format!("{fp}.{name}"), m.get(name), notes)
    };
    let (scheduled_departure, estimated_departure, actual_departure) = (
        time("scheduledDeparture"),
        time("estimatedDeparture"),
        time("actualDeparture"),
    );
    let (scheduled_arrival, estimated_arrival, actual_arrival) = (
        time("scheduledArrival"),
        time("estimatedArrival"),
        time("actualArrival"),
    );
    EventFlight {
        number: lenient::flight_number(&format!("{fp}.number"), m.get("number"), notes),
        origin: lenient::airport(&format!("{fp}.origin"), m.get("origin"), notes),
        destination: lenient::airport(&format!("{fp}.destination"), m.get("destination"), notes),
        scheduled_departure,
        estimated_departure,
        actual_departure,
        scheduled_arrival,
        estimated_arrival,
        actual_arrival,
    }
}

/// Whether a free-form value says anything: `null`, `""`, `{}` and `[]` do not.
fn has_content(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn ulds(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Vec<Uld> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            notes.push(format!(
                "{field} `{}`: not a list; left out",
                lenient::show(other)
            ));
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let path = format!("{field}[{i}]");
            let Some(obj) = item.as_object() else {
                notes.push(format!(
                    "{path} `{}`: not an object; left out",
                    lenient::show(item)
                ));
                return None;
            };
            let uld = Uld {
                pieces: lenient::count(&format!("{path}.pieces"), obj.get("pieces"), notes),
                uld: lenient::text(&format!("{path}.uld"), obj.get("uld"), notes)
                    .map(|u| u.to_ascii_uppercase()),
            };
            (uld.pieces.is_some() || uld.uld.is_some()).then_some(uld)
        })
        .collect()
}

/// Notes every inverted leg once per distinct flight: several events usually share one flight.
fn check_flights(events: &[TrackingEvent], notes: &mut Vec<String>) {
    let mut checked: Vec<&EventFlight> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if let Some(flight) = &event.flight
            && !checked.contains(&flight)
        {
            lenient::check_flight_times(&format!("events[{i}].flight"), flight, notes);
            checked.push(flight);
        }
    }
}

/// The first `…Coord` value anywhere in the body that is evidently longitude-first: one note
/// per body is enough, since the source writes them all the same way.
fn first_swapped_coordinates(path: &str, value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.ends_with("Coord") {
                lenient::swapped_coordinates(&here, Some(v))
            } else {
                first_swapped_coordinates(&here, v)
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_swapped_coordinates(&format!("{path}[{i}]"), v)),
        _ => None,
    }
}

#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;
