//! What both pollers share: their identity on the leases they take, running their rounds until
//! shutdown (in the loop they share with the dispatcher, `crate::rounds`), a round's opening
//! claim under a fresh lease, the poll bounds a round works under, and waiting for a round's
//! tasks. What a round claims, asks and records is each poller's own.

use crate::clock::Clock;
use crate::config::PollerSettings;
use crate::domain::schedule::Bounds;
use crate::rounds::run_rounds;
use crate::store::{Lease, StoreError, Wakeups, Work};
use chrono::TimeDelta;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub(crate) struct Rounds {
    pub clock: Arc<dyn Clock>,
    pub settings: PollerSettings,
    /// This instance's identity on the leases it takes.
    pub owner: Uuid,
    /// Wakes an idle poller when its kind of work is committed.
    wakeups: Arc<Wakeups>,
    work: Work,
}

impl Rounds {
    pub fn new(
        clock: Arc<dyn Clock>,
        settings: PollerSettings,
        wakeups: Arc<Wakeups>,
        work: Work,
    ) -> Self {
        Self {
            clock,
            settings,
            owner: Uuid::new_v4(),
            wakeups,
            work,
        }
    }

    /// Runs `round` until cancelled (see [`run_rounds`]); an idle poller is woken when its
    /// kind of work is committed. `worker` and `what` name the poller and its round in the log.
    pub async fn run<R>(
        &self,
        worker: &str,
        what: &str,
        shutdown: CancellationToken,
        round: impl FnMut() -> R,
    ) where
        R: Future<Output = Result<usize, StoreError>>,
    {
        tracing::info!(owner = %self.owner, "{worker} started");
        let woken = || self.wakeups.woken(self.work);
        run_rounds(what, &shutdown, self.settings.idle_wait.0, woken, round).await;
        tracing::info!("{worker} stopped");
    }

    /// A round's opening: a lease taken now, and the batch of due work `claim` takes under it.
    pub async fn claim<T, R>(
        &self,
        claim: impl FnOnce(Lease, u32) -> R,
    ) -> Result<(Lease, Vec<T>), StoreError>
    where
        R: Future<Output = Result<Vec<T>, StoreError>>,
    {
        let lease = self.lease();
        let claims = claim(lease, self.settings.batch_size).await?;
        Ok((lease, claims))
    }

    /// A lease taken now by this instance.
    fn lease(&self) -> Lease {
        let now = self.clock.now();
        Lease {
            owner: self.owner,
            now,
            until: now + time_delta(self.settings.lease.0),
        }
    }

    /// The poller's bounds, tightened for a source that changes faster (the demo).
    pub fn bounds(&self, source_min_interval: Option<Duration>) -> Bounds {
        let min = source_min_interval.map_or(self.settings.min_interval.0, |m| {
            m.min(self.settings.min_interval.0)
        });
        Bounds {
            min,
            max: self.settings.max_interval.0.max(min),
        }
    }
}

/// Waits for every one of a round's tasks and returns the first store error, if any. The
/// others run to the end: aborting them would throw away answers already fetched (and
/// queued for writing) and cut registrations short between a carrier's answer and its
/// record. A panicked task is logged and the others carry on.
pub(crate) async fn join_all(
    mut tasks: JoinSet<Result<(), StoreError>>,
    what: &str,
) -> Result<(), StoreError> {
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Err(err)) => {
                first_error.get_or_insert(err);
            }
            Ok(Ok(())) => {}
            Err(panic) => tracing::error!(error = %panic, "{what} task panicked"),
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// A configured duration as a time offset; one too long for chrono means "never".
pub(crate) fn time_delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::HumanDuration;

    fn rounds() -> Rounds {
        let minutes = |m: u64| HumanDuration(Duration::from_secs(60 * m));
        let settings = PollerSettings {
            enabled: true,
            min_interval: minutes(5),
            max_interval: minutes(120),
            lease: minutes(2),
            batch_size: 10,
            idle_wait: HumanDuration(Duration::from_secs(1)),
            max_events_per_shipment: 500,
        };
        let clock = Arc::new(ManualClock::new("2026-11-25T10:00:00Z".parse().unwrap()));
        Rounds::new(clock, settings, Arc::default(), Work::Shipments)
    }

    #[test]
    fn a_faster_source_tightens_the_bounds_and_never_loosens_them() {
        let rounds = rounds();
        let five = Duration::from_secs(300);
        assert_eq!(rounds.bounds(None).min, five);
        assert_eq!(
            rounds.bounds(Some(Duration::from_secs(30))).min,
            Duration::from_secs(30)
        );
        assert_eq!(rounds.bounds(Some(Duration::from_secs(900))).min, five);
        assert_eq!(rounds.bounds(None).max, Duration::from_secs(7200));
        let lease = rounds.lease();
        assert_eq!(lease.until - lease.now, TimeDelta::minutes(2));
    }
}
