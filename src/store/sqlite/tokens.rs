//! One-click unsubscribe links of emails (RFC 8058): each (subscription, address) has its own
//! random token, so a link removes exactly that address from exactly that subscription.

use super::{SqliteStore, ts};
use crate::store::{StoreError, TokenTarget};
use chrono::{DateTime, Utc};

impl SqliteStore {
    pub(super) async fn token_target(
        &self,
        token: &str,
    ) -> Result<Option<TokenTarget>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.subscription_id, e.email, s.target_key, \
                 e.active = 1 AND s.status = 'active' AS active \
             FROM subscription_emails e JOIN subscriptions s ON s.id = e.subscription_id \
             WHERE e.unsubscribe_token = ?1",
        )
        .bind(token)
        .fetch_optional(&self.reader)
        .await?)
    }

    pub(super) async fn unsubscribe_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenTarget>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let target: Option<TokenTarget> = sqlx::query_as(
            "SELECT e.subscription_id, e.email, s.target_key, 0 AS active \
             FROM subscription_emails e JOIN subscriptions s ON s.id = e.subscription_id \
             WHERE e.unsubscribe_token = ?1",
        )
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE subscription_emails SET active = 0, removed_at = COALESCE(removed_at, ?2) \
             WHERE unsubscribe_token = ?1",
        )
        .bind(token)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        if let Some(target) = &target {
            sqlx::query(
                "UPDATE subscriptions SET status = 'unsubscribed', ended_at = ?2, \
                     updated_at = ?2 \
                 WHERE id = ?1 AND status = 'active' AND url IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM subscription_emails e \
                                   WHERE e.subscription_id = subscriptions.id AND e.active = 1)",
            )
            .bind(target.subscription_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(target)
    }
}
