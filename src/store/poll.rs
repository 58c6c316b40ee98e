//! What the pollers and pushes exchange with the store about shipments: a claimed shipment,
//! the outcome of one poll written back under its claim, and the shipment as the API shows it.

use crate::domain::diff::StoredEvent;
use crate::domain::message::ShipmentChange;
use crate::domain::{AwbNumber, ShipmentSummary, SummaryStatus};
use chrono::{DateTime, Utc};

/// A shipment an instance has claimed for one poll, with what is already known about it.
#[derive(Debug, Clone)]
pub struct ClaimedShipment {
    pub awb: AwbNumber,
    /// When Skyhook started tracking it.
    pub created_at: DateTime<Utc>,
    pub status: SummaryStatus,
    pub poll_failures: u32,
    pub events: Vec<StoredEvent>,
    /// What a push carrier calls this shipment (Lufthansa's subscription id), once registered.
    pub carrier_ref: Option<String>,
    /// When the push carrier last confirmed the registration; `None` with a `carrier_ref` for a
    /// registration made before callback tokens.
    pub registration_checked_at: Option<DateTime<Utc>>,
}

/// A shipment still registered with a push carrier that no active subscription needs any more.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleRegistration {
    pub awb: AwbNumber,
    pub carrier: String,
    pub carrier_ref: String,
    pub poll_failures: u32,
}

/// The outcome of one poll, written back atomically while the claim is still held.
#[derive(Debug, Clone)]
pub struct PollRecord {
    pub awb: AwbNumber,
    pub carrier: &'static str,
    /// When the claim this record closes was taken: a fetch a push asked for after it is still
    /// due, since this poll may have asked too early to see what the push announced.
    pub claimed_at: DateTime<Utc>,
    pub checked_at: DateTime<Utc>,
    pub next_poll_at: DateTime<Utc>,
    /// Consecutive failed polls, including this one (0 after a success).
    pub poll_failures: u32,
    pub result: PollResult,
}

#[derive(Debug, Clone)]
pub enum PollResult {
    Tracked {
        summary: ShipmentSummary,
        raw: serde_json::Value,
        anomalies: Vec<String>,
        /// New, changed and restored events, to insert or overwrite.
        upserts: Vec<StoredEvent>,
        /// Fingerprints of events the carrier no longer reports (kept, marked withdrawn).
        withdrawn: Vec<String>,
        /// What subscribers are told, queued in the same transaction as the events.
        change: Box<ShipmentChange>,
    },
    NotFound,
    Failed {
        error: String,
    },
    /// The push carrier's registration was removed; `carrier_ref` and its callback token are
    /// cleared.
    Unregistered,
}

/// Summary, raw answer, anomalies and error: the shipment columns a poll may set. `None`
/// leaves a column as it was.
pub(super) type PollColumns<'a> = (
    Option<&'a ShipmentSummary>,
    Option<&'a serde_json::Value>,
    Option<&'a Vec<String>>,
    Option<&'a str>,
);

impl PollResult {
    pub(super) fn columns(&self) -> PollColumns<'_> {
        match self {
            Self::Tracked {
                summary,
                raw,
                anomalies,
                ..
            } => (Some(summary), Some(raw), Some(anomalies), None),
            Self::NotFound | Self::Unregistered => (None, None, None, None),
            Self::Failed { error } => (None, None, None, Some(error.as_str())),
        }
    }

    /// Whether the poll ends the shipment's push registration.
    pub(super) fn unregisters(&self) -> bool {
        matches!(self, Self::Unregistered)
    }
}

/// A shipment as `GET /v1/shipments/{awb}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentView {
    pub awb: AwbNumber,
    pub carrier: Option<String>,
    pub summary: ShipmentSummary,
    /// Every event ever seen, withdrawn ones included (marked), oldest first.
    pub events: Vec<StoredEvent>,
    pub anomalies: Vec<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub next_poll_at: DateTime<Utc>,
    /// Why the last poll failed; `None` once one succeeds.
    pub last_error: Option<String>,
    /// Pushes a push carrier sent for it (0 for a polled carrier), and when the last came.
    pub push_count: u32,
    pub last_push_at: Option<DateTime<Utc>>,
}
