//! Scale check: ingests N series × R scrape rounds (15 s apart, node_exporter-like labels),
//! then reports append throughput, RSS per series, maintenance time, bytes per sample after
//! persistence, and WAL replay time on reopen.
//!
//! Run: `cargo run --release -p sightline-tsdb --example ingest -- 1000000 20 /tmp/tsdb-scale`
//! (`SLED_CACHE_MB` sets the sled cache size, default 64).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A measurement tool: failing loudly is fine.

use std::time::{Duration, Instant};

use sightline_model::{Labels, SeriesRef};
use sightline_storage_api::Appendable;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rounds: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let dir = std::path::PathBuf::from(
        args.get(3)
            .cloned()
            .unwrap_or_else(|| "/tmp/tsdb-ingest".into()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let opts = TsdbOptions {
        wal_fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        checkpoint_interval: Duration::from_secs(3600),
        cache_bytes: std::env::var("SLED_CACHE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(64)
            << 20,
        ..TsdbOptions::new(&dir)
    };
    let labels: Vec<Labels> = (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("node_metric_{}", i % 200)),
                ("instance", format!("host-{}:9100", i / 1000)),
                ("job", "node".to_string()),
                ("cpu", (i / 200 % 5).to_string()),
                (
                    "mode",
                    ["idle", "user", "system", "iowait"][i % 4].to_string(),
                ),
            ])
        })
        .collect();
    let rss0 = rss_bytes();
    let db = Tsdb::open(opts.clone()).unwrap();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; n];
    let mut values = vec![0f64; n];
    let t0 = 1_700_000_000_000i64;
    let start = Instant::now();
    let mut first_round = Duration::ZERO;
    let mut maint = Duration::ZERO;
    let batch = 1000;
    for k in 0..rounds {
        let r0 = Instant::now();
        for (c, chunk) in labels.chunks(batch).enumerate() {
            let mut a = db.appender();
            for (j, l) in chunk.iter().enumerate() {
                let i = c * batch + j;
                values[i] += ((i + k as usize) % 5) as f64;
                refs[i] = Some(a.append(refs[i], l, t0 + k * 15_000, values[i]).unwrap());
            }
            a.commit().unwrap();
        }
        if k == 0 {
            first_round = r0.elapsed();
        }
        // The daemon runs maintenance on a timer; every 40 rounds (10 min of data) here.
        if k % 40 == 39 {
            let m0 = Instant::now();
            db.run_maintenance_once().unwrap();
            maint += m0.elapsed();
        }
    }
    let total = start.elapsed();
    let samples = n as f64 * rounds as f64;
    let steady = (total - first_round - maint).as_secs_f64();
    println!(
        "maintenance during ingest: {:.2}s (excluded from the append rate)",
        maint.as_secs_f64()
    );
    println!("series={n} rounds={rounds} samples={samples}");
    println!(
        "first round (series creation): {:.2}s",
        first_round.as_secs_f64()
    );
    println!(
        "append: {:.0} samples/s overall, {:.0} samples/s after the first round ({:.0} ns/sample)",
        samples / total.as_secs_f64(),
        (samples - n as f64) / steady.max(1e-9),
        steady * 1e9 / (samples - n as f64).max(1.0)
    );
    let rss1 = rss_bytes();
    println!(
        "RSS: {:.1} MiB, {:.0} bytes/series",
        rss1 as f64 / 1048576.0,
        (rss1 - rss0) as f64 / n as f64
    );
    let st = db.stats(3);
    println!(
        "head: series={} chunks={} approx heap bytes/series={:.0}",
        st.head.num_series,
        st.head.chunk_count,
        st.head_bytes as f64 / n as f64
    );
    let m0 = Instant::now();
    db.flush().unwrap();
    println!(
        "flush (persist + checkpoint): {:.2}s",
        m0.elapsed().as_secs_f64()
    );
    let m = db.metrics();
    let st = db.stats(3);
    let logical: u64 = st.partitions.iter().map(|p| p.2).sum();
    println!(
        "partitions: {} holding {} logical bytes; sled size_on_disk {} bytes; wal dir {} bytes",
        st.partitions.len(),
        logical,
        m.storage_bytes - m.wal_bytes,
        m.wal_bytes
    );
    println!("storage bytes (sled, partition files, head chunk files, WAL): {} ({:.2} bytes/sample incl. head checkpoint)", m.storage_bytes, m.storage_bytes as f64 / samples);
    drop(db);
    // Reopen: checkpoint load (no WAL after flush).
    let o0 = Instant::now();
    let db = Tsdb::open(opts).unwrap();
    let m0 = Instant::now();
    db.run_maintenance_once().unwrap();
    println!("maintenance pass: {:.2}s", m0.elapsed().as_secs_f64());
    println!(
        "reopen after flush: {:.2}s, {} series restored",
        o0.elapsed().as_secs_f64(),
        db.open_report().checkpoint_series
    );
}
