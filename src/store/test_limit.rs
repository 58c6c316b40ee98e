//! How many `subscription.test` messages a subscription may ask for: counted from the outbox
//! itself (each test message is one `message_id` there), so the limit holds across instances
//! and restarts without a counter of its own. Counted inside the transaction that queues the
//! next one, after the subscription's row is locked, so two requests cannot both take the
//! last slot.

use super::StoreError;
use super::sql::{Conn, sql};
use crate::domain::SubscriptionId;
use chrono::{DateTime, TimeDelta, Utc};

/// At most `max` test messages per subscription within any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestLimit {
    pub max: u32,
    pub window: TimeDelta,
}

/// `Err(StoreError::TestLimitReached)` when the subscription has had `limit.max` test messages
/// within the window before `now`.
pub(super) async fn check(
    conn: &mut impl Conn,
    id: SubscriptionId,
    now: DateTime<Utc>,
    limit: TestLimit,
) -> Result<(), StoreError> {
    let (sent, oldest): (i64, Option<DateTime<Utc>>) = sql(
        "SELECT COUNT(DISTINCT message_id), MIN(created_at) FROM deliveries \
         WHERE subscription_id = $1 AND type = 'subscription.test' AND created_at > $2",
    )
    .bind(id)
    .bind(now - limit.window)
    .fetch_one(conn)
    .await?;
    if sent < i64::from(limit.max) {
        return Ok(());
    }
    Err(StoreError::TestLimitReached {
        max: limit.max,
        free_at: oldest.unwrap_or(now) + limit.window,
    })
}
