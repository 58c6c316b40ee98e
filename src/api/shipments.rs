//! `GET /v1/shipments/{awb}`: a shipment's current tracking in the seed-001 shape.

use super::AppState;
use super::auth::Tenant;
use super::error::{ApiError, ErrorBody};
use crate::domain::{AwbNumber, TrackingEvent};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentResponse {
    #[schema(example = "020-08002050")]
    pub awb: String,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    /// Kilograms.
    pub weight: Option<f64>,
    /// Cubic metres.
    pub volume: Option<f64>,
    /// `PENDING_DELIVERY`, `IN_TRANSIT`, `AT_DESTINATION` or `DELIVERED`; never moves backwards.
    pub status: String,
    /// Every event seen, oldest first, in the seed-001 event model; events the carrier stopped
    /// reporting stay, with `withdrawn: true`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<ShipmentEvent>,
    /// The source, e.g. `cargoai`; `demo` is the built-in sandbox.
    pub carrier: Option<String>,
    /// True when the data comes from the demo sandbox, not an airline.
    pub sandbox: bool,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
    /// Why the last check failed (the carrier's error, an answer too large, …); null once a
    /// check succeeds.
    pub last_error: Option<String>,
    /// Oddities in the carrier's data and how they were handled.
    pub anomalies: Vec<String>,
    /// Pushes a push carrier (Lufthansa) sent for this AWB, each of which asked for a fetch
    /// (`lastCheckedAt` is the last fetch); 0 for a polled carrier.
    pub pushes_received: u32,
    pub last_push_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentEvent {
    #[serde(flatten)]
    pub event: TrackingEvent,
    pub withdrawn: bool,
}

/// Current tracking of an AWB you have (or had) a subscription for.
#[utoipa::path(get, path = "/v1/shipments/{awb}", tag = "shipments",
    params(("awb" = String, Path, description = "AWB, `NNN-NNNNNNNN` or 11 digits")),
    responses(
        (status = 200, body = ShipmentResponse),
        (status = 400, description = "ErrInvalidAWB, ErrInvalidAWBLength or ErrInvalidAWBCheckDigit", body = ErrorBody),
        (status = 404, description = "ErrShipmentNotFound: you have no subscription for this AWB", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Path(awb): Path<String>,
) -> Result<Json<ShipmentResponse>, ApiError> {
    let awb = AwbNumber::parse(&awb)?;
    let view = state
        .store
        .get_shipment(tenant, &awb)
        .await?
        .ok_or_else(|| ApiError::ShipmentNotFound(awb.to_string()))?;
    let sandbox = carrier_is_sandbox(&state, view.carrier.as_deref());
    Ok(Json(ShipmentResponse {
        awb: view.awb.to_string(),
        origin: view.summary.origin,
        destination: view.summary.destination,
        pieces: view.summary.pieces,
        weight: view.summary.weight,
        volume: view.summary.volume,
        status: view.summary.status.as_str().to_owned(),
        events: view
            .events
            .into_iter()
            .map(|stored| ShipmentEvent {
                event: stored.event,
                withdrawn: stored.withdrawn,
            })
            .collect(),
        carrier: view.carrier,
        sandbox,
        last_checked_at: view.last_checked_at,
        next_check_at: view.next_poll_at,
        last_error: view.last_error,
        anomalies: view.anomalies,
        pushes_received: view.push_count,
        last_push_at: view.last_push_at,
    }))
}

/// Whether the carrier that answered for a shipment is a sandbox (the demo carrier).
pub fn carrier_is_sandbox(state: &AppState, carrier: Option<&str>) -> bool {
    carrier
        .and_then(|name| state.carriers.by_name(name))
        .is_some_and(|entry| entry.source.is_sandbox())
}
