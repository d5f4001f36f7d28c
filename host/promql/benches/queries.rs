//! Criterion benches for the seed's dashboard queries (`shared/bench/prom_run.py` QUERIES)
//! over a 10,000-series in-memory store: instant at the end and a 1h range at 60s steps.

#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use sightline_promql::{Engine, EngineOptions};

#[path = "support/seed_store.rs"]
mod seed_store;
use seed_store::{build_store, POINTS, QUERIES, SCRAPE_MS};

fn bench(c: &mut Criterion) {
    let st = build_store();
    let engine = Engine::new(EngineOptions::default());
    let end = (POINTS - 1) * SCRAPE_MS;
    let mut g = c.benchmark_group("promql");
    g.sample_size(10);
    for (i, q) in QUERIES.iter().enumerate() {
        g.bench_function(format!("instant/q{i}"), |b| {
            b.iter(|| engine.instant_query(&st, q, end).expect("query runs"));
        });
        g.bench_function(format!("range/q{i}"), |b| {
            b.iter(|| {
                engine
                    .range_query(&st, q, end - 3_600_000 + 1_800_000, end, 60_000)
                    .expect("query runs")
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
