//! Every kind of misbehaving plugin at once, against the real binary (issue 14, "Done
//! means"): a loop, a memory bomb, a trap, a panic, an output amplifier, label floods, a
//! noisy logger, a /proc snooper, a slow memory-hungry query function hammered over HTTP and
//! a 15 MB dashboard hammered through `/api/search`, all while a healthy exporter is scraped.
//! The daemon stays alive, `/-/healthy` answers within 2 s throughout, the healthy exporter
//! never misses a scrape, and the daemon's RSS stays under [`RSS_BOUND`].

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{eventually, http_get, rss, urlencode, Daemon};

/// The bound on the daemon's RSS while every plugin misbehaves. What may legitimately be
/// resident: the slow query function's 4 capped instances of ≈ 50 MiB, the memory bomb's
/// 64 MiB instance, the noisy guest's up to 256 MiB, the dashboard's parsed model (≈ 30 MiB),
/// the daemon itself (≈ 70 MiB), allocator slack. Without the caps and the expansion
/// accounting, this mix reaches several GiB (the histogram bomb alone expands to ≈ 4 GiB).
const RSS_BOUND: u64 = 1 << 30;

#[test]
fn every_plugin_misbehaving_at_once_leaves_the_daemon_healthy_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let g = sightline_tests::guest;
    let install = |name: &str, guest: &str, toml: Option<&str>| {
        sightline_tests::install(&plugins, name, &g(guest), toml);
    };
    install(
        "loop",
        "loop-forever",
        Some("[limits]\ntimeout = \"500ms\"\n"),
    );
    install(
        "bomb",
        "alloc-unbounded",
        Some("[limits]\nmemory = \"64MiB\"\n"),
    );
    install("trap", "trap", None);
    install("panic", "panic", None);
    install("histogram-bomb", "histogram-bomb", None);
    install("label-flood", "label-flood", None);
    install("label-flood-b", "label-flood", None);
    install("noisy", "noisy", Some("[limits]\nmemory = \"256MiB\"\n"));
    install(
        "snoop",
        "proc-snoop",
        Some("[fs]\nread_only = [\"/proc\", \"/\"]\n[limits]\nmemory = \"128MiB\"\ntimeout = \"4s\"\n"),
    );
    install(
        "slow",
        "slow-query",
        Some("[limits]\nconcurrency = 4\ntimeout = \"2s\"\nmemory = \"64MiB\"\n[config]\nalloc_mib = \"48\"\nsleep_ms = \"500\"\n"),
    );
    install(
        "big",
        "big-dashboard",
        Some("[limits]\nmemory = \"256MiB\"\n"),
    );
    install("healthy", "ok-exporter", None);
    let mut config = String::from("scrape_configs:\n");
    for job in [
        "loop",
        "bomb",
        "trap",
        "panic",
        "histogram-bomb",
        "label-flood",
        "label-flood-b",
        "noisy",
        "snoop",
        "healthy",
    ] {
        config.push_str(&format!(
            "  - job_name: {job}\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    plugin: {job}\n"
        ));
    }
    let mut d = Daemon::start_in(dir, Some(&config), &[]);
    // Drain the log so a flood can never block the daemon on a full pipe.
    let mut err = d.child.stderr.take().unwrap();
    let log_bytes = Arc::new(AtomicU64::new(0));
    let lb = log_bytes.clone();
    let drain = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            lb.fetch_add(n as u64, Ordering::Relaxed);
        }
    });
    let pid = d.child.id();
    let addr = d.addr.clone();
    eventually(30, "the healthy exporter scraped", || {
        let v = d.get_json(&format!(
            "/api/v1/query?query={}",
            urlencode("up{job=\"healthy\"}")
        ));
        (v["data"]["result"][0]["value"][1] == "1").then_some(())
    });
    let baseline = rss(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let mut hammer = Vec::new();
    let slow_q = format!("/api/v1/query?query={}", urlencode("slow_echo(vector(1))"));
    for i in 0..14 {
        let (addr, stop) = (addr.clone(), stop.clone());
        let path = if i < 10 {
            slow_q.clone()
        } else {
            "/api/search?query=big".to_string()
        };
        hammer.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = http_get(&addr, &path);
            }
        }));
    }
    let started = Instant::now();
    let (mut peak, mut slowest) = (baseline, Duration::ZERO);
    while started.elapsed() < Duration::from_secs(15) {
        let t = Instant::now();
        let (code, _) = http_get(&addr, "/-/healthy").unwrap();
        let took = t.elapsed();
        assert_eq!(code, 200);
        assert!(took < Duration::from_secs(2), "/-/healthy took {took:?}");
        slowest = slowest.max(took);
        peak = peak.max(rss(pid));
        assert!(d.child.try_wait().unwrap().is_none(), "the daemon exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for h in hammer {
        h.join().unwrap();
    }
    let up = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode("min_over_time(up{job=\"healthy\"}[15s])")
    ));
    let list = d.get_json("/api/v1/plugins");
    println!(
        "every plugin misbehaving at once: RSS {} MiB before, peak {} MiB (bound {} MiB); slowest /-/healthy {slowest:?}; {} KiB of log",
        baseline >> 20,
        peak >> 20,
        RSS_BOUND >> 20,
        log_bytes.load(Ordering::Relaxed) >> 10
    );
    assert_eq!(
        up["data"]["result"][0]["value"][1], "1",
        "healthy exporter missed a scrape: {up}"
    );
    let errors = |name: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["errors"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    };
    assert_eq!(errors("healthy"), 0, "{list}");
    for bad in [
        "loop",
        "bomb",
        "trap",
        "panic",
        "histogram-bomb",
        "label-flood",
    ] {
        assert!(errors(bad) > 0, "{bad} should have failed calls: {list}");
    }
    // The hammered query function ran at most its cap at once.
    let (_, metrics) = http_get(&addr, "/metrics").unwrap();
    assert!(
        metrics.contains("sightline_plugin_peak_concurrent_calls{plugin=\"slow\"} 4"),
        "slow's peak concurrency is not its cap of 4"
    );
    assert!(
        peak < RSS_BOUND,
        "RSS peaked at {} MiB (bound {} MiB)",
        peak >> 20,
        RSS_BOUND >> 20
    );
    drop(d);
    let _ = drain.join();
}
