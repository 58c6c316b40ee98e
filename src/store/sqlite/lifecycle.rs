//! Changing and ending subscriptions: PUT, DELETE and channel unsubscribe, each in one
//! transaction.

use super::*;

impl SqliteStore {
    pub(super) async fn replace_channels(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Option<Saved>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let current: Option<(String, String)> = sqlx::query_as(
            "SELECT status, target_key FROM subscriptions WHERE tenant_id = ?1 AND id = ?2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, target_key)) = current else {
            return Ok(None);
        };
        let status: SubscriptionStatus = status.parse().map_err(StoreError::Corrupt)?;
        if status != SubscriptionStatus::Active {
            return Err(StoreError::NotActive(status));
        }
        let url = update.channels.url.as_ref().map(|u| u.as_str());
        let (url_taken, taken) =
            Self::taken_channels(&mut tx, tenant, &target_key, url, Some(id)).await?;
        let plan = update
            .channels
            .clone()
            .plan(url_taken, |e| taken.iter().any(|t| t == e.as_str()))?;
        sqlx::query(
            "UPDATE subscriptions SET url = ?2, states = ?3, reference = ?4, updated_at = ?5, \
                 url_disabled_at = NULL, url_disabled_reason = NULL, url_failing_since = NULL, \
                 headers = ?6 \
             WHERE id = ?1",
        )
        .bind(id)
        .bind(plan.url.as_ref().map(|u| u.as_str()))
        .bind(Json(update.states.to_codes()))
        .bind(update.reference.as_ref().map(|r| r.as_str()))
        .bind(ts(update.now))
        .bind(Json(update.headers.as_map()))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique_violation(e, &update.channels))?;
        let kept = Json(plan.emails.iter().map(|e| e.as_str()).collect::<Vec<_>>());
        sqlx::query(
            "UPDATE subscription_emails SET active = 0, removed_at = ?3 \
             WHERE subscription_id = ?1 AND active = 1 \
               AND email NOT IN (SELECT value FROM json_each(?2))",
        )
        .bind(id)
        .bind(kept)
        .bind(ts(update.now))
        .execute(&mut *tx)
        .await?;
        Self::insert_emails(&mut tx, id, tenant, &target_key, &plan.emails, update.now)
            .await
            .map_err(|e| map_unique_violation(e, &update.channels))?;
        let subscription = Self::fetch_subscription(&mut tx, tenant, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("subscription {id} vanished")))?;
        tx.commit().await?;
        Ok(Some(Saved {
            subscription,
            skipped_emails: plan.skipped_emails,
        }))
    }

    pub(super) async fn end_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = sqlx::query(
            "UPDATE subscriptions SET status = 'unsubscribed', ended_at = ?3, updated_at = ?3 \
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'active'",
        )
        .bind(tenant)
        .bind(id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() > 0 {
            sqlx::query(
                "UPDATE subscription_emails SET active = 0, removed_at = ?2 \
                 WHERE subscription_id = ?1 AND active = 1",
            )
            .bind(id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        let subscription = Self::fetch_subscription(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(subscription)
    }

    pub(super) async fn remove_channels(
        &self,
        tenant: TenantId,
        target: &Target,
        url: Option<&str>,
        emails: &[EmailAddress],
        now: DateTime<Utc>,
    ) -> Result<UnsubscribeReport, StoreError> {
        let target_key = target.key();
        let mut tx = self.writer.begin().await?;
        let url_removed_from: Vec<Uuid> = match url {
            Some(url) => {
                sqlx::query_scalar(
                    "UPDATE subscriptions SET url = NULL, updated_at = ?4 \
                     WHERE tenant_id = ?1 AND target_key = ?2 AND status = 'active' \
                       AND url = ?3 RETURNING id",
                )
                .bind(tenant)
                .bind(&target_key)
                .bind(url)
                .bind(ts(now))
                .fetch_all(&mut *tx)
                .await?
            }
            None => Vec::new(),
        };
        let wanted = Json(emails.iter().map(|e| e.as_str()).collect::<Vec<_>>());
        let removed: Vec<(Uuid, String)> = sqlx::query_as(
            "UPDATE subscription_emails SET active = 0, removed_at = ?4 \
             WHERE tenant_id = ?1 AND target_key = ?2 AND active = 1 \
               AND email IN (SELECT value FROM json_each(?3)) \
             RETURNING subscription_id, email",
        )
        .bind(tenant)
        .bind(&target_key)
        .bind(wanted)
        .bind(ts(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut ended = Vec::new();
        let touched = url_removed_from
            .iter()
            .chain(removed.iter().map(|(id, _)| id));
        for id in touched {
            let closed: Option<Uuid> = sqlx::query_scalar(
                "UPDATE subscriptions SET status = 'unsubscribed', ended_at = ?2, updated_at = ?2 \
                 WHERE id = ?1 AND status = 'active' AND url IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM subscription_emails e \
                                   WHERE e.subscription_id = subscriptions.id AND e.active = 1) \
                 RETURNING id",
            )
            .bind(id)
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
            ended.extend(closed);
        }
        tx.commit().await?;
        Ok(UnsubscribeReport {
            url_removed_from,
            emails_removed: parse_removed_emails(removed)?,
            ended,
        })
    }
}
