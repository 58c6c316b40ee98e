//! Push carriers on SQLite: claiming a shipment by the carrier's own reference when a push
//! arrives, and finding registrations no subscription needs any more. Claims go through the one
//! writer connection, so a plain UPDATE is a safe claim.

use super::tracking::SELECT_EVENTS;
use super::{SqliteStore, ts};
use crate::domain::AwbNumber;
use crate::store::rows::{ClaimRow, EventRow};
use crate::store::{RefClaim, StaleRegistration, StoreError};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

impl SqliteStore {
    pub(super) async fn claim_ref(
        &self,
        owner: Uuid,
        carrier: &str,
        carrier_ref: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<RefClaim, StoreError> {
        let claim: Option<ClaimRow> = sqlx::query_as(
            "UPDATE shipments SET lease_owner = ?1, lease_expires_at = ?5 \
             WHERE carrier = ?2 AND carrier_ref = ?3 \
               AND (lease_expires_at IS NULL OR lease_expires_at < ?4) \
             RETURNING awb, created_at, status, poll_failures, carrier_ref",
        )
        .bind(owner)
        .bind(carrier)
        .bind(carrier_ref)
        .bind(ts(now))
        .bind(ts(lease_until))
        .fetch_optional(&self.writer)
        .await?;
        let Some(claim) = claim else {
            let known: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM shipments WHERE carrier = ?1 AND carrier_ref = ?2)",
            )
            .bind(carrier)
            .bind(carrier_ref)
            .fetch_one(&self.writer)
            .await?;
            return Ok(if known {
                RefClaim::Busy
            } else {
                RefClaim::Unknown
            });
        };
        let mut events: Vec<EventRow> = sqlx::query_as(SELECT_EVENTS)
            .bind(Json([claim.awb.as_str()]))
            .fetch_all(&self.writer)
            .await?;
        claim.into_claim(&mut events).map(RefClaim::Claimed)
    }

    pub(super) async fn claim_stale(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StaleRegistration>, StoreError> {
        // A failed unregistration waits for `next_poll_at` (its back-off); otherwise the
        // registration goes as soon as its last subscription has ended.
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "UPDATE shipments SET lease_owner = ?1, lease_expires_at = ?3 \
             WHERE awb IN ( \
                 SELECT s.awb FROM shipments s \
                 WHERE s.carrier_ref IS NOT NULL AND s.carrier IS NOT NULL \
                   AND (s.poll_failures = 0 OR s.next_poll_at <= ?2) \
                   AND (s.lease_expires_at IS NULL OR s.lease_expires_at < ?2) \
                   AND NOT EXISTS (SELECT 1 FROM subscriptions sub \
                                   WHERE sub.awb = s.awb AND sub.status = 'active') \
                 ORDER BY s.next_poll_at LIMIT ?4) \
             RETURNING awb, carrier, carrier_ref, poll_failures",
        )
        .bind(owner)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.into_iter()
            .map(|(awb, carrier, carrier_ref, failures)| {
                Ok(StaleRegistration {
                    awb: AwbNumber::parse(&awb).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    carrier,
                    carrier_ref,
                    poll_failures: u32::try_from(failures).unwrap_or(0),
                })
            })
            .collect()
    }

    pub(super) async fn release(&self, owner: Uuid, awb: &AwbNumber) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE shipments SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE awb = ?1 AND lease_owner = ?2",
        )
        .bind(awb.as_str())
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
