//! `/v1/subscriptions`: create, read, list, replace and end subscriptions.

pub mod dto;
pub mod unsubscribe;

use super::AppState;
use super::auth::{Caller, Tenant};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::domain::{
    AwbNumber, ChannelsError, CustomHeaders, FlightTarget, Reference, RequestedChannels,
    SigningSecret, StateFilter, SubscriptionId, Target,
};
use crate::store::{NewSubscription, PageAfter, Saved, SubscriptionFilter, SubscriptionUpdate};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use dto::{
    CreateSubscriptionRequest, ListQuery, SavedSubscriptionResponse, SubscriptionPage,
    SubscriptionResponse, TargetFields, UpdateSubscriptionRequest,
};
use uuid::Uuid;

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
/// Flights this far in the past can no longer change; subscribing to them is a mistake.
const MAX_FLIGHT_AGE_DAYS: i64 = 3;

/// Create a subscription to an AWB or a flight.
#[utoipa::path(post, path = "/v1/subscriptions", tag = "subscriptions",
    request_body = CreateSubscriptionRequest,
    responses(
        (status = 201, description = "Created; `signingSecret` is shown only here", body = SavedSubscriptionResponse),
        (status = 400, description = "ErrInvalidBody, ErrMissingKeyParams, ErrInvalidAWB, ErrInvalidAWBLength, ErrInvalidAWBCheckDigit, ErrNoCarrier, ErrInvalidFlightNumber, ErrInvalidFlightDate, ErrInvalidFlightUUID, ErrMaximumFiveEmails, ErrInvalidEmail, ErrInvalidUrl, ErrAlreadySubscribed or AllEmailsSubscribed", body = ErrorBody),
        (status = 413, description = "ErrPayloadTooLarge (body over 64 KiB)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(key): Caller,
    ApiJson(body): ApiJson<CreateSubscriptionRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = key.tenant;
    let now = state.clock.now();
    let target = resolve_target(&state, body.target(), now).await?;
    let channels = RequestedChannels::parse(
        body.url.as_deref(),
        body.emails.as_deref().unwrap_or_default(),
    );
    let (target, flight_id) = match (target, &channels) {
        // A flight named with its origin is one Skyhook now knows of, with a `flightUUID`.
        (Some((Target::Flight(flight), None)), Ok(_)) => match flight.key() {
            Some(key) => {
                let id = state.store.learn_flight(&key, now).await?;
                (Target::Flight(flight), Some(id))
            }
            None => (Target::Flight(flight), None),
        },
        (Some(target), _) => target,
        (None, Err(ChannelsError::NoChannel)) => {
            return Err(ApiError::MissingKeyParams(
                "a target (`awb`, `flight` or `flightUUID`) and at least one of `url` or \
                 `emails` are required"
                    .into(),
            ));
        }
        (None, _) => return Err(missing_target()),
    };
    let channels = channels?;
    if let Target::Awb(awb) = &target {
        ensure_carrier(&state, awb)?;
    }
    let new = NewSubscription {
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
        expires_at: now + TimeDelta::from_std(state.subscription_ttl).unwrap_or(TimeDelta::MAX),
    };
    // Last, after everything that needs no network: the guard and the preflight.
    if let Some(url) = &new.channels.url {
        state.callbacks.vet(url, &key.allow_networks).await?;
    }
    let secret = new.signing_secret.expose().to_owned();
    let saved = state.store.create_subscription(new).await?;
    let location = format!("/v1/subscriptions/{}", saved.subscription.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(saved_response(saved, Some(secret))),
    ))
}

/// Read one of your subscriptions.
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, body = SubscriptionResponse),
        (status = 404, description = "ErrSubscriptionNotFound", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionResponse>, ApiError> {
    let id = parse_id(&id)?;
    let subscription = state
        .store
        .get_subscription(tenant, id)
        .await?
        .ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))?;
    Ok(Json(subscription.into()))
}

/// List your subscriptions, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/subscriptions", tag = "subscriptions",
    params(ListQuery),
    responses(
        (status = 200, body = SubscriptionPage),
        (status = 400, description = "ErrInvalidQuery, or an AWB error for `awb`", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<SubscriptionPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let filter = SubscriptionFilter {
        target: query
            .awb
            .as_deref()
            .map(AwbNumber::parse)
            .transpose()?
            .map(Target::Awb),
        status: query
            .status
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::InvalidQuery)?,
        url: query.url.as_deref().map(|u| {
            // Stored URLs are normalised; compare like with like.
            crate::domain::CallbackUrl::parse(u).map_or_else(|_| u.to_owned(), |u| u.to_string())
        }),
    };
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One extra row tells whether another page follows.
    let mut rows = state
        .store
        .list_subscriptions(tenant, &filter, after, limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|s| encode_cursor(s.created_at, s.id.as_uuid()))
    } else {
        None
    };
    Ok(Json(SubscriptionPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Replace a subscription's `url`, `emails`, `states` and `reference`.
#[utoipa::path(put, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body = UpdateSubscriptionRequest,
    responses(
        (status = 200, body = SavedSubscriptionResponse),
        (status = 400, description = "ErrInvalidBody, ErrMissingKeyParams, ErrMaximumFiveEmails, ErrInvalidEmail, ErrInvalidUrl, ErrAlreadySubscribed or AllEmailsSubscribed", body = ErrorBody),
        (status = 404, description = "ErrSubscriptionNotFound", body = ErrorBody),
        (status = 409, description = "ErrSubscriptionNotActive", body = ErrorBody),
        (status = 413, description = "ErrPayloadTooLarge", body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(key): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSubscriptionRequest>,
) -> Result<Json<SavedSubscriptionResponse>, ApiError> {
    let tenant = key.tenant;
    let id = parse_id(&id)?;
    let update = SubscriptionUpdate {
        channels: RequestedChannels::parse(
            body.url.as_deref(),
            body.emails.as_deref().unwrap_or_default(),
        )?,
        states: parse_states(body.states.as_deref())?,
        reference: parse_reference(body.reference.as_deref())?,
        headers: parse_headers(body.headers.as_ref())?,
        now: state.clock.now(),
    };
    if let Some(url) = &update.channels.url {
        state.callbacks.vet(url, &key.allow_networks).await?;
    }
    let saved = state
        .store
        .update_subscription(tenant, id, update)
        .await?
        .ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))?;
    Ok(Json(saved_response(saved, None)))
}

/// End a subscription: it becomes `unsubscribed` and nothing more is sent.
#[utoipa::path(delete, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Ended (or had already ended)"),
        (status = 404, description = "ErrSubscriptionNotFound", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state
        .store
        .unsubscribe_subscription(tenant, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn missing_target() -> ApiError {
    ApiError::MissingKeyParams("one of `awb`, `flight` or `flightUUID` is required".into())
}

/// Turns the request's target fields into a target; `Ok(None)` when none was given.
pub(super) async fn resolve_target(
    state: &AppState,
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
        let flight = state.store.find_flight(id).await?.ok_or_else(unknown)?;
        return Ok(Some((Target::Flight(flight), Some(id))));
    }
    Ok(None)
}

/// Subscribing to an AWB no enabled carrier serves would silently never produce an update.
fn ensure_carrier(state: &AppState, awb: &AwbNumber) -> Result<(), ApiError> {
    if state.carriers.for_awb(awb).is_some() {
        return Ok(());
    }
    Err(ApiError::NoCarrier(format!(
        "no enabled carrier serves AWB prefix {} ({}); enable one under carriers.* that lists \
         this prefix or \"*\"",
        awb.prefix(),
        awb.airline().unwrap_or("unknown airline")
    )))
}

fn parse_states(states: Option<&[String]>) -> Result<StateFilter, ApiError> {
    Ok(states
        .map(StateFilter::parse)
        .transpose()?
        .unwrap_or_default())
}

fn parse_reference(reference: Option<&str>) -> Result<Option<Reference>, ApiError> {
    reference
        .map(Reference::parse)
        .transpose()
        .map_err(|e| ApiError::InvalidBody(e.to_string()))
}

/// A malformed id cannot name a subscription, so it is "not found" rather than a bad request.
fn parse_headers(
    headers: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<CustomHeaders, ApiError> {
    headers
        .map(CustomHeaders::parse)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| ApiError::InvalidBody(e.to_string()))
}

pub(super) fn parse_id(raw: &str) -> Result<SubscriptionId, ApiError> {
    Uuid::parse_str(raw)
        .map(SubscriptionId::from)
        .map_err(|_| ApiError::SubscriptionNotFound(raw.to_owned()))
}

fn saved_response(saved: Saved, signing_secret: Option<String>) -> SavedSubscriptionResponse {
    SavedSubscriptionResponse {
        subscription: saved.subscription.into(),
        signing_secret,
        skipped_emails: saved
            .skipped_emails
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
    }
}

fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", created_at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<PageAfter, ApiError> {
    let invalid = || ApiError::InvalidQuery("`cursor` is not one this server issued".into());
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let (micros, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok(PageAfter {
        created_at: micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)?,
        id: Uuid::parse_str(id).map_err(|_| invalid())?.into(),
    })
}
