//! Sightline's outgoing remote write (`remote_write:` in prometheus.yml) against real
//! receivers on loopback: Debian's Prometheus 2.42 (`--web.enable-remote-write-receiver`),
//! Debian's VictoriaMetrics, and Sightline's own receiver over 1.0 and 2.0.
//!
//! The sender scrapes the benchmark targets (`tests/tools/targets.py`) every second. A
//! comparison picks a cut time a little in the past, waits until the queue has delivered up
//! to it (`sightline_remote_storage_queue_highest_sent_timestamp_seconds` past the cut and
//! `sightline_remote_storage_samples_pending` 0), then compares every raw sample at or before
//! the cut: on Sightline and Prometheus with the range-vector instant query
//! `{job="app"}[10m]` at the cut (the window holds the whole test), on VictoriaMetrics with
//! `/api/v1/export` over the same window (its raw samples, not MetricsQL, whose range
//! functions differ from PromQL's). Timestamps must be equal and values equal up to 1e-9
//! relative (VictoriaMetrics keeps about 15 significant digits). The comparison is retried for
//! a while, because a receiver may make what it accepted visible a little later
//! (VictoriaMetrics' export sees rows once they are flushed, within seconds).
//!
//! Outages: a receiver killed and restarted on the same port and data, and the sender killed
//! with SIGKILL and restarted on its data; afterwards the receiver holds every sample the
//! sender holds, counted per series. Failures: a `write_relabel_configs` drop, a receiver
//! answering 400 (dropped, counted, never retried), 429 with and without `retry_on_http_429`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sidebyside::{answer, diff, get_json, secs, Answer};
use crate::support::{
    bench_targets, eventually, free_port, http_get, need, start_prometheus, start_prometheus_on,
    start_victoria_metrics, urlencode, Daemon,
};

/// Benchmark targets scraped by the sender, and series per target (about 90 series with
/// `up` and the scrape's own series).
const TARGETS: usize = 2;
const SERIES: usize = 40;

/// How long a receiver stays down in [`receiver_outage_loses_nothing`]: a minute, as the issue
/// asks (connection refused, retries with backoff capped at 1 s, the WAL reader blocked behind
/// a full queue, then the catch-up).
const OUTAGE: Duration = Duration::from_secs(60);

/// The scrape part of a sender's configuration: `TARGETS` benchmark targets every second.
fn scrape_config(taddr: &str) -> String {
    let mut c = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n",
    );
    for i in 0..TARGETS {
        c.push_str(&format!(
            "      - targets: ['{taddr}']\n        labels: {{__metrics_path__: /metrics/{i}, instance: 'app-{i}'}}\n"
        ));
    }
    c
}

/// One `remote_write` entry: batches sent within a second and retries at most a second
/// apart (so catch-up after an outage takes seconds), `queue` appended to the
/// `queue_config` map and `extra` lines (indented by four) added to the entry.
fn remote(name: Option<&str>, url: &str, queue: &str, extra: &str) -> String {
    let name = name.map(|n| format!("    name: {n}\n")).unwrap_or_default();
    format!(
        "  - url: {url}\n{name}    queue_config: {{batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 1s{queue}}}\n{extra}"
    )
}

/// A sender's whole configuration: the scrape part and these `remote_write` entries.
fn sender_config(taddr: &str, remotes: &[String]) -> String {
    format!(
        "{}remote_write:\n{}",
        scrape_config(taddr),
        remotes.concat()
    )
}

fn metrics(addr: &str) -> String {
    // 30 s, not the suite's usual 10: right after a kill -9 the sender replays its WAL and
    // resends, and with the whole suite on two cores one read of /metrics once timed out
    // (EAGAIN) at 10 s (session 21). Still bounded, and an answer is still required.
    let (code, body) =
        sightline_tests::http_exchange(addr, "GET", "/metrics", &[], b"", Duration::from_secs(30))
            .map(|(c, _, b)| (c, b))
            .unwrap_or_else(|e| panic!("{addr}/metrics: {e}"));
    assert_eq!(code, 200, "{addr}/metrics: {body}");
    body
}

/// The sum of the samples of `sightline_remote_storage_<name>` whose labels contain `sel`
/// (`remote_name="x"` or `url="..."`); 0 when there is none.
fn rs_in(text: &str, name: &str, sel: &str) -> f64 {
    let full = format!("sightline_remote_storage_{name}");
    rs_lines(text, &full, sel)
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// Lines `(labels, value)` of metric `full` whose labels contain `sel`.
fn rs_lines<'a>(
    text: &'a str,
    full: &'a str,
    sel: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(move |l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, labels) = series.split_once('{').unwrap_or((series, ""));
            (n == full && labels.contains(sel)).then_some((labels, value))
        })
}

fn named(remote: &str) -> String {
    format!("remote_name=\"{remote}\"")
}

/// The sender's figure `name` for the remote named `remote`.
fn rs(addr: &str, name: &str, remote: &str) -> f64 {
    rs_in(&metrics(addr), name, &named(remote))
}

/// Waits (at most `secs` seconds) until the queue selected by `sel` has delivered samples
/// up to `cut` (ms) and holds none pending.
fn wait_sent(addr: &str, sel: &str, cut: i64, secs: u64) {
    eventually(
        secs,
        &format!("{sel}: samples up to {cut} delivered"),
        || {
            let text = metrics(addr);
            let sent = rs_in(&text, "queue_highest_sent_timestamp_seconds", sel);
            let pending = rs_in(&text, "samples_pending", sel);
            (sent * 1000.0 >= (cut / 1000 * 1000) as f64 && pending == 0.0).then_some(())
        },
    );
}

/// Waits (at most 30 s) until the remote named `remote` has delivered something.
fn wait_delivering(addr: &str, remote: &str) {
    eventually(30, &format!("{remote}: first samples delivered"), || {
        (rs(addr, "samples_total", remote) > 0.0).then_some(())
    });
}

/// A cut time two seconds back, on a whole second.
fn cut_now() -> i64 {
    sightline_model::now_ms() / 1000 * 1000 - 2_000
}

/// Every raw sample of `selector` on a Prometheus-compatible API, up to `t` (ms).
fn raw(addr: &str, selector: &str, t: i64) -> (String, Answer) {
    let q = format!("{selector}[10m]");
    answer(&get_json(
        addr,
        &format!("/api/v1/query?query={}&time={}", urlencode(&q), secs(t)),
    ))
}

/// Samples per series of `selector` on a Prometheus-compatible API, up to `t` (ms), counted
/// from the raw samples (`count_over_time` would drop the names, which tell series apart).
fn counts(addr: &str, selector: &str, t: i64) -> (String, Answer) {
    let (kind, a) = raw(addr, selector, t);
    let counted = a
        .into_iter()
        .map(|(k, pts)| (k, vec![(t, pts.len() as f64)]))
        .collect();
    (kind, counted)
}

/// Every raw sample of `selector` in VictoriaMetrics up to `t` (ms), from `/api/v1/export`,
/// shaped like a range-vector answer. Samples it holds twice (a batch resent) are kept once;
/// stale markers (NaN in its export) are left out, as PromQL leaves them out of range vectors.
fn vm_export(addr: &str, selector: &str, t: i64) -> (String, Answer) {
    let path = format!(
        "/api/v1/export?match[]={}&start={}&end={}",
        urlencode(selector),
        secs(t - 600_000),
        secs(t)
    );
    let (code, body) = http_get(addr, &path).unwrap_or_else(|e| panic!("{addr}{path}: {e}"));
    assert_eq!(code, 200, "{addr}{path}: {body}");
    let mut out = Answer::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(&line.replace("NaN", "null"))
            .unwrap_or_else(|e| panic!("export line {e}: {line}"));
        let labels: BTreeMap<String, String> = serde_json::from_value(v["metric"].clone()).unwrap();
        let ts = v["timestamps"].as_array().unwrap();
        let vs = v["values"].as_array().unwrap();
        let mut pts: Vec<(i64, f64)> = ts
            .iter()
            .zip(vs)
            .filter_map(|(t, v)| Some((t.as_i64()?, v.as_f64()?)))
            .collect();
        pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        pts.dedup_by(|a, b| a.0 == b.0 && a.1.to_bits() == b.1.to_bits());
        out.entry(format!("{labels:?}")).or_default().extend(pts);
    }
    ("matrix".to_string(), out)
}

/// Retries `compare` (at most `secs` seconds) until it finds no difference; fails with the
/// last differences.
fn agree(what: &str, secs: u64, mut compare: impl FnMut() -> Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let d = compare();
        if d.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still different after {secs}s ({} differences): {:#?}",
            d.len(),
            &d[..d.len().min(12)]
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Differences of `theirs` from `ours` (the sender), naming the receiver.
fn named_diff(receiver: &str, ours: &(String, Answer), theirs: &(String, Answer)) -> Vec<String> {
    let mut d: Vec<String> = diff(ours, theirs)
        .into_iter()
        .map(|x| {
            format!("{receiver}: {x}")
                .replace("only in Sightline", "missing at the receiver")
                .replace("only in Prometheus", "only at the receiver")
        })
        .collect();
    if ours.1.is_empty() {
        d.push(format!("{receiver}: the sender holds nothing"));
    }
    d
}

/// Series and samples in an answer.
fn size(a: &(String, Answer)) -> (usize, usize) {
    (a.1.len(), a.1.values().map(Vec::len).sum())
}

const FIGURES: &[&str] = &[
    "samples_total",
    "samples_failed_total",
    "samples_retried_total",
    "samples_dropped_total",
    "samples_in_total",
    "samples_pending",
    "shards",
    "shards_desired",
    "shards_min",
    "shards_max",
    "highest_timestamp_in_seconds",
    "queue_highest_sent_timestamp_seconds",
    "bytes_total",
    "sent_batch_duration_seconds_count",
];

/// Every figure of the contract is there for `remote`, labelled with its name and URL.
fn assert_figures(text: &str, remote: &str, url: &str) {
    let both = |labels: &str| {
        labels.contains(&named(remote)) && labels.contains(&format!("url=\"{url}\""))
    };
    for f in FIGURES {
        let full = format!("sightline_remote_storage_{f}");
        assert!(
            rs_lines(text, &full, &named(remote)).any(|(l, _)| both(l)),
            "{full} with remote_name={remote} and url={url} is missing"
        );
    }
}

/// Sightline scrapes and remote-writes to Prometheus 2.42 and VictoriaMetrics at once; both
/// receivers end up with exactly the sender's raw samples.
#[test]
fn remote_write_to_prometheus_and_victoria_metrics() {
    need("prometheus");
    need("victoria-metrics");
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let pdir = tempfile::tempdir().unwrap();
    let (_prom, paddr) = start_prometheus(
        pdir.path(),
        "scrape_configs: []\n",
        &["--web.enable-remote-write-receiver"],
    );
    let vdir = tempfile::tempdir().unwrap();
    let (_vm, vaddr) = start_victoria_metrics(vdir.path());
    let (purl, vurl) = (
        format!("http://{paddr}/api/v1/write"),
        format!("http://{vaddr}/api/v1/write"),
    );
    let config = sender_config(
        &taddr,
        &[
            remote(Some("prom"), &purl, "", ""),
            remote(Some("vm"), &vurl, "", ""),
        ],
    );
    let sender = Daemon::start(Some(&config), &[]);
    wait_delivering(&sender.addr, "prom");
    wait_delivering(&sender.addr, "vm");
    std::thread::sleep(Duration::from_secs(12));

    let cut = cut_now();
    wait_sent(&sender.addr, &named("prom"), cut, 30);
    wait_sent(&sender.addr, &named("vm"), cut, 30);
    let sel = r#"{job="app"}"#;
    agree("Prometheus 2.42", 30, || {
        named_diff(
            "prometheus",
            &raw(&sender.addr, sel, cut),
            &raw(&paddr, sel, cut),
        )
    });
    agree("VictoriaMetrics", 30, || {
        named_diff(
            "victoria-metrics",
            &raw(&sender.addr, sel, cut),
            &vm_export(&vaddr, sel, cut),
        )
    });
    // The same aggregations on Prometheus (MetricsQL's are not PromQL's).
    for q in [
        r#"count({job="app"})"#,
        r#"sum by (instance) ({job="app"})"#,
        r#"count by (__name__) ({job="app"})"#,
    ] {
        let at = |addr: &str| {
            answer(&get_json(
                addr,
                &format!("/api/v1/query?query={}&time={}", urlencode(q), secs(cut)),
            ))
        };
        let d = named_diff("prometheus", &at(&sender.addr), &at(&paddr));
        assert!(d.is_empty(), "{q}: {d:#?}");
    }

    let (series, samples) = size(&raw(&sender.addr, sel, cut));
    assert!(
        series > 80 && samples > series * 10,
        "{series} series, {samples} samples"
    );
    let text = metrics(&sender.addr);
    for (name, url) in [("prom", &purl), ("vm", &vurl)] {
        assert_figures(&text, name, url);
        let sel = named(name);
        let (sent, inn) = (
            rs_in(&text, "samples_total", &sel),
            rs_in(&text, "samples_in_total", &sel),
        );
        assert!(
            sent >= samples as f64 && inn >= sent,
            "{name}: {sent} delivered, {inn} read, {samples} compared"
        );
        assert_eq!(rs_in(&text, "samples_failed_total", &sel), 0.0, "{name}");
        assert_eq!(rs_in(&text, "samples_dropped_total", &sel), 0.0, "{name}");
        assert!(rs_in(&text, "bytes_total", &sel) > 0.0, "{name}");
        assert!(rs_in(&text, "shards", &sel) >= 1.0, "{name}");
        assert_eq!(rs_in(&text, "shards_min", &sel), 1.0, "{name}");
        assert_eq!(rs_in(&text, "shards_max", &sel), 50.0, "{name}");
        let newest = rs_in(&text, "highest_timestamp_in_seconds", &sel);
        let now = sightline_model::now_ms() as f64 / 1000.0;
        assert!(
            (now - newest).abs() < 10.0,
            "{name}: newest {newest}, now {now}"
        );
    }
}

/// Sightline to Sightline, one receiver over 1.0 and one over 2.0: both hold the sender's raw
/// samples, and each was spoken to in its protocol only.
#[test]
fn remote_write_to_sightline_over_1_0_and_2_0() {
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let flags = ["--web.enable-remote-write-receiver"];
    let r1 = Daemon::start(Some("scrape_configs: []\n"), &flags);
    let r2 = Daemon::start(Some("scrape_configs: []\n"), &flags);
    let config = sender_config(
        &taddr,
        &[
            remote(
                Some("v1"),
                &format!("http://{}/api/v1/write", r1.addr),
                "",
                "    protobuf_message: prometheus.WriteRequest\n",
            ),
            remote(
                Some("v2"),
                &format!("http://{}/api/v1/write", r2.addr),
                "",
                "    protobuf_message: io.prometheus.write.v2.Request\n",
            ),
        ],
    );
    let sender = Daemon::start(Some(&config), &[]);
    wait_delivering(&sender.addr, "v1");
    wait_delivering(&sender.addr, "v2");
    std::thread::sleep(Duration::from_secs(10));
    let cut = cut_now();
    wait_sent(&sender.addr, &named("v1"), cut, 30);
    wait_sent(&sender.addr, &named("v2"), cut, 30);
    let sel = r#"{job="app"}"#;
    for (name, r) in [("1.0", &r1), ("2.0", &r2)] {
        agree(name, 20, || {
            named_diff(name, &raw(&sender.addr, sel, cut), &raw(&r.addr, sel, cut))
        });
    }
    let (series, samples) = size(&raw(&sender.addr, sel, cut));
    assert!(
        series > 80 && samples > series * 8,
        "{series} series, {samples} samples"
    );
    // The receivers count requests by protocol version: each saw only its own.
    let requests = |addr: &str, version: &str| -> f64 {
        metrics(addr)
            .lines()
            .filter(|l| {
                l.starts_with("sightline_remote_write_requests_total{")
                    && l.contains(&format!("version=\"{version}\""))
            })
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    assert!(requests(&r1.addr, "1.0") > 0.0);
    assert_eq!(requests(&r1.addr, "2.0"), 0.0);
    assert!(requests(&r2.addr, "2.0") > 0.0);
    assert_eq!(requests(&r2.addr, "1.0"), 0.0);
}

/// Prometheus 2.42, the receiver, is killed (SIGKILL) in the middle and restarted on the same
/// port and data after [`OUTAGE`]: once the queue has caught up, it holds as many samples of
/// every series as the sender, and the very same ones.
#[test]
fn receiver_outage_loses_nothing() {
    need("prometheus");
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let pdir = tempfile::tempdir().unwrap();
    let paddr = format!("127.0.0.1:{}", free_port());
    let pconfig = "scrape_configs: []\n";
    let pflags = ["--web.enable-remote-write-receiver"];
    let prom = start_prometheus_on(pdir.path(), &paddr, pconfig, &pflags);
    let config = sender_config(
        &taddr,
        &[remote(
            Some("prom"),
            &format!("http://{paddr}/api/v1/write"),
            "",
            "",
        )],
    );
    let sender = Daemon::start(Some(&config), &[]);
    wait_delivering(&sender.addr, "prom");
    std::thread::sleep(Duration::from_secs(5));

    drop(prom);
    let down = sightline_model::now_ms();
    std::thread::sleep(OUTAGE);
    // The sender saw the outage: nothing delivered since the receiver died, samples pending,
    // the same batch retried over and over, and (as Prometheus' figures would say) the newest
    // sample stored is the outage ahead of the newest delivered, so the usual "remote write
    // is behind" alert fires.
    let text = metrics(&sender.addr);
    let behind = rs_in(&text, "highest_timestamp_in_seconds", &named("prom"))
        - rs_in(
            &text,
            "queue_highest_sent_timestamp_seconds",
            &named("prom"),
        );
    assert!(
        behind > OUTAGE.as_secs_f64() - 5.0,
        "delivery only {behind:.1} s behind after a {OUTAGE:?} outage"
    );
    let sent = rs_in(
        &text,
        "queue_highest_sent_timestamp_seconds",
        &named("prom"),
    );
    assert!(
        sent * 1000.0 < (down + 2_000) as f64,
        "delivered up to {sent} during the outage (down at {down})"
    );
    assert!(rs_in(&text, "samples_pending", &named("prom")) > 0.0);
    assert!(rs_in(&text, "samples_retried_total", &named("prom")) > 0.0);
    assert_eq!(rs_in(&text, "samples_failed_total", &named("prom")), 0.0);
    let _prom = start_prometheus_on(pdir.path(), &paddr, pconfig, &pflags);
    std::thread::sleep(Duration::from_secs(3));

    let cut = cut_now();
    wait_sent(&sender.addr, &named("prom"), cut, 60);
    let sel = r#"{job="app"}"#;
    agree("samples per series", 30, || {
        named_diff(
            "prometheus",
            &counts(&sender.addr, sel, cut),
            &counts(&paddr, sel, cut),
        )
    });
    agree("raw samples", 10, || {
        named_diff(
            "prometheus",
            &raw(&sender.addr, sel, cut),
            &raw(&paddr, sel, cut),
        )
    });
    // The compared data spans the outage: samples scraped while the receiver was down.
    let ours = raw(&sender.addr, r#"up{job="app"}"#, cut);
    let during = ours
        .1
        .values()
        .flatten()
        .filter(|p| p.0 > down + 5_000 && p.0 < down + 25_000);
    assert!(during.count() >= 2 * 15, "{ours:?}");
    assert_eq!(rs(&sender.addr, "samples_failed_total", "prom"), 0.0);
}

/// The sender is killed with SIGKILL in the middle and restarted on its data: once its queue
/// has caught up, each receiver holds every sample the sender's storage holds.
///
/// After the restart the queue resends from the position it saved, so batches may repeat
/// samples a receiver already has. The receivers: VictoriaMetrics (keeps everything),
/// Sightline over 2.0 (writes what it can of a request) and Prometheus 2.42 over 1.0, the
/// strict case: it refuses a whole 1.0 request for one sample it already holds ("out of
/// order sample", 400, which the sender must not retry), so the queue has to keep the
/// replayed samples apart from the new ones.
#[test]
fn sender_kill_9_resumes_from_the_wal() {
    need("victoria-metrics");
    need("prometheus");
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let vdir = tempfile::tempdir().unwrap();
    let (_vm, vaddr) = start_victoria_metrics(vdir.path());
    let receiver = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-remote-write-receiver"],
    );
    let pdir = tempfile::tempdir().unwrap();
    let (_prom, paddr) = start_prometheus(
        pdir.path(),
        "scrape_configs: []\n",
        &["--web.enable-remote-write-receiver"],
    );
    let config = sender_config(
        &taddr,
        &[
            remote(
                Some("prom"),
                &format!("http://{paddr}/api/v1/write"),
                "",
                "",
            ),
            remote(Some("vm"), &format!("http://{vaddr}/api/v1/write"), "", ""),
            remote(
                Some("sl"),
                &format!("http://{}/api/v1/write", receiver.addr),
                "",
                "    protobuf_message: io.prometheus.write.v2.Request\n",
            ),
        ],
    );
    let mut sender = Daemon::start(Some(&config), &[]);
    wait_delivering(&sender.addr, "vm");
    wait_delivering(&sender.addr, "sl");
    std::thread::sleep(Duration::from_secs(6));
    let before = rs(&sender.addr, "samples_total", "vm");
    let st = sender.signal_and_wait("KILL");
    assert!(!st.success());
    let killed = sightline_model::now_ms();
    let dir = std::mem::replace(&mut sender.dir, tempfile::tempdir().unwrap());
    drop(sender);
    let sender = Daemon::start_in(dir, Some(&config), &[]);
    wait_delivering(&sender.addr, "vm");
    wait_delivering(&sender.addr, "sl");
    std::thread::sleep(Duration::from_secs(6));

    let cut = cut_now();
    wait_sent(&sender.addr, &named("vm"), cut, 30);
    wait_sent(&sender.addr, &named("sl"), cut, 30);
    wait_sent(&sender.addr, &named("prom"), cut, 30);
    let sel = r#"{job="app"}"#;
    agree("samples per series, Prometheus 2.42 over 1.0", 20, || {
        named_diff(
            "prometheus",
            &counts(&sender.addr, sel, cut),
            &counts(&paddr, sel, cut),
        )
    });
    let vm_counts = || {
        let (kind, a) = vm_export(&vaddr, sel, cut);
        let n = a.into_iter().map(|(k, p)| (k, vec![(cut, p.len() as f64)]));
        (kind, n.collect())
    };
    agree("samples per series, VictoriaMetrics", 30, || {
        named_diff(
            "victoria-metrics",
            &counts(&sender.addr, sel, cut),
            &vm_counts(),
        )
    });
    agree("samples per series, Sightline over 2.0", 20, || {
        named_diff(
            "sightline",
            &counts(&sender.addr, sel, cut),
            &counts(&receiver.addr, sel, cut),
        )
    });
    agree("raw samples", 10, || {
        let ours = raw(&sender.addr, sel, cut);
        let mut d = named_diff("victoria-metrics", &ours, &vm_export(&vaddr, sel, cut));
        d.extend(named_diff(
            "sightline",
            &ours,
            &raw(&receiver.addr, sel, cut),
        ));
        d
    });
    // The data spans the kill: samples from before it and after the restart.
    let up = raw(&sender.addr, r#"up{job="app"}"#, cut);
    let pts: Vec<i64> = up.1.values().flatten().map(|p| p.0).collect();
    assert!(pts.iter().any(|&t| t < killed - 3_000), "{up:?}");
    assert!(pts.iter().any(|&t| t > killed + 2_000), "{up:?}");
    let after = rs(&sender.addr, "samples_total", "vm");
    eprintln!("delivered to VictoriaMetrics: {before} before the kill, {after} after the restart");
}

/// `remote_write` follows the configuration: an entry added by a reload (SIGHUP) starts
/// delivering, and one removed by a reload stops.
#[test]
fn remote_write_follows_reload() {
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let receiver = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-remote-write-receiver"],
    );
    let sender = Daemon::start(Some(&scrape_config(&taddr)), &[]);
    let url = format!("http://{}/api/v1/write", receiver.addr);
    let at_receiver = || {
        let v = get_json(&receiver.addr, "/api/v1/query?query=count(up)");
        v["data"]["result"][0]["value"][1]
            .as_str()
            .map(|s| s.parse::<f64>().unwrap())
            .unwrap_or(0.0)
    };
    let written = || -> f64 {
        metrics(&receiver.addr)
            .lines()
            .filter(|l| l.starts_with("sightline_remote_write_samples_written_total"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(written(), 0.0);

    std::fs::write(
        sender.config_path(),
        sender_config(&taddr, &[remote(Some("late"), &url, "", "")]),
    )
    .unwrap();
    sender.send_signal("HUP");
    wait_delivering(&sender.addr, "late");
    eventually(30, "both targets' up at the receiver", || {
        (at_receiver() == TARGETS as f64).then_some(())
    });

    std::fs::write(sender.config_path(), scrape_config(&taddr)).unwrap();
    sender.send_signal("HUP");
    // Stopped: nothing more arrives over three seconds (three scrapes, three batch deadlines).
    eventually(30, "deliveries to stop", || {
        let before = written();
        std::thread::sleep(Duration::from_secs(3));
        (written() == before).then_some(())
    });
    let stopped = written();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        written(),
        stopped,
        "samples still arrive after the entry was removed"
    );
}

/// Requests a [`Stub`] received: head (lower-cased) and body.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A loopback HTTP server that answers each request with the status `respond(n, head)` gives
/// for the n-th request (from 0) and its lower-cased head, and keeps every request (head and
/// body).
struct Stub {
    url: String,
    stop: Arc<AtomicBool>,
    requests: Requests,
}

impl Stub {
    fn start(respond: impl Fn(usize, &str) -> u16 + Send + Sync + 'static) -> Stub {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let url = format!("http://{}/api/v1/write", l.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Requests::default();
        let respond = Arc::new(respond);
        let (st, rq) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        let (rq, respond) = (rq.clone(), respond.clone());
                        std::thread::spawn(move || Stub::serve(s, &rq, &*respond));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Stub {
            url,
            stop,
            requests,
        }
    }

    /// One request on `s`, answered and then the connection closed.
    fn serve(
        mut s: TcpStream,
        rq: &Mutex<Vec<(String, Vec<u8>)>>,
        respond: &dyn Fn(usize, &str) -> u16,
    ) {
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let Some((head, body)) = read_request(&mut s) else {
            return;
        };
        let code = {
            let mut rq = rq.lock().unwrap();
            let code = respond(rq.len(), &head);
            rq.push((head, body));
            code
        };
        let reply = match code {
            204 => "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_string(),
            c => {
                let body = format!("stub answers {c}\n");
                format!(
                    "HTTP/1.1 {c} Stub\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        let _ = s.write_all(reply.as_bytes());
        let _ = s.flush();
    }

    fn requests(&self) -> Vec<(String, Vec<u8>)> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one HTTP/1.1 request with a `Content-Length` body: its head (lower-cased) and body.
fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < end + 4 + len {
        let n = s.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[end + 4..end + 4 + len].to_vec()))
}

/// The metric names in a 1.0 request body (snappy, `prometheus.WriteRequest`).
fn v1_names(body: &[u8]) -> BTreeSet<String> {
    let raw = sightline_remote::decompress(body, 64 << 20).unwrap();
    let req = sightline_remote::v1::WriteRequest::decode(&raw).unwrap();
    req.timeseries
        .iter()
        .flat_map(|ts| ts.labels.iter().filter(|l| l.name == "__name__"))
        .map(|l| l.value.clone())
        .collect()
}

/// `write_relabel_configs` drop a series before it leaves (counted as dropped); a receiver
/// answering 400 gets each batch once (failed, never retried); 429 is retried with
/// `retry_on_http_429` (the same batch again, then delivered) and failed without it; the
/// configured headers and basic auth are sent; 1.0 and 2.0 carry their headers.
#[test]
fn remote_write_relabel_drop_4xx_and_429() {
    let (_targets, taddr) = bench_targets(TARGETS, SERIES, 600);
    let receiver = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-remote-write-receiver"],
    );
    let bad = Stub::start(|_, _| 400);
    let throttled = Stub::start(|n, _| if n < 3 { 429 } else { 204 });
    let throttled_no_retry = Stub::start(|_, _| 429);
    let v2 = Stub::start(|_, _| 204);
    // A receiver that speaks only 1.0 answers a 2.0 request 415, as the spec says.
    let v1_only = Stub::start(|_, head| {
        if head.contains("proto=io.prometheus.write.v2") {
            415
        } else {
            204
        }
    });
    let drop_active = "    write_relabel_configs:\n      - {source_labels: [__name__], regex: http_requests_active, action: drop}\n";
    let auth =
        "    headers: {X-Scope-OrgID: tenant-a}\n    basic_auth: {username: u, password: p}\n";
    let config = sender_config(
        &taddr,
        &[
            remote(
                Some("relabel"),
                &format!("http://{}/api/v1/write", receiver.addr),
                "",
                drop_active,
            ),
            // Unnamed: its `remote_name` is a hash of its configuration.
            remote(None, &bad.url, ", max_shards: 1", ""),
            remote(
                Some("throttled"),
                &throttled.url,
                ", max_shards: 1, retry_on_http_429: true",
                auth,
            ),
            remote(
                Some("throttled-no-retry"),
                &throttled_no_retry.url,
                ", max_shards: 1",
                "",
            ),
            remote(
                Some("v2"),
                &v2.url,
                ", max_shards: 1",
                "    protobuf_message: io.prometheus.write.v2.Request\n",
            ),
            remote(
                Some("v1-only"),
                &v1_only.url,
                ", max_shards: 1",
                "    protobuf_message: io.prometheus.write.v2.Request\n",
            ),
        ],
    );
    let sender = Daemon::start(Some(&config), &[]);
    wait_delivering(&sender.addr, "relabel");
    wait_delivering(&sender.addr, "throttled");
    std::thread::sleep(Duration::from_secs(6));
    let cut = cut_now();
    wait_sent(&sender.addr, &named("relabel"), cut, 30);

    // The dropped series never reaches the receiver; the others do.
    let at_receiver = raw(&receiver.addr, r#"{job="app"}"#, cut);
    let names: BTreeSet<String> = at_receiver
        .1
        .keys()
        .filter_map(|k| k.split("\"__name__\": \"").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect();
    assert!(!names.contains("http_requests_active"), "{names:?}");
    assert!(names.contains("http_requests_total"), "{names:?}");
    let ours = raw(&sender.addr, r#"http_requests_active{job="app"}"#, cut);
    let (series, samples) = size(&ours);
    assert_eq!(series, TARGETS);
    // Dropped samples are counted as they are read: once the count covers the series'
    // samples up to the cut, it stays within what was read.
    let dropped = eventually(10, "the dropped series counted", || {
        let d = rs(&sender.addr, "samples_dropped_total", "relabel");
        (d >= samples as f64).then_some(d)
    });
    let text = metrics(&sender.addr);
    assert!(
        dropped <= rs_in(&text, "samples_in_total", &named("relabel")),
        "dropped {dropped}, {samples} samples of the series up to the cut"
    );
    assert_eq!(rs_in(&text, "samples_failed_total", &named("relabel")), 0.0);

    // 400: every batch failed at its first attempt, none retried, none delivered.
    let bad_sel = format!("url=\"{}\"", bad.url);
    let (hash, _) = rs_lines(
        &text,
        "sightline_remote_storage_samples_failed_total",
        &bad_sel,
    )
    .next()
    .expect("figures of the unnamed remote");
    let hash = hash
        .split("remote_name=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        hash.len() == 6 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "remote_name of an unnamed remote: {hash}"
    );
    assert!(rs_in(&text, "samples_failed_total", &bad_sel) > 0.0);
    assert_eq!(rs_in(&text, "samples_retried_total", &bad_sel), 0.0);
    assert_eq!(rs_in(&text, "samples_total", &bad_sel), 0.0);
    let bodies: Vec<Vec<u8>> = bad.requests().into_iter().map(|r| r.1).collect();
    let distinct: BTreeSet<&Vec<u8>> = bodies.iter().collect();
    assert!(bodies.len() >= 2, "{} requests", bodies.len());
    assert_eq!(
        distinct.len(),
        bodies.len(),
        "a batch answered 400 was sent again"
    );

    // 429 without retry_on_http_429: failed like any 4xx.
    let sel = named("throttled-no-retry");
    assert!(rs_in(&text, "samples_failed_total", &sel) > 0.0);
    assert_eq!(rs_in(&text, "samples_retried_total", &sel), 0.0);

    // 429 with it: the first batch three more times, then delivered.
    let sel = named("throttled");
    assert!(rs_in(&text, "samples_retried_total", &sel) > 0.0);
    assert_eq!(rs_in(&text, "samples_failed_total", &sel), 0.0);
    assert!(rs_in(&text, "samples_total", &sel) > 0.0);
    let reqs = throttled.requests();
    assert!(reqs.len() >= 5, "{} requests", reqs.len());
    for r in &reqs[1..4] {
        assert_eq!(r.1, reqs[0].1, "a retry sends the same batch");
    }
    let (head, body) = &reqs[0];
    for h in [
        "x-scope-orgid: tenant-a",
        "authorization: basic dtpw",
        "content-encoding: snappy",
        "content-type: application/x-protobuf",
        "x-prometheus-remote-write-version: 0.1.0",
        "user-agent: ",
    ] {
        assert!(head.contains(h), "no {h:?} in {head}");
    }
    assert!(v1_names(body).contains("up"), "{:?}", v1_names(body));

    // 2.0: its content type and version, and a body that decodes as a 2.0 request.
    let reqs = v2.requests();
    let (head, body) = reqs.first().expect("a 2.0 request");
    for h in [
        "content-type: application/x-protobuf;proto=io.prometheus.write.v2.request",
        "x-prometheus-remote-write-version: 2.0.0",
        "content-encoding: snappy",
    ] {
        assert!(head.contains(h), "no {h:?} in {head}");
    }
    let raw2 = sightline_remote::decompress(body, 64 << 20).unwrap();
    let req = sightline_remote::v2::Request::decode(&raw2).unwrap();
    let jobs: BTreeSet<String> = req
        .timeseries
        .iter()
        .flat_map(|ts| req.labels(&ts.labels_refs).unwrap())
        .filter(|(n, _)| *n == "job")
        .map(|(_, v)| v.to_string())
        .collect();
    assert_eq!(jobs, BTreeSet::from(["app".to_string()]));

    // 2.0 to a 1.0-only receiver: refused with 415 once, then the same batch and every later
    // one in 1.0, all delivered.
    let reqs = v1_only.requests();
    assert!(reqs.len() >= 3, "{} requests", reqs.len());
    assert!(
        reqs[0].0.contains("proto=io.prometheus.write.v2.request"),
        "{}",
        reqs[0].0
    );
    for (head, body) in &reqs[1..] {
        assert!(
            head.contains("x-prometheus-remote-write-version: 0.1.0"),
            "{head}"
        );
        assert!(!v1_names(body).is_empty());
    }
    let sel = named("v1-only");
    assert_eq!(rs(&sender.addr, "samples_failed_total", "v1-only"), 0.0);
    assert!(rs_in(&metrics(&sender.addr), "samples_total", &sel) > 0.0);
}
