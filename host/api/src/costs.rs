//! What each recent query cost, by its text and shape, so that a query which was cheap the
//! last time it ran is answered on the thread that received the request.
//!
//! Handing a query to a blocking thread and its answer back costs two thread wake-ups. For a
//! query that takes a tenth of a millisecond that handoff is a large part of its latency,
//! more so when the threads were asleep (issue 21: small queries at 10 k series,
//! BENCHMARKS.md session 23). A query cannot be known to be cheap before it runs, but the
//! queries a dashboard or an alerting client sends repeat: the same text over the same span
//! and step. So a query runs inline (in `tokio::task::block_in_place`, which first hands the
//! worker's other tasks to another thread) only when the same query, over a span and step of
//! the same size, last took at most [`INLINE_MAX`], and even then with a timeout of
//! [`INLINE_BUDGET`]: one that has grown past it is abandoned and run again on a blocking
//! thread, so no request thread is held longer than that by an inline attempt.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sightline_telemetry::{Counter, Registry};

/// The longest last cost (evaluation and rendering) of a query that is run inline.
pub const INLINE_MAX: Duration = Duration::from_millis(1);

/// The timeout of an inline attempt; past it the query is run again on a blocking thread.
pub const INLINE_BUDGET: Duration = Duration::from_millis(20);

/// Queries remembered; the memory is cleared when it is full (a few tens of KiB at most).
const MAX_ENTRIES: usize = 4096;

/// The last cost of recent queries, keyed by a hash of their text, span and step.
/// `Default` counts into counters no registry exports (tests).
#[derive(Debug)]
pub struct QueryCosts {
    last: Mutex<HashMap<u64, u32>>,
    hasher: RandomState,
    /// The longest last cost of a query run inline ([`INLINE_MAX`] but in tests).
    inline_max_us: u32,
    inline: Arc<Counter>,
    over_budget: Arc<Counter>,
}

impl Default for QueryCosts {
    fn default() -> Self {
        QueryCosts::with_inline_max(INLINE_MAX)
    }
}

impl QueryCosts {
    /// An empty memory that runs a query inline when it last cost at most `max` (tests
    /// that must not depend on how fast a loaded machine runs a query use a long one).
    pub fn with_inline_max(max: Duration) -> Self {
        QueryCosts {
            last: Mutex::default(),
            hasher: RandomState::new(),
            inline_max_us: u32::try_from(max.as_micros()).unwrap_or(u32::MAX),
            inline: Arc::default(),
            over_budget: Arc::default(),
        }
    }

    /// An empty memory whose counters are exported through `registry`.
    pub fn new(registry: &Registry) -> Self {
        QueryCosts {
            inline: registry.counter(
                "sightline_api_queries_inline",
                "Queries answered on the thread that received the request, because the same \
                 query (text, span and step) last cost at most 1 ms.",
            ),
            over_budget: registry.counter(
                "sightline_api_queries_inline_over_budget",
                "Inline query attempts that ran past their 20 ms budget and were run again on \
                 a blocking thread.",
            ),
            ..QueryCosts::default()
        }
    }

    /// The key of a query: its text, the length of its range (0 for an instant query) and
    /// its step (0 for an instant query). A dashboard's refreshes share a key as their range
    /// slides.
    pub fn key(&self, query: &str, span_ms: i64, step_ms: i64) -> u64 {
        self.hasher.hash_one((query, span_ms, step_ms))
    }

    /// Whether the query last cost at most this memory's limit ([`INLINE_MAX`] outside
    /// tests).
    pub fn cheap(&self, key: u64) -> bool {
        self.lock()
            .get(&key)
            .is_some_and(|&us| us <= self.inline_max_us)
    }

    /// Remembers what the query cost this time.
    pub fn record(&self, key: u64, cost: Duration) {
        let us = u32::try_from(cost.as_micros()).unwrap_or(u32::MAX);
        let mut m = self.lock();
        if m.len() >= MAX_ENTRIES && !m.contains_key(&key) {
            m.clear();
        }
        m.insert(key, us);
    }

    /// Counts a query answered inline.
    pub(crate) fn count_inline(&self) {
        self.inline.inc();
    }

    /// Counts an inline attempt abandoned at [`INLINE_BUDGET`].
    pub(crate) fn count_over_budget(&self) {
        self.over_budget.inc();
    }

    /// Queries answered on the request's own thread since start.
    pub fn inline_total(&self) -> u64 {
        self.inline.get() as u64
    }

    /// Inline attempts that ran past [`INLINE_BUDGET`] and were run again on a blocking
    /// thread, since start.
    pub fn over_budget_total(&self) -> u64 {
        self.over_budget.get() as u64
    }

    /// Queries remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u32>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_cheap_only_after_a_cheap_run_of_the_same_shape() {
        let c = QueryCosts::default();
        let k = c.key("up == 0", 120_000, 15_000);
        assert!(!c.cheap(k), "never seen");
        c.record(k, Duration::from_micros(300));
        assert!(c.cheap(k));
        assert!(
            !c.cheap(c.key("up == 0", 86_400_000, 15_000)),
            "another span"
        );
        assert!(!c.cheap(c.key("up == 0", 120_000, 1_000)), "another step");
        assert!(!c.cheap(c.key("up == 1", 120_000, 15_000)), "another text");
        c.record(k, INLINE_MAX + Duration::from_micros(1));
        assert!(!c.cheap(k), "the last run counts, not the best");
        c.record(k, INLINE_MAX);
        assert!(c.cheap(k));
    }

    #[test]
    fn the_counters_are_exported() {
        let r = Registry::new();
        let c = QueryCosts::new(&r);
        c.count_inline();
        c.count_inline();
        c.count_over_budget();
        let value = |name: &str| {
            r.gather()
                .into_iter()
                .find(|f| f.name == name)
                .map(|f| f.samples.iter().map(|m| m.value).sum::<f64>())
        };
        assert_eq!(value("sightline_api_queries_inline"), Some(2.0));
        assert_eq!(value("sightline_api_queries_inline_over_budget"), Some(1.0));
    }

    #[test]
    fn the_memory_is_bounded() {
        let c = QueryCosts::default();
        for i in 0..(MAX_ENTRIES as i64 * 3) {
            c.record(c.key("q", i, 0), Duration::from_micros(10));
            assert!(c.len() <= MAX_ENTRIES);
        }
        let k = c.key("q", 0, 0);
        c.record(k, Duration::from_micros(10));
        assert!(c.cheap(k));
    }
}
