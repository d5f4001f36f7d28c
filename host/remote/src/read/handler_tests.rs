//! Unit tests of the read handler over `MemStorage`: the SAMPLES and STREAMED answers hold the
//! same samples, limits, external labels, negotiation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sightline_model::{Labels, STALE_NAN_BITS};
use sightline_storage_api::{Appendable, MemStorage};

use super::handler::{
    decode_request, matchers, merge_labels, negotiate, samples_response, stream_frames,
    ReadHandler, ReadOptions,
};
use super::metrics::ReadMetrics;
use super::*;

fn store() -> Arc<MemStorage> {
    let s = Arc::new(MemStorage::new());
    let mut app = s.appender();
    for (job, n) in [("a", 300i64), ("b", 5)] {
        let ls = Labels::from_pairs([("__name__", "m"), ("job", job), ("region", "own")]);
        for i in 0..n {
            let v = if i == 3 {
                f64::from_bits(STALE_NAN_BITS)
            } else {
                i as f64 * 0.5
            };
            app.append(None, &ls, 1_000 + i * 1_000, v).unwrap();
        }
    }
    let ls = Labels::from_pairs([("__name__", "other")]);
    app.append(None, &ls, 1_000, 1.0).unwrap();
    app.commit().unwrap();
    s
}

fn handler(opts: ReadOptions, ext: &[(&str, &str)]) -> ReadHandler {
    let ext = Labels::from_pairs(ext.iter().copied());
    ReadHandler::new(
        store(),
        Arc::new(move || ext.clone()),
        opts,
        ReadMetrics::unregistered(),
    )
}

fn query(ms: Vec<LabelMatcher>, start: i64, end: i64) -> Query {
    Query {
        start_timestamp_ms: start,
        end_timestamp_ms: end,
        matchers: ms,
        hints: None,
    }
}

fn eq(n: &str, v: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: matcher_type::EQ,
        name: n.into(),
        value: v.into(),
    }
}

type Got = Vec<(Vec<(String, String)>, Vec<(i64, u64)>)>;

fn via_samples(h: &ReadHandler, req: &ReadRequest, ext: &Labels) -> Vec<Got> {
    let body = samples_response(h, req, ext).unwrap();
    let raw = crate::decompress(&body, 1 << 30).unwrap();
    ReadResponse::decode(&raw)
        .unwrap()
        .results
        .into_iter()
        .map(|r| {
            let mut v: Got = r
                .timeseries
                .into_iter()
                .map(|ts| {
                    (
                        ts.labels.into_iter().map(|l| (l.name, l.value)).collect(),
                        ts.samples
                            .iter()
                            .map(|s| (s.timestamp, s.value.to_bits()))
                            .collect(),
                    )
                })
                .collect();
            v.sort();
            v
        })
        .collect()
}

fn via_stream(h: &ReadHandler, req: &ReadRequest, ext: &Labels) -> (Vec<Got>, Vec<usize>) {
    let mut body = Vec::new();
    let mut sizes = Vec::new();
    stream_frames(h, req, ext, |f| {
        body.extend_from_slice(&f);
        true
    })
    .unwrap();
    let mut out: Vec<Got> = vec![Vec::new(); req.queries.len()];
    for msg in frame::split_frames(&body, 1 << 30).unwrap() {
        sizes.push(msg.len());
        let r = ChunkedReadResponse::decode(msg).unwrap();
        assert_eq!(r.chunked_series.len(), 1, "one series per frame");
        let s = &r.chunked_series[0];
        let labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        let mut samples = Vec::new();
        for c in &s.chunks {
            assert_eq!(c.r#type, xor::ENCODING_XOR);
            let d = xor::decode(&c.data).unwrap();
            assert!(d.len() <= xor::SAMPLES_PER_CHUNK);
            assert_eq!((c.min_time_ms, c.max_time_ms), (d[0].0, d[d.len() - 1].0));
            samples.extend(d.into_iter().map(|(t, v)| (t, v.to_bits())));
        }
        let q = &mut out[r.query_index as usize];
        // A series split over frames continues in the next one.
        match q.last_mut() {
            Some(last) if last.0 == labels => last.1.extend(samples),
            _ => q.push((labels, samples)),
        }
    }
    for q in &mut out {
        q.sort();
    }
    (out, sizes)
}

#[test]
fn samples_and_streamed_answers_agree() {
    let h = handler(ReadOptions::default(), &[]);
    let req = ReadRequest {
        queries: vec![
            query(vec![eq("__name__", "m")], 0, 1_000_000),
            query(vec![eq("job", "a")], 5_000, 150_000),
            query(vec![eq("__name__", "nothing")], 0, 1_000_000),
        ],
        accepted_response_types: vec![],
    };
    let ext = Labels::empty();
    let a = via_samples(&h, &req, &ext);
    let (b, _) = via_stream(&h, &req, &ext);
    assert_eq!(a, b);
    assert_eq!(a[0].len(), 2);
    assert_eq!(a[0][0].1.len(), 300);
    // The stale marker is sent as stored.
    assert_eq!(a[0][0].1[3], (4_000, STALE_NAN_BITS));
    // The range is inclusive at both ends.
    assert_eq!(a[1][0].1.first().map(|s| s.0), Some(5_000));
    assert_eq!(a[1][0].1.last().map(|s| s.0), Some(150_000));
    assert!(a[2].is_empty());
}

#[test]
fn frames_are_cut_by_size() {
    // A small frame budget: each frame holds the first chunk that exhausts it.
    let h = handler(
        ReadOptions {
            max_bytes_in_frame: 100,
            ..ReadOptions::default()
        },
        &[],
    );
    let req = ReadRequest {
        queries: vec![query(vec![eq("job", "a")], 0, 1_000_000)],
        accepted_response_types: vec![STREAMED_XOR_CHUNKS],
    };
    let (got, sizes) = via_stream(&h, &req, &Labels::empty());
    assert_eq!(got[0][0].1.len(), 300);
    // 300 samples are three chunks (120, 120, 60), one per frame.
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    let h = handler(ReadOptions::default(), &[]);
    let (_, sizes) = via_stream(&h, &req, &Labels::empty());
    assert_eq!(sizes.len(), 1, "{sizes:?}");
}

#[test]
fn sample_limit_applies_per_query_to_samples_only() {
    let h = handler(
        ReadOptions {
            sample_limit: 300,
            ..ReadOptions::default()
        },
        &[],
    );
    let ok = ReadRequest {
        queries: vec![
            query(vec![eq("job", "a")], 0, 1_000_000),
            query(vec![eq("job", "a")], 0, 1_000_000),
        ],
        accepted_response_types: vec![],
    };
    assert!(samples_response(&h, &ok, &Labels::empty()).is_ok());
    let over = ReadRequest {
        queries: vec![query(vec![eq("__name__", "m")], 0, 1_000_000)],
        accepted_response_types: vec![],
    };
    let e = samples_response(&h, &over, &Labels::empty()).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert_eq!(e.message, "exceeded sample limit (300)");
    // Streamed responses ignore it.
    assert_eq!(via_stream(&h, &over, &Labels::empty()).0[0].len(), 2);
}

#[test]
fn external_labels_as_prometheus() {
    let ext = Labels::from_pairs([("cluster", "east"), ("region", "r1")]);
    let h = handler(ReadOptions::default(), &[]);
    // A matcher on an external label's value becomes `name=""`: series that have the label
    // stored (region="own") no longer match, others do.
    let req = ReadRequest {
        queries: vec![
            query(
                vec![eq("__name__", "other"), eq("cluster", "east")],
                0,
                10_000,
            ),
            query(vec![eq("__name__", "m"), eq("region", "r1")], 0, 10_000),
            query(vec![eq("__name__", "m"), eq("region", "own")], 0, 10_000),
        ],
        accepted_response_types: vec![],
    };
    let got = via_samples(&h, &req, &ext);
    assert_eq!(got[0].len(), 1);
    let names: Vec<String> = got[0][0]
        .0
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    assert_eq!(names, ["__name__=other", "cluster=east", "region=r1"]);
    assert!(got[1].is_empty());
    // The series' own region wins over the external one.
    assert_eq!(got[2].len(), 2);
    assert!(got[2][0].0.contains(&("region".into(), "own".into())));
    assert!(got[2][0].0.contains(&("cluster".into(), "east".into())));
    assert_eq!(via_stream(&h, &req, &ext).0, got);
    let merged = merge_labels(
        &Labels::from_pairs([("a", "1"), ("c", "3")]),
        &Labels::from_pairs([("b", "x"), ("c", "y"), ("d", "z")]),
    );
    let merged: Vec<_> = merged
        .iter()
        .map(|l| format!("{}={}", l.name, l.value))
        .collect();
    assert_eq!(merged, ["a=1", "b=x", "c=3", "d=z"]);
}

#[test]
fn hints_range_and_series_func() {
    let h = handler(ReadOptions::default(), &[]);
    let mut q = query(vec![eq("job", "b")], 0, 1_000_000);
    q.hints = Some(ReadHints {
        start_ms: 2_000,
        end_ms: 3_000,
        ..ReadHints::default()
    });
    let mut s = q.clone();
    s.hints = Some(ReadHints {
        func: "series".into(),
        start_ms: 0,
        end_ms: 1_000_000,
        ..ReadHints::default()
    });
    let req = ReadRequest {
        queries: vec![q, s],
        accepted_response_types: vec![],
    };
    let got = via_samples(&h, &req, &Labels::empty());
    let ts: Vec<i64> = got[0][0].1.iter().map(|s| s.0).collect();
    assert_eq!(ts, [2_000, 3_000]);
    assert_eq!(got[1].len(), 1);
    assert!(got[1][0].1.is_empty());
}

#[test]
fn matchers_and_negotiation_as_prometheus() {
    let ext = Labels::empty();
    let bad_type = query(
        vec![LabelMatcher {
            r#type: 9,
            name: "a".into(),
            value: "b".into(),
        }],
        0,
        1,
    );
    let e = matchers(&bad_type, &ext).unwrap_err();
    assert_eq!(
        (e.status.as_u16(), e.message.as_str()),
        (500, "invalid matcher type")
    );
    let bad_re = query(
        vec![LabelMatcher {
            r#type: matcher_type::RE,
            name: "a".into(),
            value: "(".into(),
        }],
        0,
        1,
    );
    assert_eq!(matchers(&bad_re, &ext).unwrap_err().status.as_u16(), 500);
    assert_eq!(negotiate(&[]).unwrap(), SAMPLES);
    assert_eq!(negotiate(&[5, 1, 0]).unwrap(), STREAMED_XOR_CHUNKS);
    assert_eq!(negotiate(&[0, 1]).unwrap(), SAMPLES);
    let e = negotiate(&[5, 7]).unwrap_err();
    assert_eq!(
        e.message,
        "server does not support any of the requested response types: [5 7]; supported: map[SAMPLES:{} STREAMED_XOR_CHUNKS:{}]"
    );
    assert_eq!(decode_request(b"garbage").unwrap_err().status.as_u16(), 400);
    // Queries without matchers select nothing, as Prometheus' index does; matchers that all
    // match "" select every series they allow.
    let h = handler(ReadOptions::default(), &[]);
    let req = ReadRequest {
        queries: vec![
            query(vec![], 0, 1_000_000),
            query(vec![eq("job", "")], 0, 1_000_000),
        ],
        accepted_response_types: vec![],
    };
    let got = via_samples(&h, &req, &Labels::empty());
    assert!(got[0].is_empty());
    assert_eq!(got[1].len(), 1);
}

/// A store whose querier waits until the test lets it go, to hold a request inside the
/// handler.
struct Blocking {
    inner: Arc<MemStorage>,
    go: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl sightline_storage_api::Queryable for Blocking {
    fn querier(
        &self,
        min_t: i64,
        max_t: i64,
    ) -> sightline_storage_api::Result<Box<dyn sightline_storage_api::Querier + '_>> {
        let _ = self
            .go
            .lock()
            .unwrap()
            .recv_timeout(std::time::Duration::from_secs(10));
        self.inner.querier(min_t, max_t)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_limit_makes_requests_wait() {
    use tower::ServiceExt;
    let (tx, rx) = std::sync::mpsc::channel();
    let metrics = ReadMetrics::unregistered();
    let h = ReadHandler::new(
        Arc::new(Blocking {
            inner: store(),
            go: std::sync::Mutex::new(rx),
        }),
        Arc::new(Labels::empty),
        ReadOptions {
            concurrent_limit: 1,
            ..ReadOptions::default()
        },
        metrics.clone(),
    );
    let app = handler::router(h);
    let req = ReadRequest {
        queries: vec![query(vec![eq("job", "b")], 0, 1_000_000)],
        accepted_response_types: vec![],
    };
    let body = crate::compress(&req.encode());
    let call = |app: axum::Router| {
        let body = body.clone();
        tokio::spawn(async move {
            let r = axum::http::Request::post("/read")
                .body(axum::body::Body::from(body))
                .unwrap();
            app.oneshot(r).await.unwrap().status().as_u16()
        })
    };
    let first = call(app.clone());
    let second = call(app.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // One request is inside (waiting on the store), the other waits at the gate.
    assert_eq!(metrics.queries.get(), 1.0);
    assert!(!first.is_finished() && !second.is_finished());
    tx.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(metrics.queries.get(), 1.0);
    tx.send(()).unwrap();
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);
    assert_eq!(metrics.queries.get(), 0.0);
}

#[test]
fn samples_answers_carry_native_histograms_and_streamed_ones_refuse_them() {
    use sightline_model::{Histogram, Span};
    let s = Arc::new(MemStorage::new());
    let ls = Labels::from_pairs([("__name__", "lat")]);
    let h = Histogram {
        schema: 2,
        count: 4,
        sum: 3.0,
        positive_spans: vec![Span::new(1, 2)],
        positive_buckets: vec![1, 2],
        ..Histogram::default()
    };
    let mut app = s.appender();
    app.append(None, &ls, 1_000, 1.0).unwrap();
    app.append_histogram(None, &ls, 2_000, &h).unwrap();
    app.commit().unwrap();
    let handler = ReadHandler::new(
        s,
        Arc::new(Labels::empty),
        ReadOptions::default(),
        ReadMetrics::unregistered(),
    );
    let req = ReadRequest {
        queries: vec![query(vec![eq("__name__", "lat")], 0, 10_000)],
        accepted_response_types: vec![],
    };
    let body = samples_response(&handler, &req, &Labels::empty()).unwrap();
    let raw = crate::decompress(&body, 1 << 30).unwrap();
    let resp = ReadResponse::decode(&raw).unwrap();
    let ts = &resp.results[0].timeseries[0];
    assert_eq!(ts.samples.len(), 1);
    assert_eq!(ts.histograms.len(), 1);
    let got = crate::histconv::to_model(&ts.histograms[0]);
    assert_eq!(
        got,
        crate::histconv::ModelHistogram::Float(sightline_model::FloatHistogram { ..h.to_float() })
    );
    assert_eq!(ts.histograms[0].timestamp, 2_000);
    let err = stream_frames(&handler, &req, &Labels::empty(), |_| true).unwrap_err();
    assert!(format!("{err:?}").contains("native histograms"), "{err:?}");
}
