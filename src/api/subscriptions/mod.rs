//! `/v1/subscriptions`: create, read, list, replace and end subscriptions.

pub mod batch;
pub mod csv_rows;
pub mod dto;
mod prepare;
pub mod unsubscribe;

pub use prepare::Subscribing;
use prepare::{missing_target, parse_headers, resolve_target};
pub(crate) use prepare::{parse_reference, parse_states};

use super::AppState;
use super::auth::{Caller, Tenant};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, SubscriptionPath, parse_id};
use super::openapi::responses;
use super::paging::{self, page_size};
use crate::domain::{AwbNumber, RequestedChannels, Target, TenantId};
use crate::store::{
    PageAfter, PageRequest, Saved, SubscriptionFilter, SubscriptionUpdate, VerifiedKey,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use dto::{
    CreateSubscriptionRequest, ListQuery, SavedSubscriptionResponse, SubscriptionPage,
    SubscriptionResponse, UpdateSubscriptionRequest,
};
use uuid::Uuid;

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// Create a subscription to an AWB or a flight.
#[utoipa::path(post, path = "/v1/subscriptions", tag = "subscriptions",
    request_body = CreateSubscriptionRequest,
    responses(
        (status = 201, description = "Created; `signingSecret` is shown only here", body = SavedSubscriptionResponse),
        (status = 400, description = "ErrInvalidBody, ErrMissingKeyParams, ErrInvalidAWB, ErrInvalidAWBLength, ErrInvalidAWBCheckDigit, ErrNoCarrier, ErrInvalidFlightNumber, ErrInvalidFlightDate, ErrInvalidFlightUUID, ErrMaximumFiveEmails, ErrInvalidEmail, ErrInvalidUrl, ErrCallbackPreflightFailed, ErrAlreadySubscribed or AllEmailsSubscribed", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(key): Caller,
    ApiJson(body): ApiJson<CreateSubscriptionRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let saved = create_for(&state, &key, body).await?;
    let location = format!("/v1/subscriptions/{}", saved.subscription.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(saved),
    ))
}

/// Creates one subscription for `key`'s tenant: what `POST /v1/subscriptions` and the
/// console's form both do. The signing secret is in the answer, and only there.
pub async fn create_for(
    state: &AppState,
    key: &VerifiedKey,
    body: CreateSubscriptionRequest,
) -> Result<SavedSubscriptionResponse, ApiError> {
    let new = state.subscribing().prepare(key.tenant, body).await?;
    // Last, after everything that needs no network: the guard and the preflight.
    if let Some(url) = &new.channels.url {
        state.callbacks.vet(url, &key.allow_networks).await?;
    }
    let secret = new.signing_secret.expose().to_owned();
    let saved = state.store.create_subscription(new).await?;
    Ok(saved_response(saved, Some(secret)))
}

/// Read one of your subscriptions.
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(SubscriptionPath),
    responses((status = 200, body = SubscriptionResponse), responses::SubscriptionNotFound))]
pub async fn get(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<Json<SubscriptionResponse>, ApiError> {
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
    list_page(&state, tenant, query).await.map(Json)
}

/// One page of a tenant's subscriptions, newest first: the API's list and the console's.
pub async fn list_page(
    state: &AppState,
    tenant: TenantId,
    query: ListQuery,
) -> Result<SubscriptionPage, ApiError> {
    let limit = page_size(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
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
        // Trimmed, and ignored when blank, by the store.
        search: query.q,
    };
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One extra row tells whether another page follows.
    let mut rows = state
        .store
        .list_subscriptions(
            tenant,
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|s| encode_cursor(s.created_at, s.id.as_uuid()))
    } else {
        None
    };
    Ok(SubscriptionPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}

/// Replace a subscription's `url`, `emails`, `states` and `reference`.
#[utoipa::path(put, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body = UpdateSubscriptionRequest,
    responses(
        (status = 200, body = SavedSubscriptionResponse),
        (status = 400, description = "ErrInvalidBody, ErrMissingKeyParams, ErrMaximumFiveEmails, ErrInvalidEmail, ErrInvalidUrl, ErrAlreadySubscribed or AllEmailsSubscribed", body = ErrorBody),
        responses::SubscriptionNotFound,
        responses::SubscriptionNotActive))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(key): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSubscriptionRequest>,
) -> Result<Json<SavedSubscriptionResponse>, ApiError> {
    // Parsed after the body (not as `SubscriptionPath`, which axum would run first), so a body
    // it cannot read is refused as such whatever the id.
    let id = parse_id(&id)?;
    let tenant = key.tenant;
    let update = SubscriptionUpdate {
        channels: RequestedChannels::parse_with_feed(
            body.url.as_deref(),
            body.emails.as_deref().unwrap_or_default(),
            body.feed.unwrap_or_default(),
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
    params(SubscriptionPath),
    responses(
        (status = 204, description = "Ended (or had already ended)"),
        responses::SubscriptionNotFound))]
pub async fn delete(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .unsubscribe_subscription(tenant, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn saved_response(
    saved: Saved,
    signing_secret: Option<String>,
) -> SavedSubscriptionResponse {
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
    paging::encode_cursor(&format!("{}:{id}", created_at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<PageAfter, ApiError> {
    let invalid = || ApiError::InvalidQuery("`cursor` is not one this server issued".into());
    let text = paging::cursor_text(cursor).ok_or_else(invalid)?;
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
