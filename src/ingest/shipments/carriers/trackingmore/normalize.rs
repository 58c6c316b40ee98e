//! TrackingMore's `/trackings/aircargo` answer (seed 004) into [`Tracking`].
//!
//! One response carries several AWBs (`data`, keyed by track number); each entry has a list of
//! milestones (`track_info`) and a table of the flights they mention (`flight_info`, keyed by
//! flight number), which is joined back onto each milestone. TrackingMore writes every time
//! without an offset: they are read as UTC and noted once per entry.

use crate::domain::normalize::{NormalizeError, Times, lenient};
use crate::domain::{AwbNumber, EventFlight, Tracking, TrackingEvent};
use crate::ingest::shipments::carriers::reading::{self, Shipment};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Splits a response into its entries, each keyed by its track number. A `meta.code` other
/// than 200 (or 201, which TrackingMore's status table also lists as success) is TrackingMore
/// saying the whole request failed.
pub fn parse_trackingmore_response(body: &Value) -> Result<Vec<(String, Value)>, NormalizeError> {
    let root = reading::object("TrackingMore response", body)?;
    if let Some(meta) = root.get("meta") {
        let code = meta.get("code");
        let numeric = code.and_then(|c| c.as_i64().or_else(|| c.as_str()?.trim().parse().ok()));
        if !matches!(numeric, Some(200 | 201)) {
            return Err(NormalizeError::Rejected {
                code: code.map_or_else(|| "missing".to_owned(), lenient::show),
                message: meta.get("message").map(lenient::show).unwrap_or_default(),
            });
        }
    }
    match root.get("data") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(entries)) => Ok(entries
            .iter()
            .map(|(number, entry)| (number.clone(), entry.clone()))
            .collect()),
        // Other TrackingMore endpoints return a list; each entry names itself.
        Some(Value::Array(entries)) => Ok(entries
            .iter()
            .map(|entry| {
                let number = entry.get("track_number").map(lenient::show);
                (number.unwrap_or_default(), entry.clone())
            })
            .collect()),
        Some(_) => Err(NormalizeError::NotAnObject {
            what: "TrackingMore `data`",
        }),
    }
}

/// Normalises one `data` entry for `awb`. Only an entry that is not an object, or whose
/// `track_number` names a different AWB, is an error.
pub fn from_trackingmore(awb: &AwbNumber, item: &Value) -> Result<Tracking, NormalizeError> {
    let (item, mut notes) = reading::open("TrackingMore data entry", item, "track_number", awb)?;
    let empty = Map::new();
    let data = match item.get("return_data") {
        Some(Value::Object(data)) => data,
        other => {
            let raw = other.map_or_else(
                || "missing".to_owned(),
                |v| format!("`{}`", lenient::show(v)),
            );
            notes.push(format!("return_data {raw}: no tracking details"));
            &empty
        }
    };

    let mut times = Times::default();
    let flights = flight_table(data.get("flight_info"), &mut times, &mut notes);
    let events = match data.get("track_info") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| event(i, item, &flights, &mut times, &mut notes))
            .collect(),
        Some(other) => {
            notes.push(format!(
                "track_info `{}`: not a list; no events read",
                lenient::show(other)
            ));
            Vec::new()
        }
    };
    let shipment = Shipment {
        origin: lenient::airport("return_data.origin", data.get("origin"), &mut notes),
        destination: lenient::airport(
            "return_data.destination",
            data.get("destination"),
            &mut notes,
        ),
        pieces: lenient::count("return_data.piece", data.get("piece"), &mut notes),
        weight: lenient::weight_kg("return_data.weight", data.get("weight"), &mut notes),
    };
    // `status_number` is TrackingMore's own scale, not CargoAI's four states.
    Ok(reading::of_events(awb, shipment, events, times, notes))
}

/// `flight_info` by normalised flight number, each flight checked once for inverted legs.
fn flight_table(
    value: Option<&Value>,
    times: &mut Times,
    notes: &mut Vec<String>,
) -> HashMap<String, EventFlight> {
    let entries = match value {
        Some(Value::Object(entries)) => entries,
        None | Some(Value::Null) => return HashMap::new(),
        Some(other) => {
            notes.push(format!(
                "flight_info `{}`: not an object; left out",
                lenient::show(other)
            ));
            return HashMap::new();
        }
    };
    let mut table = HashMap::new();
    for (key, entry) in entries {
        let path = format!("flight_info.{key}");
        let Some(number) = lenient::flight_number(&path, Some(&Value::String(key.clone())), notes)
        else {
            continue;
        };
        let Some(m) = entry.as_object() else {
            notes.push(format!(
                "{path} `{}`: not an object; left out",
                lenient::show(entry)
            ));
            continue;
        };
        let field = |name: &str| format!("{path}.{name}");
        let flight = EventFlight {
            number: Some(number.clone()),
            origin: lenient::airport(&field("depart_station"), m.get("depart_station"), notes),
            destination: lenient::airport(
                &field("arrival_station"),
                m.get("arrival_station"),
                notes,
            ),
            scheduled_departure: times.read(
                &field("plan_depart_time"),
                m.get("plan_depart_time"),
                notes,
            ),
            estimated_departure: None,
            actual_departure: times.read(&field("depart_time"), m.get("depart_time"), notes),
            scheduled_arrival: times.read(
                &field("plan_arrival_time"),
                m.get("plan_arrival_time"),
                notes,
            ),
            estimated_arrival: None,
            actual_arrival: times.read(&field("arrival_time"), m.get("arrival_time"), notes),
        };
        lenient::check_flight_times(&path, &flight, notes);
        table.insert(number, flight);
    }
    table
}

fn event(
    index: usize,
    item: &Value,
    flights: &HashMap<String, EventFlight>,
    times: &mut Times,
    notes: &mut Vec<String>,
) -> Option<TrackingEvent> {
    let path = format!("track_info[{index}]");
    let obj = lenient::event_object(&path, item, notes)?;
    let field = |name: &str| format!("{path}.{name}");
    let (code, description) = lenient::code_and_description(&path, obj, ("status", "event"), notes);
    // An actual time makes the event a fact; a plan alone makes it a plan.
    let actual = times.read(&field("actual_date"), obj.get("actual_date"), notes);
    let planned = times.read(&field("plan_date"), obj.get("plan_date"), notes);
    let (event_date, is_planned) = match (actual, planned) {
        (Some(actual), _) => (Some(actual), false),
        (None, Some(plan)) => (Some(plan), true),
        (None, None) => (None, false),
    };
    let flight = lenient::flight_number(&field("flight_number"), obj.get("flight_number"), notes)
        .map(|number| {
            flights
                .get(&number)
                .cloned()
                .unwrap_or_else(|| EventFlight {
                    number: Some(number),
                    ..EventFlight::default()
                })
        });
    Some(TrackingEvent {
        code,
        description,
        event_date,
        event_location: lenient::airport(&field("station"), obj.get("station"), notes),
        is_planned,
        pieces: lenient::count(&field("piece"), obj.get("piece"), notes),
        weight: lenient::weight_kg(&field("weight"), obj.get("weight"), notes),
        volume: None,
        flight,
        event_ulds: Vec::new(),
        additional_information: None,
    })
}

#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;
