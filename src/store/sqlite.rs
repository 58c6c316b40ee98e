//! What only SQLite does: the zero-setup default for a single instance. One writer connection
//! serialises every write transaction, so a plain UPDATE is a claim and a check-then-insert
//! inside a transaction is race-free; WAL mode lets reads run alongside on their own pool.

use super::delivery_queue::{CLAIM_SET, CLAIMED_COLUMNS, due_deliveries};
use super::outbox::ClaimedRow;
use super::sql::{Backend, Claim, Conn, Tx, sql};
use super::{Lease, NewSubscription, Saved, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
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

/// Creates a subscription: a batch of one (see `batch.rs`), inside the writer's transaction,
/// which makes the duplicate rules' check and the inserts one atomic step.
pub(super) async fn create_subscription(
    mut tx: Tx,
    new: NewSubscription,
    poll_spacing: chrono::TimeDelta,
) -> Result<Saved, StoreError> {
    let outcome = super::batch::create_batch(&mut tx, vec![new], poll_spacing)
        .await?
        .pop()
        .expect("one outcome per item")?;
    tx.commit().await?;
    Ok(outcome)
}
