//! The one tracking model everything is stored and delivered in: the shape of CargoAI's
//! tracking update (seed 001). Every carrier's answer is normalised into it.

use super::AwbNumber;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// CargoAI's four summary states, in lifecycle order: the derived status never moves backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SummaryStatus {
    PendingDelivery,
    InTransit,
    AtDestination,
    Delivered,
}

impl SummaryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingDelivery => "PENDING_DELIVERY",
            Self::InTransit => "IN_TRANSIT",
            Self::AtDestination => "AT_DESTINATION",
            Self::Delivered => "DELIVERED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PendingDelivery,
            Self::InTransit,
            Self::AtDestination,
            Self::Delivered,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A shipment's tracking as one source reported it, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    pub awb: AwbNumber,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    /// Kilograms.
    pub weight: Option<f64>,
    /// Cubic metres.
    pub volume: Option<f64>,
    /// The status the source claimed, if any; Skyhook derives its own from the events.
    pub status: Option<SummaryStatus>,
    pub events: Vec<TrackingEvent>,
    /// What was odd in the source data and how it was handled, for people to read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
}

impl Tracking {
    /// A shipment known only by its events: everything else is derived or kept from what is
    /// stored.
    pub fn of_events(awb: AwbNumber, events: Vec<TrackingEvent>, anomalies: Vec<String>) -> Self {
        Self {
            awb,
            origin: None,
            destination: None,
            pieces: None,
            weight: None,
            volume: None,
            status: None,
            events,
            anomalies,
        }
    }
}

/// What is known of a shipment as a whole: its route, its totals and its summary status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentSummary {
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    pub weight: Option<f64>,
    pub volume: Option<f64>,
    pub status: SummaryStatus,
}

/// One milestone (seed 001 "tracking event").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingEvent {
    /// Status code as received (`DEP`, `ARR`, …); unknown codes are kept verbatim.
    pub code: String,
    pub description: Option<String>,
    /// When it happened (or is planned to), with the offset the source gave.
    pub event_date: Option<DateTime<FixedOffset>>,
    /// IATA code of the airport where it happened.
    pub event_location: Option<String>,
    pub is_planned: bool,
    pub pieces: Option<u32>,
    pub weight: Option<f64>,
    pub volume: Option<f64>,
    pub flight: Option<EventFlight>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ulds: Vec<Uld>,
    pub additional_information: Option<serde_json::Value>,
}

impl TrackingEvent {
    /// An event of which only the code and time are known yet; callers fill in the rest.
    pub fn new(code: impl Into<String>, event_date: Option<DateTime<FixedOffset>>) -> Self {
        Self {
            code: code.into(),
            description: None,
            event_date,
            event_location: None,
            is_planned: false,
            pieces: None,
            weight: None,
            volume: None,
            flight: None,
            event_ulds: Vec::new(),
            additional_information: None,
        }
    }
}

/// The flight an event concerns (seed 001 "tracking flight").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFlight {
    pub number: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub scheduled_departure: Option<DateTime<FixedOffset>>,
    pub estimated_departure: Option<DateTime<FixedOffset>>,
    pub actual_departure: Option<DateTime<FixedOffset>>,
    pub scheduled_arrival: Option<DateTime<FixedOffset>>,
    pub estimated_arrival: Option<DateTime<FixedOffset>>,
    pub actual_arrival: Option<DateTime<FixedOffset>>,
}

/// A kind of time with its departure and arrival, as [`EventFlight::time_pairs`] names them.
pub type TimePair = (
    &'static str,
    Option<DateTime<FixedOffset>>,
    Option<DateTime<FixedOffset>>,
);

impl EventFlight {
    /// Departure and arrival of each kind of time, named: scheduled, estimated, actual.
    pub fn time_pairs(&self) -> [TimePair; 3] {
        [
            (
                "scheduled",
                self.scheduled_departure,
                self.scheduled_arrival,
            ),
            (
                "estimated",
                self.estimated_departure,
                self.estimated_arrival,
            ),
            ("actual", self.actual_departure, self.actual_arrival),
        ]
    }

    /// Its six times: scheduled, estimated and actual departure, then the same for arrival.
    pub fn times(&self) -> [Option<DateTime<FixedOffset>>; 6] {
        [
            self.scheduled_departure,
            self.estimated_departure,
            self.actual_departure,
            self.scheduled_arrival,
            self.estimated_arrival,
            self.actual_arrival,
        ]
    }
}

/// Unit load devices on an event: how many and of which type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Uld {
    pub pieces: Option<u32>,
    pub uld: Option<String>,
}
