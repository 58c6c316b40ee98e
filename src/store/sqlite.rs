//! What only SQLite does: the zero-setup default for a single instance. One writer connection
//! serialises every write transaction, so a plain UPDATE is a claim and a check-then-insert
//! inside a transaction is race-free; WAL mode lets reads run alongside on their own pool.

use super::delivery_queue::{CLAIM_SET, CLAIMED_COLUMNS, due_deliveries};
use super::outbox::ClaimedRow;
use super::rows::TargetColumns;
use super::sql::{Backend, Claim, Conn, Tx, sql};
use super::subscriptions::{
    map_unique_violation, plan_channels, saved_subscription, taken_channels, upsert_emails,
};
use super::{Lease, NewSubscription, Saved, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// The writer pool (one connection) and the reader pool.
pub(super) async fn connect(
    url: &str,
    max_connections: u32,
) -> Result<(SqlitePool, SqlitePool), sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        .connect_with(options.read_only(true))
        .await?;
    Ok((writer, reader))
}

pub(super) async fn migrate(writer: &SqlitePool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations/sqlite").run(writer).await?;
    Ok(())
}

/// See [`Claim`]: the single writer runs one claim at a time, so nobody else can lease the
/// due rows between the subquery and the update.
pub(super) fn claim(claim: &Claim<'_>) -> String {
    format!(
        "UPDATE {} SET {} WHERE ({}) IN ({}) RETURNING {}",
        claim.table,
        Claim::SET,
        claim.key.join(", "),
        claim.due,
        claim.returning.join(", ")
    )
}

/// Leases due messages, then reads them with their subscriptions' sending details (SQLite's
/// `RETURNING` cannot reach the joined subscription).
pub(super) async fn claim_deliveries(
    tx: &mut Tx,
    lease: Lease,
    limit: u32,
    saturated: Vec<String>,
) -> Result<Vec<ClaimedRow>, StoreError> {
    let ids: Vec<(Uuid,)> = sql(format!(
        "UPDATE deliveries SET {CLAIM_SET} WHERE id IN ({}) RETURNING id",
        due_deliveries(Backend::Sqlite)
    ))
    .bind_lease(lease, limit)
    .bind(saturated)
    .fetch_all(tx)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = ids.into_iter().map(|(id,)| id).collect();
    Ok(sql(format!(
        "SELECT {CLAIMED_COLUMNS} FROM deliveries d JOIN subscriptions s \
             ON s.id = d.subscription_id \
         WHERE d.id {}",
        tx.backend().in_uuids(1)
    ))
    .bind(ids)
    .bind(lease.now)
    .fetch_all(tx)
    .await?)
}

/// Creates a subscription: checks the duplicate rules, then inserts the shipment (or the flight
/// check), the subscription and its emails, all inside the writer's transaction.
pub(super) async fn create_subscription(
    mut tx: Tx,
    new: NewSubscription,
    poll_spacing: chrono::TimeDelta,
) -> Result<Saved, StoreError> {
    let target_key = new.target.key();
    let taken = taken_channels(&mut tx, new.tenant, &target_key, &new.channels, None).await?;
    let plan = plan_channels(&new.channels, taken)?;
    let target = TargetColumns::from(&new.target);
    if let Some(awb) = target.awb {
        // A new subscriber makes a dormant shipment due now, or `poll_spacing` after its last
        // check if that is later: subscribing again in a loop does not fetch it each time.
        let last: Option<(Option<chrono::DateTime<chrono::Utc>>,)> =
            sql("SELECT last_checked_at FROM shipments WHERE awb = $1")
                .bind(awb)
                .fetch_optional(&mut tx)
                .await?;
        let due = match last.and_then(|(at,)| at) {
            Some(checked) => new
                .created_at
                .max(checked.checked_add_signed(poll_spacing).unwrap_or(checked)),
            None => new.created_at,
        };
        sql(
            "INSERT INTO shipments (awb, next_poll_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) \
             ON CONFLICT (awb) DO UPDATE \
                 SET next_poll_at = MIN(next_poll_at, excluded.next_poll_at)",
        )
        .bind(awb)
        .bind(due)
        .bind(new.created_at)
        .execute(&mut tx)
        .await?;
    }
    if let (Some(number), Some(date)) = (target.flight_number, target.flight_date) {
        sql(
            "INSERT INTO flight_checks (number, date, next_check_at, created_at) \
             VALUES ($1, $2, $3, $3) \
             ON CONFLICT (number, date) DO UPDATE \
                 SET next_check_at = MIN(next_check_at, excluded.next_check_at)",
        )
        .bind(number)
        .bind(date)
        .bind(new.created_at)
        .execute(&mut tx)
        .await?;
    }
    sql(
        "INSERT INTO subscriptions (id, tenant_id, target_key, awb, flight_number, \
             flight_date, flight_origin, flight_id, url, states, reference, status, \
             signing_secret, created_at, updated_at, expires_at, headers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $13, $14, \
             $15)",
    )
    .bind(new.id)
    .bind(new.tenant)
    .bind(&target_key)
    .bind(target.awb)
    .bind(target.flight_number)
    .bind(target.flight_date)
    .bind(target.flight_origin)
    .bind(new.flight_id)
    .bind(plan.url.as_ref().map(|u| u.as_str()))
    .bind(Json(new.states.to_codes()))
    .bind(new.reference.as_ref().map(|r| r.as_str()))
    .bind(new.signing_secret.expose())
    .bind(new.created_at)
    .bind(new.expires_at)
    .bind(Json(new.headers.as_map()))
    .execute(&mut tx)
    .await
    .map_err(|e| map_unique_violation(e, &new.channels))?;
    upsert_emails(
        &mut tx,
        new.id,
        new.tenant,
        &target_key,
        &plan.emails,
        new.created_at,
    )
    .await
    .map_err(|e| map_unique_violation(e, &new.channels))?;
    tx.commit().await?;
    Ok(saved_subscription(&new, plan))
}
