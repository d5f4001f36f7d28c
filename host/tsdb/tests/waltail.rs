//! The WAL tail reader the remote-write queues use, and the WAL hold that keeps the segments
//! they still need.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use sightline_model::Labels;
use sightline_storage_api::Appendable;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions, WalPosition, WalRecord, WalTail};

fn opts(dir: &Path) -> TsdbOptions {
    TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        // Small segments, so a few commits span several.
        wal_segment_bytes: 4096,
        ..TsdbOptions::new(dir)
    }
}

/// Commits `n` steps of `series` series at 1 s, from `t0`; values are unique per sample.
fn ingest(db: &Tsdb, series: usize, t0: i64, n: i64) {
    for k in 0..n {
        let mut a = db.appender();
        for i in 0..series {
            let l = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
            a.append(None, &l, t0 + k * 1000, (t0 + k * 1000) as f64 + i as f64)
                .unwrap();
        }
        a.commit().unwrap();
    }
}

/// Everything a tail reads from where it stands: (labels of series, samples by series name).
fn drain(tail: &mut WalTail, names: &mut HashMap<u64, Labels>) -> Vec<(String, i64, f64)> {
    let mut out = Vec::new();
    loop {
        let mut samples = Vec::new();
        let p = tail
            .read(1000, |rec, _| match rec {
                WalRecord::Series(v) => names.extend(v),
                WalRecord::Samples(v) => samples.extend(v),
                WalRecord::Histograms(_) => {}
            })
            .unwrap();
        for (id, t, v) in samples {
            let l = names
                .get(&id)
                .expect("a series record precedes its samples");
            out.push((l.get("i").unwrap().to_string(), t, v));
        }
        if p.records == 0 {
            return out;
        }
    }
}

#[test]
fn a_tail_sees_every_committed_sample_once_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let mut tail = WalTail::open(dir.path(), None).unwrap();
    let mut names = HashMap::new();
    ingest(&db, 20, 0, 50);
    let got = drain(&mut tail, &mut names);
    assert_eq!(got.len(), 20 * 50);
    // Nothing more until more is committed, then exactly the new samples.
    assert!(drain(&mut tail, &mut names).is_empty());
    ingest(&db, 20, 100_000, 3);
    let got = drain(&mut tail, &mut names);
    assert_eq!(got.len(), 60);
    assert!(got.iter().all(|&(_, t, _)| t >= 100_000));
    assert!(tail.position().segment > 1, "small segments rotated");
}

#[test]
fn a_tail_resumes_from_a_saved_position_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = HashMap::new();
    let saved: WalPosition;
    {
        let db = Tsdb::open(opts(dir.path())).unwrap();
        let mut tail = WalTail::open(dir.path(), None).unwrap();
        ingest(&db, 5, 0, 10);
        assert_eq!(drain(&mut tail, &mut names).len(), 50);
        saved = tail.position();
        ingest(&db, 5, 10_000, 10);
        // Dropped without flush: as a kill -9 would leave it.
    }
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let mut tail = WalTail::open(dir.path(), Some(saved)).unwrap();
    let mut names = HashMap::new();
    tail.load_series(|id, l| {
        names.insert(id, l);
    })
    .unwrap();
    ingest(&db, 5, 20_000, 1);
    let got = drain(&mut tail, &mut names);
    assert_eq!(got.len(), 55, "the 50 after the position and the new 5");
    assert!(got.iter().all(|&(_, t, _)| t >= 10_000));
}

#[test]
fn the_hold_keeps_unread_segments_through_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let start = WalTail::open(dir.path(), None).unwrap().position();
    db.set_wal_hold(Some(start.segment));
    ingest(&db, 20, 0, 40);
    db.flush().unwrap(); // checkpoints and truncates the WAL
    let mut tail = WalTail::open(dir.path(), Some(start)).unwrap();
    let mut names = HashMap::new();
    tail.load_series(|id, l| {
        names.insert(id, l);
    })
    .unwrap();
    let got = drain(&mut tail, &mut names);
    assert_eq!(got.len(), 800, "nothing lost to the checkpoint");

    // Without a hold the same checkpoint deletes them, and the reader says so.
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(opts(dir.path())).unwrap();
    let start = WalTail::open(dir.path(), None).unwrap().position();
    ingest(&db, 20, 0, 40);
    db.flush().unwrap();
    let mut tail = WalTail::open(dir.path(), Some(start)).unwrap();
    let p = tail.read(1 << 20, |_, _| {}).unwrap();
    assert!(p.segments_lost > 0, "{p:?}");
}

#[test]
fn the_hold_gives_way_past_its_age_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        wal_hold_max_age: Duration::ZERO,
        ..opts(dir.path())
    })
    .unwrap();
    let start = WalTail::open(dir.path(), None).unwrap().position();
    db.set_wal_hold(Some(start.segment));
    ingest(&db, 20, 0, 40);
    db.flush().unwrap();
    let mut tail = WalTail::open(dir.path(), Some(start)).unwrap();
    let p = tail.read(1 << 20, |_, _| {}).unwrap();
    assert!(p.segments_lost > 0, "{p:?}");
}

#[test]
fn the_head_says_which_series_it_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        partition_duration: Duration::from_secs(60),
        checkpoint_interval: Duration::ZERO,
        ..opts(dir.path())
    })
    .unwrap();
    let mut a = db.appender();
    let old = Labels::from_pairs([("__name__", "old")]);
    let new = Labels::from_pairs([("__name__", "new")]);
    let r_old = a.append(None, &old, 1_000, 1.0).unwrap();
    a.commit().unwrap();
    // Three partitions later only `new` is written: `old` is idle past a partition.
    let mut a = db.appender();
    let r_new = a.append(None, &new, 200_000, 1.0).unwrap();
    a.commit().unwrap();
    assert_eq!(db.head_has_series(&[r_old.0, r_new.0]), vec![true, true]);
    // The first pass seals `old`'s partition; the next one's checkpoint collects it.
    db.run_maintenance_once().unwrap();
    db.run_maintenance_once().unwrap();
    assert_eq!(
        db.head_has_series(&[r_old.0, r_new.0, 999_999]),
        vec![false, true, false]
    );
}
