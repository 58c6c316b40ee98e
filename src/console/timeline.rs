//! What the console shows of a shipment and of a flight: the timeline (every event in order,
//! planned and actual apart, withdrawn ones kept and marked), the anomalies, the route picture,
//! and a flight's times. Built from the same store views as `GET /v1/shipments/{awb}` and
//! `GET /v1/flights/{id}`.

use super::page::{local, utc, utc_or_dash};
use super::route_picture::RoutePicture;
use crate::domain::TrackingEvent;
use crate::domain::diff::StoredEvent;
use crate::domain::flight_state::FlightTime;
use crate::domain::route::Route;
use crate::store::{FlightView, ShipmentView};

/// A shipment as the console shows it.
pub struct ShipmentPanel {
    pub awb: String,
    pub status: String,
    pub origin: String,
    pub destination: String,
    /// `3 pieces · 120.5 kg · 0.8 m³`, or empty.
    pub totals: String,
    pub carrier: String,
    pub sandbox: bool,
    pub last_checked: String,
    pub next_check: String,
    pub last_error: Option<String>,
    pub pushes: u32,
    pub events: Vec<EventRow>,
    pub anomalies: Vec<String>,
    pub route: RoutePicture,
}

/// One line of the timeline.
pub struct EventRow {
    pub code: String,
    pub description: String,
    pub when: String,
    pub station: String,
    pub flight: String,
    pub totals: String,
    pub planned: bool,
    pub withdrawn: bool,
}

impl EventRow {
    /// `event planned withdrawn`: the classes the stylesheet (and the browser tests) read.
    pub fn classes(&self) -> String {
        let mut classes = vec!["event", if self.planned { "planned" } else { "actual" }];
        if self.withdrawn {
            classes.push("withdrawn");
        }
        classes.join(" ")
    }
}

impl ShipmentPanel {
    pub fn of(view: ShipmentView, sandbox: bool) -> Self {
        let mut events = view.events;
        in_time_order(&mut events);
        let current: Vec<TrackingEvent> = events
            .iter()
            .filter(|stored| !stored.withdrawn)
            .map(|stored| stored.event.clone())
            .collect();
        let summary = &view.summary;
        let route = Route::of(summary, &current);
        Self {
            awb: view.awb.to_string(),
            status: summary.status.as_str().to_owned(),
            origin: summary.origin.clone().unwrap_or_default(),
            destination: summary.destination.clone().unwrap_or_default(),
            totals: totals(summary.pieces, summary.weight, summary.volume),
            carrier: view.carrier.unwrap_or_else(|| "—".to_owned()),
            sandbox,
            last_checked: utc_or_dash(view.last_checked_at),
            next_check: utc(view.next_poll_at),
            last_error: view.last_error,
            pushes: view.push_count,
            events: events.into_iter().map(EventRow::of).collect(),
            anomalies: view.anomalies,
            route: RoutePicture::of(&route),
        }
    }
}

impl EventRow {
    fn of(stored: StoredEvent) -> Self {
        let event = stored.event;
        let flight = event
            .flight
            .as_ref()
            .map(|f| {
                let legs = match (&f.origin, &f.destination) {
                    (Some(o), Some(d)) => format!(" {o}→{d}"),
                    _ => String::new(),
                };
                format!("{}{legs}", f.number.clone().unwrap_or_default())
            })
            .unwrap_or_default();
        Self {
            description: event
                .description
                .clone()
                .or_else(|| crate::domain::normalize::describe_code(&event.code).map(str::to_owned))
                .unwrap_or_default(),
            when: event
                .event_date
                .map(local)
                .unwrap_or_else(|| "—".to_owned()),
            station: event.event_location.clone().unwrap_or_default(),
            totals: totals(event.pieces, event.weight, event.volume),
            planned: event.is_planned,
            withdrawn: stored.withdrawn,
            code: event.code,
            flight,
        }
    }
}

/// In the order things happen(ed), by instant; events without a time after all the others,
/// and events at the same instant in the order they were stored (the sort is stable).
fn in_time_order(events: &mut [StoredEvent]) {
    events.sort_by_key(|stored| {
        let at = stored.event.event_date;
        (at.is_none(), at)
    });
}

fn totals(pieces: Option<u32>, weight: Option<f64>, volume: Option<f64>) -> String {
    [
        pieces.map(|p| format!("{p} pieces")),
        weight.map(|w| format!("{w} kg")),
        volume.map(|v| format!("{v} m³")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

/// A flight as the console shows it, with the tenant's AWBs on it.
pub struct FlightPanel {
    pub id: String,
    pub number: String,
    pub date: String,
    pub origin: String,
    pub destination: String,
    pub status: String,
    /// `(what, departure, arrival)`: scheduled, estimated, actual.
    pub times: Vec<(&'static str, String, String)>,
    pub last_checked: String,
    pub source: String,
    pub awbs: Vec<String>,
}

impl FlightPanel {
    pub fn of(view: FlightView) -> Self {
        let flight = view.snapshot;
        let t = &flight.times;
        let show = |time: Option<FlightTime>| time.map(local).unwrap_or_else(|| "—".to_owned());
        Self {
            id: flight.flight_uuid.to_string(),
            number: flight.number,
            date: flight.date.to_string(),
            origin: flight.origin,
            destination: flight.destination.unwrap_or_else(|| "—".to_owned()),
            status: flight.status.as_str().to_owned(),
            times: vec![
                (
                    "Scheduled",
                    show(t.scheduled_departure),
                    show(t.scheduled_arrival),
                ),
                (
                    "Estimated",
                    show(t.estimated_departure),
                    show(t.estimated_arrival),
                ),
                ("Actual", show(t.actual_departure), show(t.actual_arrival)),
            ],
            last_checked: utc_or_dash(view.last_checked_at),
            source: view.source.unwrap_or_else(|| "—".to_owned()),
            awbs: view.awbs.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn stored(code: &str, at: Option<&str>) -> StoredEvent {
        StoredEvent {
            fingerprint: code.to_owned(),
            event: TrackingEvent::new(code, at.map(|t| DateTime::parse_from_rfc3339(t).unwrap())),
            withdrawn: false,
        }
    }

    #[test]
    fn events_are_in_time_order_with_the_undated_last() {
        let mut events = vec![
            stored("NFD", None),
            stored("ARR", Some("2026-12-01T13:00:00+04:00")),
            stored("DEP", Some("2026-12-01T09:00:00+01:00")),
            stored("RCS", Some("2026-12-01T07:00:00+01:00")),
            stored("MAN", Some("2026-12-01T06:00:00Z")),
        ];
        in_time_order(&mut events);
        let codes: Vec<&str> = events.iter().map(|e| e.event.code.as_str()).collect();
        // 06:00Z and 07:00+01:00 are the same instant: stored order decides.
        assert_eq!(codes, ["RCS", "MAN", "DEP", "ARR", "NFD"]);
    }
}
