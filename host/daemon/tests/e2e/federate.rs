//! `/federate` side by side with Debian's Prometheus 2.42: both scrape the same targets (the
//! benchmark targets and a static target whose values never move, with the values the
//! text format finds hard: `±Inf`, `NaN`, exponents, escapes) under the same
//! `external_labels`, and answer the same `match[]` requests. Then a second Prometheus
//! federates from Sightline and must hold the series with the labels, values and timestamps
//! Sightline served.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    bench_targets, eventually, http_exchange, http_get, need, urlencode, Daemon, TargetServer,
};

/// The static target: gauges that never move, so both servers must write identical lines.
const STATIC_BODY: &str = r#"# TYPE static_gauge gauge
static_gauge{kind="big"} 1e+21
static_gauge{kind="small"} 1e-07
static_gauge{kind="million"} 1234567
static_gauge{kind="tenth"} 0.1
static_gauge{kind="neg"} -0.5
static_gauge{kind="zero"} 0
static_gauge{kind="inf"} +Inf
static_gauge{kind="ninf"} -Inf
static_gauge{kind="nan"} NaN
static_gauge{kind="esc",path="C:\\dir \"q\"\nx"} 3
static_gauge{kind="region",region="own"} 4
# TYPE static_noinst gauge
static_noinst 7
# TYPE static_total counter
static_total 42
"#;

fn config(bench: &str, stat: &str) -> String {
    format!(
        r#"global:
  scrape_interval: 1s
  external_labels:
    cluster: east
    region: r1
scrape_configs:
  - job_name: bench
    metrics_path: /metrics/0
    static_configs: [{{targets: ["{bench}"]}}]
  - job_name: static
    static_configs: [{{targets: ["{stat}"]}}]
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: static_noinst
        target_label: instance
        replacement: ""
"#
    )
}

/// GET `/federate` with these selectors: status, response head and body.
fn federate(addr: &str, selectors: &[&str], headers: &[(&str, &str)]) -> (u16, String, String) {
    let q: Vec<String> = selectors
        .iter()
        .map(|s| format!("match[]={}", urlencode(s)))
        .collect();
    http_exchange(
        addr,
        "GET",
        &format!("/federate?{}", q.join("&")),
        headers,
        b"",
    )
    .unwrap_or_else(|e| panic!("GET {addr}/federate: {e}"))
}

/// One federated sample: the series as written (name and labels in their order), the value
/// as written, and the timestamp.
#[derive(Debug, Clone)]
struct Line {
    value: String,
    t: i64,
}

/// An exposition as its `# TYPE` lines in order and its samples by series.
#[derive(Debug, Default)]
struct Exposition {
    types: Vec<String>,
    samples: BTreeMap<String, Line>,
}

fn parse(body: &str) -> Exposition {
    let mut e = Exposition::default();
    for l in body.lines() {
        if l.starts_with('#') {
            e.types.push(l.to_string());
            continue;
        }
        let mut it = l.rsplitn(3, ' ');
        let (t, value, series) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        let line = Line {
            value: value.to_string(),
            t: t.parse().unwrap(),
        };
        assert!(
            e.samples.insert(series.to_string(), line).is_none(),
            "series twice in {body}"
        );
    }
    e
}

/// How fast a benchmark series can change, per second (from `tests/tools/targets.py`: the
/// values are functions of time with these derivative bounds, plus one for rounding to
/// integers).
fn max_rate(series: &str) -> f64 {
    let name = series.split('{').next().unwrap();
    match name {
        // rate × (1 + amplitude) ≤ 40 × 0.6 × 1.3 × 1.9.
        "http_requests_total" => 60.0,
        // Buckets and count: fast + slow traffic, ≤ 24 × 2; the sum weighs them by a mean
        // latency of at most 2.3 s.
        "http_request_duration_seconds_bucket" | "http_request_duration_seconds_count" => 50.0,
        "http_request_duration_seconds_sum" => 120.0,
        // 10 sin(t/37).
        "http_requests_active" => 0.3,
        // 20e6 sin(t/90) + 4096 t.
        "process_resident_memory_bytes" => 230_000.0,
        "process_cpu_seconds_total" => 0.6,
        // amplitude ≤ 50, period ≥ 30 s.
        "app_queue_depth" => 11.0,
        // Constant: `process_start_time_seconds`.
        _ => 0.0,
    }
}

/// Same series (names and label sets as written) from both; for the static job, the same
/// value strings; for the benchmark targets, values within what they can move between the
/// two servers' scrape instants.
fn assert_same(what: &str, ours: &Exposition, prom: &Exposition) {
    assert_eq!(ours.types, prom.types, "{what}: families");
    let (a, b): (BTreeSet<&String>, BTreeSet<&String>) =
        (ours.samples.keys().collect(), prom.samples.keys().collect());
    assert_eq!(a, b, "{what}: series");
    for (k, o) in &ours.samples {
        let p = &prom.samples[k];
        if k.starts_with("scrape_duration_seconds{") {
            // How long each server took to scrape: nothing to compare.
            continue;
        }
        if k.contains("job=\"static\"") || !k.starts_with(|c: char| "ahp".contains(c)) {
            assert_eq!(o.value, p.value, "{what}: {k}");
            continue;
        }
        let (vo, vp): (f64, f64) = (o.value.parse().unwrap(), p.value.parse().unwrap());
        let dt = (o.t - p.t).abs() as f64 / 1000.0;
        let tol = 1.0 + max_rate(k) * (dt + 0.01);
        assert!(
            (vo - vp).abs() <= tol,
            "{what}: {k}: ours {vo} at {}, Prometheus {vp} at {} (tolerance {tol})",
            o.t,
            p.t
        );
    }
}

/// The response head of a GET whose body may not be text (a gzip body).
fn raw_head(addr: &str, path: &str, headers: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).to_string()
}

fn query(addr: &str, q: &str) -> Vec<Value> {
    let (code, body) = http_get(addr, &format!("/api/v1/query?query={}", urlencode(q))).unwrap();
    assert_eq!(code, 200, "{q}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"].as_array().unwrap().clone()
}

#[test]
fn federate_matches_prometheus_and_prometheus_federates_from_sightline() {
    need("prometheus");
    let (_bench, bench) = bench_targets(1, 120, 300);
    let stat = TargetServer::start("text/plain; version=0.0.4", STATIC_BODY);
    let cfg = config(&bench, &stat.addr);
    let ours = Daemon::start(Some(&cfg), &[]);
    let pdir = tempfile::tempdir().unwrap();
    let (_prom, prom) = crate::support::start_prometheus(pdir.path(), &cfg, &[]);

    // Both have scraped both jobs a few times.
    for addr in [&ours.addr, &prom] {
        eventually(60, "two targets up", || {
            let (c, _, b) = federate(addr, &["up"], &[]);
            let up: Vec<&str> = b.lines().filter(|l| l.starts_with("up{")).collect();
            (c == 200 && up.len() == 2 && up.iter().all(|l| l.contains("} 1 "))).then_some(())
        });
    }
    std::thread::sleep(Duration::from_secs(3));

    let cases: &[&[&str]] = &[
        &["up"],
        &[r#"{__name__=~"http_requests_.*|app_queue_depth"}"#],
        &[r#"{job="static"}"#],
        &[r#"{job="bench"}"#],
        &["up", r#"{job="static"}"#, r#"static_gauge{kind=~"n.*"}"#],
        &[r#"{__name__=~".+"}"#],
        // Only matchers that match "": every series without `cluster` (all of them).
        &[r#"{cluster=""}"#],
        &["nothing_matches_this"],
        &["{}"],
        &[],
    ];
    for sels in cases {
        let (co, ho, bo) = federate(&ours.addr, sels, &[]);
        let (cp, _, bp) = federate(&prom, sels, &[]);
        assert_eq!((co, cp), (200, 200), "{sels:?}: {bo} / {bp}");
        assert!(
            ho.to_ascii_lowercase()
                .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
            "{ho}"
        );
        let (eo, ep) = (parse(&bo), parse(&bp));
        assert_same(&format!("{sels:?}"), &eo, &ep);
        if sels.is_empty() || sels[0] == "nothing_matches_this" || sels[0] == "{}" {
            assert!(bo.is_empty() && bp.is_empty(), "{sels:?}: {bo}");
        } else {
            assert!(!eo.samples.is_empty(), "{sels:?}: nothing federated");
        }
    }
    // The static job's lines are written byte for byte as Prometheus writes them.
    let (_, _, bo) = federate(&ours.addr, &[r#"{job="static"}"#], &[]);
    for want in [
        r#"static_gauge{instance="STAT",job="static",kind="big",cluster="east",region="r1"} 1e+21"#,
        r#"static_gauge{instance="STAT",job="static",kind="small",cluster="east",region="r1"} 1e-07"#,
        r#"static_gauge{instance="STAT",job="static",kind="million",cluster="east",region="r1"} 1.234567e+06"#,
        r#"static_gauge{instance="STAT",job="static",kind="nan",cluster="east",region="r1"} NaN"#,
        r#"static_gauge{instance="STAT",job="static",kind="region",region="own",cluster="east"} 4"#,
        r#"static_gauge{instance="STAT",job="static",kind="esc",path="C:\\dir \"q\"\nx",cluster="east",region="r1"} 3"#,
        r#"static_noinst{job="static",cluster="east",instance="",region="r1"} 7"#,
        "# TYPE static_total untyped",
    ] {
        let want = want.replace("STAT", &stat.addr);
        assert!(bo.contains(&want), "{want} not in {bo}");
    }

    // Bad selectors: 400 and Prometheus' text.
    for bad in [
        "up{",
        "foo[5m]",
        "rate(x[1m])",
        "",
        r#"{__name__=~"x""#,
        "up}",
    ] {
        let (co, ho, bo) = federate(&ours.addr, &["up", bad], &[]);
        let (cp, _, bp) = federate(&prom, &["up", bad], &[]);
        assert_eq!((co, bo.as_str()), (cp, bp.as_str()), "{bad:?}");
        assert_eq!(co, 400, "{bad:?}");
        assert!(ho
            .to_ascii_lowercase()
            .contains("text/plain; charset=utf-8"));
    }

    // Compression when asked for, and OpenMetrics (which 2.42 never serves) when asked for.
    let head = raw_head(
        &ours.addr,
        "/federate?match[]=up",
        "Accept-Encoding: gzip\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    let (c, head, body) = federate(
        &ours.addr,
        &["static_noinst"],
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
    );
    assert_eq!(c, 200);
    assert!(
        head.contains("application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(body.starts_with("# TYPE static_noinst unknown\nstatic_noinst{job=\"static\",cluster=\"east\",instance=\"\",region=\"r1\"} 7 "), "{body}");
    assert!(body.ends_with("\n# EOF\n"), "{body}");

    // A Prometheus federating from Sightline (it asks for OpenMetrics first, and gzip).
    let fdir = tempfile::tempdir().unwrap();
    let (_fed, fed) = crate::support::start_prometheus(
        fdir.path(),
        &format!(
            r#"global:
  scrape_interval: 1s
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{{job="static"}}', 'up']
    static_configs: [{{targets: ["{}"]}}]
"#,
            ours.addr
        ),
        &[],
    );
    let got = eventually(60, "federated series in Prometheus", || {
        let r = query(&fed, r#"{__name__=~"static_.*|up", job!="federate"}"#);
        (r.len() == 15).then_some(r)
    });
    let mut got_labels: BTreeMap<String, String> = BTreeMap::new();
    for s in &got {
        let m: BTreeMap<String, String> = serde_json::from_value(s["metric"].clone()).unwrap();
        got_labels.insert(
            format!("{m:?}"),
            s["value"][1].as_str().unwrap().to_string(),
        );
    }
    let key = |pairs: &[(&str, &str)]| {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.replace("STAT", &stat.addr)))
            .collect();
        format!("{m:?}")
    };
    let base = [("job", "static"), ("instance", "STAT"), ("cluster", "east")];
    let with = |extra: &[(&str, &str)]| -> String {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        key(&v)
    };
    for (k, v) in [
        (
            with(&[
                ("__name__", "static_gauge"),
                ("kind", "big"),
                ("region", "r1"),
            ]),
            "1e+21",
        ),
        (
            with(&[
                ("__name__", "static_gauge"),
                ("kind", "nan"),
                ("region", "r1"),
            ]),
            "NaN",
        ),
        (
            with(&[
                ("__name__", "static_gauge"),
                ("kind", "ninf"),
                ("region", "r1"),
            ]),
            "-Inf",
        ),
        (
            with(&[
                ("__name__", "static_gauge"),
                ("kind", "region"),
                ("region", "own"),
            ]),
            "4",
        ),
        (
            with(&[
                ("__name__", "static_gauge"),
                ("kind", "esc"),
                ("path", "C:\\dir \"q\"\nx"),
                ("region", "r1"),
            ]),
            "3",
        ),
        // No instance: the federating Prometheus does not attach its own.
        (
            key(&[
                ("__name__", "static_noinst"),
                ("job", "static"),
                ("cluster", "east"),
                ("region", "r1"),
            ]),
            "7",
        ),
        (
            key(&[
                ("__name__", "up"),
                ("job", "bench"),
                ("instance", &bench),
                ("cluster", "east"),
                ("region", "r1"),
            ]),
            "1",
        ),
    ] {
        assert_eq!(
            got_labels.get(&k).map(String::as_str),
            Some(v),
            "{k} in {got_labels:#?}"
        );
    }
    // Timestamps are Sightline's, to the millisecond: every sample the federating Prometheus
    // holds for a series is one Sightline stored.
    let times = |addr: &str| -> BTreeSet<i64> {
        query(addr, "static_total[1h]")
            .iter()
            .flat_map(|s| s["values"].as_array().unwrap().clone())
            .map(|p| (p[0].as_f64().unwrap() * 1000.0).round() as i64)
            .collect()
    };
    let fed_times = times(&fed);
    let our_times = times(&ours.addr);
    assert!(!fed_times.is_empty());
    assert!(
        fed_times.is_subset(&our_times),
        "federated timestamps {fed_times:?} not among Sightline's {our_times:?}"
    );
    assert!(
        fed_times.iter().any(|t| t % 1000 != 0),
        "no sub-second timestamp to check: {fed_times:?}"
    );

    // A reload brings the new external labels.
    std::fs::write(
        ours.config_path(),
        cfg.replace("cluster: east", "cluster: west"),
    )
    .unwrap();
    ours.send_signal("HUP");
    eventually(30, "the reloaded external labels", || {
        let (_, _, b) = federate(&ours.addr, &["static_total"], &[]);
        b.contains("cluster=\"west\"").then_some(())
    });
}
