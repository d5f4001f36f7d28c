//! Scrape negotiation as Prometheus 3, end to end through the scrape manager into
//! `MemStorage`, against a test target on 127.0.0.1: the `Accept` header built from
//! `scrape_protocols` (and its defaults with and without native histograms), the parser
//! picked by the response's `Content-Type` (and `fallback_scrape_protocol`), protobuf native
//! histograms stored as histogram samples, their staleness, and NHCB from the text format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sightline_exposition::proto::*;
use sightline_model::{is_stale_nan, FloatHistogram, Labels, Matcher, Span};
use sightline_scrape::ScrapeManager;
use sightline_storage_api::{MemStorage, Queryable};
use sightline_telemetry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the target serves, and the `Accept` headers it was sent.
#[derive(Default)]
struct Served {
    content_type: Option<String>,
    body: Vec<u8>,
    accepts: Vec<String>,
}

/// A one-path HTTP/1.1 target on 127.0.0.1; ends with the test's runtime.
async fn target(state: Arc<Mutex<Served>>) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => req.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let req = String::from_utf8_lossy(&req).to_string();
                let (ct, body) = {
                    let mut st = state.lock();
                    if let Some(a) = req
                        .lines()
                        .find_map(|l| l.strip_prefix("accept: ").or(l.strip_prefix("Accept: ")))
                    {
                        st.accepts.push(a.to_string());
                    }
                    (st.content_type.clone(), st.body.clone())
                };
                let mut head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(ct) = ct {
                    head.push_str(&format!("Content-Type: {ct}\r\n"));
                }
                head.push_str("\r\n");
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

const PROTO_CT: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// A client_golang-shaped body: a counter with a start timestamp and a native histogram
/// (schema 3) that also has classic buckets.
fn proto_body(count: u64) -> Vec<u8> {
    encode_delimited(&[
        MetricFamily {
            name: "requests_total".into(),
            help: "Requests.".into(),
            metric_type: TYPE_COUNTER,
            metric: vec![Metric {
                counter: Some(Counter {
                    value: count as f64,
                    start_timestamp: Some(Timestamp::from_ms(1_000)),
                    ..Counter::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        },
        MetricFamily {
            name: "latency_seconds".into(),
            help: "Latency.".into(),
            metric_type: TYPE_HISTOGRAM,
            metric: vec![Metric {
                label: vec![("path".into(), "/".into())],
                histogram: Some(HistogramMsg {
                    sample_count: count,
                    sample_sum: 1.5 * count as f64,
                    bucket: vec![Bucket {
                        cumulative_count: count,
                        upper_bound: 1.0,
                        ..Bucket::default()
                    }],
                    schema: 3,
                    zero_threshold: 1e-128,
                    positive_span: vec![Span::new(0, 2)],
                    positive_delta: vec![count as i64 - 1, 2 - count as i64],
                    ..HistogramMsg::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        },
    ])
}

type Got = Vec<(Labels, Vec<(i64, f64, Option<FloatHistogram>)>)>;

fn read(st: &MemStorage, name: &str) -> Got {
    let q = st.querier(i64::MIN, i64::MAX).unwrap();
    q.select(true, None, &[Matcher::equal("__name__", name)])
        .unwrap()
        .into_iter()
        .map(|mut s| {
            let mut v = Vec::new();
            while let Some(x) = s.samples.next_sample() {
                let h = s.samples.histogram().map(|h| (**h).clone());
                v.push((x.t, x.v, h));
            }
            (s.labels, v)
        })
        .collect()
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn manager(st: &Arc<MemStorage>, yaml: &str) -> ScrapeManager {
    let m = ScrapeManager::new(st.clone(), &Registry::new(), None);
    let cfg = sightline_config::load_str(yaml, "test.yml").unwrap();
    m.apply_config(&cfg).unwrap();
    m
}

fn job(addr: &str, extra: &str) -> String {
    format!(
        "scrape_configs:\n  - job_name: t\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n{extra}    static_configs:\n      - targets: ['{addr}']\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_histograms_over_protobuf_with_prometheus_3_accept_headers() {
    let served = Arc::new(Mutex::new(Served {
        content_type: Some(PROTO_CT.into()),
        body: proto_body(5),
        ..Served::default()
    }));
    let addr = target(served.clone()).await;
    let st = Arc::new(MemStorage::new());
    let m = manager(&st, &job(&addr, "    scrape_native_histograms: true\n"));
    wait_for("a histogram sample", || {
        !read(&st, "latency_seconds").is_empty()
    })
    .await;
    // Prometheus 3's proto-first default when native histograms are scraped.
    assert_eq!(
        served.lock().accepts[0],
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,\
         application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
         application/openmetrics-text;version=0.0.1;q=0.4,\
         text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
         text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
    );
    let got = read(&st, "latency_seconds");
    assert_eq!(
        got[0].0.to_string(),
        format!(r#"{{__name__="latency_seconds", instance="{addr}", job="t", path="/"}}"#)
    );
    let h = got[0].1[0].2.clone().expect("a histogram sample");
    assert_eq!((h.schema, h.count, h.sum), (3, 5.0, 7.5));
    assert_eq!(h.positive_buckets, vec![4.0, 1.0]);
    // Only the native histogram: no classic series without always_scrape_classic_histograms.
    assert!(read(&st, "latency_seconds_bucket").is_empty());
    assert_eq!(read(&st, "requests_total")[0].1[0].1, 5.0);
    // Two samples (the counter and the histogram).
    wait_for("the report series", || {
        !read(&st, "scrape_samples_scraped").is_empty()
    })
    .await;
    assert_eq!(read(&st, "scrape_samples_scraped")[0].1[0].1, 2.0);
    // The histogram goes away: its series gets a stale marker.
    {
        let counter_only = encode_delimited(&[MetricFamily {
            name: "requests_total".into(),
            metric_type: TYPE_COUNTER,
            metric: vec![Metric {
                counter: Some(Counter {
                    value: 6.0,
                    ..Counter::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }]);
        served.lock().body = counter_only;
    }
    wait_for("a stale marker", || {
        read(&st, "latency_seconds")[0]
            .1
            .last()
            .is_some_and(|s| is_stale_nan(s.1) && s.2.is_none())
    })
    .await;
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_native_histograms_protobuf_histograms_are_classic() {
    let served = Arc::new(Mutex::new(Served {
        content_type: Some(PROTO_CT.into()),
        body: proto_body(5),
        ..Served::default()
    }));
    let addr = target(served.clone()).await;
    let st = Arc::new(MemStorage::new());
    let m = manager(&st, &job(&addr, ""));
    wait_for("classic series", || {
        !read(&st, "latency_seconds_bucket").is_empty()
    })
    .await;
    // Prometheus 3's default: no protobuf offered.
    assert_eq!(
        served.lock().accepts[0],
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
         application/openmetrics-text;version=0.0.1;q=0.5,\
         text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
         text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
    assert!(read(&st, "latency_seconds").is_empty());
    let les: Vec<String> = read(&st, "latency_seconds_bucket")
        .iter()
        .map(|s| s.0.get_or_empty("le").to_string())
        .collect();
    assert_eq!(les, ["+Inf", "1.0"]);
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_type_picks_the_parser_and_fallback_covers_a_missing_one() {
    // No Content-Type: the job's fallback protocol (protobuf here) reads the body.
    let served = Arc::new(Mutex::new(Served {
        content_type: None,
        body: proto_body(3),
        ..Served::default()
    }));
    let addr = target(served.clone()).await;
    let st = Arc::new(MemStorage::new());
    let m = manager(
        &st,
        &job(
            &addr,
            "    scrape_protocols: [PrometheusText0.0.4, PrometheusProto]\n    fallback_scrape_protocol: PrometheusProto\n    scrape_native_histograms: true\n",
        ),
    );
    wait_for("a histogram via fallback", || {
        !read(&st, "latency_seconds").is_empty()
    })
    .await;
    // The job's own protocols, in its order.
    assert_eq!(
        served.lock().accepts[0],
        "text/plain;version=0.0.4;q=0.6,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.4"
    );
    // The same target answering OpenMetrics: the Content-Type wins over the fallback.
    {
        let mut s = served.lock();
        s.content_type = Some("application/openmetrics-text; version=1.0.0; charset=utf-8".into());
        s.body = b"# TYPE om_gauge gauge\nom_gauge 7\n# EOF\n".to_vec();
    }
    wait_for("an OpenMetrics sample", || {
        !read(&st, "om_gauge").is_empty()
    })
    .await;
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_text_histograms_become_nhcb() {
    let body = "# TYPE rpc histogram\n\
                rpc_bucket{le=\"0.1\"} 1\nrpc_bucket{le=\"1\"} 3\nrpc_bucket{le=\"+Inf\"} 4\n\
                rpc_sum 2.5\nrpc_count 4\n# TYPE up_like gauge\nup_like 1\n";
    let served = Arc::new(Mutex::new(Served {
        content_type: Some("text/plain; version=0.0.4".into()),
        body: body.as_bytes().to_vec(),
        ..Served::default()
    }));
    let addr = target(served.clone()).await;
    let st = Arc::new(MemStorage::new());
    let m = manager(
        &st,
        &job(&addr, "    convert_classic_histograms_to_nhcb: true\n"),
    );
    wait_for("an NHCB sample", || !read(&st, "rpc").is_empty()).await;
    let h = read(&st, "rpc")[0].1[0].2.clone().expect("a histogram");
    assert_eq!(h.schema, -53);
    assert_eq!(&*h.custom_values, &[0.1, 1.0]);
    assert_eq!(h.positive_buckets, vec![1.0, 2.0, 1.0]);
    assert_eq!((h.count, h.sum), (4.0, 2.5));
    // The classic series are not kept; other families are untouched.
    assert!(read(&st, "rpc_bucket").is_empty() && read(&st, "rpc_count").is_empty());
    assert_eq!(read(&st, "up_like")[0].1[0].1, 1.0);
    m.stop().await;
}
