//! What a carrier's answer means for a stored shipment: the diff against what is stored, the
//! rows to write, and what subscribers are told. Shared by polls and pushes.

use crate::domain::diff::{self, StoredEvent};
use crate::domain::message::ShipmentChange;
use crate::domain::schedule::LastPoll;
use crate::domain::{SummaryStatus, Tracking, TrackingEvent};
use crate::store::{ClaimedShipment, PollResult, ShipmentSummary};
use std::collections::HashSet;

/// What a successful fetch (or a push merged into the stored events) means for the stored
/// shipment.
pub(crate) fn apply(
    claim: &ClaimedShipment,
    tracking: Tracking,
    raw: serde_json::Value,
) -> (PollResult, LastPoll) {
    let found = diff::diff(&claim.events, &tracking.events);
    let mut upserts: Vec<StoredEvent> = found
        .new
        .iter()
        .chain(&found.updated)
        .map(|keyed| StoredEvent {
            fingerprint: keyed.fingerprint.clone(),
            event: keyed.event.clone(),
            withdrawn: false,
        })
        .collect();
    // A restored event that did not also change is re-activated as stored.
    let restored: Vec<StoredEvent> = claim
        .events
        .iter()
        .filter(|stored| found.restored.contains(&stored.fingerprint))
        .filter(|stored| !upserts.iter().any(|u| u.fingerprint == stored.fingerprint))
        .map(|stored| StoredEvent {
            withdrawn: false,
            ..stored.clone()
        })
        .collect();
    upserts.extend(restored);
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
    let change = Box::new(shipment_change(claim, &summary, &upserts, &found.withdrawn));
    let result = PollResult::Tracked {
        summary,
        raw,
        anomalies,
        upserts,
        withdrawn: found.withdrawn,
        change,
    };
    (result, last)
}

/// What subscribers are told: the events as stored once this poll is written.
fn shipment_change(
    claim: &ClaimedShipment,
    summary: &ShipmentSummary,
    upserts: &[StoredEvent],
    withdrawn: &[String],
) -> ShipmentChange {
    let changed: HashSet<&str> = upserts.iter().map(|u| u.fingerprint.as_str()).collect();
    let mut unchanged: Vec<TrackingEvent> = claim
        .events
        .iter()
        .filter(|e| !e.withdrawn && !changed.contains(e.fingerprint.as_str()))
        .filter(|e| !withdrawn.contains(&e.fingerprint))
        .map(|e| e.event.clone())
        .collect();
    diff::sort_events(&mut unchanged);
    let mut events: Vec<TrackingEvent> = unchanged
        .iter()
        .cloned()
        .chain(upserts.iter().map(|u| u.event.clone()))
        .collect();
    diff::sort_events(&mut events);
    ShipmentChange {
        awb: claim.awb.clone(),
        summary: summary.clone(),
        changed: upserts.iter().map(|u| u.event.clone()).collect(),
        events,
        unchanged,
    }
}
