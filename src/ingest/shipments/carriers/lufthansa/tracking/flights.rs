//! The flights of a Lufthansa answer: each flight a milestone names, once, with the times its
//! DEP and ARR milestones and `flightMovementDetails` give it, so that every event on it carries
//! the same flight (the diff's identity of an event includes its flight).

use super::{Milestone, object};
use crate::domain::EventFlight;
use crate::domain::normalize::lenient;
use serde_json::{Map, Value};

/// A flight as milestones name it: its number and date, and the segment it flies.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FlightKey {
    number: String,
    date: Option<String>,
    origin: Option<String>,
    destination: Option<String>,
}

impl FlightKey {
    pub(super) fn read(path: &str, value: &Value, notes: &mut Vec<String>) -> Option<Self> {
        let f = object(path, Some(value), notes)?;
        let field = |name: &str| format!("{path}.{name}");
        let number = flight_number(path, f, notes)?;
        Some(Self {
            number,
            date: lenient::text(&field("flightDate"), f.get("flightDate"), notes),
            origin: lenient::airport(
                &field("flightSegmentOrigin"),
                f.get("flightSegmentOrigin"),
                notes,
            ),
            destination: lenient::airport(
                &field("flightSegmentDestination"),
                f.get("flightSegmentDestination"),
                notes,
            ),
        })
    }

    fn same_flight(&self, number: &str, date: Option<&str>) -> bool {
        self.number == number
            && (date.is_none() || self.date.is_none() || self.date.as_deref() == date)
    }
}

/// `flightCarrierCode` + `flightNumber` (`LH` + `8160`), unless the number already starts with
/// the carrier code.
fn flight_number(path: &str, f: &Map<String, Value>, notes: &mut Vec<String>) -> Option<String> {
    let code = lenient::flight_number(
        &format!("{path}.flightCarrierCode"),
        f.get("flightCarrierCode"),
        notes,
    )
    .unwrap_or_default();
    let number = lenient::flight_number(
        &format!("{path}.flightNumber"),
        f.get("flightNumber"),
        notes,
    )?;
    Some(if number.starts_with(&code) {
        number
    } else {
        format!("{code}{number}")
    })
}

/// Every flight the milestones name, with its times.
pub(super) struct Flights(Vec<(FlightKey, EventFlight)>);

impl Flights {
    pub(super) fn of(milestones: &[Milestone]) -> Self {
        let mut flights: Vec<(FlightKey, EventFlight)> = Vec::new();
        for m in milestones {
            let Some(key) = &m.flight else { continue };
            let at = match flights.iter().position(|(k, _)| k == key) {
                Some(at) => at,
                None => {
                    let flight = EventFlight {
                        number: Some(key.number.clone()),
                        origin: key.origin.clone(),
                        destination: key.destination.clone(),
                        ..EventFlight::default()
                    };
                    flights.push((key.clone(), flight));
                    flights.len() - 1
                }
            };
            let flight = &mut flights[at].1;
            match m.code.as_str() {
                "DEP" => {
                    flight.scheduled_departure = flight.scheduled_departure.or(m.planned);
                    flight.actual_departure = flight.actual_departure.or(m.actual);
                }
                "ARR" => {
                    flight.scheduled_arrival = flight.scheduled_arrival.or(m.planned);
                    flight.actual_arrival = flight.actual_arrival.or(m.actual);
                }
                _ => {}
            }
        }
        Self(flights)
    }

    /// `flightMovementDetails`: the estimated arrival of the flight it names.
    pub(super) fn estimate(&mut self, details: Option<&Value>, notes: &mut Vec<String>) {
        let path = "flightMovementDetails";
        let Some(d) = details.and_then(|d| object(path, Some(d), notes)) else {
            return;
        };
        let Some(number) = flight_number(path, d, notes) else {
            return;
        };
        let date = lenient::text(&format!("{path}.flightDate"), d.get("flightDate"), notes);
        // `eta` is local time: only with its offset is it better than `etaUTC`, which is UTC
        // whether or not it says so.
        let time = |name: &str, notes: &mut Vec<String>| {
            lenient::timestamp_parts(&format!("{path}.{name}"), d.get(name), notes)
        };
        let local = time("eta", notes).filter(|(_, offset_missing)| !offset_missing);
        let Some((eta, _)) = local.or_else(|| time("etaUTC", notes)) else {
            return;
        };
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.same_flight(&number, date.as_deref()))
        {
            Some((_, flight)) => flight.estimated_arrival = Some(eta),
            None => notes.push(format!(
                "{path} names flight {number}, which no milestone has; its eta is left out"
            )),
        }
    }

    /// Notes a flight whose arrival comes before its departure; the times are kept.
    pub(super) fn check(&self, notes: &mut Vec<String>) {
        for (key, flight) in &self.0 {
            lenient::check_flight_times(&format!("flight {}", key.number), flight, notes);
        }
    }

    pub(super) fn get(&self, key: &FlightKey) -> EventFlight {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    }
}
