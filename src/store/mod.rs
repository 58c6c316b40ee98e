//! Durable state. This layer is the only one that knows SQL; it speaks domain types in and out.
//!
//! - `ports.rs`: one narrow trait per consumer, and [`Store`], which is all of them.
//! - [`SqlStore`] implements every port once, for both backends: each statement and each
//!   transaction flow is written once (`sql.rs` binds and runs it on either), one file per
//!   port. `postgres.rs` and `sqlite.rs` hold only what really differs: connecting and
//!   migrating, claims (`FOR UPDATE SKIP LOCKED` against SQLite's single writer) and the
//!   one-round-trip forms Postgres gets.
//! - `poll.rs`, `outbox.rs`, `flights.rs`, `rows.rs`: the types the ports speak and the row
//!   conversions. A few ports are declared beside their implementation instead of in
//!   `ports.rs` (idempotency keys, feeds, console sessions, tenant stats), each still in
//!   [`Store`].

mod batch;
mod console_sessions;
mod delivery_log;
mod delivery_queue;
mod feed;
mod flight_checks;
mod flight_reports;
mod flights;
mod idempotency;
mod keys;
mod lifecycle;
mod outbox;
mod poll;
mod ports;
mod postgres;
mod push_registrations;
mod queue;
mod rows;
mod shipment_leases;
mod sql;
mod sqlite;
mod subscriptions;
mod tenant_stats;
mod test_limit;
mod tokens;
mod views;
mod wake;

pub use crate::domain::ShipmentSummary;
pub use console_sessions::{ConsoleSession, ConsoleSessions, NewConsoleSession};
pub use feed::{FeedCursor, FeedPage, Feeds};
pub use flights::{ClaimedFlightCheck, FlightCheckRecord, FlightView};
pub use idempotency::{IdempotencyClaim, IdempotencyKeys, KeyState, StoredResponse};
pub use outbox::{
    ClaimedDelivery, DeliveryOutcome, DeliveryRecord, DeliveryScope, Expired, LeaseToken, NextStep,
    QueueStats, Queued, Retry,
};
pub use poll::{ClaimedShipment, PollRecord, PollResult, ShipmentView, StaleRegistration};
pub use ports::{
    ApiKeys, DeliveryLog, DeliveryQueue, EmailTokens, FlightChecks, Health, PushRegistrations,
    ShipmentLeases, Store, SubscriptionChanges, Subscriptions, TrackingViews, WorkSignals,
};
pub use push_registrations::{Push, PushTarget};
pub use tenant_stats::{DeliveryStats, HourlyDeliveries, TenantStats};
pub use test_limit::TestLimit;
pub use wake::{Wakeups, Work};

use crate::domain::{
    AllowNetworks, CustomHeaders, DuplicateError, EmailAddress, Reference, RequestedChannels,
    SigningSecret, StateFilter, Subscription, SubscriptionId, SubscriptionStatus, Target, TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sql::{Backend, Pooled, Tx, sql};
use sqlx::{PgPool, SqlitePool};
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
    /// `max` test messages were queued within the window; the next fits from `free_at`.
    #[error("the subscription had its {max} test messages of the window")]
    TestLimitReached { max: u32, free_at: DateTime<Utc> },
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
    /// Private networks this key's callbacks may reach (besides the operator's).
    pub allow_networks: AllowNetworks,
}

/// What an unrevoked API key grants its caller: its tenant, and the private networks its
/// callbacks may reach besides the operator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedKey {
    pub tenant: TenantId,
    pub allow_networks: AllowNetworks,
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

/// A new signing secret for a subscription, and until when the one it replaces still signs.
#[derive(Debug, Clone, Copy)]
pub struct SecretRotation<'a> {
    pub secret: &'a SigningSecret,
    pub now: DateTime<Utc>,
    pub overlap_until: DateTime<Utc>,
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
    /// Text to find (the console's search box): a subscription matches when its AWB or flight
    /// number contains it with its `-` and spaces left out (`020-0800` finds `020-08002050`),
    /// or its reference contains it as written; letters in any case (on SQLite, ASCII letters
    /// only), `%`, `_` and `\` only as themselves. Blank text filters nothing.
    pub search: Option<String>,
}

/// A page of a list, newest first: up to `limit` items after `after` (from the start without).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<PageAfter>,
    pub limit: u32,
}

/// Keyset position: the last `(created_at, id)` of the previous page, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageAfter {
    pub created_at: DateTime<Utc>,
    pub id: SubscriptionId,
}

/// What `POST /v1/unsubscribe` asks to remove from a target's subscriptions: a URL, emails
/// or both.
#[derive(Debug, Clone, Copy)]
pub struct ChannelRemoval<'a> {
    pub target: &'a Target,
    pub url: Option<&'a str>,
    pub emails: &'a [EmailAddress],
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
    #[sqlx(try_from = "Uuid")]
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
/// A claim's terms: who takes the lease, when, and until when it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub owner: Uuid,
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The store on either backend; see the module docs.
pub struct SqlStore {
    pools: Pools,
    /// See [`ConnectOptions`].
    email_batch_window: TimeDelta,
    wakeups: Arc<Wakeups>,
    /// Postgres: connections of their own for recording delivery outcomes. With hundreds of
    /// sends in flight, an outcome that waited for the shared pool behind claims, polls and API
    /// requests could outlive its lease, and the message would be sent again. (SQLite writes
    /// all go through its one writer, in-process, each over in microseconds.)
    outcome_pool: Option<PgPool>,
    notices: Arc<wake::Notices>,
    /// See [`ConnectOptions`].
    poll_spacing: TimeDelta,
}

enum Pools {
    Postgres(PgPool),
    /// SQLite allows one writer at a time: writes queue in-process on a one-connection pool
    /// (instead of failing with `SQLITE_BUSY`), reads run alongside on their own pool (WAL).
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
}

impl SqlStore {
    fn dialect(&self) -> Backend {
        match self.pools {
            Pools::Postgres(_) => Backend::Postgres,
            Pools::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// A write transaction.
    async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pools {
            Pools::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Pools::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
        })
    }

    /// A connection for reads.
    async fn reader(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match &self.pools {
            Pools::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
            Pools::Sqlite { reader, .. } => Pooled::Sqlite(reader.acquire().await?),
        })
    }

    /// A connection for recording a delivery outcome (see `outcome_pool`).
    async fn outcome_writer(&self) -> Result<Pooled, sqlx::Error> {
        match &self.outcome_pool {
            Some(pool) => Ok(Pooled::Postgres(pool.acquire().await?)),
            None => self.writer().await,
        }
    }

    /// A connection for a write that is one statement.
    async fn writer(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match &self.pools {
            Pools::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
            Pools::Sqlite { writer, .. } => Pooled::Sqlite(writer.acquire().await?),
        })
    }
}

/// How a store is opened: pool sizes, and the email batch window of what it queues.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// The shared pool (for SQLite: readers; writes always use one connection).
    pub max_connections: u32,
    /// Postgres: the connections reserved for recording delivery outcomes.
    pub outcome_connections: u32,
    /// How long an email queued by a poll, push or flight check waits for more news, so that a
    /// burst of events shares one email (`email.batch_window`).
    pub email_batch_window: TimeDelta,
    /// The least time between two carrier fetches of a shipment that a new subscription may
    /// cause (`poller.min_interval`): subscribing, deleting and subscribing again does not
    /// fetch it again sooner.
    pub poll_spacing: TimeDelta,
}

impl ConnectOptions {
    pub fn new(max_connections: u32) -> Self {
        Self {
            max_connections,
            outcome_connections: 4,
            email_batch_window: TimeDelta::zero(),
            poll_spacing: TimeDelta::zero(),
        }
    }
}

/// Opens the backend named by the URL's scheme, queueing emails without a batch window.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, ConnectOptions::new(max_connections)).await
}

/// Like [`connect`], with every option given.
pub async fn connect_with(
    url: &str,
    options: ConnectOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    let (pools, outcome_pool) = if url.starts_with("sqlite:") {
        let (writer, reader) = sqlite::connect(url, options.max_connections).await?;
        (Pools::Sqlite { writer, reader }, None)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = postgres::connect(url, options.max_connections).await?;
        let outcomes = postgres::connect(url, options.outcome_connections.max(1)).await?;
        (Pools::Postgres(pool), Some(outcomes))
    } else {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    };
    Ok(Arc::new(SqlStore {
        pools,
        email_batch_window: options.email_batch_window,
        wakeups: Arc::default(),
        outcome_pool,
        notices: Arc::default(),
        poll_spacing: options.poll_spacing,
    }))
}

#[async_trait]
impl Health for SqlStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Postgres(pool) => postgres::migrate(pool).await,
            Pools::Sqlite { writer, .. } => sqlite::migrate(writer).await,
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sql("SELECT 1").execute(&mut self.reader().await?).await?;
        Ok(())
    }

    fn pool_state(&self) -> PoolState {
        let (size, idle) = match &self.pools {
            Pools::Postgres(pool) => (pool.size(), pool.num_idle()),
            Pools::Sqlite { writer, reader } => (
                writer.size() + reader.size(),
                writer.num_idle() + reader.num_idle(),
            ),
        };
        PoolState {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
        }
    }

    fn backend(&self) -> &'static str {
        self.dialect().name()
    }
}
