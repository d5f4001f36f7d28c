//! The receiver over `MemStorage`: status codes, Prometheus' texts, all-or-nothing 1.0,
//! partial 2.0 with its response headers, and headers checked as Prometheus does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sightline_model::Labels;
use sightline_remote::receiver::{self, parse_content_type, Receiver, Version};
use sightline_remote::v1::{Label, Sample, TimeSeries, WriteRequest};
use sightline_remote::{compress, v2, RemoteMetrics};
use sightline_storage_api::MemStorage;
use tower::ServiceExt;

fn series(name: &str, job: &str, samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: vec![
            Label {
                name: "job".into(),
                value: job.into(),
            },
            Label {
                name: "__name__".into(),
                value: name.into(),
            },
        ],
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

async fn post(
    app: &axum::Router,
    ct: Option<&str>,
    enc: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut b = Request::post("/write");
    if let Some(ct) = ct {
        b = b.header("content-type", ct);
    }
    if let Some(enc) = enc {
        b = b.header("content-encoding", enc);
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (status, headers, text)
}

fn setup() -> (Arc<MemStorage>, axum::Router) {
    let mem = Arc::new(MemStorage::new());
    let app = receiver::router(Some(Receiver::new(
        mem.clone(),
        RemoteMetrics::unregistered(),
    )));
    (mem, app)
}

fn labels(name: &str, job: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("job", job)])
}

#[tokio::test]
async fn v1_is_committed_then_204_and_out_of_order_is_400_all_or_nothing() {
    let (mem, app) = setup();
    let req = WriteRequest {
        timeseries: vec![
            series("up", "a", &[(1000, 1.0), (2000, 1.0)]),
            series("x", "a", &[(1000, 5.0)]),
        ],
        metadata: vec![],
    };
    let (st, _, _) = post(
        &app,
        Some("application/x-protobuf"),
        Some("snappy"),
        compress(&req.encode()),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(mem.samples_of(&labels("up", "a")).len(), 2);
    // The same request again: identical samples are accepted (Prometheus allows exact
    // duplicates at the newest timestamp)... only the last one is at the newest timestamp, so
    // the first is out of order and the whole request is refused, as Prometheus does.
    let again = WriteRequest {
        timeseries: vec![
            series("new", "a", &[(3000, 1.0)]),
            series("up", "a", &[(1500, 1.0)]),
        ],
        metadata: vec![],
    };
    let (st, _, text) = post(&app, None, None, compress(&again.encode())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(text, "out of order sample\n");
    assert!(
        mem.samples_of(&labels("new", "a")).is_empty(),
        "rolled back"
    );
    // A sample with a different value at the newest timestamp.
    let dup = WriteRequest {
        timeseries: vec![series("up", "a", &[(2000, 0.0)])],
        metadata: vec![],
    };
    let (st, _, text) = post(&app, None, None, compress(&dup.encode())).await;
    assert_eq!(
        (st, text.as_str()),
        (StatusCode::BAD_REQUEST, "duplicate sample for timestamp\n")
    );
    // Too far in the future.
    let future = WriteRequest {
        timeseries: vec![series("up", "a", &[(i64::MAX / 2, 1.0)])],
        metadata: vec![],
    };
    let (st, _, text) = post(&app, None, None, compress(&future.encode())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(text.contains("too far in the future"), "{text}");
    // A series without a name is skipped; the rest is written.
    let mut nameless = series("", "a", &[(5000, 1.0)]);
    nameless.labels.retain(|l| l.name != "__name__");
    let mixed = WriteRequest {
        timeseries: vec![nameless, series("up", "a", &[(5000, 1.0)])],
        metadata: vec![],
    };
    let (st, _, _) = post(&app, None, None, compress(&mixed.encode())).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(mem.samples_of(&labels("up", "a")).len(), 3);
}

#[tokio::test]
async fn bad_bodies_and_headers() {
    let (_, app) = setup();
    let (st, _, text) = post(&app, None, None, b"garbage".to_vec()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(text.starts_with("snappy: "), "{text}");
    let (st, _, text) = post(&app, None, None, compress(&[0x0a, 0x05, 0x0a])).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        "proto: prometheus.WriteRequest: field of 5 bytes runs past the end of its message (1 bytes left) at byte 2\n"
    );
    let (st, _, text) = post(&app, Some("application/json"), None, vec![]).await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        text.starts_with("expected application/x-protobuf as the first (media) part"),
        "{text}"
    );
    let (st, _, text) = post(&app, None, Some("gzip"), vec![]).await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        text,
        "gzip encoding (compression) is not accepted by this server; only snappy is acceptable\n"
    );
    let disabled = receiver::router(None);
    let (st, _, text) = post(&disabled, None, None, vec![]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(text.contains("--web.enable-remote-write-receiver"));
}

#[test]
fn content_type_negotiation() {
    assert_eq!(parse_content_type(None), Ok(Version::V1));
    assert_eq!(
        parse_content_type(Some("application/x-protobuf")),
        Ok(Version::V1)
    );
    assert_eq!(
        parse_content_type(Some("application/x-protobuf;proto=prometheus.WriteRequest")),
        Ok(Version::V1)
    );
    assert_eq!(
        parse_content_type(Some(
            "application/x-protobuf;proto=io.prometheus.write.v2.Request"
        )),
        Ok(Version::V2)
    );
    let e = parse_content_type(Some("application/x-protobuf;proto=foo")).unwrap_err();
    assert!(
        e.contains("unknown remote write protobuf message foo"),
        "{e}"
    );
    assert!(parse_content_type(Some("application/x-protobuf;v2")).is_err());
}

#[tokio::test]
async fn v2_partial_writes_with_written_headers() {
    let (mem, app) = setup();
    let ct = Some("application/x-protobuf;proto=io.prometheus.write.v2.Request");
    let sym = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let req = v2::Request {
        symbols: sym(&["", "__name__", "up", "job", "a", "Up.", "other"]),
        timeseries: vec![
            v2::TimeSeries {
                labels_refs: vec![1, 2, 3, 4],
                samples: vec![
                    v2::Sample {
                        value: 1.0,
                        timestamp: 1000,
                        start_timestamp: 0,
                    },
                    v2::Sample {
                        value: 1.0,
                        timestamp: 2000,
                        start_timestamp: 0,
                    },
                ],
                metadata: v2::Metadata {
                    metric_type: 2,
                    help_ref: 5,
                    unit_ref: 0,
                },
                ..Default::default()
            },
            // A label reference out of range: rejected, the rest still written.
            v2::TimeSeries {
                labels_refs: vec![1, 99],
                samples: vec![v2::Sample {
                    value: 1.0,
                    timestamp: 1000,
                    start_timestamp: 0,
                }],
                ..Default::default()
            },
            v2::TimeSeries {
                labels_refs: vec![1, 6],
                samples: vec![v2::Sample {
                    value: 3.0,
                    timestamp: 1000,
                    start_timestamp: 0,
                }],
                histograms: vec![
                    sightline_remote::histconv::from_int(
                        2000,
                        &sightline_model::Histogram {
                            count: 3,
                            sum: 4.5,
                            positive_spans: vec![sightline_model::Span::new(0, 2)],
                            positive_buckets: vec![1, 1],
                            ..Default::default()
                        },
                    ),
                    // Older than the series' sample: out of order, reported.
                    sightline_remote::histconv::from_int(500, &Default::default()),
                ],
                ..Default::default()
            },
        ],
    };
    let (st, h, text) = post(&app, ct, Some("snappy"), compress(&req.encode())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        text.starts_with("parsing labels for series [1, 99]: symbol reference 99 is out of range"),
        "{text}"
    );
    assert!(
        text.contains("out of order sample for series {__name__=\"other\"}"),
        "{text}"
    );
    // Two samples of `up`, the one of `other` and its first histogram.
    assert_eq!(h["x-prometheus-remote-write-samples-written"], "3");
    assert_eq!(h["x-prometheus-remote-write-histograms-written"], "1");
    {
        use sightline_storage_api::Queryable;
        let q = mem.querier(0, 10_000).unwrap();
        let mut s = q
            .select(
                false,
                None,
                &[sightline_model::Matcher::equal("__name__", "other")],
            )
            .unwrap();
        let it = &mut s[0].samples;
        assert_eq!(it.next_sample().map(|s| s.v), Some(3.0));
        assert_eq!(it.next_sample().map(|s| s.t), Some(2000));
        let h = it.histogram().expect("a histogram sample");
        assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
        assert_eq!(h.count, 3.0);
    }
    assert_eq!(h["x-prometheus-remote-write-exemplars-written"], "0");
    // Out of order in 2.0: reported, the others written.
    let req2 = v2::Request {
        symbols: sym(&["", "__name__", "up", "job", "a"]),
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![
                v2::Sample {
                    value: 1.0,
                    timestamp: 1500,
                    start_timestamp: 0,
                },
                v2::Sample {
                    value: 1.0,
                    timestamp: 3000,
                    start_timestamp: 0,
                },
            ],
            ..Default::default()
        }],
    };
    let (st, h, text) = post(&app, ct, None, compress(&req2.encode())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        "out of order sample for series {__name__=\"up\", job=\"a\"}\n"
    );
    assert_eq!(h["x-prometheus-remote-write-samples-written"], "1");
    assert_eq!(mem.samples_of(&labels("up", "a")).len(), 3);
    assert_eq!(mem.metadata("up").unwrap().help, "Up.");
    // All good: 204 with the counts.
    let req3 = v2::Request {
        timeseries: vec![v2::TimeSeries {
            samples: vec![v2::Sample {
                value: 1.0,
                timestamp: 4000,
                start_timestamp: 0,
            }],
            ..req2.timeseries[0].clone()
        }],
        ..req2
    };
    let (st, h, _) = post(&app, ct, None, compress(&req3.encode())).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(h["x-prometheus-remote-write-samples-written"], "1");
}

#[tokio::test]
async fn histograms_above_schema_8_are_reduced_to_8() {
    let (mem, app) = setup();
    let h = sightline_model::Histogram {
        schema: 10,
        count: 4,
        sum: 2.0,
        positive_spans: vec![sightline_model::Span::new(1, 4)],
        positive_buckets: vec![1, 0, 0, 0],
        ..Default::default()
    };
    let req = sightline_remote::v1::WriteRequest {
        timeseries: vec![sightline_remote::v1::TimeSeries {
            labels: vec![sightline_remote::v1::Label {
                name: "__name__".into(),
                value: "fine".into(),
            }],
            histograms: vec![sightline_remote::histconv::from_int(1000, &h)],
            ..Default::default()
        }],
        metadata: vec![],
    };
    let (st, _, text) = post(&app, None, Some("snappy"), compress(&req.encode())).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{text}");
    use sightline_storage_api::Queryable;
    let q = mem.querier(0, 10_000).unwrap();
    let mut s = q
        .select(
            false,
            None,
            &[sightline_model::Matcher::equal("__name__", "fine")],
        )
        .unwrap();
    let it = &mut s[0].samples;
    assert!(it.next_sample().is_some());
    let got = it.histogram().expect("a histogram");
    assert_eq!(got.schema, 8);
    // Schema-10 buckets 1 to 4 are schema-8 bucket 1.
    assert_eq!(got.positive_buckets, vec![4.0]);
}
