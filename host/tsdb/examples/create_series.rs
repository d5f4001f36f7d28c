//! Series creation cost: creates N new series through `Tsdb` appenders in batches of 1,000
//! (one scrape's worth each), committed, so WAL series records are included, then reports
//! CPU (user + system of the whole process) and wall time per new series and RSS per series.
//!
//! Run: `cargo run --release -p sightline-tsdb --example create_series -- 1000000 /tmp/tsdb-create`
//! (profile it with `perf record -g`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A measurement tool: failing loudly is fine.

use std::time::{Duration, Instant};

use sightline_model::Labels;
use sightline_storage_api::Appendable;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

/// (RSS bytes, CPU seconds of the process) from /proc.
fn usage() -> (u64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 1/100 s on Linux.
    (rss, (ticks(11) + ticks(12)) / 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::PathBuf::from(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| "/tmp/tsdb-create".into()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let opts = TsdbOptions {
        wal_fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        ..TsdbOptions::new(&dir)
    };
    // node_exporter-like label sets, as a scrape target serves them: 100 targets.
    let labels: Vec<Labels> = (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("node_metric_{}", i % 200)),
                ("instance", format!("host-{}:9100", i / (n / 100).max(1))),
                ("job", "node".to_string()),
                ("cpu", (i / 200 % 50).to_string()),
                (
                    "mode",
                    ["idle", "user", "system", "iowait"][i % 4].to_string(),
                ),
                ("series", (i / 10_000).to_string()),
            ])
        })
        .collect();
    let db = Tsdb::open(opts).unwrap();
    let (rss0, cpu0) = usage();
    let t0 = 1_700_000_000_000i64;
    let start = Instant::now();
    for chunk in labels.chunks(1000) {
        let mut a = db.appender();
        for l in chunk {
            a.append(None, l, t0, 1.0).unwrap();
        }
        a.commit().unwrap();
    }
    let wall = start.elapsed();
    let (rss1, cpu1) = usage();
    println!(
        "series={n} wall={:.2}s ({:.2} µs/series) cpu={:.2}s ({:.2} µs/series) RSS +{:.1} MiB ({:.0} B/series)",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1e6 / n as f64,
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1e6 / n as f64,
        (rss1 - rss0) as f64 / 1048576.0,
        (rss1 - rss0) as f64 / n as f64
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
