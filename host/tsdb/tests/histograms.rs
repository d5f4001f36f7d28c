//! Native-histogram samples through the public API: append rules, mixed float/histogram
//! series, stale markers, WAL replay, head chunk files and sealed partition files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sightline_model::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA,
};
use sightline_model::{is_stale_nan, stale_nan, Labels, Matcher};
use sightline_storage_api::{Appendable, Error as ApiError, Queryable};
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

fn opts(dir: &Path) -> TsdbOptions {
    TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        partition_duration: Duration::from_secs(3600),
        ..TsdbOptions::new(dir)
    }
}

fn lbl(name: &str) -> Labels {
    Labels::from_pairs([("__name__", name)])
}

/// A latency-like histogram at step `k`: schema 3, ~24 buckets, counts growing.
fn hist(k: u64) -> Histogram {
    let abs: Vec<i64> = (0..24)
        .map(|i| ((k + 1) * (i as u64 % 7 + 1)) as i64)
        .collect();
    let mut prev = 0;
    let deltas = abs
        .iter()
        .map(|a| {
            let d = a - prev;
            prev = *a;
            d
        })
        .collect();
    let count: i64 = abs.iter().sum();
    Histogram {
        schema: 3,
        zero_threshold: 1e-128,
        zero_count: k,
        count: count as u64 + k,
        sum: k as f64 * 1.5,
        positive_spans: vec![Span::new(-5, 10), Span::new(2, 14)],
        positive_buckets: deltas,
        ..Histogram::default()
    }
}

fn fhist(k: u64) -> FloatHistogram {
    let mut h = hist(k).to_float();
    h.sum += 0.25;
    h
}

fn custom(k: u64) -> Histogram {
    Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3 * k,
        sum: k as f64,
        positive_spans: vec![Span::new(0, 3)],
        positive_buckets: vec![k as i64, 0, 0],
        custom_values: Arc::from(vec![0.1, 0.5, 2.5]),
        ..Histogram::default()
    }
}

/// What a reader gets: (t, float value bits or histogram).
#[derive(Debug, PartialEq)]
enum Got {
    F(i64, u64),
    H(i64, FloatHistogram),
}

fn read(db: &dyn Queryable, name: &str) -> Vec<Got> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = Vec::new();
    for mut s in q
        .select(true, None, &[Matcher::equal("__name__", name)])
        .unwrap()
    {
        while let Some(x) = s.samples.next_sample() {
            match s.samples.histogram() {
                Some(h) => {
                    let mut h = (**h).clone();
                    h.counter_reset_hint = CounterResetHint::Unknown;
                    out.push(Got::H(x.t, h));
                }
                None => out.push(Got::F(x.t, x.v.to_bits())),
            }
        }
    }
    out
}

fn norm(mut h: FloatHistogram) -> FloatHistogram {
    h.counter_reset_hint = CounterResetHint::Unknown;
    h
}

/// Appends the reference workload and returns what a reader must get back.
fn write_workload(db: &Tsdb) -> Vec<(&'static str, Vec<Got>)> {
    let mut want_i = Vec::new();
    let mut want_f = Vec::new();
    let mut want_c = Vec::new();
    let mut want_m = Vec::new();
    // 3 hours at 15 s: several partitions, many chunks.
    for k in 0..720u64 {
        let t = k as i64 * 15_000;
        let mut a = db.appender();
        a.append_histogram(None, &lbl("hi"), t, &hist(k)).unwrap();
        want_i.push(Got::H(t, norm(hist(k).to_float())));
        a.append_float_histogram(None, &lbl("hf"), t, &fhist(k))
            .unwrap();
        want_f.push(Got::H(t, norm(fhist(k))));
        a.append_histogram(None, &lbl("hc"), t, &custom(k)).unwrap();
        want_c.push(Got::H(t, norm(custom(k).to_float())));
        // Mixed: floats for 100 steps, histograms for 100, and so on.
        if (k / 100) % 2 == 0 {
            a.append(None, &lbl("mixed"), t, k as f64).unwrap();
            want_m.push(Got::F(t, (k as f64).to_bits()));
        } else {
            a.append_histogram(None, &lbl("mixed"), t, &hist(k))
                .unwrap();
            want_m.push(Got::H(t, norm(hist(k).to_float())));
        }
        a.commit().unwrap();
    }
    // A float stale marker after a histogram becomes a stale histogram and reads as a float
    // stale marker.
    let t = 720 * 15_000;
    let mut a = db.appender();
    a.append(None, &lbl("hi"), t, stale_nan()).unwrap();
    a.commit().unwrap();
    want_i.push(Got::F(t, stale_nan().to_bits()));
    vec![
        ("hi", want_i),
        ("hf", want_f),
        ("hc", want_c),
        ("mixed", want_m),
    ]
}

fn check(db: &dyn Queryable, want: &[(&'static str, Vec<Got>)], what: &str) {
    for (name, w) in want {
        let got = read(db, name);
        assert_eq!(got.len(), w.len(), "{what}: {name} sample count");
        for (i, (g, w)) in got.iter().zip(w).enumerate() {
            assert_eq!(g, w, "{what}: {name} sample {i}");
        }
    }
}

#[test]
fn histograms_round_trip_through_head_wal_head_chunk_files_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let want = {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        let want = write_workload(&db);
        check(&db, &want, "head");
        let q = db.querier(0, i64::MAX).unwrap();
        let s = q
            .select(true, None, &[Matcher::equal("__name__", "hi")])
            .unwrap();
        assert!(s[0].samples.has_histograms());
        drop(s);
        drop(q);
        // Dropped without close or flush: the reopen replays the WAL.
        drop(db);
        want
    };
    let db = Tsdb::open(opts(dir.path())).unwrap();
    check(&db, &want, "after WAL replay");
    // Maintenance appends full chunks to head chunk files, checkpoints and seals partitions.
    db.run_maintenance_once().unwrap();
    check(&db, &want, "after maintenance");
    db.close().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    check(
        &db,
        &want,
        "after checkpoint, head chunk files and partition files",
    );
    assert!(
        std::fs::read_dir(dir.path().join("parts")).unwrap().count() > 0,
        "some partition was sealed"
    );
}

#[test]
fn histogram_append_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let l = lbl("h");
    let mut a = db.appender();
    a.append(None, &l, 1000, 1.0).unwrap();
    a.commit().unwrap();
    let mut a = db.appender();
    // A histogram at the time of a float is a duplicate; an older one is out of order.
    assert!(matches!(
        a.append_histogram(None, &l, 1000, &hist(1)),
        Err(ApiError::DuplicateSampleForTimestamp)
    ));
    assert!(matches!(
        a.append_histogram(None, &l, 500, &hist(1)),
        Err(ApiError::OutOfOrderSample)
    ));
    a.append_histogram(None, &l, 2000, &hist(1)).unwrap();
    a.commit().unwrap();
    let mut a = db.appender();
    // The same histogram again is accepted and ignored; another one or a float is a duplicate.
    a.append_histogram(None, &l, 2000, &hist(1)).unwrap();
    assert!(matches!(
        a.append_histogram(None, &l, 2000, &hist(2)),
        Err(ApiError::DuplicateSampleForTimestamp)
    ));
    assert!(matches!(
        a.append(None, &l, 2000, 1.0),
        Err(ApiError::DuplicateSampleForTimestamp)
    ));
    // Spans and buckets that disagree are refused.
    let mut bad = hist(3);
    bad.positive_buckets.pop();
    assert!(a.append_histogram(None, &l, 3000, &bad).is_err());
    a.rollback().unwrap();
    let mut a = db.appender();
    a.append(None, &l, 3000, stale_nan()).unwrap();
    a.commit().unwrap();
    // The repeated stale marker is identical.
    let mut a = db.appender();
    a.append(None, &l, 3000, stale_nan()).unwrap();
    a.commit().unwrap();
    let got = read(&db, "h");
    assert_eq!(got.len(), 3);
    assert!(matches!(&got[2], Got::F(3000, b) if is_stale_nan(f64::from_bits(*b))));
}

#[test]
fn deleting_histogram_samples_rewrites_their_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    for k in 0..300u64 {
        let mut a = db.appender();
        a.append_histogram(None, &lbl("h"), k as i64 * 15_000, &hist(k))
            .unwrap();
        a.commit().unwrap();
    }
    db.run_maintenance_once().unwrap();
    db.delete_series(
        &[Matcher::equal("__name__", "h")],
        Some(0),
        Some(15_000 * 99),
    )
    .unwrap();
    db.clean_tombstones().unwrap();
    let got = read(&db, "h");
    assert_eq!(got.len(), 200);
    assert_eq!(got[0], Got::H(15_000 * 100, norm(hist(100).to_float())));
}

#[test]
fn compaction_and_retention_keep_histogram_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    // 30 hours at 1 min of a histogram series and a mixed one.
    let mut want = Vec::new();
    let mut want_m = Vec::new();
    for k in 0..1800u64 {
        let t = k as i64 * 60_000;
        let mut a = db.appender();
        a.append_histogram(None, &lbl("h"), t, &hist(k)).unwrap();
        want.push(Got::H(t, norm(hist(k).to_float())));
        if k % 2 == 0 {
            a.append(None, &lbl("m"), t, k as f64).unwrap();
            want_m.push(Got::F(t, (k as f64).to_bits()));
        } else {
            a.append_float_histogram(None, &lbl("m"), t, &fhist(k))
                .unwrap();
            want_m.push(Got::H(t, norm(fhist(k))));
        }
        a.commit().unwrap();
        if k % 300 == 299 {
            db.run_maintenance_once().unwrap();
        }
    }
    for _ in 0..3 {
        db.run_maintenance_once().unwrap();
    }
    let parts = db.metrics().partitions;
    check(
        &db,
        &[("h", want), ("m", want_m)],
        "after sealing and compaction",
    );
    assert!(
        (2..29).contains(&parts),
        "{parts} partitions: some were compacted"
    );
    db.close().unwrap();
    // Retention drops whole old partitions (compaction made them up to 27 h long); what is
    // left reads the same.
    let db = Tsdb::open(TsdbOptions {
        retention_time: Duration::from_secs(2 * 3600),
        ..opts(dir.path())
    })
    .unwrap();
    db.run_maintenance_once().unwrap();
    let got = read(&db, "h");
    assert!(
        got.len() < 1800 && got.len() >= 120,
        "{} samples left",
        got.len()
    );
    let first = 1800 - got.len() as u64;
    for (i, g) in got.iter().enumerate() {
        let k = first + i as u64;
        assert_eq!(g, &Got::H(k as i64 * 60_000, norm(hist(k).to_float())));
    }
}

/// With an out-of-order window, late floats are still accepted; late histograms are not
/// (no out-of-order native histograms, as Prometheus without that feature).
#[test]
fn out_of_order_window_takes_floats_not_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        out_of_order_window: Duration::from_secs(3600),
        ..opts(dir.path())
    })
    .unwrap();
    let mut a = db.appender();
    a.append_histogram(None, &lbl("h"), 600_000, &hist(1))
        .unwrap();
    a.append(None, &lbl("f"), 600_000, 1.0).unwrap();
    a.commit().unwrap();
    let mut a = db.appender();
    assert!(matches!(
        a.append_histogram(None, &lbl("h"), 300_000, &hist(0)),
        Err(ApiError::OutOfOrderSample)
    ));
    a.append(None, &lbl("f"), 300_000, 0.5).unwrap();
    a.commit().unwrap();
    assert_eq!(read(&db, "h").len(), 1);
    assert_eq!(
        read(&db, "f"),
        vec![
            Got::F(300_000, 0.5f64.to_bits()),
            Got::F(600_000, 1.0f64.to_bits())
        ]
    );
}
