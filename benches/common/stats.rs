//! Small helpers every bench needs (each includes this file with `#[path]`).

use anyhow::Context;
use std::time::Duration;

/// Nearest-rank percentile of sorted latencies, in milliseconds; `None` when there are none.
pub fn percentile_ms(sorted: &[Duration], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let index = (last as f64 * q).round() as usize;
    Some(sorted[index].as_secs_f64() * 1e3)
}

/// A count from the environment, or `default` when the variable is unset.
pub fn env_or(name: &str, default: u64) -> anyhow::Result<u64> {
    std::env::var(name).map_or(Ok(default), |value| {
        value
            .parse()
            .with_context(|| format!("{name}=`{value}` is not a count"))
    })
}
