//! The outbox's types: messages claimed for sending, the outcome of an attempt, the delivery
//! log, and the rows they are read from.

use super::StoreError;
use crate::domain::message::{Channel, Recipient};
pub use crate::domain::retry::NextStep;
use crate::domain::{
    AllowNetworks, Destination, SigningSecret, StateFilter, SubscriptionId, TenantId,
};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One message to one channel target, leased to this instance for sending.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    /// Written by this claim: the outcome is recorded only with it.
    pub lease_token: LeaseToken,
    /// Whom the attempt talks to, for the per-destination limit; `None` when the target has
    /// no host.
    pub destination: Option<Destination>,
    pub message_id: String,
    pub subscription_id: SubscriptionId,
    pub kind: String,
    pub channel: Channel,
    pub target: String,
    pub sequence: u64,
    /// The body fixed at queue time: every attempt sends these bytes.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// False once the channel was removed, disabled or the subscription unsubscribed: the
    /// message is then dropped instead of sent, or parked if [`Self::url_disabled`].
    pub channel_active: bool,
    /// The message's URL is still the subscription's, and disabled.
    pub url_disabled: bool,
    /// Since when the subscription's URL has failed without a success in between.
    pub url_failing_since: Option<DateTime<Utc>>,
    /// Static headers the subscriber asked for.
    pub headers: BTreeMap<String, String>,
    /// The current secret, then the previous one while a rotation overlaps.
    pub secrets: Vec<SigningSecret>,
    /// For email targets: the one-click unsubscribe token of that address.
    pub unsubscribe_token: Option<String>,
    /// The private networks the subscriber's API key allows (besides the operator's).
    pub allow_networks: AllowNetworks,
}

/// A fencing token: each claim of a message writes a new, larger one. An owner id alone
/// cannot tell two claims by the same process apart, so a late outcome of a lapsed claim
/// could overwrite the one that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub(crate) i64);

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    pub id: Uuid,
    /// The claim the attempt was made under.
    pub lease_token: LeaseToken,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    /// What went wrong, already cut to a size worth storing.
    pub error: Option<String>,
    pub next: NextStep,
}

impl NextStep {
    pub(super) fn status(&self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::RetryAt(_) => "pending",
            Self::DisableUrl(_) | Self::Park => "parked",
            Self::GiveUp | Self::Cancelled => "failed",
        }
    }

    pub(super) fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::RetryAt(at) => Some(*at),
            _ => None,
        }
    }

    /// A cancelled or parked message was not attempted.
    pub(super) fn counts_as_attempt(&self) -> bool {
        !matches!(self, Self::Cancelled | Self::Park)
    }
}

/// What a manual retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Due now.
    Queued,
    /// An attempt holds the message's lease until then; nothing changed.
    InFlight { lease_until: DateTime<Utc> },
    /// The tenant has no such message.
    NotFound,
}

/// Whose message a delivery id must name to be found: any of the tenant's (the API's
/// `/v1/deliveries/{id}`), or one of a given subscription's (the console's pages, which name
/// both in the URL and must not show one under the other's name).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeliveryScope {
    pub tenant: TenantId,
    pub subscription: Option<SubscriptionId>,
}

impl DeliveryScope {
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant,
            subscription: None,
        }
    }

    pub fn subscription(tenant: TenantId, subscription: SubscriptionId) -> Self {
        Self {
            tenant,
            subscription: Some(subscription),
        }
    }
}

/// A message as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub message_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub channel: String,
    pub target: String,
    pub sequence: i64,
    pub status: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Pending messages, for the queue gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueStats {
    pub pending: u64,
    /// The longest a due message has been waiting.
    pub oldest_due_at: Option<DateTime<Utc>>,
}

/// An active subscription's row as the outbox loads it.
#[derive(sqlx::FromRow)]
pub(super) struct RecipientRow {
    pub id: Uuid,
    pub status: String,
    pub awb: Option<String>,
    pub flight_number: Option<String>,
    pub flight_date: Option<chrono::NaiveDate>,
    pub flight_origin: Option<String>,
    pub reference: Option<String>,
    pub states: Json<Vec<String>>,
    pub next_sequence: i64,
    pub expires_at: DateTime<Utc>,
    pub url: Option<String>,
    pub emails: Json<Vec<String>>,
    pub feed: bool,
}

impl RecipientRow {
    /// `LH8160 on 2026-11-25 from FRA`, for a flight subscription's notices.
    pub fn flight_label(&self) -> Option<String> {
        let mut label = format!(
            "{} on {}",
            self.flight_number.as_deref()?,
            self.flight_date?
        );
        if let Some(origin) = &self.flight_origin {
            label.push_str(&format!(" from {origin}"));
        }
        Some(label)
    }
}

impl TryFrom<RecipientRow> for Recipient {
    type Error = StoreError;

    fn try_from(row: RecipientRow) -> Result<Self, StoreError> {
        Ok(Recipient {
            subscription_id: row.id.into(),
            reference: row.reference,
            states: StateFilter::parse(&row.states.0).map_err(super::rows::corrupt)?,
            next_sequence: u64::try_from(row.next_sequence).unwrap_or(1),
            expires_at: row.expires_at,
            url: row.url,
            emails: row.emails.0,
            feed: row.feed,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ClaimedRow {
    id: Uuid,
    lease_token: i64,
    message_id: String,
    subscription_id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    channel: String,
    target: String,
    sequence: i64,
    body: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    channel_active: bool,
    url_disabled: bool,
    url_failing_since: Option<DateTime<Utc>>,
    headers: Json<BTreeMap<String, String>>,
    signing_secret: String,
    previous_signing_secret: Option<String>,
    unsubscribe_token: Option<String>,
    allow_networks: Json<Vec<String>>,
}

impl TryFrom<ClaimedRow> for ClaimedDelivery {
    type Error = StoreError;

    fn try_from(row: ClaimedRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("delivery {}: {what}", row.id));
        let secrets = std::iter::once(row.signing_secret)
            .chain(row.previous_signing_secret)
            .map(|s| SigningSecret::from_stored(s).ok_or_else(|| corrupt("bad signing secret")))
            .collect::<Result<_, _>>()?;
        let channel = Channel::parse(&row.channel).ok_or_else(|| corrupt("unknown channel"))?;
        Ok(ClaimedDelivery {
            id: row.id,
            lease_token: LeaseToken(row.lease_token),
            destination: Destination::of(channel, &row.target),
            channel,
            message_id: row.message_id,
            subscription_id: row.subscription_id.into(),
            kind: row.kind,
            target: row.target,
            sequence: u64::try_from(row.sequence).unwrap_or_default(),
            body: row.body,
            attempts: u32::try_from(row.attempts).unwrap_or_default(),
            created_at: row.created_at,
            channel_active: row.channel_active,
            url_disabled: row.url_disabled,
            url_failing_since: row.url_failing_since,
            headers: row.headers.0,
            secrets,
            unsubscribe_token: row.unsubscribe_token,
            allow_networks: super::rows::stored_networks(&row.allow_networks.0)?,
        })
    }
}

/// How many messages one write queued, by channel: the caller counts them in its metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    pub webhooks: u64,
    pub emails: u64,
    /// Messages queued to tenants' feeds.
    pub feed: u64,
}

impl Queued {
    /// The dispatcher's wake-up if anything was queued for it, the feed readers' if anything
    /// went to a feed.
    pub(super) fn work(&self) -> Vec<super::Work> {
        let deliveries = (self.webhooks + self.emails > 0).then_some(super::Work::Deliveries);
        let feed = (self.feed > 0).then_some(super::Work::Feed);
        deliveries.into_iter().chain(feed).collect()
    }

    pub(super) fn add(&mut self, messages: &[crate::domain::message::Outgoing]) {
        self.feed += messages.iter().filter(|m| m.to_feed).count() as u64;
        for (channel, _) in messages.iter().flat_map(|m| &m.targets) {
            match channel {
                Channel::Webhook => self.webhooks += 1,
                Channel::Email => self.emails += 1,
            }
        }
    }
}

/// What an expiry round did: subscriptions ended, and their notices queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub subscriptions: u32,
    pub queued: Queued,
}
