//! The tenants' message feeds (`GET /v1/messages`): a message queued for a subscription with
//! `feed` is written to `feed_messages` in the same transaction as its outbox rows, with the
//! same body, and read back in queue order from an opaque cursor.
//!
//! Why the cursor is `(tx, position)` and not a position or a time: on Postgres, identity
//! values (and `now()`) are taken when a row is inserted, not when its transaction commits, so
//! two polls' transactions can commit in the other order. A reader that had passed position 11
//! would then never see 10, committed a moment later. So each row also records its inserting
//! transaction's id (`pg_current_xact_id()`, a column default), and a reader returns only rows
//! whose transaction id is below its own snapshot's `xmin`: every transaction below it has
//! ended, so whatever they wrote is visible now or never will be, and every row that can still
//! appear has a larger `tx` than anything returned. A long transaction holds the feed back (it
//! is cluster-wide), never makes it skip. Within one transaction positions follow the order
//! messages were queued. SQLite has one writer: positions commit in order, `tx` is always 0.

use super::sql::{Backend, Col, Conn, JsonRows, sql};
use super::{SqlStore, StoreError, WorkSignals};
use crate::domain::TenantId;
use crate::domain::message::Outgoing;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A place in a tenant's feed: after the message at `(tx, position)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedCursor {
    pub tx: i64,
    pub position: i64,
}

/// A page of a feed: message bodies exactly as webhooks carry them, and where the next page
/// starts (the given cursor when the page is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedPage {
    pub bodies: Vec<String>,
    pub next: FeedCursor,
    /// Messages after the page are committed but not returned: an older transaction still
    /// running holds them back (Postgres), and no wake-up may follow when it ends.
    pub held_back: bool,
}

/// `GET /v1/messages`: reading a tenant's feed, woken by [`crate::store::Work::Feed`].
#[async_trait]
pub trait Feeds: WorkSignals {
    /// Up to `limit` of the tenant's messages after `after`, in queue order.
    async fn read_feed(
        &self,
        tenant: TenantId,
        after: FeedCursor,
        limit: u32,
    ) -> Result<FeedPage, StoreError>;
}

#[async_trait]
impl Feeds for SqlStore {
    async fn read_feed(
        &self,
        tenant: TenantId,
        after: FeedCursor,
        limit: u32,
    ) -> Result<FeedPage, StoreError> {
        let rows: Vec<(i64, i64, String)> = sql(format!(
            "SELECT tx, position, body FROM feed_messages \
             WHERE tenant_id = $1 AND (tx, position) > ($2, $3) AND tx < {} \
             ORDER BY tx, position LIMIT $4",
            settled_below(self.dialect())
        ))
        .bind(tenant)
        .bind(after.tx)
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(&mut self.reader().await?)
        .await?;
        let next = rows.last().map_or(after, |(tx, position, _)| FeedCursor {
            tx: *tx,
            position: *position,
        });
        let full = rows.len() >= limit as usize;
        let held_back = !full && self.dialect() == Backend::Postgres && {
            let (any,): (bool,) = sql("SELECT EXISTS (SELECT 1 FROM feed_messages \
                 WHERE tenant_id = $1 AND (tx, position) > ($2, $3))")
            .bind(tenant)
            .bind(next.tx)
            .bind(next.position)
            .fetch_one(&mut self.reader().await?)
            .await?;
            any
        };
        Ok(FeedPage {
            bodies: rows.into_iter().map(|(_, _, body)| body).collect(),
            next,
            held_back,
        })
    }
}

/// The transaction id below which every writer has ended (see the module docs).
fn settled_below(dialect: Backend) -> &'static str {
    match dialect {
        Backend::Postgres => "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        Backend::Sqlite => "9223372036854775807",
    }
}

/// Writes the messages whose subscription has the feed to its tenant's feed, in their order.
/// Runs inside the transaction that queues them.
pub(super) async fn insert_feed_messages(
    conn: &mut impl Conn,
    messages: &[Outgoing],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut rows = JsonRows::default();
    for (order, message) in (0_i64..).zip(messages.iter().filter(|m| m.to_feed)) {
        rows.push(serde_json::json!({
            "ord": order,
            "subscription_id": message.subscription_id,
            "message_id": message.message_id,
            "type": message.kind,
            "sequence": message.sequence,
            "body": message.body,
        }));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let source = conn.backend().json_rows(
        1,
        &[
            ("ord", Col::BigInt),
            ("subscription_id", Col::Uuid),
            ("message_id", Col::Text),
            ("type", Col::Text),
            ("sequence", Col::BigInt),
            ("body", Col::Text),
        ],
    );
    // Positions are handed out in the order rows are inserted: the queue's.
    sql(format!(
        "INSERT INTO feed_messages (tenant_id, subscription_id, message_id, type, sequence, \
             body, created_at) \
         SELECT s.tenant_id, u.subscription_id, u.message_id, u.type, u.sequence, u.body, $2 \
         FROM {source} JOIN subscriptions s ON s.id = u.subscription_id ORDER BY u.ord"
    ))
    .bind(rows)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
