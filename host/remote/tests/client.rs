//! The remote-write client against a local receiver whose answers the test controls: a
//! strict receiver (Prometheus 2.42's 1.0 semantics: a sample older than the series' newest
//! refuses the whole request with 400), transient 503s, a 415 to 2.0, a 400.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;
use sightline_config::RemoteWriteConfig;
use sightline_model::Labels;
use sightline_remote::client::{ClientMetrics, RemoteWrite};
use sightline_storage_api::Appendable;
use sightline_telemetry::Registry;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

/// What the fake receiver holds and how it answers.
#[derive(Default)]
struct Sink {
    /// Per series (labels rendered), its samples.
    series: BTreeMap<String, Vec<(i64, f64)>>,
    /// Answer this many requests with 503 first.
    fail_first: usize,
    /// Refuse 2.0 with 415.
    only_v1: bool,
    requests: usize,
    v2_requests: usize,
}

type Shared = Arc<Mutex<Sink>>;

async fn write(State(sink): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut s = sink.lock();
    s.requests += 1;
    if s.fail_first > 0 {
        s.fail_first -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let v2 = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("io.prometheus.write.v2.Request"));
    if v2 && s.only_v1 {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    let raw = sightline_remote::decompress(&body, 64 << 20).unwrap();
    let mut batch: Vec<(String, Vec<(i64, f64)>)> = Vec::new();
    if v2 {
        s.v2_requests += 1;
        let req = sightline_remote::v2::Request::decode(&raw).unwrap();
        for ts in &req.timeseries {
            let l = req.labels(&ts.labels_refs).unwrap();
            let key = format!("{l:?}");
            batch.push((
                key,
                ts.samples.iter().map(|x| (x.timestamp, x.value)).collect(),
            ));
        }
    } else {
        let req = sightline_remote::v1::WriteRequest::decode(&raw).unwrap();
        for ts in &req.timeseries {
            let l: Vec<(&str, &str)> = ts
                .labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            let key = format!("{l:?}");
            batch.push((
                key,
                ts.samples.iter().map(|x| (x.timestamp, x.value)).collect(),
            ));
        }
    }
    // All or nothing, as Prometheus' 1.0 handler: check everything first.
    for (key, samples) in &batch {
        let mut newest = s.series.get(key).and_then(|v| v.last().map(|x| x.0));
        for &(t, _) in samples {
            if newest.is_some_and(|n| t < n) {
                return StatusCode::BAD_REQUEST;
            }
            newest = Some(newest.map_or(t, |n| n.max(t)));
        }
    }
    for (key, samples) in batch {
        let v = s.series.entry(key).or_default();
        for x in samples {
            // An identical sample again is accepted and ignored.
            if v.last().is_some_and(|l| l.0 == x.0) {
                continue;
            }
            v.push(x);
        }
    }
    StatusCode::NO_CONTENT
}

async fn start_sink(sink: Shared) -> String {
    let app = Router::new()
        .route("/api/v1/write", post(write))
        .with_state(sink);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    format!("http://{addr}/api/v1/write")
}

fn config(url: &str, extra: &str) -> RemoteWriteConfig {
    serde_yaml::from_str(&format!(
        "url: {url}\nname: t\nqueue_config: {{batch_send_deadline: 50ms, min_backoff: 10ms, max_backoff: 50ms, max_samples_per_send: 7}}\n{extra}"
    ))
    .unwrap()
}

fn open(dir: &std::path::Path) -> Arc<Tsdb> {
    Arc::new(
        Tsdb::open(TsdbOptions {
            wal_fsync: FsyncPolicy::Never,
            ..TsdbOptions::new(dir)
        })
        .unwrap(),
    )
}

/// Appends `steps` samples (t = 1000·k ms) to each of `series` series, one commit a step.
fn ingest(db: &Tsdb, series: usize, from: i64, steps: i64) {
    for k in from..from + steps {
        let mut a = db.appender();
        for i in 0..series {
            let l = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
            a.append(None, &l, k * 1000, k as f64).unwrap();
        }
        a.commit().unwrap();
    }
}

async fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn total(sink: &Shared) -> usize {
    sink.lock().series.values().map(Vec::len).sum()
}

fn metric(reg: &Registry, name: &str, label: Option<(&str, &str)>) -> f64 {
    let mut sum = 0.0;
    for f in reg.gather() {
        if f.name != name {
            continue;
        }
        for m in &f.samples {
            if label.is_none_or(|(k, v)| m.labels.get(k) == Some(v)) {
                sum += m.value;
            }
        }
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_in_order_retries_5xx_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sink: Shared = Arc::default();
    sink.lock().fail_first = 3;
    let url = start_sink(sink.clone()).await;
    let db = open(dir.path());
    let reg = Registry::new();
    let rw = RemoteWrite::new(db.clone(), ClientMetrics::new(&reg), None).unwrap();
    rw.apply(&[config(&url, "")], &Labels::empty()).unwrap();
    ingest(&db, 4, 1, 30);
    wait_for("120 samples", 20, || total(&sink) == 120).await;
    assert!(metric(&reg, "sightline_remote_storage_samples_retried", None) > 0.0);
    // Stop (as a reload or shutdown would), write more, start again: only the new ones come.
    let r2 = Arc::new(rw);
    let r = r2.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
    ingest(&db, 4, 31, 5);
    r2.apply(&[config(&url, "")], &Labels::empty()).unwrap();
    wait_for("140 samples", 20, || total(&sink) == 140).await;
    for v in sink.lock().series.values() {
        let ts: Vec<i64> = v.iter().map(|x| x.0).collect();
        assert_eq!(
            ts,
            (1..=35).map(|k| k * 1000).collect::<Vec<_>>(),
            "every sample once, in order"
        );
    }
    let r = r2.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_samples_a_strict_receiver_has_are_set_aside_not_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sink: Shared = Arc::default();
    let url = start_sink(sink.clone()).await;
    let db = open(dir.path());
    let reg = Registry::new();
    let rw = Arc::new(RemoteWrite::new(db.clone(), ClientMetrics::new(&reg), None).unwrap());
    rw.apply(&[config(&url, "")], &Labels::empty()).unwrap();
    ingest(&db, 3, 1, 20);
    wait_for("60 samples", 20, || total(&sink) == 60).await;
    let r = rw.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
    // A crash after delivery but before the delivered position was saved: the file says
    // nothing was delivered, and that everything read may have been.
    let pos_dir = dir.path().join("remote-write");
    let file = std::fs::read_dir(&pos_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pos"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let v: Vec<u64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    std::fs::write(&file, format!("{} 0 {} {}\n", v[0], v[2], v[3])).unwrap();
    // New samples after the "crash".
    ingest(&db, 3, 21, 4);
    rw.apply(&[config(&url, "")], &Labels::empty()).unwrap();
    wait_for("72 samples", 30, || total(&sink) == 72).await;
    for v in sink.lock().series.values() {
        let ts: Vec<i64> = v.iter().map(|x| x.0).collect();
        assert_eq!(ts, (1..=24).map(|k| k * 1000).collect::<Vec<_>>());
    }
    let already = metric(
        &reg,
        "sightline_remote_storage_samples_dropped",
        Some(("reason", "already_delivered")),
    );
    assert!(already > 0.0, "the replayed samples were recognised");
    assert_eq!(
        metric(&reg, "sightline_remote_storage_samples_failed", None),
        0.0
    );
    let r = rw.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_falls_back_to_v1_on_415() {
    let dir = tempfile::tempdir().unwrap();
    let sink: Shared = Arc::default();
    sink.lock().only_v1 = true;
    let url = start_sink(sink.clone()).await;
    let db = open(dir.path());
    let reg = Registry::new();
    let rw = Arc::new(RemoteWrite::new(db.clone(), ClientMetrics::new(&reg), None).unwrap());
    rw.apply(
        &[config(
            &url,
            "protobuf_message: io.prometheus.write.v2.Request",
        )],
        &Labels::empty(),
    )
    .unwrap();
    ingest(&db, 2, 1, 10);
    wait_for("20 samples", 20, || total(&sink) == 20).await;
    assert_eq!(sink.lock().v2_requests, 0);
    let r = rw.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();

    // And a 2.0 receiver gets 2.0.
    let dir = tempfile::tempdir().unwrap();
    let sink: Shared = Arc::default();
    let url = start_sink(sink.clone()).await;
    let db = open(dir.path());
    let rw = Arc::new(RemoteWrite::new(db.clone(), ClientMetrics::new(&reg), None).unwrap());
    rw.apply(
        &[config(
            &url,
            "protobuf_message: io.prometheus.write.v2.Request",
        )],
        &Labels::from_pairs([("site", "a")]),
    )
    .unwrap();
    ingest(&db, 2, 1, 10);
    wait_for("20 samples", 20, || total(&sink) == 20).await;
    assert!(sink.lock().v2_requests > 0);
    assert!(
        sink.lock()
            .series
            .keys()
            .all(|k| k.contains("(\"site\", \"a\")")),
        "external labels added"
    );
    let r = rw.clone();
    tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
}

/// Histograms and floats of one series reach a real receiver (ours, over `MemStorage`) over
/// 1.0 and 2.0: integer, float and custom-bucket histograms as they were stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_histograms_are_sent_over_1_0_and_2_0() {
    use sightline_model::histogram::CUSTOM_BUCKETS_SCHEMA;
    use sightline_model::{FloatHistogram, Histogram, Matcher, Span};
    use sightline_storage_api::{MemStorage, Queryable};
    for proto in ["prometheus.WriteRequest", "io.prometheus.write.v2.Request"] {
        let mem = Arc::new(MemStorage::new());
        let app =
            sightline_remote::receiver::router(Some(sightline_remote::receiver::Receiver::new(
                mem.clone(),
                sightline_remote::RemoteMetrics::unregistered(),
            )));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(l, app).await });
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let reg = Registry::new();
        let rw = Arc::new(RemoteWrite::new(db.clone(), ClientMetrics::new(&reg), None).unwrap());
        rw.apply(
            &[config(
                &format!("http://{addr}/write"),
                &format!("protobuf_message: {proto}"),
            )],
            &Labels::empty(),
        )
        .unwrap();
        let lat = Labels::from_pairs([("__name__", "lat")]);
        let nhcb = Labels::from_pairs([("__name__", "nhcb")]);
        let mut want_int = Vec::new();
        for k in 1..=5u64 {
            let h = Histogram {
                schema: 3,
                count: 10 * k,
                sum: 2.5 * k as f64,
                zero_threshold: 1e-128,
                zero_count: k,
                positive_spans: vec![Span::new(-3, 2), Span::new(4, 1)],
                positive_buckets: vec![k as i64, 2, 1 + k as i64 * 3],
                ..Histogram::default()
            };
            let f = FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3.0 * k as f64,
                sum: 1.5,
                positive_spans: vec![Span::new(0, 3)],
                positive_buckets: vec![k as f64, k as f64, k as f64],
                custom_values: Arc::from(&[0.1, 1.0][..]),
                ..FloatHistogram::default()
            };
            let mut a = db.appender();
            a.append_histogram(None, &lat, k as i64 * 1000, &h).unwrap();
            a.append_float_histogram(None, &nhcb, k as i64 * 1000, &f)
                .unwrap();
            a.commit().unwrap();
            want_int.push(h.to_float());
        }
        let read = |name: &str| {
            let q = mem.querier(0, i64::MAX).unwrap();
            let mut out = Vec::new();
            for mut s in q
                .select(false, None, &[Matcher::equal("__name__", name)])
                .unwrap()
            {
                while s.samples.next_sample().is_some() {
                    out.extend(s.samples.histogram().map(|h| (**h).clone()));
                }
            }
            out
        };
        wait_for("10 histograms", 20, || {
            read("lat").len() == 5 && read("nhcb").len() == 5
        })
        .await;
        let got = read("lat");
        for (g, w) in got.iter().zip(&want_int) {
            assert_eq!(
                (
                    g.schema,
                    g.count,
                    g.sum,
                    &g.positive_spans,
                    &g.positive_buckets
                ),
                (
                    w.schema,
                    w.count,
                    w.sum,
                    &w.positive_spans,
                    &w.positive_buckets
                ),
                "{proto}"
            );
        }
        let got = read("nhcb");
        assert_eq!(got[4].custom_values.as_ref(), &[0.1, 1.0], "{proto}");
        assert_eq!(got[4].positive_buckets, vec![5.0, 5.0, 5.0], "{proto}");
        assert_eq!(
            metric(&reg, "sightline_remote_storage_histograms_in", None),
            10.0
        );
        assert_eq!(
            metric(&reg, "sightline_remote_storage_samples_failed", None),
            0.0
        );
        let r = rw.clone();
        tokio::task::spawn_blocking(move || r.stop()).await.unwrap();
        server.abort();
    }
}
