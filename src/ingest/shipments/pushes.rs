//! Carrier pushes: Lufthansa's notice that an AWB has news (seed 002: "Then you should call the
//! ShipmentTracking API to get full shipment status"). A push is a trigger, never an event: it
//! makes a fetch of the AWB due `carriers.lufthansa.fetch_delay` later, in the database (so
//! several pushes within the delay share one fetch, and every instance agrees), and what that
//! fetch returns goes through the poller's diff and outbox like any poll. A forged push can
//! therefore cost one fetch at most, never a false event.
//!
//! A push is heard only at the callback URL of a live registration: the token in the URL names
//! it (see [`crate::domain::CallbackToken`]), and the push must name the same subscription id
//! and AWB. A fetch due at once wakes the pollers when it is committed; a later one is woken by
//! a timer here, with the database's due time as the fallback should this instance stop.

use super::carriers::LufthansaPush;
use crate::clock::Clock;
use crate::domain::normalize::NormalizeError;
use crate::domain::{AwbNumber, CallbackTokenHash};
use crate::ingest::round::time_delta;
use crate::store::{Push, PushRegistrations, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const LUFTHANSA: &str = "lufthansa";

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A wrong token, or one of a registration since replaced or removed.
    #[error("no registration has this callback URL")]
    UnknownCallback,
    /// Lufthansa's answer to the registration is not stored yet; the push should come again.
    #[error("the registration is being completed; send the push again shortly")]
    RegistrationPending,
    /// The token is valid, but the push names another of Lufthansa's subscriptions.
    #[error("the push names a subscription id this callback URL was not registered for")]
    WrongSubscription,
    #[error("the push cannot be used: {0}")]
    Invalid(#[from] NormalizeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a push led to.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub awb: AwbNumber,
    /// The state the push announced (for the log; it is not stored).
    pub state: String,
    /// When the AWB is fetched.
    pub fetch_at: DateTime<Utc>,
    /// The fetch was already due for an earlier push within the delay.
    pub joined: bool,
}

pub struct Pushes {
    store: Arc<dyn PushRegistrations>,
    clock: Arc<dyn Clock>,
    /// How long after a push its fetch waits (`carriers.lufthansa.fetch_delay`).
    fetch_delay: Duration,
}

impl Pushes {
    pub fn new(
        store: Arc<dyn PushRegistrations>,
        clock: Arc<dyn Clock>,
        fetch_delay: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            fetch_delay,
        }
    }

    /// Accepts a Lufthansa push that came to the callback URL with `token`.
    #[tracing::instrument(name = "push.accept", skip_all)]
    pub async fn accept(&self, token: &str, body: &Value) -> Result<PushOutcome, PushError> {
        let outcome = self.schedule(token, body).await;
        let label = match &outcome {
            Ok(done) if done.joined => "joined",
            Ok(_) => "scheduled",
            Err(PushError::UnknownCallback) => "unknown",
            Err(PushError::RegistrationPending) => "pending",
            Err(PushError::WrongSubscription) => "mismatch",
            Err(PushError::Invalid(_)) => "invalid",
            Err(PushError::Store(_)) => "failed",
        };
        metrics::counter!("skyhook_carrier_pushes_total", "carrier" => LUFTHANSA, "outcome" => label)
            .increment(1);
        outcome
    }

    async fn schedule(&self, token: &str, body: &Value) -> Result<PushOutcome, PushError> {
        let token = CallbackTokenHash::of(token);
        let target = self
            .store
            .find_registration(LUFTHANSA, &token)
            .await?
            .ok_or(PushError::UnknownCallback)?;
        let push = LufthansaPush::parse(body)?;
        let carrier_ref = target.carrier_ref.ok_or(PushError::RegistrationPending)?;
        if push.subscription_id != carrier_ref {
            return Err(PushError::WrongSubscription);
        }
        push.check_awb(&target.awb)?;
        let now = self.clock.now();
        let due = now + time_delta(self.fetch_delay);
        let fetch_at = self
            .store
            .record_push(&Push {
                carrier: LUFTHANSA,
                token: &token,
                carrier_ref: &carrier_ref,
                now,
                due,
            })
            .await?
            // Registered anew between the two statements: this push was for the old one.
            .ok_or(PushError::UnknownCallback)?;
        // An earlier push's fetch is pending (the store keeps times to the microsecond).
        let joined = due - fetch_at > TimeDelta::milliseconds(1);
        if !joined && fetch_at > now {
            self.wake_at(fetch_at - now);
        }
        Ok(PushOutcome {
            awb: target.awb,
            state: push.state,
            fetch_at,
            joined,
        })
    }

    /// Wakes the pollers when the fetch falls due, so it is not left for their `idle_wait`.
    fn wake_at(&self, after: TimeDelta) {
        let store = self.store.clone();
        let after = after.to_std().unwrap_or_default();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            store.wake_pollers();
        });
    }
}
