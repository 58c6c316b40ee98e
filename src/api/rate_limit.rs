//! `server.rate_limit`: a token bucket per API key, in this instance's memory. Every `/v1`
//! answer to a verified key carries the IETF draft's `RateLimit-Policy` and `RateLimit`
//! headers (draft-ietf-httpapi-ratelimit-headers: a quoted policy name with `q`, the quota,
//! and `w`, its window in seconds; then `r`, what remains, and `t`, seconds until the quota
//! is whole again); a request past the limit gets `429 ErrRateLimited` with `Retry-After`.

use super::error::ApiError;
use crate::config::RateLimitSettings;
use crate::domain::TenantId;
use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::time::Instant;

/// The policy's name in the headers.
const POLICY: &str = "per-key";

/// Beyond this many keys, buckets that are full again (their keys idle) are forgotten.
const MAX_TRACKED_KEYS: usize = 100_000;

pub struct RateLimiter {
    per_second: f64,
    burst: u32,
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What one request was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Whole requests left now.
    pub remaining: u64,
    /// Seconds until the bucket is full again (when refused: until the next request fits).
    pub reset: u64,
}

impl RateLimiter {
    /// `None` when the settings turn the limit off.
    pub fn new(settings: RateLimitSettings) -> Option<Self> {
        (settings.per_second > 0.0).then(|| Self {
            per_second: settings.per_second,
            burst: settings.burst,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from the tenant's bucket, if there is one to take.
    pub fn take(&self, tenant: TenantId, now: Instant) -> Verdict {
        let burst = f64::from(self.burst);
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() >= MAX_TRACKED_KEYS {
            buckets.retain(|_, bucket| self.refilled(*bucket, now) < burst);
        }
        let bucket = buckets.entry(tenant).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let tokens = self.refilled(*bucket, now);
        let allowed = tokens >= 1.0;
        let left = if allowed { tokens - 1.0 } else { tokens };
        *bucket = Bucket {
            tokens: left,
            at: now,
        };
        let seconds = |missing: f64| (missing / self.per_second).ceil().max(0.0) as u64;
        Verdict {
            allowed,
            remaining: left.floor() as u64,
            reset: if allowed {
                seconds(burst - left)
            } else {
                seconds(1.0 - left).max(1)
            },
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second).min(f64::from(self.burst))
    }

    /// The refusal of a request `verdict` did not allow.
    pub fn refusal(&self, verdict: Verdict) -> ApiError {
        ApiError::RateLimited {
            burst: self.burst,
            per_second: self.per_second,
            retry_after: verdict.reset,
        }
    }

    /// Adds `RateLimit-Policy` and `RateLimit` to an answer.
    pub fn describe(&self, verdict: Verdict, headers: &mut HeaderMap) {
        let window = (f64::from(self.burst) / self.per_second).ceil().max(1.0) as u64;
        let policy = format!("\"{POLICY}\";q={};w={window}", self.burst);
        let state = format!("\"{POLICY}\";r={};t={}", verdict.remaining, verdict.reset);
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitSettings { per_second, burst }).unwrap()
    }

    #[test]
    fn a_zero_rate_means_no_limit() {
        assert!(
            RateLimiter::new(RateLimitSettings {
                per_second: 0.0,
                burst: 5
            })
            .is_none()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_served_then_refused_until_a_token_refills() {
        let limiter = limiter(2.0, 3);
        let tenant = TenantId::new_random();
        let now = Instant::now();
        let verdicts: Vec<Verdict> = (0..4).map(|_| limiter.take(tenant, now)).collect();
        assert_eq!(
            verdicts.iter().map(|v| v.allowed).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(verdicts[0].remaining, 2);
        assert_eq!(verdicts[2].remaining, 0);
        assert_eq!(
            verdicts[2].reset, 2,
            "3 tokens at 2/s: full in 1.5 s, rounded up"
        );
        assert_eq!(verdicts[3].reset, 1, "one token in 0.5 s, rounded up");
        assert!(
            !limiter
                .take(tenant, now + Duration::from_millis(400))
                .allowed
        );
        assert!(
            limiter
                .take(tenant, now + Duration::from_millis(500))
                .allowed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn each_key_has_its_own_bucket() {
        let limiter = limiter(1.0, 1);
        let (a, b) = (TenantId::new_random(), TenantId::new_random());
        let now = Instant::now();
        assert!(limiter.take(a, now).allowed);
        assert!(!limiter.take(a, now).allowed);
        assert!(limiter.take(b, now).allowed);
    }

    #[tokio::test(start_paused = true)]
    async fn the_headers_follow_the_draft_syntax() {
        let limiter = limiter(10.0, 20);
        let verdict = limiter.take(TenantId::new_random(), Instant::now());
        let mut headers = HeaderMap::new();
        limiter.describe(verdict, &mut headers);
        assert_eq!(headers["ratelimit-policy"], "\"per-key\";q=20;w=2");
        assert_eq!(headers["ratelimit"], "\"per-key\";r=19;t=1");
    }
}
