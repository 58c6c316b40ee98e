//! The delivery log and the delivery actions: list a subscription's messages, re-send one,
//! queue a test message, and rotate the signing secret.

use super::AppState;
use super::auth::Tenant;
use super::error::{ApiError, ErrorBody};
use super::extract::{DeliveryPath, SubscriptionPath};
use super::openapi::responses;
use crate::domain::{SigningSecret, SubscriptionId, TenantId};
use crate::store::{DeliveryRecord, DeliveryScope, Retry, SecretRotation, StoreError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The log lists at most this many messages, oldest first.
const MAX_LOG: u32 = 1000;
/// After a rotation, messages carry the old signature too for this long, so receivers can
/// switch secrets without dropping a message.
const SECRET_OVERLAP_HOURS: i64 = 24;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResponse {
    pub id: Uuid,
    /// The `webhook-id`: the same on every retry and in the body's `id`.
    pub message_id: String,
    #[serde(rename = "type")]
    #[schema(example = "tracking.updated")]
    pub kind: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The URL or the email address.
    pub target: String,
    pub sequence: i64,
    /// `pending`, `delivered`, `failed`, or `parked` (its URL is disabled: it waits until a
    /// `PUT` re-enables the URL, then goes out in order).
    pub status: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRecord> for DeliveryResponse {
    fn from(r: DeliveryRecord) -> Self {
        Self {
            id: r.id,
            message_id: r.message_id,
            kind: r.kind,
            channel: r.channel,
            target: r.target,
            sequence: r.sequence,
            status: r.status,
            attempts: r.attempts,
            last_attempt_at: r.last_attempt_at,
            next_attempt_at: r.next_attempt_at,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedResponse {
    /// The `webhook-id` of the queued message.
    pub message_id: Option<String>,
    pub status: &'static str,
}

impl QueuedResponse {
    /// `202`: the message is queued (`pending`) and goes out shortly.
    fn accepted(message_id: Option<String>) -> (StatusCode, Json<Self>) {
        let queued = Self {
            message_id,
            status: "pending",
        };
        (StatusCode::ACCEPTED, Json(queued))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    /// The new secret; shown only here.
    pub signing_secret: String,
    /// Until then messages carry signatures with both the old and the new secret.
    pub previous_secret_valid_until: DateTime<Utc>,
}

/// Every message of a subscription, with its delivery state (at most 1000, oldest first).
#[utoipa::path(get, path = "/v1/subscriptions/{id}/deliveries", tag = "deliveries",
    params(SubscriptionPath),
    responses((status = 200, body = DeliveryList), responses::SubscriptionNotFound))]
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<Json<DeliveryList>, ApiError> {
    let records = delivery_log(&state, tenant, id).await?;
    Ok(Json(DeliveryList {
        items: records.into_iter().map(Into::into).collect(),
    }))
}

/// A subscription's messages, oldest first (the API's log and the console's).
pub async fn delivery_log(
    state: &AppState,
    tenant: TenantId,
    id: SubscriptionId,
) -> Result<Vec<DeliveryRecord>, ApiError> {
    state
        .store
        .list_deliveries(tenant, id, MAX_LOG)
        .await?
        .ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))
}

/// Send a message again now: the same body and `webhook-id`, a fresh timestamp and signature.
/// While an attempt of the message is running, the answer is `409 ErrDeliveryInFlight`: ask
/// again once the delivery log shows its outcome (a message is never sent twice at once).
#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", tag = "deliveries",
    params(DeliveryPath),
    responses(
        (status = 202, body = QueuedResponse),
        (status = 404, description = "ErrDeliveryNotFound", body = ErrorBody),
        (status = 409, description = "ErrDeliveryInFlight", body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    DeliveryPath(id): DeliveryPath,
) -> Result<(StatusCode, Json<QueuedResponse>), ApiError> {
    retry_delivery(&state, DeliveryScope::tenant(tenant), id).await?;
    Ok(QueuedResponse::accepted(None))
}

/// Queues a message in `scope` to be sent again now.
pub async fn retry_delivery(
    state: &AppState,
    scope: DeliveryScope,
    id: Uuid,
) -> Result<(), ApiError> {
    match state
        .store
        .retry_delivery(scope, id, state.clock.now())
        .await?
    {
        Retry::Queued => Ok(()),
        Retry::NotFound => Err(ApiError::DeliveryNotFound(format!(
            "no delivery with id `{id}` exists for this API key"
        ))),
        Retry::InFlight { lease_until } => Err(ApiError::DeliveryInFlight(format!(
            "delivery `{id}` is being attempted right now (until {} at the latest); \
             retry once the delivery log shows its outcome",
            lease_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))),
    }
}

/// Queue a `subscription.test` message to every channel of an active subscription.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/test", tag = "deliveries",
    params(SubscriptionPath),
    responses(
        (status = 202, body = QueuedResponse),
        responses::SubscriptionNotFound,
        responses::SubscriptionNotActive,
        (status = 429, description = "ErrTestLimitReached (`subscriptions.test_limit` per hour; see `Retry-After`)", body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<(StatusCode, Json<QueuedResponse>), ApiError> {
    let message_id = queue_test(&state, tenant, id).await?;
    Ok(QueuedResponse::accepted(Some(message_id)))
}

/// Queues a `subscription.test` message to every channel; returns its `webhook-id`.
pub async fn queue_test(
    state: &AppState,
    tenant: TenantId,
    id: SubscriptionId,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    let (message_id, queued) = match state
        .store
        .queue_test_message(tenant, id, now, state.safety.test_limit)
        .await
    {
        Err(StoreError::TestLimitReached { max, free_at }) => {
            return Err(ApiError::test_limit(max, free_at, now));
        }
        other => other?.ok_or_else(|| ApiError::SubscriptionNotFound(id.to_string()))?,
    };
    crate::telemetry::count_queued(queued);
    Ok(message_id)
}

/// Replace the signing secret. For 24 hours messages carry both signatures.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/rotate-secret", tag = "deliveries",
    params(SubscriptionPath),
    responses(
        (status = 200, body = RotatedSecret),
        responses::SubscriptionNotFound,
        responses::SubscriptionNotActive))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<Json<RotatedSecret>, ApiError> {
    rotate_signing_secret(&state, tenant, id).await.map(Json)
}

/// Replaces the signing secret; the old one signs too for [`SECRET_OVERLAP_HOURS`].
pub async fn rotate_signing_secret(
    state: &AppState,
    tenant: TenantId,
    id: SubscriptionId,
) -> Result<RotatedSecret, ApiError> {
    let now = state.clock.now();
    let until = now + TimeDelta::hours(SECRET_OVERLAP_HOURS);
    let secret = SigningSecret::generate();
    if !state
        .store
        .rotate_signing_secret(
            tenant,
            id,
            &SecretRotation {
                secret: &secret,
                now,
                overlap_until: until,
            },
        )
        .await?
    {
        return Err(ApiError::SubscriptionNotFound(id.to_string()));
    }
    Ok(RotatedSecret {
        signing_secret: secret.expose().to_owned(),
        previous_secret_valid_until: until,
    })
}
