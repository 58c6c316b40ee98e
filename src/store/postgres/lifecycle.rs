//! Changing and ending subscriptions: PUT, DELETE and channel unsubscribe, each in one
//! transaction.

use super::*;

impl PostgresStore {
    pub(super) async fn replace_channels(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Option<Saved>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<(String, String)> = sqlx::query_as(
            "SELECT status, target_key FROM subscriptions \
             WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
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
        let requested = email_strings(&update.channels.emails);
        let url = update.channels.url.as_ref().map(|u| u.as_str());
        let (url_taken, taken) =
            Self::taken_channels(&mut tx, tenant, &target_key, url, &requested, Some(id)).await?;
        let plan = update
            .channels
            .clone()
            .plan(url_taken, |e| taken.iter().any(|t| t == e.as_str()))?;
        let kept = email_strings(&plan.emails);

        sqlx::query(
            "UPDATE subscriptions SET url = $2, states = $3, reference = $4, updated_at = $5, \
                 url_disabled_at = NULL, url_disabled_reason = NULL, url_failing_since = NULL, \
                 headers = $6 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(plan.url.as_ref().map(|u| u.as_str()))
        .bind(Json(update.states.to_codes()))
        .bind(update.reference.as_ref().map(|r| r.as_str()))
        .bind(update.now)
        .bind(Json(update.headers.as_map()))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique_violation(e, &update.channels))?;
        sqlx::query(
            "UPDATE subscription_emails SET active = false, removed_at = $3 \
             WHERE subscription_id = $1 AND active AND NOT (email = ANY($2))",
        )
        .bind(id)
        .bind(&kept)
        .bind(update.now)
        .execute(&mut *tx)
        .await?;
        // Addresses that stay keep their unsubscribe token; re-added ones are re-activated.
        sqlx::query(
            "INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
                 target_key, unsubscribe_token, created_at) \
             SELECT $1, e.email, e.position::smallint, $2, $3, e.token, $6 \
             FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS e(email, token, position) \
             ON CONFLICT (subscription_id, email) DO UPDATE \
                 SET active = true, removed_at = NULL, position = EXCLUDED.position",
        )
        .bind(id)
        .bind(tenant)
        .bind(&target_key)
        .bind(&kept)
        .bind(tokens_for(&plan.emails))
        .bind(update.now)
        .execute(&mut *tx)
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
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE subscriptions SET status = 'unsubscribed', ended_at = $3, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
        )
        .bind(tenant)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() > 0 {
            Self::release_emails(&mut tx, id, now).await?;
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
        let mut tx = self.pool.begin().await?;
        let url_removed_from: Vec<Uuid> = match url {
            Some(url) => {
                sqlx::query_scalar(
                    "UPDATE subscriptions SET url = NULL, updated_at = $4 \
                     WHERE tenant_id = $1 AND target_key = $2 AND status = 'active' \
                       AND url = $3 RETURNING id",
                )
                .bind(tenant)
                .bind(&target_key)
                .bind(url)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?
            }
            None => Vec::new(),
        };
        let removed: Vec<(Uuid, String)> = sqlx::query_as(
            "UPDATE subscription_emails SET active = false, removed_at = $4 \
             WHERE tenant_id = $1 AND target_key = $2 AND active AND email = ANY($3) \
             RETURNING subscription_id, email",
        )
        .bind(tenant)
        .bind(&target_key)
        .bind(email_strings(emails))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let touched: Vec<Uuid> = url_removed_from
            .iter()
            .copied()
            .chain(removed.iter().map(|(id, _)| *id))
            .collect();
        let ended: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE subscriptions s SET status = 'unsubscribed', ended_at = $2, updated_at = $2 \
             WHERE s.id = ANY($1) AND s.status = 'active' AND s.url IS NULL \
               AND NOT EXISTS (SELECT 1 FROM subscription_emails e \
                               WHERE e.subscription_id = s.id AND e.active) \
             RETURNING s.id",
        )
        .bind(&touched)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(UnsubscribeReport {
            url_removed_from,
            emails_removed: parse_removed_emails(removed)?,
            ended,
        })
    }
}
