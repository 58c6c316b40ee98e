//! The flight poller's side: per-(number, date) checks claimed with leases like shipments,
//! and a check's outcome written back, with what it means for subscribers, in one
//! transaction.

use super::flight_reports::apply_flight_reports;
use super::flights::{CheckRow, FlightViewRow};
use super::queue::{Queueing, queue_flight_messages};
use super::sql::{Claim, sql};
use super::views::FLIGHT_VIEW_COLUMNS;
use super::{
    ClaimedFlightCheck, FlightCheckRecord, FlightChecks, Lease, Queued, SqlStore, StoreError,
};
use crate::domain::flight_state::reports::ReportOrigin;
use async_trait::async_trait;
use uuid::Uuid;

#[async_trait]
impl FlightChecks for SqlStore {
    async fn claim_due_flight_checks(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<ClaimedFlightCheck>, StoreError> {
        let rows: Vec<CheckRow> = Claim {
            table: "flight_checks",
            key: &["number", "date"],
            due: "SELECT c.number, c.date FROM flight_checks c \
                  WHERE c.next_check_at <= $2 \
                    AND (c.lease_expires_at IS NULL OR c.lease_expires_at < $2) \
                    AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.flight_number = c.number \
                                AND s.flight_date = c.date AND s.status = 'active') \
                  ORDER BY c.next_check_at LIMIT $4",
            returning: &["number", "date", "created_at", "check_failures"],
        }
        .run(&mut self.writer().await?, lease, limit)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn record_flight_check(
        &self,
        owner: Uuid,
        record: FlightCheckRecord,
    ) -> Result<Option<Queued>, StoreError> {
        let mut tx = self.begin().await?;
        let owned = sql(
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
        .execute(&mut tx)
        .await?;
        if owned == 0 {
            return Ok(None);
        }
        let mut queueing = Queueing::new(record.checked_at, self.email_batch_window);
        apply_flight_reports(
            &mut tx,
            &record.reports,
            ReportOrigin::Check {
                source: record.source,
            },
            &mut queueing,
        )
        .await?;
        // A leg that ended before some subscription was made changes no more, so nothing
        // above completes that subscription; every check does, whatever the source said.
        let finished: Vec<FlightViewRow> = sql(format!(
            "SELECT {FLIGHT_VIEW_COLUMNS} FROM flights WHERE number = $1 AND date = $2 \
             AND status IN ('ARRIVED', 'CANCELLED')"
        ))
        .bind(record.number.as_str())
        .bind(record.date)
        .fetch_all(&mut tx)
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
            queue_flight_messages(&mut tx, &flight, &[], &mut queueing).await?;
        }
        self.commit_waking(tx, queueing.queued.work()).await?;
        Ok(Some(queueing.queued))
    }
}
