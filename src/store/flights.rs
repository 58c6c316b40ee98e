//! Flights as the rest of the crate sees them in storage: what is known of each flight (its
//! [`FlightState`], learned from flight-status sources and carriers' event data), the AWBs seen
//! on it, and the per-(number, date) check schedule the flight poller claims with leases.
//! Both backends share these types and the rules in [`plan_report`].

use super::StoreError;
use crate::domain::{
    AirportCode, AwbNumber, FlightChange, FlightKey, FlightNumber, FlightReport, FlightSnapshot,
    FlightState,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
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
    pub email_batch_window: TimeDelta,
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

/// Where flight reports come from.
#[derive(Debug, Clone, Copy)]
pub enum ReportOrigin<'a> {
    /// A flight-status source's check: the flight's `last_checked_at` is recorded even when
    /// nothing changed.
    Check { source: &'a str },
    /// New events of a shipment: the AWB is linked to the flight.
    Shipment {
        carrier: &'a str,
        awb: &'a AwbNumber,
    },
}

impl ReportOrigin<'_> {
    pub fn is_check(&self) -> bool {
        matches!(self, Self::Check { .. })
    }

    /// What `GET /v1/flights` shows as the flight's `source`.
    pub fn source(&self) -> &str {
        match self {
            Self::Check { source } => source,
            Self::Shipment { carrier, .. } => carrier,
        }
    }
}

/// Whether a report is written to the stored flight (`None`: not stored yet). A source's
/// check always is (it records `last_checked_at`). A carrier's copy is only when it adds
/// something and no flight-status source follows the flight: the source is the authority on
/// a flight's times, and carriers' copies are often late or lack an offset, so letting both
/// write would flip the flight back and forth, a message each time.
pub(super) fn should_write(
    stored: Option<(&FlightState, bool)>,
    report: &FlightReport,
    origin: ReportOrigin<'_>,
) -> bool {
    match stored {
        None => true,
        Some(_) if origin.is_check() => true,
        Some((_, true)) => false,
        Some((old, false)) => !old.merged(report).changes_since(old).is_empty(),
    }
}

/// What applying one report to a stored flight means.
pub(super) struct PlannedReport {
    pub state: FlightState,
    pub changes: Vec<FlightChange>,
    pub snapshot: FlightSnapshot,
}

/// The state after a report and what changed, for the flight stored as `id` with `old`.
pub(super) fn plan_report(id: Uuid, old: &FlightState, report: &FlightReport) -> PlannedReport {
    let state = old.merged(report);
    PlannedReport {
        changes: state.changes_since(old),
        snapshot: FlightSnapshot::new(id, &report.key, &state),
        state,
    }
}

/// Several events of one poll often name the same flight; later ones are newer news. The
/// result is in key order, so transactions touching several flights lock them in one order
/// and cannot deadlock each other.
pub(super) fn merge_by_flight(reports: &[FlightReport]) -> Vec<FlightReport> {
    let mut merged: Vec<FlightReport> = Vec::new();
    for report in reports {
        match merged.iter_mut().find(|r| r.key == report.key) {
            Some(existing) => existing.absorb(report),
            None => merged.push(report.clone()),
        }
    }
    merged.sort_by(|a, b| {
        let key = |r: &FlightReport| {
            (
                r.key.number.to_string(),
                r.key.date,
                r.key.origin.as_str().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    merged
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
        let corrupt = |e: crate::domain::FlightError| StoreError::Corrupt(e.to_string());
        let key = FlightKey {
            number: FlightNumber::parse(&self.number).map_err(corrupt)?,
            date: self.date,
            origin: AirportCode::parse(&self.origin).map_err(corrupt)?,
        };
        let awbs = awbs
            .iter()
            .filter(|(flight, _)| *flight == self.id)
            .map(|(_, awb)| AwbNumber::parse(awb).map_err(|e| StoreError::Corrupt(e.to_string())))
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
