//! `GET /v1/flights`: the flights Skyhook knows, learned from carriers' AWB data, flight
//! subscriptions and flight-status sources, each with its stable `flightUUID` (the target of
//! `POST /v1/subscriptions` with `flightUUID`).

use super::AppState;
use super::auth::Tenant;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::domain::{FlightNumber, FlightSnapshot};
use crate::store::FlightView;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlightQuery {
    /// Carrier designator and number; `LH 8160`, `LH08160` and `lh8160` are the same flight.
    #[param(example = "LH8160")]
    pub number: String,
    /// Scheduled departure date, local at the origin, `YYYY-MM-DD`.
    #[param(example = "2026-11-25")]
    pub date: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlightResponse {
    /// The flight's stable id: the `flightUUID` of `POST /v1/subscriptions`.
    #[serde(rename = "flightUUID")]
    pub flight_uuid: Uuid,
    #[schema(example = "LH8160")]
    pub number: String,
    /// Scheduled departure date, local at the origin.
    pub date: NaiveDate,
    #[schema(example = "FRA")]
    pub origin: String,
    pub destination: Option<String>,
    /// Times are local at their airport, with its offset.
    pub scheduled_departure: Option<DateTime<FixedOffset>>,
    pub estimated_departure: Option<DateTime<FixedOffset>>,
    pub actual_departure: Option<DateTime<FixedOffset>>,
    pub scheduled_arrival: Option<DateTime<FixedOffset>>,
    pub estimated_arrival: Option<DateTime<FixedOffset>>,
    pub actual_arrival: Option<DateTime<FixedOffset>>,
    /// `SCHEDULED`, `DELAYED` (an estimate 15 minutes or more behind the schedule),
    /// `DEPARTED`, `ARRIVED` or `CANCELLED`.
    #[schema(example = "DELAYED")]
    pub status: &'static str,
    /// When Skyhook last asked a source about the flight, or a carrier reported it changed.
    pub last_checked_at: Option<DateTime<Utc>>,
    /// Where the latest facts came from: a flight-status source or a carrier.
    pub source: Option<String>,
    /// True when the latest facts come from the demo sandbox, not an airline.
    pub sandbox: bool,
    /// Your subscribed AWBs whose events named this flight.
    pub awbs: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlightList {
    pub items: Vec<FlightResponse>,
}

impl From<FlightView> for FlightResponse {
    fn from(view: FlightView) -> Self {
        let FlightSnapshot {
            flight_uuid,
            number,
            date,
            origin,
            destination,
            times,
            status,
        } = view.snapshot;
        Self {
            flight_uuid,
            number,
            date,
            origin,
            destination,
            scheduled_departure: times.scheduled_departure,
            estimated_departure: times.estimated_departure,
            actual_departure: times.actual_departure,
            scheduled_arrival: times.scheduled_arrival,
            estimated_arrival: times.estimated_arrival,
            actual_arrival: times.actual_arrival,
            status: status.as_str(),
            last_checked_at: view.last_checked_at,
            sandbox: view.source.as_deref() == Some("demo"),
            source: view.source,
            awbs: view.awbs.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Every known leg of a flight number on a date (one per origin); empty when Skyhook has not
/// learned of it yet.
#[utoipa::path(get, path = "/v1/flights", tag = "flights",
    params(FlightQuery),
    responses(
        (status = 200, body = FlightList),
        (status = 400, description = "ErrInvalidQuery or ErrInvalidFlightNumber", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<FlightQuery>,
) -> Result<Json<FlightList>, ApiError> {
    let number = FlightNumber::parse(&query.number)?;
    let date = crate::domain::parse_flight_date(&query.date)
        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
    let flights = state.store.find_flights(tenant, &number, date).await?;
    Ok(Json(FlightList {
        items: flights.into_iter().map(Into::into).collect(),
    }))
}

/// One flight by its `flightUUID`.
#[utoipa::path(get, path = "/v1/flights/{flightUUID}", tag = "flights",
    params(("flightUUID" = Uuid, Path, description = "The flight's id")),
    responses(
        (status = 200, body = FlightResponse),
        (status = 404, description = "ErrFlightNotFound", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Result<Json<FlightResponse>, ApiError> {
    let not_found = || ApiError::FlightNotFound(format!("no flight with flightUUID `{id}`"));
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let flight = state
        .store
        .get_flight(tenant, uuid)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(flight.into()))
}
