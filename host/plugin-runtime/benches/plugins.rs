//! Plugin runtime benches: loading a plugin from the on-disk cache, the
//! overhead of an empty exporter/receiver call (fresh instance per call), and
//! a per-series query function over 10,000 series.
//!
//! The guests are built from tests/guests by the same helper the tests use.
//! Run with `cargo bench -p sightline-plugin-runtime`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use sightline_model::{Labels, Sample};
use sightline_plugin_runtime::{AlertGroup, PluginHost, PluginHostConfig, QuerySeries, QueryValue};

#[path = "../tests/runtime/common.rs"]
#[allow(dead_code)]
mod common;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    common::install(
        dir.path(),
        "empty-exporter",
        &common::guest("empty-exporter"),
        None,
    );
    common::install(
        dir.path(),
        "empty-receiver",
        &common::guest("empty-receiver"),
        None,
    );
    common::install(dir.path(), "scale", &common::guest("scale-query"), None);
    // The first host compiles and caches every plugin; the second (and every
    // reload) loads the compiled code from the disk cache (kept apart from the
    // plugins, as the daemon keeps it under the data directory).
    let cache = tempfile::tempdir().unwrap();
    let cfg = || {
        let mut c = PluginHostConfig::new(dir.path());
        c.cache_dir = Some(cache.path().join("plugin-cache"));
        c
    };
    drop(rt.block_on(PluginHost::new(cfg())).unwrap());
    let host = rt.block_on(PluginHost::new(cfg())).unwrap();
    assert_eq!(host.loaded_from_cache("empty-exporter"), Some(true));

    c.bench_function("load_from_disk_cache/empty-exporter", |b| {
        b.iter(|| rt.block_on(host.reload("empty-exporter")).unwrap())
    });
    c.bench_function("call/empty-exporter", |b| {
        b.iter(|| rt.block_on(host.collect("empty-exporter")).unwrap())
    });
    let group = AlertGroup::default();
    let settings = BTreeMap::new();
    c.bench_function("call/empty-receiver", |b| {
        b.iter(|| {
            rt.block_on(host.notify("empty-receiver", &group, &settings))
                .unwrap()
        })
    });
    let series: Vec<QuerySeries> = (0..10_000)
        .map(|i| QuerySeries {
            labels: Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
            points: vec![Sample {
                t: 1_000,
                v: i as f64,
            }],
        })
        .collect();
    let args = [QueryValue::Vector(series), QueryValue::Scalar(2.0)];
    let mut g = c.benchmark_group("query_function");
    g.sample_size(10);
    g.bench_function("per_series_10k", |b| {
        b.iter(|| {
            rt.block_on(host.call_query_function("scale", &args, 1_000))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(plugin_benches, benches);
criterion_main!(plugin_benches);
