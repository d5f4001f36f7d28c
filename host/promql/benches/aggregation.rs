//! Criterion benches of aggregation over 10,000 series (issue 21): `sum(m)` and
//! `sum by (job) (rate(m[5m]))`, with the bare selector and `rate` alone for comparison,
//! instant and 30-minute range at 60 s steps, over the in-memory store and over the TSDB's
//! head (the daemon's read path). Baselines are in BENCHMARKS.md.

#![allow(clippy::expect_used, clippy::unwrap_used)] // Test code: a panic is a failure report.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sightline_model::{Labels, SeriesRef};
use sightline_promql::{Engine, EngineOptions};
use sightline_storage_api::{Appendable, MemStorage, Queryable};
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

const SERIES: usize = 10_000;
const SCRAPE_MS: i64 = 15_000;
/// One hour of 15 s scrapes.
const POINTS: i64 = 240;

const QUERIES: &[(&str, &str)] = &[
    ("selector", "m"),
    ("rate", "rate(m[5m])"),
    ("sum", "sum(m)"),
    ("sum_by_job_rate", "sum by (job) (rate(m[5m]))"),
];

/// 10,000 counters: 100 jobs of 10 instances, 10 series an instance.
fn labels() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "m".to_string()),
                ("instance", format!("host-{}:9100", i / 10)),
                ("job", format!("job_{}", i / 100)),
                ("path", format!("/p{}", i % 10)),
            ])
        })
        .collect()
}

/// Appends the same counter data to any store, a scrape (one commit) at a time.
fn fill(st: &dyn Appendable) {
    let ls = labels();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; ls.len()];
    for p in 0..POINTS {
        let mut app = st.appender();
        for (i, l) in ls.iter().enumerate() {
            let v = (p * (1 + (i as i64 % 7))) as f64;
            refs[i] = Some(app.append(refs[i], l, p * SCRAPE_MS, v).expect("in order"));
        }
        app.commit().expect("commit bench data");
    }
}

fn run(c: &mut Criterion, store: &str, st: &dyn Queryable) {
    let engine = Engine::new(EngineOptions::default());
    let end = (POINTS - 1) * SCRAPE_MS;
    let mut g = c.benchmark_group(format!("promql_agg/{store}"));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(SERIES as u64));
    for (name, q) in QUERIES {
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| engine.instant_query(st, q, end).expect("query runs"));
        });
        g.bench_function(format!("range_30m_60s/{name}"), |b| {
            b.iter(|| {
                engine
                    .range_query(st, q, end - 1_800_000, end, 60_000)
                    .expect("query runs")
            });
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let mem = MemStorage::new();
    fill(&mem);
    run(c, "mem", &mem);
    drop(mem);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Tsdb::open(TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir.path())
    })
    .expect("open tsdb");
    fill(&db);
    run(c, "tsdb_head", &db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
