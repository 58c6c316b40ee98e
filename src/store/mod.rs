//! Durable state behind one narrow [`Store`] trait, with a Postgres implementation (production,
//! several instances on one database) and an SQLite one (the embedded default). This layer is
//! the only one that knows SQL; it speaks domain types in and out.

mod flights;
mod outbox;
mod poll;
mod postgres;
mod rows;
mod sqlite;

pub use flights::{ClaimedFlightCheck, FlightCheckRecord, FlightStore, FlightView};
pub use outbox::{ClaimedDelivery, DeliveryOutcome, DeliveryRecord, NextStep, Outbox, QueueStats};
pub use poll::{
    ClaimedShipment, PollRecord, PollResult, RefClaim, ShipmentSummary, ShipmentView,
    StaleRegistration,
};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::domain::{
    ApiKeyHash, AwbNumber, ChannelPlan, CustomHeaders, DuplicateError, EmailAddress, FlightTarget,
    KeyName, Reference, RequestedChannels, SigningSecret, StateFilter, Subscription,
    SubscriptionId, SubscriptionStatus, Target, TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an API key named `{0}` already exists")]
    KeyNameTaken(String),
    #[error(transparent)]
    Duplicate(#[from] DuplicateError),
    #[error("subscription is {0}; only active subscriptions can be changed")]
    NotActive(SubscriptionStatus),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("unsupported database url `{0}`: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// An API key as listed by `skyhook keys list`; never the key itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyInfo {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Everything needed to insert a subscription; channels are resolved against existing
/// subscriptions inside the store, atomically with the insert.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub id: SubscriptionId,
    pub tenant: TenantId,
    pub target: Target,
    pub flight_id: Option<Uuid>,
    pub channels: RequestedChannels,
    pub states: StateFilter,
    pub reference: Option<Reference>,
    pub headers: CustomHeaders,
    pub signing_secret: SigningSecret,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A replacement of a subscription's mutable fields (PUT).
#[derive(Debug, Clone)]
pub struct SubscriptionUpdate {
    pub channels: RequestedChannels,
    pub states: StateFilter,
    pub reference: Option<Reference>,
    pub headers: CustomHeaders,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub subscription: Subscription,
    pub skipped_emails: Vec<EmailAddress>,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub target: Option<Target>,
    pub status: Option<SubscriptionStatus>,
    pub url: Option<String>,
}

/// Keyset position: the last `(created_at, id)` of the previous page, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageAfter {
    pub created_at: DateTime<Utc>,
    pub id: SubscriptionId,
}

/// What `POST /v1/unsubscribe` removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnsubscribeReport {
    /// Subscriptions whose URL channel was removed.
    pub url_removed_from: Vec<SubscriptionId>,
    /// `(subscription, email)` pairs removed.
    pub emails_removed: Vec<(SubscriptionId, EmailAddress)>,
    /// Subscriptions left without any channel, now `unsubscribed`.
    pub ended: Vec<SubscriptionId>,
}

/// What an unsubscribe link points at.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TokenTarget {
    pub subscription_id: SubscriptionId,
    pub email: String,
    /// `awb:NNN-NNNNNNNN` or `flight:…`, to tell the person what they leave.
    pub target_key: String,
    /// Still subscribed (the address is active on an active subscription).
    pub active: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Outbox + FlightStore + Send + Sync + 'static {
    /// Applies pending migrations; safe when several instances start at once.
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    fn pool_state(&self) -> PoolState;
    /// `postgres` or `sqlite`, for logs and metrics.
    fn backend(&self) -> &'static str;

    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Returns false when no unrevoked key has that name.
    async fn revoke_api_key(&self, name: &KeyName, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// The tenant of an unrevoked key.
    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, StoreError>;

    /// A flight Skyhook has learned of, by its `flightUUID`.
    async fn find_flight(&self, id: Uuid) -> Result<Option<FlightTarget>, StoreError>;

    /// Applies the duplicate rules and inserts, creating the shipment row for an AWB target.
    async fn create_subscription(&self, new: NewSubscription) -> Result<Saved, StoreError>;
    async fn get_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError>;
    /// Newest first; returns at most `limit` items.
    async fn list_subscriptions(
        &self,
        tenant: TenantId,
        filter: &SubscriptionFilter,
        after: Option<PageAfter>,
        limit: u32,
    ) -> Result<Vec<Subscription>, StoreError>;
    /// `Ok(None)` when the tenant has no such subscription.
    async fn update_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<Option<Saved>, StoreError>;
    /// Ends an active subscription as `unsubscribed`; an ended one is returned unchanged.
    async fn unsubscribe_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError>;
    /// Removes a URL and/or emails from the tenant's active subscriptions of a target.
    async fn unsubscribe_channels(
        &self,
        tenant: TenantId,
        target: &Target,
        url: Option<&str>,
        emails: &[EmailAddress],
        now: DateTime<Utc>,
    ) -> Result<UnsubscribeReport, StoreError>;

    /// Claims up to `limit` due shipments that have an active subscription and no live claim,
    /// until `lease_until`; no shipment is claimed by two instances at once.
    async fn claim_due_shipments(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError>;
    /// Writes a poll's outcome and releases the claim, only if `owner` still holds it;
    /// returns false (writing nothing) when the claim was lost.
    async fn record_poll(&self, owner: Uuid, record: PollRecord) -> Result<bool, StoreError>;
    /// The (subscription, email) an email's one-click unsubscribe token stands for.
    async fn email_for_token(&self, token: &str) -> Result<Option<TokenTarget>, StoreError>;
    /// Removes the token's address from its subscription (idempotent); a subscription left
    /// without channels ends as `unsubscribed`.
    async fn unsubscribe_email_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenTarget>, StoreError>;

    /// Claims the shipment a push carrier knows as `carrier_ref`, whatever its subscriptions, so
    /// that a push is applied under the same lease as a poll; write it back with `record_poll`
    /// or give it up with `release_shipment`.
    async fn claim_by_carrier_ref(
        &self,
        owner: Uuid,
        carrier: &str,
        carrier_ref: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<RefClaim, StoreError>;
    /// Claims up to `limit` shipments still registered with a push carrier (`carrier_ref` set)
    /// that no active subscription points at; each is unregistered, then recorded with
    /// `record_poll` (`Unregistered`, or `Failed`, which backs off until `next_poll_at`).
    async fn claim_stale_registrations(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StaleRegistration>, StoreError>;
    /// Gives a claim up without writing anything.
    async fn release_shipment(&self, owner: Uuid, awb: &AwbNumber) -> Result<(), StoreError>;
    /// A shipment, for a tenant with a subscription to it (of any status).
    async fn get_shipment(
        &self,
        tenant: TenantId,
        awb: &AwbNumber,
    ) -> Result<Option<ShipmentView>, StoreError>;
}

/// Opens the backend named by the URL's scheme.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PostgresStore::connect(url, max_connections).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// The subscription a create or update produces, built from what was written rather than read
/// back, which saves a round trip.
fn saved_subscription(
    new: &NewSubscription,
    plan: ChannelPlan,
    status: SubscriptionStatus,
) -> Saved {
    Saved {
        subscription: Subscription {
            id: new.id,
            tenant: new.tenant,
            target: new.target.clone(),
            flight_id: new.flight_id,
            url: plan.url,
            url_disabled: None,
            emails: plan.emails,
            header_names: new.headers.names(),
            states: new.states.clone(),
            reference: new.reference.clone(),
            status,
            created_at: new.created_at,
            updated_at: new.created_at,
            expires_at: new.expires_at,
            ended_at: None,
        },
        skipped_emails: plan.skipped_emails,
    }
}

/// Parses the `(subscription, email)` rows an unsubscribe statement returned.
fn parse_removed_emails(
    rows: Vec<(SubscriptionId, String)>,
) -> Result<Vec<(SubscriptionId, EmailAddress)>, StoreError> {
    rows.into_iter()
        .map(|(id, email)| {
            EmailAddress::parse(&email)
                .map(|e| (id, e))
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect()
}

/// A random token for the one-click unsubscribe link of one (subscription, email).
fn unsubscribe_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Names of the partial unique indexes that enforce the duplicate rules, so that a race the
/// pre-check could not see still ends as the right client error.
const ACTIVE_URL_INDEX: &str = "subscriptions_active_url";
const ACTIVE_EMAIL_INDEX: &str = "subscription_emails_active";

fn map_unique_violation(err: sqlx::Error, channels: &RequestedChannels) -> StoreError {
    let constraint = err
        .as_database_error()
        .and_then(|e| e.constraint().map(str::to_owned))
        .or_else(|| {
            // SQLite reports the columns, not the index name.
            err.as_database_error()
                .filter(|e| e.is_unique_violation())
                .map(|e| e.message().to_owned())
        });
    match constraint {
        Some(c) if c.contains(ACTIVE_URL_INDEX) || c.contains("subscriptions.url") => {
            match &channels.url {
                Some(url) => DuplicateError::UrlAlreadySubscribed(url.clone()).into(),
                None => StoreError::Database(err),
            }
        }
        Some(c) if c.contains(ACTIVE_EMAIL_INDEX) || c.contains("subscription_emails.email") => {
            DuplicateError::AllEmailsSubscribed(channels.emails.clone()).into()
        }
        _ => StoreError::Database(err),
    }
}
