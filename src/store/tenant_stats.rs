//! One tenant's delivery figures, for the console's status page: messages delivered and failed
//! in each of the last 24 hours, and what is still to send.

use super::sql::{hour_key, sql};
use super::{SqlStore, StoreError};
use crate::domain::TenantId;
use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::collections::HashMap;

/// The console's status page.
#[async_trait]
pub trait TenantStats: Send + Sync + 'static {
    /// The tenant's deliveries over the 24 hours up to the one `now` is in, and its queue.
    async fn delivery_stats(
        &self,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStats, StoreError>;
}

/// Hours in [`DeliveryStats::hourly`].
const STATS_HOURS: usize = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStats {
    /// 24 entries, oldest first: the hour starting at `hour_start` (UTC, truncated to the
    /// hour; the last entry is the current hour). Hours with nothing are there, with zeros.
    pub hourly: Vec<HourlyDeliveries>,
    /// This tenant's messages still to send (status pending, in flight or not; parked ones
    /// are counted separately).
    pub pending: u64,
    /// Messages kept for a disabled callback URL until it is enabled again.
    pub parked: u64,
    /// The oldest `next_attempt_at` among its pending messages that are due (`<= now`).
    pub oldest_due_at: Option<DateTime<Utc>>,
}

/// One hour of [`DeliveryStats::hourly`]: messages (one per channel target, webhook and
/// email) delivered in it, and messages that failed for good with their last attempt in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourlyDeliveries {
    pub hour_start: DateTime<Utc>,
    pub delivered: u64,
    pub failed: u64,
}

impl DeliveryStats {
    /// failed / (delivered + failed) over the 24 hours; `None` when both are 0.
    /// Delivered and failed messages over the whole day.
    pub fn totals(&self) -> (u64, u64) {
        self.hourly
            .iter()
            .fold((0, 0), |(d, f), h| (d + h.delivered, f + h.failed))
    }

    pub fn failure_rate(&self) -> Option<f64> {
        let (delivered, failed) = self.totals();
        let attempted = delivered + failed;
        (attempted > 0).then(|| failed as f64 / attempted as f64)
    }
}

/// The start of each hour of the stats for `now`, oldest first.
fn hour_starts(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let hour = TimeDelta::hours(1);
    // Only a time near the end of chrono's range cannot be truncated.
    let current = now.duration_trunc(hour).unwrap_or(now);
    (0..STATS_HOURS)
        .rev()
        .map(|ago| current - hour * i32::try_from(ago).expect("24 fits"))
        .collect()
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

#[async_trait]
impl TenantStats for SqlStore {
    async fn delivery_stats(
        &self,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStats, StoreError> {
        let starts = hour_starts(now);
        let (from, until) = (starts[0], starts[STATS_HOURS - 1] + TimeDelta::hours(1));
        let dialect = self.dialect();
        let mut conn = self.reader().await?;
        // Counted by hour in the database: a busy tenant's day is many thousand rows.
        let of_tenant = "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
                         WHERE s.tenant_id = $1";
        let counts: Vec<(String, String, i64)> = sql(format!(
            "SELECT kind, hour, count(*) FROM ( \
                 SELECT 'delivered' AS kind, {delivered} AS hour {of_tenant} \
                     AND d.delivered_at >= $2 AND d.delivered_at < $3 \
                 UNION ALL \
                 SELECT 'failed', {failed} {of_tenant} AND d.status = 'failed' \
                     AND d.last_attempt_at >= $2 AND d.last_attempt_at < $3 \
             ) x GROUP BY kind, hour",
            delivered = dialect.utc_hour("d.delivered_at"),
            failed = dialect.utc_hour("d.last_attempt_at"),
        ))
        .bind(tenant)
        .bind(from)
        .bind(until)
        .fetch_all(&mut conn)
        .await?;
        let mut by_hour: HashMap<(String, String), u64> = counts
            .into_iter()
            .map(|(kind, hour, n)| ((kind, hour), count(n)))
            .collect();
        let mut take = |kind: &str, key: &str| {
            by_hour
                .remove(&(kind.to_owned(), key.to_owned()))
                .unwrap_or_default()
        };
        let hourly = starts
            .into_iter()
            .map(|hour_start| {
                let key = hour_key(hour_start);
                HourlyDeliveries {
                    hour_start,
                    delivered: take("delivered", &key),
                    failed: take("failed", &key),
                }
            })
            .collect();
        let (pending, parked, oldest_due_at): (i64, i64, Option<DateTime<Utc>>) = sql(format!(
            "SELECT count(CASE WHEN d.status = 'pending' THEN 1 END), \
                 count(CASE WHEN d.status = 'parked' THEN 1 END), \
                 min(CASE WHEN d.status = 'pending' AND d.next_attempt_at <= $2 \
                     THEN d.next_attempt_at END) \
             {of_tenant} AND d.status IN ('pending', 'parked')"
        ))
        .bind(tenant)
        .bind(now)
        .fetch_one(&mut conn)
        .await?;
        Ok(DeliveryStats {
            hourly,
            pending: count(pending),
            parked: count(parked),
            oldest_due_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn stats(hours: &[(u64, u64)]) -> DeliveryStats {
        DeliveryStats {
            hourly: hour_starts(at("2026-03-04T05:30:00Z"))
                .into_iter()
                .zip(hours.iter().chain(std::iter::repeat(&(0, 0))))
                .map(|(hour_start, &(delivered, failed))| HourlyDeliveries {
                    hour_start,
                    delivered,
                    failed,
                })
                .collect(),
            pending: 0,
            parked: 0,
            oldest_due_at: None,
        }
    }

    #[test]
    fn failure_rate_is_failed_over_all_finished_messages_of_the_day() {
        assert_eq!(
            stats(&[]).failure_rate(),
            None,
            "nothing delivered or failed"
        );
        assert_eq!(stats(&[(3, 0), (0, 0), (5, 0)]).failure_rate(), Some(0.0));
        assert_eq!(stats(&[(0, 2)]).failure_rate(), Some(1.0));
        assert_eq!(
            stats(&[(3, 1), (0, 0), (0, 0), (0, 0)]).failure_rate(),
            Some(0.25)
        );
        // Summed over the hours, not averaged per hour (which would say 1/6 here).
        assert_eq!(stats(&[(1, 0), (2, 1)]).failure_rate(), Some(0.25));
    }

    #[test]
    fn the_hours_are_the_day_up_to_the_current_one_oldest_first() {
        let starts = hour_starts(at("2026-03-04T05:30:00.123456Z"));
        assert_eq!(starts.len(), STATS_HOURS);
        assert_eq!(starts[STATS_HOURS - 1], at("2026-03-04T05:00:00Z"));
        assert_eq!(starts[0], at("2026-03-03T06:00:00Z"));
        assert!(
            starts
                .windows(2)
                .all(|w| w[1] - w[0] == TimeDelta::hours(1))
        );
        // The first instant of an hour is in that hour.
        assert_eq!(
            hour_starts(at("2026-03-04T05:00:00Z"))[STATS_HOURS - 1],
            at("2026-03-04T05:00:00Z")
        );
    }
}
