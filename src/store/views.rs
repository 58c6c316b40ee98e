//! What the API shows of shipments and flights: read-only, for one tenant.

use super::flights::FlightViewRow;
use super::rows::{EventRow, ShipmentRow};
use super::shipment_leases::load_events;
use super::sql::{Conn, sql};
use super::{FlightView, ShipmentView, SqlStore, StoreError, TrackingViews};
use crate::domain::{AwbNumber, FlightNumber, TenantId};
use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

pub(super) const FLIGHT_VIEW_COLUMNS: &str =
    "id, number, date, origin, state, last_checked_at, source";

#[async_trait]
impl TrackingViews for SqlStore {
    async fn get_shipment(
        &self,
        tenant: TenantId,
        awb: &AwbNumber,
    ) -> Result<Option<ShipmentView>, StoreError> {
        let mut conn = self.reader().await?;
        let row: Option<ShipmentRow> = sql(
            "SELECT awb, carrier, origin, destination, pieces, weight, volume, status, \
                 anomalies, last_checked_at, next_poll_at, last_error, push_count, \
                 last_push_at \
             FROM shipments sh WHERE sh.awb = $2 \
               AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = $1 AND s.awb = $2)",
        )
        .bind(tenant)
        .bind(awb.as_str())
        .fetch_optional(&mut conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let events: Vec<EventRow> = load_events(&mut conn, vec![awb.as_str().to_owned()]).await?;
        row.into_view(events.into_iter().map(Into::into).collect())
            .map(Some)
    }

    async fn get_flight(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<FlightView>, StoreError> {
        let mut conn = self.reader().await?;
        let rows = sql(format!(
            "SELECT {FLIGHT_VIEW_COLUMNS} FROM flights WHERE id = $1"
        ))
        .bind(id)
        .fetch_all(&mut conn)
        .await?;
        Ok(flight_views(&mut conn, tenant, rows).await?.pop())
    }

    async fn find_flights(
        &self,
        tenant: TenantId,
        number: &FlightNumber,
        date: NaiveDate,
    ) -> Result<Vec<FlightView>, StoreError> {
        let mut conn = self.reader().await?;
        let rows = sql(format!(
            "SELECT {FLIGHT_VIEW_COLUMNS} FROM flights WHERE number = $1 AND date = $2 \
             ORDER BY origin"
        ))
        .bind(number.as_str())
        .bind(date)
        .fetch_all(&mut conn)
        .await?;
        flight_views(&mut conn, tenant, rows).await
    }
}

/// The flights with the tenant's subscribed AWBs seen on each.
async fn flight_views(
    conn: &mut impl Conn,
    tenant: TenantId,
    rows: Vec<FlightViewRow>,
) -> Result<Vec<FlightView>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let awbs: Vec<(Uuid, String)> = sql(format!(
        "SELECT fa.flight_id, fa.awb FROM flight_awbs fa \
         WHERE fa.flight_id {} AND EXISTS (SELECT 1 FROM subscriptions s \
             WHERE s.tenant_id = $2 AND s.awb = fa.awb) \
         ORDER BY fa.awb",
        conn.backend().in_uuids(1)
    ))
    .bind(ids)
    .bind(tenant)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|row| row.into_view(&awbs)).collect()
}
