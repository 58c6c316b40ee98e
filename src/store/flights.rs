//! Flights as the rest of the crate sees them in storage: what is known of each flight (its
//! [`FlightState`], learned from flight-status sources and carriers' event data), the AWBs seen
//! on it, and the per-(number, date) check schedule the flight poller claims with leases.
//! The rules that decide what a report changes are the domain's
//! ([`crate::domain::flight_state::reports`]).

use super::StoreError;
use super::rows::corrupt;
use crate::domain::{
    AirportCode, AwbNumber, FlightKey, FlightNumber, FlightReport, FlightSnapshot, FlightState,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// A subscribed flight number and date an instance has claimed for one check.
#[derive(Debug, Clone)]
pub struct ClaimedFlightCheck {
    pub number: FlightNumber,
    pub date: NaiveDate,
    /// When the first subscription asked for it (the demo source scripts from here).
    pub created_at: DateTime<Utc>,
    pub check_failures: u32,
}

/// The outcome of one check, written back atomically while the claim is still held.
#[derive(Debug, Clone)]
pub struct FlightCheckRecord {
    pub number: FlightNumber,
    pub date: NaiveDate,
    pub source: &'static str,
    pub checked_at: DateTime<Utc>,
    pub next_check_at: DateTime<Utc>,
    /// Consecutive failed checks, including this one (0 after a success).
    pub check_failures: u32,
    pub error: Option<String>,
    /// What the source reported: applied, and their changes queued, in the same transaction.
    pub reports: Vec<FlightReport>,
}

/// A flight as `GET /v1/flights` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightView {
    pub snapshot: FlightSnapshot,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// Where the latest facts came from: a flight-status source's or a carrier's name.
    pub source: Option<String>,
    /// The calling tenant's subscribed AWBs seen on this flight.
    pub awbs: Vec<AwbNumber>,
}

#[derive(sqlx::FromRow)]
pub(super) struct FlightViewRow {
    pub id: Uuid,
    pub number: String,
    pub date: NaiveDate,
    pub origin: String,
    pub state: Json<FlightState>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub source: Option<String>,
}

impl FlightViewRow {
    /// With `awbs`: `(flight id, awb)` pairs, of which this flight's are taken.
    pub fn into_view(self, awbs: &[(Uuid, String)]) -> Result<FlightView, StoreError> {
        let key = FlightKey {
            number: FlightNumber::parse(&self.number).map_err(corrupt)?,
            date: self.date,
            origin: AirportCode::parse(&self.origin).map_err(corrupt)?,
        };
        let awbs = awbs
            .iter()
            .filter(|(flight, _)| *flight == self.id)
            .map(|(_, awb)| AwbNumber::parse(awb).map_err(corrupt))
            .collect::<Result<_, _>>()?;
        Ok(FlightView {
            snapshot: FlightSnapshot::new(self.id, &key, &self.state.0),
            last_checked_at: self.last_checked_at,
            source: self.source,
            awbs,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CheckRow {
    pub number: String,
    pub date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub check_failures: i32,
}

impl TryFrom<CheckRow> for ClaimedFlightCheck {
    type Error = StoreError;

    fn try_from(row: CheckRow) -> Result<Self, StoreError> {
        Ok(Self {
            number: FlightNumber::parse(&row.number)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            date: row.date,
            created_at: row.created_at,
            check_failures: u32::try_from(row.check_failures).unwrap_or_default(),
        })
    }
}
