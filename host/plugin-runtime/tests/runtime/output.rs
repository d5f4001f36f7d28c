//! Containment of what a guest returns and says: output the host would expand is charged
//! at its expanded size before any expansion, label floods are refused off the async
//! workers, and the guest's words (errors, logs, the host's warnings about it, recorded
//! requests) come out escaped, truncated and rate-limited.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sightline_plugin_runtime::cli::{plugin_test, PluginTestOptions};
use sightline_plugin_runtime::words::{LOG_LINES_BURST, LOG_LINES_PER_SECOND};
use sightline_plugin_runtime::{
    Error, PluginHost, PluginHostConfig, MAX_LABELS, MAX_RECORDED_BODY_BYTES,
    MAX_RECORDED_REQUESTS, MAX_RECORDED_TOTAL_BYTES,
};

use crate::common::{guest, install};

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn proc_status_bytes(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} not in /proc/self/status"));
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// Growth of this process' peak RSS allowed while the histogram bomb is handled. Before the
/// fix the host expanded it to ≈ 4 GiB (and aborted); the bound leaves room for the other
/// tests of this binary that run at the same time.
const BOMB_PEAK_GROWTH: u64 = 512 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplified_histograms_and_summaries_are_output_too_large_before_expansion() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "histogram-bomb", &guest("histogram-bomb"), None);
    install(
        dir.path(),
        "summary-bomb",
        &guest("histogram-bomb"),
        Some("[config]\nsummary = \"1\"\n"),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let peak_before = proc_status_bytes("VmHWM");
    for name in ["histogram-bomb", "summary-bomb"] {
        for _ in 0..3 {
            let err = host.collect(name).await.unwrap_err();
            let Error::OutputTooLarge { size, limit, .. } = &err else {
                panic!("{name}: {err}")
            };
            assert_eq!(err.reason(), "output_too_large");
            // 5,000 series, each with 200 labels of 4 KiB: ≈ 4 GiB once expanded.
            assert!(*size > 4_000_000_000, "{name}: counted {size} bytes");
            assert_eq!(*limit, 16 << 20);
        }
        let stats = host
            .list()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap()
            .stats;
        assert_eq!(stats.errors_by_reason.get("output_too_large"), Some(&3));
    }
    let growth = proc_status_bytes("VmHWM").saturating_sub(peak_before);
    eprintln!("histogram bomb: peak RSS grew by {} KiB", growth >> 10);
    assert!(growth < BOMB_PEAK_GROWTH, "peak RSS grew by {growth} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn label_floods_are_refused_promptly_without_stalling_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "label-flood", &guest("label-flood"), None);
    install(
        dir.path(),
        "label-flood-b",
        &guest("label-flood"),
        Some("[limits]\nmemory = \"128MiB\"\n"),
    );
    install(
        dir.path(),
        "label-limit",
        &guest("label-flood"),
        Some(&format!("[config]\nlabels = \"{}\"\n", MAX_LABELS)),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    // A ticker on the only worker: its longest gap is how long that worker was held.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut worst = Duration::ZERO;
            let mut last = Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            worst
        }
    });
    let started = Instant::now();
    let (a, b) = tokio::join!(host.collect("label-flood"), host.collect("label-flood-b"));
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let worst = ticker.await.unwrap();
    eprintln!("label flood: two calls took {took:?}; the worker's longest gap was {worst:?}");
    for r in [a, b] {
        let err = r.unwrap_err();
        assert_eq!(err.reason(), "invalid_output", "{err}");
        assert!(
            err.to_string()
                .contains("300000 labels on one series, more than the limit of 256"),
            "{err}"
        );
    }
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(worst < Duration::from_secs(1), "{worst:?}");
    // Exactly at the limit the sample is accepted (and validated by sorting).
    let fams = host.collect("label-limit").await.unwrap();
    assert_eq!(fams[0].samples[0].labels.len(), MAX_LABELS);
}

/// A `tracing` writer that keeps everything written, for counting log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_noisy_guest_is_escaped_truncated_and_rate_limited() {
    let captured = Captured::default();
    let sub = tracing_subscriber::fmt()
        .with_writer({
            let c = captured.clone();
            move || c.clone()
        })
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(sub);

    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "noisy",
        &guest("noisy"),
        Some("[limits]\nmemory = \"256MiB\"\ntimeout = \"30s\"\n"),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let started = Instant::now();
    let calls = 3;
    for _ in 0..calls {
        let err = host.collect("noisy").await.unwrap_err();
        assert_eq!(err.reason(), "plugin_error");
        let text = err.to_string();
        assert!(text.len() < 1200, "{} bytes", text.len());
        assert!(
            !text.contains(['\n', '\r', '\u{1b}', '\u{202e}']),
            "{text:?}"
        );
        assert!(text.contains("\\nlevel=error ts=2026"), "{text}");
        let (_, mark) = text.rsplit_once("[truncated, ").unwrap();
        let original: usize = mark.trim_end_matches(" bytes]").parse().unwrap();
        assert!(original >= 50 << 20, "{mark}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let log = String::from_utf8(captured.0.lock().clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    // Each call tried 5,000 log lines, 2,000 denied requests (each a host warning) and one
    // failure warning.
    let tried = calls * (5_000 + 2_000 + 1);
    let allowed = LOG_LINES_BURST + LOG_LINES_PER_SECOND * elapsed.ceil() + 2.0 * calls as f64;
    eprintln!(
        "noisy: {tried} lines tried in {elapsed:.1} s, {} logged ({} bytes)",
        lines.len(),
        log.len()
    );
    assert!(
        (lines.len() as f64) <= allowed,
        "{} lines logged",
        lines.len()
    );
    assert!(log.len() < 1 << 20, "{} bytes of log", log.len());
    for l in &lines {
        assert!(!l.starts_with("level="), "forged line: {l}");
        assert!(l.contains("noisy"), "a line not about the plugin: {l}");
        assert!(!l.contains(['\r', '\u{1b}', '\u{202e}']), "{l:?}");
    }
    let stats = host.list().into_iter().next().unwrap().stats;
    let about_calls = lines
        .iter()
        .filter(|l| !l.contains("suppressed") && !l.contains("plugin loaded"))
        .count();
    // Every line tried is either logged or counted. (`<=`: a line may also go missing from
    // this capture when another test of this binary fixed tracing's per-callsite interest
    // while no subscriber was set on its thread.)
    assert!(
        stats.log_lines_suppressed as usize + about_calls <= tried,
        "{} suppressed + {about_calls} logged > {tried} tried",
        stats.log_lines_suppressed
    );
    assert!(
        stats.log_lines_suppressed as f64 >= tried as f64 - allowed,
        "only {} suppressed",
        stats.log_lines_suppressed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_test_keeps_a_bounded_record_of_requests() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "record-flood",
        &guest("record-flood"),
        Some(
            "[http]\nallowed_hosts = [\"127.0.0.1\"]\n[limits]\nmemory = \"256MiB\"\ntimeout = \"30s\"\n",
        ),
    );
    let rss_before = proc_status_bytes("VmRSS");
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("record-flood.wasm"),
        ..Default::default()
    })
    .await
    .unwrap();
    eprintln!(
        "record flood: {} bytes of output; RSS {} -> {} KiB",
        out.len(),
        rss_before >> 10,
        proc_status_bytes("VmRSS") >> 10
    );
    // The 16 MiB of bodies, JSON-escaped, and small per-request fields.
    assert!(
        out.len() < MAX_RECORDED_TOTAL_BYTES + (2 << 20),
        "{}",
        out.len()
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let requests = v["requests"].as_array().unwrap();
    assert_eq!(requests.len(), MAX_RECORDED_REQUESTS);
    assert_eq!(
        v["requests_not_recorded"],
        3_003 - MAX_RECORDED_REQUESTS as u64
    );
    assert!(v["note"].as_str().unwrap().contains("only the first 1000"));
    let first = &requests[0];
    assert_eq!(
        first["body"].as_str().unwrap().len(),
        MAX_RECORDED_BODY_BYTES
    );
    assert_eq!(first["body_truncated_from"], 3 << 20);
    let kept: usize = requests
        .iter()
        .map(|r| r["body"].as_str().unwrap().len())
        .sum();
    assert!(kept <= MAX_RECORDED_TOTAL_BYTES, "{kept}");
    let last = requests.last().unwrap();
    assert_eq!(last["body"], "");
    assert_eq!(last["body_truncated_from"], 256 << 10);
}

#[tokio::test]
async fn plugin_list_prints_names_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "evil\u{1b}[2J\u{202e}name";
    install(dir.path(), evil, &guest("ok-exporter"), None);
    let table = sightline_plugin_runtime::cli::plugin_list(dir.path(), None)
        .await
        .unwrap();
    assert!(!table.contains(['\u{1b}', '\u{202e}']), "{table:?}");
    assert!(table.contains("evil\\u{1b}[2J\\u{202e}name"), "{table}");
}
