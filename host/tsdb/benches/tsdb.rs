//! Criterion benches of the TSDB hot paths: append, chunk encode/decode, postings
//! intersection, reading selected series, WAL replay.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sightline_model::{Labels, Matcher, Sample, SeriesRef};
use sightline_storage_api::{Appendable, Queryable, Series};
use sightline_tsdb::{bench_support, FsyncPolicy, Tsdb, TsdbOptions};

fn series(n: usize) -> Vec<Labels> {
    (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("metric_{}", i % 50)),
                ("instance", format!("host-{}:9100", i % 100)),
                ("job", "node".to_string()),
                ("i", i.to_string()),
            ])
        })
        .collect()
}

fn opts(dir: &std::path::Path) -> TsdbOptions {
    TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir)
    }
}

fn bench_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let ls = series(10_000);
    let mut refs: Vec<Option<SeriesRef>> = vec![None; ls.len()];
    let mut t = 0i64;
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(ls.len() as u64));
    g.sample_size(20);
    g.bench_function("10k_series_commit_with_refs", |b| {
        b.iter(|| {
            t += 15_000;
            let mut a = db.appender();
            for (i, l) in ls.iter().enumerate() {
                refs[i] = Some(
                    a.append(refs[i], l, t, (t / 1000) as f64 + i as f64)
                        .unwrap(),
                );
            }
            a.commit().unwrap();
        })
    });
    g.finish();
}

fn bench_chunks(c: &mut Criterion) {
    let samples: Vec<Sample> = (0..120)
        .map(|i| Sample {
            t: 1_700_000_000_000 + i * 15_000,
            v: (i as f64 * 1.5).floor(),
        })
        .collect();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Elements(120));
    g.bench_function("encode_120", |b| {
        b.iter(|| bench_support::encode_chunks(&samples))
    });
    let size = |what: &str, c: &[u8]| {
        println!(
            "{what}: {} bytes ({:.2} bytes/sample)",
            c.len(),
            c.len() as f64 / 120.0
        );
    };
    let chunk = bench_support::encode_chunks(&samples).remove(0);
    size("XOR chunk, 120 counter-like samples", &chunk);
    g.bench_function("decode_120", |b| {
        b.iter(|| bench_support::decode_chunk(&chunk))
    });
    // What persisting a finished chunk costs: XOR and decimal encodings, keep the smaller.
    g.bench_function("encode_best_120", |b| {
        b.iter(|| bench_support::encode_best(&samples))
    });
    let best = bench_support::encode_best(&samples);
    size("persisted chunk, same samples", &best);
    g.bench_function("decode_decimal_120", |b| {
        b.iter(|| bench_support::decode_chunk(&best))
    });
    g.finish();
}

fn bench_postings(c: &mut Criterion) {
    let a: Vec<u64> = (0..1_000_000).step_by(3).collect();
    let b: Vec<u64> = (0..1_000_000).step_by(7).collect();
    let small: Vec<u64> = (0..1_000_000).step_by(10_007).collect();
    let mut g = c.benchmark_group("postings");
    g.bench_function("intersect_333k_x_143k", |bn| {
        bn.iter(|| bench_support::intersect(&a, &b))
    });
    g.bench_function("intersect_100_x_333k", |bn| {
        bn.iter(|| bench_support::intersect(&small, &a))
    });
    g.finish();
}

/// Reading the samples of selected series: one `next_sample` call per sample (how every
/// reader read before session 21), against `next_until` (the engine's float reads since).
/// 1,000 counters × 480 samples at 15 s (two hours, four head chunks each); selecting
/// is the setup, only the reading is timed.
fn bench_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let ls: Vec<Labels> = (0..1_000)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "requests_total".to_string()),
                ("instance", format!("host-{}:9100", i % 100)),
                ("i", i.to_string()),
            ])
        })
        .collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; ls.len()];
    for k in 0..480i64 {
        let mut a = db.appender();
        for (i, l) in ls.iter().enumerate() {
            let v = (k * (i as i64 % 7 + 1)) as f64;
            refs[i] = Some(a.append(refs[i], l, k * 15_000, v).unwrap());
        }
        a.commit().unwrap();
    }
    let select = || -> Vec<Series> {
        let q = db.querier(0, i64::MAX).unwrap();
        q.select(false, None, &[Matcher::equal("__name__", "requests_total")])
            .unwrap()
    };
    assert_eq!(select().len(), 1_000);
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(1_000 * 480));
    for (name, by_sample) in [
        ("1k_series_x_480_by_sample", true),
        ("1k_series_x_480_next_until", false),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                select,
                |mut all| {
                    assert_eq!(read_all(&mut all, by_sample), 480_000);
                    all
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Reads every sample of `all` into one reused buffer, by `next_sample` or by `next_until`;
/// the number read.
fn read_all(all: &mut [Series], by_sample: bool) -> usize {
    let mut out: Vec<Sample> = Vec::with_capacity(480);
    let mut n = 0;
    for s in all {
        out.clear();
        if by_sample {
            while let Some(p) = s.samples.next_sample() {
                out.push(p);
            }
        } else {
            s.samples.next_until(i64::MAX, &mut out, false);
        }
        n += out.len();
    }
    n
}

fn bench_replay(c: &mut Criterion) {
    let ls = series(10_000);
    let mut g = c.benchmark_group("wal_replay");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements((ls.len() * 60) as u64));
    g.bench_function("10k_series_x_60_samples", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                {
                    let db = Tsdb::open(opts(dir.path())).unwrap();
                    let mut refs: Vec<Option<SeriesRef>> = vec![None; ls.len()];
                    for k in 0..60 {
                        let mut a = db.appender();
                        for (i, l) in ls.iter().enumerate() {
                            refs[i] = Some(a.append(refs[i], l, k * 15_000, k as f64).unwrap());
                        }
                        a.commit().unwrap();
                    }
                }
                dir
            },
            |dir| {
                let db = Tsdb::open(opts(dir.path())).unwrap();
                assert_eq!(db.open_report().wal_samples, 600_000);
                (db, dir)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Native-histogram chunks (Prometheus' encoding): append 120 samples of a latency
/// histogram into chunks, and read them back as float histograms.
fn bench_histogram_chunks(c: &mut Criterion) {
    let samples = bench_support::latency_histograms(120, 42);
    let mut g = c.benchmark_group("histogram_chunk");
    g.throughput(Throughput::Elements(120));
    g.bench_function("encode_120", |b| {
        b.iter(|| bench_support::append_histograms(&samples))
    });
    let chunks = bench_support::encode_histograms(&samples);
    let bytes: usize = chunks.iter().map(|c| c.len() - 1).sum();
    println!(
        "histogram chunks, 120 samples of schema 3 with 32 buckets: {} chunk(s), {bytes} bytes \
         ({:.2} bytes/sample, Prometheus' chunk bytes)",
        chunks.len(),
        bytes as f64 / 120.0
    );
    g.bench_function("decode_120", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|c| bench_support::decode_any_chunk(c))
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_append,
    bench_chunks,
    bench_histogram_chunks,
    bench_postings,
    bench_read,
    bench_replay
);
criterion_main!(benches);
