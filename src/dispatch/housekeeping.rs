//! The dispatcher's chores that follow the clock rather than the queue: ending expired
//! subscriptions (whose notices it then sends) and the queue gauges. A round runs them at most
//! once a second of clock time: a backlog drained round after round paid for both each time,
//! a count over every pending message among them.

use crate::store::{DeliveryQueue, StoreError};
use crate::telemetry::count_queued;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

/// Subscriptions expired per sweep; a full sweep is followed by another the next round.
const EXPIRE_BATCH: u32 = 100;

pub(super) struct Housekeeping {
    store: Arc<dyn DeliveryQueue>,
    /// When expiries were last swept to the end (a full sweep leaves more for the next round).
    swept_at: Mutex<Option<DateTime<Utc>>>,
    /// When the queue gauges were last read.
    observed_at: Mutex<Option<DateTime<Utc>>>,
}

impl Housekeeping {
    pub fn new(store: Arc<dyn DeliveryQueue>) -> Self {
        Self {
            store,
            swept_at: Mutex::new(None),
            observed_at: Mutex::new(None),
        }
    }

    /// Does each chore if a second has passed since it was last done (or the clock went back).
    pub async fn run(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        if due(&self.swept_at, now) {
            let expired = self.store.expire_subscriptions(now, EXPIRE_BATCH).await?;
            if expired.subscriptions > 0 {
                tracing::info!(expired = expired.subscriptions, "subscriptions expired");
                count_queued(expired.queued);
            }
            if expired.subscriptions < EXPIRE_BATCH {
                *lock(&self.swept_at) = Some(now);
            }
        }
        if due(&self.observed_at, now) {
            self.observe_queue(now).await?;
            *lock(&self.observed_at) = Some(now);
        }
        Ok(())
    }

    async fn observe_queue(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let stats = self.store.queue_stats(now).await?;
        metrics::gauge!("skyhook_delivery_queue_depth").set(stats.pending as f64);
        let age = stats.oldest_due_at.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("skyhook_delivery_oldest_due_seconds").set(age);
        Ok(())
    }
}

fn due(last: &Mutex<Option<DateTime<Utc>>>, now: DateTime<Utc>) -> bool {
    lock(last).is_none_or(|at| now - at >= TimeDelta::seconds(1) || now < at)
}

fn lock(at: &Mutex<Option<DateTime<Utc>>>) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
    at.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
