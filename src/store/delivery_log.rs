//! The API's side of the outbox: the delivery log and a message's body, a test message, a
//! retry, and rotating the secret every message is signed with.

use super::lifecycle::{lock_active, require_active};
use super::outbox::RecipientRow;
use super::queue::{Queueing, insert_messages, lock_recipients};
use super::sql::{IN_SCOPE, sql};
use super::wake::Work;
use super::{
    DeliveryLog, DeliveryRecord, DeliveryScope, Queued, Retry, SecretRotation, SqlStore, StoreError,
};
use crate::domain::message::{self, Recipient};
use crate::domain::{AwbNumber, SubscriptionId, TenantId};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// Makes the messages in scope (bound `$1`, `$2`) that `only` picks due again at `$3`, the same
/// body and id. A live lease is left alone: clearing it would let a second send start beside
/// the attempt, whose outcome would then overwrite the retry. A lapsed one is cleared: its
/// attempt was cut off inside the lease, and clearing the owner fences out any late outcome.
fn retry_now(only: &str) -> String {
    format!(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $3, \
             lease_owner = NULL, lease_expires_at = NULL, delivered_at = NULL \
         WHERE {only} AND (lease_expires_at IS NULL OR lease_expires_at <= $3) AND {IN_SCOPE}"
    )
}

#[async_trait]
impl DeliveryLog for SqlStore {
    async fn queue_test_message(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
        limit: super::TestLimit,
    ) -> Result<Option<(String, Queued)>, StoreError> {
        let mut tx = self.begin().await?;
        let select = lock_recipients(self.dialect(), "WHERE s.tenant_id = $1 AND s.id = $2");
        let row: Option<RecipientRow> = sql(select)
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        require_active(&row.status)?;
        super::test_limit::check(&mut tx, id, now, limit).await?;
        let awb = row.awb.as_deref().and_then(|a| AwbNumber::parse(a).ok());
        let recipient: Recipient = row.try_into()?;
        let message = message::test_message(&recipient, awb.as_ref(), now);
        let message_id = message.message_id.clone();
        // Asked for by a person waiting to see it: sent at once, never batched.
        let mut queueing = Queueing::new(now, TimeDelta::zero());
        insert_messages(&mut tx, &[message], &mut queueing).await?;
        self.commit_waking(tx, queueing.queued.work()).await?;
        Ok(Some((message_id, queueing.queued)))
    }

    async fn retry_delivery(
        &self,
        scope: DeliveryScope,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Retry, StoreError> {
        let mut conn = self.writer().await?;
        let retried: Option<(Option<DateTime<Utc>>,)> = sql(format!(
            "{} RETURNING lease_expires_at",
            retry_now("id = $4")
        ))
        .bind_scope(scope)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut conn)
        .await?;
        if retried.is_some() {
            self.woken(Work::Deliveries);
            return Ok(Retry::Queued);
        }
        let leased: Option<(Option<DateTime<Utc>>,)> = sql(format!(
            "SELECT lease_expires_at FROM deliveries WHERE id = $4 AND {IN_SCOPE}"
        ))
        .bind_scope(scope)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut conn)
        .await?;
        Ok(match leased {
            Some((Some(lease_until),)) => Retry::InFlight { lease_until },
            // Gone between the two statements, or never the tenant's.
            _ => Retry::NotFound,
        })
    }

    async fn retry_failed_deliveries(
        &self,
        scope: DeliveryScope,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let retried = sql(retry_now("status = 'failed'"))
            .bind_scope(scope)
            .bind(now)
            .execute(&mut self.writer().await?)
            .await?;
        if retried > 0 {
            self.woken(Work::Deliveries);
        }
        Ok(retried)
    }

    async fn list_deliveries(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        limit: u32,
    ) -> Result<Option<Vec<DeliveryRecord>>, StoreError> {
        let mut conn = self.reader().await?;
        let exists: Option<(Uuid,)> =
            sql("SELECT id FROM subscriptions WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&mut conn)
                .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let records = sql(
            "SELECT id, message_id, type, channel, target, sequence, status, attempts, \
                 last_attempt_at, CASE WHEN status = 'pending' THEN next_attempt_at END \
                     AS next_attempt_at, \
                 last_status_code, last_error, created_at, delivered_at \
             FROM deliveries WHERE subscription_id = $1 \
             ORDER BY sequence, channel, target LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&mut conn)
        .await?;
        Ok(Some(records))
    }

    async fn delivery_body(
        &self,
        scope: DeliveryScope,
        delivery: Uuid,
    ) -> Result<Option<String>, StoreError> {
        let body: Option<(String,)> = sql(format!(
            "SELECT body FROM deliveries WHERE id = $3 AND {IN_SCOPE}"
        ))
        .bind_scope(scope)
        .bind(delivery)
        .fetch_optional(&mut self.reader().await?)
        .await?;
        Ok(body.map(|(body,)| body))
    }

    async fn rotate_signing_secret(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        rotation: &SecretRotation<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        if lock_active(&mut tx, tenant, id).await?.is_none() {
            return Ok(false);
        }
        sql(
            "UPDATE subscriptions SET previous_signing_secret = signing_secret, \
                 previous_secret_expires_at = $4, signing_secret = $3, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(rotation.secret.expose())
        .bind(rotation.overlap_until)
        .bind(rotation.now)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
