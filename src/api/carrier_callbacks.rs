//! Routes carriers call, not tenants: Lufthansa's preflight and pushes at
//! `/carriers/lufthansa/callback` (seed 002).
//!
//! Lufthansa first sends `OPTIONS` and requires an `Allow` header that includes POST; then it
//! POSTs `{subscriptionId, AWB, State, toaTimestamp, timestamp}` for every new status. There is
//! no API key on these requests: a push is accepted only when its `subscriptionId` is one
//! Skyhook registered (see [`crate::ingest::shipments::Pushes`]), so anything else is refused and logged. Bodies
//! are bounded like every other request.

use super::AppState;
use super::error::ApiError;
use super::extract::ApiJson;
use crate::ingest::shipments::{LufthansaPush, PushError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

const LUFTHANSA: &str = "lufthansa";
const ALLOWED: &str = "OPTIONS, POST";

/// What Skyhook answers a push it accepted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReceipt {
    pub awb: String,
    /// Events added or updated by this push; 0 when it repeated what was known.
    pub changed: usize,
}

/// `OPTIONS /carriers/lufthansa/callback`: Lufthansa's check before it creates a subscription.
pub async fn lufthansa_preflight() -> Response {
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOWED));
    response
}

/// `POST /carriers/lufthansa/callback`: one push, merged into the shipment's events.
pub async fn lufthansa_push(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<PushReceipt>, ApiError> {
    let push = LufthansaPush::parse(&body).map_err(|e| {
        tracing::warn!(error = %e, "Lufthansa push refused: unreadable");
        refused("invalid");
        ApiError::InvalidBody(format!("not a Lufthansa push: {e}"))
    })?;
    let outcome = state
        .pushes
        .accept(
            LUFTHANSA,
            &push.subscription_id,
            |awb| push.event_for(awb),
            body.clone(),
        )
        .await
        .map_err(|e| match e {
            PushError::UnknownReference { .. } => {
                tracing::warn!(
                    subscription_id = push.subscription_id,
                    "Lufthansa push refused: unknown subscription id"
                );
                refused("unknown");
                ApiError::UnknownCarrierSubscription(e.to_string())
            }
            PushError::Invalid(_) => {
                tracing::warn!(error = %e, "Lufthansa push refused");
                refused("invalid");
                ApiError::InvalidBody(e.to_string())
            }
            PushError::Busy => ApiError::Busy(e.to_string()),
            PushError::Store(err) => err.into(),
        })?;
    tracing::info!(
        awb = %outcome.awb,
        changed = outcome.changed,
        subscription_id = push.subscription_id,
        "Lufthansa push applied"
    );
    Ok(Json(PushReceipt {
        awb: outcome.awb.to_string(),
        changed: outcome.changed,
    }))
}

fn refused(outcome: &'static str) {
    metrics::counter!("skyhook_carrier_pushes_total", "carrier" => LUFTHANSA, "outcome" => outcome)
        .increment(1);
}
