//! Criterion bench of a large query answer's JSON (issue 21): the matrix of a range query like
//! `rate(http_requests_total{status=~"5.."}[2m])` over `targets.py`'s targets, 30,000 series
//! of 5 labels by 13 steps of rates, and the same series as an instant vector.

#![allow(clippy::expect_used, clippy::unwrap_used)] // Test code: a panic is a failure report.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sightline_model::{Labels, Sample};
use sightline_promql::{QueryResult, RangeSeries, Value, VectorSample};

const SERIES: usize = 30_000;
const STEPS: i64 = 13;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("endpoint", format!("/api/v{}/items", i % 20)),
        ("instance", format!("target-{}.example:9100", i / 300)),
        ("job", "synthetic".to_string()),
        ("method", ["GET", "POST", "PUT"][i % 3].to_string()),
        ("status", ["500", "502", "503", "504"][i % 4].to_string()),
    ])
}

/// A rate as `rate()` gives it: increase over the window divided by its seconds.
fn value(i: usize, step: i64) -> f64 {
    ((i as i64 * 7919 + step * 104_729) % 100_000) as f64 / 120.0
}

fn result(value: Value) -> QueryResult {
    QueryResult {
        value,
        warnings: vec![],
        infos: vec![],
        stats: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let t0 = 1_765_000_000_000i64;
    let matrix = result(Value::Matrix(
        (0..SERIES)
            .map(|i| RangeSeries {
                labels: labels(i),
                samples: (0..STEPS)
                    .map(|s| Sample {
                        t: t0 + s * 15_000,
                        v: value(i, s),
                    })
                    .collect(),
                histograms: vec![],
            })
            .collect(),
    ));
    let vector = result(Value::Vector(
        (0..SERIES)
            .map(|i| VectorSample {
                labels: labels(i),
                t_ms: t0,
                v: value(i, 0),
                h: None,
            })
            .collect(),
    ));
    let mut g = c.benchmark_group("render");
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("matrix_30k_x13", |b| {
        b.iter(|| sightline_api::query_json(&matrix).len())
    });
    g.bench_function("vector_30k", |b| {
        b.iter(|| sightline_api::query_json(&vector).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
