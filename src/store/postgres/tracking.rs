//! The poller's side of Postgres: claiming due shipments with leases (`FOR UPDATE SKIP
//! LOCKED`, so instances never claim the same row) and writing back what a poll found.

use super::PostgresStore;
use crate::domain::{AwbNumber, TenantId};
use crate::store::flights::ReportOrigin;
use crate::store::rows::{ClaimRow, EventColumns, EventRow, ShipmentRow};
use crate::store::{ClaimedShipment, PollRecord, PollResult, ShipmentView, StoreError};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

pub(super) const EVENT_COLUMNS: &str =
    "awb, fingerprint, payload, withdrawn_at IS NOT NULL AS withdrawn";

impl PostgresStore {
    pub(super) async fn claim(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError> {
        let claims: Vec<ClaimRow> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT s.awb FROM shipments s \
                 WHERE s.next_poll_at <= $2 \
                   AND (s.lease_expires_at IS NULL OR s.lease_expires_at < $2) \
                   AND EXISTS (SELECT 1 FROM subscriptions sub \
                               WHERE sub.awb = s.awb AND sub.status = 'active') \
                 ORDER BY s.next_poll_at LIMIT $4 \
                 FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE shipments s SET lease_owner = $1, lease_expires_at = $3 \
             FROM due WHERE s.awb = due.awb \
             RETURNING s.awb, s.created_at, s.status, s.poll_failures, s.carrier_ref",
        )
        .bind(owner)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let awbs: Vec<&str> = claims.iter().map(|c| c.awb.as_str()).collect();
        let mut events: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE awb = ANY($1) \
             ORDER BY event_at NULLS LAST, first_seen_at"
        )))
        .bind(&awbs)
        .fetch_all(&self.pool)
        .await?;
        claims
            .into_iter()
            .map(|claim| claim.into_claim(&mut events))
            .collect()
    }

    pub(super) async fn record(&self, owner: Uuid, record: PollRecord) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (summary, raw, anomalies, error) = record.result.columns();
        let carrier_ref = record.result.carrier_ref();
        // Fields a poll did not learn keep their value: a carrier that omits the weight today
        // has not made the shipment weightless.
        let owned = sqlx::query(
            "UPDATE shipments SET lease_owner = NULL, lease_expires_at = NULL, \
                 carrier = $3, last_checked_at = $4, next_poll_at = $5, poll_failures = $6, \
                 last_error = $7, updated_at = $4, \
                 origin = COALESCE($8, origin), destination = COALESCE($9, destination), \
                 pieces = COALESCE($10, pieces), weight = COALESCE($11, weight), \
                 volume = COALESCE($12, volume), status = COALESCE($13, status), \
                 raw_payload = COALESCE($14, raw_payload), anomalies = COALESCE($15, anomalies), \
                 carrier_ref = CASE WHEN $16 THEN $17 ELSE carrier_ref END \
             WHERE awb = $1 AND lease_owner = $2",
        )
        .bind(record.awb.as_str())
        .bind(owner)
        .bind(record.carrier)
        .bind(record.checked_at)
        .bind(record.next_poll_at)
        .bind(i32::try_from(record.poll_failures).unwrap_or(i32::MAX))
        .bind(error)
        .bind(summary.and_then(|s| s.origin.as_deref()))
        .bind(summary.and_then(|s| s.destination.as_deref()))
        .bind(
            summary
                .and_then(|s| s.pieces)
                .and_then(|p| i32::try_from(p).ok()),
        )
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
            // The lease expired and another instance took the shipment over: its answer wins.
            return Ok(false);
        }
        if let PollResult::Tracked {
            upserts,
            withdrawn,
            change,
            ..
        } = &record.result
        {
            if !upserts.is_empty() {
                let columns: Vec<EventColumns> = upserts.iter().map(Into::into).collect();
                sqlx::query(
                    "INSERT INTO events (id, awb, fingerprint, code, event_at, location, \
                         is_planned, payload, first_seen_at, updated_at) \
                     SELECT gen_random_uuid(), $1, u.f, u.c, u.t, u.l, u.p, u.j::jsonb, $2, $2 \
                     FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], \
                                 $7::bool[], $8::text[]) AS u(f, c, t, l, p, j) \
                     ON CONFLICT (awb, fingerprint) DO UPDATE SET code = EXCLUDED.code, \
                         event_at = EXCLUDED.event_at, location = EXCLUDED.location, \
                         is_planned = EXCLUDED.is_planned, payload = EXCLUDED.payload, \
                         updated_at = EXCLUDED.updated_at, withdrawn_at = NULL",
                )
                .bind(record.awb.as_str())
                .bind(record.checked_at)
                .bind(
                    columns
                        .iter()
                        .map(|c| c.fingerprint.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(columns.iter().map(|c| c.code.as_str()).collect::<Vec<_>>())
                .bind(columns.iter().map(|c| c.event_at).collect::<Vec<_>>())
                .bind(
                    columns
                        .iter()
                        .map(|c| c.location.as_deref())
                        .collect::<Vec<_>>(),
                )
                .bind(columns.iter().map(|c| c.is_planned).collect::<Vec<_>>())
                .bind(
                    columns
                        .iter()
                        .map(|c| c.payload.as_str())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut *tx)
                .await?;
            }
            if !withdrawn.is_empty() {
                sqlx::query(
                    "UPDATE events SET withdrawn_at = $3, updated_at = $3 \
                     WHERE awb = $1 AND fingerprint = ANY($2) AND withdrawn_at IS NULL",
                )
                .bind(record.awb.as_str())
                .bind(withdrawn)
                .bind(record.checked_at)
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
             FROM shipments sh WHERE sh.awb = $2 \
               AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = $1 AND s.awb = $2)",
        )
        .bind(tenant)
        .bind(awb.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let events: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE awb = $1 \
             ORDER BY event_at NULLS LAST, first_seen_at"
        )))
        .bind(awb.as_str())
        .fetch_all(&self.pool)
        .await?;
        row.into_view(events.into_iter().map(Into::into).collect())
            .map(Some)
    }
}
