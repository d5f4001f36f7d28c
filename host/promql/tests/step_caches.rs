//! What the heavy queries reuse across steps (session 16, issue 21): vector matching's
//! signatures and result label sets cached per label set, classic-histogram buckets grouped
//! with room reserved from the previous group and coalesced in place, and the duplicate
//! check of an instant answer over hashes. A range query must give, at every step, exactly
//! what the instant query at that step gives, and the errors must still be raised.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions, Error, Value};
use sightline_storage_api::{Appendable, MemStorage};

mod common;
use common::{assert_steps_match, random_counter};

/// Counters by instance and status and classic histograms by instance, with gaps, staleness
/// markers and resets, so series come and go between steps.
fn store(seed: u64) -> MemStorage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let st = MemStorage::new();
    let mut a = st.appender();
    let mut series = Vec::new();
    for inst in 0..12 {
        for status in ["200", "500", "503"] {
            series.push(Labels::from_pairs([
                ("__name__", "http_requests_total".to_string()),
                ("instance", format!("i{inst}")),
                ("status", status.to_string()),
            ]));
        }
        // `1` and `1.0` are the same bound: the quantile adds their counts.
        for le in ["0.1", "0.5", "1", "1.0", "5", "+Inf"] {
            series.push(Labels::from_pairs([
                ("__name__", "latency_bucket".to_string()),
                ("instance", format!("i{inst}")),
                ("le", le.to_string()),
            ]));
        }
    }
    for l in &series {
        for (t, v) in random_counter(&mut rng) {
            a.append(None, l, t, v).unwrap();
        }
    }
    a.commit().unwrap();
    st
}

#[test]
fn joins_match_instant_queries_at_every_step() {
    let st = store(16);
    let engine = Engine::new(EngineOptions::default());
    for q in [
        "rate(http_requests_total{status=~\"5..\"}[2m]) / ignoring(status) group_left \
         sum without(status) (rate(http_requests_total[2m]))",
        "sum without(status) (rate(http_requests_total[2m])) / ignoring(status) group_right \
         rate(http_requests_total{status=~\"5..\"}[2m])",
        "rate(http_requests_total{status=\"500\"}[2m]) + on(instance) \
         rate(http_requests_total{status=\"200\"}[2m])",
        "http_requests_total > bool on(instance, status) (http_requests_total offset 1m)",
    ] {
        assert_steps_match(&engine, &st, q);
    }
}

/// `rate` and `increase` over streamed series skip the reset scan of a window that starts
/// after the series' newest reset (session 22): with resets, stale markers and gaps at random
/// and windows from shorter than a scrape to longer than the step, every step still gives
/// exactly what the instant query gives.
#[test]
fn rates_match_instant_queries_at_every_step() {
    for seed in [22, 23, 24] {
        let st = store(seed);
        let engine = Engine::new(EngineOptions::default());
        for q in [
            "rate(http_requests_total[10s])",
            "rate(http_requests_total[1m])",
            "increase(http_requests_total[2m])",
            "rate(http_requests_total[5m])",
            "sum by (status) (rate(http_requests_total[3m]))",
            "increase(latency_bucket[10m])",
            "delta(latency_bucket[4m])",
        ] {
            assert_steps_match(&engine, &st, q);
        }
    }
}

#[test]
fn histogram_quantiles_match_instant_queries_at_every_step() {
    let st = store(17);
    let engine = Engine::new(EngineOptions::default());
    for q in [
        "histogram_quantile(0.95, rate(latency_bucket[2m]))",
        "histogram_quantile(0.5, sum by (le) (rate(latency_bucket[2m])))",
        "histogram_quantile(0.9, latency_bucket)",
    ] {
        assert_steps_match(&engine, &st, q);
    }
}

/// The `1` and `1.0` buckets are added together before the quantile is taken.
#[test]
fn buckets_with_the_same_bound_are_added() {
    let st = MemStorage::new();
    let mut a = st.appender();
    for (le, v) in [("1", 4.0), ("1.0", 6.0), ("2", 20.0), ("+Inf", 20.0)] {
        let l = Labels::from_pairs([("__name__", "h_bucket".to_string()), ("le", le.to_string())]);
        a.append(None, &l, 10_000, v).unwrap();
    }
    a.commit().unwrap();
    let engine = Engine::new(EngineOptions::default());
    let res = engine
        .instant_query(&st, "histogram_quantile(0.5, h_bucket)", 10_000)
        .unwrap();
    let Value::Vector(v) = res.value else {
        panic!("not a vector");
    };
    // 10 of 20 at or below 1: the median is the bound of the coalesced bucket.
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].v, 1.0);
}

/// The uniqueness checks still fire when the label sets come from the caches: a many-to-one
/// match whose results coincide, and an instant answer whose label sets coincide.
#[test]
fn matching_and_duplicate_errors_are_still_raised() {
    let st = MemStorage::new();
    let mut a = st.appender();
    for (name, x) in [
        ("a_total", "1"),
        ("a_total", "2"),
        ("b_total", "1"),
        ("c_total", "9"),
    ] {
        for status in ["200", "500"] {
            let l = Labels::from_pairs([
                ("__name__", name.to_string()),
                ("instance", "i0".to_string()),
                ("status", status.to_string()),
                ("x", x.to_string()),
            ]);
            for i in 0..100 {
                a.append(None, &l, i * 15_000, i as f64).unwrap();
            }
        }
    }
    a.commit().unwrap();
    let engine = Engine::new(EngineOptions::default());
    // Both `a_total` series of a status get `x` from `c_total`: the same result twice.
    let q = "a_total{status=\"500\"} / ignoring(status, x) group_left(x) c_total{status=\"200\"}";
    for run in [
        engine.range_query(&st, q, 300_000, 1_200_000, 15_000),
        engine.instant_query(&st, q, 900_000),
    ] {
        match run {
            Err(Error::Execution(m)) => assert!(m.contains("multiple matches"), "{m}"),
            other => panic!("expected a matching error, got {other:?}"),
        }
    }
    // `a_total` and `b_total` with the same labels are the same series once the name is
    // dropped: the instant answer holds a label set twice.
    let dup = "rate({__name__=~\"a_total|b_total\", x=\"1\"}[5m])";
    match engine.instant_query(&st, dup, 900_000) {
        Err(Error::Execution(m)) => assert!(m.contains("same labelset"), "{m}"),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    // Distinct label sets pass.
    let ok = engine
        .instant_query(&st, "rate(a_total[5m])", 900_000)
        .unwrap();
    assert!(matches!(ok.value, Value::Vector(v) if v.len() == 4));
}

/// An instant query's subquery evaluates its inner call at several steps, reusing the bucket
/// cache between them: its result is the range query's.
#[test]
fn subquery_over_quantiles_matches_the_range_query() {
    let st = store(19);
    let engine = Engine::new(EngineOptions::default());
    let inner = "histogram_quantile(0.9, rate(latency_bucket[2m]))";
    let t = 900_000;
    let res = engine
        .instant_query(&st, &format!("max_over_time(({inner})[5m:30s])"), t)
        .unwrap();
    let Value::Vector(v) = res.value else {
        panic!("not a vector");
    };
    // The subquery's steps: multiples of 30 s in (t - 5m, t].
    let range = engine
        .range_query(&st, inner, t - 300_000 + 30_000, t, 30_000)
        .unwrap();
    let Value::Matrix(m) = range.value else {
        panic!("not a matrix");
    };
    let mut want: Vec<(String, u64)> = m
        .iter()
        .filter(|s| s.samples.iter().any(|p| !p.v.is_nan()))
        .map(|s| {
            let max = s
                .samples
                .iter()
                .map(|p| p.v)
                .filter(|v| !v.is_nan())
                .fold(f64::NEG_INFINITY, f64::max);
            (s.labels.to_string(), max.to_bits())
        })
        .collect();
    want.sort();
    let mut got: Vec<(String, u64)> = v
        .iter()
        .map(|s| (s.labels.to_string(), s.v.to_bits()))
        .collect();
    got.sort();
    assert!(!got.is_empty());
    assert_eq!(got, want);
}
