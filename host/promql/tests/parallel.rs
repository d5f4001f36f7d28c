//! The parallel evaluation of one query's per-series work gives exactly what the
//! single-threaded evaluation gives: same series, same order, same values (bit for bit), same
//! annotations and the same limit errors, on randomised data with resets, gaps and staleness
//! markers, with the thresholds forced low so that small selectors go parallel.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::{stale_nan, Labels};
use sightline_promql::{Engine, EngineOptions, Error, QueryResult, Value};
use sightline_storage_api::{
    Appendable, MemStorage, Querier, Queryable, SelectHints, Series, SeriesBatches,
};

const LES: &[&str] = &["0.1", "0.5", "1", "5", "+Inf"];

fn store(seed: u64) -> MemStorage {
    // Seeded, so that failures reproduce.
    let mut rng = fastrand::Rng::with_seed(seed);
    let st = MemStorage::new();
    let mut a = st.appender();
    let mut series: Vec<Labels> = Vec::new();
    for inst in 0..12 {
        let instance = format!("i{inst}");
        series.push(Labels::from_pairs([
            ("__name__", "up".to_string()),
            ("instance", instance.clone()),
        ]));
        for ep in 0..6 {
            for status in ["200", "404", "500", "503"] {
                series.push(Labels::from_pairs([
                    ("__name__", "http_requests_total".to_string()),
                    ("instance", instance.clone()),
                    ("endpoint", format!("/e{ep}")),
                    ("status", status.to_string()),
                ]));
            }
            for le in LES {
                series.push(Labels::from_pairs([
                    ("__name__", "req_duration_bucket".to_string()),
                    ("instance", instance.clone()),
                    ("endpoint", format!("/e{ep}")),
                    ("le", le.to_string()),
                ]));
            }
        }
    }
    for l in &series {
        let is_up = l.metric_name() == Some("up");
        let is_bucket = l.metric_name() == Some("req_duration_bucket");
        let mut v = rng.u64(..100) as f64;
        let mut t = rng.u64(..30_000) as i64;
        while t < 3_600_000 {
            match rng.u64(..100) {
                // A gap, a staleness marker, a counter reset.
                0..=3 => t += 300_000,
                4..=5 => {
                    a.append(None, l, t, stale_nan()).unwrap();
                    t += 1_000;
                }
                6 if !is_bucket => v = rng.u64(..10) as f64,
                _ => {}
            }
            v += if is_up {
                0.0
            } else {
                rng.u64(..50) as f64 / 4.0
            };
            let val = if is_up {
                (rng.u64(..10) > 1) as u8 as f64
            } else {
                v
            };
            a.append(None, l, t, val).unwrap();
            t += 10_000 + rng.u64(..25_000) as i64;
        }
    }
    a.commit().unwrap();
    st
}

const QUERIES: &[&str] = &[
    "up == 0",
    r#"rate(http_requests_total{status=~"5.."}[2m])"#,
    r#"sum by (endpoint, status) (rate(http_requests_total{status=~"5.."}[5m]))"#,
    "histogram_quantile(0.95, rate(req_duration_bucket[5m]))",
    "histogram_quantile(0.95, sum by (le) (rate(req_duration_bucket[5m])))",
    "topk(5, rate(http_requests_total[5m]))",
    "avg_over_time(up[30m])",
    r#"rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left sum without(status) (rate(http_requests_total[5m]))"#,
    "increase(http_requests_total[3m])",
    "irate(http_requests_total[1m] offset 2m)",
    "delta(req_duration_bucket[4m])",
    "max_over_time(http_requests_total[10m])",
    "quantile_over_time(0.3, http_requests_total[10m])",
    "changes(up[15m]) + resets(http_requests_total[15m])",
    "deriv(http_requests_total[5m])",
    "predict_linear(http_requests_total[5m], 60)",
    "count_over_time(http_requests_total[5m] @ 1800)",
    "stddev_over_time(req_duration_bucket[10m])",
    "last_over_time(up[2m])",
    "rate(up[5m])",
];

fn engine(parallel: bool, max_samples: usize) -> Engine {
    let mut opts = EngineOptions {
        max_samples,
        ..Default::default()
    };
    if parallel {
        opts.parallelism = 4;
        opts.parallel_min_series = 1;
    } else {
        opts.parallelism = 1;
    }
    Engine::new(opts)
}

/// The result with values as bits (NaN compares equal to itself) and annotations sorted.
fn canonical(r: &QueryResult) -> String {
    let mut w = r.warnings.clone();
    w.sort();
    let mut i = r.infos.clone();
    i.sort();
    let body = match &r.value {
        Value::Matrix(m) => m
            .iter()
            .map(|s| {
                let pts: Vec<(i64, u64)> = s.samples.iter().map(|p| (p.t, p.v.to_bits())).collect();
                format!("{:?} {:?} {:?}", s.labels, pts, s.histograms)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Vector(v) => v
            .iter()
            .map(|s| format!("{:?} {} {} {:?}", s.labels, s.t_ms, s.v.to_bits(), s.h))
            .collect::<Vec<_>>()
            .join("\n"),
        other => format!("{other:?}"),
    };
    format!("{body}\nwarnings {w:?}\ninfos {i:?}")
}

#[test]
fn parallel_results_equal_single_threaded_results() {
    for seed in [1u64, 0x9e37_79b9, 42_4242] {
        let st = store(seed);
        let (one, many) = (engine(false, 50_000_000), engine(true, 50_000_000));
        for q in QUERIES {
            for (start, end, step) in [
                (600_000, 3_600_000, 15_000),
                (0, 3_600_000, 60_000),
                (1_234_567, 1_234_567, 0),
            ] {
                let run = |e: &Engine| {
                    if step == 0 {
                        e.instant_query(&st, q, start)
                    } else {
                        e.range_query(&st, q, start, end, step)
                    }
                };
                let (a, b) = (run(&one).unwrap(), run(&many).unwrap());
                assert_eq!(
                    canonical(&a),
                    canonical(&b),
                    "{q} seed {seed} range {start}..{end} step {step}"
                );
            }
        }
    }
}

#[test]
fn parallel_evaluation_honours_max_samples() {
    let st = store(7);
    for limit in [10, 500, 5_000] {
        for q in [
            "rate(http_requests_total[5m])",
            "max_over_time(req_duration_bucket[10m])",
        ] {
            let a = engine(false, limit).range_query(&st, q, 0, 3_600_000, 15_000);
            let b = engine(true, limit).range_query(&st, q, 0, 3_600_000, 15_000);
            match (a, b) {
                (Err(Error::TooManySamples(_)), Err(Error::TooManySamples(_))) => {}
                (Ok(a), Ok(b)) => assert_eq!(canonical(&a), canonical(&b), "{q} {limit}"),
                (a, b) => panic!("{q} {limit}: {a:?} vs {b:?}"),
            }
        }
    }
}

#[test]
fn parallel_evaluation_honours_cancellation() {
    let st = store(9);
    let e = engine(true, 50_000_000);
    let expr = e.parse("rate(http_requests_total[5m])").unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let err = e
        .exec(
            &st,
            &expr,
            "rate(http_requests_total[5m])",
            0,
            3_600_000,
            15_000,
            Some(&cancel),
        )
        .expect_err("canceled");
    assert!(matches!(err, Error::Canceled(_)), "{err:?}");
}

/// Range queries whose steps run in parallel blocks (every selector precomputed): the same
/// annotations in the same order, and the same sample statistics, as one thread.
#[test]
fn parallel_steps_keep_annotation_order_and_sample_counts() {
    let st = store(0x5eed);
    let (one, many) = (engine(false, 50_000_000), engine(true, 50_000_000));
    for q in [
        "histogram_quantile(0.95, rate(req_duration_bucket[5m])) + rate(up[5m])",
        "histogram_quantile(1.5, rate(req_duration_bucket[5m]))",
        "sum by (le) (rate(up[5m])) / sum by (le) (rate(req_duration_bucket[5m]))",
        r#"rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left sum without(status) (rate(http_requests_total[5m]))"#,
    ] {
        for (start, end, step) in [(600_000, 3_600_000, 15_000), (0, 180_000, 15_000)] {
            let a = one.range_query(&st, q, start, end, step).unwrap();
            let b = many.range_query(&st, q, start, end, step).unwrap();
            assert_eq!(canonical(&a), canonical(&b), "{q}");
            assert_eq!(a.warnings, b.warnings, "{q}");
            assert_eq!(a.infos, b.infos, "{q}");
            assert_eq!(
                (a.stats.total_queryable_samples, a.stats.peak_samples),
                (b.stats.total_queryable_samples, b.stats.peak_samples),
                "{q}"
            );
        }
    }
}

/// The samples limit of a range query whose steps run in parallel blocks is checked against
/// the running totals of all earlier steps, as on one thread: a limit only the later blocks'
/// steps cross fails the same way.
#[test]
fn parallel_steps_honour_max_samples_across_blocks() {
    let st = store(11);
    // Not a bare precomputed call or streamed aggregation (whose steps stay on one thread):
    // an aggregation over an expression of one.
    let q = "sum by (instance, endpoint, status) (rate(http_requests_total[5m]) * 1)";
    let total = match engine(false, 50_000_000)
        .range_query(&st, q, 0, 3_600_000, 15_000)
        .unwrap()
        .value
    {
        Value::Matrix(m) => m.iter().map(|s| s.samples.len()).sum::<usize>(),
        other => panic!("{other:?}"),
    };
    for limit in [total / 2, total * 3 / 4, total - 1, total, total + 1_000] {
        let a = engine(false, limit).range_query(&st, q, 0, 3_600_000, 15_000);
        let b = engine(true, limit).range_query(&st, q, 0, 3_600_000, 15_000);
        match (a, b) {
            (Err(Error::TooManySamples(_)), Err(Error::TooManySamples(_))) => {}
            (Ok(a), Ok(b)) => assert_eq!(canonical(&a), canonical(&b), "{limit}"),
            (a, b) => panic!("{limit}: {a:?} vs {b:?}"),
        }
    }
}

/// Aggregations over a precomputed range function are streamed (`engine/stream_agg.rs`), in
/// range and instant queries: the same series (in the same order), values (bit for bit) and
/// annotations as aggregating the function's whole output, which `... * 1` forces, on one
/// thread and on many.
#[test]
fn streamed_aggregations_equal_step_by_step_ones() {
    let st = store(0xa99);
    let (one, many) = (engine(false, 50_000_000), engine(true, 50_000_000));
    for op in [
        "sum", "avg", "count", "group", "min", "max", "stddev", "stdvar",
    ] {
        for grouping in ["", "by (instance)", "without (status)", "by (le)"] {
            for f in [
                "rate(http_requests_total[5m])",
                "max_over_time(req_duration_bucket[10m])",
                "deriv(http_requests_total[3m] offset 1m)",
            ] {
                let streamed = format!("{op} {grouping} ({f})");
                let stepped = format!("{op} {grouping} ({f} * 1)");
                // Instant queries stream them too (one step).
                for t in [1_234_567, 3_600_000] {
                    let reference = one.instant_query(&st, &stepped, t).unwrap();
                    for e in [&one, &many] {
                        let r = e.instant_query(&st, &streamed, t).unwrap();
                        assert_eq!(canonical(&r), canonical(&reference), "{streamed} at {t}");
                        assert_eq!(r.warnings, reference.warnings, "{streamed}");
                        assert_eq!(r.infos, reference.infos, "{streamed}");
                    }
                }
                for (start, end, step) in [(0, 3_600_000, 30_000)] {
                    let reference = one.range_query(&st, &stepped, start, end, step).unwrap();
                    for e in [&one, &many] {
                        let r = e.range_query(&st, &streamed, start, end, step).unwrap();
                        assert_eq!(canonical(&r), canonical(&reference), "{streamed}");
                        assert_eq!(r.warnings, reference.warnings, "{streamed}");
                        assert_eq!(r.infos, reference.infos, "{streamed}");
                        assert_eq!(
                            r.stats.total_queryable_samples,
                            reference.stats.total_queryable_samples,
                            "{streamed}"
                        );
                    }
                }
            }
        }
    }
}

/// A streamed aggregation holds a chunk of its input and the groups, not the whole input: it
/// answers under a samples limit that the step-by-step aggregation (holding the function's
/// output for every series and step, as Prometheus does) exceeds.
#[test]
fn streamed_aggregations_hold_groups_not_every_input_series() {
    let st = store(7);
    let f = r#"rate({__name__=~"http_requests_total|req_duration_bucket"}[5m])"#;
    let q = format!("sum by (instance) ({f})");
    let stepped = format!("sum by (instance) ({f} * 1)");
    let (start, end, step) = (0, 3_600_000, 15_000);
    // One chunk (256 series) at 241 steps and 12 groups at every step.
    let limit = 256 * 241 + 12 * 241;
    let outputs = match engine(false, 50_000_000)
        .range_query(&st, f, start, end, step)
        .unwrap()
        .value
    {
        Value::Matrix(m) => m.iter().map(|s| s.samples.len()).sum::<usize>(),
        other => panic!("{other:?}"),
    };
    assert!(outputs > limit, "{outputs} outputs of {f}");
    let reference = engine(false, 50_000_000)
        .range_query(&st, &stepped, start, end, step)
        .unwrap();
    let err = engine(false, limit)
        .range_query(&st, &stepped, start, end, step)
        .expect_err("the step-by-step aggregation holds every series' output");
    assert!(matches!(err, Error::TooManySamples(_)), "{err:?}");
    for parallel in [false, true] {
        let r = engine(parallel, limit)
            .range_query(&st, &q, start, end, step)
            .unwrap();
        // `x * 1` is `x` bit for bit.
        assert_eq!(canonical(&r), canonical(&reference), "parallel {parallel}");
    }
    // Still bounded: a limit below one chunk's rows is refused.
    let err = engine(false, 1_000)
        .range_query(&st, &q, start, end, step)
        .expect_err("a chunk's rows exceed the limit");
    assert!(matches!(err, Error::TooManySamples(_)), "{err:?}");
}

/// A store that hands selections over in batches of 7 series, as the TSDB hands them over in
/// batches of its head reads, and counts the batches.
struct Batched(MemStorage, std::sync::atomic::AtomicUsize);

struct BatchedQuerier<'a>(Box<dyn Querier + 'a>, &'a std::sync::atomic::AtomicUsize);

struct Sevens<'a>(
    std::vec::IntoIter<Series>,
    &'a std::sync::atomic::AtomicUsize,
);

impl Queryable for Batched {
    fn querier(
        &self,
        min_t: i64,
        max_t: i64,
    ) -> sightline_storage_api::Result<Box<dyn Querier + '_>> {
        Ok(Box::new(BatchedQuerier(
            self.0.querier(min_t, max_t)?,
            &self.1,
        )))
    }
}

impl Querier for BatchedQuerier<'_> {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        m: &[sightline_model::Matcher],
    ) -> sightline_storage_api::Result<Vec<Series>> {
        self.0.select(sorted, hints, m)
    }

    fn select_batches<'s>(
        &'s self,
        hints: Option<&SelectHints>,
        m: &[sightline_model::Matcher],
    ) -> sightline_storage_api::Result<Box<dyn SeriesBatches + 's>> {
        Ok(Box::new(Sevens(
            self.0.select(false, hints, m)?.into_iter(),
            self.1,
        )))
    }

    fn label_values(
        &self,
        name: &str,
        m: &[sightline_model::Matcher],
    ) -> sightline_storage_api::Result<Vec<String>> {
        self.0.label_values(name, m)
    }

    fn label_names(
        &self,
        m: &[sightline_model::Matcher],
    ) -> sightline_storage_api::Result<Vec<String>> {
        self.0.label_names(m)
    }
}

impl SeriesBatches for Sevens<'_> {
    fn next_batch(&mut self) -> sightline_storage_api::Result<Option<Vec<Series>>> {
        let b: Vec<Series> = self.0.by_ref().take(7).collect();
        if b.is_empty() {
            return Ok(None);
        }
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Some(b))
    }
}

/// A streamed aggregation reads its selector a storage batch at a time (each batch's
/// series released before the next is read) with the same results as from one selection;
/// an expression that does not stream the selector after all still gets all of it.
#[test]
fn streamed_aggregations_read_storage_in_batches() {
    let batched = Batched(store(0xba7c), Default::default());
    let (one, many) = (engine(false, 50_000_000), engine(true, 50_000_000));
    for q in [
        "sum by (instance) (rate(http_requests_total[5m]))",
        "histogram_quantile(0.9, sum by (le) (rate(req_duration_bucket[5m])))",
        "max without (status) (deriv(http_requests_total[3m] offset 1m)) / count(rate(up[5m]))",
        "stddev(max_over_time(req_duration_bucket[10m]))",
    ] {
        let reference = one
            .range_query(&batched.0, q, 0, 3_600_000, 30_000)
            .unwrap();
        for e in [&one, &many] {
            let before = batched.1.load(std::sync::atomic::Ordering::Relaxed);
            let r = e.range_query(&batched, q, 0, 3_600_000, 30_000).unwrap();
            assert_eq!(canonical(&r), canonical(&reference), "{q}");
            assert_eq!(r.warnings, reference.warnings, "{q}");
            assert_eq!(
                r.stats.total_queryable_samples, reference.stats.total_queryable_samples,
                "{q}"
            );
            let batches = batched.1.load(std::sync::atomic::Ordering::Relaxed) - before;
            assert!(batches > 5, "{q}: {batches} batches");
        }
    }
}
