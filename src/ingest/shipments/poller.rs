//! The poller: claims due shipments, fetches each once from its carrier (however many
//! subscriptions point at it), normalises, diffs against what is stored, and writes the
//! outcome back with the next poll time — all under a lease, so several instances can share
//! one database without fetching a shipment twice at once. A push carrier's shipment is
//! registered (or its registration checked) first, see `registrations.rs`. A round's
//! outcomes are written as they come by a few writers, together when several are waiting:
//! a round of first polls is a few transactions, not one per shipment, and a lone answer
//! is still written at once.

use super::apply::apply;
use super::carriers::{CarrierEntry, Carriers, FetchRequest, Fetched};
use super::registrations::{Prepared, PushClaim, Registrations};
use crate::clock::Clock;
use crate::config::PollerSettings;
use crate::domain::schedule::{self, Bounds, LastPoll};
use crate::ingest::round::{Rounds, join_all, time_delta};
use crate::ingest::{SourceError, SourceId};
use crate::store::{
    ClaimedShipment, Lease, PollRecord, PollResult, PushRegistrations, ShipmentLeases,
    StaleRegistration, StoreError, Work,
};
use crate::telemetry::count_queued;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// At most this many polls are recorded in one transaction: enough to share a commit among a
/// round's answers, few enough that no transaction holds its shipments' rows for long.
const POLLS_PER_TRANSACTION: usize = 50;
/// Writers per round: a few transactions in flight keep the database busy while each waits on
/// its round trips, and leave the rest of `database.max_connections` (10) to the API and the
/// dispatcher.
const WRITERS: usize = 3;

pub struct Poller {
    store: Arc<dyn ShipmentLeases>,
    carriers: Arc<Carriers>,
    registrations: Registrations,
    rounds: Rounds,
}

impl Poller {
    pub fn new(
        store: Arc<dyn ShipmentLeases>,
        registrations: Arc<dyn PushRegistrations>,
        carriers: Arc<Carriers>,
        clock: Arc<dyn Clock>,
        settings: PollerSettings,
    ) -> Arc<Self> {
        let check_every = time_delta(settings.max_interval.0);
        Arc::new(Self {
            registrations: Registrations::new(registrations, clock.clone(), check_every),
            rounds: Rounds::new(clock, settings, store.wakeups(), Work::Shipments),
            store,
            carriers,
        })
    }

    /// Polls until cancelled; a round that found work is followed at once by the next.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        self.rounds
            .run("poller", "poll", shutdown, || self.clone().poll_once())
            .await;
    }

    /// One round: claim a batch, fetch per carrier within its limits, record every outcome;
    /// then remove push registrations no subscription needs any more. Returns how many
    /// shipments were claimed for either.
    pub async fn poll_once(self: Arc<Self>) -> Result<usize, StoreError> {
        let (lease, claims) = self
            .rounds
            .claim(|lease, batch| self.store.claim_due_shipments(lease, batch))
            .await?;
        let claimed = claims.len();
        // Room for every claim's record, so that no fetch waits for the writer.
        let (records, pending) = mpsc::channel(claimed.max(1));
        let pending = Arc::new(Mutex::new(pending));
        let mut writers = JoinSet::new();
        for _ in 0..WRITERS.min(claimed.max(1)) {
            writers.spawn(self.clone().record_all(pending.clone()));
        }
        let mut by_carrier: HashMap<&'static str, (Arc<CarrierEntry>, Vec<ClaimedShipment>)> =
            HashMap::new();
        for claim in claims {
            match self.carriers.for_awb(&claim.awb) {
                Some(entry) => by_carrier
                    .entry(entry.source.name())
                    .or_insert_with(|| (entry.clone(), Vec::new()))
                    .1
                    .push(claim),
                None => {
                    // The carrier was disabled after the subscription was made.
                    let error = format!(
                        "no enabled carrier serves AWB prefix {}",
                        claim.awb.prefix()
                    );
                    let failed = SourceId::carrier("none").malformed(error);
                    let record = self.poll_record(claim, "none", lease.now, Err(failed));
                    // Only fails once the writer has stopped, whose error ends the round.
                    let _ = records.send(record).await;
                }
            }
        }
        let mut tasks = JoinSet::new();
        for (_, (entry, claims)) in by_carrier {
            let size = entry.source.batch_size().max(1);
            let mut claims = claims.into_iter().peekable();
            while claims.peek().is_some() {
                let batch: Vec<ClaimedShipment> = claims.by_ref().take(size).collect();
                tasks.spawn(self.clone().fetch_batch(
                    entry.clone(),
                    batch,
                    lease.now,
                    records.clone(),
                ));
            }
        }
        drop(records);
        // The writers write what the fetches queued even if one fetch task failed.
        let fetched = join_all(tasks, "poll").await;
        join_all(writers, "poll writer").await?;
        fetched?;
        let unregistered = self.unregister_stale(lease).await?;
        Ok(claimed + unregistered)
    }

    /// Removes the push registrations of shipments whose last active subscription has ended.
    async fn unregister_stale(self: &Arc<Self>, lease: Lease) -> Result<usize, StoreError> {
        let stale = self
            .store
            .claim_stale_registrations(lease, self.rounds.settings.batch_size)
            .await?;
        let claimed = stale.len();
        let mut tasks = JoinSet::new();
        for registration in stale {
            let Some(entry) = self.carriers.by_name(&registration.carrier).cloned() else {
                // Its lease expires and it is tried again then, e.g. once re-enabled.
                tracing::warn!(
                    awb = %registration.awb,
                    carrier = registration.carrier,
                    "carrier not enabled; its registration cannot be removed"
                );
                continue;
            };
            tasks.spawn(self.clone().unregister(entry, registration, lease.now));
        }
        join_all(tasks, "unregister").await?;
        Ok(claimed)
    }

    async fn unregister(
        self: Arc<Self>,
        entry: Arc<CarrierEntry>,
        registration: StaleRegistration,
        claimed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = {
            let _permit = entry.throttle.acquire().await;
            entry
                .source
                .unregister(&registration.awb, &registration.carrier_ref)
                .await
        };
        let carrier = entry.source.name();
        let now = self.rounds.clock.now();
        let bounds = self.bounds(carrier);
        let (result, failures, next) = match result {
            Ok(()) => (PollResult::Unregistered, 0, now + max_delta(bounds)),
            Err(err) => {
                let failures = registration.poll_failures + 1;
                tracing::warn!(
                    awb = %registration.awb, carrier, failures, error = %err,
                    "unregistration failed"
                );
                if let SourceError::Unauthorized { .. } = &err {
                    self.carriers.count_refusal(carrier);
                }
                let last = LastPoll::Failed {
                    failures,
                    retry_after: err.wait_hint(bounds),
                };
                let next = schedule::next_poll(now, bounds, &[], last);
                let error = format!("unregistering: {err}");
                (PollResult::Failed { error }, failures, next)
            }
        };
        let record = PollRecord {
            awb: registration.awb.clone(),
            carrier,
            claimed_at,
            checked_at: now,
            next_poll_at: next,
            poll_failures: failures,
            result,
        };
        self.write_back(vec![record], "unregistration").await
    }

    /// Writes the round's poll records as they arrive, those waiting together, until every
    /// fetch of the round is done.
    async fn record_all(
        self: Arc<Self>,
        pending: Arc<Mutex<mpsc::Receiver<PollRecord>>>,
    ) -> Result<(), StoreError> {
        let mut batch = Vec::with_capacity(POLLS_PER_TRANSACTION);
        loop {
            let taken = pending
                .lock()
                .await
                .recv_many(&mut batch, POLLS_PER_TRANSACTION)
                .await;
            if taken == 0 {
                return Ok(());
            }
            self.write_back(std::mem::take(&mut batch), "poll").await?;
        }
    }

    /// Writes records back under this instance's lease.
    async fn write_back(&self, records: Vec<PollRecord>, what: &str) -> Result<(), StoreError> {
        let awbs: Vec<_> = records.iter().map(|r| r.awb.clone()).collect();
        let recorded = self.store.record_polls(self.rounds.owner, records).await?;
        for (awb, queued) in awbs.iter().zip(recorded) {
            match queued {
                Some(queued) => count_queued(queued),
                None => tracing::warn!(%awb, "lease lost before the {what} was recorded; dropped"),
            }
        }
        Ok(())
    }

    async fn fetch_batch(
        self: Arc<Self>,
        entry: Arc<CarrierEntry>,
        batch: Vec<ClaimedShipment>,
        claimed_at: DateTime<Utc>,
        records: mpsc::Sender<PollRecord>,
    ) -> Result<(), StoreError> {
        let carrier = entry.source.name();
        let batch = match entry.source.registrar() {
            Some(registrar) => {
                let mut ready = Vec::with_capacity(batch.len());
                for claim in batch {
                    let push = PushClaim {
                        entry: &entry,
                        registrar,
                        claim: &claim,
                        owner: self.rounds.owner,
                    };
                    match self.registrations.prepare(push).await? {
                        Prepared::Ready => ready.push(claim),
                        Prepared::Failed(err) => {
                            let failed = Err(err);
                            self.carriers
                                .note_answer(carrier, &failed, self.rounds.clock.now());
                            let record = self.poll_record(claim, carrier, claimed_at, failed);
                            // Only fails once the writers have stopped, whose error ends the round.
                            let _ = records.send(record).await;
                        }
                        Prepared::LeaseLost => {
                            tracing::warn!(awb = %claim.awb, "lease lost while registering; dropped");
                        }
                    }
                }
                ready
            }
            None => batch,
        };
        if batch.is_empty() {
            return Ok(());
        }
        let requests: Vec<FetchRequest> = batch
            .iter()
            .map(|c| FetchRequest {
                awb: c.awb.clone(),
                first_seen: c.created_at,
            })
            .collect();
        let results = {
            let _permit = entry.throttle.acquire().await;
            entry.source.fetch(&requests).await
        };
        for (claim, result) in batch.into_iter().zip(results) {
            self.carriers
                .note_answer(carrier, &result, self.rounds.clock.now());
            if records
                .send(self.poll_record(claim, carrier, claimed_at, result))
                .await
                .is_err()
            {
                break; // The writer has stopped; its error ends the round.
            }
        }
        Ok(())
    }

    /// What an answer means for the claimed shipment, and when to ask again.
    fn poll_record(
        &self,
        claim: ClaimedShipment,
        carrier: &'static str,
        claimed_at: DateTime<Utc>,
        result: Result<Fetched, SourceError>,
    ) -> PollRecord {
        let now = self.rounds.clock.now();
        let bounds = self.bounds(carrier);
        let awb = claim.awb.clone();
        // The schedule follows the freshest flight times: the answer's when there is one.
        let mut known: Vec<_> = claim.events.iter().map(|e| e.event.clone()).collect();
        let (result, last, failures) = match result {
            Ok(Fetched::Found { tracking, raw }) => {
                known.clone_from(&tracking.events);
                let max_events = self.rounds.settings.max_events_per_shipment as usize;
                let (result, last) = apply(&claim, tracking, raw, max_events);
                (result, last, 0)
            }
            Ok(Fetched::NotFound) => (PollResult::NotFound, LastPoll::NotFound, 0),
            Err(err) => {
                let failures = claim.poll_failures + 1;
                tracing::warn!(%awb, carrier, failures, error = %err, "fetch failed");
                let last = LastPoll::Failed {
                    failures,
                    retry_after: err.wait_hint(bounds),
                };
                (
                    PollResult::Failed {
                        error: err.to_string(),
                    },
                    last,
                    failures,
                )
            }
        };
        let outcome = match (&result, last) {
            (PollResult::Tracked { .. }, LastPoll::Changed) => "changed",
            (PollResult::Tracked { .. }, _) => "unchanged",
            (PollResult::NotFound, _) => "not_found",
            (PollResult::Failed { .. }, _) => "failed",
            (PollResult::Unregistered, _) => "unregistered",
        };
        metrics::counter!("skyhook_polls_total", "carrier" => carrier, "outcome" => outcome)
            .increment(1);
        PollRecord {
            awb,
            carrier,
            claimed_at,
            checked_at: now,
            next_poll_at: schedule::next_poll(now, bounds, &known, last),
            poll_failures: failures,
            result,
        }
    }

    fn bounds(&self, carrier: &str) -> Bounds {
        let entry = self.carriers.by_name(carrier);
        self.rounds
            .bounds(entry.and_then(|e| e.source.min_interval()))
    }
}

fn max_delta(bounds: Bounds) -> TimeDelta {
    time_delta(bounds.max)
}
