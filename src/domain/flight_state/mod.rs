//! What Skyhook knows about one flight's schedule and progress, how a report from a flight
//! source or from a carrier's event data changes it, and the changes subscribers are told
//! about (each a field with its old and new value). Times keep the offset they were reported
//! with, so they can be shown in local time at the airport.

pub mod reports;
mod words;

pub use words::{FlightSummary, describe};

use super::{AirportCode, EventFlight, FlightNumber};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

pub type FlightTime = DateTime<FixedOffset>;

/// Builds the [`FlightChange`] of one time field.
type TimeChange = fn(Change<FlightTime>) -> FlightChange;

/// An estimate this much later than the schedule makes a flight `DELAYED`; less is noise.
pub const DELAY_THRESHOLD: TimeDelta = TimeDelta::minutes(15);

/// The identity of a flight: designator + number, scheduled departure date (local at the
/// origin) and origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlightKey {
    pub number: FlightNumber,
    pub date: NaiveDate,
    pub origin: AirportCode,
}

impl fmt::Display for FlightKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.number, self.date, self.origin.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlightStatus {
    Scheduled,
    Delayed,
    Departed,
    Arrived,
    Cancelled,
}

impl FlightStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDULED",
            Self::Delayed => "DELAYED",
            Self::Departed => "DEPARTED",
            Self::Arrived => "ARRIVED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Nothing more will happen to the flight: its subscriptions complete.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Arrived | Self::Cancelled)
    }
}

/// Scheduled, estimated and actual gate times. In a [`FlightReport`], `None` means "not
/// reported", never "cleared".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightTimes {
    pub scheduled_departure: Option<FlightTime>,
    pub estimated_departure: Option<FlightTime>,
    pub actual_departure: Option<FlightTime>,
    pub scheduled_arrival: Option<FlightTime>,
    pub estimated_arrival: Option<FlightTime>,
    pub actual_arrival: Option<FlightTime>,
}

/// Everything Skyhook knows of a flight beyond its key; stored as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightState {
    pub destination: Option<String>,
    #[serde(flatten)]
    pub times: FlightTimes,
    #[serde(default)]
    pub cancelled: bool,
}

/// What one source said about a flight at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightReport {
    pub key: FlightKey,
    pub destination: Option<AirportCode>,
    pub times: FlightTimes,
    /// `None` when the source does not say.
    pub cancelled: Option<bool>,
}

/// One field that changed, with its old and new value: the `changes` of `flight.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "camelCase")]
pub enum FlightChange {
    ScheduledDeparture(Change<FlightTime>),
    EstimatedDeparture(Change<FlightTime>),
    ActualDeparture(Change<FlightTime>),
    ScheduledArrival(Change<FlightTime>),
    EstimatedArrival(Change<FlightTime>),
    ActualArrival(Change<FlightTime>),
    /// A diversion when both are known; the first destination learned otherwise.
    Destination(Change<String>),
    Status(Change<FlightStatus>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub old: Option<T>,
    pub new: Option<T>,
}

impl FlightState {
    pub fn status(&self) -> FlightStatus {
        let t = &self.times;
        let late = |estimated: Option<FlightTime>, scheduled: Option<FlightTime>| matches!((estimated, scheduled), (Some(e), Some(s)) if e - s >= DELAY_THRESHOLD);
        if self.cancelled {
            FlightStatus::Cancelled
        } else if t.actual_arrival.is_some() {
            FlightStatus::Arrived
        } else if t.actual_departure.is_some() {
            FlightStatus::Departed
        } else if late(t.estimated_departure, t.scheduled_departure)
            || late(t.estimated_arrival, t.scheduled_arrival)
        {
            FlightStatus::Delayed
        } else {
            FlightStatus::Scheduled
        }
    }

    /// The state after `report`: what it reports replaces what was known, what it leaves out
    /// is kept (a source that omits the schedule today has not unscheduled the flight).
    pub fn merged(&self, report: &FlightReport) -> Self {
        let pick = |new: Option<FlightTime>, old: Option<FlightTime>| new.or(old);
        let (r, o) = (&report.times, &self.times);
        Self {
            destination: report
                .destination
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .or_else(|| self.destination.clone()),
            times: FlightTimes {
                scheduled_departure: pick(r.scheduled_departure, o.scheduled_departure),
                estimated_departure: pick(r.estimated_departure, o.estimated_departure),
                actual_departure: pick(r.actual_departure, o.actual_departure),
                scheduled_arrival: pick(r.scheduled_arrival, o.scheduled_arrival),
                estimated_arrival: pick(r.estimated_arrival, o.estimated_arrival),
                actual_arrival: pick(r.actual_arrival, o.actual_arrival),
            },
            cancelled: report.cancelled.unwrap_or(self.cancelled),
        }
    }

    /// Every field that differs from `old`, times compared as instants (a source switching
    /// from UTC to local time has not moved the flight), then the status if it changed.
    pub fn changes_since(&self, old: &Self) -> Vec<FlightChange> {
        let mut changes = Vec::new();
        let (n, o) = (&self.times, &old.times);
        let times: [(TimeChange, _, _); 6] = [
            (
                FlightChange::ScheduledDeparture,
                o.scheduled_departure,
                n.scheduled_departure,
            ),
            (
                FlightChange::EstimatedDeparture,
                o.estimated_departure,
                n.estimated_departure,
            ),
            (
                FlightChange::ActualDeparture,
                o.actual_departure,
                n.actual_departure,
            ),
            (
                FlightChange::ScheduledArrival,
                o.scheduled_arrival,
                n.scheduled_arrival,
            ),
            (
                FlightChange::EstimatedArrival,
                o.estimated_arrival,
                n.estimated_arrival,
            ),
            (
                FlightChange::ActualArrival,
                o.actual_arrival,
                n.actual_arrival,
            ),
        ];
        for (variant, old, new) in times {
            if old != new {
                changes.push(variant(Change { old, new }));
            }
        }
        if self.destination != old.destination {
            changes.push(FlightChange::Destination(Change {
                old: old.destination.clone(),
                new: self.destination.clone(),
            }));
        }
        let (before, after) = (old.status(), self.status());
        if before != after {
            changes.push(FlightChange::Status(Change {
                old: Some(before),
                new: Some(after),
            }));
        }
        changes
    }

    /// Times at which news is expected but not yet reported, for the check schedule.
    pub fn pending_milestones(&self) -> Vec<DateTime<Utc>> {
        if self.cancelled {
            return Vec::new();
        }
        let t = &self.times;
        let departure = t
            .actual_departure
            .is_none()
            .then(|| t.estimated_departure.or(t.scheduled_departure))
            .flatten();
        let arrival = t
            .actual_arrival
            .is_none()
            .then(|| t.estimated_arrival.or(t.scheduled_arrival))
            .flatten();
        [departure, arrival]
            .into_iter()
            .flatten()
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }
}

impl FlightReport {
    /// Folds a newer report about the same flight into this one: what it reports wins.
    pub fn absorb(&mut self, newer: &FlightReport) {
        let times = FlightState {
            destination: None,
            times: self.times.clone(),
            cancelled: false,
        }
        .merged(newer)
        .times;
        self.times = times;
        if newer.destination.is_some() {
            self.destination = newer.destination.clone();
        }
        if newer.cancelled.is_some() {
            self.cancelled = newer.cancelled;
        }
    }

    /// The flight a carrier's event names, if it names enough to identify one: a readable
    /// number, an origin and a departure time giving the date. Carriers' flight objects are
    /// often partial; what cannot be identified is skipped rather than guessed (the event's
    /// location is no stand-in for the origin: an arrival happens at the destination).
    pub fn from_event_flight(flight: &EventFlight) -> Option<Self> {
        let number = FlightNumber::parse(flight.number.as_deref()?).ok()?;
        let origin = AirportCode::parse(flight.origin.as_deref()?).ok()?;
        let departure = flight
            .scheduled_departure
            .or(flight.estimated_departure)
            .or(flight.actual_departure)?;
        Some(Self {
            key: FlightKey {
                number,
                date: departure.date_naive(),
                origin,
            },
            destination: flight
                .destination
                .as_deref()
                .and_then(|d| AirportCode::parse(d).ok()),
            times: FlightTimes {
                scheduled_departure: flight.scheduled_departure,
                estimated_departure: flight.estimated_departure,
                actual_departure: flight.actual_departure,
                scheduled_arrival: flight.scheduled_arrival,
                estimated_arrival: flight.estimated_arrival,
                actual_arrival: flight.actual_arrival,
            },
            cancelled: None,
        })
    }
}

/// A flight as the API and `flight.updated` messages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightSnapshot {
    #[serde(rename = "flightUUID")]
    pub flight_uuid: uuid::Uuid,
    pub number: String,
    pub date: NaiveDate,
    pub origin: String,
    pub destination: Option<String>,
    #[serde(flatten)]
    pub times: FlightTimes,
    pub status: FlightStatus,
}

impl FlightSnapshot {
    pub fn new(id: uuid::Uuid, key: &FlightKey, state: &FlightState) -> Self {
        Self {
            flight_uuid: id,
            number: key.number.to_string(),
            date: key.date,
            origin: key.origin.as_str().to_owned(),
            destination: state.destination.clone(),
            times: state.times.clone(),
            status: state.status(),
        }
    }
}

#[cfg(test)]
mod tests;
