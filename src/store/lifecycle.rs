//! Changing and ending subscriptions, each in one transaction: PUT, DELETE and channel
//! unsubscribe; ending subscriptions that completed or expired (`end_subscriptions`); and the
//! lock on an active subscription that a rotation or a test message takes first
//! (`lock_active`).

use super::rows::corrupt;
use super::sql::{Conn, sql};
use super::subscriptions::{
    email_strings, fetch_subscription, map_unique_violation, taken_channels, upsert_emails,
};
use super::wake::Work;
use super::{
    ChannelRemoval, Saved, SqlStore, StoreError, SubscriptionChanges, SubscriptionUpdate,
    UnsubscribeReport,
};
use crate::domain::message::Channel;
use crate::domain::{
    CallbackUrl, Destination, EmailAddress, Subscription, SubscriptionId, SubscriptionStatus,
    TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// A PUT re-enables the URL: the messages parked while it was disabled are due again now, in
/// their order, at the URL as it now is; when the PUT removed the URL they fail, saying so.
async fn unpark_webhooks(
    conn: &mut impl Conn,
    id: SubscriptionId,
    url: Option<&CallbackUrl>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let url = url.map(|u| u.as_str());
    let destination = url.and_then(|u| Destination::of(Channel::Webhook, u));
    Ok(sql("UPDATE deliveries SET next_attempt_at = $4, \
             status = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'pending' END, \
             target = COALESCE($2, target), destination = COALESCE($3, destination), \
             last_error = CASE WHEN $2 IS NULL \
                 THEN 'the callback URL was removed while the message was parked' \
                 ELSE last_error END \
         WHERE subscription_id = $1 AND channel = 'webhook' AND status = 'parked'")
    .bind(id)
    .bind(url)
    .bind(destination.as_ref().map(Destination::as_str))
    .bind(now)
    .execute(conn)
    .await?)
}

#[async_trait]
impl SubscriptionChanges for SqlStore {
    async fn update_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Option<Saved>, StoreError> {
        let mut tx = self.begin().await?;
        let Some(target_key) = lock_active(&mut tx, tenant, id).await? else {
            return Ok(None);
        };
        let taken =
            taken_channels(&mut tx, tenant, &target_key, &update.channels, Some(id)).await?;
        let plan = update.channels.clone().plan(&taken)?;
        sql(
            "UPDATE subscriptions SET url = $2, states = $3, reference = $4, updated_at = $5, \
                 url_disabled_at = NULL, url_disabled_reason = NULL, url_failing_since = NULL, \
                 headers = $6, feed = $7 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(plan.url.as_ref().map(|u| u.as_str()))
        .bind(Json(update.states.to_codes()))
        .bind(update.reference.as_ref().map(|r| r.as_str()))
        .bind(update.now)
        .bind(Json(update.headers.as_map()))
        .bind(plan.feed)
        .execute(&mut tx)
        .await
        .map_err(|e| map_unique_violation(e, &update.channels))?;
        sql(format!(
            "UPDATE subscription_emails SET active = false, removed_at = $3 \
             WHERE subscription_id = $1 AND active AND NOT (email {})",
            self.dialect().in_texts(2)
        ))
        .bind(id)
        .bind(email_strings(&plan.emails))
        .bind(update.now)
        .execute(&mut tx)
        .await?;
        upsert_emails(&mut tx, id, tenant, &target_key, &plan.emails, update.now)
            .await
            .map_err(|e| map_unique_violation(e, &update.channels))?;
        let unparked = unpark_webhooks(&mut tx, id, plan.url.as_ref(), update.now).await?;
        let subscription = fetch_subscription(&mut tx, tenant, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("subscription {id} vanished")))?;
        self.commit_waking(tx, (unparked > 0).then_some(Work::Deliveries))
            .await?;
        Ok(Some(Saved {
            subscription,
            skipped_emails: plan.skipped_emails,
        }))
    }

    async fn unsubscribe_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut tx = self.begin().await?;
        let ended = sql(
            "UPDATE subscriptions SET status = 'unsubscribed', ended_at = $3, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
        )
        .bind(tenant)
        .bind(id)
        .bind(now)
        .execute(&mut tx)
        .await?;
        if ended > 0 {
            release_emails(&mut tx, vec![id], now).await?;
        }
        let subscription = fetch_subscription(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(subscription)
    }

    async fn unsubscribe_channels(
        &self,
        tenant: TenantId,
        removal: &ChannelRemoval<'_>,
        now: DateTime<Utc>,
    ) -> Result<UnsubscribeReport, StoreError> {
        let target_key = removal.target.key();
        let mut tx = self.begin().await?;
        let url_removed_from: Vec<(Uuid,)> = match removal.url {
            Some(url) => {
                sql("UPDATE subscriptions SET url = NULL, updated_at = $4 \
                     WHERE tenant_id = $1 AND target_key = $2 AND status = 'active' \
                       AND url = $3 RETURNING id")
                .bind(tenant)
                .bind(&target_key)
                .bind(url)
                .bind(now)
                .fetch_all(&mut tx)
                .await?
            }
            None => Vec::new(),
        };
        let url_removed_from: Vec<SubscriptionId> = url_removed_from
            .into_iter()
            .map(|(id,)| id.into())
            .collect();
        let removed: Vec<(Uuid, String)> = sql(format!(
            "UPDATE subscription_emails SET active = false, removed_at = $4 \
             WHERE tenant_id = $1 AND target_key = $2 AND active AND email {} \
             RETURNING subscription_id, email",
            self.dialect().in_texts(3)
        ))
        .bind(tenant)
        .bind(&target_key)
        .bind(email_strings(removal.emails))
        .bind(now)
        .fetch_all(&mut tx)
        .await?;
        let touched: Vec<SubscriptionId> = url_removed_from
            .iter()
            .copied()
            .chain(removed.iter().map(|(id, _)| SubscriptionId::from(*id)))
            .collect();
        let ended = end_if_channelless(&mut tx, touched, now).await?;
        tx.commit().await?;
        Ok(UnsubscribeReport {
            url_removed_from,
            emails_removed: parse_removed_emails(removed)?,
            ended,
        })
    }
}

/// Locks the tenant's subscription `id` until commit, for a change only an active one takes;
/// returns its target key, or `None` when the tenant has no such subscription.
pub(super) async fn lock_active(
    conn: &mut impl Conn,
    tenant: TenantId,
    id: SubscriptionId,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String, String)> = sql(format!(
        "SELECT status, target_key FROM subscriptions WHERE tenant_id = $1 AND id = $2{}",
        conn.backend().for_update()
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some((status, target_key)) = row else {
        return Ok(None);
    };
    require_active(&status)?;
    Ok(Some(target_key))
}

/// Only an active subscription is changed or sent a test message: `NotActive` otherwise.
pub(super) fn require_active(status: &str) -> Result<(), StoreError> {
    let status: SubscriptionStatus = status.parse().map_err(StoreError::Corrupt)?;
    if status == SubscriptionStatus::Active {
        Ok(())
    } else {
        Err(StoreError::NotActive(status))
    }
}

/// Ends the active subscriptions `ids` as `status` (their target is done, or they expired)
/// and frees their emails; the notices of the endings are the caller's to queue.
pub(super) async fn end_subscriptions(
    conn: &mut impl Conn,
    ids: Vec<SubscriptionId>,
    status: SubscriptionStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sql(format!(
        "UPDATE subscriptions SET status = $2, ended_at = $3, updated_at = $3 \
         WHERE id {} AND status = 'active'",
        conn.backend().in_uuids(1)
    ))
    .bind(ids.clone())
    .bind(status.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    release_emails(conn, ids, now).await
}

/// Frees the emails of subscriptions that just ended at `now`, for new subscriptions.
async fn release_emails(
    conn: &mut impl Conn,
    ended: Vec<SubscriptionId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sql(format!(
        "UPDATE subscription_emails SET active = false, removed_at = $2 \
         WHERE active AND subscription_id {}",
        conn.backend().in_uuids(1)
    ))
    .bind(ended)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends, as `unsubscribed`, those of the active subscriptions `ids` left without a URL or an
/// active email; returns which.
pub(super) async fn end_if_channelless(
    conn: &mut impl Conn,
    ids: Vec<SubscriptionId>,
    now: DateTime<Utc>,
) -> Result<Vec<SubscriptionId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ended: Vec<(Uuid,)> = sql(format!(
        "UPDATE subscriptions SET status = 'unsubscribed', ended_at = $2, updated_at = $2 \
         WHERE id {} AND status = 'active' AND url IS NULL AND NOT feed \
           AND NOT EXISTS (SELECT 1 FROM subscription_emails e \
                           WHERE e.subscription_id = subscriptions.id AND e.active) \
         RETURNING id",
        conn.backend().in_uuids(1)
    ))
    .bind(ids)
    .bind(now)
    .fetch_all(conn)
    .await?;
    Ok(ended.into_iter().map(|(id,)| id.into()).collect())
}

/// Parses the `(subscription, email)` rows an unsubscribe statement returned.
fn parse_removed_emails(
    rows: Vec<(Uuid, String)>,
) -> Result<Vec<(SubscriptionId, EmailAddress)>, StoreError> {
    rows.into_iter()
        .map(|(id, email)| {
            EmailAddress::parse(&email)
                .map(|e| (id.into(), e))
                .map_err(corrupt)
        })
        .collect()
}
