//! What a report about a flight does to the stored flight: whether it is written at all (a
//! flight-status source is the authority on a flight's times), the state after it and what
//! changed. Pure: the store applies these rules inside its transactions.

use super::{FlightChange, FlightReport, FlightSnapshot, FlightState};
use crate::domain::AwbNumber;
use uuid::Uuid;

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
pub fn should_write(
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
pub struct PlannedReport {
    pub state: FlightState,
    pub changes: Vec<FlightChange>,
    pub snapshot: FlightSnapshot,
}

/// The state after a report and what changed, for the flight stored as `id` with `old`.
pub fn plan_report(id: Uuid, old: &FlightState, report: &FlightReport) -> PlannedReport {
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
pub fn merge_by_flight(reports: &[FlightReport]) -> Vec<FlightReport> {
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
