//! What happens after a delivery attempt: delivered, retried later (on the configured schedule,
//! with jitter, honouring `Retry-After`), given up, or — for a callback that is gone or has
//! failed for too long — the URL channel disabled and its messages parked.

use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// `Retry-After` is honoured up to this long; a receiver cannot park a message for a week.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The share of a delay added at random, so that receivers that come back are not hit by
/// every queued retry in the same second.
pub const MAX_JITTER: f64 = 0.1;

#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// The retry schedule is exhausted.
    GiveUp,
    /// `410 Gone`, or failing for longer than `webhooks.disable_after`: the subscription's
    /// URL channel is disabled, with this reason, and the message is parked with the URL's
    /// other pending messages until a `PUT` re-enables it (a stray 410 from a proxy during a
    /// deploy must not cost the subscriber its updates).
    DisableUrl(String),
    /// The message's URL is disabled: it waits, unattempted, until the URL is re-enabled.
    Park,
    /// The channel went away before the message was sent; no attempt was made.
    Cancelled,
}

impl NextStep {
    /// What the attempt means for the subscription's URL channel: whether it is failing now,
    /// and the reason to disable it, if any.
    pub fn url_effect(&self) -> (bool, Option<&str>) {
        match self {
            Self::Delivered | Self::Cancelled | Self::Park => (false, None),
            Self::RetryAt(_) | Self::GiveUp => (true, None),
            Self::DisableUrl(reason) => (true, Some(reason.as_str())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delays before the 2nd, 3rd… attempt; the first is immediate.
    pub schedule: Vec<Duration>,
    /// A URL failing continuously for this long is disabled.
    pub disable_after: Duration,
}

/// How an attempt ended, as far as the retry decision cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Succeeded,
    /// A failure no retry can fix (an SMTP 5xx such as an unknown mailbox): the message fails
    /// now rather than after the whole schedule.
    Refused,
    Failed {
        /// The receiver said `410 Gone`: it does not want these messages any more.
        gone: bool,
        /// `Retry-After` of a 429 or 503.
        retry_after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// `attempts_before` counts earlier attempts of this message; `url_failing_since` is when
    /// the callback started failing (None for email, or when it last succeeded);
    /// `jitter` is a random number in `[0, 1)`.
    pub fn next_step(
        &self,
        attempt: Attempt,
        attempts_before: u32,
        now: DateTime<Utc>,
        url_failing_since: Option<DateTime<Utc>>,
        jitter: f64,
    ) -> NextStep {
        let (gone, retry_after) = match attempt {
            Attempt::Succeeded => return NextStep::Delivered,
            Attempt::Refused => return NextStep::GiveUp,
            Attempt::Failed { gone, retry_after } => (gone, retry_after),
        };
        if gone {
            return NextStep::DisableUrl("the callback answered 410 Gone".to_owned());
        }
        if let Some(since) = url_failing_since {
            let limit = TimeDelta::from_std(self.disable_after).unwrap_or(TimeDelta::MAX);
            if now - since >= limit {
                return NextStep::DisableUrl(format!(
                    "the callback has failed continuously since {} (webhooks.disable_after = {})",
                    since.to_rfc3339(),
                    humantime::format_duration(self.disable_after)
                ));
            }
        }
        let Some(delay) = self.schedule.get(attempts_before as usize) else {
            return NextStep::GiveUp;
        };
        let jittered = delay.mul_f64(1.0 + jitter.clamp(0.0, 1.0) * MAX_JITTER);
        let wait = retry_after.map_or(jittered, |r| jittered.max(r.min(MAX_RETRY_AFTER)));
        NextStep::RetryAt(now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![Duration::from_secs(5), Duration::from_secs(300)],
            disable_after: Duration::from_secs(5 * 86_400),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    const FAILED: Attempt = Attempt::Failed {
        gone: false,
        retry_after: None,
    };

    #[test]
    fn a_refusal_gives_up_at_once_whatever_is_left_of_the_schedule() {
        assert_eq!(
            policy().next_step(Attempt::Refused, 0, now(), None, 0.0),
            NextStep::GiveUp
        );
    }

    #[test]
    fn a_success_is_delivered() {
        assert_eq!(
            policy().next_step(Attempt::Succeeded, 3, now(), None, 0.5),
            NextStep::Delivered
        );
    }

    #[test]
    fn failures_follow_the_schedule_never_earlier_and_at_most_ten_percent_later() {
        let p = policy();
        assert_eq!(
            p.next_step(FAILED, 0, now(), None, 0.0),
            NextStep::RetryAt(now() + TimeDelta::seconds(5))
        );
        let NextStep::RetryAt(at) = p.next_step(FAILED, 1, now(), None, 0.999) else {
            panic!("expected a retry");
        };
        assert!(at >= now() + TimeDelta::seconds(300));
        assert!(at <= now() + TimeDelta::seconds(330));
        assert_eq!(p.next_step(FAILED, 2, now(), None, 0.0), NextStep::GiveUp);
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_day() {
        let p = policy();
        let asked = |secs| Attempt::Failed {
            gone: false,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            p.next_step(asked(120), 0, now(), None, 0.0),
            NextStep::RetryAt(now() + TimeDelta::seconds(120))
        );
        assert_eq!(
            p.next_step(asked(1), 0, now(), None, 0.0),
            NextStep::RetryAt(now() + TimeDelta::seconds(5)),
            "a shorter Retry-After does not bring the schedule forward"
        );
        assert_eq!(
            p.next_step(asked(10 * 86_400), 0, now(), None, 0.0),
            NextStep::RetryAt(now() + TimeDelta::days(1))
        );
    }

    #[test]
    fn gone_disables_the_url_at_once() {
        let gone = Attempt::Failed {
            gone: true,
            retry_after: None,
        };
        let NextStep::DisableUrl(reason) = policy().next_step(gone, 0, now(), None, 0.0) else {
            panic!("expected the URL to be disabled");
        };
        assert!(reason.contains("410"));
    }

    #[test]
    fn a_url_failing_longer_than_disable_after_is_disabled() {
        let p = policy();
        let recent = now() - TimeDelta::days(4);
        assert!(matches!(
            p.next_step(FAILED, 0, now(), Some(recent), 0.0),
            NextStep::RetryAt(_)
        ));
        let long_ago = now() - TimeDelta::days(5);
        let NextStep::DisableUrl(reason) = p.next_step(FAILED, 0, now(), Some(long_ago), 0.0)
        else {
            panic!("expected the URL to be disabled");
        };
        assert!(reason.contains("disable_after"), "{reason}");
    }
}
