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
