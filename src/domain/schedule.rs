//! The adaptive polling schedule: when to look at a shipment next.
//!
//! Dense (`min`) right after a change and while a flight milestone is due or overdue; halving
//! the gap towards the next scheduled or estimated departure/arrival; sparse (`max`) when
//! nothing is expected or the carrier does not know the AWB yet; exponential back-off on
//! errors, never earlier than a carrier's `Retry-After`.

use super::TrackingEvent;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
}

/// What the last poll found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastPoll {
    Changed,
    Unchanged,
    NotFound,
    Delivered,
    /// `failures` in a row, this one included.
    Failed {
        failures: u32,
        retry_after: Option<Duration>,
    },
}

/// A milestone this long overdue without news is still polled densely.
const OVERDUE_WINDOW: TimeDelta = TimeDelta::hours(2);
/// `Retry-After` is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

pub fn next_poll(
    now: DateTime<Utc>,
    bounds: Bounds,
    events: &[TrackingEvent],
    last: LastPoll,
) -> DateTime<Utc> {
    next_around(now, bounds, pending_milestones(events), last)
}

/// The same rule for anything with expected milestones (a flight's departure and arrival):
/// `milestones` are the times at which news is expected but not yet reported.
pub fn next_around(
    now: DateTime<Utc>,
    bounds: Bounds,
    milestones: impl IntoIterator<Item = DateTime<Utc>>,
    last: LastPoll,
) -> DateTime<Utc> {
    let after = |d: Duration| now + TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
    let interval = match last {
        LastPoll::Failed {
            failures,
            retry_after,
        } => {
            let backoff = bounds
                .min
                .saturating_mul(1 << failures.saturating_sub(1).min(16))
                .min(bounds.max);
            return after(backoff.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER)));
        }
        LastPoll::Changed => bounds.min,
        LastPoll::NotFound | LastPoll::Delivered => bounds.max,
        LastPoll::Unchanged => match milestones.into_iter().min_by_key(|t| (*t - now).abs()) {
            Some(t) if t <= now && now - t <= OVERDUE_WINDOW => bounds.min,
            Some(t) if t > now => (t - now).to_std().unwrap_or_default() / 2,
            _ => bounds.max,
        },
    };
    after(interval.clamp(bounds.min, bounds.max))
}

/// Times at which something is expected but not yet reported: planned events, and flight
/// departures/arrivals without an actual time.
fn pending_milestones(events: &[TrackingEvent]) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    events.iter().flat_map(|event| {
        let planned = event.is_planned.then_some(event.event_date).flatten();
        let flight = event.flight.as_ref();
        let departure = flight
            .filter(|f| f.actual_departure.is_none())
            .and_then(|f| f.estimated_departure.or(f.scheduled_departure));
        let arrival = flight
            .filter(|f| f.actual_arrival.is_none())
            .and_then(|f| f.estimated_arrival.or(f.scheduled_arrival));
        [planned, departure, arrival]
            .into_iter()
            .flatten()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::EventFlight;

    /// The default poll bounds, 5 minutes to 2 hours, for the schedules' tests.
    pub(crate) const BOUNDS: Bounds = Bounds {
        min: Duration::from_secs(300),
        max: Duration::from_secs(7200),
    };

    fn now() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    fn departing(at: &str) -> TrackingEvent {
        TrackingEvent {
            event_location: Some("FRA".into()),
            flight: Some(EventFlight {
                scheduled_departure: Some(at.parse().unwrap()),
                ..EventFlight::default()
            }),
            ..TrackingEvent::new("BKD", None)
        }
    }

    fn minutes(next: DateTime<Utc>) -> i64 {
        (next - now()).num_minutes()
    }

    #[test]
    fn a_change_is_followed_by_a_dense_poll() {
        assert_eq!(minutes(next_poll(now(), BOUNDS, &[], LastPoll::Changed)), 5);
    }

    #[test]
    fn nothing_expected_or_not_found_polls_sparsely() {
        for last in [LastPoll::Unchanged, LastPoll::NotFound, LastPoll::Delivered] {
            assert_eq!(minutes(next_poll(now(), BOUNDS, &[], last)), 120);
        }
    }

    #[test]
    fn polls_close_in_on_a_coming_departure_and_stay_dense_while_it_is_overdue() {
        let in_two_hours = [departing("2026-11-23T14:00:00Z")];
        assert_eq!(
            minutes(next_poll(now(), BOUNDS, &in_two_hours, LastPoll::Unchanged)),
            60
        );
        let in_six_minutes = [departing("2026-11-23T12:06:00Z")];
        assert_eq!(
            minutes(next_poll(
                now(),
                BOUNDS,
                &in_six_minutes,
                LastPoll::Unchanged
            )),
            5
        );
        let overdue = [departing("2026-11-23T11:30:00+00:00")];
        assert_eq!(
            minutes(next_poll(now(), BOUNDS, &overdue, LastPoll::Unchanged)),
            5
        );
        let long_gone = [departing("2026-11-22T11:30:00Z")];
        assert_eq!(
            minutes(next_poll(now(), BOUNDS, &long_gone, LastPoll::Unchanged)),
            120
        );
    }

    #[test]
    fn failures_back_off_exponentially_and_honour_retry_after() {
        let failed = |failures, retry_after| LastPoll::Failed {
            failures,
            retry_after,
        };
        assert_eq!(minutes(next_poll(now(), BOUNDS, &[], failed(1, None))), 5);
        assert_eq!(minutes(next_poll(now(), BOUNDS, &[], failed(3, None))), 20);
        assert_eq!(
            minutes(next_poll(now(), BOUNDS, &[], failed(30, None))),
            120
        );
        let later = failed(1, Some(Duration::from_secs(3 * 3600)));
        assert_eq!(minutes(next_poll(now(), BOUNDS, &[], later)), 180);
    }
}
