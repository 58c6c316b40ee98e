//! Wake-ups: whoever commits work tells whoever does it, so that an idle worker starts at once
//! instead of after its `idle_wait`. Within a process a [`Notify`] per kind of work; between
//! instances on Postgres a `NOTIFY` sent in the committing transaction (delivered at commit)
//! and relayed by each process's `LISTEN` connection. `idle_wait` stays the fallback, for a
//! notice lost while the listener reconnects.

use super::sql::{Backend, Conn, sql};
use super::{Pools, SqlStore};
use sqlx::postgres::{PgListener, PgPoolOptions};
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
}

impl Work {
    const ALL: [Self; 3] = [Self::Deliveries, Self::Shipments, Self::FlightChecks];

    /// Its Postgres notification channel.
    pub(super) fn channel(self) -> &'static str {
        match self {
            Self::Deliveries => "skyhook_deliveries",
            Self::Shipments => "skyhook_shipments",
            Self::FlightChecks => "skyhook_flight_checks",
        }
    }

    fn of_channel(channel: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.channel() == channel)
    }
}

/// The process's wake-up signals, one per kind of work.
#[derive(Debug, Default)]
pub struct Wakeups {
    deliveries: Notify,
    shipments: Notify,
    flight_checks: Notify,
}

impl Wakeups {
    fn signal(&self, work: Work) -> &Notify {
        match work {
            Work::Deliveries => &self.deliveries,
            Work::Shipments => &self.shipments,
            Work::FlightChecks => &self.flight_checks,
        }
    }

    /// Wakes the worker waiting for `work`; one that is busy now finds the wake-up when it
    /// next waits, so nothing committed meanwhile waits out an `idle_wait`.
    pub fn wake(&self, work: Work) {
        self.signal(work).notify_one();
    }

    /// Waits until `work` is woken.
    pub async fn woken(&self, work: Work) {
        self.signal(work).notified().await;
    }

    fn wake_all(&self) {
        Work::ALL.into_iter().for_each(|w| self.wake(w));
    }
}

/// Tells other instances about `work` when the transaction on `conn` commits (Postgres'
/// `NOTIFY` is delivered at commit; outside a transaction at once). SQLite has no other
/// instances.
pub(super) async fn announce(conn: &mut impl Conn, work: Work) -> Result<(), sqlx::Error> {
    if conn.backend() == Backend::Postgres {
        sql("SELECT pg_notify($1, '')")
            .bind(work.channel())
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Tells other instances about `work` already committed by an autocommitted statement on
/// `conn`. The write stands whatever happens here: a notice that cannot be sent is logged, and
/// the other instances find the work on their next `idle_wait`.
pub(super) async fn announce_committed(conn: &mut impl Conn, work: Work) {
    if let Err(err) = announce(conn, work).await {
        tracing::warn!(error = %err, ?work, "cannot tell other instances about new work");
    }
}

impl SqlStore {
    /// Commits `tx` and wakes whoever does `work`, here and (at commit) in other instances.
    pub(super) async fn commit_waking(
        &self,
        mut tx: super::sql::Tx,
        work: Option<Work>,
    ) -> Result<(), sqlx::Error> {
        if let Some(work) = work {
            announce(&mut tx, work).await?;
        }
        tx.commit().await?;
        if let Some(work) = work {
            self.wakeups.wake(work);
        }
        Ok(())
    }

    /// Relays other instances' notices to this process's workers until `shutdown`.
    pub(super) async fn relay(&self, shutdown: CancellationToken) {
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
