//! The web console's sign-in: sessions kept in the database (`console_sessions`), so that
//! every instance on it knows them. A session is stored under the hash of its cookie value
//! only, belongs to one API key, and lives while that key is unrevoked and until it expires.

use super::rows::stored_networks;
use super::sql::sql;
use super::{SqlStore, StoreError, VerifiedKey};
use crate::domain::{ApiKeyHash, ConsoleSessionHash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use std::fmt;
use uuid::Uuid;

/// The console's side of the store: its sessions.
#[async_trait]
pub trait ConsoleSessions: Send + Sync + 'static {
    /// Starts a session for the unrevoked key with this hash; `None` (nothing stored) for an
    /// unknown or revoked key. Also deletes sessions expired by `now` (housekeeping on the way).
    async fn start_console_session(
        &self,
        key: &ApiKeyHash,
        session: &NewConsoleSession<'_>,
    ) -> Result<Option<ConsoleSession>, StoreError>;
    /// The live session with this hash: `None` when unknown, expired, or its key has been
    /// revoked since (a revoked key's session ends at its next request).
    async fn console_session(
        &self,
        session: &ConsoleSessionHash,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsoleSession>, StoreError>;
    /// Ends a session (sign out); ending an unknown one is not an error. Also deletes
    /// sessions expired by `now` (housekeeping on the way).
    async fn end_console_session(
        &self,
        session: &ConsoleSessionHash,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A session to start: the hash of its cookie value, its CSRF token, and its lifetime.
#[derive(Debug, Clone, Copy)]
pub struct NewConsoleSession<'a> {
    pub hash: &'a ConsoleSessionHash,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A live console session: what its key grants, as [`super::ApiKeys::verify_key`] would say.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub key: VerifiedKey,
    /// The key's name, to show who is signed in.
    pub key_name: String,
    /// Every form of the session carries it; a `POST` without it is refused.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The CSRF token is a secret of the session's pages; logs get no copy.
        f.debug_struct("ConsoleSession")
            .field("key", &self.key)
            .field("key_name", &self.key_name)
            .field("csrf_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A session joined with its key, as both reads decode it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    tenant_id: Uuid,
    name: String,
    allow_networks: Json<Vec<String>>,
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for ConsoleSession {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(ConsoleSession {
            key: VerifiedKey {
                tenant: row.tenant_id.into(),
                allow_networks: stored_networks(&row.allow_networks.0)?,
            },
            key_name: row.name,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
        })
    }
}

/// Deletes the sessions expired by `$1`.
const PURGE_EXPIRED: &str = "DELETE FROM console_sessions WHERE expires_at <= $1";

#[async_trait]
impl ConsoleSessions for SqlStore {
    async fn start_console_session(
        &self,
        key: &ApiKeyHash,
        session: &NewConsoleSession<'_>,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let mut tx = self.begin().await?;
        // The key row is not locked: a revocation committed after this read ends the session
        // at its first request, as it would any older session of the key.
        let found: Option<(Uuid, String, Json<Vec<String>>)> =
            sql("SELECT id, name, allow_networks FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key.as_str())
            .fetch_optional(&mut tx)
            .await?;
        let Some((tenant_id, name, allow_networks)) = found else {
            return Ok(None);
        };
        sql(PURGE_EXPIRED)
            .bind(session.now)
            .execute(&mut tx)
            .await?;
        sql(
            "INSERT INTO console_sessions (session_hash, tenant_id, csrf_token, created_at, \
                 expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.hash.as_str())
        .bind(tenant_id)
        .bind(session.csrf_token)
        .bind(session.now)
        .bind(session.expires_at)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        let row = SessionRow {
            tenant_id,
            name,
            allow_networks,
            csrf_token: session.csrf_token.to_owned(),
            expires_at: session.expires_at,
        };
        row.try_into().map(Some)
    }

    async fn console_session(
        &self,
        session: &ConsoleSessionHash,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row: Option<SessionRow> = sql(
            "SELECT c.tenant_id, k.name, k.allow_networks, c.csrf_token, c.expires_at \
             FROM console_sessions c JOIN api_keys k ON k.id = c.tenant_id \
             WHERE c.session_hash = $1 AND c.expires_at > $2 AND k.revoked_at IS NULL",
        )
        .bind(session.as_str())
        .bind(now)
        .fetch_optional(&mut self.reader().await?)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn end_console_session(
        &self,
        session: &ConsoleSessionHash,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sql("DELETE FROM console_sessions WHERE session_hash = $1 OR expires_at <= $2")
            .bind(session.as_str())
            .bind(now)
            .execute(&mut self.writer().await?)
            .await?;
        Ok(())
    }
}
