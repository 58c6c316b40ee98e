//! The dispatcher's side of the outbox: due messages claimed with leases so that no two
//! instances send one at once, and an attempt's outcome written only while the lease is still
//! held; also the expiry of subscriptions, whose notices are messages too.

use super::lifecycle::end_subscriptions;
use super::outbox::{ClaimedRow, RecipientRow};
use super::queue::{Queueing, insert_messages, select_recipients};
use super::sql::{Backend, Statement, sql};
use super::subscriptions::email_on_subscription;
use super::{
    ClaimedDelivery, DeliveryOutcome, DeliveryQueue, Expired, Lease, Pools, QueueStats, SqlStore,
    StoreError, postgres, sqlite,
};
use crate::domain::message::{self, Recipient};
use crate::domain::{AwbNumber, Destination, SubscriptionStatus};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// Due messages (`$2` is now, `$4` the limit), except those for the destinations in `$5`. A
/// `subscription.completed` or `.expired` message waits until everything queued before it to
/// the same target is done.
pub(super) fn due_deliveries(dialect: Backend) -> String {
    format!(
        "SELECT d.id FROM deliveries d \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
           AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $2) \
           AND (d.destination IS NULL OR NOT d.destination {}) \
           AND (d.type NOT IN ('subscription.completed', 'subscription.expired') \
                OR NOT EXISTS (SELECT 1 FROM deliveries p \
                    WHERE p.subscription_id = d.subscription_id \
                      AND p.channel = d.channel AND p.target = d.target \
                      AND p.status = 'pending' AND p.sequence < d.sequence)) \
         ORDER BY d.next_attempt_at, d.sequence LIMIT $4",
        dialect.in_texts(5)
    )
}

/// A delivery claim's `SET`: the lease, and a new fencing token.
pub(super) const CLAIM_SET: &str = "lease_owner = $1, lease_expires_at = $3, \
     lease_token = lease_token + 1";

/// A claimed message `d` with what sending it needs from its subscription `s` (`$2` is now).
pub(super) const CLAIMED_COLUMNS: &str = concat!(
    "d.id, d.lease_token, d.message_id, d.subscription_id, d.type, \
     d.channel, d.target, d.sequence, d.body, d.attempts, d.created_at, s.url_failing_since, \
     s.headers, s.signing_secret, \
     CASE WHEN s.previous_secret_expires_at > $2 \
          THEN s.previous_signing_secret END AS previous_signing_secret, \
     (SELECT e.unsubscribe_token FROM subscription_emails e \
      WHERE e.subscription_id = d.subscription_id AND e.email = d.target AND ",
    email_on_subscription!(),
    ") AS unsubscribe_token, \
     s.status <> 'unsubscribed' AND CASE d.channel \
         WHEN 'webhook' THEN s.url IS NOT DISTINCT FROM d.target AND s.url_disabled_at IS NULL \
         ELSE EXISTS (SELECT 1 FROM subscription_emails e \
                      WHERE e.subscription_id = d.subscription_id \
                        AND e.email = d.target AND ",
    email_on_subscription!(),
    ") END AS channel_active, \
     d.channel = 'webhook' AND s.url IS NOT DISTINCT FROM d.target \
         AND s.url_disabled_at IS NOT NULL AS url_disabled, \
     (SELECT k.allow_networks FROM api_keys k WHERE k.id = s.tenant_id) AS allow_networks"
);

/// Records an attempt on message `$1`, only while `$2` holds its lease under token `$11`: `$3`
/// is 1 for an attempt (0 for a cancellation), `$4` when, `$5` the status code, `$6` the error,
/// `$7` the new status, `$8` the next attempt's time.
const RECORD_ATTEMPT: &str = "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, \
         attempts = attempts + $3, \
         last_attempt_at = CASE WHEN $3 = 1 THEN $4 ELSE last_attempt_at END, \
         last_status_code = $5, last_error = $6, status = $7, next_attempt_at = $8, \
         delivered_at = CASE WHEN $7 = 'delivered' THEN $4 END, \
         failing_since = CASE WHEN $7 = 'delivered' THEN NULL ELSE COALESCE(failing_since, $4) END \
     WHERE id = $1 AND lease_owner = $2 AND lease_token = $11 \
     RETURNING subscription_id, channel, target";

/// When an attempt disables its URL (`$10`, the reason, is set), the other pending messages to
/// that URL of the subscription (read from `source`) are parked with it.
fn park_with(source: &str) -> String {
    format!(
        "UPDATE deliveries SET status = 'parked' \
         WHERE $10 IS NOT NULL AND status = 'pending' AND channel = 'webhook' AND id <> $1 \
           AND (subscription_id, target) IN (SELECT subscription_id, target FROM {source})"
    )
}

/// What an attempt (`$3` = 1) at a webhook means for its subscription's URL, the message's
/// `subscription_id`, `target` and `channel` read from `source`: `$9` whether it is failing
/// now, `$10` the reason to disable it, `$4` when.
fn url_effect(source: &str) -> String {
    format!(
        "UPDATE subscriptions SET \
             url_failing_since = CASE WHEN $9 THEN COALESCE(url_failing_since, $4) END, \
             url_disabled_at = CASE WHEN $10 IS NOT NULL AND url_disabled_at IS NULL \
                 THEN $4 ELSE url_disabled_at END, \
             url_disabled_reason = COALESCE(url_disabled_reason, $10), \
             updated_at = CASE WHEN $10 IS NOT NULL THEN $4 ELSE updated_at END \
         WHERE $3 = 1 AND (id, url) IN \
             (SELECT subscription_id, target FROM {source} WHERE channel = 'webhook')"
    )
}

#[async_trait]
impl DeliveryQueue for SqlStore {
    async fn claim_due_deliveries(
        &self,
        lease: Lease,
        limit: u32,
        saturated: &[Destination],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let saturated: Vec<String> = saturated.iter().map(|d| d.as_str().to_owned()).collect();
        let rows: Vec<ClaimedRow> = match &self.pools {
            Pools::Postgres(_) => {
                sql(postgres::claim_deliveries())
                    .bind_lease(lease, limit)
                    .bind(saturated)
                    .fetch_all(&mut self.writer().await?)
                    .await?
            }
            Pools::Sqlite { .. } => {
                let mut tx = self.begin().await?;
                let rows = sqlite::claim_deliveries(&mut tx, lease, limit, saturated).await?;
                tx.commit().await?;
                rows
            }
        };
        let mut claimed: Vec<ClaimedDelivery> = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?;
        claimed.sort_by_key(|c| (c.subscription_id, c.sequence));
        Ok(claimed)
    }

    async fn release_deliveries(
        &self,
        owner: Uuid,
        destination: &Destination,
        ids: Vec<Uuid>,
    ) -> Result<(), StoreError> {
        sql(format!(
            "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, destination = $2 \
             WHERE lease_owner = $1 AND id {}",
            self.dialect().in_uuids(3)
        ))
        .bind(owner)
        .bind(destination.as_str())
        .bind(ids)
        .execute(&mut self.outcome_writer().await?)
        .await?;
        Ok(())
    }

    async fn record_delivery(
        &self,
        owner: Uuid,
        outcome: DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        let next = &outcome.next;
        let (failing, disabled_reason) = next.url_effect();
        let bind = |statement: Statement| {
            statement
                .bind(outcome.id)
                .bind(owner)
                .bind(i32::from(next.counts_as_attempt()))
                .bind(outcome.attempted_at)
                .bind(outcome.status_code.map(i32::from))
                .bind(outcome.error.as_deref())
                .bind(next.status())
                .bind(next.retry_at())
                .bind(failing)
                .bind(disabled_reason)
                .bind(outcome.lease_token.0)
        };
        let recorded = match self.dialect() {
            // One statement, one round trip: the hottest write of a delivery backlog.
            Backend::Postgres => {
                let (recorded,): (i64,) = bind(sql(format!(
                    "WITH recorded AS ({RECORD_ATTEMPT}), url AS ({}), parked AS ({}) \
                     SELECT count(*) FROM recorded",
                    url_effect("recorded"),
                    park_with("recorded")
                )))
                .fetch_one(&mut self.outcome_writer().await?)
                .await?;
                recorded > 0
            }
            // SQLite cannot update from a CTE; in-process, two statements cost little.
            Backend::Sqlite => {
                let mut tx = self.begin().await?;
                let recorded = bind(sql(RECORD_ATTEMPT)).execute(&mut tx).await? > 0;
                if recorded {
                    let source =
                        "(SELECT subscription_id, target, channel FROM deliveries WHERE id = $1)";
                    bind(sql(url_effect(source))).execute(&mut tx).await?;
                    if disabled_reason.is_some() {
                        bind(sql(park_with(source))).execute(&mut tx).await?;
                    }
                    tx.commit().await?;
                }
                recorded
            }
        };
        Ok(recorded)
    }

    async fn expire_subscriptions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Expired, StoreError> {
        let mut tx = self.begin().await?;
        let dialect = self.dialect();
        let select = select_recipients(
            dialect,
            &format!(
                "WHERE s.status = 'active' AND s.expires_at <= $1 ORDER BY s.expires_at \
                 LIMIT $2{}",
                dialect.skip_locked()
            ),
        );
        let rows: Vec<RecipientRow> = sql(select)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&mut tx)
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
        let subscriptions = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        if ids.is_empty() {
            return Ok(Expired::default());
        }
        // The notice of an ending is not news to batch: it goes at once.
        let mut queueing = Queueing::new(now, TimeDelta::zero());
        insert_messages(&mut tx, &messages, &mut queueing).await?;
        end_subscriptions(&mut tx, ids, SubscriptionStatus::Expired, now).await?;
        self.commit_waking(tx, queueing.queued.work()).await?;
        Ok(Expired {
            subscriptions,
            queued: queueing.queued,
        })
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats, StoreError> {
        let (pending, oldest): (i64, Option<DateTime<Utc>>) = sql(
            "SELECT count(*), min(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) \
             FROM deliveries WHERE status = 'pending'",
        )
        .bind(now)
        .fetch_one(&mut self.reader().await?)
        .await?;
        Ok(QueueStats {
            pending: u64::try_from(pending).unwrap_or_default(),
            oldest_due_at: oldest,
        })
    }
}
