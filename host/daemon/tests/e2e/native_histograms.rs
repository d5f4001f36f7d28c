//! Native histograms side by side: Debian's Prometheus 2.42 (`--enable-feature=native-histograms`)
//! and Sightline scrape the same protobuf targets (`tests/tools/hist_target.py`), and the same
//! histogram queries are asked of both and compared number by number (1e-9 relative).
//!
//! The targets stamp every sample with the time rounded down to an even second (`--quantize
//! 2`) and both servers scrape every second, so they store exactly the same samples whatever
//! their scrape phases. Queries are asked at odd seconds with even ranges, so no window edge
//! falls on a sample and 2.42's closed range windows select what 3.x's left-open ones (which
//! Sightline follows) do.
//!
//! Where 2.42's semantics differ from 3.x's, the query is listed in `DIFFERENT_IN_3X` with
//! the reason and checked another way: quantiles and fractions within 1% of 2.42's (3.x
//! changed the interpolation inside exponential buckets), and what 2.42 cannot compute
//! (scaling, `last_over_time`, `avg`, `sum_over_time` of histograms) against 2.42's raw
//! samples or for shape.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::sidebyside::{get_json, secs};
use crate::support::{eventually, free_port, http_get, need, urlencode, vendored, Daemon, Proc};

const METRIC: &str = "http_request_duration_seconds";

/// Queries whose 2.42 and 3.x answers agree. Ranges are even so that, asked at an odd
/// second, no window starts on a sample (2.42's windows are closed on the left, 3.x's open).
const SAME: &[&str] = &[
    "http_request_duration_seconds",
    "http_request_duration_seconds offset 4s",
    "histogram_count(http_request_duration_seconds)",
    "histogram_sum(http_request_duration_seconds)",
    "rate(http_request_duration_seconds[8s])",
    "increase(http_request_duration_seconds[12s])",
    "histogram_count(rate(http_request_duration_seconds[8s]))",
    "histogram_sum(rate(http_request_duration_seconds[8s]))",
    "sum(rate(http_request_duration_seconds[8s]))",
    "sum by (job) (rate(http_request_duration_seconds[8s]))",
    "histogram_count(sum by (method) (increase(http_request_duration_seconds[12s])))",
    "http_request_duration_seconds + http_request_duration_seconds",
    "histogram_sum(rate(http_request_duration_seconds[8s])) / histogram_count(rate(http_request_duration_seconds[8s]))",
    "count(http_request_duration_seconds)",
];

/// Queries 2.42 answers differently from 3.x (which Sightline follows), with why, and how
/// Sightline's answer is checked instead.
const DIFFERENT_IN_3X: &[(&str, &str, Check)] = &[
    (
        "histogram_quantile(0.9, rate(http_request_duration_seconds[8s]))",
        "3.x interpolates inside exponential buckets exponentially, 2.42 linearly",
        Check::Within1Percent,
    ),
    (
        "histogram_quantile(0.5, sum by (method) (rate(http_request_duration_seconds[8s])))",
        "3.x interpolates inside exponential buckets exponentially, 2.42 linearly",
        Check::Within1Percent,
    ),
    (
        "histogram_fraction(0, 0.01, rate(http_request_duration_seconds[8s]))",
        "3.x interpolates inside exponential buckets exponentially, 2.42 linearly",
        Check::Within1Percent,
    ),
    (
        "http_request_duration_seconds * 2",
        "2.42 returns the histogram unscaled",
        Check::TwiceTheCount,
    ),
    (
        "last_over_time(http_request_duration_seconds[4s])",
        "2.42 answers 0 for histograms",
        Check::TheLatest,
    ),
    (
        "avg(http_request_duration_seconds)",
        "2.42 answers 0 for histograms",
        Check::Histograms,
    ),
    (
        "sum_over_time(http_request_duration_seconds[4s])",
        "2.42 answers 0 for histograms",
        Check::Histograms,
    ),
];

/// How a query of [`DIFFERENT_IN_3X`] is checked.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// Floats within 1% of 2.42's (the interpolation changed, not the data).
    Within1Percent,
    /// Histograms with twice the count of 2.42's raw series.
    TwiceTheCount,
    /// The raw series' histograms, as 2.42 answers for the plain selector.
    TheLatest,
    /// Histograms, one per series at least.
    Histograms,
}

/// A sample of an answer: a float, or a histogram as (count, sum, buckets as [rule, lo, hi,
/// count]).
#[derive(Debug, Clone)]
enum Point {
    Float(f64),
    Hist(f64, f64, Vec<(i64, f64, f64, f64)>),
}

fn num(v: &Value) -> f64 {
    match v.as_str().unwrap_or_default() {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        s => s.parse().unwrap_or_else(|_| panic!("not a number: {v}")),
    }
}

fn hist(v: &Value) -> Point {
    let buckets = v["buckets"]
        .as_array()
        .map(|bs| {
            bs.iter()
                .map(|b| {
                    (
                        b[0].as_i64().unwrap_or(-1),
                        num(&b[1]),
                        num(&b[2]),
                        num(&b[3]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Point::Hist(num(&v["count"]), num(&v["sum"]), buckets)
}

/// An answer as series (labels) → (time in ms, point).
fn answer(v: &Value) -> BTreeMap<String, Vec<(i64, Point)>> {
    answer_keyed(v, true)
}

/// As [`answer`], keyed by the labels without `__name__` unless `named`.
fn answer_keyed(v: &Value, named: bool) -> BTreeMap<String, Vec<(i64, Point)>> {
    let mut out = BTreeMap::new();
    let t = |p: &Value| (p.as_f64().unwrap_or_default() * 1000.0).round() as i64;
    for s in v["data"]["result"].as_array().expect("a vector or matrix") {
        let mut labels: BTreeMap<String, String> =
            serde_json::from_value(s["metric"].clone()).unwrap_or_default();
        if !named {
            labels.remove("__name__");
        }
        let mut pts = Vec::new();
        if let Some(p) = s.get("value") {
            pts.push((t(&p[0]), Point::Float(num(&p[1]))));
        }
        if let Some(p) = s.get("histogram") {
            pts.push((t(&p[0]), hist(&p[1])));
        }
        for p in s
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            pts.push((t(&p[0]), Point::Float(num(&p[1]))));
        }
        for p in s
            .get("histograms")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            pts.push((t(&p[0]), hist(&p[1])));
        }
        pts.sort_by_key(|p| p.0);
        out.insert(format!("{labels:?}"), pts);
    }
    out
}

fn same(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn same_point(a: &Point, b: &Point) -> bool {
    match (a, b) {
        (Point::Float(x), Point::Float(y)) => same(*x, *y),
        (Point::Hist(c1, s1, b1), Point::Hist(c2, s2, b2)) => {
            same(*c1, *c2)
                && same(*s1, *s2)
                && b1.len() == b2.len()
                && b1
                    .iter()
                    .zip(b2)
                    .all(|(p, q)| p.0 == q.0 && same(p.1, q.1) && same(p.2, q.2) && same(p.3, q.3))
        }
        _ => false,
    }
}

fn diff(q: &str, ours: &Value, theirs: &Value) -> Vec<String> {
    let (a, b) = (answer(ours), answer(theirs));
    let mut d = Vec::new();
    if a.is_empty() {
        d.push(format!("{q}: empty answer from Sightline"));
    }
    for k in a.keys().chain(b.keys()) {
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => {
                if x.len() != y.len() {
                    d.push(format!("{q}: {k}: {} points vs {}", x.len(), y.len()));
                } else if let Some((p, r)) = x
                    .iter()
                    .zip(y)
                    .find(|(p, r)| p.0 != r.0 || !same_point(&p.1, &r.1))
                {
                    d.push(format!("{q}: {k}: {p:?} vs {r:?}"));
                }
            }
            (Some(_), None) => d.push(format!("{q}: {k}: only in Sightline")),
            (None, Some(_)) => d.push(format!("{q}: {k}: only in Prometheus")),
            (None, None) => {}
        }
    }
    d.dedup();
    d
}

fn start_targets() -> (Proc, String) {
    need("python3");
    let port = free_port();
    let proc = Proc(
        Command::new("python3")
            .arg(vendored("tools/hist_target.py"))
            .args(["--targets", "2", "--series", "4", "--quantize", "2"])
            .args(["--port", &port.to_string(), "--max-seconds", "600"])
            .args([
                "--epoch",
                &(sightline_model::now_ms() / 1000 - 3_600).to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs hist_target.py"),
    );
    let addr = format!("127.0.0.1:{port}");
    eventually(30, "hist_target.py", || {
        http_get(&addr, "/-/healthy").ok().filter(|r| r.0 == 200)
    });
    (proc, addr)
}

fn scrape_config(targets: &str, extra_global: &str) -> String {
    let mut s = format!(
        "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n{extra_global}scrape_configs:\n"
    );
    for i in 0..2 {
        s.push_str(&format!(
            "- job_name: h{i}\n  metrics_path: /metrics/{i}\n  static_configs: [{{targets: ['{targets}']}}]\n"
        ));
    }
    s
}

#[test]
fn native_histograms_match_prometheus_2_42() {
    let (_targets, taddr) = start_targets();
    let pdir = tempfile::tempdir().expect("tempdir");
    let (_prom, paddr) = crate::support::start_prometheus(
        pdir.path(),
        &scrape_config(&taddr, ""),
        &["--enable-feature=native-histograms"],
    );
    let d = Daemon::start(
        Some(&scrape_config(&taddr, "  scrape_native_histograms: true\n")),
        &[],
    );
    // 30 s of data in both.
    let start = sightline_model::now_ms();
    let query_at = |addr: &str, q: &str, t: i64| {
        get_json(
            addr,
            &format!("/api/v1/query?query={}&time={}", urlencode(q), secs(t)),
        )
    };
    eventually(120, "50 s of histograms in both", || {
        let t = sightline_model::now_ms();
        (t - start > 50_000).then_some(())
    });
    let ready = |addr: &str| {
        let v = query_at(addr, &format!("count({METRIC})"), sightline_model::now_ms());
        v["data"]["result"][0]["value"][1].as_str() == Some("8")
    };
    assert!(ready(&paddr), "Prometheus holds the 8 histograms");
    assert!(ready(&d.addr), "Sightline holds the 8 histograms");
    // Query times are odd seconds, away from every (even-second) sample. On a loaded machine
    // a scrape can come late enough to miss a 2-second sample in one server only, and then
    // the servers hold different data: the queries are asked where the last 30 s (every
    // window and offset below reaches back at most 28 s) hold the same raw samples in both.
    let now = sightline_model::now_ms() / 1000 * 1000;
    let raw = format!("{METRIC}[30s]");
    let end = (2..=20)
        .map(|back| now - back * 1000)
        .filter(|t| (t / 1000) % 2 != 0)
        .find(|&t| {
            diff(
                &raw,
                &query_at(&d.addr, &raw, t),
                &query_at(&paddr, &raw, t),
            )
            .is_empty()
        })
        .unwrap_or_else(|| {
            let t = now - 3000;
            panic!(
                "no recent 30 s in which both servers hold the same samples; at {t}: {:?}",
                diff(
                    &raw,
                    &query_at(&d.addr, &raw, t),
                    &query_at(&paddr, &raw, t)
                )
            )
        });
    let times: Vec<i64> = vec![end, end - 6_000, end - 12_000];
    let mut diffs = Vec::new();
    let mut compared = 0;
    for q in SAME {
        for &t in &times {
            let ours = query_at(&d.addr, q, t);
            let theirs = query_at(&paddr, q, t);
            diffs.extend(diff(q, &ours, &theirs));
            compared += 1;
        }
        // And a range query over the last 16 s, 2 s steps, on odd seconds.
        let (s, e) = (times[2], times[0]);
        let path = |q: &str| {
            format!(
                "/api/v1/query_range?query={}&start={}&end={}&step=2",
                urlencode(q),
                secs(s),
                secs(e)
            )
        };
        if !q.contains("offset") {
            let ours = get_json(&d.addr, &path(q));
            let theirs = get_json(&paddr, &path(q));
            diffs.extend(diff(&format!("range {q}"), &ours, &theirs));
            compared += 1;
        }
    }
    for (q, why, check) in DIFFERENT_IN_3X {
        let t = times[0];
        let ours = answer(&query_at(&d.addr, q, t));
        assert!(!ours.is_empty(), "{q} ({why}): Sightline answers");
        let raw = answer_keyed(&query_at(&paddr, METRIC, t), false);
        let ours = answer_keyed(&query_at(&d.addr, q, t), false);
        let theirs = answer_keyed(&query_at(&paddr, q, t), false);
        for (k, pts) in &ours {
            let p = &pts[0].1;
            let fail = |what: &str| format!("{q} ({why}): {k}: {what}: {p:?}");
            match check {
                Check::Within1Percent => {
                    let Some(Point::Float(x)) = theirs.get(k).map(|v| v[0].1.clone()) else {
                        panic!("{}", fail("2.42 has no float"));
                    };
                    let Point::Float(o) = p else {
                        panic!("{}", fail("not a float"));
                    };
                    assert!(
                        (o - x).abs() <= 0.01 * x.abs(),
                        "{}",
                        fail(&format!("2.42: {x}"))
                    );
                }
                Check::TwiceTheCount | Check::TheLatest => {
                    let Some(Point::Hist(c, _, _)) = raw.get(k).map(|v| v[0].1.clone()) else {
                        panic!("{}", fail("2.42 has no raw histogram"));
                    };
                    let Point::Hist(oc, _, _) = p else {
                        panic!("{}", fail("not a histogram"));
                    };
                    let want = if matches!(check, Check::TwiceTheCount) {
                        2.0 * c
                    } else {
                        c
                    };
                    assert!(
                        same(*oc, want),
                        "{}",
                        fail(&format!("count {want} expected"))
                    );
                    if matches!(check, Check::TheLatest) {
                        assert!(
                            same_point(p, &raw[k][0].1),
                            "{}",
                            fail("not the raw sample")
                        );
                    }
                }
                Check::Histograms => {
                    assert!(matches!(p, Point::Hist(..)), "{}", fail("not a histogram"));
                }
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {compared} comparisons differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    eprintln!(
        "native histograms side by side: {compared}/{compared} comparisons agree; {} queries differ by design",
        DIFFERENT_IN_3X.len()
    );
}
