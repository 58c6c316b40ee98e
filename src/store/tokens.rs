//! One-click unsubscribe links of emails (RFC 8058): each (subscription, address) has its own
//! random token, so a link removes exactly that address from exactly that subscription.

use super::lifecycle::end_if_channelless;
use super::sql::sql;
use super::{EmailTokens, SqlStore, StoreError, TokenTarget};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

const SELECT_TOKEN_TARGET: &str = "SELECT e.subscription_id, e.email, s.target_key, \
         e.active AND s.status = 'active' AS active \
     FROM subscription_emails e JOIN subscriptions s ON s.id = e.subscription_id \
     WHERE e.unsubscribe_token = $1";

#[async_trait]
impl EmailTokens for SqlStore {
    async fn email_for_token(&self, token: &str) -> Result<Option<TokenTarget>, StoreError> {
        Ok(sql(SELECT_TOKEN_TARGET)
            .bind(token)
            .fetch_optional(&mut self.reader().await?)
            .await?)
    }

    async fn unsubscribe_email_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenTarget>, StoreError> {
        let mut tx = self.begin().await?;
        let target: Option<TokenTarget> = sql(SELECT_TOKEN_TARGET)
            .bind(token)
            .fetch_optional(&mut tx)
            .await?;
        let Some(target) = target else {
            return Ok(None);
        };
        sql("UPDATE subscription_emails SET active = false, \
                 removed_at = COALESCE(removed_at, $2) \
             WHERE unsubscribe_token = $1")
        .bind(token)
        .bind(now)
        .execute(&mut tx)
        .await?;
        end_if_channelless(&mut tx, vec![target.subscription_id], now).await?;
        tx.commit().await?;
        Ok(Some(TokenTarget {
            active: false,
            ..target
        }))
    }
}
