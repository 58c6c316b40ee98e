//! API keys: each key is its own tenant; only its hash is stored.

use super::rows::ApiKeyRow;
use super::sql::sql;
use super::{ApiKeyInfo, ApiKeys, SqlStore, StoreError};
use crate::domain::{ApiKeyHash, KeyName, TenantId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[async_trait]
impl ApiKeys for SqlStore {
    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError> {
        let row: ApiKeyRow = sql(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(Uuid::new_v4())
        .bind(name.as_str())
        .bind(hash.as_str())
        .bind(now)
        .fetch_one(&mut self.writer().await?)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::KeyNameTaken(name.as_str().into()),
            _ => e.into(),
        })?;
        Ok(row.into())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows: Vec<ApiKeyRow> =
            sql("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, name")
                .fetch_all(&mut self.reader().await?)
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(&self, name: &KeyName, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked =
            sql("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
                .bind(name.as_str())
                .bind(now)
                .execute(&mut self.writer().await?)
                .await?;
        Ok(revoked > 0)
    }

    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        let row: Option<(Uuid,)> =
            sql("SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(hash.as_str())
                .fetch_optional(&mut self.reader().await?)
                .await?;
        Ok(row.map(|(id,)| id.into()))
    }
}
