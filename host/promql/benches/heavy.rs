//! Criterion benches of the benchmark harness' queries (`shared/bench/prom_run.py` QUERIES) at
//! 100,000 series shaped like `shared/bench/targets.py`'s targets (issue 21): 100 targets of
//! 1,000 series in the TSDB's head (`http_requests_total` by method/endpoint/status, duration buckets by `le`,
//! process gauges, padding gauges), 15 minutes of 30 s scrapes, instant at the end and a range
//! over the last 3 minutes at 15 s steps (the harness' ingest window).
//!
//! `SIGHTLINE_BENCH_PARALLELISM` sets the engine's per-query parallelism (default: the engine's).

#![allow(clippy::expect_used, clippy::unwrap_used)] // Test code: a panic is a failure report.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sightline_promql::{Engine, EngineOptions};

#[path = "support/heavy_store.rs"]
mod heavy_store;
use heavy_store::{filled_tsdb, POINTS, QUERIES, SCRAPE_MS};

fn bench(c: &mut Criterion) {
    let (_dir, st) = filled_tsdb();
    let mut opts = EngineOptions::default();
    if let Some(p) = std::env::var("SIGHTLINE_BENCH_PARALLELISM")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        set_parallelism(&mut opts, p);
    }
    let engine = Engine::new(opts);
    let end = (POINTS - 1) * SCRAPE_MS;
    let mut g = c.benchmark_group("promql_heavy");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for (name, q) in QUERIES {
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| engine.instant_query(&st, q, end).expect("query runs"));
        });
        g.bench_function(format!("range_3m_15s/{name}"), |b| {
            b.iter(|| {
                engine
                    .range_query(&st, q, end - 180_000, end, 15_000)
                    .expect("query runs")
            });
        });
    }
    g.finish();
}

/// Sets the per-query parallelism (the bench also runs on the commit before the option existed,
/// where this is a no-op).
fn set_parallelism(opts: &mut EngineOptions, p: usize) {
    opts.parallelism = p;
}

criterion_group!(benches, bench);
criterion_main!(benches);
