//! Issue 14, output and words: exporter plugins whose output the host would expand
//! (histogram-bomb), whose labels flood the validation (label-flood) or whose words flood
//! and forge the log (noisy) are scraped every second by the real daemon, which stays
//! alive, healthy within 2 s, and writes a bounded, unforged log; `sightline plugin test`
//! on the bomb and on a receiver that records thousands of large requests ends cleanly with
//! bounded memory.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{eventually, http_get, Daemon, BIN};

/// Most stderr the daemon may write while four hostile plugins are scraped every second
/// for about 10 s. Each plugin's lines are limited to a burst of 100 plus 20 a second, each
/// line is at most a few KiB; before the fix one call of `noisy` logged its 50 MB error.
const LOG_BOUND: usize = 4 << 20;

/// Peak RSS allowed for `sightline plugin test` on the histogram bomb and the record flood
/// (the bomb expands to ≈ 4 GiB when copied; the record flood sends ≈ 760 MB of bodies).
const CLI_RSS_BOUND: u64 = 400 << 20;

fn install_hostile(plugins: &std::path::Path) {
    std::fs::create_dir_all(plugins).unwrap();
    let g = sightline_tests::guest;
    sightline_tests::install(plugins, "histogram-bomb", &g("histogram-bomb"), None);
    sightline_tests::install(plugins, "label-flood", &g("label-flood"), None);
    sightline_tests::install(plugins, "label-flood-b", &g("label-flood"), None);
    sightline_tests::install(
        plugins,
        "noisy",
        &g("noisy"),
        Some("[limits]\nmemory = \"256MiB\"\n"),
    );
    sightline_tests::install(plugins, "ok-exporter", &g("ok-exporter"), None);
}

#[test]
fn hostile_exporters_do_not_stall_amplify_or_forge_the_daemons_log() {
    let dir = tempfile::tempdir().unwrap();
    install_hostile(&dir.path().join("plugins"));
    let mut config = String::from("scrape_configs:\n");
    for p in [
        "histogram-bomb",
        "label-flood",
        "label-flood-b",
        "noisy",
        "ok-exporter",
    ] {
        config.push_str(&format!(
            "  - job_name: {p}\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    plugin: {p}\n"
        ));
    }
    // A job's scrape limits apply to plugin output as to an HTTP body.
    config.push_str(
        "  - job_name: ok-body-limit\n    scrape_interval: 1s\n    plugin: ok-exporter\n    body_size_limit: 100B\n\
         \x20 - job_name: ok-label-limit\n    scrape_interval: 1s\n    plugin: ok-exporter\n    label_limit: 2\n",
    );
    let mut d = Daemon::start_in(dir, Some(&config), &[]);
    // Drain stderr on a thread (a full pipe would block the daemon), keeping it all.
    let log = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stderr = d.child.stderr.take().unwrap();
    let reader = std::thread::spawn({
        let log = log.clone();
        move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        }
    });

    let started = Instant::now();
    let mut worst = Duration::ZERO;
    let mut probes = 0;
    while started.elapsed() < Duration::from_secs(10) {
        let t = Instant::now();
        let (code, _) = http_get(&d.addr, "/-/healthy").unwrap();
        let took = t.elapsed();
        assert_eq!(code, 200);
        assert!(took < Duration::from_secs(2), "/-/healthy took {took:?}");
        worst = worst.max(took);
        probes += 1;
        assert!(d.child.try_wait().unwrap().is_none(), "the daemon exited");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("/-/healthy: {probes} probes, slowest {worst:?}");

    // Each hostile plugin failed as itself, with a bounded, escaped error.
    let targets = eventually(10, "every job scraped", || {
        let v = d.get_json("/api/v1/targets");
        let t = v["data"]["activeTargets"].as_array()?.clone();
        (t.len() == 7 && t.iter().all(|t| t["health"] != "unknown")).then_some(t)
    });
    for t in &targets {
        let job = t["labels"]["job"].as_str().unwrap();
        let err = t["lastError"].as_str().unwrap_or_default();
        assert!(err.len() < 2048, "{job}: {} bytes of lastError", err.len());
        assert!(
            !err.contains(['\n', '\r', '\u{1b}', '\u{202e}']),
            "{job}: {err:?}"
        );
        let want = match job {
            "histogram-bomb" => "more than the limit of 16777216",
            "label-flood" | "label-flood-b" => "more than the limit of 256",
            "noisy" => "[truncated, ",
            "ok-body-limit" => "body size limit exceeded (100 bytes)",
            "ok-label-limit" => "label_limit exceeded",
            _ => {
                assert_eq!(t["health"], "up", "{t}");
                continue;
            }
        };
        assert_eq!(t["health"], "down", "{t}");
        assert!(err.contains(want), "{job}: {err}");
    }
    let (_, metrics) = http_get(&d.addr, "/metrics").unwrap();
    let suppressed: f64 = metrics
        .lines()
        .find(|l| l.starts_with("sightline_plugin_log_lines_suppressed_total{plugin=\"noisy\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no suppressed counter for noisy"));
    assert!(suppressed > 10_000.0, "{suppressed}");

    d.send_signal("TERM");
    let st = d.wait_exit();
    assert!(st.success(), "{st}");
    reader.join().unwrap();
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    eprintln!(
        "daemon stderr: {} bytes, {} lines; {suppressed} lines suppressed",
        log.len(),
        log.lines().count()
    );
    assert!(log.len() < LOG_BOUND, "{} bytes of log", log.len());
    for line in log.lines() {
        assert!(
            !line.starts_with("level=")
                && !line.starts_with("ts=")
                && !line.starts_with("2026-01-01"),
            "forged line: {line}"
        );
        if line.contains("FORGED-BY-GUEST") {
            assert!(
                line.contains("noisy"),
                "a guest's words outside its line: {line}"
            );
        }
        assert!(!line.contains(['\r', '\u{1b}', '\u{202e}']), "{line:?}");
    }
    assert!(log.contains("suppressed"), "no summary of suppressed lines");
}

/// Runs `sightline plugin test <wasm>` and samples its peak RSS until it exits (at most
/// 120 s). Returns the exit status, stdout, stderr and the peak RSS seen.
fn plugin_test(wasm: &std::path::Path) -> (std::process::ExitStatus, String, String, u64) {
    let mut child = Command::new(BIN)
        .args(["plugin", "test"])
        .arg(wasm)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status_path = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut peak = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("plugin test of {} did not finish in 120 s", wasm.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, out_t.join().unwrap(), err_t.join().unwrap(), peak)
}

#[test]
fn plugin_test_on_the_bomb_and_the_record_flood_ends_cleanly_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    sightline_tests::install(
        dir.path(),
        "histogram-bomb",
        &sightline_tests::guest("histogram-bomb"),
        None,
    );
    let (st, out, err, peak) = plugin_test(&dir.path().join("histogram-bomb.wasm"));
    eprintln!(
        "plugin test histogram-bomb: {st}, peak RSS {} MiB: {err}",
        peak >> 20
    );
    assert!(!st.success());
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("more than the limit of 16777216"), "{err}");
    assert!(peak < CLI_RSS_BOUND, "peak RSS {peak}");

    sightline_tests::install(
        dir.path(),
        "record-flood",
        &sightline_tests::guest("record-flood"),
        Some("[http]\nallowed_hosts = [\"127.0.0.1\"]\n[limits]\nmemory = \"256MiB\"\ntimeout = \"30s\"\n"),
    );
    let (st, out, err, peak) = plugin_test(&dir.path().join("record-flood.wasm"));
    eprintln!(
        "plugin test record-flood: {st}, {} bytes of output, peak RSS {} MiB",
        out.len(),
        peak >> 20
    );
    assert!(st.success(), "{err}");
    assert!(out.len() < 18 << 20, "{} bytes", out.len());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["requests"].as_array().unwrap().len(), 1_000);
    assert_eq!(v["requests_not_recorded"], 2_003);
    assert!(peak < CLI_RSS_BOUND, "peak RSS {peak}");
}
