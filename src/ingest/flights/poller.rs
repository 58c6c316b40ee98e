//! The flight poller: claims due checks of subscribed flights (a number on a date), asks the
//! flight-status source serving the airline, and records what it reported, under a lease like
//! the shipment poller. What changed is worked out and queued by the store, in the same
//! transaction, by the same rule as flight facts found in carriers' AWB data.

use super::sources::{FlightQuery, FlightSourceEntry, FlightSources};
use crate::clock::Clock;
use crate::config::PollerSettings;
use crate::domain::schedule::{self, Bounds, LastPoll};
use crate::domain::{FlightReport, FlightState};
use crate::ingest::round::{Rounds, join_all};
use crate::store::{ClaimedFlightCheck, FlightCheckRecord, FlightChecks, StoreError, Work};
use crate::telemetry::count_queued;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub struct FlightPoller {
    store: Arc<dyn FlightChecks>,
    sources: Arc<FlightSources>,
    rounds: Rounds,
}

impl FlightPoller {
    pub fn new(
        store: Arc<dyn FlightChecks>,
        sources: Arc<FlightSources>,
        clock: Arc<dyn Clock>,
        settings: PollerSettings,
    ) -> Arc<Self> {
        Arc::new(Self {
            rounds: Rounds::new(clock, settings, store.wakeups(), Work::FlightChecks),
            store,
            sources,
        })
    }

    /// Checks until cancelled; a round that found work is followed at once by the next.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        self.rounds
            .run("flight poller", "flight check", shutdown, || {
                self.clone().check_once()
            })
            .await;
    }

    /// One round: claim a batch of due checks, look each up within its source's limits, and
    /// record every outcome. Returns how many were claimed.
    pub async fn check_once(self: Arc<Self>) -> Result<usize, StoreError> {
        let (_, claims) = self
            .rounds
            .claim(|lease, batch| self.store.claim_due_flight_checks(lease, batch))
            .await?;
        let claimed = claims.len();
        let mut tasks = JoinSet::new();
        for claim in claims {
            tasks.spawn(self.clone().check(claim));
        }
        join_all(tasks, "flight check").await?;
        Ok(claimed)
    }

    async fn check(self: Arc<Self>, claim: ClaimedFlightCheck) -> Result<(), StoreError> {
        let Some(entry) = self.sources.for_number(&claim.number).cloned() else {
            // Nothing to ask: the flight is updated from carriers' AWB data only. Look again
            // rarely, in case a source is configured later.
            let error = format!(
                "no flight-status source serves airline designator {}",
                claim.number.designator()
            );
            let bounds = self.bounds(None);
            return self
                .record(
                    &claim,
                    "none",
                    Vec::new(),
                    LastPoll::NotFound,
                    Some(error),
                    bounds,
                )
                .await;
        };
        let query = FlightQuery {
            number: claim.number.clone(),
            date: claim.date,
            first_checked: claim.created_at,
        };
        let result = {
            let _permit = entry.throttle.acquire().await;
            entry.source.lookup(&query).await
        };
        let source = entry.source.name();
        self.sources
            .note_answer(source, &result, self.rounds.clock.now());
        let (reports, last, error) = match result {
            Ok(reports) if reports.is_empty() => (reports, LastPoll::NotFound, None),
            Ok(reports) if reports.iter().all(is_final) => (reports, LastPoll::Delivered, None),
            // The sandbox moves one step per `step` whatever its times say: follow its pace.
            Ok(reports) if entry.source.is_sandbox() => (reports, LastPoll::Changed, None),
            Ok(reports) => (reports, LastPoll::Unchanged, None),
            Err(err) => {
                let failures = claim.check_failures + 1;
                tracing::warn!(
                    flight = %claim.number, date = %claim.date, source, failures, error = %err,
                    "flight lookup failed"
                );
                let last = LastPoll::Failed {
                    failures,
                    retry_after: err.wait_hint(self.bounds(Some(&entry))),
                };
                (Vec::new(), last, Some(err.to_string()))
            }
        };
        let outcome = match last {
            LastPoll::NotFound => "not_found",
            LastPoll::Failed { .. } => "failed",
            _ => "found",
        };
        metrics::counter!("skyhook_flight_checks_total", "source" => source, "outcome" => outcome)
            .increment(1);
        let bounds = self.bounds(Some(&entry));
        self.record(&claim, source, reports, last, error, bounds)
            .await
    }

    async fn record(
        &self,
        claim: &ClaimedFlightCheck,
        source: &'static str,
        reports: Vec<FlightReport>,
        last: LastPoll,
        error: Option<String>,
        bounds: Bounds,
    ) -> Result<(), StoreError> {
        let now = self.rounds.clock.now();
        let failures = match last {
            LastPoll::Failed { failures, .. } => failures,
            _ => 0,
        };
        let record = FlightCheckRecord {
            number: claim.number.clone(),
            date: claim.date,
            source,
            checked_at: now,
            next_check_at: next_check(now, bounds, &reports, last),
            check_failures: failures,
            error,
            reports,
        };
        match self
            .store
            .record_flight_check(self.rounds.owner, record)
            .await?
        {
            Some(queued) => count_queued(queued),
            None => tracing::warn!(flight = %claim.number, date = %claim.date,
                "lease lost before the flight check was recorded; dropped"),
        }
        Ok(())
    }

    fn bounds(&self, entry: Option<&FlightSourceEntry>) -> Bounds {
        self.rounds
            .bounds(entry.and_then(|e| e.source.min_interval()))
    }
}

fn is_final(report: &FlightReport) -> bool {
    FlightState::default().merged(report).status().is_final()
}

/// Densest around the legs' expected departures and arrivals, like shipments.
fn next_check(
    now: DateTime<Utc>,
    bounds: Bounds,
    reports: &[FlightReport],
    last: LastPoll,
) -> DateTime<Utc> {
    let milestones = reports
        .iter()
        .flat_map(|r| FlightState::default().merged(r).pending_milestones());
    schedule::next_around(now, bounds, milestones, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::tests::BOUNDS;
    use crate::domain::{AirportCode, FlightKey, FlightNumber, FlightTimes};

    fn now() -> DateTime<Utc> {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    fn report(times: FlightTimes) -> FlightReport {
        FlightReport {
            key: FlightKey {
                number: FlightNumber::parse("LH8160").unwrap(),
                date: "2026-11-25".parse().unwrap(),
                origin: AirportCode::parse("FRA").unwrap(),
            },
            destination: None,
            times,
            cancelled: None,
        }
    }

    fn minutes_until_next(reports: &[FlightReport], last: LastPoll) -> i64 {
        (next_check(now(), BOUNDS, reports, last) - now()).num_minutes()
    }

    #[test]
    fn checks_close_in_on_the_departure_then_the_arrival() {
        let at = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap());
        let scheduled = FlightTimes {
            scheduled_departure: at("2026-11-25T12:00:00Z"),
            scheduled_arrival: at("2026-11-25T20:00:00Z"),
            ..FlightTimes::default()
        };
        let waiting = [report(scheduled.clone())];
        assert_eq!(minutes_until_next(&waiting, LastPoll::Unchanged), 60);
        let boarding = [report(FlightTimes {
            scheduled_departure: at("2026-11-25T10:04:00Z"),
            ..scheduled.clone()
        })];
        assert_eq!(minutes_until_next(&boarding, LastPoll::Unchanged), 5);
        let airborne = [report(FlightTimes {
            actual_departure: at("2026-11-25T09:50:00Z"),
            estimated_arrival: at("2026-11-25T10:20:00Z"),
            ..scheduled
        })];
        assert_eq!(minutes_until_next(&airborne, LastPoll::Unchanged), 10);
        assert_eq!(minutes_until_next(&[], LastPoll::NotFound), 120);
    }
}
