//! The loop every background worker runs its rounds in (the dispatcher and both pollers): a
//! round that found work is followed at once by the next; a failed one is logged and counts as
//! idle; an idle one waits `idle_wait`, until woken or until shutdown. What a round does and
//! what wakes it are the worker's own.

use crate::store::StoreError;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs `round` (which returns how much work it found) until `shutdown` is cancelled. `woken`
/// resolves when new work may be there; `what` names the round in the log.
pub(crate) async fn run_rounds<R, W>(
    what: &str,
    shutdown: &CancellationToken,
    idle_wait: Duration,
    woken: impl Fn() -> W,
    mut round: impl FnMut() -> R,
) where
    R: Future<Output = Result<usize, StoreError>>,
    W: Future<Output = ()>,
{
    while !shutdown.is_cancelled() {
        let found = match round().await {
            Ok(found) => found,
            Err(err) => {
                tracing::error!(
                    error = format!("{:#}", anyhow::Error::from(err)),
                    "{what} round failed"
                );
                0
            }
        };
        if found == 0 {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(idle_wait) => {}
                () = woken() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn rounds_that_find_work_follow_at_once_and_an_idle_one_waits_until_shutdown() {
        let shutdown = CancellationToken::new();
        let ran = AtomicUsize::new(0);
        let round = || {
            let n = ran.fetch_add(1, Ordering::SeqCst);
            let shutdown = shutdown.clone();
            async move {
                match n {
                    0 | 1 => Ok(3),
                    2 => Err(StoreError::Corrupt("down".into())),
                    _ => {
                        shutdown.cancel();
                        Ok(0)
                    }
                }
            }
        };
        let began = tokio::time::Instant::now();
        let idle_wait = Duration::from_secs(1);
        run_rounds("test", &shutdown, idle_wait, std::future::pending, round).await;
        // Two busy rounds, a failed one that counts as idle (one idle wait), then the last.
        assert_eq!(ran.load(Ordering::SeqCst), 4);
        assert_eq!(began.elapsed(), idle_wait);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_up_ends_the_idle_wait_at_once() {
        let shutdown = CancellationToken::new();
        let calls = AtomicUsize::new(0);
        let began = tokio::time::Instant::now();
        let hour = Duration::from_secs(3600);
        // Both rounds find nothing; only the wake-up can start the second one before the hour.
        let idle_then_stop = || {
            if calls.fetch_add(1, Ordering::SeqCst) == 1 {
                shutdown.cancel();
            }
            async { Ok(0) }
        };
        run_rounds("test", &shutdown, hour, || async {}, idle_then_stop).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(began.elapsed() < hour, "woken, not timed out");
    }
}
