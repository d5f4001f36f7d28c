//! Plugin budgets across calls, against the real binary (issue 14): a slow, memory-hungry
//! query-function plugin hammered over HTTP is held to its concurrency cap (the rest fail as
//! its own `busy`), while a healthy exporter keeps being scraped without an error, the daemon
//! stays healthy and its RSS stays bounded; conflicts and manifests over the ceilings are
//! refused visibly in `/api/v1/plugins`.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{eventually, http_get, rss, urlencode, Daemon};

/// Reads the daemon's log so a flood of warnings can never block it on a full pipe; the tail
/// is kept for failure messages.
fn drain_stderr(d: &mut Daemon) -> std::thread::JoinHandle<String> {
    let mut err = d.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut tail = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 64 << 10 {
                tail.drain(..tail.len() - (32 << 10));
            }
        }
        String::from_utf8_lossy(&tail).into_owned()
    })
}

fn plugin<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no plugin {name} in {list}"))
}

/// Bound on the daemon's RSS while the slow plugin is hammered: its four running instances of
/// about 50 MiB each, plus the daemon itself. Without the cap, the 20 concurrent queries would
/// hold 20 such instances (about 1 GiB).
const RSS_BOUND: u64 = 512 << 20;

#[test]
fn a_hammered_slow_plugin_does_not_starve_a_healthy_one_or_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "slow",
        &sightline_tests::guest("slow-query"),
        Some(
            "[limits]\nconcurrency = 4\ntimeout = \"2s\"\nmemory = \"64MiB\"\n\
             [config]\nalloc_mib = \"48\"\nsleep_ms = \"800\"\n",
        ),
    );
    sightline_tests::install(
        &plugins,
        "healthy",
        &sightline_tests::guest("ok-exporter"),
        None,
    );
    let config = "\
scrape_configs:
  - job_name: healthy
    scrape_interval: 1s
    scrape_timeout: 900ms
    plugin: healthy
";
    let mut d = Daemon::start_in(dir, Some(config), &[]);
    let log = drain_stderr(&mut d);
    let pid = d.child.id();
    let addr = d.addr.clone();
    eventually(20, "the healthy exporter scraped", || {
        let v = d.get_json(&format!(
            "/api/v1/query?query={}",
            urlencode("up{job=\"healthy\"}")
        ));
        (v["data"]["result"][0]["value"][1] == "1").then_some(())
    });
    let baseline = rss(pid);
    let slow_query = format!("/api/v1/query?query={}", urlencode("slow_echo(vector(1))"));
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let hammer: Vec<_> = (0..30)
        .map(|_| {
            let (addr, q, stop, answered) = (
                addr.clone(),
                slow_query.clone(),
                stop.clone(),
                answered.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if http_get(&addr, &q).is_ok() {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut peak_rss = baseline;
    let mut slowest_health = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(8) {
        let t = Instant::now();
        let (code, _) = http_get(&addr, "/-/healthy").unwrap();
        let took = t.elapsed();
        assert_eq!(code, 200);
        assert!(took < Duration::from_secs(2), "/-/healthy took {took:?}");
        slowest_health = slowest_health.max(took);
        peak_rss = peak_rss.max(rss(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    let list = d.get_json("/api/v1/plugins");
    stop.store(true, Ordering::Relaxed);
    for h in hammer {
        h.join().unwrap();
    }
    println!(
        "RSS {} MiB before, peak {} MiB while hammered; slowest /-/healthy {slowest_health:?}; {} slow queries answered",
        baseline >> 20,
        peak_rss >> 20,
        answered.load(Ordering::Relaxed)
    );
    let healthy = plugin(&list, "healthy");
    let slow = plugin(&list, "slow");
    assert_eq!(healthy["errors"], 0, "{list}");
    assert!(healthy["calls"].as_u64().unwrap() >= 6, "{list}");
    assert!(slow["errors"].as_u64().unwrap() > 0, "{list}");
    // The healthy exporter's every scrape during the hammering succeeded.
    let up = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode("min_over_time(up{job=\"healthy\"}[8s])")
    ));
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
    // The slow plugin's failures are its own `busy`, counted against it alone.
    let (_, metrics) = http_get(&addr, "/metrics").unwrap();
    assert!(
        metrics.contains("sightline_plugin_call_errors_total{plugin=\"slow\",reason=\"busy\"}"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("sightline_plugin_call_errors_total{plugin=\"healthy\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("sightline_plugin_peak_concurrent_calls{plugin=\"slow\"} 4"),
        "{metrics}"
    );
    assert!(
        peak_rss < RSS_BOUND,
        "RSS peaked at {} MiB (bound {} MiB)",
        peak_rss >> 20,
        RSS_BOUND >> 20
    );
    drop(d);
    let _ = log.join();
}

/// A second plugin declaring a taken query-function name, a plugin shadowing a built-in and
/// a manifest over a ceiling are each refused with the reason in `/api/v1/plugins`; the
/// holder and the built-in keep answering.
#[test]
fn conflicts_and_absurd_grants_are_refused_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let slow = sightline_tests::guest("slow-query");
    let fast = "[config]\nsleep_ms = \"0\"\n";
    sightline_tests::install(&plugins, "echo-b", &slow, Some(fast));
    sightline_tests::install(&plugins, "echo-a", &slow, Some(fast));
    sightline_tests::install(
        &plugins,
        "shadow",
        &slow,
        Some("[config]\nname = \"rate\"\nsleep_ms = \"0\"\n"),
    );
    sightline_tests::install(
        &plugins,
        "greedy",
        &sightline_tests::guest("ok-exporter"),
        Some("[limits]\nmemory = \"1024GiB\"\n"),
    );
    let d = Daemon::start_in(dir, None, &["--plugins.max-memory=512MiB"]);
    let list = d.get_json("/api/v1/plugins");
    let error = |name: &str| {
        plugin(&list, name)["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(plugin(&list, "echo-a")["state"], "loaded", "{list}");
    assert_eq!(plugin(&list, "echo-b")["state"], "failed", "{list}");
    assert!(
        error("echo-b")
            .contains("query function \"slow_echo\", which plugin \"echo-a\" already holds"),
        "{list}"
    );
    assert!(
        error("shadow").contains("a built-in PromQL function"),
        "{list}"
    );
    assert!(
        error("greedy").contains(
            "limits.memory = 1024GiB exceeds the daemon's ceiling --plugins.max-memory=512MiB"
        ),
        "{list}"
    );
    let v = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode("slow_echo(vector(7))")
    ));
    assert_eq!(v["data"]["result"][0]["value"][1], "7", "{v}");
    // `rate` is still PromQL's: over an empty range it returns nothing, not the plugin's echo.
    let v = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode("rate(no_such_metric[1m])")
    ));
    assert_eq!(v["data"]["result"], serde_json::json!([]), "{v}");
}

/// A 15 MB dashboard is evaluated and parsed once, when loaded: `/api/search` hammered from 20
/// threads reads the shared model (before issue 14 it parsed it twice per request, ~40x its
/// size each), so the daemon stays healthy and its RSS bounded.
#[test]
fn a_large_dashboard_is_not_parsed_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "big",
        &sightline_tests::guest("big-dashboard"),
        None,
    );
    let mut d = Daemon::start_in(dir, None, &[]);
    let log = drain_stderr(&mut d);
    let (pid, addr) = (d.child.id(), d.addr.clone());
    let v = d.get_json("/api/dashboards/uid/big");
    assert_eq!(v["dashboard"]["panels"].as_array().unwrap().len(), 15_000);
    let loaded = rss(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let searches = Arc::new(AtomicU64::new(0));
    let hammer: Vec<_> = (0..20)
        .map(|_| {
            let (addr, stop, searches) = (addr.clone(), stop.clone(), searches.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (code, body) = http_get(&addr, "/api/search?query=big").unwrap();
                    assert_eq!(code, 200);
                    assert!(body.contains("\"uid\":\"big\""), "{body}");
                    searches.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut peak_rss = loaded;
    while started.elapsed() < Duration::from_secs(5) {
        let t = Instant::now();
        let (code, _) = http_get(&addr, "/-/healthy").unwrap();
        assert_eq!(code, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "/-/healthy took {:?}",
            t.elapsed()
        );
        peak_rss = peak_rss.max(rss(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for h in hammer {
        h.join().unwrap();
    }
    let list = d.get_json("/api/v1/plugins");
    println!(
        "RSS {} MiB with the model loaded, peak {} MiB over {} searches",
        loaded >> 20,
        peak_rss >> 20,
        searches.load(Ordering::Relaxed)
    );
    assert_eq!(plugin(&list, "big")["calls"], 1, "{list}");
    assert!(searches.load(Ordering::Relaxed) >= 20);
    assert!(
        peak_rss < loaded + (128 << 20),
        "RSS grew from {} MiB to {} MiB",
        loaded >> 20,
        peak_rss >> 20
    );
    drop(d);
    let _ = log.join();
}

/// Four exporters that each hold 40 MiB for most of every scrape, under a 128 MiB memory
/// ceiling for all instances together: the instances never hold more than the ceiling (a
/// growth past it is that plugin's `memory_limit` error), the daemon stays healthy, and its RSS
/// stays near its baseline plus the ceiling.
#[test]
fn the_memory_ceiling_bounds_all_plugin_instances_together() {
    const CEILING: u64 = 128 << 20;
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let mut config = String::from("scrape_configs:\n");
    for name in ["hog-a", "hog-b", "hog-c", "hog-d"] {
        sightline_tests::install(
            &plugins,
            name,
            &sightline_tests::guest("slow-exporter"),
            Some(
                "[limits]\nmemory = \"64MiB\"\n[config]\nalloc_mib = \"40\"\nsleep_ms = \"800\"\n",
            ),
        );
        config.push_str(&format!(
            "  - job_name: {name}\n    scrape_interval: 1s\n    scrape_timeout: 950ms\n    plugin: {name}\n"
        ));
    }
    let mut d = Daemon::start_in(
        dir,
        Some(&config),
        &[
            "--plugins.memory-ceiling=128MiB",
            "--plugins.max-memory=64MiB",
        ],
    );
    let log = drain_stderr(&mut d);
    let (pid, addr) = (d.child.id(), d.addr.clone());
    let baseline = rss(pid);
    let started = Instant::now();
    let (mut peak_rss, mut peak_instances) = (baseline, 0u64);
    let mut metrics = String::new();
    while started.elapsed() < Duration::from_secs(8) {
        let t = Instant::now();
        let (code, _) = http_get(&addr, "/-/healthy").unwrap();
        assert_eq!(code, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "/-/healthy took {:?}",
            t.elapsed()
        );
        peak_rss = peak_rss.max(rss(pid));
        metrics = http_get(&addr, "/metrics").unwrap().1;
        let instances = metrics
            .lines()
            .find_map(|l| l.strip_prefix("sightline_plugin_instances_memory_bytes "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap() as u64;
        peak_instances = peak_instances.max(instances);
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "RSS {} MiB before, peak {} MiB; instances held at most {} MiB (ceiling {} MiB)",
        baseline >> 20,
        peak_rss >> 20,
        peak_instances >> 20,
        CEILING >> 20
    );
    assert!(peak_instances <= CEILING);
    assert!(
        peak_instances > 64 << 20,
        "the hogs ran together: {peak_instances}"
    );
    // Some growth was refused at the ceiling, as a memory-limit error of a hog.
    assert!(
        metrics.lines().any(
            |l| l.starts_with("sightline_plugin_call_errors_total{plugin=\"hog-")
                && l.contains("reason=\"memory_limit\"")
        ),
        "{metrics}"
    );
    assert!(
        peak_rss < baseline + CEILING + (96 << 20),
        "RSS {} MiB",
        peak_rss >> 20
    );
    drop(d);
    let _ = log.join();
}
