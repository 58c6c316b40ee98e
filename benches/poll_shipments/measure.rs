//! What the kernel says about CPU and memory, read from `/proc` (Linux only; no libc needed).

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// `USER_HZ`: the unit of `/proc/*/stat` CPU times, 100 on every Linux architecture we run on.
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU time of the process or thread whose `stat` file this is.
pub fn cpu_time(stat_path: &Path) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(stat_path)
        .with_context(|| format!("cannot read {}", stat_path.display()))?;
    // The command name (field 2) may contain spaces; fields are counted after its `)`.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .with_context(|| format!("unexpected {}", stat_path.display()))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .with_context(|| format!("short {}", stat_path.display()))?
            .parse()
            .with_context(|| format!("unexpected {}", stat_path.display()))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / TICKS_PER_SECOND))
}

pub fn process_cpu() -> anyhow::Result<Duration> {
    cpu_time(Path::new("/proc/self/stat"))
}

/// This thread's id, as `/proc/self/task/{tid}` names it.
pub fn current_thread_id() -> anyhow::Result<u32> {
    let link = std::fs::read_link("/proc/thread-self")?;
    link.file_name()
        .and_then(|name| name.to_str()?.parse().ok())
        .context("unexpected /proc/thread-self")
}

pub fn thread_cpu(tid: u32) -> anyhow::Result<Duration> {
    cpu_time(Path::new(&format!("/proc/self/task/{tid}/stat")))
}

/// CPU time of other processes (the Postgres backends serving the bench), by pid; a pid that
/// has gone is left out.
pub fn processes_cpu(pids: &[i32]) -> HashMap<i32, Duration> {
    pids.iter()
        .filter_map(|&pid| Some((pid, cpu_time(Path::new(&format!("/proc/{pid}/stat"))).ok()?)))
        .collect()
}

/// CPU spent between two snapshots; a process that appeared in between counts from zero.
pub fn processes_cpu_delta(
    before: &HashMap<i32, Duration>,
    after: &HashMap<i32, Duration>,
) -> Duration {
    after
        .iter()
        .map(|(pid, &spent)| spent.saturating_sub(before.get(pid).copied().unwrap_or_default()))
        .sum()
}

/// Peak resident set size of this process (`VmHWM`), in bytes.
pub fn peak_rss() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    let kib: u64 = line
        .trim()
        .strip_suffix("kB")
        .context("VmHWM is not in kB")?
        .trim()
        .parse()?;
    Ok(kib * 1024)
}

/// Starts the peak RSS over from the current RSS (Linux ≥ 4.0), so set-up does not count.
pub fn reset_peak_rss() -> anyhow::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("cannot reset VmHWM")
}

/// Busy and total CPU time of the whole machine (`/proc/stat`), all cores together.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    busy: u64,
    total: u64,
}

/// Waits until the machine has been mostly idle for a couple of seconds (another build or
/// benchmark would distort the figures), for at most `patience`. Returns how busy it was.
pub fn wait_for_quiet(patience: Duration) -> anyhow::Result<f64> {
    const QUIET: f64 = 0.15;
    const SAMPLE: Duration = Duration::from_secs(2);
    let give_up = std::time::Instant::now() + patience;
    let mut told = false;
    loop {
        let before = MachineCpu::now()?;
        std::thread::sleep(SAMPLE);
        let busy = MachineCpu::now()?.busy_since(&before);
        if busy < QUIET || std::time::Instant::now() >= give_up {
            return Ok(busy);
        }
        if !told {
            eprintln!(
                "the machine is {:.0}% busy; waiting up to {} s for it to quieten",
                busy * 100.0,
                patience.as_secs()
            );
            told = true;
        }
    }
}

impl MachineCpu {
    pub fn now() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let Some(line) = stat.lines().next().and_then(|l| l.strip_prefix("cpu ")) else {
            bail!("unexpected /proc/stat");
        };
        let ticks: Vec<u64> = line
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
        Ok(Self {
            busy: total - idle,
            total,
        })
    }

    /// The share of all cores that was busy since `earlier` (0–1).
    pub fn busy_since(&self, earlier: &Self) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        self.busy.saturating_sub(earlier.busy) as f64 / total as f64
    }

    /// CPU time spent on all cores together since `earlier`, by anything.
    pub fn busy_time_since(&self, earlier: &Self) -> Duration {
        Duration::from_secs_f64(self.busy.saturating_sub(earlier.busy) as f64 / TICKS_PER_SECOND)
    }

    /// Capacity since `earlier`: elapsed time × cores.
    pub fn total_time_since(&self, earlier: &Self) -> Duration {
        Duration::from_secs_f64(self.total.saturating_sub(earlier.total) as f64 / TICKS_PER_SECOND)
    }
}
