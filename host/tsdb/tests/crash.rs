//! Crash safety: a child process ingests continuously and prints each batch id after its
//! commit returns; the parent kills it with SIGKILL at random moments, 25 times, and checks
//! after each kill that the store opens and holds every acknowledged sample bit for bit.
//!
//! The child is this test binary re-executed with `SIGHTLINE_TSDB_CRASH_CHILD=<dir>`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sightline_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use sightline_model::{is_stale_nan, stale_nan, Labels, Matcher};
use sightline_storage_api::{Appendable, Queryable};
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

const ENV: &str = "SIGHTLINE_TSDB_CRASH_CHILD";
const SERIES: u64 = 40;
/// Native-histogram series: integer, integer, float counts, and one switching between
/// floats and histograms every 30 batches.
const HSERIES: u64 = 4;

fn options(dir: &Path) -> TsdbOptions {
    TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        // Small partitions and frequent checkpoints put every persistence path under the kill.
        partition_duration: Duration::from_secs(60),
        checkpoint_interval: Duration::ZERO,
        wal_segment_bytes: 64 << 10,
        ..TsdbOptions::new(dir)
    }
}

fn labels(i: u64) -> Labels {
    Labels::from_pairs([("__name__", "crash".to_string()), ("i", i.to_string())])
}

/// The value series `i` gets in batch `b` (some stale markers and odd bit patterns).
fn value(b: u64, i: u64) -> f64 {
    match (b + i) % 7 {
        0 => stale_nan(),
        1 => -0.0,
        2 => f64::from_bits(b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i),
        _ => (b * 1000 + i) as f64 / 3.0,
    }
}

fn hlabels(i: u64) -> Labels {
    Labels::from_pairs([("__name__", "crash_h".to_string()), ("i", i.to_string())])
}

/// What histogram series `i` gets in batch `b`: `None` for a float sample (`value`), a
/// stale marker every 13 batches, a counter reset every 97, a new bucket from batch 50 on.
fn hvalue(b: u64, i: u64) -> Option<Histogram> {
    if i == 3 && (b / 30).is_multiple_of(2) {
        return None;
    }
    if b % 13 == 5 {
        return Some(Histogram {
            sum: stale_nan(),
            ..Histogram::default()
        });
    }
    let k = (b % 97) as i64;
    let n = if b >= 50 { 4 } else { 3 };
    let buckets: Vec<i64> = (0..n)
        .map(|j| if j == 0 { k + i as i64 } else { 1 })
        .collect();
    let abs: i64 = (0..n).map(|j| k + i as i64 + j).sum();
    Some(Histogram {
        schema: 1,
        count: abs as u64,
        sum: b as f64 * 0.5,
        positive_spans: vec![Span::new(-1, n as u32)],
        positive_buckets: buckets,
        ..Histogram::default()
    })
}

/// What a histogram says, independent of its layout: a chunk recoded for a new bucket gives
/// earlier samples that bucket, empty (as Prometheus does).
fn meaning(h: &FloatHistogram) -> (i32, u64, u64, u64, Vec<(i64, u64)>) {
    let mut idx = 0i64;
    let mut counts = h.positive_buckets.iter();
    let mut buckets = Vec::new();
    for s in &h.positive_spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            if let Some(c) = counts.next().filter(|c| **c != 0.0) {
                buckets.push((idx, c.to_bits()));
            }
            idx += 1;
        }
    }
    (
        h.schema,
        h.count.to_bits(),
        h.sum.to_bits(),
        h.zero_count.to_bits(),
        buckets,
    )
}

fn child(dir: &Path) {
    let db = Tsdb::open(options(dir)).expect("child open");
    // Resume after the newest batch present.
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let mut next = 0u64;
    for mut s in q
        .select(false, None, &[Matcher::equal("__name__", "crash")])
        .expect("select")
    {
        while let Some(x) = s.samples.next_sample() {
            next = next.max(x.t as u64 / 1000 + 1);
        }
    }
    drop(q);
    println!("ready {next}");
    let refs: Vec<Labels> = (0..SERIES).map(labels).collect();
    let mut cache = vec![None; SERIES as usize];
    for b in next.. {
        let mut a = db.appender();
        for i in 0..SERIES {
            let r = a
                .append(
                    cache[i as usize],
                    &refs[i as usize],
                    (b * 1000) as i64,
                    value(b, i),
                )
                .expect("append");
            cache[i as usize] = Some(r);
        }
        for i in 0..HSERIES {
            let (l, t) = (hlabels(i), (b * 1000) as i64);
            match hvalue(b, i) {
                None => a.append(None, &l, t, value(b, i)),
                Some(h) if h.is_stale() => a.append(None, &l, t, stale_nan()),
                Some(h) if i == 2 => a.append_float_histogram(None, &l, t, &h.to_float()),
                Some(h) => a.append_histogram(None, &l, t, &h),
            }
            .expect("append histogram");
        }
        a.commit().expect("commit");
        println!("{b}");
        if b % 40 == 0 {
            db.run_maintenance_once().expect("maintenance");
        }
    }
}

/// Checks every acknowledged sample; returns how many chunk references came back from head
/// chunk files and how many sealed partitions exist (to show the kills hit those paths).
fn verify(dir: &Path, acked: &[u64]) -> (u64, u64) {
    let db = Tsdb::open(options(dir)).expect("store must open after a kill");
    let paths = (db.open_report().head_chunks, db.metrics().partitions);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    for i in 0..SERIES {
        let mut res = q
            .select(
                false,
                None,
                &[
                    Matcher::equal("__name__", "crash"),
                    Matcher::equal("i", i.to_string()),
                ],
            )
            .unwrap();
        let got: std::collections::HashMap<i64, u64> = match res.first_mut() {
            Some(s) => s
                .samples
                .collect_all()
                .into_iter()
                .map(|x| (x.t, x.v.to_bits()))
                .collect(),
            None => Default::default(),
        };
        for &b in acked {
            let t = (b * 1000) as i64;
            assert_eq!(
                got.get(&t).copied(),
                Some(value(b, i).to_bits()),
                "series {i} batch {b} lost or changed"
            );
        }
    }
    for i in 0..HSERIES {
        let mut res = q
            .select(
                false,
                None,
                &[
                    Matcher::equal("__name__", "crash_h"),
                    Matcher::equal("i", i.to_string()),
                ],
            )
            .unwrap();
        let mut got: std::collections::HashMap<i64, (u64, Option<FloatHistogram>)> =
            Default::default();
        if let Some(s) = res.first_mut() {
            while let Some(x) = s.samples.next_sample() {
                let h = s.samples.histogram().map(|h| {
                    let mut h = (**h).clone();
                    h.counter_reset_hint = CounterResetHint::Unknown;
                    h
                });
                got.insert(x.t, (x.v.to_bits(), h));
            }
        }
        for &b in acked {
            let t = (b * 1000) as i64;
            let g = got.get(&t);
            match hvalue(b, i) {
                None => assert_eq!(g.map(|x| x.0), Some(value(b, i).to_bits())),
                Some(h) if h.is_stale() => assert!(
                    g.is_some_and(|x| x.1.is_none() && is_stale_nan(f64::from_bits(x.0))),
                    "histogram series {i} batch {b}: stale marker lost"
                ),
                Some(h) => assert_eq!(
                    g.and_then(|x| x.1.as_ref()).map(meaning),
                    Some(meaning(&h.to_float())),
                    "histogram series {i} batch {b} lost or changed"
                ),
            }
        }
    }
    paths
}

#[test]
fn kill_9_loses_no_committed_sample() {
    if let Ok(dir) = std::env::var(ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut acked: Vec<u64> = Vec::new();
    let (mut restored_refs, mut partitions) = (0, 0);
    let kills = 25;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_9_loses_no_committed_sample",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait (bounded) for the child to open, then let it ingest for a random while.
        let start = Instant::now();
        let mut ready = false;
        while !ready && start.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                ready = line.contains("ready ");
            }
        }
        assert!(ready, "round {round}: child did not open the store in time");
        std::thread::sleep(Duration::from_millis(rng.u64(20..400)));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let before = acked.len();
        for line in rx.try_iter() {
            if let Ok(b) = line.trim().parse::<u64>() {
                acked.push(b);
            }
        }
        assert!(
            acked.len() > before || round > 0,
            "round {round}: child acknowledged nothing"
        );
        let (r, p) = verify(dir.path(), &acked);
        restored_refs += r;
        partitions = partitions.max(p);
    }
    // The kills landed while chunks were in head chunk files and after partitions were
    // sealed, so both recovery paths were checked.
    assert!(restored_refs > 0, "no head chunk came back from a file");
    assert!(partitions > 0, "no partition was sealed");
    assert!(
        acked.len() > 100,
        "only {} batches acknowledged over {kills} kills",
        acked.len()
    );
}
