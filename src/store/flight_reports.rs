//! Applying reports about flights (from a flight-status source's check, or from an AWB's new
//! events) to the stored flights, and queueing what changed for their subscribers.

use super::StoreError;
use super::postgres;
use super::queue::{Queueing, queue_flight_messages};
use super::sql::{Backend, Conn, sql};
use super::subscriptions::insert_flight;
use crate::domain::flight_state::reports::{
    ReportOrigin, merge_by_flight, plan_report, should_write,
};
use crate::domain::{FlightReport, FlightState};
use sqlx::types::Json;
use uuid::Uuid;

/// A stored flight: its id, what is known, and whether a flight-status source follows it.
pub(super) type StoredFlight = (Uuid, Json<FlightState>, bool);

pub(super) const SELECT_FLIGHT: &str = "SELECT id, state, from_source FROM flights \
     WHERE number = $1 AND date = $2 AND origin = $3";

/// Applies the reports, queueing what changed. Runs inside the caller's transaction.
///
/// Many AWBs fly on one flight and mostly repeat what is known, so a report is first compared
/// without a lock: only one that changes something (or a source's check, which records
/// `last_checked_at`) locks the flight row, re-reads it and writes. Otherwise every first poll
/// of a full freighter's AWBs would queue on that one row.
pub(super) async fn apply_flight_reports(
    conn: &mut impl Conn,
    reports: &[FlightReport],
    origin: ReportOrigin<'_>,
    queueing: &mut Queueing,
) -> Result<(), StoreError> {
    let now = queueing.now;
    let awb = match origin {
        ReportOrigin::Shipment { awb, .. } => Some(awb.as_str()),
        ReportOrigin::Check { .. } => None,
    };
    for report in merge_by_flight(reports) {
        let key = &report.key;
        let (stored, linked) = match conn.backend() {
            Backend::Postgres => postgres::read_and_link_flight(conn, key, awb, now).await?,
            Backend::Sqlite => {
                let stored: Option<StoredFlight> = sql(SELECT_FLIGHT)
                    .bind_flight(key)
                    .fetch_optional(conn)
                    .await?;
                (stored, false)
            }
        };
        let id = match stored {
            Some((id, old, from_source))
                if !should_write(Some((&old.0, from_source)), &report, origin) =>
            {
                id
            }
            _ => {
                insert_flight(conn, key, now).await?;
                // Decided again under the lock: another instance may have written since.
                let (id, old, from_source): StoredFlight =
                    sql(format!("{SELECT_FLIGHT}{}", conn.backend().for_update()))
                        .bind_flight(key)
                        .fetch_one(conn)
                        .await?;
                if should_write(Some((&old.0, from_source)), &report, origin) {
                    let planned = plan_report(id, &old.0, &report);
                    sql(
                        "UPDATE flights SET state = $2, status = $3, destination = $4, \
                             last_checked_at = $5, source = $6, updated_at = $5, \
                             from_source = from_source OR $7 \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(Json(&planned.state))
                    .bind(planned.snapshot.status.as_str())
                    .bind(planned.state.destination.as_deref())
                    .bind(now)
                    .bind(origin.source())
                    .bind(origin.is_check())
                    .execute(conn)
                    .await?;
                    queue_flight_messages(conn, &planned.snapshot, &planned.changes, queueing)
                        .await?;
                }
                id
            }
        };
        if let (Some(awb), false) = (awb, linked) {
            sql(
                "INSERT INTO flight_awbs (flight_id, awb, first_seen_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(awb)
            .bind(now)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
