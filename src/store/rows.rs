//! Row types shared by both backends: sqlx decodes the same struct from a Postgres or an SQLite
//! row, and the conversion into domain types (and its failure modes) lives in one place.

use super::{ApiKeyInfo, ClaimedShipment, ShipmentSummary, ShipmentView, StoreError};
use crate::domain::diff::StoredEvent;
use crate::domain::{
    AirportCode, AllowNetworks, AwbNumber, CallbackUrl, EmailAddress, FlightNumber, FlightTarget,
    Reference, StateFilter, Subscription, SummaryStatus, Target, TrackingEvent, UrlDisabled,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    id: Uuid,
    tenant_id: Uuid,
    awb: Option<String>,
    flight_number: Option<String>,
    flight_date: Option<NaiveDate>,
    flight_origin: Option<String>,
    flight_id: Option<Uuid>,
    url: Option<String>,
    url_disabled_at: Option<DateTime<Utc>>,
    url_disabled_reason: Option<String>,
    emails: Json<Vec<String>>,
    feed: bool,
    headers: Json<std::collections::BTreeMap<String, String>>,
    states: Json<Vec<String>>,
    reference: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    last_message_at: Option<DateTime<Utc>>,
}

/// Stored data that does not parse: Skyhook wrote it, so it is corrupt.
pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StoreError;

    fn try_from(row: SubscriptionRow) -> Result<Self, StoreError> {
        let target = match (row.awb, row.flight_number, row.flight_date) {
            (Some(awb), None, _) => Target::Awb(AwbNumber::parse(&awb).map_err(corrupt)?),
            (None, Some(number), Some(date)) => Target::Flight(FlightTarget {
                number: FlightNumber::parse(&number).map_err(corrupt)?,
                date,
                origin: row
                    .flight_origin
                    .as_deref()
                    .map(AirportCode::parse)
                    .transpose()
                    .map_err(corrupt)?,
            }),
            _ => return Err(corrupt(format!("subscription {} has no target", row.id))),
        };
        Ok(Subscription {
            id: row.id.into(),
            tenant: row.tenant_id.into(),
            target,
            flight_id: row.flight_id,
            url: row
                .url
                .as_deref()
                .map(CallbackUrl::parse)
                .transpose()
                .map_err(corrupt)?,
            url_disabled: row.url_disabled_at.map(|at| UrlDisabled {
                at,
                reason: row.url_disabled_reason.unwrap_or_default(),
            }),
            emails: row
                .emails
                .0
                .iter()
                .map(|e| EmailAddress::parse(e))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?,
            feed: row.feed,
            header_names: row.headers.0.into_keys().collect(),
            states: StateFilter::parse(&row.states.0).map_err(corrupt)?,
            reference: row
                .reference
                .as_deref()
                .map(Reference::parse)
                .transpose()
                .map_err(corrupt)?,
            status: row.status.parse().map_err(corrupt)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_message_at: row.last_message_at,
            expires_at: row.expires_at,
            ended_at: row.ended_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ApiKeyRow {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    allow_networks: Json<Vec<String>>,
}

/// The columns of [`ApiKeyRow`].
pub(super) const API_KEY_COLUMNS: &str = "id, name, created_at, revoked_at, allow_networks";

impl TryFrom<ApiKeyRow> for ApiKeyInfo {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(Self {
            allow_networks: stored_networks(&row.allow_networks.0)?,
            id: row.id.into(),
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// Networks as stored: written from parsed `Cidr`s, so a bad one is corruption.
pub(super) fn stored_networks(networks: &[String]) -> Result<AllowNetworks, StoreError> {
    AllowNetworks::parse(networks).map_err(corrupt)
}

#[derive(sqlx::FromRow)]
pub(super) struct FlightRow {
    number: String,
    date: NaiveDate,
    origin: String,
}

impl TryFrom<FlightRow> for FlightTarget {
    type Error = StoreError;

    fn try_from(row: FlightRow) -> Result<Self, StoreError> {
        Ok(FlightTarget {
            number: FlightNumber::parse(&row.number).map_err(corrupt)?,
            date: row.date,
            origin: Some(AirportCode::parse(&row.origin).map_err(corrupt)?),
        })
    }
}

/// The columns a [`SubscriptionRow`] is read from, but `emails` (aggregated per dialect).
pub(super) const SUBSCRIPTION_COLUMNS: &str = "s.id, s.tenant_id, s.awb, s.flight_number, \
     s.flight_date, s.flight_origin, s.flight_id, s.url, s.url_disabled_at, s.url_disabled_reason, \
     s.headers, s.states, s.reference, s.status, s.created_at, s.updated_at, s.expires_at, \
     s.ended_at, s.feed, s.last_message_at";

/// The flight columns of a target, in the order the insert statements bind them.
pub(super) struct TargetColumns<'a> {
    pub awb: Option<&'a str>,
    pub flight_number: Option<&'a str>,
    pub flight_date: Option<NaiveDate>,
    pub flight_origin: Option<&'a str>,
}

impl<'a> From<&'a Target> for TargetColumns<'a> {
    fn from(target: &'a Target) -> Self {
        match target {
            Target::Awb(awb) => Self {
                awb: Some(awb.as_str()),
                flight_number: None,
                flight_date: None,
                flight_origin: None,
            },
            Target::Flight(f) => Self {
                awb: None,
                flight_number: Some(f.number.as_str()),
                flight_date: Some(f.date),
                flight_origin: f.origin.as_ref().map(|o| o.as_str()),
            },
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ClaimRow {
    pub awb: String,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub poll_failures: i32,
    pub carrier_ref: Option<String>,
    pub registration_checked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    pub awb: String,
    pub fingerprint: String,
    pub payload: Json<TrackingEvent>,
    pub withdrawn: bool,
}

impl From<EventRow> for StoredEvent {
    fn from(row: EventRow) -> Self {
        Self {
            fingerprint: row.fingerprint,
            event: row.payload.0,
            withdrawn: row.withdrawn,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ShipmentRow {
    awb: String,
    carrier: Option<String>,
    origin: Option<String>,
    destination: Option<String>,
    pieces: Option<i32>,
    weight: Option<f64>,
    volume: Option<f64>,
    status: String,
    anomalies: Json<Vec<String>>,
    last_checked_at: Option<DateTime<Utc>>,
    next_poll_at: DateTime<Utc>,
    last_error: Option<String>,
    push_count: i32,
    last_push_at: Option<DateTime<Utc>>,
}

pub(super) fn summary_status(text: &str) -> Result<SummaryStatus, StoreError> {
    SummaryStatus::parse(text).ok_or_else(|| corrupt(format!("unknown shipment status `{text}`")))
}

impl ShipmentRow {
    pub fn into_view(self, events: Vec<StoredEvent>) -> Result<ShipmentView, StoreError> {
        Ok(ShipmentView {
            awb: AwbNumber::parse(&self.awb).map_err(corrupt)?,
            carrier: self.carrier,
            summary: ShipmentSummary {
                origin: self.origin,
                destination: self.destination,
                pieces: self.pieces.and_then(|p| u32::try_from(p).ok()),
                weight: self.weight,
                volume: self.volume,
                status: summary_status(&self.status)?,
            },
            events,
            anomalies: self.anomalies.0,
            last_checked_at: self.last_checked_at,
            next_poll_at: self.next_poll_at,
            last_error: self.last_error,
            push_count: u32::try_from(self.push_count).unwrap_or(0),
            last_push_at: self.last_push_at,
        })
    }
}

impl ClaimRow {
    /// Attaches the shipment's stored events (rows of any shipment may be passed).
    pub fn into_claim(self, events: &mut Vec<EventRow>) -> Result<ClaimedShipment, StoreError> {
        let mine: Vec<StoredEvent> = events
            .extract_if(.., |e| e.awb == self.awb)
            .map(Into::into)
            .collect();
        Ok(ClaimedShipment {
            awb: AwbNumber::parse(&self.awb).map_err(corrupt)?,
            created_at: self.created_at,
            status: summary_status(&self.status)?,
            poll_failures: u32::try_from(self.poll_failures).unwrap_or(0),
            events: mine,
            carrier_ref: self.carrier_ref,
            registration_checked_at: self.registration_checked_at,
        })
    }
}

/// The columns an upsert of one event writes, shared by both backends.
pub(super) struct EventColumns {
    pub fingerprint: String,
    pub code: String,
    pub event_at: Option<DateTime<Utc>>,
    pub location: Option<String>,
    pub is_planned: bool,
    pub payload: serde_json::Value,
}

impl From<&StoredEvent> for EventColumns {
    fn from(stored: &StoredEvent) -> Self {
        let event = &stored.event;
        Self {
            fingerprint: stored.fingerprint.clone(),
            code: event.code.clone(),
            event_at: event.event_date.map(|d| d.with_timezone(&Utc)),
            location: event.event_location.clone(),
            is_planned: event.is_planned,
            payload: serde_json::to_value(event).expect("events serialise"),
        }
    }
}
