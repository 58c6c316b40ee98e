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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::StoredEvent;
    use crate::domain::{ShipmentSummary, SummaryStatus, TrackingEvent};
    use crate::store::ShipmentView;
    use chrono::{DateTime, Utc};

    fn stored(code: &str, at: &str, planned: bool, withdrawn: bool) -> StoredEvent {
        let mut event = TrackingEvent::new(code, Some(DateTime::parse_from_rfc3339(at).unwrap()));
        event.event_location = Some("FRA".to_owned());
        event.is_planned = planned;
        StoredEvent {
            fingerprint: code.to_owned(),
            event,
            withdrawn,
        }
    }

    /// The timeline as the page draws it: planned and actual apart, withdrawn ones marked (the
    /// stylesheet strikes them through), the anomalies listed, every value escaped.
    #[test]
    fn the_timeline_marks_planned_withdrawn_and_anomalies() {
        let view = ShipmentView {
            awb: AwbNumber::parse("020-08002050").unwrap(),
            carrier: Some("cargoai".to_owned()),
            summary: ShipmentSummary {
                origin: Some("FRA".to_owned()),
                destination: Some("ORD".to_owned()),
                pieces: None,
                weight: None,
                volume: None,
                status: SummaryStatus::InTransit,
            },
            events: vec![
                stored("RCS", "2026-12-01T08:00:00+01:00", false, false),
                stored("DEP", "2026-12-01T10:00:00+01:00", false, true),
                stored("DEP", "2026-12-01T12:00:00+01:00", true, false),
            ],
            anomalies: vec!["flight <LH400> arrives before it departs".to_owned()],
            last_checked_at: None,
            next_poll_at: Utc::now(),
            last_error: None,
            push_count: 0,
            last_push_at: None,
        };
        let html = ShipmentPage {
            page: Page::anonymous("AWB"),
            shipment: ShipmentPanel::of(view, false),
        }
        .render()
        .unwrap();
        let classes: Vec<&str> = html
            .match_indices("<li class=\"event")
            .map(|(at, _)| {
                let rest = &html[at + 11..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(
            classes,
            ["event actual", "event actual withdrawn", "event planned"]
        );
        assert!(
            html.contains("<ul class=\"anomalies\" id=\"anomalies\"><li>flight &#60;LH400&#62;")
        );
        let css = include_str!("../../assets/console/console.css");
        assert!(css.contains(".timeline li.withdrawn { text-decoration: line-through;"));
        assert!(css.contains(".timeline li.planned { border-left: 3px dashed"));
    }
}
