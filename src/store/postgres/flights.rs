//! Flights on Postgres: reports applied under a row lock (so two instances reporting the same
//! flight at once diff against each other's result, never against the same old state), checks
//! claimed with `FOR UPDATE SKIP LOCKED` leases like shipments.

use super::PostgresStore;
use crate::domain::{FlightKey, FlightNumber, FlightReport, FlightState, TenantId};
use crate::store::StoreError;
use crate::store::flights::{
    CheckRow, ClaimedFlightCheck, FlightCheckRecord, FlightStore, FlightView, FlightViewRow,
    ReportOrigin, merge_by_flight, plan_report, should_write,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

const VIEW_COLUMNS: &str = "id, number, date, origin, state, last_checked_at, source";

impl PostgresStore {
    /// Applies reports about flights (from a source, or from `awb`'s new events), queueing
    /// what changed for the flights' subscribers. Runs inside the caller's transaction.
    ///
    /// Many AWBs fly on one flight and mostly repeat what is known, so a report is first
    /// compared without a lock: only one that changes something (or a source's check, which
    /// records `last_checked_at`) locks the flight row, re-reads it and writes. Otherwise
    /// every first poll of a full freighter's AWBs would queue on that one row.
    pub(super) async fn apply_flight_reports(
        conn: &mut PgConnection,
        reports: &[FlightReport],
        origin: ReportOrigin<'_>,
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        for report in merge_by_flight(reports) {
            let key = &report.key;
            let select = "SELECT id, state, from_source FROM flights \
                          WHERE number = $1 AND date = $2 AND origin = $3";
            // Reads the flight and links the AWB to it in one round trip: most reports end here.
            let awb = match origin {
                ReportOrigin::Shipment { awb, .. } => Some(awb.as_str()),
                ReportOrigin::Check { .. } => None,
            };
            let stored: Option<(Uuid, Json<FlightState>, bool)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "WITH f AS ({select}), link AS ( \
                         INSERT INTO flight_awbs (flight_id, awb, first_seen_at) \
                         SELECT id, $4, $5 FROM f WHERE $4::text IS NOT NULL \
                         ON CONFLICT DO NOTHING \
                     ) SELECT id, state, from_source FROM f"
                )))
                .bind(key.number.as_str())
                .bind(key.date)
                .bind(key.origin.as_str())
                .bind(awb)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
            let linked = stored.is_some();
            let id = match stored {
                Some((id, old, from_source))
                    if !should_write(Some((&old.0, from_source)), &report, origin) =>
                {
                    id
                }
                _ => {
                    sqlx::query(
                        "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(Uuid::new_v4())
                    .bind(key.number.as_str())
                    .bind(key.date)
                    .bind(key.origin.as_str())
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    // Decided again under the lock: another instance may have written since.
                    let (id, old, from_source): (Uuid, Json<FlightState>, bool) =
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("{select} FOR UPDATE")))
                            .bind(key.number.as_str())
                            .bind(key.date)
                            .bind(key.origin.as_str())
                            .fetch_one(&mut *conn)
                            .await?;
                    if should_write(Some((&old.0, from_source)), &report, origin) {
                        let planned = plan_report(id, &old.0, &report);
                        sqlx::query(
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
                        .execute(&mut *conn)
                        .await?;
                        Self::queue_flight_messages(
                            conn,
                            &planned.snapshot,
                            &planned.changes,
                            now,
                            email_batch_window,
                        )
                        .await?;
                    }
                    id
                }
            };
            if let (Some(awb), false) = (awb, linked) {
                sqlx::query(
                    "INSERT INTO flight_awbs (flight_id, awb, first_seen_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(awb)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }

    async fn views(
        &self,
        tenant: TenantId,
        rows: Vec<FlightViewRow>,
    ) -> Result<Vec<FlightView>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let awbs: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT fa.flight_id, fa.awb FROM flight_awbs fa \
             WHERE fa.flight_id = ANY($1) AND EXISTS (SELECT 1 FROM subscriptions s \
                 WHERE s.tenant_id = $2 AND s.awb = fa.awb) \
             ORDER BY fa.awb",
        )
        .bind(&ids)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|row| row.into_view(&awbs)).collect()
    }
}

#[async_trait::async_trait]
impl FlightStore for PostgresStore {
    async fn claim_due_flight_checks(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedFlightCheck>, StoreError> {
        let rows: Vec<CheckRow> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT c.number, c.date FROM flight_checks c \
                 WHERE c.next_check_at <= $2 \
                   AND (c.lease_expires_at IS NULL OR c.lease_expires_at < $2) \
                   AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.flight_number = c.number \
                               AND s.flight_date = c.date AND s.status = 'active') \
                 ORDER BY c.next_check_at LIMIT $4 \
                 FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE flight_checks c SET lease_owner = $1, lease_expires_at = $3 \
             FROM due WHERE c.number = due.number AND c.date = due.date \
             RETURNING c.number, c.date, c.created_at, c.check_failures",
        )
        .bind(owner)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn record_flight_check(
        &self,
        owner: Uuid,
        record: FlightCheckRecord,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owned = sqlx::query(
            "UPDATE flight_checks SET lease_owner = NULL, lease_expires_at = NULL, \
                 next_check_at = $4, check_failures = $5, last_checked_at = $6, \
                 last_error = $7, source = $8 \
             WHERE number = $1 AND date = $2 AND lease_owner = $3",
        )
        .bind(record.number.as_str())
        .bind(record.date)
        .bind(owner)
        .bind(record.next_check_at)
        .bind(i32::try_from(record.check_failures).unwrap_or(i32::MAX))
        .bind(record.checked_at)
        .bind(record.error.as_deref())
        .bind(record.source)
        .execute(&mut *tx)
        .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        Self::apply_flight_reports(
            &mut tx,
            &record.reports,
            ReportOrigin::Check {
                source: record.source,
            },
            record.checked_at,
            record.email_batch_window,
        )
        .await?;
        // A leg that ended before some subscription was made changes no more, so nothing
        // above completes that subscription; every check does, whatever the source said.
        let finished: Vec<FlightViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {VIEW_COLUMNS} FROM flights WHERE number = $1 AND date = $2 \
             AND status IN ('ARRIVED', 'CANCELLED')"
        )))
        .bind(record.number.as_str())
        .bind(record.date)
        .fetch_all(&mut *tx)
        .await?;
        for row in finished {
            if record
                .reports
                .iter()
                .any(|r| r.key.origin.as_str() == row.origin)
            {
                continue;
            }
            let flight = row.into_view(&[])?.snapshot;
            Self::queue_flight_messages(
                &mut tx,
                &flight,
                &[],
                record.checked_at,
                record.email_batch_window,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn get_flight(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<FlightView>, StoreError> {
        let rows: Vec<FlightViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {VIEW_COLUMNS} FROM flights WHERE id = $1"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.views(tenant, rows).await?.pop())
    }

    async fn learn_flight(&self, key: &FlightKey, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
        // Inserting first and reading after is right whether or not another request (or
        // instance) learned the flight in between.
        sqlx::query(
            "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(key.number.as_str())
        .bind(key.date)
        .bind(key.origin.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        let (id,): (Uuid,) = sqlx::query_as(
            "SELECT id FROM flights WHERE number = $1 AND date = $2 AND origin = $3",
        )
        .bind(key.number.as_str())
        .bind(key.date)
        .bind(key.origin.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn find_flights(
        &self,
        tenant: TenantId,
        number: &FlightNumber,
        date: NaiveDate,
    ) -> Result<Vec<FlightView>, StoreError> {
        let rows: Vec<FlightViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {VIEW_COLUMNS} FROM flights WHERE number = $1 AND date = $2 ORDER BY origin"
        )))
        .bind(number.as_str())
        .bind(date)
        .fetch_all(&self.pool)
        .await?;
        self.views(tenant, rows).await
    }
}
