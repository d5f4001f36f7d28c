//! Integration tests of the TSDB through its public API and the storage-api traits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::Path;
use std::time::Duration;

use sightline_model::{stale_nan, Labels, MatchOp, Matcher, Sample, STALE_NAN_BITS};
use sightline_storage_api::{Appendable, Error as ApiError, MemStorage, Queryable};
use sightline_tsdb::{FsyncPolicy, ImportSample, Tsdb, TsdbOptions};

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn opts(dir: &Path) -> TsdbOptions {
    TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir)
    }
}

/// Series with their samples as (timestamp, value bits).
type Dump = Vec<(Labels, Vec<(i64, u64)>)>;

/// All samples of every series matching `ms`, as (labels, samples) sorted by labels.
fn dump(q: &dyn Queryable, ms: &[Matcher], min_t: i64, max_t: i64) -> Dump {
    let q = q.querier(min_t, max_t).unwrap();
    q.select(true, None, ms)
        .unwrap()
        .into_iter()
        .map(|mut s| {
            (
                s.labels.clone(),
                s.samples
                    .collect_all()
                    .into_iter()
                    .map(|x| (x.t, x.v.to_bits()))
                    .collect(),
            )
        })
        .collect()
}

fn name_re(v: &str) -> Matcher {
    Matcher::new(MatchOp::RegexMatch, "__name__", v).unwrap()
}

/// Writes `n_series` × `n_samples` at a 15 s interval starting at `t0`, one commit per step.
fn ingest(db: &dyn Appendable, n_series: usize, n_samples: i64, t0: i64) {
    let labels: Vec<Labels> = (0..n_series)
        .map(|i| {
            l(&[
                ("__name__", "m"),
                ("i", &i.to_string()),
                ("mod", &(i % 3).to_string()),
            ])
        })
        .collect();
    let mut refs = vec![None; n_series];
    for k in 0..n_samples {
        let mut a = db.appender();
        for (i, lb) in labels.iter().enumerate() {
            let r = a
                .append(refs[i], lb, t0 + k * 15_000, (k * 10 + i as i64) as f64)
                .unwrap();
            refs[i] = Some(r);
        }
        a.commit().unwrap();
    }
}

#[test]
fn append_query_roundtrip_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let up = l(&[("__name__", "up"), ("job", "a")]);
    let mut a = db.appender();
    let r = a.append(None, &up, 1000, 1.0).unwrap();
    assert_eq!(a.append(Some(r), &up, 2000, stale_nan()).unwrap(), r);
    assert!(
        dump(&db, &[name_re("up")], 0, 10_000).is_empty(),
        "invisible before commit"
    );
    a.commit().unwrap();
    let got = dump(&db, &[name_re("up")], 0, 10_000);
    assert_eq!(
        got,
        vec![(
            up.clone(),
            vec![(1000, 1f64.to_bits()), (2000, STALE_NAN_BITS)]
        )]
    );

    let mut a = db.appender();
    assert!(matches!(
        a.append(Some(r), &up, 500, 1.0),
        Err(ApiError::OutOfOrderSample)
    ));
    assert!(matches!(
        a.append(Some(r), &up, 2000, 3.0),
        Err(ApiError::DuplicateSampleForTimestamp)
    ));
    assert!(
        a.append(Some(r), &up, 2000, stale_nan()).is_ok(),
        "identical sample accepted silently"
    );
    // A stale reference falls back to labels.
    assert_eq!(
        a.append(Some(sightline_model::SeriesRef(999_999)), &up, 3000, 4.0)
            .unwrap(),
        r
    );
    assert!(matches!(
        a.append(None, &Labels::empty(), 3000, 4.0),
        Err(ApiError::InvalidSeries(_))
    ));
    a.rollback().unwrap();
    assert_eq!(
        dump(&db, &[name_re("up")], 0, 10_000)[0].1.len(),
        2,
        "rollback discards"
    );
    let m = db.metrics();
    assert_eq!(
        (
            m.samples_appended_total,
            m.out_of_order_samples_total,
            m.duplicate_samples_total
        ),
        (2, 1, 1)
    );

    let q = db.querier(0, 10_000).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "job"]);
    assert_eq!(q.label_values("job", &[]).unwrap(), vec!["a"]);
    assert_eq!(
        q.label_values("job", &[Matcher::equal("__name__", "nope")])
            .unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn out_of_order_window() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        out_of_order_window: Duration::from_secs(60),
        ..opts(dir.path())
    })
    .unwrap();
    let s = l(&[("__name__", "x")]);
    let mut a = db.appender();
    a.append(None, &s, 100_000, 1.0).unwrap();
    a.commit().unwrap();
    let mut a = db.appender();
    a.append(None, &s, 50_000, 2.0).unwrap();
    assert!(matches!(
        a.append(None, &s, 30_000, 3.0),
        Err(ApiError::OutOfOrderSample)
    ));
    a.commit().unwrap();
    let got = dump(&db, &[name_re("x")], 0, 200_000);
    assert_eq!(
        got[0].1.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![50_000, 100_000]
    );
    assert_eq!(db.metrics().out_of_order_samples_accepted_total, 1);
    db.flush().unwrap();
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let got = dump(&db, &[name_re("x")], 0, 200_000);
    assert_eq!(
        got[0].1.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![50_000, 100_000]
    );
}

/// The same data in MemStorage and the TSDB (head plus persisted partitions) must give the
/// same answers for every matcher set in the table.
#[test]
fn matchers_agree_with_mem_storage() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let mem = MemStorage::new();
    let series = [
        l(&[("__name__", "up"), ("job", "api"), ("instance", "a:1")]),
        l(&[("__name__", "up"), ("job", "db"), ("instance", "b:1")]),
        l(&[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("code", "200"),
        ]),
        l(&[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("code", "500"),
        ]),
        l(&[
            ("__name__", "http_requests_total"),
            ("job", "web"),
            ("code", "404"),
        ]),
        l(&[("__name__", "foobar"), ("job", "api2")]),
        l(&[
            ("__name__", "node_cpu_seconds_total"),
            ("cpu", "0"),
            ("mode", "idle"),
        ]),
    ];
    for store in [&db as &dyn Appendable, &mem] {
        for k in 0..300i64 {
            let mut a = store.appender();
            for (i, s) in series.iter().enumerate() {
                a.append(None, s, k * 60_000, (k + i as i64) as f64)
                    .unwrap();
            }
            a.commit().unwrap();
        }
    }
    // Push part of the data into sled so both paths are exercised.
    db.run_maintenance_once().unwrap();
    let table: &[&[(MatchOp, &str, &str)]] = &[
        &[(MatchOp::Equal, "__name__", "up")],
        &[(MatchOp::RegexMatch, "job", "api|db")],
        &[(MatchOp::RegexMatch, "job", "api.*")],
        &[
            (MatchOp::RegexMatch, "__name__", ".+"),
            (MatchOp::Equal, "code", ""),
        ],
        &[
            (MatchOp::RegexMatch, "__name__", ".*_total"),
            (MatchOp::RegexNoMatch, "code", "5.."),
        ],
        &[
            (MatchOp::RegexMatch, "__name__", "http.*"),
            (MatchOp::NotEqual, "job", "api"),
        ],
        &[
            (MatchOp::RegexMatch, "job", ".+"),
            (MatchOp::RegexNoMatch, "job", "api|web"),
        ],
        &[(MatchOp::Equal, "__name__", "missing")],
    ];
    for case in table {
        let ms: Vec<Matcher> = case
            .iter()
            .map(|(op, n, v)| Matcher::new(*op, *n, *v).unwrap())
            .collect();
        for (lo, hi) in [
            (0, 300 * 60_000),
            (3_600_000, 9_000_000),
            (i64::MIN, i64::MAX),
        ] {
            assert_eq!(
                dump(&db, &ms, lo, hi),
                dump(&mem, &ms, lo, hi),
                "matchers {ms:?} range {lo}..{hi}"
            );
        }
    }
    assert!(db.metrics().chunks_persisted_total > 0);
}

#[test]
fn wal_replay_after_drop_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        ingest(&db, 20, 300, 1_000_000);
        let d = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
        assert_eq!(d.len(), 20);
        d
    };
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert!(db.open_report().wal_samples >= 6000);
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), before);
    // Appending continues in order after replay, and a checkpoint plus reopen keeps it all.
    let mut a = db.appender();
    let last_t = 1_000_000 + 299 * 15_000;
    assert!(matches!(
        a.append(None, &before[0].0, last_t, 5.0),
        Err(ApiError::DuplicateSampleForTimestamp)
    ));
    assert!(matches!(
        a.append(None, &before[0].0, 1_000_000, 0.0),
        Err(ApiError::OutOfOrderSample)
    ));
    a.rollback().unwrap();
    db.flush().unwrap();
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert_eq!(db.open_report().wal_samples, 0, "flush truncated the WAL");
    assert_eq!(db.open_report().checkpoint_series, 20);
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), before);
    // A second checkpoint only rewrites series state (labels are already stored); the
    // result must still reopen completely.
    ingest(&db, 20, 10, 1_000_000 + 300 * 15_000);
    db.flush().unwrap();
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let after = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert_eq!(after.len(), 20);
    assert!(after.iter().all(|(_, s)| s.len() == 310));
    assert_eq!(after[0].1[..300], before[0].1[..]);
}

#[test]
fn torn_wal_tail_opens_and_keeps_prefix() {
    let mut rng = fastrand::Rng::with_seed(42);
    let dir = tempfile::tempdir().unwrap();
    let s = l(&[("__name__", "torn")]);
    {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        for k in 0..500 {
            let mut a = db.appender();
            a.append(None, &s, k * 1000, k as f64).unwrap();
            a.commit().unwrap();
        }
    }
    let wal = dir.path().join("wal");
    let seg = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .max()
        .unwrap();
    let full = std::fs::read(&seg).unwrap();
    for _ in 0..10 {
        let cut = rng.usize(0..full.len());
        let copy = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(copy.path().join("wal")).unwrap();
        std::fs::write(copy.path().join("wal").join("00000001"), &full[..cut]).unwrap();
        let db = Tsdb::open(opts(copy.path())).unwrap();
        let got = dump(&db, &[name_re("torn")], i64::MIN, i64::MAX);
        let n = got.first().map_or(0, |g| g.1.len());
        // Each commit is one samples record (plus the first series record): whatever
        // precedes the tear survives, in order, with exact values.
        for (k, (t, v)) in got
            .first()
            .map(|g| g.1.clone())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            assert_eq!((t, v), (k as i64 * 1000, (k as f64).to_bits()));
        }
        assert!(n <= 500);
        if cut == full.len() {
            assert_eq!(n, 500);
        }
        // Every record fully before the cut is kept: records are ~20 bytes, so at least
        // (cut - series record) / 30 samples remain.
        assert!(n as f64 >= (cut as f64 - 60.0) / 30.0, "cut {cut} kept {n}");
        let rep = db.open_report();
        if cut != full.len() && n < 500 && !rep.corruptions.is_empty() {
            assert!(
                rep.corruptions[0].contains("segment 1"),
                "{:?}",
                rep.corruptions
            );
        }
    }
}

#[test]
fn persistence_checkpoint_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let o = TsdbOptions {
        checkpoint_interval: Duration::ZERO,
        ..opts(dir.path())
    };
    let before;
    {
        let db = Tsdb::open(o.clone()).unwrap();
        // 2000 samples per series at 15 s span several 2 h partitions.
        ingest(&db, 10, 2000, 0);
        let rep = db.run_maintenance_once().unwrap();
        assert!(rep.checkpointed);
        assert!(rep.chunks_persisted > 0);
        let st = db.stats(10);
        // 8.3 h of data: the three 2 h partitions the head is at least an hour past are
        // sealed into files and compacted into one 6 h partition; the rest is head.
        assert_eq!(
            st.partitions.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            vec![(0, 6 * 3_600_000)]
        );
        assert!(db.metrics().head_seals_total >= 3);
        assert_eq!(st.head.num_series, 10);
        assert_eq!(st.series_count_by_metric_name, vec![("m".to_string(), 10)]);
        before = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
        assert_eq!(before[0].1.len(), 2000);
        ingest(&db, 10, 1, 2000 * 15_000);
    }
    let db = Tsdb::open(o).unwrap();
    let after = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert_eq!(after[0].1.len(), 2001);
    assert_eq!(after[0].1[..2000], before[0].1[..]);
    // Range queries cut at the edges, and seek skips.
    let q = db.querier(15_000 * 100, 15_000 * 200).unwrap();
    let mut res = q.select(false, None, &[Matcher::equal("i", "3")]).unwrap();
    assert_eq!(res.len(), 1);
    let s = res[0].samples.seek(15_000 * 150).unwrap();
    assert_eq!(
        s,
        Sample {
            t: 15_000 * 150,
            v: (150 * 10 + 3) as f64
        }
    );
    assert_eq!(res[0].samples.collect_all().len(), 50);
}

#[test]
fn retention_drops_old_partitions_and_bounds_disk() {
    let dir = tempfile::tempdir().unwrap();
    let o = TsdbOptions {
        retention_time: Duration::from_secs(6 * 3600),
        checkpoint_interval: Duration::ZERO,
        partition_duration: Duration::from_secs(3600),
        ..opts(dir.path())
    };
    let db = Tsdb::open(o).unwrap();
    let labels: Vec<Labels> = (0..50)
        .map(|i| l(&[("__name__", "r"), ("i", &i.to_string())]))
        .collect();
    let mut sizes = Vec::new();
    let step = 30_000;
    let mut t = 0i64;
    for hour in 0..36 {
        for _ in 0..(3_600_000 / step) {
            let mut a = db.appender();
            for (i, lb) in labels.iter().enumerate() {
                a.append(None, lb, t, (t / step + i as i64) as f64).unwrap();
            }
            a.commit().unwrap();
            t += step;
        }
        db.run_maintenance_once().unwrap();
        let st = db.stats(10);
        let oldest = st.partitions.first().map_or(i64::MAX, |p| p.0);
        assert!(
            oldest >= t - 8 * 3_600_000,
            "hour {hour}: oldest partition starts at {oldest}, now {t}"
        );
        if hour >= 12 {
            sizes.push(sightline_tsdb_dir_size(dir.path()));
        }
    }
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut res = q.select(false, None, &[Matcher::equal("i", "0")]).unwrap();
    let first = res[0].samples.next_sample().unwrap();
    assert!(
        first.t >= t - 8 * 3_600_000,
        "old samples are gone: first at {}",
        first.t
    );
    assert!(db.metrics().time_retentions_total > 0);
    // Disk usage stays bounded: the last measurement is not much above the first one in
    // the steady state.
    let (lo, hi) = (sizes[0], *sizes.iter().max().unwrap());
    assert!(
        hi < lo * 3 + (4 << 20),
        "disk grew from {lo} to {hi}: {sizes:?}"
    );
}

fn sightline_tsdb_dir_size(p: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            sightline_tsdb_dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

#[test]
fn size_retention_drops_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let o = TsdbOptions {
        retention_size: Some(100_000),
        checkpoint_interval: Duration::ZERO,
        partition_duration: Duration::from_secs(3600),
        ..opts(dir.path())
    };
    let db = Tsdb::open(o).unwrap();
    for h in 0..12 {
        ingest(&db, 100, 240, h * 3_600_000);
        db.run_maintenance_once().unwrap();
    }
    let st = db.stats(10);
    let total: u64 = st.partitions.iter().map(|p| p.2).sum();
    // The limit covers partitions, WAL and head chunk files, as Prometheus counts blocks,
    // WAL and chunks_head.
    let m = db.metrics();
    assert!(
        total + m.wal_bytes + m.head_chunk_file_bytes <= 100_000,
        "{total} {m:?}"
    );
    assert!(db.metrics().size_retentions_total > 0);
    // What is left is the newest data.
    assert!(st.partitions.first().unwrap().0 > 0);
}

#[test]
fn delete_clean_tombstones_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        checkpoint_interval: Duration::ZERO,
        ..opts(dir.path())
    })
    .unwrap();
    ingest(&db, 6, 1000, 0);
    db.run_maintenance_once().unwrap();
    let del = [Matcher::equal("mod", "1")];
    db.delete_series(&del, Some(0), Some(15_000 * 499)).unwrap();
    assert!(db.delete_series(&[], None, None).is_err());
    let check = |db: &Tsdb| {
        for (labels, samples) in dump(db, &[name_re("m")], i64::MIN, i64::MAX) {
            let n = if labels.get("mod") == Some("1") {
                500
            } else {
                1000
            };
            assert_eq!(samples.len(), n, "{labels}");
        }
    };
    check(&db);
    drop(db);
    // The tombstone survives a crash (it is in the WAL and in sled).
    let db = Tsdb::open(opts(dir.path())).unwrap();
    check(&db);
    db.clean_tombstones().unwrap();
    check(&db);
    let name = db.snapshot(false).unwrap();
    assert!(
        name.len() > 20 && name.contains('T') && name.contains('-'),
        "{name}"
    );
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    check(&db);
    let snap = Tsdb::open(opts(&dir.path().join("snapshots").join(&name))).unwrap();
    check(&snap);
}

#[test]
fn import_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let sample = |i: i64| ImportSample {
        labels: l(&[("__name__", "imp"), ("k", &(i % 5).to_string())]),
        t: i * 60_000,
        v: i as f64,
    };
    // A failing source: nothing becomes visible.
    let mut failing = (0..1000).map(|i| {
        if i == 900 {
            Err(sightline_tsdb::Error::Parse {
                line: 901,
                message: "bad".into(),
            })
        } else {
            Ok(sample(i))
        }
    });
    let err = db.import(&mut failing, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("line 901"), "{err}");
    assert!(dump(&db, &[name_re("imp")], i64::MIN, i64::MAX).is_empty());
    assert!(db.stats(10).partitions.is_empty());
    // A good source spanning many hours.
    let mut calls = 0;
    let mut good = (0..1000).map(|i| Ok(sample(i)));
    let st = db.import(&mut good, &mut |_| calls += 1).unwrap();
    assert_eq!((st.samples, st.series), (1000, 5));
    assert!(st.partitions >= 8);
    assert!(calls >= 1);
    let got = dump(&db, &[name_re("imp")], i64::MIN, i64::MAX);
    assert_eq!(got.len(), 5);
    // Series k="2" holds samples 2, 7, 12, 17, ...
    assert_eq!(got[2].1[3], (17 * 60_000, 17f64.to_bits()));
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    // Compaction merges the imported 2 h partitions; data stays the same.
    let before = dump(&db, &[name_re("imp")], i64::MIN, i64::MAX);
    for _ in 0..5 {
        db.run_maintenance_once().unwrap();
    }
    assert!(db.metrics().compactions_total > 0);
    assert_eq!(dump(&db, &[name_re("imp")], i64::MIN, i64::MAX), before);
}

/// Footprint on a mixed workload (a third each constant gauges, counters, slowly moving
/// gauges), 15 s interval, with exact or jittered (0-2 ms) scrape timestamps: persisted bytes
/// per sample and head bytes per series. Prints the numbers.
fn footprint(jitter: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        checkpoint_interval: Duration::ZERO,
        ..opts(dir.path())
    })
    .unwrap();
    let n = 900usize;
    let labels: Vec<Labels> = (0..n)
        .map(|i| {
            l(&[
                ("__name__", &format!("metric_{}", i % 30)),
                ("instance", &format!("host-{}:9100", i % 10)),
                ("job", "node"),
                ("series", &i.to_string()),
            ])
        })
        .collect();
    let mut rng = fastrand::Rng::with_seed(1);
    let mut values = vec![100f64; n];
    let mut refs = vec![None; n];
    let steps = 7_200_000 / 15_000;
    // Three hours: the first partition is sealed once the head is an hour past it.
    for k in 0..=steps * 3 / 2 {
        let t = k * 15_000 + if jitter { rng.i64(0..3) } else { 0 };
        let mut a = db.appender();
        for i in 0..n {
            match i % 3 {
                0 => {}
                1 => values[i] += rng.u32(0..20) as f64,
                _ => values[i] += (rng.i32(-2..=2) as f64) * 0.5,
            }
            refs[i] = Some(a.append(refs[i], &labels[i], t, values[i]).unwrap());
        }
        a.commit().unwrap();
    }
    db.run_maintenance_once().unwrap();
    let st = db.stats(10);
    let first = st
        .partitions
        .iter()
        .find(|p| p.0 == 0)
        .expect("first partition persisted");
    let per_sample = first.2 as f64 / (n as i64 * steps) as f64;
    let per_series = st.head_bytes as f64 / n as f64;
    println!(
        "jitter={jitter}: persisted bytes/sample (chunks, series, postings, keys): {per_sample:.3}"
    );
    println!("jitter={jitter}: head bytes/series after persistence: {per_series:.0}");
    (per_sample, per_series)
}

#[test]
fn disk_and_memory_footprint() {
    let (aligned, mem) = footprint(false);
    let (jittered, _) = footprint(true);
    // Measured budget on this workload (see the printed numbers in the report).
    assert!(aligned < 1.6, "{aligned}");
    assert!(jittered < 3.5, "{jittered}");
    assert!(mem < 1_000.0, "{mem}");
}

#[test]
fn import_openmetrics_file_then_query() {
    let dir = tempfile::tempdir().unwrap();
    let mut om = String::from("# HELP temp A temperature.\n# TYPE temp gauge\n");
    // Six hours at one minute, two series; OpenMetrics timestamps are seconds.
    // OpenMetrics keeps each series' samples together.
    for k in 0..360 {
        let t = 1_700_000_000 + k * 60;
        om.push_str(&format!("temp{{room=\"a\"}} {} {t}\n", k as f64 / 4.0));
    }
    for k in 0..360 {
        let t = 1_700_000_000 + k * 60;
        om.push_str(&format!("temp{{room=\"b\"}} {} {t}.5\n", -(k as f64)));
    }
    om.push_str("# EOF\n");
    let input = dir.path().join("in.om");
    std::fs::write(&input, &om).unwrap();
    let data = dir.path().join("data");
    let mut last = sightline_tsdb::ImportProgress::default();
    let st = sightline_tsdb::import_openmetrics(&input, &data, &mut |p| last = p).unwrap();
    assert_eq!((st.samples, st.series), (720, 2));
    assert_eq!(last.samples, 720);
    assert!(last.bytes_read > 0);
    let db = Tsdb::open(opts(&data)).unwrap();
    let got = dump(&db, &[Matcher::equal("room", "b")], i64::MIN, i64::MAX);
    assert_eq!(got[0].0, l(&[("__name__", "temp"), ("room", "b")]));
    assert_eq!(got[0].1.len(), 360);
    assert_eq!(
        got[0].1[100],
        (1_700_000_000_000 + 100 * 60_000 + 500, (-100f64).to_bits())
    );
    drop(db);

    // Bad input: the error names the line and nothing is written.
    let cases = [
        ("# TYPE x gauge\nx 1 100\nx 2\n# EOF\n", "line 3"),
        ("# TYPE x gauge\nx 1 100\nx{a=} 2 200\n# EOF\n", "line 3"),
        ("# TYPE x gauge\nx 1 100\n", "line"),
    ];
    for (text, want) in cases {
        let bad = dir.path().join("bad.om");
        std::fs::write(&bad, text).unwrap();
        let data = dir.path().join(format!("bad-{}", fastrand::u32(..)));
        let err = sightline_tsdb::import_openmetrics(&bad, &data, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains(want), "{text:?}: {err}");
        let db = Tsdb::open(opts(&data)).unwrap();
        assert!(
            db.stats(1).partitions.is_empty(),
            "{text:?} left data behind"
        );
    }
}

#[test]
fn corrupt_checkpoint_is_reported_and_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        ingest(&db, 50, 20, 0);
        db.flush().unwrap();
    }
    let ckpt = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("checkpoint.")
        })
        .expect("flush wrote a checkpoint");
    let mut data = std::fs::read(&ckpt).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(&ckpt, &data).unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let rep = db.open_report();
    assert_eq!(rep.corruptions.len(), 1, "{:?}", rep.corruptions);
    assert!(
        rep.corruptions[0].contains("checkpoint") && rep.corruptions[0].contains("byte"),
        "{:?}",
        rep.corruptions
    );
    let got = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert!(
        !got.is_empty() && got.len() < 50,
        "series before the damage survive: {}",
        got.len()
    );
    assert!(got.iter().all(|(_, s)| s.len() == 20));
    // The store keeps working.
    ingest(&db, 5, 1, 20 * 15_000);
}

/// Eighteen hours at 15 s, so that compaction writes sealed partitions (chunk files).
fn sealed_store(dir: &Path) -> (Tsdb, Dump) {
    let db = Tsdb::open(TsdbOptions {
        checkpoint_interval: Duration::ZERO,
        ..opts(dir)
    })
    .unwrap();
    ingest(&db, 30, 18 * 240, 0);
    for _ in 0..4 {
        db.run_maintenance_once().unwrap();
    }
    let all = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert_eq!(all.len(), 30);
    assert!(all.iter().all(|(_, s)| s.len() == 18 * 240));
    (db, all)
}

fn chunk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("parts"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

#[test]
fn sealed_partitions_live_in_chunk_files() {
    let dir = tempfile::tempdir().unwrap();
    let (db, all) = sealed_store(dir.path());
    let files = chunk_files(dir.path());
    assert!(!files.is_empty(), "compaction wrote no chunk file");
    assert!(db.metrics().compactions_total > 0);
    // The same samples, bit for bit, across a reopen; queries inside one partition and
    // across partition edges cut the same way as before.
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), all);
    let (a, b) = (5 * 3_600_000 + 7, 13 * 3_600_000 - 3);
    let cut: Vec<_> = all
        .iter()
        .map(|(l, s)| {
            let s: Vec<_> = s.iter().copied().filter(|x| x.0 >= a && x.0 <= b).collect();
            (l.clone(), s)
        })
        .collect();
    assert_eq!(dump(&db, &[name_re("m")], a, b), cut);
    // A leftover file of an interrupted compaction is removed on open.
    let stray = dir.path().join("parts").join("00000000000fffff");
    std::fs::write(&stray, b"SLCHUNK1 half written").unwrap();
    std::fs::write(dir.path().join("parts").join("00000000000ffffe.tmp"), b"x").unwrap();
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert_eq!(chunk_files(dir.path()), files);
    // Tombstones in sealed partitions: the partition is rewritten without them.
    let del = [Matcher::equal("mod", "2")];
    db.delete_series(&del, Some(3_600_000), Some(10 * 3_600_000))
        .unwrap();
    db.clean_tombstones().unwrap();
    for (labels, s) in dump(&db, &[name_re("m")], i64::MIN, i64::MAX) {
        let want: Vec<_> = all
            .iter()
            .find(|(l, _)| *l == labels)
            .unwrap()
            .1
            .iter()
            .copied()
            .filter(|x| labels.get("mod") != Some("2") || x.0 < 3_600_000 || x.0 > 10 * 3_600_000)
            .collect();
        assert_eq!(s, want, "{labels}");
    }
    // A snapshot links the chunk files and opens on its own.
    let after = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    let name = db.snapshot(true).unwrap();
    let snap_dir = dir.path().join("snapshots").join(&name);
    assert!(!chunk_files(&snap_dir).is_empty());
    drop(db);
    let snap = Tsdb::open(opts(&snap_dir)).unwrap();
    let got = dump(&snap, &[name_re("m")], i64::MIN, i64::MAX);
    let persisted: Vec<_> = after
        .iter()
        .map(|(l, s)| {
            let max = got.iter().find(|(g, _)| g == l).map_or(0, |g| g.1.len());
            (l.clone(), s[..max].to_vec())
        })
        .collect();
    assert_eq!(
        got, persisted,
        "the snapshot holds a prefix of every series"
    );
    assert!(got
        .iter()
        .all(|(_, s)| s.last().is_some_and(|x| x.0 >= 12 * 3_600_000)));
}

#[test]
fn damaged_chunk_files_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (db, all) = sealed_store(dir.path());
    drop(db);
    let files = chunk_files(dir.path());
    // Flip bytes a third into the first file (chunk data): the damaged chunks are left
    // out, the rest reads, nothing panics.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 3;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&files[0], &bytes).unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let got = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    let (n_all, n_got): (usize, usize) = (
        all.iter().map(|s| s.1.len()).sum(),
        got.iter().map(|s| s.1.len()).sum(),
    );
    assert!(n_got < n_all && n_got > n_all / 2, "{n_got} of {n_all}");
    for (l, s) in &got {
        let whole = &all.iter().find(|(a, _)| a == l).unwrap().1;
        assert!(
            s.iter().all(|x| whole.contains(x)),
            "only true samples come back"
        );
    }
    drop(db);
    // A damaged footer or index table: the partition is reported and dropped at open.
    let mut bytes = std::fs::read(&files[1]).unwrap();
    let end = bytes.len() - 30;
    bytes[end] ^= 1;
    std::fs::write(&files[1], &bytes).unwrap();
    // A missing file: the same.
    std::fs::remove_file(&files[0]).unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert!(
        db.open_report()
            .corruptions
            .iter()
            .filter(|c| c.contains("dropped"))
            .count()
            == 2,
        "{:?}",
        db.open_report().corruptions
    );
    let got = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert!(!got.is_empty());
    ingest(&db, 5, 1, 18 * 240 * 15_000);
}

#[test]
fn one_series_twice_in_a_batch_is_ordered_at_commit() {
    // As in Prometheus: `append` checks against committed data; a later sample of the same
    // series in the same batch that is older or a conflicting duplicate is counted and
    // dropped when the batch is applied, and the WAL replays to the same result.
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let s = l(&[("__name__", "m")]);
    let mut a = db.appender();
    for (t, v) in [
        (10_000, 1.0),
        (5_000, 2.0),
        (10_000, 3.0),
        (10_000, 1.0),
        (20_000, 4.0),
    ] {
        a.append(None, &s, t, v).unwrap();
    }
    a.commit().unwrap();
    let want = vec![(
        s.clone(),
        vec![(10_000, 1f64.to_bits()), (20_000, 4f64.to_bits())],
    )];
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), want);
    let m = db.metrics();
    assert_eq!(m.out_of_order_samples_total, 1);
    assert_eq!(m.duplicate_samples_total, 1);
    assert_eq!(m.samples_appended_total, 2);
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), want);
}

#[test]
fn commits_may_block_only_with_fsync_always() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions::new(dir.path())).unwrap();
    assert!(
        !db.commit_may_block(),
        "the default interval policy fsyncs at most once a second"
    );
    drop(db);
    let db = Tsdb::open(TsdbOptions {
        wal_fsync: FsyncPolicy::Always,
        ..TsdbOptions::new(dir.path())
    })
    .unwrap();
    assert!(db.commit_may_block());
}

#[test]
fn a_complete_head_partition_becomes_a_file() {
    // Five hours at 15 s: the first 2 h partition is complete once the head is past 4 h,
    // and is sealed into a file without waiting for its 6 h compaction window.
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        checkpoint_interval: Duration::ZERO,
        ..opts(dir.path())
    })
    .unwrap();
    ingest(&db, 20, 5 * 240, 0);
    db.run_maintenance_once().unwrap();
    assert_eq!(chunk_files(dir.path()).len(), 1);
    let all = dump(&db, &[name_re("m")], i64::MIN, i64::MAX);
    assert!(all.iter().all(|(_, s)| s.len() == 5 * 240));
    drop(db);
    let db = Tsdb::open(opts(dir.path())).unwrap();
    assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX), all);
}

/// A data directory in use is refused with an error naming the lock, after a bounded wait;
/// once the holder is gone it opens at once (in-process reopening waits out sled's
/// late release of its file).
#[test]
fn a_directory_in_use_is_refused_then_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    ingest(&db, 5, 10, 1_000_000);
    let started = std::time::Instant::now();
    let err = Tsdb::open(opts(dir.path())).map(|_| ()).unwrap_err();
    let waited = started.elapsed();
    assert!(err.to_string().contains("lock"), "{err}");
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    drop(db);
    for _ in 0..5 {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        assert_eq!(dump(&db, &[name_re("m")], i64::MIN, i64::MAX).len(), 5);
    }
}
