//! Criterion benches of the read path's hot loops (issue 21): postings resolution and
//! intersection on a million-series head, label building, a querier's `select`, and
//! iterating and seeking float chunks as a query does. Baselines are in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use sightline_model::{Labels, MatchOp, Matcher, Sample, SeriesRef};
use sightline_storage_api::{Appendable, Queryable};
use sightline_tsdb::{bench_support, FsyncPolicy, Tsdb, TsdbOptions};

/// Series of the head: 10,000 instances of 100 series each; 100 jobs of 100 instances,
/// 1,000 metric names (each exposed by a tenth of the instances), 2 environments.
const SERIES: usize = 1_000_000;

fn head_labels(i: usize) -> Labels {
    let inst = i / 100;
    Labels::from_pairs([
        (
            "__name__",
            format!("metric_{}", i % 100 + 100 * (inst % 10)),
        ),
        (
            "env",
            if inst.is_multiple_of(2) {
                "prod"
            } else {
                "dev"
            }
            .to_string(),
        ),
        ("instance", format!("host-{inst}:9100")),
        ("job", format!("job_{}", inst % 100)),
    ])
}

/// The process's resident set size (Linux), 0 when unknown.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

fn quick(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
}

fn bench_postings(c: &mut Criterion) {
    // Built on first use, so a filter that skips these groups does not pay for it.
    let head_cell = OnceCell::new();
    let head = || {
        head_cell.get_or_init(|| {
            let mut h = bench_support::BenchHead::new((0..SERIES).map(head_labels));
            let built = h.postings_bytes();
            let rss_built = rss_kib();
            h.trim_postings();
            eprintln!(
                "read_postings fixture: {SERIES} series; postings {:.1} B/series as built, \
                 {:.1} B/series trimmed; VmRSS {} KiB built, {} KiB trimmed",
                built as f64 / SERIES as f64,
                h.postings_bytes() as f64 / SERIES as f64,
                rss_built,
                rss_kib()
            );
            h
        })
    };
    use MatchOp::{Equal as Eq, NotEqual as Ne, RegexMatch as Re, RegexNoMatch as Nre};
    // metric_301 lives on instances with inst % 10 == 3; job_3 and job_13 hold some of them.
    let cases: Vec<(&str, Vec<Matcher>)> = vec![
        ("eq_name_1k", vec![m(Eq, "__name__", "metric_301")]),
        (
            "name_1k_x_job_10k",
            vec![m(Eq, "__name__", "metric_301"), m(Eq, "job", "job_3")],
        ),
        (
            "job_10k_x_instance_100",
            vec![m(Eq, "job", "job_3"), m(Eq, "instance", "host-103:9100")],
        ),
        (
            "name_x_job_x_instance",
            vec![
                m(Eq, "__name__", "metric_301"),
                m(Eq, "job", "job_3"),
                m(Eq, "instance", "host-103:9100"),
            ],
        ),
        (
            "name_x_job_x_instance_x_env_500k",
            vec![
                m(Eq, "__name__", "metric_301"),
                m(Eq, "job", "job_3"),
                m(Eq, "instance", "host-103:9100"),
                m(Eq, "env", "dev"),
            ],
        ),
        (
            "job_10k_x_env_500k",
            vec![m(Eq, "job", "job_3"), m(Eq, "env", "dev")],
        ),
        (
            "name_x_job_ne",
            vec![m(Eq, "__name__", "metric_301"), m(Ne, "job", "job_3")],
        ),
        (
            "re_set_job_3_values",
            vec![
                m(Eq, "__name__", "metric_301"),
                m(Re, "job", "job_3|job_13|job_23"),
            ],
        ),
        (
            "re_prefix_name_111_values",
            vec![m(Re, "__name__", "metric_3.*"), m(Eq, "job", "job_3")],
        ),
        (
            "re_scan_instance_10k_values",
            vec![m(Eq, "job", "job_3"), m(Re, "instance", ".*-1[0-9]3:.*")],
        ),
        // Session 13: negative regexes, `.+`, an empty-value matcher and a lone negative
        // matcher (subtracted from every series).
        (
            "name_x_instance_re_ne_prefix",
            vec![
                m(Eq, "__name__", "metric_301"),
                m(Nre, "instance", "host-1.*"),
            ],
        ),
        (
            "name_x_job_dot_plus_100_values",
            vec![m(Eq, "__name__", "metric_301"), m(Re, "job", ".+")],
        ),
        (
            "name_x_missing_label_empty",
            vec![m(Eq, "__name__", "metric_301"), m(Eq, "pod", "")],
        ),
        ("env_ne_alone_1m", vec![m(Ne, "env", "prod")]),
        (
            "re_set_alone_3_values",
            vec![m(Re, "job", "job_3|job_13|job_23")],
        ),
    ];
    let mut g = c.benchmark_group("read_postings");
    quick(&mut g);
    for (name, ms) in &cases {
        g.bench_function(*name, |b| {
            let head = head();
            b.iter(|| head.select(ms))
        });
    }
    g.finish();

    // One regex tested against the 10,000 `instance` values, with the plain compiled regex
    // and with the postings code's fast paths (literal checks before the regex).
    let mut g = c.benchmark_group("read_regex");
    quick(&mut g);
    let values: Vec<String> = (0..10_000).map(|i| format!("host-{i}:9100")).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    g.throughput(Throughput::Elements(values.len() as u64));
    for (name, pat) in [
        ("contains", ".*-1[0-9]3:.*"),
        ("prefix", "host-1.*"),
        ("suffix", ".*3:9100"),
        ("set", "host-1:9100|host-2:9100|host-3:9100"),
        ("opaque", "host-[0-9]+3:9100"),
    ] {
        let mt = m(MatchOp::RegexMatch, "instance", pat);
        g.bench_function(format!("{name}_analyse"), |b| {
            b.iter(|| bench_support::regex_analyse(&mt))
        });
        for fast in [false, true] {
            let label = if fast { "fast" } else { "plain" };
            g.bench_function(format!("{name}_{label}_10k"), |b| {
                b.iter(|| bench_support::regex_count(&mt, &values, fast))
            });
        }
    }
    g.finish();

    // Label building from the head's interned form, per series a `select` returns.
    let mut g = c.benchmark_group("read_labels");
    quick(&mut g);
    for n in [10_000u64, 100_000] {
        let ids: Vec<u64> = (1..=n).collect();
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("labels_for_{}k", n / 1000), |b| {
            let head = head();
            b.iter(|| head.labels_for(&ids))
        });
    }
    g.finish();
}

/// A querier's `select` over a head of `n` series with 10 samples each, with a matcher
/// every series satisfies, without iterating samples.
fn bench_select(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_select");
    quick(&mut g);
    for n in [10_000usize, 100_000] {
        let cell = OnceCell::new();
        let db = || cell.get_or_init(|| select_fixture(n));
        let all = [m(MatchOp::Equal, "__name__", "bench_metric")];
        g.throughput(Throughput::Elements(n as u64));
        for sorted in [false, true] {
            let name = if sorted {
                "select_all_sorted"
            } else {
                "select_all"
            };
            g.bench_function(format!("{name}_{}k", n / 1000), |b| {
                let q = db().1.querier(0, 150_000).unwrap();
                b.iter(|| q.select(sorted, None, &all).unwrap())
            });
        }
    }
    g.finish();
}

/// A TSDB (and its directory) whose head holds `n` series of 10 samples each.
fn select_fixture(n: usize) -> (tempfile::TempDir, Tsdb) {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir.path())
    })
    .unwrap();
    let ls: Vec<Labels> = (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "bench_metric".to_string()),
                ("instance", format!("host-{}:9100", i / 100)),
                ("job", format!("job_{}", i % 100)),
                ("series", i.to_string()),
            ])
        })
        .collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; n];
    for k in 0..10i64 {
        let mut a = db.appender();
        for (i, l) in ls.iter().enumerate() {
            refs[i] = Some(a.append(refs[i], l, k * 15_000, (k * 10) as f64).unwrap());
        }
        a.commit().unwrap();
    }
    let all = [m(MatchOp::Equal, "__name__", "bench_metric")];
    let got = db
        .querier(0, 150_000)
        .unwrap()
        .select(false, None, &all)
        .unwrap();
    assert_eq!(got.len(), n);
    (dir, db)
}

/// One series of 720 samples (3 h at 15 s, 6 chunks of 120), iterated and sought through
/// the query's sample iterator, in head (XOR) and persisted (smaller of XOR and decimal)
/// encodings.
fn bench_chunk_iter(c: &mut Criterion) {
    const N: i64 = 720;
    let t0 = 1_700_000_000_000i64;
    let counter: Vec<Sample> = (0..N)
        .map(|i| Sample {
            t: t0 + i * 15_000,
            v: (i as f64 * 1.5).floor(),
        })
        .collect();
    // A gauge with noisy low bits: stays XOR when persisted.
    let gauge: Vec<Sample> = (0..N)
        .map(|i| Sample {
            t: t0 + i * 15_000 + (i * 7919 % 13),
            v: 0.5 + ((i * 2_654_435_761) % 1000) as f64 / 997.0,
        })
        .collect();
    // A range query's steps: every 60 s across the series.
    let steps: Vec<i64> = (0..N / 4).map(|k| t0 + k * 60_000).collect();
    let mut g = c.benchmark_group("read_chunk");
    quick(&mut g);
    g.throughput(Throughput::Elements(N as u64));
    type Chunks = Vec<(i64, i64, Arc<[u8]>)>;
    let sets: [(&str, Chunks); 4] = [
        ("head_counter", bench_support::encode_head_chunks(&counter)),
        (
            "persisted_counter",
            bench_support::encode_persisted_chunks(&counter),
        ),
        ("head_gauge", bench_support::encode_head_chunks(&gauge)),
        (
            "persisted_gauge",
            bench_support::encode_persisted_chunks(&gauge),
        ),
    ];
    for (name, chunks) in &sets {
        let bytes: usize = chunks.iter().map(|c| c.2.len()).sum();
        println!(
            "read_chunk/{name}: {} chunks, {bytes} bytes ({:.2} bytes/sample)",
            chunks.len(),
            bytes as f64 / N as f64
        );
        assert_eq!(bench_support::iterate_series(chunks), N as usize);
        g.bench_function(format!("iterate_720/{name}"), |b| {
            b.iter(|| bench_support::iterate_series(chunks))
        });
        g.bench_function(format!("seek_180_steps/{name}"), |b| {
            b.iter(|| bench_support::seek_series(chunks, &steps))
        });
        g.bench_function(format!("seek_last_hour/{name}"), |b| {
            b.iter(|| bench_support::seek_series(chunks, &[t0 + 2 * 3_600_000]))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_chunk_iter, bench_select, bench_postings);
criterion_main!(benches);
