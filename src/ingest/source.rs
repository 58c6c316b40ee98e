//! What every source is, whichever pipeline it feeds: a name that its settings, messages and
//! metrics go by, the one error type its answers fail with, and the `Retry-After` it may send.

use super::http::human_bytes;
use crate::domain::schedule::Bounds;
use std::fmt;
use std::time::Duration;

/// What the round loop and the registry need of any source, carrier or flight-status alike.
pub trait Source: Send + Sync + 'static {
    /// Its key under its settings section, in metrics and on stored records.
    fn name(&self) -> &'static str;

    /// A sandbox, labelled as such wherever it appears.
    fn is_sandbox(&self) -> bool {
        false
    }

    /// A source that changes faster than `poller.min_interval` (the demo) may ask for more.
    fn min_interval(&self) -> Option<Duration> {
        None
    }
}

/// A sandbox (the demo carrier, the demo flights): named `demo`, labelled as a sandbox wherever
/// it appears, and polled as often as its script moves on.
pub trait Sandbox: Send + Sync + 'static {
    /// How long each scripted step lasts.
    fn step(&self) -> Duration;
}

impl<T: Sandbox> Source for T {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn is_sandbox(&self) -> bool {
        true
    }

    fn min_interval(&self) -> Option<Duration> {
        Some(self.step())
    }
}

/// A source as settings name it: `carriers.cargoai`, `flights.flightaware`. Shown as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceId {
    /// The settings section it is configured under.
    pub section: &'static str,
    pub name: &'static str,
}

impl SourceId {
    pub const fn carrier(name: &'static str) -> Self {
        Self {
            section: "carriers",
            name,
        }
    }

    pub const fn flights(name: &'static str) -> Self {
        Self {
            section: "flights",
            name,
        }
    }

    pub fn unauthorized(self, status: u16) -> SourceError {
        SourceError::Unauthorized { from: self, status }
    }

    pub fn unavailable(self, reason: String, retry_after: Option<Duration>) -> SourceError {
        SourceError::Unavailable {
            from: self,
            reason,
            retry_after,
        }
    }

    pub fn malformed(self, reason: String) -> SourceError {
        SourceError::Malformed { from: self, reason }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why a source's answer could not be used, by what fixes it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// 401/403, or the source's own code for a bad key (TrackingMore's `meta.code` 4001): a
    /// configuration problem, not something retrying fixes.
    #[error("{from} refused our credentials (status {status}); check {}.{from}.api_key", .from.section)]
    Unauthorized { from: SourceId, status: u16 },
    /// 429, 5xx, timeouts, connection failures: back off, honouring `Retry-After`.
    #[error("{from} unavailable: {reason}")]
    Unavailable {
        from: SourceId,
        reason: String,
        retry_after: Option<Duration>,
    },
    #[error("{from} answered something unreadable: {reason}")]
    Malformed { from: SourceId, reason: String },
    /// The answer was longer than Skyhook reads; it is dropped unread. Like a malformed
    /// answer, it backs off on the failure count: the next may be no better.
    #[error(
        "{from} answered more than {}, the most carriers.max_response_bytes lets Skyhook read; \
         the answer was dropped unread",
        human_bytes(*.limit)
    )]
    TooLarge { from: SourceId, limit: usize },
}

impl SourceError {
    /// The source's own `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The least wait before asking again that the poll schedule is given after this failure.
    pub fn wait_hint(&self, bounds: Bounds) -> Option<Duration> {
        match self {
            // Credentials will not fix themselves: do not hammer, wait the longest.
            Self::Unauthorized { .. } => Some(bounds.max),
            other => other.retry_after(),
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs; it is ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        min: Duration::from_secs(300),
        max: Duration::from_secs(7200),
    };

    #[test]
    fn a_refusal_names_the_settings_key_to_check() {
        let carrier = SourceId::carrier("cargoai").unauthorized(401).to_string();
        assert_eq!(
            carrier,
            "cargoai refused our credentials (status 401); check carriers.cargoai.api_key"
        );
        let flights = SourceId::flights("flightaware")
            .unauthorized(403)
            .to_string();
        assert!(
            flights.ends_with("check flights.flightaware.api_key"),
            "{flights}"
        );
    }

    #[test]
    fn a_refusal_waits_the_longest_and_an_outage_as_long_as_asked() {
        let source = SourceId::carrier("cargoai");
        assert_eq!(source.unauthorized(401).wait_hint(BOUNDS), Some(BOUNDS.max));
        let asked = Some(Duration::from_secs(7));
        let unavailable = source.unavailable("HTTP 429".to_owned(), asked);
        assert_eq!(unavailable.wait_hint(BOUNDS), asked);
        assert_eq!(source.malformed("x".to_owned()).wait_hint(BOUNDS), None);
    }
}
