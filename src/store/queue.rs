//! Putting messages into the outbox: what a poll, a push or a flight check found is queued
//! inside the transaction that recorded it, one row per message and target, with
//! per-subscription sequences handed out while the subscriptions' rows are locked (by
//! `FOR UPDATE` on Postgres, by the single writer on SQLite).

use super::StoreError;
use super::lifecycle::end_subscriptions;
use super::outbox::{Queued, RecipientRow};
use super::sql::{Backend, Col, Conn, JsonRows, sql};
use super::subscriptions::active_emails;
use crate::domain::message::{self, Outgoing, Recipient, ShipmentChange, next_sequences};
use crate::domain::{Destination, FlightChange, FlightSnapshot};
use crate::domain::{SubscriptionId, SubscriptionStatus};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// Active subscriptions with their reachable channels, `filter` appended.
pub(super) fn select_recipients(dialect: Backend, filter: &str) -> String {
    let emails = active_emails(dialect);
    format!(
        "SELECT s.id, s.status, s.awb, s.flight_number, s.flight_date, s.flight_origin, \
             s.reference, s.states, s.next_sequence, s.expires_at, s.url, s.feed, {emails} AS emails \
         FROM subscriptions s {filter}"
    )
}

/// [`select_recipients`], the rows locked until commit: messages are queued for them, and
/// their sequences handed out, under the lock.
pub(super) fn lock_recipients(dialect: Backend, filter: &str) -> String {
    select_recipients(dialect, &format!("{filter}{}", dialect.for_update()))
}

/// One write's queueing: when it happens, how long its emails wait for more news, and what it
/// has queued so far.
pub(super) struct Queueing {
    pub now: DateTime<Utc>,
    pub email_batch_window: TimeDelta,
    pub queued: Queued,
}

impl Queueing {
    pub fn new(now: DateTime<Utc>, email_batch_window: TimeDelta) -> Self {
        Self {
            now,
            email_batch_window,
            queued: Queued::default(),
        }
    }
}

pub(super) fn into_recipients(rows: Vec<RecipientRow>) -> Result<Vec<Recipient>, StoreError> {
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Queues what a poll's change means for the shipment's active subscriptions, and completes
/// them if it was delivered. Runs inside the poll's transaction.
pub(super) async fn queue_shipment_messages(
    conn: &mut impl Conn,
    change: &ShipmentChange,
    queueing: &mut Queueing,
) -> Result<(), StoreError> {
    if change.changed.is_empty() && !change.is_delivered() {
        return Ok(());
    }
    let select = lock_recipients(
        conn.backend(),
        "WHERE s.awb = $1 AND s.status = 'active' ORDER BY s.created_at",
    );
    let rows = sql(select)
        .bind(change.awb.as_str())
        .fetch_all(conn)
        .await?;
    let recipients = into_recipients(rows)?;
    let now = queueing.now;
    let (messages, completed) = message::plan_shipment_messages(change, &recipients, now);
    insert_messages(conn, &messages, queueing).await?;
    end_subscriptions(conn, completed, SubscriptionStatus::Completed, now).await
}

/// Queues a flight's changes for the active subscriptions of that flight (by number and date,
/// and origin unless they left it open), and completes them once it has arrived or was
/// cancelled — a subscription open to every leg of the number once all known legs have. Runs
/// inside the transaction that recorded the change, after the flight's row.
pub(super) async fn queue_flight_messages(
    conn: &mut impl Conn,
    flight: &FlightSnapshot,
    changes: &[FlightChange],
    queueing: &mut Queueing,
) -> Result<(), StoreError> {
    let finished = flight.status.is_final();
    if changes.is_empty() && !finished {
        return Ok(());
    }
    let every_leg_finished = finished && {
        let (unfinished,): (bool,) = sql(
            "SELECT EXISTS (SELECT 1 FROM flights WHERE number = $1 AND date = $2 \
             AND status NOT IN ('ARRIVED', 'CANCELLED'))",
        )
        .bind(&flight.number)
        .bind(flight.date)
        .fetch_one(conn)
        .await?;
        !unfinished
    };
    let select = lock_recipients(
        conn.backend(),
        "WHERE s.flight_number = $1 AND s.flight_date = $2 \
         AND (($4 AND s.flight_origin = $3) OR (NOT $4 AND s.flight_origin IS NULL)) \
         AND s.status = 'active' ORDER BY s.created_at",
    );
    // Those naming this origin, then those open to every leg.
    for (names_origin, complete_them) in [(true, finished), (false, every_leg_finished)] {
        let rows = sql(select.clone())
            .bind(&flight.number)
            .bind(flight.date)
            .bind(&flight.origin)
            .bind(names_origin)
            .fetch_all(conn)
            .await?;
        let recipients = into_recipients(rows)?;
        let now = queueing.now;
        let (messages, completed) =
            message::plan_flight_messages(flight, changes, &recipients, complete_them, now);
        insert_messages(conn, &messages, queueing).await?;
        end_subscriptions(conn, completed, SubscriptionStatus::Completed, now).await?;
    }
    Ok(())
}

/// Inserts one outbox row per message and target, and one feed row per message whose
/// subscription has the feed, and advances the sequences.
pub(super) async fn insert_messages(
    conn: &mut impl Conn,
    messages: &[Outgoing],
    queueing: &mut Queueing,
) -> Result<(), StoreError> {
    let now = queueing.now;
    let mut rows = JsonRows::default();
    for message in messages {
        for (channel, target) in &message.targets {
            rows.push(serde_json::json!({
                "id": Uuid::new_v4(),
                "message_id": message.message_id,
                "subscription_id": message.subscription_id,
                "type": message.kind,
                "channel": channel.as_str(),
                "target": target,
                "destination": Destination::of(*channel, target).map(|d| d.as_str().to_owned()),
                "sequence": message.sequence,
                "body": message.body,
            }));
        }
    }
    if messages.is_empty() {
        return Ok(());
    }
    let dialect = conn.backend();
    // Postgres takes any JSON rows for 100 of them, so a join with `subscriptions` on `u`
    // alone plans as a scan of every subscription; naming the ids as a list as well lets both
    // statements look them up by key (204 pages read per statement at 10,000 subscriptions
    // against 8).
    let next = next_sequences(messages);
    let ids: Vec<SubscriptionId> = next.iter().map(|(id, _)| *id).collect();
    if !rows.is_empty() {
        insert_deliveries(conn, rows, ids.clone(), queueing).await?;
    }
    super::feed::insert_feed_messages(conn, messages, now).await?;
    let mut sequences = JsonRows::default();
    for (id, next) in next {
        sequences.push(serde_json::json!({ "id": id, "next": next }));
    }
    let source = dialect.json_rows(1, &[("id", Col::Uuid), ("next", Col::BigInt)]);
    sql(format!(
        "UPDATE subscriptions SET next_sequence = u.next, last_message_at = $3 FROM {source} \
         WHERE subscriptions.id = u.id AND subscriptions.id {}",
        dialect.in_uuids(2)
    ))
    .bind(sequences)
    .bind(ids)
    .bind(now)
    .execute(conn)
    .await?;
    queueing.queued.add(messages);
    Ok(())
}

/// The outbox rows of one write, one per message and channel target.
async fn insert_deliveries(
    conn: &mut impl Conn,
    rows: JsonRows,
    ids: Vec<SubscriptionId>,
    queueing: &Queueing,
) -> Result<(), StoreError> {
    let now = queueing.now;
    let dialect = conn.backend();
    let source = dialect.json_rows(
        3,
        &[
            ("id", Col::Uuid),
            ("message_id", Col::Text),
            ("subscription_id", Col::Uuid),
            ("type", Col::Text),
            ("channel", Col::Text),
            ("target", Col::Text),
            ("destination", Col::Text),
            ("sequence", Col::BigInt),
            ("body", Col::Text),
        ],
    );
    let subscriptions = dialect.in_uuids(4);
    // An email joins the batch already waiting for the same address, if there is one. A
    // message for a disabled URL is parked until the URL is re-enabled.
    sql(format!(
        "INSERT INTO deliveries (id, message_id, subscription_id, type, channel, target, \
             destination, sequence, body, status, next_attempt_at, created_at) \
         SELECT u.id, u.message_id, u.subscription_id, u.type, u.channel, u.target, \
             u.destination, u.sequence, u.body, \
             CASE WHEN u.channel = 'webhook' AND EXISTS (SELECT 1 FROM subscriptions s \
                      WHERE s.id = u.subscription_id AND s.id {subscriptions} \
                        AND s.url_disabled_at IS NOT NULL) \
                  THEN 'parked' ELSE 'pending' END, \
             CASE WHEN u.channel = 'email' THEN COALESCE( \
                 (SELECT min(d.next_attempt_at) FROM deliveries d \
                  WHERE d.subscription_id = u.subscription_id AND d.channel = 'email' \
                    AND d.target = u.target AND d.status = 'pending' AND d.attempts = 0), \
                 $2) ELSE $1 END, $1 \
         FROM {source}"
    ))
    .bind(now)
    .bind(now + queueing.email_batch_window)
    .bind(rows)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}
