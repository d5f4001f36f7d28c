//! What each recent query cost, by its text and shape, so that a query which was cheap the
//! last time it ran is answered on the thread that received the request.
//!
//! Handing a query to a blocking thread and its answer back costs two thread wake-ups. For a
//! query that takes a tenth of a millisecond that handoff is a large part of its latency,
//! more so when the threads were asleep (issue 21: small queries at 10 k series,
//! BENCHMARKS.md session 23). A query cannot be known to be cheap before it runs, but the
//! queries a dashboard or an alerting client sends repeat: the same text over the same span
//! and step. So a query that last took at most [`INLINE_MAX`] (over a span and step of the
//! same size) runs inline, in `tokio::task::block_in_place`, which first hands the worker's
//! other tasks to another thread, with a timeout of [`INLINE_BUDGET`]: one that has grown
//! past it is abandoned and run again on a blocking thread, so no request thread is held
//! longer than that by an inline attempt.
//!
//! `block_in_place` itself starts or wakes a thread to take the worker's place: 14 % of the
//! server's CPU in a loop of tiny queries, and a wake-up the answer waits behind
//! (BENCHMARKS.md, session 25). So a query that last took at most [`ON_WORKER_MAX`] runs on
//! the worker itself, with a timeout of [`ON_WORKER_BUDGET`] (then again on a blocking
//! thread). That holds the worker up to twice as long as tokio's guidance for work between
//! two awaits (10–100 µs) when the query is as cheap as last time, and the other workers take
//! the worker's queued tasks meanwhile.

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

/// The longest last cost of a query that runs on the async worker itself.
pub const ON_WORKER_MAX: Duration = Duration::from_micros(200);

/// The timeout of an attempt on the worker; past it the query is run again on a blocking
/// thread.
pub const ON_WORKER_BUDGET: Duration = Duration::from_millis(2);

/// Where a query runs, by what it cost the last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the async worker that received the request ([`ON_WORKER_MAX`]).
    Worker,
    /// On that worker's thread, inside `block_in_place` ([`INLINE_MAX`]).
    Inline,
    /// On a blocking thread: never seen, or costly last time.
    Blocking,
}

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
    /// The longest last cost of a query run on the worker ([`ON_WORKER_MAX`] but in tests).
    on_worker_max_us: u32,
    inline: Arc<Counter>,
    on_worker: Arc<Counter>,
    over_budget: Arc<Counter>,
}

impl Default for QueryCosts {
    fn default() -> Self {
        QueryCosts::with_limits(INLINE_MAX, ON_WORKER_MAX)
    }
}

impl QueryCosts {
    /// An empty memory that runs a query inline when it last cost at most `inline_max`, and on
    /// the worker itself when at most `on_worker_max` (tests that must not depend on how fast
    /// a loaded machine runs a query use long ones, or zero to keep a path out).
    pub fn with_limits(inline_max: Duration, on_worker_max: Duration) -> Self {
        let us = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        QueryCosts {
            last: Mutex::default(),
            hasher: RandomState::new(),
            inline_max_us: us(inline_max),
            on_worker_max_us: us(on_worker_max.min(inline_max)),
            inline: Arc::default(),
            on_worker: Arc::default(),
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
            on_worker: registry.counter(
                "sightline_api_queries_on_worker",
                "Inline queries answered on the async worker itself, without handing its other \
                 tasks to another thread first, because the same query last cost at most \
                 200 us (also counted in sightline_api_queries_inline).",
            ),
            over_budget: registry.counter(
                "sightline_api_queries_inline_over_budget",
                "Inline query attempts that ran past their budget (2 ms on the worker, 20 ms \
                 otherwise) and were run again on a blocking thread.",
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

    /// Where the query runs, by what it cost the last time.
    pub fn placement(&self, key: u64) -> Placement {
        match self.lock().get(&key) {
            Some(&us) if us <= self.on_worker_max_us => Placement::Worker,
            Some(&us) if us <= self.inline_max_us => Placement::Inline,
            _ => Placement::Blocking,
        }
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

    /// Counts a query answered inline (`on_worker`: on the worker itself).
    pub(crate) fn count_inline(&self, on_worker: bool) {
        self.inline.inc();
        if on_worker {
            self.on_worker.inc();
        }
    }

    /// Counts an inline attempt abandoned at its budget ([`ON_WORKER_BUDGET`] or
    /// [`INLINE_BUDGET`]).
    pub(crate) fn count_over_budget(&self) {
        self.over_budget.inc();
    }

    /// Queries answered on the request's own thread since start.
    pub fn inline_total(&self) -> u64 {
        self.inline.get() as u64
    }

    /// Queries answered on the async worker itself since start.
    pub fn on_worker_total(&self) -> u64 {
        self.on_worker.get() as u64
    }

    /// Inline attempts that ran past their budget and were run again on a blocking
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
        assert_eq!(c.placement(k), Placement::Blocking, "never seen");
        c.record(k, Duration::from_micros(300));
        assert_eq!(c.placement(k), Placement::Inline);
        for other in [
            c.key("up == 0", 86_400_000, 15_000),
            c.key("up == 0", 120_000, 1_000),
            c.key("up == 1", 120_000, 15_000),
        ] {
            assert_eq!(c.placement(other), Placement::Blocking, "another shape");
        }
        c.record(k, INLINE_MAX + Duration::from_micros(1));
        assert_eq!(
            c.placement(k),
            Placement::Blocking,
            "the last run counts, not the best"
        );
        c.record(k, INLINE_MAX);
        assert_eq!(c.placement(k), Placement::Inline);
        c.record(k, ON_WORKER_MAX + Duration::from_micros(1));
        assert_eq!(c.placement(k), Placement::Inline);
        c.record(k, ON_WORKER_MAX);
        assert_eq!(c.placement(k), Placement::Worker);
    }

    #[test]
    fn the_worker_limit_never_exceeds_the_inline_one() {
        let c = QueryCosts::with_limits(Duration::from_micros(100), Duration::from_millis(1));
        let k = c.key("up", 0, 0);
        c.record(k, Duration::from_micros(100));
        assert_eq!(c.placement(k), Placement::Worker);
        c.record(k, Duration::from_micros(101));
        assert_eq!(c.placement(k), Placement::Blocking);
        let none = QueryCosts::with_limits(Duration::from_millis(1), Duration::ZERO);
        none.record(k, Duration::from_micros(1));
        assert_eq!(none.placement(k), Placement::Inline);
    }

    #[test]
    fn the_counters_are_exported() {
        let r = Registry::new();
        let c = QueryCosts::new(&r);
        c.count_inline(false);
        c.count_inline(true);
        c.count_over_budget();
        let value = |name: &str| {
            r.gather()
                .into_iter()
                .find(|f| f.name == name)
                .map(|f| f.samples.iter().map(|m| m.value).sum::<f64>())
        };
        assert_eq!(value("sightline_api_queries_inline"), Some(2.0));
        assert_eq!(value("sightline_api_queries_on_worker"), Some(1.0));
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
        assert_eq!(c.placement(k), Placement::Worker);
    }
}
