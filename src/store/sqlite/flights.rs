//! Flights on SQLite: the same rules as on Postgres, made simpler by the single writer
//! connection, which serialises every report and every claim.

use super::{SqliteStore, ts};
use crate::domain::{FlightKey, FlightNumber, FlightReport, FlightState, TenantId};
use crate::store::StoreError;
use crate::store::flights::{
    CheckRow, ClaimedFlightCheck, FlightCheckRecord, FlightStore, FlightView, FlightViewRow,
    ReportOrigin, merge_by_flight, plan_report, should_write,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::SqliteConnection;
use sqlx::types::Json;
use uuid::Uuid;

const VIEW_COLUMNS: &str = "id, number, date, origin, state, last_checked_at, source";

impl SqliteStore {
    /// Applies reports about flights (from a source, or from `awb`'s new events), queueing
    /// what changed for the flights' subscribers. Runs inside the caller's transaction.
    ///
    /// As on Postgres, a report that only repeats what is known writes nothing but the link.
    pub(super) async fn apply_flight_reports(
        conn: &mut SqliteConnection,
        reports: &[FlightReport],
        origin: ReportOrigin<'_>,
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        for report in merge_by_flight(reports) {
            let key = &report.key;
            let select = "SELECT id, state, from_source FROM flights \
                          WHERE number = ?1 AND date = ?2 AND origin = ?3";
            let stored: Option<(Uuid, Json<FlightState>, bool)> = sqlx::query_as(select)
                .bind(key.number.as_str())
                .bind(key.date)
                .bind(key.origin.as_str())
                .fetch_optional(&mut *conn)
                .await?;
            let id = match stored {
                Some((id, old, from_source))
                    if !should_write(Some((&old.0, from_source)), &report, origin) =>
                {
                    id
                }
                _ => {
                    sqlx::query(
                        "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING",
                    )
                    .bind(Uuid::new_v4())
                    .bind(key.number.as_str())
                    .bind(key.date)
                    .bind(key.origin.as_str())
                    .bind(ts(now))
                    .execute(&mut *conn)
                    .await?;
                    // The single writer connection serialises this with every other report.
                    let (id, old, from_source): (Uuid, Json<FlightState>, bool) =
                        sqlx::query_as(select)
                            .bind(key.number.as_str())
                            .bind(key.date)
                            .bind(key.origin.as_str())
                            .fetch_one(&mut *conn)
                            .await?;
                    if should_write(Some((&old.0, from_source)), &report, origin) {
                        let planned = plan_report(id, &old.0, &report);
                        sqlx::query(
                            "UPDATE flights SET state = ?2, status = ?3, destination = ?4, \
                                 last_checked_at = ?5, source = ?6, updated_at = ?5, \
                                 from_source = from_source OR ?7 \
                             WHERE id = ?1",
                        )
                        .bind(id)
                        .bind(Json(&planned.state))
                        .bind(planned.snapshot.status.as_str())
                        .bind(planned.state.destination.as_deref())
                        .bind(ts(now))
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
            if let ReportOrigin::Shipment { awb, .. } = origin {
                sqlx::query(
                    "INSERT INTO flight_awbs (flight_id, awb, first_seen_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(awb.as_str())
                .bind(ts(now))
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
        let mut awbs: Vec<(Uuid, String)> = Vec::new();
        // Rarely more than a few legs: one query each is simpler than binding a list of blobs.
        for row in &rows {
            awbs.extend(
                sqlx::query_as::<_, (Uuid, String)>(
                    "SELECT fa.flight_id, fa.awb FROM flight_awbs fa \
                     WHERE fa.flight_id = ?1 AND EXISTS (SELECT 1 FROM subscriptions s \
                         WHERE s.tenant_id = ?2 AND s.awb = fa.awb) \
                     ORDER BY fa.awb",
                )
                .bind(row.id)
                .bind(tenant)
                .fetch_all(&self.reader)
                .await?,
            );
        }
        rows.into_iter().map(|row| row.into_view(&awbs)).collect()
    }
}

#[async_trait::async_trait]
impl FlightStore for SqliteStore {
    async fn claim_due_flight_checks(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedFlightCheck>, StoreError> {
        let rows: Vec<CheckRow> = sqlx::query_as(
            "UPDATE flight_checks SET lease_owner = ?1, lease_expires_at = ?3 \
             WHERE (number, date) IN ( \
                 SELECT c.number, c.date FROM flight_checks c \
                 WHERE c.next_check_at <= ?2 \
                   AND (c.lease_expires_at IS NULL OR c.lease_expires_at < ?2) \
                   AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.flight_number = c.number \
                               AND s.flight_date = c.date AND s.status = 'active') \
                 ORDER BY c.next_check_at LIMIT ?4) \
             RETURNING number, date, created_at, check_failures",
        )
        .bind(owner)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn record_flight_check(
        &self,
        owner: Uuid,
        record: FlightCheckRecord,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let owned = sqlx::query(
            "UPDATE flight_checks SET lease_owner = NULL, lease_expires_at = NULL, \
                 next_check_at = ?4, check_failures = ?5, last_checked_at = ?6, \
                 last_error = ?7, source = ?8 \
             WHERE number = ?1 AND date = ?2 AND lease_owner = ?3",
        )
        .bind(record.number.as_str())
        .bind(record.date)
        .bind(owner)
        .bind(ts(record.next_check_at))
        .bind(i32::try_from(record.check_failures).unwrap_or(i32::MAX))
        .bind(ts(record.checked_at))
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
            "SELECT {VIEW_COLUMNS} FROM flights WHERE number = ?1 AND date = ?2 \
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
            "SELECT {VIEW_COLUMNS} FROM flights WHERE id = ?1"
        )))
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        Ok(self.views(tenant, rows).await?.pop())
    }

    async fn learn_flight(&self, key: &FlightKey, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
        // Inserting first and reading after is right whether or not another request (or
        // instance) learned the flight in between.
        sqlx::query(
            "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(key.number.as_str())
        .bind(key.date)
        .bind(key.origin.as_str())
        .bind(ts(now))
        .execute(&self.writer)
        .await?;
        let (id,): (Uuid,) = sqlx::query_as(
            "SELECT id FROM flights WHERE number = ?1 AND date = ?2 AND origin = ?3",
        )
        .bind(key.number.as_str())
        .bind(key.date)
        .bind(key.origin.as_str())
        .fetch_one(&self.writer)
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
            "SELECT {VIEW_COLUMNS} FROM flights WHERE number = ?1 AND date = ?2 ORDER BY origin"
        )))
        .bind(number.as_str())
        .bind(date)
        .fetch_all(&self.reader)
        .await?;
        self.views(tenant, rows).await
    }
}
