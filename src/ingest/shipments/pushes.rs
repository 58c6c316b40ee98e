//! Carrier pushes: news a push carrier sends to Skyhook instead of being polled (Lufthansa).
//!
//! A push is applied like a poll's answer, under the same rules: the shipment is claimed under a
//! lease (so a poll, an unregistration or another push of the same shipment cannot interleave),
//! the pushed event is merged into the stored events and diffed exactly as a fetched history is,
//! and the new events and their outbox messages are written in one transaction through
//! [`ShipmentLeases::record_poll`]. The carrier's reference (its subscription id) is what authenticates a
//! push: one naming no registered shipment is refused.

use super::apply::apply;
use super::carriers::PushedEvent;
use crate::clock::Clock;
use crate::domain::AwbNumber;
use crate::domain::normalize::NormalizeError;
use crate::domain::{Tracking, TrackingEvent};
use crate::ingest::round::time_delta;
use crate::store::{Lease, PollRecord, PollResult, RefClaim, ShipmentLeases, StoreError};
use crate::telemetry::count_queued;
use chrono::TimeDelta;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often, and how long apart, a push retries a shipment someone else holds.
const CLAIM_ATTEMPTS: u32 = 20;
const CLAIM_PAUSE: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("no shipment is registered with {carrier} under subscription id `{carrier_ref}`")]
    UnknownReference {
        carrier: &'static str,
        carrier_ref: String,
    },
    #[error("the push cannot be used: {0}")]
    Invalid(#[from] NormalizeError),
    /// The shipment stayed claimed elsewhere; the carrier should send the push again later.
    #[error("the shipment is being updated; try again shortly")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a push changed.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub awb: AwbNumber,
    /// Events added or updated (0 when the push repeated what was known).
    pub changed: usize,
}

pub struct Pushes {
    store: Arc<dyn ShipmentLeases>,
    clock: Arc<dyn Clock>,
    lease: TimeDelta,
    /// When a pushed shipment is looked at by the poller again (`poller.max_interval`).
    quiet: TimeDelta,
    /// Events kept per shipment (`poller.max_events_per_shipment`), as for polls.
    max_events: usize,
}

impl Pushes {
    pub fn new(
        store: Arc<dyn ShipmentLeases>,
        clock: Arc<dyn Clock>,
        lease: Duration,
        quiet: Duration,
        max_events: usize,
    ) -> Self {
        Self {
            store,
            clock,
            lease: time_delta(lease),
            quiet: time_delta(quiet),
            max_events,
        }
    }

    /// Applies one push to the shipment `carrier` registered as `carrier_ref`; `event_for`
    /// turns the push into an event for that shipment's AWB.
    #[tracing::instrument(name = "push.accept", skip(self, event_for, raw))]
    pub async fn accept(
        &self,
        carrier: &'static str,
        carrier_ref: &str,
        event_for: impl FnOnce(&AwbNumber) -> Result<PushedEvent, NormalizeError>,
        raw: serde_json::Value,
    ) -> Result<PushOutcome, PushError> {
        let owner = Uuid::new_v4();
        let mut attempts = 0;
        let claim = loop {
            let now = self.clock.now();
            let lease = Lease {
                owner,
                now,
                until: now + self.lease,
            };
            let claimed = self
                .store
                .claim_by_carrier_ref(lease, carrier, carrier_ref)
                .await?;
            match claimed {
                RefClaim::Claimed(claim) => break claim,
                RefClaim::Unknown => {
                    return Err(PushError::UnknownReference {
                        carrier,
                        carrier_ref: carrier_ref.to_owned(),
                    });
                }
                RefClaim::Busy if attempts + 1 >= CLAIM_ATTEMPTS => return Err(PushError::Busy),
                RefClaim::Busy => {
                    attempts += 1;
                    tokio::time::sleep(CLAIM_PAUSE).await;
                }
            }
        };
        let pushed = match event_for(&claim.awb) {
            Ok(pushed) => pushed,
            Err(err) => {
                self.store.release_shipment(owner, &claim.awb).await?;
                return Err(err.into());
            }
        };
        // A push is one event; the diff compares whole histories, so the push is laid over
        // what is stored (withdrawn events stay withdrawn, a replaced TOA gives way).
        let replaced = pushed.replaces_previous.then(|| pushed.event.code.clone());
        let mut events: Vec<TrackingEvent> = claim
            .events
            .iter()
            .filter(|stored| !stored.withdrawn)
            .filter(|stored| replaced.as_deref() != Some(stored.event.code.as_str()))
            .map(|stored| stored.event.clone())
            .collect();
        events.push(pushed.event);
        let tracking = Tracking::of_events(claim.awb.clone(), events, pushed.anomalies);
        let (result, _) = apply(&claim, tracking, raw, self.max_events);
        // What subscribers hear of: a restored event that did not change is rewritten but is
        // no news.
        let changed = match &result {
            PollResult::Tracked { change, .. } => change.changed.len(),
            _ => 0,
        };
        let now = self.clock.now();
        let record = PollRecord {
            awb: claim.awb.clone(),
            carrier,
            checked_at: now,
            next_poll_at: now + self.quiet,
            poll_failures: 0,
            result,
        };
        let queued = self
            .store
            .record_poll(owner, record)
            .await?
            .ok_or(PushError::Busy)?;
        count_queued(queued);
        let outcome = if changed > 0 { "changed" } else { "unchanged" };
        metrics::counter!("skyhook_carrier_pushes_total", "carrier" => carrier, "outcome" => outcome)
            .increment(1);
        Ok(PushOutcome {
            awb: claim.awb,
            changed,
        })
    }
}
