//! The poller's side of shipments: claims with leases (so no shipment is
//! polled by two instances at once) and writing back what a poll found, with the messages it
//! means, in one transaction.

use super::flight_reports::apply_flight_reports;
use super::queue::{Queueing, queue_shipment_messages};
use super::rows::{ClaimRow, EventColumns, EventRow, corrupt};
use super::sql::{Claim, Col, Conn, JsonRows, Tx, sql};
use super::{
    ClaimedShipment, Lease, PollRecord, PollResult, Queued, ShipmentLeases, SqlStore,
    StaleRegistration, StoreError,
};
use crate::domain::AwbNumber;
use crate::domain::flight_state::reports::ReportOrigin;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::types::Json;
use uuid::Uuid;

const CLAIM_COLUMNS: &[&str] = &[
    "awb",
    "created_at",
    "status",
    "poll_failures",
    "carrier_ref",
    "registration_checked_at",
];

#[async_trait]
impl ShipmentLeases for SqlStore {
    async fn claim_due_shipments(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError> {
        let mut conn = self.writer().await?;
        let claims: Vec<ClaimRow> = Claim {
            table: "shipments",
            key: &["awb"],
            due: "SELECT s.awb FROM shipments s \
                  WHERE s.next_poll_at <= $2 \
                    AND (s.lease_expires_at IS NULL OR s.lease_expires_at < $2) \
                    AND EXISTS (SELECT 1 FROM subscriptions sub \
                                WHERE sub.awb = s.awb AND sub.status = 'active') \
                  ORDER BY s.next_poll_at LIMIT $4",
            returning: CLAIM_COLUMNS,
        }
        .run(&mut conn, lease, limit)
        .await?;
        let awbs = claims.iter().map(|c| c.awb.clone()).collect();
        let mut events = load_events(&mut conn, awbs).await?;
        claims
            .into_iter()
            .map(|claim| claim.into_claim(&mut events))
            .collect()
    }

    async fn record_polls(
        &self,
        owner: Uuid,
        records: Vec<PollRecord>,
    ) -> Result<Vec<Option<Queued>>, StoreError> {
        if records.len() > 1 {
            match self.write_polls(owner, &records).await {
                Ok(recorded) => return Ok(recorded),
                // A deadlock with another writer on a shared flight, say: each alone then, so
                // that one poll's trouble is not the others'.
                Err(err) => tracing::warn!(
                    error = format!("{:#}", anyhow::Error::from(err)),
                    polls = records.len(),
                    "recording polls together failed; recording them one by one"
                ),
            }
        }
        // Every poll that can be written is; the first error is reported after them.
        let mut recorded = Vec::with_capacity(records.len());
        let mut failed = None;
        for record in records {
            match self.write_polls(owner, std::slice::from_ref(&record)).await {
                Ok(one) => recorded.extend(one),
                Err(err) => {
                    failed.get_or_insert(err);
                }
            }
        }
        failed.map_or(Ok(recorded), Err)
    }

    async fn claim_stale_registrations(
        &self,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<StaleRegistration>, StoreError> {
        // A failed unregistration waits for `next_poll_at` (its back-off); otherwise the
        // registration goes as soon as its last subscription has ended.
        let rows: Vec<(String, String, String, i32)> = Claim {
            table: "shipments",
            key: &["awb"],
            due: "SELECT s.awb FROM shipments s \
                  WHERE s.carrier_ref IS NOT NULL AND s.carrier IS NOT NULL \
                    AND (s.poll_failures = 0 OR s.next_poll_at <= $2) \
                    AND (s.lease_expires_at IS NULL OR s.lease_expires_at < $2) \
                    AND NOT EXISTS (SELECT 1 FROM subscriptions sub \
                                    WHERE sub.awb = s.awb AND sub.status = 'active') \
                  ORDER BY s.next_poll_at LIMIT $4",
            returning: &["awb", "carrier", "carrier_ref", "poll_failures"],
        }
        .run(&mut self.writer().await?, lease, limit)
        .await?;
        rows.into_iter()
            .map(|(awb, carrier, carrier_ref, poll_failures)| {
                Ok(StaleRegistration {
                    awb: AwbNumber::parse(&awb).map_err(corrupt)?,
                    carrier,
                    carrier_ref,
                    poll_failures: u32::try_from(poll_failures).unwrap_or(0),
                })
            })
            .collect()
    }
}

impl SqlStore {
    /// Records polls in one transaction; see [`ShipmentLeases::record_polls`].
    async fn write_polls(
        &self,
        owner: Uuid,
        records: &[PollRecord],
    ) -> Result<Vec<Option<Queued>>, StoreError> {
        let mut tx = self.begin().await?;
        let mut recorded = Vec::with_capacity(records.len());
        for record in records {
            recorded.push(write_poll(&mut tx, owner, record, self.email_batch_window).await?);
        }
        // A kind of work woken twice is woken once: waiters wake, notices merge.
        let work: Vec<_> = recorded.iter().flatten().flat_map(Queued::work).collect();
        self.commit_waking(tx, work).await?;
        Ok(recorded)
    }
}

/// Writes one poll inside `tx`, if `owner` still holds its claim.
async fn write_poll(
    tx: &mut Tx,
    owner: Uuid,
    record: &PollRecord,
    email_batch_window: TimeDelta,
) -> Result<Option<Queued>, StoreError> {
    let (summary, raw, anomalies, error) = record.result.columns();
    // Fields a poll did not learn keep their value: a carrier that omits the weight today
    // has not made the shipment weightless. A fetch a push asked for after this poll was
    // claimed stays due ($17); an unregistration forgets the registration, and if a new
    // subscription came in meanwhile the shipment is due at once, to be registered again.
    let owned = sql(
        "UPDATE shipments SET lease_owner = NULL, lease_expires_at = NULL, \
             carrier = $3, last_checked_at = $4, poll_failures = $6, \
             last_error = $7, updated_at = $4, \
             origin = COALESCE($8, origin), destination = COALESCE($9, destination), \
             pieces = COALESCE($10, pieces), weight = COALESCE($11, weight), \
             volume = COALESCE($12, volume), status = COALESCE($13, status), \
             raw_payload = COALESCE($14, raw_payload), anomalies = COALESCE($15, anomalies), \
             next_poll_at = CASE \
                 WHEN $16 AND EXISTS (SELECT 1 FROM subscriptions sub \
                     WHERE sub.awb = $1 AND sub.status = 'active') THEN $4 \
                 WHEN NOT $16 AND push_due_at > $17 AND push_due_at < $5 THEN push_due_at \
                 ELSE $5 END, \
             push_due_at = CASE WHEN NOT $16 AND push_due_at > $17 THEN push_due_at END, \
             carrier_ref = CASE WHEN $16 THEN NULL ELSE carrier_ref END, \
             callback_token_hash = CASE WHEN $16 THEN NULL ELSE callback_token_hash END, \
             registration_checked_at = \
                 CASE WHEN $16 THEN NULL ELSE registration_checked_at END \
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
    .bind(record.result.unregisters())
    .bind(record.claimed_at)
    .execute(&mut *tx)
    .await?;
    if owned == 0 {
        // The lease expired and another instance took the shipment over: its answer wins.
        return Ok(None);
    }
    let mut queueing = Queueing::new(record.checked_at, email_batch_window);
    if let PollResult::Tracked {
        upserts,
        withdrawn,
        change,
        ..
    } = &record.result
    {
        upsert_events(&mut *tx, &record.awb, upserts, record.checked_at).await?;
        if !withdrawn.is_empty() {
            sql(format!(
                "UPDATE events SET withdrawn_at = $3, updated_at = $3 \
                 WHERE awb = $1 AND fingerprint {} AND withdrawn_at IS NULL",
                tx.backend().in_texts(2)
            ))
            .bind(record.awb.as_str())
            .bind(withdrawn.clone())
            .bind(record.checked_at)
            .execute(&mut *tx)
            .await?;
        }
        queue_shipment_messages(&mut *tx, change, &mut queueing).await?;
        apply_flight_reports(
            &mut *tx,
            &change.flight_reports(),
            ReportOrigin::Shipment {
                carrier: record.carrier,
                awb: &record.awb,
            },
            &mut queueing,
        )
        .await?;
    }
    Ok(Some(queueing.queued))
}

/// Every stored event of these shipments, oldest first.
pub(super) async fn load_events(
    conn: &mut impl Conn,
    awbs: Vec<String>,
) -> Result<Vec<EventRow>, StoreError> {
    if awbs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sql(format!(
        "SELECT awb, fingerprint, payload, withdrawn_at IS NOT NULL AS withdrawn \
         FROM events WHERE awb {} ORDER BY event_at NULLS LAST, first_seen_at",
        conn.backend().in_texts(1)
    ))
    .bind(awbs)
    .fetch_all(conn)
    .await?)
}

/// Inserts new events and overwrites changed or restored ones (un-withdrawing them).
async fn upsert_events(
    conn: &mut impl Conn,
    awb: &AwbNumber,
    upserts: &[crate::domain::diff::StoredEvent],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if upserts.is_empty() {
        return Ok(());
    }
    let mut rows = JsonRows::default();
    for columns in upserts.iter().map(EventColumns::from) {
        rows.push(serde_json::json!({
            "id": Uuid::new_v4(),
            "fingerprint": columns.fingerprint,
            "code": columns.code,
            "event_at": columns.event_at.map(super::sql::ts),
            "location": columns.location,
            "is_planned": columns.is_planned,
            "payload": columns.payload,
        }));
    }
    let source = conn.backend().json_rows(
        3,
        &[
            ("id", Col::Uuid),
            ("fingerprint", Col::Text),
            ("code", Col::Text),
            ("event_at", Col::Time),
            ("location", Col::Text),
            ("is_planned", Col::Bool),
            ("payload", Col::Json),
        ],
    );
    sql(format!(
        "INSERT INTO events (id, awb, fingerprint, code, event_at, location, is_planned, \
             payload, first_seen_at, updated_at) \
         SELECT u.id, $1, u.fingerprint, u.code, u.event_at, u.location, u.is_planned, \
             u.payload, $2, $2 FROM {source} WHERE true \
         ON CONFLICT (awb, fingerprint) DO UPDATE SET code = excluded.code, \
             event_at = excluded.event_at, location = excluded.location, \
             is_planned = excluded.is_planned, payload = excluded.payload, \
             updated_at = excluded.updated_at, withdrawn_at = NULL"
    ))
    .bind(awb.as_str())
    .bind(now)
    .bind(rows)
    .execute(conn)
    .await?;
    Ok(())
}
