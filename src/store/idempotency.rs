//! Safe retries' memory: one row per (tenant, `Idempotency-Key`), claimed by the first request
//! that carries it, then holding that request's response for replays until it expires. Claims
//! and completions are single statements, so instances sharing a database agree on who runs a
//! request; a claim whose instance died lapses at its `locked_until`.

use super::sql::sql;
use super::{SqlStore, StoreError};
use crate::domain::{IdempotencyKey, TenantId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// The API's side of idempotency keys (the `Idempotency-Key` middleware).
#[async_trait]
pub trait IdempotencyKeys: Send + Sync + 'static {
    /// Claims the key for a request, or says why it cannot be run: answered before (replay),
    /// being run right now, or used for another request.
    async fn claim_idempotency_key(&self, claim: &IdempotencyClaim)
    -> Result<KeyState, StoreError>;
    /// Keeps the response of a claimed request for replays; false when the claim was lost.
    async fn complete_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<bool, StoreError>;
    /// Forgets a claimed request whose answer is not to be replayed, so a retry runs it again.
    async fn release_idempotency_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError>;
    /// Deletes keys expired by `now`; returns how many.
    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// A request asking to run under a key.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub tenant: TenantId,
    pub key: IdempotencyKey,
    /// See `domain::idempotency::request_fingerprint`.
    pub fingerprint: String,
    /// Who runs it: fences completions of a claim that lapsed and was taken over.
    pub owner: Uuid,
    pub now: DateTime<Utc>,
    /// Until when the claim holds without an answer (past it, a retry may take over).
    pub locked_until: DateTime<Utc>,
    /// Until when the answer is replayed.
    pub expires_at: DateTime<Utc>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyState {
    /// The caller runs the request.
    Claimed,
    /// The same request was answered before: this is its response.
    Replay(StoredResponse),
    /// The same request is running now.
    InFlight { locked_until: DateTime<Utc> },
    /// The key was used for another request (method, path or body).
    Reused,
}

/// A response as kept for replays.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers worth replaying (`Content-Type`, `Location`), in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    response_status: Option<i32>,
    response_headers: Option<Json<Vec<(String, String)>>>,
    response_body: Option<String>,
    locked_until: Option<DateTime<Utc>>,
}

/// A claim: inserted, or taking over a row that expired, or whose claim lapsed unanswered for
/// the same request (its instance died). `$1` tenant, `$2` key, `$3` fingerprint, `$4` owner,
/// `$5` now, `$6` locked until, `$7` expires at.
const CLAIM: &str = "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, owner, \
         locked_until, created_at, expires_at) VALUES ($1, $2, $3, $4, $6, $5, $7) \
     ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
         owner = excluded.owner, locked_until = excluded.locked_until, \
         response_status = NULL, response_headers = NULL, response_body = NULL, \
         created_at = excluded.created_at, expires_at = excluded.expires_at \
     WHERE idempotency_keys.expires_at <= $5 \
        OR (idempotency_keys.response_status IS NULL AND idempotency_keys.locked_until <= $5 \
            AND idempotency_keys.fingerprint = excluded.fingerprint) \
     RETURNING owner";

#[async_trait]
impl IdempotencyKeys for SqlStore {
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<KeyState, StoreError> {
        // A row deleted (purged or released) between the two statements: claim again.
        for _ in 0..3 {
            let claimed: Option<(Option<Uuid>,)> = sql(CLAIM)
                .bind(claim.tenant)
                .bind(claim.key.as_str())
                .bind(claim.fingerprint.as_str())
                .bind(claim.owner)
                .bind(claim.now)
                .bind(claim.locked_until)
                .bind(claim.expires_at)
                .fetch_optional(&mut self.writer().await?)
                .await?;
            if claimed.is_some() {
                return Ok(KeyState::Claimed);
            }
            let row: Option<KeyRow> = sql("SELECT fingerprint, response_status, \
                     response_headers, response_body, locked_until \
                 FROM idempotency_keys WHERE tenant_id = $1 AND key = $2")
            .bind(claim.tenant)
            .bind(claim.key.as_str())
            .fetch_optional(&mut self.writer().await?)
            .await?;
            let Some(row) = row else { continue };
            return Ok(if row.fingerprint != claim.fingerprint {
                KeyState::Reused
            } else if let Some(status) = row.response_status {
                KeyState::Replay(StoredResponse {
                    status: u16::try_from(status).map_err(|_| {
                        StoreError::Corrupt(format!("stored response status {status}"))
                    })?,
                    headers: row.response_headers.map(|h| h.0).unwrap_or_default(),
                    body: row.response_body.unwrap_or_default(),
                })
            } else {
                KeyState::InFlight {
                    locked_until: row.locked_until.unwrap_or(claim.now),
                }
            });
        }
        Err(StoreError::Corrupt(format!(
            "idempotency key `{}` vanished three times while being claimed",
            claim.key.as_str()
        )))
    }

    async fn complete_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<bool, StoreError> {
        let stored = sql("UPDATE idempotency_keys SET response_status = $4, \
                 response_headers = $5, response_body = $6, owner = NULL, locked_until = NULL \
             WHERE tenant_id = $1 AND key = $2 AND owner = $3")
        .bind(claim.tenant)
        .bind(claim.key.as_str())
        .bind(claim.owner)
        .bind(i32::from(response.status))
        .bind(Json(&response.headers))
        .bind(response.body.as_str())
        .execute(&mut self.writer().await?)
        .await?;
        Ok(stored > 0)
    }

    async fn release_idempotency_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        sql("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND owner = $3")
            .bind(claim.tenant)
            .bind(claim.key.as_str())
            .bind(claim.owner)
            .execute(&mut self.writer().await?)
            .await?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(sql("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut self.writer().await?)
            .await?)
    }
}
