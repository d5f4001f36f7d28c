//! Per-plugin call statistics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::words::LogGate;

/// Upper bounds of the call-duration histogram, in seconds.
pub const DURATION_BUCKETS_SECONDS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

/// A snapshot of one plugin's statistics since the process started (they
/// survive reloads of the plugin).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginStats {
    /// Calls made (successful or not).
    pub calls: u64,
    /// Calls that failed, by [`crate::Error::reason`].
    pub errors_by_reason: BTreeMap<&'static str, u64>,
    /// Cumulative counts per bucket of [`DURATION_BUCKETS_SECONDS`].
    pub duration_bucket_counts: Vec<u64>,
    /// Sum of call durations in seconds.
    pub duration_sum_seconds: f64,
    /// Highest linear-memory size any instance reached, in bytes.
    pub memory_high_water_bytes: u64,
    /// Loads (initial and reloads) that failed.
    pub load_errors: u64,
    /// Successful loads.
    pub loads: u64,
    /// Calls that could not start because every instance slot of the daemon was taken by
    /// others (`host_busy`): counted in `calls`, not in the plugin's errors.
    pub host_busy: u64,
    /// Most calls of the plugin that ran at once.
    pub peak_concurrency: u64,
    /// Log lines about the plugin (its own and the host's warnings) refused by its rate
    /// limit (see [`crate::words::LogGate`]).
    pub log_lines_suppressed: u64,
}

impl PluginStats {
    /// Total failed calls.
    pub fn errors(&self) -> u64 {
        self.errors_by_reason.values().sum()
    }
}

#[derive(Default)]
pub(crate) struct StatsCell {
    inner: Mutex<PluginStats>,
    running: std::sync::atomic::AtomicU64,
    /// The plugin's share of the log, across calls and reloads.
    log: Arc<LogGate>,
}

/// One running call of a plugin, for its peak concurrency.
pub(crate) struct Running<'a>(&'a StatsCell);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl StatsCell {
    /// Counts a call as running until the guard drops.
    pub(crate) fn running(&self) -> Running<'_> {
        let now = self
            .running
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        let mut s = self.inner.lock();
        s.peak_concurrency = s.peak_concurrency.max(now);
        Running(self)
    }

    /// A call refused because the daemon had no instance slot for it (not its error).
    pub(crate) fn record_host_busy(&self) {
        let mut s = self.inner.lock();
        s.calls += 1;
        s.host_busy += 1;
    }

    pub(crate) fn record_call(
        &self,
        duration: Duration,
        memory_bytes: usize,
        error: Option<&'static str>,
    ) {
        let mut s = self.inner.lock();
        s.calls += 1;
        if s.duration_bucket_counts.len() != DURATION_BUCKETS_SECONDS.len() {
            s.duration_bucket_counts = vec![0; DURATION_BUCKETS_SECONDS.len()];
        }
        let secs = duration.as_secs_f64();
        for (i, le) in DURATION_BUCKETS_SECONDS.iter().enumerate() {
            if secs <= *le {
                s.duration_bucket_counts[i] += 1;
            }
        }
        s.duration_sum_seconds += secs;
        s.memory_high_water_bytes = s.memory_high_water_bytes.max(memory_bytes as u64);
        if let Some(reason) = error {
            *s.errors_by_reason.entry(reason).or_default() += 1;
        }
    }

    pub(crate) fn record_load(&self, ok: bool) {
        let mut s = self.inner.lock();
        if ok {
            s.loads += 1;
        } else {
            s.load_errors += 1;
        }
    }

    /// The plugin's log rate limit, for the per-call store and the host's warnings.
    pub(crate) fn log_gate(&self) -> Arc<LogGate> {
        self.log.clone()
    }

    pub(crate) fn snapshot(&self) -> PluginStats {
        let mut s = self.inner.lock().clone();
        s.log_lines_suppressed = self.log.suppressed();
        if s.duration_bucket_counts.is_empty() {
            s.duration_bucket_counts = vec![0; DURATION_BUCKETS_SECONDS.len()];
        }
        s
    }
}
