//! The remote-write receiver against Debian's Prometheus 2.42: Prometheus scrapes the
//! benchmark targets and remote-writes everything it scrapes into Sightline
//! (`--web.enable-remote-write-receiver`); after a while both hold the very same samples, so
//! counts, sums and every raw sample of the job agree at the same evaluation time. The same
//! hand-made requests with old samples are then posted to both receivers (Prometheus runs
//! with the flag too) and must get the same answers. Without the flag the endpoint is 404,
//! and a garbage body is 400.

use std::time::Duration;

use sightline_remote::v1::{Label, Sample, TimeSeries, WriteRequest};

use crate::sidebyside::{answer, diff, get_json, secs};
use crate::support::{bench_targets, eventually, http_get, http_request, need, urlencode, Daemon};

fn post_write(addr: &str, req: &WriteRequest) -> (u16, String) {
    let body = sightline_remote::compress(&req.encode());
    http_request(
        addr,
        "POST",
        "/api/v1/write",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        &body,
    )
    .unwrap_or_else(|e| panic!("POST {addr}/api/v1/write: {e}"))
}

fn one_series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> WriteRequest {
    WriteRequest {
        timeseries: vec![TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    }
}

fn query(addr: &str, q: &str, t: i64) -> (String, crate::sidebyside::Answer) {
    answer(&get_json(
        addr,
        &format!("/api/v1/query?query={}&time={}", urlencode(q), secs(t)),
    ))
}

#[test]
fn prometheus_remote_writes_into_sightline() {
    need("prometheus");
    let targets = 2;
    let (_targets, taddr) = bench_targets(targets, 40, 600);
    let ours = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-remote-write-receiver"],
    );
    let work = tempfile::tempdir().unwrap();
    let mut config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nremote_write:\n  - url: http://{}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n",
        ours.addr
    );
    for i in 0..targets {
        config.push_str(&format!(
            "      - targets: ['{taddr}']\n        labels: {{__metrics_path__: /metrics/{i}, instance: 'app-{i}'}}\n"
        ));
    }
    let (_prom, paddr) = crate::support::start_prometheus(
        work.path(),
        &config,
        &["--web.enable-remote-write-receiver"],
    );
    // Samples arrive in Sightline only through remote write: it scrapes nothing.
    eventually(60, "remote-written samples in Sightline", || {
        let v = get_json(&ours.addr, "/api/v1/query?query=count(up)");
        (v["data"]["result"][0]["value"][1].as_str() == Some("2")).then_some(())
    });
    std::thread::sleep(Duration::from_secs(20));

    // The same queries at the same time: counts, sums, and every raw sample of the job
    // (each series' last 5 minutes, which is all there is). The evaluation time is a few
    // seconds back, and the comparison retried, so that batches in flight can land.
    let t = sightline_model::now_ms() / 1000 * 1000 - 5_000;
    let queries = [
        r#"count({job="app"})"#,
        r#"sum by (job) ({job="app"})"#,
        r#"count by (__name__) ({job="app"})"#,
        r#"{job="app"}[5m]"#,
        r#"up[5m]"#,
        r#"rate(http_requests_total{job="app"}[10s])"#,
    ];
    let mut last = Vec::new();
    let agreed = (0..100).any(|_| {
        last = queries
            .iter()
            .flat_map(|q| {
                let (a, b) = (query(&ours.addr, q, t), query(&paddr, q, t));
                let mut d = diff(&a, &b);
                if b.1.is_empty() {
                    d.push("Prometheus answered nothing".into());
                }
                d.into_iter().take(3).map(move |x| format!("{q}: {x}"))
            })
            .collect();
        if last.is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(300));
        false
    });
    assert!(agreed, "Sightline and Prometheus differ: {last:#?}");
    let raw = query(&ours.addr, r#"{job="app"}[5m]"#, t);
    let n: usize = raw.1.values().map(Vec::len).sum();
    assert!(
        raw.1.len() > 80 && n > 80 * 10,
        "{} series, {n} samples",
        raw.1.len()
    );

    // Old samples, posted to both receivers. An existing series' older sample: both refuse
    // the request with 400 and the storage's words (1.0 is all or nothing).
    let up = [("__name__", "up"), ("instance", "app-0"), ("job", "app")];
    let old = one_series(&up, &[(t - 60_000, 1.0)]);
    let theirs = post_write(&paddr, &old);
    let mine = post_write(&ours.addr, &old);
    assert_eq!(theirs, (400, "out of order sample\n".to_string()));
    assert_eq!(mine, theirs);
    // A new series half an hour back, inside Prometheus' head window: both accept it and then
    // hold the same samples.
    let probe = [("__name__", "rw_old_probe"), ("job", "probe")];
    let half_hour = one_series(&probe, &[(t - 1_800_000, 1.0), (t - 1_790_000, 2.0)]);
    assert_eq!(post_write(&paddr, &half_hour).0, 204);
    assert_eq!(post_write(&ours.addr, &half_hour).0, 204);
    let q = "rw_old_probe[1h]";
    let d = diff(&query(&ours.addr, q, t), &query(&paddr, q, t));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        query(&ours.addr, q, t).1.values().next().map(Vec::len),
        Some(2)
    );
    // A day back: Prometheus' head refuses anything older than an hour before its newest
    // sample ("out of bounds"); Sightline's head takes any sample newer than its sealed
    // partitions, so it stores these. This documents the difference.
    let day = one_series(&[("__name__", "rw_day_probe")], &[(t - 86_400_000, 1.0)]);
    assert_eq!(
        post_write(&paddr, &day),
        (400, "out of bounds\n".to_string())
    );
    assert_eq!(post_write(&ours.addr, &day).0, 204);

    // A garbage body: 400, with snappy's complaint.
    let (code, body) = http_request(&ours.addr, "POST", "/api/v1/write", &[], b"garbage").unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.starts_with("snappy: "), "{body}");

    // The receiver's own figures.
    let (_, metrics) = http_get(&ours.addr, "/metrics").unwrap();
    assert!(
        metrics.contains("sightline_remote_write_samples_written_total "),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"sightline_remote_write_rejected_total{kind="sample",reason="out_of_order"} 1"#
        ),
        "{metrics}"
    );
}

#[test]
fn remote_write_receiver_needs_its_flag() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let req = one_series(&[("__name__", "x")], &[(sightline_model::now_ms(), 1.0)]);
    let (code, body) = post_write(&d.addr, &req);
    assert_eq!(code, 404, "{body}");
    assert!(
        body.contains("--web.enable-remote-write-receiver"),
        "{body}"
    );
    let v = get_json(&d.addr, "/api/v1/status/flags");
    assert_eq!(v["data"]["web.enable-remote-write-receiver"], "false");
}

/// 204 means committed through the WAL: samples acknowledged just before a `kill -9` are
/// there after the restart (WAL replay).
#[test]
fn acknowledged_samples_survive_kill_9() {
    let flags = ["--web.enable-remote-write-receiver"];
    let mut d = Daemon::start(Some("scrape_configs: []\n"), &flags);
    let t0 = sightline_model::now_ms() - 60_000;
    let req = WriteRequest {
        timeseries: (0..50)
            .map(|i| {
                let name = format!("rw_kill_{i}");
                let samples: Vec<(i64, f64)> =
                    (0..10).map(|k| (t0 + k * 1000, (i * k) as f64)).collect();
                one_series(&[("__name__", &name), ("job", "kill")], &samples)
                    .timeseries
                    .remove(0)
            })
            .collect(),
        metadata: vec![],
    };
    assert_eq!(post_write(&d.addr, &req), (204, String::new()));
    let st = d.signal_and_wait("KILL");
    assert!(!st.success());
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &flags);
    let v = get_json(
        &d.addr,
        &format!(
            "/api/v1/query?query={}&time={}",
            urlencode(r#"sum(count_over_time({job="kill"}[5m]))"#),
            secs(t0 + 20_000)
        ),
    );
    assert_eq!(v["data"]["result"][0]["value"][1], "500", "{v}");
}

/// Remote write 2.0 through the daemon: negotiated by `Content-Type`, symbols resolved, the
/// written counts in the response headers, and a rejected sample
/// reported while the rest is committed.
#[test]
fn remote_write_2_0_through_the_daemon() {
    use sightline_remote::v2;
    let d = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-remote-write-receiver"],
    );
    let t0 = sightline_model::now_ms() / 1000 * 1000 - 30_000;
    let symbols = [
        "",
        "__name__",
        "rw2_requests_total",
        "job",
        "v2",
        "Requests served.",
    ];
    let sample = |k: i64, value: f64| v2::Sample {
        value,
        timestamp: t0 + k * 1000,
        start_timestamp: t0 - 60_000,
    };
    let req = v2::Request {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: (0..10).map(|k| sample(k, k as f64 * 2.0)).collect(),
            metadata: v2::Metadata {
                metric_type: 1,
                help_ref: 5,
                unit_ref: 0,
            },
            ..Default::default()
        }],
    };
    let post = |req: &v2::Request| {
        crate::support::http_exchange(
            &d.addr,
            "POST",
            "/api/v1/write",
            &[
                (
                    "Content-Type",
                    "application/x-protobuf;proto=io.prometheus.write.v2.Request",
                ),
                ("Content-Encoding", "snappy"),
                ("X-Prometheus-Remote-Write-Version", "2.0.0"),
            ],
            &sightline_remote::compress(&req.encode()),
        )
        .unwrap()
    };
    let (code, head, body) = post(&req);
    assert_eq!(code, 204, "{body}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("x-prometheus-remote-write-samples-written: 10"),
        "{head}"
    );
    assert!(
        head.contains("x-prometheus-remote-write-histograms-written: 0"),
        "{head}"
    );
    let v = get_json(
        &d.addr,
        &format!(
            "/api/v1/query?query={}&time={}",
            urlencode("rw2_requests_total[1m]"),
            secs(t0 + 9_000)
        ),
    );
    assert_eq!(
        v["data"]["result"][0]["values"].as_array().unwrap().len(),
        10,
        "{v}"
    );
    assert_eq!(v["data"]["result"][0]["metric"]["job"], "v2", "{v}");
    // `/api/v1/metadata` lists what scrape targets expose, as in Prometheus: remote-written
    // metadata goes to the storage's `update_metadata`, which the TSDB does not keep yet.
    // An older sample and a newer one: the older is refused and listed, the newer written.
    let again = v2::Request {
        timeseries: vec![v2::TimeSeries {
            samples: vec![sample(3, 1.0), sample(20, 40.0)],
            ..req.timeseries[0].clone()
        }],
        ..req.clone()
    };
    let (code, head, body) = post(&again);
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        body,
        "out of order sample for series {__name__=\"rw2_requests_total\", job=\"v2\"}\n"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-prometheus-remote-write-samples-written: 1"),
        "{head}"
    );
}
