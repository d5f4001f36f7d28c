//! Sightline's protobuf scraping against Prometheus 2.42's, sample by sample: both scrape the
//! same synthetic native-histogram target (`tests/tools/hist_target.py --quantize 2
//! --classic`: explicit even-second timestamps, so both store exactly the same samples), and
//! every raw histogram sample Prometheus returns for `metric[1m]` must be in Sightline's
//! storage with the same count, sum and buckets (bounds within 1e-12 relative, counts exact).
//! Skipped (with a note) where `prometheus` or `python3` is not installed.

// The blocking file calls are a test's set-up, before anything runs on the runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_model::{FloatHistogram, Matcher};
use sightline_scrape::ScrapeManager;
use sightline_storage_api::{MemStorage, Queryable};
use sightline_telemetry::Registry;

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch directory removed when dropped.
struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get(url: &str) -> Option<String> {
    let r = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    r.status().is_success().then_some(())?;
    r.text().await.ok()
}

/// A bucket: lower and upper bound and count.
type B = (f64, f64, f64);

fn bound(schema: i32, i: i32) -> f64 {
    2f64.powf(f64::from(i) * 2f64.powi(-schema))
}

/// The non-empty buckets of a histogram in ascending order, as Prometheus' JSON lists them.
fn buckets(h: &FloatHistogram) -> Vec<B> {
    let mut out = Vec::new();
    let walk = |spans: &[sightline_model::Span], counts: &[f64], neg: bool, out: &mut Vec<B>| {
        let (mut idx, mut k) = (0i32, 0usize);
        for s in spans {
            idx += s.offset;
            for _ in 0..s.length {
                let c = counts[k];
                if c != 0.0 {
                    let (lo, hi) = (bound(h.schema, idx - 1), bound(h.schema, idx));
                    out.push(if neg { (-hi, -lo, c) } else { (lo, hi, c) });
                }
                idx += 1;
                k += 1;
            }
        }
    };
    walk(&h.negative_spans, &h.negative_buckets, true, &mut out);
    if h.zero_count != 0.0 {
        out.push((-h.zero_threshold, h.zero_threshold, h.zero_count));
    }
    walk(&h.positive_spans, &h.positive_buckets, false, &mut out);
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

fn num(v: &serde_json::Value) -> f64 {
    match v.as_str().unwrap() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        s => s.parse().unwrap(),
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_histogram_samples_agree_with_prometheus_2_42() {
    if !have("prometheus") || !have("python3") {
        eprintln!("skipped: prometheus or python3 not installed");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = Dir(std::env::temp_dir().join(format!("sightline-parity-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let tport = free_port();
    let _target = Proc(
        Command::new("python3")
            .arg(root.join("tests/tools/hist_target.py"))
            .args([
                "--port",
                &tport.to_string(),
                "--targets",
                "1",
                "--series",
                "3",
            ])
            .args(["--quantize", "2", "--classic", "--max-seconds", "120"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let taddr = format!("127.0.0.1:{tport}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&format!("http://{taddr}/-/healthy")).await.is_none() {
        assert!(Instant::now() < deadline, "hist_target.py did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = format!(
        "scrape_configs:\n  - job_name: h\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    metrics_path: /metrics/0\n    static_configs:\n      - targets: ['{taddr}']\n"
    );
    let paddr = format!("127.0.0.1:{}", free_port());
    std::fs::write(dir.0.join("prometheus.yml"), &job).unwrap();
    let _prom = Proc(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.0.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address={paddr}"))
            .args(["--enable-feature=native-histograms", "--log.level=warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&format!("http://{paddr}/-/ready")).await.is_none() {
        assert!(Instant::now() < deadline, "Prometheus did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let st = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(st.clone(), &Registry::new(), None);
    let ours = format!("global:\n  scrape_native_histograms: true\n{job}");
    m.apply_config(&sightline_config::load_str(&ours, "p.yml").unwrap())
        .unwrap();
    // Five quantized samples per series in both.
    tokio::time::sleep(Duration::from_secs(11)).await;
    m.stop().await;
    let mut compared = 0;
    let mut theirs_series = 0;
    for attempt in 0.. {
        let url = format!(
            "http://{paddr}/api/v1/query?query=%7B__name__%3D~%22.%2B_seconds%22%7D%5B1m%5D"
        );
        let body = get(&url).await;
        let v: serde_json::Value = body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
            || attempt > 50
        {
            let res = v["data"]["result"].as_array().expect("Prometheus answered");
            let qr = st.querier(i64::MIN, i64::MAX).unwrap();
            for s in res {
                let Some(hs) = s["histograms"].as_array() else {
                    continue;
                };
                theirs_series += 1;
                let mut ms: Vec<Matcher> = Vec::new();
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(s["metric"].clone()).unwrap();
                for (k, val) in &labels {
                    ms.push(Matcher::equal(k, val));
                }
                let mut mine = qr.select(true, None, &ms).unwrap();
                assert_eq!(mine.len(), 1, "{labels:?} in Sightline");
                let mut ours: BTreeMap<i64, FloatHistogram> = BTreeMap::new();
                let it = &mut mine[0].samples;
                while let Some(x) = it.next_sample() {
                    if let Some(h) = it.histogram() {
                        ours.insert(x.t, (**h).clone());
                    }
                }
                for p in hs {
                    let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                    let Some(h) = ours.get(&t) else {
                        // Scraped by one side only (the window's edges).
                        continue;
                    };
                    let want = &p[1];
                    assert_eq!(h.count, num(&want["count"]), "{labels:?} @{t} count");
                    assert!(close(h.sum, num(&want["sum"])), "{labels:?} @{t} sum");
                    let wb: Vec<B> = want["buckets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| (num(&b[1]), num(&b[2]), num(&b[3])))
                        .collect();
                    let gb = buckets(h);
                    assert_eq!(gb.len(), wb.len(), "{labels:?} @{t}: {gb:?} vs {wb:?}");
                    for (g, w) in gb.iter().zip(&wb) {
                        assert!(
                            close(g.0, w.0) && close(g.1, w.1) && g.2 == w.2,
                            "{labels:?} @{t}: {g:?} vs {w:?}"
                        );
                    }
                    compared += 1;
                }
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "compared {compared} histogram samples of {theirs_series} series with Prometheus 2.42"
    );
    assert!(
        theirs_series >= 3,
        "only {theirs_series} series from Prometheus"
    );
    assert!(compared >= 9, "only {compared} samples in common");
}
