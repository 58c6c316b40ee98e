//! The embedded SQLite store: the zero-setup default for a single instance.
//!
//! SQLite allows one writer at a time, so writes go through a one-connection pool (queued
//! in-process instead of failing with `SQLITE_BUSY`) while reads use a pool of their own; WAL
//! mode lets them run alongside the writer. Times are bound as fixed-width RFC 3339 text so
//! that text comparison is time comparison.

mod flights;
mod lifecycle;
mod outbox;
mod queue;
mod registrations;
mod tokens;
mod tracking;

use super::rows::{
    ApiKeyRow, FlightRow, SubscriptionRow, TargetColumns, into_subscriptions, subscription_columns,
};
use super::{
    ApiKeyInfo, ClaimedShipment, NewSubscription, PageAfter, PollRecord, PoolState, Saved,
    ShipmentView, Store, StoreError, SubscriptionFilter, SubscriptionUpdate, UnsubscribeReport,
    map_unique_violation, parse_removed_emails, saved_subscription, unsubscribe_token,
};
use crate::domain::{
    ApiKeyHash, AwbNumber, EmailAddress, FlightTarget, KeyName, Subscription, SubscriptionId,
    SubscriptionStatus, Target, TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

/// A subscription with its active emails, in position order; callers append the WHERE.
macro_rules! select_subscription {
    ($($rest:literal),*) => {
        concat!(
            "SELECT ", subscription_columns!(), ", \
             (SELECT json_group_array(email) FROM (SELECT e.email FROM subscription_emails e \
             WHERE e.subscription_id = s.id AND e.active = 1 ORDER BY e.position)) AS emails \
             FROM subscriptions s ",
            $($rest),*
        )
    };
}

/// The one text form of a time in this database.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// All active emails of a tenant's target (a handful at most), minus one subscription's.
    pub(super) async fn taken_channels(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        target_key: &str,
        url: Option<&str>,
        excluding: Option<SubscriptionId>,
    ) -> Result<(bool, Vec<String>), StoreError> {
        let url_taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = ?1 AND target_key = ?2 \
                 AND status = 'active' AND url = ?3 AND id IS NOT ?4)",
        )
        .bind(tenant)
        .bind(target_key)
        .bind(url)
        .bind(excluding)
        .fetch_one(&mut *conn)
        .await?;
        let emails: Vec<String> = sqlx::query_scalar(
            "SELECT email FROM subscription_emails WHERE tenant_id = ?1 AND target_key = ?2 \
                 AND active = 1 AND subscription_id IS NOT ?3",
        )
        .bind(tenant)
        .bind(target_key)
        .bind(excluding)
        .fetch_all(&mut *conn)
        .await?;
        Ok((url_taken, emails))
    }

    pub(super) async fn fetch_subscription(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        sqlx::query_as::<_, SubscriptionRow>(select_subscription!(
            "WHERE s.tenant_id = ?1 AND s.id = ?2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Subscription::try_from)
        .transpose()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_emails(
        tx: &mut Transaction<'_, Sqlite>,
        id: SubscriptionId,
        tenant: TenantId,
        target_key: &str,
        emails: &[EmailAddress],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        for (position, email) in emails.iter().enumerate() {
            sqlx::query(
                "INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
                     target_key, unsubscribe_token, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (subscription_id, email) DO UPDATE \
                     SET active = 1, removed_at = NULL, position = excluded.position",
            )
            .bind(id)
            .bind(email.as_str())
            .bind(i64::try_from(position).unwrap_or(i64::MAX) + 1)
            .bind(tenant)
            .bind(target_key)
            .bind(unsubscribe_token())
            .bind(ts(now))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.writer.size() + self.reader.size(),
            idle: u32::try_from(self.writer.num_idle() + self.reader.num_idle())
                .unwrap_or(u32::MAX),
        }
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError> {
        let row: ApiKeyRow = sqlx::query_as(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(Uuid::new_v4())
        .bind(name.as_str())
        .bind(hash.as_str())
        .bind(ts(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::KeyNameTaken(name.as_str().into()),
            _ => e.into(),
        })?;
        Ok(row.into())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, name",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(&self, name: &KeyName, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        )
        .bind(name.as_str())
        .bind(ts(now))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        Ok(
            sqlx::query_scalar(
                "SELECT id FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
            )
            .bind(hash.as_str())
            .fetch_optional(&self.reader)
            .await?,
        )
    }

    async fn find_flight(&self, id: Uuid) -> Result<Option<FlightTarget>, StoreError> {
        sqlx::query_as::<_, FlightRow>("SELECT number, date, origin FROM flights WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .map(FlightTarget::try_from)
            .transpose()
    }

    async fn create_subscription(&self, new: NewSubscription) -> Result<Saved, StoreError> {
        let target_key = new.target.key();
        let mut tx = self.writer.begin().await?;
        let url = new.channels.url.as_ref().map(|u| u.as_str());
        let (url_taken, taken) =
            Self::taken_channels(&mut tx, new.tenant, &target_key, url, None).await?;
        let plan = new
            .channels
            .clone()
            .plan(url_taken, |e| taken.iter().any(|t| t == e.as_str()))?;
        let target = TargetColumns::from(&new.target);
        if let Some(awb) = target.awb {
            sqlx::query(
                "INSERT INTO shipments (awb, next_poll_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?2, ?2) \
                 ON CONFLICT (awb) DO UPDATE \
                     SET next_poll_at = MIN(next_poll_at, excluded.next_poll_at)",
            )
            .bind(awb)
            .bind(ts(new.created_at))
            .execute(&mut *tx)
            .await?;
        }
        if let (Some(number), Some(date)) = (target.flight_number, target.flight_date) {
            sqlx::query(
                "INSERT INTO flight_checks (number, date, next_check_at, created_at) \
                 VALUES (?1, ?2, ?3, ?3) \
                 ON CONFLICT (number, date) DO UPDATE \
                     SET next_check_at = MIN(next_check_at, excluded.next_check_at)",
            )
            .bind(number)
            .bind(date)
            .bind(ts(new.created_at))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO subscriptions (id, tenant_id, target_key, awb, flight_number, \
                 flight_date, flight_origin, flight_id, url, states, reference, status, \
                 signing_secret, created_at, updated_at, expires_at, headers) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'active', ?12, ?13, ?13, ?14, \
                 ?15)",
        )
        .bind(new.id)
        .bind(new.tenant)
        .bind(&target_key)
        .bind(target.awb)
        .bind(target.flight_number)
        .bind(target.flight_date)
        .bind(target.flight_origin)
        .bind(new.flight_id)
        .bind(plan.url.as_ref().map(|u| u.as_str()))
        .bind(Json(new.states.to_codes()))
        .bind(new.reference.as_ref().map(|r| r.as_str()))
        .bind(new.signing_secret.expose())
        .bind(ts(new.created_at))
        .bind(ts(new.expires_at))
        .bind(Json(new.headers.as_map()))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique_violation(e, &new.channels))?;
        Self::insert_emails(
            &mut tx,
            new.id,
            new.tenant,
            &target_key,
            &plan.emails,
            new.created_at,
        )
        .await
        .map_err(|e| map_unique_violation(e, &new.channels))?;
        tx.commit().await?;
        Ok(saved_subscription(&new, plan, SubscriptionStatus::Active))
    }

    async fn get_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut conn = self.reader.acquire().await?;
        Self::fetch_subscription(&mut conn, tenant, id).await
    }

    async fn list_subscriptions(
        &self,
        tenant: TenantId,
        filter: &SubscriptionFilter,
        after: Option<PageAfter>,
        limit: u32,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = sqlx::query_as(select_subscription!(
            "WHERE s.tenant_id = ?1 \
               AND (?2 IS NULL OR s.target_key = ?2) \
               AND (?3 IS NULL OR s.status = ?3) \
               AND (?4 IS NULL OR s.url = ?4) \
               AND (?5 IS NULL OR (s.created_at, s.id) < (?5, ?6)) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT ?7"
        ))
        .bind(tenant)
        .bind(filter.target.as_ref().map(Target::key))
        .bind(filter.status.map(SubscriptionStatus::as_str))
        .bind(filter.url.as_deref())
        .bind(after.map(|a| ts(a.created_at)))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        into_subscriptions(rows)
    }

    async fn update_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Option<Saved>, StoreError> {
        self.replace_channels(tenant, id, update).await
    }

    async fn unsubscribe_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        self.end_subscription(tenant, id, now).await
    }

    async fn unsubscribe_channels(
        &self,
        tenant: TenantId,
        target: &Target,
        url: Option<&str>,
        emails: &[EmailAddress],
        now: DateTime<Utc>,
    ) -> Result<UnsubscribeReport, StoreError> {
        self.remove_channels(tenant, target, url, emails, now).await
    }

    async fn claim_due_shipments(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError> {
        self.claim(owner, now, lease_until, limit).await
    }

    async fn record_poll(&self, owner: Uuid, record: PollRecord) -> Result<bool, StoreError> {
        self.record(owner, record).await
    }

    async fn claim_by_carrier_ref(
        &self,
        owner: Uuid,
        carrier: &str,
        carrier_ref: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<super::RefClaim, StoreError> {
        self.claim_ref(owner, carrier, carrier_ref, now, lease_until)
            .await
    }

    async fn claim_stale_registrations(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<super::StaleRegistration>, StoreError> {
        self.claim_stale(owner, now, lease_until, limit).await
    }

    async fn release_shipment(&self, owner: Uuid, awb: &AwbNumber) -> Result<(), StoreError> {
        self.release(owner, awb).await
    }

    async fn get_shipment(
        &self,
        tenant: TenantId,
        awb: &AwbNumber,
    ) -> Result<Option<ShipmentView>, StoreError> {
        self.shipment(tenant, awb).await
    }

    async fn email_for_token(
        &self,
        token: &str,
    ) -> Result<Option<crate::store::TokenTarget>, StoreError> {
        self.token_target(token).await
    }

    async fn unsubscribe_email_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::store::TokenTarget>, StoreError> {
        self.unsubscribe_token(token, now).await
    }
}

crate::store::outbox::impl_outbox!(SqliteStore);
