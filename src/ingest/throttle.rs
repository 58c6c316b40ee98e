//! Per-carrier limits: at most `concurrency` requests in flight and `rate_limit` starts per
//! second, shared by every task of this instance.

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub struct Throttle {
    in_flight: Semaphore,
    spacing: Duration,
    next_start: Mutex<Instant>,
}

impl Throttle {
    pub fn new(rate_limit: f64, concurrency: usize) -> Self {
        Self {
            in_flight: Semaphore::new(concurrency.max(1)),
            spacing: Duration::from_secs_f64(1.0 / rate_limit.max(f64::MIN_POSITIVE)),
            next_start: Mutex::new(Instant::now()),
        }
    }

    /// Waits for a free slot and for the request's turn; hold the permit while calling.
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        let permit = self.in_flight.acquire().await.expect("never closed");
        // Reserve the next start time under the lock, then wait outside it: starts are spaced
        // `spacing` apart however many tasks ask at once.
        let start = {
            let mut next = self.next_start.lock().expect("throttle lock");
            let start = (*next).max(Instant::now());
            *next = start + self.spacing;
            start
        };
        tokio::time::sleep_until(start).await;
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_the_rate_limit() {
        let throttle = Throttle::new(4.0, 10);
        let began = Instant::now();
        for _ in 0..5 {
            drop(throttle.acquire().await);
        }
        // Five starts at 4/s: the fifth waits four spacings of 250ms.
        assert_eq!(began.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_bounds_requests_in_flight() {
        let throttle = Throttle::new(1000.0, 2);
        let first = throttle.acquire().await;
        let _second = throttle.acquire().await;
        let third = tokio::time::timeout(Duration::from_secs(1), throttle.acquire()).await;
        assert!(
            third.is_err(),
            "a third request waits while two are in flight"
        );
        drop(first);
        assert!(
            tokio::time::timeout(Duration::from_secs(1), throttle.acquire())
                .await
                .is_ok()
        );
    }
}
