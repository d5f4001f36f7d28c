//! Fifty heavy queries at once: the daemon's memory stays bounded (concurrency and sample
//! limits hold), every query gets an answer (data or Prometheus' `execution` error), and the
//! daemon keeps answering health checks throughout.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{http_get, import_openmetrics, rss, urlencode, Daemon};

const SERIES: usize = 4_000;
const POINTS: i64 = 121;
const STEP_S: i64 = 15;
const MAX_SAMPLES: usize = 500_000;
const CONCURRENCY: usize = 4;

/// GET with a generous read timeout (queries queue behind each other).
fn slow_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(240))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (code, body.to_string())
}

#[test]
fn fifty_heavy_queries_keep_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // Half an hour of SERIES series, one sample every 15 s, ending a minute ago.
    let end = sightline_model::now_ms() / 1000 - 60;
    let start = end - (POINTS - 1) * STEP_S;
    let mut om = String::with_capacity(SERIES * POINTS as usize * 48);
    for i in 0..SERIES {
        let g = i % 40;
        for k in 0..POINTS {
            let v = (i as i64 * 7 + k * (1 + i as i64 % 13)) as f64;
            om.push_str(&format!(
                "heavy_total{{i=\"{i}\",g=\"{g}\"}} {v} {}\n",
                start + k * STEP_S
            ));
        }
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("heavy.om");
    std::fs::write(&file, &om).unwrap();
    drop(om);
    import_openmetrics(&file, dir.path());
    let d = Daemon::start_in(
        dir,
        Some("scrape_configs: []\n"),
        &[
            &format!("--query.max-samples={MAX_SAMPLES}"),
            &format!("--query.max-concurrency={CONCURRENCY}"),
            "--query.timeout=3m",
        ],
    );
    let pid = d.child.id();
    // Warm up: the head is read once, so the baseline includes the stored data.
    let (c, _) = slow_get(
        &d.addr,
        &format!("/api/v1/query?query=count(heavy_total)&time={end}"),
    );
    assert_eq!(c, 200);
    let base = rss(pid);

    let range = |q: &str, step: i64| {
        format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step={step}",
            urlencode(q)
        )
    };
    let instant = |q: &str| format!("/api/v1/query?query={}&time={end}", urlencode(q));
    let kinds: Vec<(String, bool)> = vec![
        // Every sample of every series, stepped: within the limit because windows stream.
        (range("sum by (g) (rate(heavy_total[5m]))", STEP_S), true),
        (range("topk(5, heavy_total)", STEP_S), true),
        (range("avg_over_time(heavy_total[10m])", 60), true),
        // Subqueries of 1.44 M and 720,000 samples: over the limit, so Prometheus'
        // execution error.
        (instant("max_over_time(heavy_total[30m:5s])"), false),
        (instant("heavy_total[30m:10s]"), false),
    ];

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(rss(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let health = {
        let (stop, addr) = (stop.clone(), d.addr.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = http_get(&addr, "/-/healthy");
                assert!(matches!(r, Ok((200, _))), "health check failed: {r:?}");
                worst = worst.max(t.elapsed());
                std::thread::sleep(Duration::from_millis(100));
            }
            worst
        })
    };
    let t0 = Instant::now();
    let workers: Vec<_> = (0..50)
        .map(|i| {
            let (path, ok) = kinds[i % kinds.len()].clone();
            let addr = d.addr.clone();
            std::thread::spawn(move || {
                let (code, body) = slow_get(&addr, &path);
                if ok {
                    assert_eq!(code, 200, "{path}: {body}");
                } else {
                    assert_eq!(code, 422, "{path}: {body}");
                    assert!(
                        body.contains("\"errorType\":\"execution\"")
                            && body.contains("too many samples"),
                        "{path}: {body}"
                    );
                }
            })
        })
        .collect();
    let mut failed = 0;
    for w in workers {
        if w.join().is_err() {
            failed += 1;
        }
    }
    let took = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let worst_health = health.join().unwrap();
    let growth = peak.saturating_sub(base);
    println!(
        "50 heavy queries in {took:.1?}: RSS {} MiB before, peak {} MiB (+{} MiB); slowest \
         health check {worst_health:.1?}",
        base >> 20,
        peak >> 20,
        growth >> 20
    );
    assert_eq!(failed, 0, "some queries did not get the expected answer");
    // At most CONCURRENCY queries hold at most MAX_SAMPLES samples each (16 bytes a sample,
    // plus windows, labels and the JSON being written): 96 bytes a sample is a generous bound
    // that unbounded growth (50 queries at once, or a query ignoring the limit) would break.
    let bound = (CONCURRENCY * MAX_SAMPLES * 96) as u64 + (64 << 20);
    assert!(
        growth < bound,
        "RSS grew by {} MiB during the storm (bound {} MiB)",
        growth >> 20,
        bound >> 20
    );
    assert!(
        worst_health < Duration::from_secs(2),
        "health checks stalled for {worst_health:?}"
    );
}
