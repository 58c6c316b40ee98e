//! Routes carriers call, not tenants: Lufthansa's preflight and pushes (seed 002) at
//! `/carriers/lufthansa/callback/{token}`, the callback URL of one registration.
//!
//! Lufthansa first sends `OPTIONS` and requires an `Allow` header that includes POST; then it
//! POSTs `{subscriptionId, AWB, State, toaTimestamp, timestamp}` for every new status. There is
//! no API key on these requests: the token in the URL is the credential, and a push only asks
//! for a fetch of the Shipment Tracking API (see [`crate::ingest::shipments::Pushes`]). A push
//! without a valid token (the bare route included) is refused with 404 and triggers nothing;
//! neither the token nor the subscription id is logged. Bodies are bounded like every other
//! request.

use super::AppState;
use super::error::ApiError;
use super::extract::PushedJson;
use crate::ingest::shipments::PushError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

const ALLOWED: &str = "OPTIONS, POST";

/// What Skyhook answers a push it accepted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReceipt {
    pub awb: String,
    /// When Skyhook fetches the AWB's status from the Shipment Tracking API.
    pub fetch_at: DateTime<Utc>,
}

/// `OPTIONS /carriers/lufthansa/callback/{token}`: Lufthansa's check before it creates a
/// subscription.
pub async fn lufthansa_preflight() -> Response {
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOWED));
    response
}

/// `POST /carriers/lufthansa/callback/{token}`: one push, which schedules a fetch.
pub async fn lufthansa_push(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PushedJson(body): PushedJson<Value>,
) -> Result<Json<PushReceipt>, ApiError> {
    let outcome = state
        .pushes
        .accept(&token, &body)
        .await
        .map_err(|e| match e {
            PushError::UnknownCallback => {
                tracing::warn!("Lufthansa push refused: no registration has its callback URL");
                unknown_callback()
            }
            PushError::RegistrationPending => ApiError::Busy(e.to_string()),
            PushError::WrongSubscription => {
                tracing::warn!("Lufthansa push refused: {e}");
                ApiError::UnknownCarrierSubscription(e.to_string())
            }
            PushError::Invalid(_) => {
                tracing::warn!(error = %e, "Lufthansa push refused");
                ApiError::InvalidBody(e.to_string())
            }
            PushError::Store(err) => err.into(),
        })?;
    tracing::info!(
        awb = %outcome.awb,
        state = outcome.state,
        fetch_at = %outcome.fetch_at,
        joined = outcome.joined,
        "Lufthansa push: fetch scheduled"
    );
    Ok(Json(PushReceipt {
        awb: outcome.awb.to_string(),
        fetch_at: outcome.fetch_at,
    }))
}

/// `POST /carriers/lufthansa/callback`: the URL of no registration (registrations made before
/// callback tokens pushed here; they are replaced).
pub async fn lufthansa_push_without_token() -> ApiError {
    tracing::warn!("Lufthansa push refused: its callback URL has no token");
    metrics::counter!("skyhook_carrier_pushes_total", "carrier" => "lufthansa", "outcome" => "unknown")
        .increment(1);
    unknown_callback()
}

fn unknown_callback() -> ApiError {
    ApiError::UnknownCarrierSubscription(
        "no Lufthansa registration has this callback URL".to_owned(),
    )
}
