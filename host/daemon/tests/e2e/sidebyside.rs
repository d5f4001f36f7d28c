//! The seed's dashboard, alert, SLO and debugging queries, answered by Sightline and by
//! Debian's Prometheus 2.42 from the same data, compared number by number (1e-9 relative).
//!
//! The data: Sightline scrapes the benchmark targets (`tests/tools/targets.py`) and the
//! node-exporter plugin every second. Every raw sample it stored is then read back over the
//! HTTP API and written out as OpenMetrics, which is loaded into a fresh Sightline with
//! `sightline import openmetrics` and into Prometheus with `promtool tsdb
//! create-blocks-from openmetrics`. Both servers then hold exactly the same samples (no stale
//! markers, which the text format cannot carry), and every query is asked of both as an
//! instant query at several times and as range queries.
//!
//! Prometheus 2.42 selects samples at exactly `t - range` into a range and 3.x (which
//! Sightline follows) does not; the query times are chosen so that no sample sits on a window
//! edge, so that difference cannot show.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    eventually, free_port, http_get, import_openmetrics, urlencode, vendored, Daemon,
};

/// Queries as the seed document writes them (each is checked to occur in it).
const SEED_QUERIES: &[&str] = &[
    // alerts.yml
    "up == 0",
    r#"rate(http_requests_total{status=~"5.."}[2m]) > 0.05"#,
    "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 1",
    r#"node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes < 0.1"#,
    "increase(node_vmstat_oom_kill[5m]) > 0",
    // The dashboard.
    "rate(http_requests_total[5m])",
    "rate(http_requests_total{status=~'5..'}[5m]) / rate(http_requests_total[5m])",
    "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))",
    "http_requests_active",
    // SLOs.
    "avg_over_time(up[30d])",
    "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[30d])) < 0.2",
    r#"rate(http_requests_total{status=~"5.."}[30d]) / rate(http_requests_total[30d]) < 0.001"#,
    // Debugging.
    "topk(5, rate(process_cpu_seconds_total[5m]))",
    "rate(process_resident_memory_bytes[1h])",
    r#"histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{endpoint="/api/search"}[5m]))"#,
    r#"sum by (endpoint, status) (rate(http_requests_total{status=~"5.."}[5m]))"#,
];

/// The alerts' and SLOs' expressions without their thresholds (so that an empty answer
/// cannot hide a wrong number), the benchmark's query list, and short windows whose edges
/// fall inside the data.
const MORE_QUERIES: &[&str] = &[
    "up",
    r#"rate(http_requests_total{status=~"5.."}[2m])"#,
    r#"node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes"#,
    "increase(node_vmstat_oom_kill[5m])",
    "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[30d]))",
    r#"rate(http_requests_total{status=~"5.."}[30d]) / rate(http_requests_total[30d])"#,
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "avg_over_time(up[30m])",
    r#"rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left sum without(status) (rate(http_requests_total[5m]))"#,
    "rate(http_requests_total[20s])",
    "increase(http_requests_total[13s])",
    "irate(http_requests_total[10s])",
    "delta(http_requests_active[17s])",
    "deriv(app_queue_depth[30s])",
    "predict_linear(http_requests_active[30s], 60)",
    "avg_over_time(http_requests_active[11s])",
    "max_over_time(app_queue_depth[9s]) - min_over_time(app_queue_depth[9s])",
    "stddev_over_time(process_resident_memory_bytes[25s])",
    "quantile_over_time(0.9, http_requests_active[15s])",
    "changes(node_load1[20s])",
    "histogram_quantile(0.5, sum by (le, method) (rate(http_request_duration_seconds_bucket[15s])))",
    "sum by (instance) (rate(node_cpu_seconds_total[10s]))",
    "count by (job) (up)",
    "quantile(0.75, http_requests_active)",
    "bottomk(3, sum by (endpoint) (http_requests_total))",
    "sum_over_time(up[10s:2s])",
    "max by (status) (rate(http_requests_total[30s] offset 10s))",
];

pub(crate) use crate::support::Proc;

pub(crate) use crate::support::need;

pub(crate) fn get_json(addr: &str, path: &str) -> Value {
    let (code, body) = http_get(addr, path).unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"));
    assert_eq!(code, 200, "GET {addr}{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {addr}{path}: {e}: {body}"))
}

/// Seconds with exactly three decimals for a millisecond timestamp.
pub(crate) fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn escape_label_value(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn without_whitespace(s: &str) -> String {
    s.split_whitespace().collect()
}

/// A result as label set → points (instant results have one point).
pub(crate) type Answer = BTreeMap<String, Vec<(i64, f64)>>;

fn parse_point(p: &Value) -> (i64, f64) {
    let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
    let v = match p[1].as_str().unwrap() {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        s => s.parse().unwrap(),
    };
    (t, v)
}

pub(crate) fn answer(v: &Value) -> (String, Answer) {
    let data = &v["data"];
    let kind = data["resultType"].as_str().unwrap_or("").to_string();
    let mut out = Answer::new();
    match kind.as_str() {
        "scalar" => {
            out.insert(String::new(), vec![parse_point(&data["result"])]);
        }
        _ => {
            for s in data["result"].as_array().unwrap() {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(s["metric"].clone()).unwrap();
                let key = format!("{labels:?}");
                let pts = match s.get("values") {
                    Some(vs) => vs.as_array().unwrap().iter().map(parse_point).collect(),
                    None => vec![parse_point(&s["value"])],
                };
                assert!(out.insert(key, pts).is_none(), "duplicate series in {v}");
            }
        }
    }
    (kind, out)
}

fn same_number(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Differences between two answers, as readable lines.
pub(crate) fn diff(ours: &(String, Answer), theirs: &(String, Answer)) -> Vec<String> {
    let mut d = Vec::new();
    if ours.0 != theirs.0 {
        d.push(format!("resultType {} vs {}", ours.0, theirs.0));
    }
    let keys: BTreeSet<&String> = ours.1.keys().chain(theirs.1.keys()).collect();
    for k in keys {
        match (ours.1.get(k), theirs.1.get(k)) {
            (Some(a), Some(b)) => {
                if a.len() != b.len() {
                    d.push(format!("{k}: {} points vs {}", a.len(), b.len()));
                    continue;
                }
                for (p, q) in a.iter().zip(b) {
                    if p.0 != q.0 || !same_number(p.1, q.1) {
                        d.push(format!("{k}: {p:?} vs {q:?}"));
                        break;
                    }
                }
            }
            (Some(_), None) => d.push(format!("{k}: only in Sightline")),
            (None, Some(_)) => d.push(format!("{k}: only in Prometheus")),
            (None, None) => {}
        }
    }
    d
}

#[test]
fn conformance_seed_queries_match_prometheus() {
    for cmd in ["prometheus", "promtool", "python3"] {
        need(cmd);
    }
    let seed = std::fs::read_to_string(vendored("seed/monitoring-setup.md")).unwrap();
    let seed_norm = without_whitespace(&seed);
    for q in SEED_QUERIES {
        assert!(
            seed_norm.contains(&without_whitespace(q)),
            "not in the seed document: {q}"
        );
    }

    // 1. Sightline scrapes the benchmark targets and the node exporter plugin.
    let work = tempfile::tempdir().unwrap();
    let targets = 3;
    let (_targets, taddr) = crate::support::bench_targets(targets, 150, 600);
    let mut config = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n",
    );
    for i in 0..targets {
        config.push_str(&format!(
            "      - targets: ['{taddr}']\n        labels: {{__metrics_path__: /metrics/{i}, instance: 'app-{i}'}}\n"
        ));
    }
    config.push_str("  - job_name: node\n    scrape_interval: 2s\n    plugin: node-exporter\n");
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let manifest =
        std::fs::read_to_string(sightline_tests::repo_root().join("plugins/node-exporter.toml"))
            .unwrap();
    sightline_tests::install(
        &plugins,
        "node-exporter",
        &sightline_tests::first_party("node-exporter"),
        Some(&manifest),
    );
    let scraper = Daemon::start_in(dir, Some(&config), &[]);
    let started = Instant::now();
    let up_count = |d: &Daemon| {
        let v = d.get_json("/api/v1/query?query=sum(up)");
        v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
    };
    eventually(60, "every target up", || {
        (up_count(&scraper) == Some(targets as f64 + 1.0)).then_some(())
    });
    // About a minute of data: longer than the short windows below, shorter than the long ones.
    let dwell = Duration::from_secs(60).saturating_sub(started.elapsed());
    std::thread::sleep(dwell);

    // 2. Every stored sample, read back through the API.
    let t_dump = sightline_model::now_ms() / 1000 * 1000;
    let dump = scraper.get_json(&format!(
        "/api/v1/query?query={}&time={}",
        urlencode(r#"{__name__=~".+"}[10m]"#),
        secs(t_dump)
    ));
    drop(scraper);
    let mut om = String::new();
    let mut residues = BTreeSet::new();
    let (mut n_series, mut n_samples, mut t_min) = (0, 0, i64::MAX);
    let mut series: Vec<(String, Vec<(i64, String)>)> = Vec::new();
    for s in dump["data"]["result"].as_array().unwrap() {
        let labels: BTreeMap<String, String> = serde_json::from_value(s["metric"].clone()).unwrap();
        let name = labels.get("__name__").cloned().unwrap_or_default();
        let rest: Vec<String> = labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label_value(v)))
            .collect();
        let text = format!("{name}{{{}}}", rest.join(","));
        let pts = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().to_string())
            })
            .collect();
        series.push((text, pts));
    }
    series.sort();
    for (text, pts) in &series {
        n_series += 1;
        for (t, v) in pts {
            n_samples += 1;
            t_min = t_min.min(*t);
            residues.insert(t.rem_euclid(1000));
            // Half a millisecond more, so that both importers' truncation to milliseconds
            // (Prometheus multiplies a float; Sightline reads the decimals) lands on `t`.
            om.push_str(&format!("{text} {v} {}5\n", secs(*t)));
        }
    }
    om.push_str("# EOF\n");
    assert!(
        n_series > targets * 150 && n_samples > n_series * 20,
        "too little data scraped: {n_series} series, {n_samples} samples"
    );
    let om_path = work.path().join("dump.om");
    std::fs::write(&om_path, &om).unwrap();

    // 3. The same samples into a fresh Sightline and into Prometheus.
    let sdir = tempfile::tempdir().unwrap();
    import_openmetrics(&om_path, sdir.path());
    let pdata = work.path().join("prometheus-data");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om_path)
        .arg(&pdata)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = Daemon::start_in(sdir, Some("scrape_configs: []\n"), &[]);
    let pcfg = work.path().join("prometheus.yml");
    std::fs::write(&pcfg, "scrape_configs: []\n").unwrap();
    let paddr = format!("127.0.0.1:{}", free_port());
    let _prom = Proc(
        Command::new("prometheus")
            .arg(format!("--config.file={}", pcfg.display()))
            .arg(format!("--storage.tsdb.path={}", pdata.display()))
            .arg(format!("--web.listen-address={paddr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    eventually(60, "prometheus ready", || {
        http_get(&paddr, "/-/ready").ok().filter(|r| r.0 == 200)
    });
    // Both must hold exactly the dumped samples before anything else is compared.
    let all = format!(
        "/api/v1/query?query={}&time={}",
        urlencode(r#"{__name__=~".+"}[10m]"#),
        secs(t_dump)
    );
    let (a, b) = (
        answer(&get_json(&ours.addr, &all)),
        answer(&get_json(&paddr, &all)),
    );
    let loaded: usize = b.1.values().map(Vec::len).sum();
    assert_eq!(loaded, n_samples, "samples loaded into Prometheus");
    let d = diff(&a, &b);
    assert!(
        d.is_empty(),
        "stored data differs: {:?}",
        &d[..d.len().min(5)]
    );

    // 4. Query times whose millisecond part no sample has: no sample sits on a window edge.
    let free = (0..1000i64)
        .map(|k| (k * 7 + 500) % 1000)
        .find(|r| !residues.contains(r))
        .expect("a free millisecond residue");
    let at = |t: i64| t.div_euclid(1000) * 1000 + free;
    let end = at(t_dump - 2_000);
    let begin = at(t_min.max(t_dump - 60_000));
    let instants = [end, end - 7_000, end - 23_000, begin + 9_000];
    let ranges = [
        (begin + 5_000, end, 1_000),
        (begin, end, 4_000),
        (end - 20_000, end, 3_000),
    ];
    let mut requests = Vec::new();
    for q in SEED_QUERIES.iter().chain(MORE_QUERIES) {
        for t in instants {
            requests.push(format!(
                "/api/v1/query?query={}&time={}",
                urlencode(q),
                secs(t)
            ));
        }
        for (a, b, step) in ranges {
            let a = b - (b - a) / step * step;
            requests.push(format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}",
                urlencode(q),
                secs(a),
                secs(b),
                step / 1000
            ));
        }
    }
    let mut failures = Vec::new();
    let (mut points, mut nonempty) = (0, 0);
    for r in &requests {
        let a = answer(&get_json(&ours.addr, r));
        let b = answer(&get_json(&paddr, r));
        points += b.1.values().map(Vec::len).sum::<usize>();
        if !b.1.is_empty() {
            nonempty += 1;
        }
        let d = diff(&a, &b);
        if !d.is_empty() {
            failures.push(format!(
                "{r}\n      {}",
                d.into_iter().take(5).collect::<Vec<_>>().join("\n      ")
            ));
        }
    }
    println!(
        "side-by-side with Prometheus 2.42: {}/{} requests identical within 1e-9 \
         ({} queries, {points} points, {nonempty} non-empty answers; {n_series} series, \
         {n_samples} samples)",
        requests.len() - failures.len(),
        requests.len(),
        SEED_QUERIES.len() + MORE_QUERIES.len(),
    );
    assert!(
        failures.is_empty(),
        "answers differ from Prometheus:\n  {}",
        failures.join("\n  ")
    );
    // The comparison must have compared something.
    assert!(
        nonempty * 10 > requests.len() * 7,
        "too many empty answers: {nonempty}/{}",
        requests.len()
    );
}
