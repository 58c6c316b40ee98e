//! The shipment parts of an email: one block per new event, with its time, flight, pieces and
//! weight.

use super::{Block, Tone, description, kg, non_blank, place, route};
use crate::domain::display::local;
use crate::domain::{EventFlight, TrackingEvent};

pub(super) fn event_block(event: &TrackingEvent) -> Block {
    let mut heading = match place(event) {
        Some(place) => format!("{} {place}", event.code.trim()),
        None => event.code.trim().to_owned(),
    };
    if let Some(description) = description(event) {
        heading.push_str(&format!(" · {description}"));
    }
    let mut rows = Vec::new();
    if let Some(t) = &event.event_date {
        rows.push(("Time", local(*t)));
    }
    if let Some(flight) = &event.flight {
        flight_rows(flight, &mut rows);
    }
    if let Some(pieces) = event.pieces {
        rows.push(("Pieces", pieces.to_string()));
    }
    if let Some(weight) = event.weight {
        rows.push(("Weight", kg(weight)));
    }
    Block {
        heading,
        planned: event.is_planned,
        tone: Tone::of_event(event),
        rows,
    }
}

fn flight_rows(flight: &EventFlight, rows: &mut Vec<(&'static str, String)>) {
    let route = route(flight.origin.as_deref(), flight.destination.as_deref());
    let line: Vec<&str> = [non_blank(flight.number.as_deref()), route.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !line.is_empty() {
        rows.push(("Flight", line.join(" ")));
    }
    for (kind, departure, arrival) in flight.time_pairs() {
        let label = match kind {
            "scheduled" => "Scheduled",
            "estimated" => "Estimated",
            _ => "Actual",
        };
        let parts: Vec<String> = [("departure", departure), ("arrival", arrival)]
            .into_iter()
            .filter_map(|(what, t)| t.map(|t| format!("{what} {}", local(t))))
            .collect();
        if !parts.is_empty() {
            rows.push((label, parts.join(", ")));
        }
    }
}
