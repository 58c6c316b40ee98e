//! The flight parts of an email: a `flight.updated` message as a summary of the flight and one
//! block of changes, each said in words.

use super::{Block, Document, time};
use crate::domain::FlightSnapshot;
use crate::domain::flight_state::describe;
use crate::domain::message::FlightUpdate;

/// `Flight LH8160 FRA → ORD, 2026-11-25`.
pub(super) fn title(flight: &FlightSnapshot) -> String {
    let route = super::route(Some(&flight.origin), flight.destination.as_deref())
        .unwrap_or_else(|| flight.origin.clone());
    format!("Flight {} {route}, {}", flight.number, flight.date)
}

fn status_label(flight: &FlightSnapshot) -> String {
    let status = flight.status.as_str();
    let mut label = status[..1].to_owned();
    label.push_str(&status[1..].to_ascii_lowercase());
    label
}

impl Document {
    /// Each update replaces the summary (the latest times win) and adds its changes.
    pub(super) fn add_flight_update(&mut self, update: &FlightUpdate) {
        let flight = &update.flight;
        self.title = Some(title(flight));
        self.section = "Flight updates";
        self.summary = vec![("Status", status_label(flight))];
        let t = &flight.times;
        let times = [
            (
                "Departure",
                t.scheduled_departure,
                t.estimated_departure,
                t.actual_departure,
            ),
            (
                "Arrival",
                t.scheduled_arrival,
                t.estimated_arrival,
                t.actual_arrival,
            ),
        ];
        for (label, scheduled, estimated, actual) in times {
            let parts: Vec<String> = [
                ("scheduled", scheduled),
                ("estimated", estimated),
                ("actual", actual),
            ]
            .into_iter()
            .filter_map(|(what, at)| at.map(|at| format!("{what} {}", time(&at))))
            .collect();
            if !parts.is_empty() {
                self.summary.push((label, parts.join(", ")));
            }
        }
        let words = describe(flight, &update.changes);
        self.events.push(Block {
            heading: update.summary.clone(),
            rows: words
                .lines
                .into_iter()
                .map(|line| ("Change", line))
                .collect(),
        });
    }
}
