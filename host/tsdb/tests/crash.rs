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

use sightline_model::{stale_nan, Labels, Matcher};
use sightline_storage_api::{Appendable, Queryable};
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

const ENV: &str = "SIGHTLINE_TSDB_CRASH_CHILD";
const SERIES: u64 = 40;

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
