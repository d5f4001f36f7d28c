//! Protobuf scraping side by side: Debian's Prometheus 2.42 (`--enable-feature=native-histograms`)
//! and Sightline (`scrape_native_histograms: true`) scrape the same synthetic target
//! (`tests/tools/hist_target.py --quantize 2 --classic`: native histograms that also carry
//! classic buckets, and a counter, every sample stamped with an even second so both store the
//! same samples), and the raw samples both return for `metric[30s]` through `/api/v1/query`
//! must be identical, JSON for JSON (counts, sums, every bucket's bounds and count).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::sidebyside::{get_json, secs};
use crate::support::{eventually, free_port, http_get, need, urlencode, vendored, Daemon, Proc};

/// Raw samples of a range-vector answer: series → time (ms) → the sample's JSON.
fn raw(v: &Value) -> BTreeMap<String, BTreeMap<i64, Value>> {
    let mut out = BTreeMap::new();
    for s in v["data"]["result"].as_array().expect("a matrix") {
        let labels: BTreeMap<String, String> =
            serde_json::from_value(s["metric"].clone()).unwrap_or_default();
        let mut pts = BTreeMap::new();
        for key in ["values", "histograms"] {
            for p in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                let t = (p[0].as_f64().unwrap_or_default() * 1000.0).round() as i64;
                pts.insert(t, p[1].clone());
            }
        }
        out.insert(format!("{labels:?}"), pts);
    }
    out
}

#[test]
fn protobuf_scrapes_store_what_prometheus_2_42_stores() {
    need("python3");
    let port = free_port();
    let _target = Proc(
        Command::new("python3")
            .arg(vendored("tools/hist_target.py"))
            .args([
                "--targets",
                "1",
                "--series",
                "3",
                "--quantize",
                "2",
                "--classic",
            ])
            .args(["--port", &port.to_string(), "--max-seconds", "300"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs hist_target.py"),
    );
    let taddr = format!("127.0.0.1:{port}");
    eventually(30, "hist_target.py", || {
        http_get(&taddr, "/-/healthy").ok().filter(|r| r.0 == 200)
    });
    let cfg = |extra: &str| {
        format!("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n{extra}scrape_configs:\n- job_name: h\n  metrics_path: /metrics/0\n  static_configs: [{{targets: ['{taddr}']}}]\n")
    };
    let pdir = tempfile::tempdir().expect("tempdir");
    let (_prom, paddr) = crate::support::start_prometheus(
        pdir.path(),
        &cfg(""),
        &["--enable-feature=native-histograms"],
    );
    let d = Daemon::start(Some(&cfg("  scrape_native_histograms: true\n")), &[]);
    let start = sightline_model::now_ms();
    eventually(60, "20 s of samples", || {
        (sightline_model::now_ms() - start > 20_000).then_some(())
    });
    let t = sightline_model::now_ms();
    let mut compared = (0, 0);
    for (metric, hist) in [
        ("http_request_duration_seconds", true),
        ("hist_target_seconds_total", false),
    ] {
        let path = format!(
            "/api/v1/query?query={}&time={}",
            urlencode(&format!("{metric}[30s]")),
            secs(t)
        );
        let (ours, theirs) = (
            raw(&get_json(&d.addr, &path)),
            raw(&get_json(&paddr, &path)),
        );
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{metric}: the same series"
        );
        for (series, pts) in &theirs {
            let mine = &ours[series];
            let mut common = 0;
            for (ts, v) in pts {
                if let Some(w) = mine.get(ts) {
                    assert_eq!(w, v, "{series} at {ts}: Sightline vs Prometheus");
                    common += 1;
                }
            }
            // Both scraped for 20 s, one sample every 2 s: most of them in common.
            assert!(common >= 6, "{series}: only {common} samples in common");
            if hist {
                compared.0 += common;
            } else {
                compared.1 += common;
            }
        }
    }
    eprintln!(
        "protobuf scrape side by side: {} histogram and {} counter samples identical",
        compared.0, compared.1
    );
}
