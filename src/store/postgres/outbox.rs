//! The outbox on Postgres: messages (queued by `queue.rs` inside the transaction that found
//! their cause) are claimed with `FOR UPDATE SKIP LOCKED` leases so several instances never
//! send one at once, and their outcome is written only while the lease is still held.

use super::PostgresStore;
use super::queue::SELECT_RECIPIENTS;
use crate::domain::message::{self, Recipient};
use crate::domain::{AwbNumber, SigningSecret, SubscriptionId, TenantId};
use crate::store::outbox::{ClaimedRow, RecipientRow, require_active};
use crate::store::{ClaimedDelivery, DeliveryOutcome, DeliveryRecord, QueueStats, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

impl PostgresStore {
    pub(super) async fn claim_deliveries(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let rows: Vec<ClaimedRow> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT d.id FROM deliveries d \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
                   AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $2) \
                   AND (d.type NOT IN ('subscription.completed', 'subscription.expired') \
                        OR NOT EXISTS (SELECT 1 FROM deliveries p \
                            WHERE p.subscription_id = d.subscription_id \
                              AND p.channel = d.channel AND p.target = d.target \
                              AND p.status = 'pending' AND p.sequence < d.sequence)) \
                 ORDER BY d.next_attempt_at, d.sequence LIMIT $4 \
                 FOR UPDATE OF d SKIP LOCKED \
             ) \
             UPDATE deliveries d SET lease_owner = $1, lease_expires_at = $3 \
             FROM due, subscriptions s \
             WHERE d.id = due.id AND s.id = d.subscription_id \
             RETURNING d.id, d.message_id, d.subscription_id, d.type, d.channel, d.target, \
                 d.sequence, d.body, d.attempts, d.created_at, s.url_failing_since, s.headers, \
                 s.signing_secret, \
                 CASE WHEN s.previous_secret_expires_at > $2 \
                      THEN s.previous_signing_secret END AS previous_signing_secret, \
                 (SELECT e.unsubscribe_token FROM subscription_emails e \
                  WHERE e.subscription_id = d.subscription_id AND e.email = d.target \
                    AND e.active) AS unsubscribe_token, \
                 s.status <> 'unsubscribed' AND CASE d.channel \
                     WHEN 'webhook' THEN s.url IS NOT DISTINCT FROM d.target \
                                         AND s.url_disabled_at IS NULL \
                     ELSE EXISTS (SELECT 1 FROM subscription_emails e \
                                  WHERE e.subscription_id = d.subscription_id \
                                    AND e.email = d.target AND e.active) \
                 END AS channel_active",
        )
        .bind(owner)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed: Vec<ClaimedDelivery> = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?;
        claimed.sort_by_key(|c| (c.subscription_id, c.sequence));
        Ok(claimed)
    }

    pub(super) async fn record_attempt(
        &self,
        owner: Uuid,
        outcome: DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let next = &outcome.next;
        let row: Option<(Uuid, String, String)> = sqlx::query_as(
            "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, \
                 attempts = attempts + $3, last_attempt_at = CASE WHEN $3 = 1 THEN $4 \
                     ELSE last_attempt_at END, \
                 last_status_code = $5, last_error = $6, status = $7, next_attempt_at = $8, \
                 delivered_at = CASE WHEN $7 = 'delivered' THEN $4 END, \
                 failing_since = CASE WHEN $7 = 'delivered' THEN NULL \
                     ELSE COALESCE(failing_since, $4) END \
             WHERE id = $1 AND lease_owner = $2 \
             RETURNING subscription_id, channel, target",
        )
        .bind(outcome.id)
        .bind(owner)
        .bind(i32::from(next.counts_as_attempt()))
        .bind(outcome.attempted_at)
        .bind(outcome.status_code.map(i32::from))
        .bind(outcome.error.as_deref())
        .bind(next.status())
        .bind(next.retry_at())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((subscription, channel, target)) = row else {
            return Ok(false);
        };
        if channel == "webhook" && next.counts_as_attempt() {
            let (failing_since, disabled_reason) = outcome.url_effect();
            sqlx::query(
                "UPDATE subscriptions SET \
                     url_failing_since = CASE WHEN $3 THEN COALESCE(url_failing_since, $4) END, \
                     url_disabled_at = CASE WHEN $5::text IS NOT NULL AND url_disabled_at IS NULL \
                         THEN $4 ELSE url_disabled_at END, \
                     url_disabled_reason = COALESCE(url_disabled_reason, $5), \
                     updated_at = CASE WHEN $5::text IS NOT NULL THEN $4 ELSE updated_at END \
                 WHERE id = $1 AND url = $2",
            )
            .bind(subscription)
            .bind(&target)
            .bind(failing_since)
            .bind(outcome.attempted_at)
            .bind(disabled_reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn expire(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<RecipientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECIPIENTS} WHERE s.status = 'active' AND s.expires_at <= $1 \
             ORDER BY s.expires_at LIMIT $2 FOR UPDATE SKIP LOCKED"
        )))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let awb = row.awb.as_deref().and_then(|a| AwbNumber::parse(a).ok());
            let flight = row.flight_label();
            let recipient: Recipient = row.try_into()?;
            ids.push(recipient.subscription_id);
            messages.push(message::expired_message(
                &recipient,
                awb.as_ref(),
                flight.as_deref(),
                now,
            ));
        }
        Self::insert_messages(&mut tx, &messages, now, TimeDelta::zero()).await?;
        sqlx::query(
            "UPDATE subscriptions SET status = 'expired', ended_at = $2, updated_at = $2 \
             WHERE id = ANY($1)",
        )
        .bind(&ids)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(u32::try_from(ids.len()).unwrap_or(u32::MAX))
    }

    pub(super) async fn queue_test(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<RecipientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECIPIENTS} WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE"
        )))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        require_active(&row.status)?;
        let awb = row.awb.as_deref().and_then(|a| AwbNumber::parse(a).ok());
        let recipient: Recipient = row.try_into()?;
        let message = message::test_message(&recipient, awb.as_ref(), now);
        let message_id = message.message_id.clone();
        Self::insert_messages(&mut tx, &[message], now, TimeDelta::zero()).await?;
        tx.commit().await?;
        Ok(Some(message_id))
    }

    pub(super) async fn retry(
        &self,
        tenant: TenantId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // A live lease stays: the instance holding it is sending the message right now, and
        // clearing it would let another instance send it at the same time.
        let done = sqlx::query(
            "UPDATE deliveries d SET status = 'pending', next_attempt_at = $3, \
                 lease_owner = CASE WHEN d.lease_expires_at > $3 THEN d.lease_owner END, \
                 lease_expires_at = CASE WHEN d.lease_expires_at > $3 \
                     THEN d.lease_expires_at END, \
                 delivered_at = NULL \
             FROM subscriptions s \
             WHERE d.id = $2 AND s.id = d.subscription_id AND s.tenant_id = $1",
        )
        .bind(tenant)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn deliveries(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        limit: u32,
    ) -> Result<Option<Vec<DeliveryRecord>>, StoreError> {
        let exists: Option<(Uuid,)> =
            sqlx::query_as("SELECT id FROM subscriptions WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let records = sqlx::query_as(
            "SELECT id, message_id, type, channel, target, sequence, status, attempts, \
                 last_attempt_at, CASE WHEN status = 'pending' THEN next_attempt_at END \
                     AS next_attempt_at, \
                 last_status_code, last_error, created_at, delivered_at \
             FROM deliveries WHERE subscription_id = $1 \
             ORDER BY sequence, channel, target LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(records))
    }

    pub(super) async fn rotate_secret(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        secret: &SigningSecret,
        now: DateTime<Utc>,
        overlap_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let status: Option<(String,)> = sqlx::query_as(
            "SELECT status FROM subscriptions WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status,)) = status else {
            return Ok(false);
        };
        require_active(&status)?;
        sqlx::query(
            "UPDATE subscriptions SET previous_signing_secret = signing_secret, \
                 previous_secret_expires_at = $4, signing_secret = $3, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(secret.expose())
        .bind(overlap_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn stats(&self, now: DateTime<Utc>) -> Result<QueueStats, StoreError> {
        let (pending, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT count(*), min(next_attempt_at) FILTER (WHERE next_attempt_at <= $1) \
             FROM deliveries WHERE status = 'pending'",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueStats {
            pending: u64::try_from(pending).unwrap_or_default(),
            oldest_due_at: oldest,
        })
    }
}
