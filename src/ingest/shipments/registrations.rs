//! Push carriers' registrations, kept by the poller before each fetch of a claimed shipment:
//! a shipment not registered yet is registered, with a fresh callback token; a registration
//! not confirmed for `poller.max_interval` is checked, and registered again (new token) when
//! the carrier has dropped it; a registration made before callback tokens is replaced.
//!
//! Each step is written the moment it happens: the token's hash before the registration is
//! sent (so a push that overtakes the carrier's answer is known and asked to come again, never
//! refused), the carrier's id right after it answers, before anything else.

use super::carriers::{CarrierEntry, Registrar};
use crate::clock::Clock;
use crate::domain::CallbackToken;
use crate::ingest::SourceError;
use crate::store::{ClaimedShipment, PushRegistrations, StoreError};
use chrono::TimeDelta;
use std::sync::Arc;
use uuid::Uuid;

/// Whether a claimed shipment may be fetched now.
pub(super) enum Prepared {
    /// Registered and confirmed: fetch it.
    Ready,
    /// The carrier refused or failed; recorded like a failed fetch.
    Failed(SourceError),
    /// Another instance took the shipment over meanwhile: leave it to that one.
    LeaseLost,
}

/// A push carrier's claimed shipment: what every step of its registration works on.
#[derive(Clone, Copy)]
pub(super) struct PushClaim<'a> {
    pub entry: &'a CarrierEntry,
    /// The entry's carrier's registrations.
    pub registrar: &'a dyn Registrar,
    pub claim: &'a ClaimedShipment,
    /// The instance whose lease the claim is held under.
    pub owner: Uuid,
}

pub(super) struct Registrations {
    store: Arc<dyn PushRegistrations>,
    clock: Arc<dyn Clock>,
    /// The longest a registration goes unconfirmed (`poller.max_interval`).
    check_every: TimeDelta,
}

impl Registrations {
    pub(super) fn new(
        store: Arc<dyn PushRegistrations>,
        clock: Arc<dyn Clock>,
        check_every: TimeDelta,
    ) -> Self {
        Self {
            store,
            clock,
            check_every,
        }
    }

    /// Makes sure the carrier has a live registration of the claimed shipment.
    pub(super) async fn prepare(&self, push: PushClaim<'_>) -> Result<Prepared, StoreError> {
        let PushClaim {
            entry,
            registrar,
            claim,
            owner,
        } = push;
        let now = self.clock.now();
        match (&claim.carrier_ref, claim.registration_checked_at) {
            (None, _) => self.register(push).await,
            (Some(old), None) => {
                // Made before callback tokens: its pushes go to a URL that no longer takes any.
                let removed = {
                    let _permit = entry.throttle.acquire().await;
                    entry.source.unregister(&claim.awb, old).await
                };
                if let Err(err) = removed {
                    tracing::warn!(awb = %claim.awb, error = %err,
                        "cannot remove a registration made before callback tokens; registering anew");
                }
                self.register(push).await
            }
            (Some(carrier_ref), Some(checked)) if now - checked >= self.check_every => {
                let live = {
                    let _permit = entry.throttle.acquire().await;
                    registrar.is_registered(carrier_ref).await
                };
                match live {
                    Ok(true) => Ok(
                        if self
                            .store
                            .confirm_registration(owner, &claim.awb, now)
                            .await?
                        {
                            Prepared::Ready
                        } else {
                            Prepared::LeaseLost
                        },
                    ),
                    Ok(false) => {
                        tracing::warn!(awb = %claim.awb, carrier = entry.source.name(),
                            "the carrier dropped the registration; registering again");
                        self.register(push).await
                    }
                    Err(err) => Ok(Prepared::Failed(err)),
                }
            }
            (Some(_), Some(_)) => Ok(Prepared::Ready),
        }
    }

    async fn register(&self, push: PushClaim<'_>) -> Result<Prepared, StoreError> {
        let (entry, awb) = (push.entry, &push.claim.awb);
        let token = CallbackToken::generate();
        let carrier = entry.source.name();
        if !self
            .store
            .begin_registration(push.owner, awb, carrier, &token.hash())
            .await?
        {
            return Ok(Prepared::LeaseLost);
        }
        let registered = {
            let _permit = entry.throttle.acquire().await;
            push.registrar.register(awb, &token).await
        };
        let carrier_ref = match registered {
            Ok(carrier_ref) => carrier_ref,
            Err(err) => return Ok(Prepared::Failed(err)),
        };
        let now = self.clock.now();
        if self
            .store
            .complete_registration(push.owner, awb, &carrier_ref, now)
            .await?
        {
            return Ok(Prepared::Ready);
        }
        // Nobody will hear of this registration: take it back rather than leave it pushing.
        tracing::warn!(%awb, "lease lost while registering; removing the registration");
        let _permit = entry.throttle.acquire().await;
        if let Err(err) = entry.source.unregister(awb, &carrier_ref).await {
            tracing::warn!(%awb, error = %err, "cannot remove the registration");
        }
        Ok(Prepared::LeaseLost)
    }
}
