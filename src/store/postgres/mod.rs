//! The Postgres store: production, and the coordination point when several instances share
//! one database (row claims use `FOR UPDATE SKIP LOCKED`, migrations an advisory lock).

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
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Transaction};
use std::time::Duration;
use uuid::Uuid;

pub struct PostgresStore {
    pool: PgPool,
}

/// A subscription with its active emails, in position order; callers append the WHERE.
macro_rules! select_subscription {
    ($($rest:literal),*) => {
        concat!(
            "SELECT ", subscription_columns!(), ", \
             (SELECT COALESCE(json_agg(e.email ORDER BY e.position), '[]'::json) \
             FROM subscription_emails e WHERE e.subscription_id = s.id AND e.active) AS emails \
             FROM subscriptions s ",
            $($rest),*
        )
    };
}

impl PostgresStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Which of the requested channels are already on another active subscription of the
    /// same tenant and target: one round trip.
    pub(super) async fn taken_channels(
        conn: &mut PgConnection,
        tenant: TenantId,
        target_key: &str,
        url: Option<&str>,
        emails: &[String],
        excluding: Option<SubscriptionId>,
    ) -> Result<(bool, Vec<String>), StoreError> {
        Ok(sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $1 AND target_key = $2 \
                 AND status = 'active' AND url = $3 AND id IS DISTINCT FROM $5), \
             ARRAY(SELECT email FROM subscription_emails WHERE tenant_id = $1 \
                 AND target_key = $2 AND active AND email = ANY($4) \
                 AND subscription_id IS DISTINCT FROM $5)",
        )
        .bind(tenant)
        .bind(target_key)
        .bind(url)
        .bind(emails)
        .bind(excluding)
        .fetch_one(conn)
        .await?)
    }

    pub(super) async fn fetch_subscription(
        conn: &mut PgConnection,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        sqlx::query_as::<_, SubscriptionRow>(select_subscription!(
            "WHERE s.tenant_id = $1 AND s.id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Subscription::try_from)
        .transpose()
    }

    /// Deactivates every email of an ended subscription, releasing them for new subscriptions.
    pub(super) async fn release_emails(
        tx: &mut Transaction<'_, Postgres>,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE subscription_emails SET active = false, removed_at = $2 \
             WHERE subscription_id = $1 AND active",
        )
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

pub(super) fn email_strings(emails: &[EmailAddress]) -> Vec<String> {
    emails.iter().map(|e| e.as_str().to_owned()).collect()
}

pub(super) fn tokens_for(emails: &[EmailAddress]) -> Vec<String> {
    emails.iter().map(|_| unsubscribe_token()).collect()
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        // sqlx holds a Postgres advisory lock while migrating, so instances starting together
        // apply each migration once.
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError> {
        let row: ApiKeyRow = sqlx::query_as(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(Uuid::new_v4())
        .bind(name.as_str())
        .bind(hash.as_str())
        .bind(now)
        .fetch_one(&self.pool)
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
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(&self, name: &KeyName, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        Ok(
            sqlx::query_scalar(
                "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            )
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    async fn find_flight(&self, id: Uuid) -> Result<Option<FlightTarget>, StoreError> {
        sqlx::query_as::<_, FlightRow>("SELECT number, date, origin FROM flights WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(FlightTarget::try_from)
            .transpose()
    }

    async fn create_subscription(&self, new: NewSubscription) -> Result<Saved, StoreError> {
        let target_key = new.target.key();
        let requested = email_strings(&new.channels.emails);
        let target = TargetColumns::from(&new.target);
        // One statement, one round trip: find the channels already subscribed to this target,
        // and unless the duplicate rules refuse the request, insert the shipment row (the first
        // subscriber of an AWB creates it; a new one makes a dormant shipment due now; likewise
        // the check of a flight), the
        // subscription and its not-yet-subscribed emails. The `allowed` guard mirrors
        // `RequestedChannels::plan`, which then decides, from the same snapshot, what to report.
        // The partial unique indexes catch what a concurrent request slips in between.
        let (url_taken, taken): (bool, Vec<String>) = sqlx::query_as(
            "WITH requested AS ( \
                 SELECT e.email, e.token, e.position::smallint AS position \
                 FROM unnest($15::text[], $16::text[]) WITH ORDINALITY AS e(email, token, position) \
             ), taken_emails AS ( \
                 SELECT email FROM subscription_emails \
                 WHERE tenant_id = $2 AND target_key = $4 AND active \
                   AND email IN (SELECT email FROM requested) \
             ), url_taken AS ( \
                 SELECT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $2 \
                     AND target_key = $4 AND status = 'active' AND url = $9) AS taken \
             ), new_emails AS ( \
                 SELECT * FROM requested WHERE email NOT IN (SELECT email FROM taken_emails) \
             ), allowed AS ( \
                 SELECT NOT (SELECT taken FROM url_taken) \
                     AND ($9::text IS NOT NULL OR EXISTS (SELECT 1 FROM new_emails)) AS ok \
             ), shipment AS ( \
                 INSERT INTO shipments (awb, next_poll_at, created_at, updated_at) \
                 SELECT $3, $13, $13, $13 WHERE $3::text IS NOT NULL AND (SELECT ok FROM allowed) \
                 ON CONFLICT (awb) DO UPDATE \
                     SET next_poll_at = LEAST(shipments.next_poll_at, EXCLUDED.next_poll_at) \
             ), flight_check AS ( \
                 INSERT INTO flight_checks (number, date, next_check_at, created_at) \
                 SELECT $5, $6, $13, $13 WHERE $5::text IS NOT NULL AND (SELECT ok FROM allowed) \
                 ON CONFLICT (number, date) DO UPDATE \
                     SET next_check_at = LEAST(flight_checks.next_check_at, EXCLUDED.next_check_at) \
             ), subscription AS ( \
                 INSERT INTO subscriptions (id, tenant_id, target_key, awb, flight_number, \
                     flight_date, flight_origin, flight_id, url, states, reference, status, \
                     signing_secret, created_at, updated_at, expires_at, headers) \
                 SELECT $1, $2, $4, $3, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $13, $14, \
                     $17 \
                 WHERE (SELECT ok FROM allowed) \
             ), emails AS ( \
                 INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
                     target_key, unsubscribe_token, created_at) \
                 SELECT $1, email, position, $2, $4, token, $13 FROM new_emails \
                 WHERE (SELECT ok FROM allowed) \
             ) \
             SELECT (SELECT taken FROM url_taken), ARRAY(SELECT email FROM taken_emails)",
        )
        .bind(new.id)
        .bind(new.tenant)
        .bind(target.awb)
        .bind(&target_key)
        .bind(target.flight_number)
        .bind(target.flight_date)
        .bind(target.flight_origin)
        .bind(new.flight_id)
        .bind(new.channels.url.as_ref().map(|u| u.as_str()))
        .bind(Json(new.states.to_codes()))
        .bind(new.reference.as_ref().map(|r| r.as_str()))
        .bind(new.signing_secret.expose())
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(&requested)
        .bind(tokens_for(&new.channels.emails))
        .bind(Json(new.headers.as_map()))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| map_unique_violation(e, &new.channels))?;
        let plan = new
            .channels
            .clone()
            .plan(url_taken, |e| taken.iter().any(|t| t == e.as_str()))?;
        Ok(saved_subscription(&new, plan, SubscriptionStatus::Active))
    }

    async fn get_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut conn = self.pool.acquire().await?;
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
            "WHERE s.tenant_id = $1 \
               AND ($2::text IS NULL OR s.target_key = $2) \
               AND ($3::text IS NULL OR s.status = $3) \
               AND ($4::text IS NULL OR s.url = $4) \
               AND ($5::timestamptz IS NULL OR (s.created_at, s.id) < ($5, $6::uuid)) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $7"
        ))
        .bind(tenant)
        .bind(filter.target.as_ref().map(Target::key))
        .bind(filter.status.map(SubscriptionStatus::as_str))
        .bind(filter.url.as_deref())
        .bind(after.map(|a| a.created_at))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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

crate::store::outbox::impl_outbox!(PostgresStore);
