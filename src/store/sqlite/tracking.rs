//! The poller's side of SQLite. One writer connection serialises claims, so a plain UPDATE
//! is a safe claim here.

use super::{SqliteStore, ts};
use crate::domain::{AwbNumber, TenantId};
use crate::store::flights::ReportOrigin;
use crate::store::rows::{ClaimRow, EventColumns, EventRow, ShipmentRow};
use crate::store::{ClaimedShipment, PollRecord, PollResult, ShipmentView, StoreError};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

pub(super) const SELECT_EVENTS: &str = "SELECT awb, fingerprint, payload, withdrawn_at IS NOT NULL AS withdrawn \
     FROM events WHERE awb IN (SELECT value FROM json_each(?1)) \
     ORDER BY event_at IS NULL, event_at, first_seen_at";

impl SqliteStore {
    pub(super) async fn claim(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError> {
        let claims: Vec<ClaimRow> = sqlx::query_as(
            "UPDATE shipments SET lease_owner = ?1, lease_expires_at = ?3 \
             WHERE awb IN ( \
                 SELECT s.awb FROM shipments s \
                 WHERE s.next_poll_at <= ?2 \
                   AND (s.lease_expires_at IS NULL OR s.lease_expires_at < ?2) \
                   AND EXISTS (SELECT 1 FROM subscriptions sub \
                               WHERE sub.awb = s.awb AND sub.status = 'active') \
                 ORDER BY s.next_poll_at LIMIT ?4) \
             RETURNING awb, created_at, status, poll_failures, carrier_ref",
        )
        .bind(owner)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let awbs = Json(claims.iter().map(|c| c.awb.as_str()).collect::<Vec<_>>());
        let mut events: Vec<EventRow> = sqlx::query_as(SELECT_EVENTS)
            .bind(awbs)
            .fetch_all(&self.writer)
            .await?;
        claims
            .into_iter()
            .map(|claim| claim.into_claim(&mut events))
            .collect()
    }

    pub(super) async fn record(&self, owner: Uuid, record: PollRecord) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let (summary, raw, anomalies, error) = record.result.columns();
        let carrier_ref = record.result.carrier_ref();
        let owned = sqlx::query(
            "UPDATE shipments SET lease_owner = NULL, lease_expires_at = NULL, \
                 carrier = ?3, last_checked_at = ?4, next_poll_at = ?5, poll_failures = ?6, \
                 last_error = ?7, updated_at = ?4, \
                 origin = COALESCE(?8, origin), destination = COALESCE(?9, destination), \
                 pieces = COALESCE(?10, pieces), weight = COALESCE(?11, weight), \
                 volume = COALESCE(?12, volume), status = COALESCE(?13, status), \
                 raw_payload = COALESCE(?14, raw_payload), anomalies = COALESCE(?15, anomalies), \
                 carrier_ref = CASE WHEN ?16 THEN ?17 ELSE carrier_ref END \
             WHERE awb = ?1 AND lease_owner = ?2",
        )
        .bind(record.awb.as_str())
        .bind(owner)
        .bind(record.carrier)
        .bind(ts(record.checked_at))
        .bind(ts(record.next_poll_at))
        .bind(i64::from(record.poll_failures))
        .bind(error)
        .bind(summary.and_then(|s| s.origin.as_deref()))
        .bind(summary.and_then(|s| s.destination.as_deref()))
        .bind(summary.and_then(|s| s.pieces).map(i64::from))
        .bind(summary.and_then(|s| s.weight))
        .bind(summary.and_then(|s| s.volume))
        .bind(summary.map(|s| s.status.as_str()))
        .bind(raw.map(Json))
        .bind(anomalies.map(Json))
        .bind(carrier_ref.is_some())
        .bind(carrier_ref.flatten())
        .execute(&mut *tx)
        .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        if let PollResult::Tracked {
            upserts,
            withdrawn,
            change,
            ..
        } = &record.result
        {
            for columns in upserts.iter().map(EventColumns::from) {
                sqlx::query(
                    "INSERT INTO events (id, awb, fingerprint, code, event_at, location, \
                         is_planned, payload, first_seen_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) \
                     ON CONFLICT (awb, fingerprint) DO UPDATE SET code = excluded.code, \
                         event_at = excluded.event_at, location = excluded.location, \
                         is_planned = excluded.is_planned, payload = excluded.payload, \
                         updated_at = excluded.updated_at, withdrawn_at = NULL",
                )
                .bind(Uuid::new_v4())
                .bind(record.awb.as_str())
                .bind(&columns.fingerprint)
                .bind(&columns.code)
                .bind(columns.event_at.map(ts))
                .bind(&columns.location)
                .bind(columns.is_planned)
                .bind(&columns.payload)
                .bind(ts(record.checked_at))
                .execute(&mut *tx)
                .await?;
            }
            if !withdrawn.is_empty() {
                sqlx::query(
                    "UPDATE events SET withdrawn_at = ?3, updated_at = ?3 \
                     WHERE awb = ?1 AND withdrawn_at IS NULL \
                       AND fingerprint IN (SELECT value FROM json_each(?2))",
                )
                .bind(record.awb.as_str())
                .bind(Json(withdrawn))
                .bind(ts(record.checked_at))
                .execute(&mut *tx)
                .await?;
            }
            Self::queue_shipment_messages(
                &mut tx,
                change,
                record.checked_at,
                record.email_batch_window,
            )
            .await?;
            Self::apply_flight_reports(
                &mut tx,
                &change.flight_reports(),
                ReportOrigin::Shipment {
                    carrier: record.carrier,
                    awb: &record.awb,
                },
                record.checked_at,
                record.email_batch_window,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn shipment(
        &self,
        tenant: TenantId,
        awb: &AwbNumber,
    ) -> Result<Option<ShipmentView>, StoreError> {
        let row: Option<ShipmentRow> = sqlx::query_as(
            "SELECT awb, carrier, origin, destination, pieces, weight, volume, status, \
                 anomalies, last_checked_at, next_poll_at \
             FROM shipments sh WHERE sh.awb = ?2 \
               AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = ?1 AND s.awb = ?2)",
        )
        .bind(tenant)
        .bind(awb.as_str())
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let events: Vec<EventRow> = sqlx::query_as(SELECT_EVENTS)
            .bind(Json([awb.as_str()]))
            .fetch_all(&self.reader)
            .await?;
        row.into_view(events.into_iter().map(Into::into).collect())
            .map(Some)
    }
}
