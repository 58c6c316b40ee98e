//! Putting messages into the outbox on SQLite: the same rules as on Postgres, the single
//! writer connection serialising every sequence hand-out.

use super::{SqliteStore, ts};
use crate::domain::SubscriptionId;
use crate::domain::message::{self, Outgoing, Recipient, ShipmentChange};
use crate::domain::{FlightChange, FlightSnapshot};
use crate::store::StoreError;
use crate::store::outbox::{RecipientRow, count_queued, next_sequences};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

/// Active subscriptions with their reachable channels; callers append the WHERE.
pub(super) const SELECT_RECIPIENTS: &str = "SELECT s.id, s.status, s.awb, s.flight_number, s.flight_date, s.flight_origin, s.reference, s.states, \
         s.next_sequence, s.expires_at, CASE WHEN s.url_disabled_at IS NULL THEN s.url END AS url, \
         (SELECT json_group_array(email) FROM (SELECT e.email FROM subscription_emails e \
          WHERE e.subscription_id = s.id AND e.active = 1 ORDER BY e.position)) AS emails \
     FROM subscriptions s ";

impl SqliteStore {
    /// Queues what a poll's change means for the shipment's active subscriptions, and
    /// completes them if it was delivered. Runs inside the poll's transaction.
    pub(super) async fn queue_shipment_messages(
        conn: &mut SqliteConnection,
        change: &ShipmentChange,
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        if change.changed.is_empty() && !change.is_delivered() {
            return Ok(());
        }
        let rows: Vec<RecipientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECIPIENTS} WHERE s.awb = ?1 AND s.status = 'active' ORDER BY s.created_at"
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

    /// Queues a flight's changes for the active subscriptions of that flight (by number and
    /// date, and origin unless they left it open), and completes them once it has arrived or
    /// was cancelled — a subscription open to every leg of the number once all known legs
    /// have. Runs inside the transaction that recorded the change, after the flight's row.
    pub(super) async fn queue_flight_messages(
        conn: &mut SqliteConnection,
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
                "SELECT EXISTS (SELECT 1 FROM flights WHERE number = ?1 AND date = ?2 \
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
                "{SELECT_RECIPIENTS} WHERE s.flight_number = ?1 AND s.flight_date = ?2 \
                 AND ((?4 AND s.flight_origin = ?3) OR (NOT ?4 AND s.flight_origin IS NULL)) \
                 AND s.status = 'active' ORDER BY s.created_at"
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

    /// Ends subscriptions whose target is done; their `subscription.completed` is queued.
    async fn complete(
        conn: &mut SqliteConnection,
        completed: &[SubscriptionId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for id in completed {
            sqlx::query(
                "UPDATE subscriptions SET status = 'completed', ended_at = ?2, updated_at = ?2 \
                 WHERE id = ?1 AND status = 'active'",
            )
            .bind(id)
            .bind(ts(now))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Inserts one outbox row per message and target and advances the sequences.
    pub(super) async fn insert_messages(
        conn: &mut SqliteConnection,
        messages: &[Outgoing],
        now: DateTime<Utc>,
        email_batch_window: TimeDelta,
    ) -> Result<(), StoreError> {
        let email_due = ts(now + email_batch_window);
        for message in messages {
            for (channel, target) in &message.targets {
                // An email joins the batch already waiting for the same address, if any.
                sqlx::query(
                    "INSERT INTO deliveries (id, message_id, subscription_id, type, channel, \
                         target, sequence, body, next_attempt_at, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                         CASE WHEN ?5 = 'email' THEN COALESCE( \
                             (SELECT min(d.next_attempt_at) FROM deliveries d \
                              WHERE d.subscription_id = ?3 AND d.channel = 'email' \
                                AND d.target = ?6 AND d.status = 'pending' \
                                AND d.attempts = 0), ?10) ELSE ?9 END, ?9)",
                )
                .bind(Uuid::new_v4())
                .bind(&message.message_id)
                .bind(message.subscription_id)
                .bind(message.kind)
                .bind(channel.as_str())
                .bind(target)
                .bind(i64::try_from(message.sequence).unwrap_or(i64::MAX))
                .bind(&message.body)
                .bind(ts(now))
                .bind(&email_due)
                .execute(&mut *conn)
                .await?;
            }
        }
        for (id, next) in next_sequences(messages) {
            sqlx::query("UPDATE subscriptions SET next_sequence = ?2 WHERE id = ?1")
                .bind(id)
                .bind(next)
                .execute(&mut *conn)
                .await?;
        }
        count_queued(messages);
        Ok(())
    }
}
