//! `/console/shipments/{awb}` and `/console/flights/{id}`: one AWB's timeline and route, and a
//! flight's times and status with the tenant's AWBs on it, for any the tenant subscribed to.

use super::ConsoleError;
use super::page::{self, Page};
use super::session::Signed;
use super::timeline::{FlightPanel, ShipmentPanel};
use crate::api::AppState;
use crate::api::shipments::carrier_is_sandbox;
use crate::domain::AwbNumber;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "console/shipment.html")]
struct ShipmentPage {
    page: Page,
    shipment: ShipmentPanel,
}

pub async fn shipment(
    State(state): State<AppState>,
    signed: Signed,
    Path(awb): Path<String>,
) -> Result<Response, ConsoleError> {
    let awb = AwbNumber::parse(&awb).map_err(|_| ConsoleError::NotFound)?;
    let view = state
        .store
        .get_shipment(signed.key.tenant, &awb)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let sandbox = carrier_is_sandbox(&state, view.carrier.as_deref());
    let html = page::render(&ShipmentPage {
        page: Page::signed(format!("AWB {awb}"), &signed, "subscriptions"),
        shipment: ShipmentPanel::of(view, sandbox),
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "console/flight.html")]
struct FlightPage {
    page: Page,
    flight: FlightPanel,
}

pub async fn flight(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = Uuid::parse_str(&id).map_err(|_| ConsoleError::NotFound)?;
    let view = state
        .store
        .get_flight(signed.key.tenant, id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let flight = FlightPanel::of(view);
    let html = page::render(&FlightPage {
        page: Page::signed(
            format!("Flight {}", flight.number),
            &signed,
            "subscriptions",
        ),
        flight,
    })?;
    Ok(html.into_response())
}
