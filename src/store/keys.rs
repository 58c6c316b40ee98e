//! API keys: each key is its own tenant; only its hash is stored, with the private networks
//! its callbacks may reach.

use super::rows::{API_KEY_COLUMNS, ApiKeyRow, stored_networks};
use super::sql::sql;
use super::{ApiKeyInfo, ApiKeys, SqlStore, StoreError, VerifiedKey};
use crate::domain::{AllowNetworks, ApiKeyHash, KeyName};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

#[async_trait]
impl ApiKeys for SqlStore {
    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError> {
        let row: ApiKeyRow = sql(format!(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING {API_KEY_COLUMNS}"
        ))
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
        row.try_into()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows: Vec<ApiKeyRow> = sql(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, name"
        ))
        .fetch_all(&mut self.reader().await?)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
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

    async fn verify_key(&self, hash: &ApiKeyHash) -> Result<Option<VerifiedKey>, StoreError> {
        let row: Option<(Uuid, Json<Vec<String>>)> = sql(
            "SELECT id, allow_networks FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_str())
        .fetch_optional(&mut self.reader().await?)
        .await?;
        row.map(|(id, networks)| {
            Ok(VerifiedKey {
                tenant: id.into(),
                allow_networks: stored_networks(&networks.0)?,
            })
        })
        .transpose()
    }

    async fn set_allowed_networks(
        &self,
        name: &KeyName,
        networks: &AllowNetworks,
    ) -> Result<bool, StoreError> {
        let changed =
            sql("UPDATE api_keys SET allow_networks = $2 WHERE name = $1 AND revoked_at IS NULL")
                .bind(name.as_str())
                .bind(Json(networks.to_strings()))
                .execute(&mut self.writer().await?)
                .await?;
        Ok(changed > 0)
    }
}
