//! A selector's storage iterators (and the chunk copies they hold) are released as soon as each
//! series has been read, not when the whole selector has (issue 21: peak memory of queries).
//! A querier whose iterators count how many of them are alive records, at every read, how many
//! were: with series released as they are read, the last series read sees far fewer than all.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sightline_model::{Labels, Matcher, Sample, TimestampMs};
use sightline_promql::{Engine, EngineOptions, Value};
use sightline_storage_api::{Querier, Queryable, Result, SampleIterator, SelectHints, Series};

const SERIES: usize = 1_000;
const POINTS: i64 = 40;
const STEP_MS: i64 = 15_000;

/// Iterators alive now and the fewest alive seen by any read.
#[derive(Default)]
struct Counts {
    alive: AtomicUsize,
    min_seen: AtomicUsize,
}

struct Store(Arc<Counts>);

struct CountingIter {
    samples: Vec<Sample>,
    pos: usize,
    counts: Arc<Counts>,
}

impl SampleIterator for CountingIter {
    fn next_sample(&mut self) -> Option<Sample> {
        let alive = self.counts.alive.load(Ordering::Relaxed);
        self.counts.min_seen.fetch_min(alive, Ordering::Relaxed);
        let s = self.samples.get(self.pos).copied();
        self.pos += 1;
        s
    }
}

impl Drop for CountingIter {
    fn drop(&mut self) {
        self.counts.alive.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Queryable for Store {
    fn querier(&self, min_t: TimestampMs, max_t: TimestampMs) -> Result<Box<dyn Querier + '_>> {
        Ok(Box::new(StoreQuerier {
            counts: self.0.clone(),
            min_t,
            max_t,
        }))
    }
}

struct StoreQuerier {
    counts: Arc<Counts>,
    min_t: TimestampMs,
    max_t: TimestampMs,
}

impl Querier for StoreQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        _matchers: &[Matcher],
    ) -> Result<Vec<Series>> {
        Ok((0..SERIES)
            .map(|i| {
                self.counts.alive.fetch_add(1, Ordering::Relaxed);
                Series {
                    labels: Labels::from_pairs([
                        ("__name__", "m".to_string()),
                        ("i", i.to_string()),
                    ]),
                    samples: Box::new(CountingIter {
                        samples: (0..POINTS)
                            .map(|p| Sample {
                                t: p * STEP_MS,
                                v: (p * (i as i64 + 1)) as f64,
                            })
                            .filter(|s| s.t >= self.min_t && s.t <= self.max_t)
                            .collect(),
                        pos: 0,
                        counts: self.counts.clone(),
                    }),
                }
            })
            .collect())
    }

    fn label_values(&self, _name: &str, _matchers: &[Matcher]) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn label_names(&self, _matchers: &[Matcher]) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// The fewest iterators alive at any read while `run` queries a fresh store on one thread.
fn min_alive_during(run: impl Fn(&Engine, &Store)) -> usize {
    let counts = Arc::new(Counts {
        alive: AtomicUsize::new(0),
        min_seen: AtomicUsize::new(usize::MAX),
    });
    let store = Store(counts.clone());
    let engine = Engine::new(EngineOptions {
        parallelism: 1,
        ..Default::default()
    });
    run(&engine, &store);
    assert_eq!(
        counts.alive.load(Ordering::Relaxed),
        0,
        "every iterator dropped"
    );
    counts.min_seen.load(Ordering::Relaxed)
}

const END: i64 = (POINTS - 1) * STEP_MS;

#[test]
fn an_instant_query_releases_each_series_once_read() {
    for q in ["rate(m[5m])", "m", "sum(m)"] {
        let min = min_alive_during(|e, st| match e.instant_query(st, q, END).unwrap().value {
            Value::Vector(v) => assert!(!v.is_empty(), "{q}"),
            other => panic!("{q}: {other:?}"),
        });
        // The last series is read with only itself left.
        assert_eq!(min, 1, "{q}");
    }
}

#[test]
fn a_precomputed_range_function_releases_each_chunk_once_read() {
    let min = min_alive_during(|e, st| {
        e.range_query(st, "sum(rate(m[5m]))", END - 120_000, END, STEP_MS)
            .unwrap();
    });
    // Series are computed a chunk of 256 at a time; the last chunk reads with the earlier
    // chunks' iterators gone.
    assert!(min <= SERIES - 3 * 256, "{min}");
}
