//! What a carrier's answer means for a stored shipment: the diff against what is stored, the
//! rows to write, and what subscribers are told. Shared by polls and pushes.

use crate::domain::diff;
use crate::domain::message::ShipmentChange;
use crate::domain::schedule::LastPoll;
use crate::domain::{SummaryStatus, Tracking};
use crate::store::{ClaimedShipment, PollResult, ShipmentSummary};

/// What a successful fetch (or a push merged into the stored events) means for the stored
/// shipment.
pub(crate) fn apply(
    claim: &ClaimedShipment,
    tracking: Tracking,
    raw: serde_json::Value,
) -> (PollResult, LastPoll) {
    let found = diff::diff(&claim.events, &tracking.events);
    let written = diff::outcome(&claim.events, &found);
    let status = diff::summary_status(
        &tracking.events,
        tracking.destination.as_deref(),
        tracking.pieces,
        Some(claim.status),
    );
    let last = if status == SummaryStatus::Delivered && found.is_empty() {
        LastPoll::Delivered
    } else if found.is_empty() {
        LastPoll::Unchanged
    } else {
        LastPoll::Changed
    };
    let mut anomalies = tracking.anomalies;
    anomalies.extend(found.anomalies);
    let summary = ShipmentSummary {
        origin: tracking.origin,
        destination: tracking.destination,
        pieces: tracking.pieces,
        weight: tracking.weight,
        volume: tracking.volume,
        status,
    };
    let change = Box::new(ShipmentChange {
        awb: claim.awb.clone(),
        summary: summary.clone(),
        changed: written.changed,
        events: written.events,
        unchanged: written.unchanged,
    });
    let result = PollResult::Tracked {
        summary,
        raw,
        anomalies,
        upserts: written.upserts,
        withdrawn: written.withdrawn,
        change,
    };
    (result, last)
}
