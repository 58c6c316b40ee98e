//! One-click unsubscribe links of emails (RFC 8058): each (subscription, address) has its own
//! random token, so a link removes exactly that address from exactly that subscription.

use super::PostgresStore;
use crate::store::{StoreError, TokenTarget};
use chrono::{DateTime, Utc};

impl PostgresStore {
    pub(super) async fn token_target(
        &self,
        token: &str,
    ) -> Result<Option<TokenTarget>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.subscription_id, e.email, s.target_key, \
                 e.active AND s.status = 'active' AS active \
             FROM subscription_emails e JOIN subscriptions s ON s.id = e.subscription_id \
             WHERE e.unsubscribe_token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub(super) async fn unsubscribe_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenTarget>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let target: Option<TokenTarget> = sqlx::query_as(
            "UPDATE subscription_emails e SET active = false, \
                 removed_at = COALESCE(removed_at, $2) \
             FROM subscriptions s WHERE e.unsubscribe_token = $1 AND s.id = e.subscription_id \
             RETURNING e.subscription_id, e.email, s.target_key, false AS active",
        )
        .bind(token)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(target) = &target {
            sqlx::query(
                "UPDATE subscriptions s SET status = 'unsubscribed', ended_at = $2, \
                     updated_at = $2 \
                 WHERE s.id = $1 AND s.status = 'active' AND s.url IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM subscription_emails e \
                                   WHERE e.subscription_id = s.id AND e.active)",
            )
            .bind(target.subscription_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(target)
    }
}
