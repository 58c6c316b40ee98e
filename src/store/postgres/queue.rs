//! Putting messages into the outbox on Postgres: what a poll, a push or a flight check
//! found is queued inside the transaction that recorded it, one row per message and target,
//! with per-subscription sequences handed out under row locks.

use super::PostgresStore;
use crate::domain::SubscriptionId;
use crate::domain::message::{self, Outgoing, Recipient, ShipmentChange};
use crate::domain::{FlightChange, FlightSnapshot};
use crate::store::StoreError;
use crate::store::outbox::{RecipientRow, count_queued, next_sequences};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgConnection;

/// Active subscriptions with their reachable channels; callers append the WHERE.
pub(super) const SELECT_RECIPIENTS: &str = "SELECT s.id, s.status, s.awb, s.flight_number, s.flight_date, s.flight_origin, s.reference, s.states, s.next_sequence, \
         s.expires_at, CASE WHEN s.url_disabled_at IS NULL THEN s.url END AS url, \
         (SELECT COALESCE(json_agg(e.email ORDER BY e.position), '[]'::json) \
          FROM subscription_emails e WHERE e.subscription_id = s.id AND e.active) AS emails \
     FROM subscriptions s ";

impl PostgresStore {
    /// Queues what a poll's change means for the shipment's active subscriptions, and
    /// completes them if it was delivered. Runs inside the poll's transaction.
    pub(super) async fn queue_shipment_messages(
        conn: &mut PgConnection,
        change: &ShipmentChange,
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        if change.changed.is_empty() && !change.is_delivered() {
            return Ok(());
        }
        // FOR UPDATE: sequences are handed out by whoever holds these rows.
        let rows: Vec<RecipientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECIPIENTS} WHERE s.awb = $1 AND s.status = 'active' \
             ORDER BY s.created_at FOR UPDATE"
        )))
        .bind(change.awb.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let recipients: Vec<Recipient> = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?;
        let (messages, completed) = message::plan_shipment_messages(change, &recipients, now);
        Self::insert_messages(conn, &messages, now, email_batch_window).await?;
        Self::complete(conn, &completed, now).await
    }

    /// Ends subscriptions whose target is done; their `subscription.completed` is queued.
    async fn complete(
        conn: &mut PgConnection,
        completed: &[SubscriptionId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if completed.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE subscriptions SET status = 'completed', ended_at = $2, updated_at = $2 \
             WHERE id = ANY($1) AND status = 'active'",
        )
        .bind(completed)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Queues a flight's changes for the active subscriptions of that flight (by number and
    /// date, and origin unless they left it open), and completes them once it has arrived or
    /// was cancelled — a subscription open to every leg of the number once all known legs
    /// have. Runs inside the transaction that recorded the change, after the flight's row.
    pub(super) async fn queue_flight_messages(
        conn: &mut PgConnection,
        flight: &FlightSnapshot,
        changes: &[FlightChange],
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        let finished = flight.status.is_final();
        if changes.is_empty() && !finished {
            return Ok(());
        }
        let every_leg_finished = finished && {
            let (unfinished,): (bool,) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM flights WHERE number = $1 AND date = $2 \
                 AND status NOT IN ('ARRIVED', 'CANCELLED'))",
            )
            .bind(&flight.number)
            .bind(flight.date)
            .fetch_one(&mut *conn)
            .await?;
            !unfinished
        };
        // Those naming this origin, then those open to every leg.
        for (names_origin, complete) in [(true, finished), (false, every_leg_finished)] {
            let rows: Vec<RecipientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_RECIPIENTS} WHERE s.flight_number = $1 AND s.flight_date = $2 \
                 AND (($4 AND s.flight_origin = $3) OR (NOT $4 AND s.flight_origin IS NULL)) \
                 AND s.status = 'active' ORDER BY s.created_at FOR UPDATE"
            )))
            .bind(&flight.number)
            .bind(flight.date)
            .bind(&flight.origin)
            .bind(names_origin)
            .fetch_all(&mut *conn)
            .await?;
            let recipients: Vec<Recipient> = rows
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?;
            let (messages, completed) =
                message::plan_flight_messages(flight, changes, &recipients, complete, now);
            Self::insert_messages(conn, &messages, now, email_batch_window).await?;
            Self::complete(conn, &completed, now).await?;
        }
        Ok(())
    }

    /// Inserts one outbox row per message and target and advances the sequences.
    pub(super) async fn insert_messages(
        conn: &mut PgConnection,
        messages: &[Outgoing],
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        let rows: Vec<(&Outgoing, &str, &str)> = messages
            .iter()
            .flat_map(|m| {
                m.targets
                    .iter()
                    .map(move |(c, t)| (m, c.as_str(), t.as_str()))
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        // An email joins the batch already waiting for the same address, if there is one.
        sqlx::query(
            "INSERT INTO deliveries (id, message_id, subscription_id, type, channel, target, \
                 sequence, body, next_attempt_at, created_at) \
             SELECT gen_random_uuid(), u.m, u.s, u.k, u.c, u.t, u.q, u.b, \
                 CASE WHEN u.c = 'email' THEN COALESCE( \
                     (SELECT min(d.next_attempt_at) FROM deliveries d \
                      WHERE d.subscription_id = u.s AND d.channel = 'email' \
                        AND d.target = u.t AND d.status = 'pending' AND d.attempts = 0), \
                     $1::timestamptz + $2::interval) ELSE $1 END, $1 \
             FROM unnest($3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], \
                         $8::bigint[], $9::text[]) AS u(m, s, k, c, t, q, b)",
        )
        .bind(now)
        .bind(email_batch_window)
        .bind(
            rows.iter()
                .map(|r| r.0.message_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.0.subscription_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.0.kind).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| i64::try_from(r.0.sequence).unwrap_or(i64::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.0.body.as_str()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        let (ids, sequences): (Vec<SubscriptionId>, Vec<i64>) =
            next_sequences(messages).into_iter().unzip();
        sqlx::query(
            "UPDATE subscriptions s SET next_sequence = u.q \
             FROM unnest($1::uuid[], $2::bigint[]) AS u(id, q) WHERE s.id = u.id",
        )
        .bind(ids)
        .bind(sequences)
        .execute(&mut *conn)
        .await?;
        count_queued(messages);
        Ok(())
    }
}
