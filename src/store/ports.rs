//! The store as its consumers see it: one narrow port per consumer, and [`Store`], which is
//! all of them (what `app.rs` opens and the API holds). A component holds only the port it
//! uses, so that what it may touch in storage is visible in its type.

use super::Wakeups;
use super::push_registrations::{Push, PushTarget};
use super::{
    ApiKeyInfo, ChannelRemoval, ClaimedDelivery, ClaimedFlightCheck, ClaimedShipment,
    DeliveryOutcome, DeliveryRecord, DeliveryScope, Expired, FlightCheckRecord, FlightView, Lease,
    NewSubscription, PageRequest, PollRecord, PoolState, QueueStats, Queued, Retry, Saved,
    SecretRotation, ShipmentView, StaleRegistration, StoreError, SubscriptionFilter,
    SubscriptionUpdate, TokenTarget, UnsubscribeReport, VerifiedKey,
};
use crate::domain::{
    AllowNetworks, ApiKeyHash, AwbNumber, CallbackTokenHash, Destination, FlightKey, FlightNumber,
    FlightTarget, KeyName, Subscription, SubscriptionId, TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Every port: what `app.rs` opens and the HTTP API holds.
pub trait Store:
    Health
    + WorkSignals
    + ApiKeys
    + Subscriptions
    + SubscriptionChanges
    + EmailTokens
    + TrackingViews
    + ShipmentLeases
    + PushRegistrations
    + FlightChecks
    + DeliveryQueue
    + DeliveryLog
    + super::IdempotencyKeys
    + super::Feeds
    + super::ConsoleSessions
    + super::TenantStats
{
}

impl Store for super::SqlStore {}

/// Start-up and `/readyz`.
#[async_trait]
pub trait Health: Send + Sync + 'static {
    /// Applies pending migrations; safe when several instances start at once.
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    fn pool_state(&self) -> PoolState;
    /// `postgres` or `sqlite`, for logs and metrics.
    fn backend(&self) -> &'static str;
}

/// What a worker waits on between rounds (see `wake.rs`).
#[async_trait]
pub trait WorkSignals: Send + Sync + 'static {
    /// Signalled when work is committed, by this process or (on Postgres) another instance.
    fn wakeups(&self) -> Arc<Wakeups>;
    /// Relays other instances' notices to [`WorkSignals::wakeups`] until `shutdown`; on
    /// SQLite, which has no other instances, it returns at once.
    async fn relay_notices(&self, shutdown: CancellationToken);
}

/// `skyhook keys …` and the API's authentication.
#[async_trait]
pub trait ApiKeys: Send + Sync + 'static {
    async fn create_api_key(
        &self,
        name: &KeyName,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyInfo, StoreError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Returns false when no unrevoked key has that name.
    async fn revoke_api_key(&self, name: &KeyName, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// What an unrevoked key grants; `None` for an unknown or revoked key.
    async fn verify_key(&self, hash: &ApiKeyHash) -> Result<Option<VerifiedKey>, StoreError>;
    /// Replaces the private networks an unrevoked key's callbacks may reach; false when no
    /// unrevoked key has that name.
    async fn set_allowed_networks(
        &self,
        name: &KeyName,
        networks: &AllowNetworks,
    ) -> Result<bool, StoreError>;
}

/// Making and reading subscriptions (the API).
#[async_trait]
pub trait Subscriptions: Send + Sync + 'static {
    /// Applies the duplicate rules and inserts, creating the shipment row for an AWB target.
    async fn create_subscription(&self, new: NewSubscription) -> Result<Saved, StoreError>;
    /// Creates each of `batch` as [`Self::create_subscription`] would, in input order (an
    /// item sees the channels earlier items took), in a few multi-row statements; one item's
    /// refusal is its own outcome and fails none of the others.
    async fn create_subscriptions(
        &self,
        batch: Vec<NewSubscription>,
    ) -> Result<Vec<Result<Saved, StoreError>>, StoreError>;
    async fn get_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError>;
    /// Newest first; returns at most `page.limit` items.
    async fn list_subscriptions(
        &self,
        tenant: TenantId,
        filter: &SubscriptionFilter,
        page: PageRequest,
    ) -> Result<Vec<Subscription>, StoreError>;
    /// A flight Skyhook has learned of, by its `flightUUID`.
    async fn find_flight(&self, id: Uuid) -> Result<Option<FlightTarget>, StoreError>;
    /// The `flightUUID` of a flight, which it is given here if Skyhook did not know it yet (a
    /// subscription by number, date and origin teaches Skyhook the flight before any source).
    async fn learn_flight(&self, key: &FlightKey, now: DateTime<Utc>) -> Result<Uuid, StoreError>;
}

/// Changing and ending subscriptions (the API).
#[async_trait]
pub trait SubscriptionChanges: Send + Sync + 'static {
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
        removal: &ChannelRemoval<'_>,
        now: DateTime<Utc>,
    ) -> Result<UnsubscribeReport, StoreError>;
}

/// The one-click unsubscribe links of emails.
#[async_trait]
pub trait EmailTokens: Send + Sync + 'static {
    /// The (subscription, email) an email's one-click unsubscribe token stands for.
    async fn email_for_token(&self, token: &str) -> Result<Option<TokenTarget>, StoreError>;
    /// Removes the token's address from its subscription (idempotent); a subscription left
    /// without channels ends as `unsubscribed`.
    async fn unsubscribe_email_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenTarget>, StoreError>;
}

/// What the API shows of shipments and flights.
#[async_trait]
pub trait TrackingViews: Send + Sync + 'static {
    /// A shipment, for a tenant with a subscription to it (of any status).
    async fn get_shipment(
        &self,
        tenant: TenantId,
        awb: &AwbNumber,
    ) -> Result<Option<ShipmentView>, StoreError>;
    /// A flight by its `flightUUID`, with the tenant's AWBs on it.
    async fn get_flight(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<FlightView>, StoreError>;
    /// Every known leg of a flight number on a date, by origin.
    async fn find_flights(
        &self,
        tenant: TenantId,
        number: &FlightNumber,
        date: NaiveDate,
    ) -> Result<Vec<FlightView>, StoreError>;
}

/// The shipment poller's side: shipments under lease, and what a poll found.
#[async_trait]
pub trait ShipmentLeases: WorkSignals {
    /// Claims up to `limit` due shipments that have an active subscription and no live claim;
    /// no shipment is claimed by two instances at once.
    async fn claim_due_shipments(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError>;
    /// Writes polls' outcomes and releases their claims, in one transaction where it can:
    /// each only if `owner` still holds its claim, so one whose claim was lost is left out
    /// (`None`, writing nothing) without failing the others; otherwise the messages it
    /// queued. One result per record, in their order. A poll that cannot be written at all
    /// fails the call, but only after every other one is written.
    async fn record_polls(
        &self,
        owner: Uuid,
        records: Vec<PollRecord>,
    ) -> Result<Vec<Option<Queued>>, StoreError>;
    /// Claims up to `limit` shipments still registered with a push carrier (`carrier_ref` set)
    /// that no active subscription points at; each is unregistered, then recorded with
    /// `record_polls` (`Unregistered`, or `Failed`, which backs off until `next_poll_at`).
    async fn claim_stale_registrations(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<StaleRegistration>, StoreError>;
}

/// Push carriers' registrations (Lufthansa) and their pushes (see `push_registrations.rs`).
#[async_trait]
pub trait PushRegistrations: WorkSignals {
    /// Under `owner`'s claim: the callback token of the shipment's next registration with
    /// `carrier`, written before the registration is sent; the previous one is forgotten.
    /// False when the claim was lost.
    async fn begin_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        carrier: &str,
        token: &CallbackTokenHash,
    ) -> Result<bool, StoreError>;
    /// Under `owner`'s claim: the carrier's id of the registration, the moment it answered.
    async fn complete_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        carrier_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Under `owner`'s claim: the carrier confirmed that it still has the registration.
    async fn confirm_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The registration whose callback URL carries the token of this hash, if any.
    async fn find_registration(
        &self,
        carrier: &str,
        token: &CallbackTokenHash,
    ) -> Result<Option<PushTarget>, StoreError>;
    /// Counts a push to the registration and makes a fetch due no later than `push.due`;
    /// returns when the fetch is due (an earlier push's time, if one is pending), or `None`
    /// when the registration is no longer that one. A fetch due already wakes the pollers.
    async fn record_push(&self, push: &Push<'_>) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Wakes the shipment pollers of every instance: a fetch a push asked for is due now.
    fn wake_pollers(&self);
}

/// The flight poller's side: subscribed flights' checks under lease.
#[async_trait]
pub trait FlightChecks: WorkSignals {
    /// Claims up to `limit` due checks of flights with an active subscription and no live
    /// claim.
    async fn claim_due_flight_checks(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<ClaimedFlightCheck>, StoreError>;
    /// Writes a check's outcome and releases the claim, only if `owner` still holds it;
    /// returns the messages it queued, or `None` when the claim was lost.
    async fn record_flight_check(
        &self,
        owner: Uuid,
        record: FlightCheckRecord,
    ) -> Result<Option<Queued>, StoreError>;
}

/// The dispatcher's side of the outbox.
#[async_trait]
pub trait DeliveryQueue: WorkSignals {
    /// Claims up to `limit` due messages, passing over those for the `saturated` destinations.
    /// A `subscription.completed` or `.expired` message waits until everything queued before it
    /// to the same target is done. Each claim writes a new lease token.
    async fn claim_due_deliveries(
        &self,
        lease: Lease,
        limit: u32,
        saturated: &[Destination],
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Gives back messages of one destination that `owner` claimed but will not send now (their
    /// destination has its share in flight), due as they were; records their destination, so
    /// later claims pass them over while it stays saturated.
    async fn release_deliveries(
        &self,
        owner: Uuid,
        destination: &Destination,
        ids: Vec<Uuid>,
    ) -> Result<(), StoreError>;
    /// Records an attempt and releases the claim, only if `owner` still holds it under the
    /// outcome's lease token.
    async fn record_delivery(
        &self,
        owner: Uuid,
        outcome: DeliveryOutcome,
    ) -> Result<bool, StoreError>;
    /// Ends active subscriptions past `expiresAt` (up to `limit`), queuing the notice of each.
    async fn expire_subscriptions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Expired, StoreError>;
    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats, StoreError>;
}

/// The API's side of the outbox: the delivery log and what a tenant may do to it.
#[async_trait]
pub trait DeliveryLog: Send + Sync + 'static {
    /// Queues a `subscription.test` message; returns its message id and what was queued.
    /// Refused with `StoreError::TestLimitReached` past `limit` (see `test_limit.rs`).
    async fn queue_test_message(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        now: DateTime<Utc>,
        limit: super::TestLimit,
    ) -> Result<Option<(String, Queued)>, StoreError>;
    /// Makes a message due again now (same body and id), unless an attempt of it holds a live
    /// lease: clearing that would let a second send start beside it, and its outcome would
    /// overwrite the retry.
    async fn retry_delivery(
        &self,
        scope: DeliveryScope,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Retry, StoreError>;
    /// Makes every failed message in `scope` due again now, as `retry_delivery` does each;
    /// returns how many.
    async fn retry_failed_deliveries(
        &self,
        scope: DeliveryScope,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Every message of a subscription, in sequence order; `None` when the tenant has no
    /// such subscription.
    async fn list_deliveries(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        limit: u32,
    ) -> Result<Option<Vec<DeliveryRecord>>, StoreError>;
    /// The body of a message in `scope`, as queued (`None` when there is none).
    async fn delivery_body(
        &self,
        scope: DeliveryScope,
        delivery: Uuid,
    ) -> Result<Option<String>, StoreError>;
    /// Replaces the signing secret; the old one keeps signing alongside until
    /// `rotation.overlap_until`.
    async fn rotate_signing_secret(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
        rotation: &SecretRotation<'_>,
    ) -> Result<bool, StoreError>;
}
