//! Turning a create body into a [`NewSubscription`]: everything a create checks before the
//! callback's guard and preflight, written once for `POST /v1/subscriptions`, its batch form
//! and `skyhook import`.

use super::dto::{CreateSubscriptionRequest, TargetFields};
use crate::api::error::ApiError;
use crate::clock::Clock;
use crate::domain::{
    AwbNumber, ChannelsError, CustomHeaders, FlightTarget, Reference, RequestedChannels,
    SigningSecret, StateFilter, SubscriptionId, Target, TenantId,
};
use crate::ingest::shipments::Carriers;
use crate::store::{NewSubscription, Store};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Flights this far in the past can no longer change; subscribing to them is a mistake.
const MAX_FLIGHT_AGE_DAYS: i64 = 3;

/// What creating subscriptions needs, with or without HTTP: the API's state lends it, and
/// `skyhook import` builds it from the settings.
#[derive(Clone)]
pub struct Subscribing {
    pub store: Arc<dyn Store>,
    pub carriers: Arc<Carriers>,
    pub callbacks: Arc<crate::api::CallbackCheck>,
    pub clock: Arc<dyn Clock>,
    /// How long a new subscription lives (`subscriptions.ttl`).
    pub ttl: Duration,
}

impl Subscribing {
    /// Checks a create body and makes the subscription it asks for, short of the callback's
    /// guard and preflight (see [`crate::api::CallbackCheck::vet`]) and the duplicate rules
    /// (the store's).
    pub async fn prepare(
        &self,
        tenant: TenantId,
        body: CreateSubscriptionRequest,
    ) -> Result<NewSubscription, ApiError> {
        let now = self.clock.now();
        let target = resolve_target(&*self.store, body.target(), now).await?;
        let channels = RequestedChannels::parse_with_feed(
            body.url.as_deref(),
            body.emails.as_deref().unwrap_or_default(),
            body.feed.unwrap_or_default(),
        );
        let (target, flight_id) = match (target, &channels) {
            // A flight named with its origin is one Skyhook now knows of, with a `flightUUID`.
            (Some((Target::Flight(flight), None)), Ok(_)) => match flight.key() {
                Some(key) => {
                    let id = self.store.learn_flight(&key, now).await?;
                    (Target::Flight(flight), Some(id))
                }
                None => (Target::Flight(flight), None),
            },
            (Some(target), _) => target,
            (None, Err(ChannelsError::NoChannel)) => {
                return Err(ApiError::MissingKeyParams(
                    "a target (`awb`, `flight` or `flightUUID`) and at least one of `url`, \
                     `emails` or `\"feed\": true` are required"
                        .into(),
                ));
            }
            (None, _) => return Err(missing_target()),
        };
        let channels = channels?;
        if let Target::Awb(awb) = &target {
            ensure_carrier(&self.carriers, awb)?;
        }
        Ok(NewSubscription {
            id: SubscriptionId::new_random(),
            tenant,
            target,
            flight_id,
            channels,
            states: parse_states(body.states.as_deref())?,
            reference: parse_reference(body.reference.as_deref())?,
            headers: parse_headers(body.headers.as_ref())?,
            signing_secret: SigningSecret::generate(),
            created_at: now,
            expires_at: now + TimeDelta::from_std(self.ttl).unwrap_or(TimeDelta::MAX),
        })
    }
}

pub(super) fn missing_target() -> ApiError {
    ApiError::MissingKeyParams("one of `awb`, `flight` or `flightUUID` is required".into())
}

/// Turns the request's target fields into a target; `Ok(None)` when none was given.
pub(super) async fn resolve_target(
    store: &dyn Store,
    fields: TargetFields<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(Target, Option<Uuid>)>, ApiError> {
    let given = [
        fields.awb.is_some(),
        fields.flight.is_some(),
        fields.flight_uuid.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ApiError::InvalidBody(
            "give exactly one of `awb`, `flight` or `flightUUID`".into(),
        ));
    }
    if let Some(awb) = fields.awb {
        let awb = AwbNumber::parse(awb)?;
        return Ok(Some((Target::Awb(awb), None)));
    }
    if let Some(flight) = fields.flight {
        let flight = FlightTarget::parse(&flight.number, &flight.date, flight.origin.as_deref())?;
        let oldest = now.date_naive() - TimeDelta::days(MAX_FLIGHT_AGE_DAYS);
        if flight.date < oldest {
            return Err(ApiError::InvalidFlightDate(format!(
                "flight date {} is more than {MAX_FLIGHT_AGE_DAYS} days in the past",
                flight.date
            )));
        }
        return Ok(Some((Target::Flight(flight), None)));
    }
    if let Some(raw) = fields.flight_uuid {
        let unknown = || {
            ApiError::InvalidFlightUuid(format!(
                "the provided flightUUID `{raw}` is not found in the system"
            ))
        };
        let id = Uuid::parse_str(raw.trim()).map_err(|_| unknown())?;
        let flight = store.find_flight(id).await?.ok_or_else(unknown)?;
        return Ok(Some((Target::Flight(flight), Some(id))));
    }
    Ok(None)
}

/// Subscribing to an AWB no enabled carrier serves would silently never produce an update.
fn ensure_carrier(carriers: &Carriers, awb: &AwbNumber) -> Result<(), ApiError> {
    if carriers.for_awb(awb).is_some() {
        return Ok(());
    }
    Err(ApiError::NoCarrier(format!(
        "no enabled carrier serves AWB prefix {} ({}); enable one under carriers.* that lists \
         this prefix or \"*\"",
        awb.prefix(),
        awb.airline().unwrap_or("unknown airline")
    )))
}

pub(crate) fn parse_states(states: Option<&[String]>) -> Result<StateFilter, ApiError> {
    Ok(states
        .map(StateFilter::parse)
        .transpose()?
        .unwrap_or_default())
}

pub(crate) fn parse_reference(reference: Option<&str>) -> Result<Option<Reference>, ApiError> {
    reference
        .map(Reference::parse)
        .transpose()
        .map_err(|e| ApiError::InvalidBody(e.to_string()))
}

pub(super) fn parse_headers(
    headers: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<CustomHeaders, ApiError> {
    headers
        .map(CustomHeaders::parse)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| ApiError::InvalidBody(e.to_string()))
}
