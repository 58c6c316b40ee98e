//! Wake-ups: whoever commits work tells whoever does it, so that an idle worker starts at once
//! instead of after its `idle_wait`. Within a process a [`Notify`] per kind of work; between
//! instances on Postgres a `NOTIFY` sent just after the commit (see [`Notices`]) and relayed by
//! each process's `LISTEN` connection. `idle_wait` stays the fallback, for a
//! notice lost while the listener reconnects.

use super::{Pools, SqlStore, WorkSignals};
use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A kind of work a worker waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Messages queued in the outbox: the dispatcher.
    Deliveries,
    /// A shipment made due now (a new subscription): the poller.
    Shipments,
    /// A flight check made due now: the flight poller.
    FlightChecks,
    /// Messages queued to a feed: every long-polling `GET /v1/messages`.
    Feed,
}

impl Work {
    const ALL: [Self; 4] = [
        Self::Deliveries,
        Self::Shipments,
        Self::FlightChecks,
        Self::Feed,
    ];

    /// Its Postgres notification channel.
    pub(super) fn channel(self) -> &'static str {
        match self {
            Self::Deliveries => "skyhook_deliveries",
            Self::Shipments => "skyhook_shipments",
            Self::FlightChecks => "skyhook_flight_checks",
            Self::Feed => "skyhook_feed",
        }
    }

    fn of_channel(channel: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.channel() == channel)
    }
}

/// The process's wake-up signals, one per kind of work (indexed `work as usize`).
#[derive(Debug, Default)]
pub struct Wakeups {
    signals: [Notify; Work::ALL.len()],
}

impl Wakeups {
    fn signal(&self, work: Work) -> &Notify {
        &self.signals[work as usize]
    }

    /// Wakes the worker waiting for `work`; one that is busy now finds the wake-up when it
    /// next waits, so nothing committed meanwhile waits out an `idle_wait`. The feed has many
    /// waiters (one per long poll), so it wakes all of them, and only those already waiting:
    /// see [`Self::feed_woken`].
    pub fn wake(&self, work: Work) {
        match work {
            Work::Feed => self.signal(work).notify_waiters(),
            _ => self.signal(work).notify_one(),
        }
    }

    /// A wake-up of the feed's readers, armed now: a long poll takes it before it reads the
    /// feed, then awaits it, so a message committed between its read and its wait still wakes
    /// it.
    pub fn feed_woken(&self) -> std::pin::Pin<Box<tokio::sync::futures::Notified<'_>>> {
        let mut woken = Box::pin(self.signal(Work::Feed).notified());
        woken.as_mut().enable();
        woken
    }

    /// Waits until `work` is woken.
    pub async fn woken(&self, work: Work) {
        self.signal(work).notified().await;
    }

    fn wake_all(&self) {
        Work::ALL.into_iter().for_each(|w| self.wake(w));
    }
}

/// Notices to other instances, sent after the work's commit and at most one at a time per kind
/// of work. Postgres serialises the commits of transactions that `NOTIFY` (one queue lock, held
/// through the commit), so a `NOTIFY` inside every writing transaction made all of them commit
/// one after another: creates fell to a quarter of their rate, first polls to half
/// (`benches/`). Sent on its own, a notice serialises only with other notices, and a burst of
/// commits while one is being sent costs one more notice after it, not one each.
#[derive(Debug, Default)]
pub(super) struct Notices {
    /// Indexed `work as usize`, as [`Wakeups`].
    sending: [std::sync::Mutex<Sending>; Work::ALL.len()],
}

#[derive(Debug, Default)]
struct Sending {
    busy: bool,
    again: bool,
}

impl Notices {
    fn state(&self, work: Work) -> std::sync::MutexGuard<'_, Sending> {
        self.sending[work as usize]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells other instances about `work`, now committed, from a task of its own. The write
    /// stands whatever happens here: a notice that cannot be sent is logged, and the other
    /// instances find the work on their next `idle_wait`.
    fn send(self: &Arc<Self>, pool: &PgPool, work: Work) {
        {
            let mut state = self.state(work);
            if state.busy {
                state.again = true;
                return;
            }
            state.busy = true;
        }
        let (notices, pool) = (Arc::clone(self), pool.clone());
        tokio::spawn(async move {
            loop {
                let sent = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(work.channel())
                    .execute(&pool)
                    .await;
                if let Err(err) = sent {
                    tracing::warn!(error = %err, ?work, "cannot tell other instances about new work");
                }
                let mut state = notices.state(work);
                if !std::mem::take(&mut state.again) {
                    state.busy = false;
                    return;
                }
            }
        });
    }
}

#[async_trait]
impl WorkSignals for SqlStore {
    fn wakeups(&self) -> Arc<Wakeups> {
        self.wakeups.clone()
    }

    async fn relay_notices(&self, shutdown: CancellationToken) {
        let Pools::Postgres(pool) = &self.pools else {
            return;
        };
        // The listener keeps its connection for good: a pool of its own, so that it never takes
        // one of `database.max_connections` from the store.
        let options = (*pool.connect_options()).clone();
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        while !shutdown.is_cancelled() {
            let listening = async {
                let mut listener = PgListener::connect_with(&listen_pool).await?;
                listener
                    .listen_all(Work::ALL.into_iter().map(Work::channel))
                    .await?;
                Ok::<_, sqlx::Error>(listener)
            };
            match listening.await {
                Ok(listener) => self.relay_from(listener, &shutdown).await,
                Err(err) => tracing::warn!(
                    error = %err,
                    "cannot listen for other instances' work; polling every idle_wait"
                ),
            }
            // Before listening again: a database that refuses us is not hammered.
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

impl SqlStore {
    /// Commits `tx` and wakes whoever does `work`, here and in other instances.
    pub(super) async fn commit_waking(
        &self,
        tx: super::sql::Tx,
        work: impl IntoIterator<Item = Work>,
    ) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        work.into_iter().for_each(|work| self.woken(work));
        Ok(())
    }

    /// Wakes whoever does `work`, committed just now: this process's worker at once, other
    /// instances' (on Postgres) through a notice.
    pub(super) fn woken(&self, work: Work) {
        self.wakeups.wake(work);
        if let Pools::Postgres(pool) = &self.pools {
            self.notices.send(pool, work);
        }
    }

    /// Relays until the listener fails or `shutdown`.
    async fn relay_from(&self, mut listener: PgListener, shutdown: &CancellationToken) {
        // Whatever was committed while nobody listened was not heard of: one round each.
        self.wakeups.wake_all();
        loop {
            let notice = tokio::select! {
                () = shutdown.cancelled() => return,
                notice = listener.try_recv() => notice,
            };
            match notice {
                Ok(Some(notice)) => {
                    if let Some(work) = Work::of_channel(notice.channel()) {
                        self.wakeups.wake(work);
                    }
                }
                // The connection dropped and sqlx has listened again on a new one; notices
                // sent in between are lost.
                Ok(None) => self.wakeups.wake_all(),
                Err(err) => {
                    tracing::warn!(error = %err, "lost the listen connection; listening again");
                    return;
                }
            }
        }
    }
}
