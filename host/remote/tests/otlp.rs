//! The OTLP receiver over `MemStorage`: the protobuf and JSON decoders (gzip, malformed input
//! with its location), the translation (names, suffixes, labels, `target_info`, histograms,
//! summaries, delta to cumulative) with cases from Prometheus 3.9's translator tests, and the
//! HTTP handler (status codes, the response in the request's encoding, partial success).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sightline_model::{Labels, MetricType};
use sightline_remote::otlp::model::*;
use sightline_remote::otlp::naming::{metric_name, Kind, Strategy};
use sightline_remote::otlp::{self, json, translate, OtlpMetrics, Settings};
use sightline_storage_api::MemStorage;
use tower::ServiceExt;

const SEC: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000 * SEC;

fn point(attrs: &[(&str, &str)], st: u64, t: u64, v: f64) -> NumberPoint {
    NumberPoint {
        attributes: attrs.iter().map(|(k, v)| KeyValue::string(k, v)).collect(),
        start_time_unix_nano: st,
        time_unix_nano: t,
        value: v,
        flags: 0,
    }
}

fn request(resource: &[(&str, &str)], metrics: Vec<Metric>) -> ExportRequest {
    ExportRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource
                .iter()
                .map(|(k, v)| KeyValue::string(k, v))
                .collect(),
            scope_metrics: vec![ScopeMetrics {
                scope: Scope {
                    name: "my.library".into(),
                    version: "1.2.3".into(),
                    attributes: vec![],
                },
                metrics,
                schema_url: String::new(),
            }],
        }],
    }
}

fn counter(name: &str, unit: &str, temporality: i32, points: Vec<NumberPoint>) -> Metric {
    Metric {
        name: name.into(),
        description: "help text".into(),
        unit: unit.into(),
        data: Data::Sum {
            points,
            temporality,
            monotonic: true,
        },
    }
}

fn histogram(name: &str, temporality: i32, st: u64, t: u64, counts: &[u64]) -> Metric {
    Metric {
        name: name.into(),
        description: String::new(),
        unit: "s".into(),
        data: Data::Histogram {
            points: vec![HistogramPoint {
                attributes: vec![KeyValue::string("route", "/a")],
                start_time_unix_nano: st,
                time_unix_nano: t,
                count: counts.iter().sum(),
                sum: Some(1.5),
                bucket_counts: counts.to_vec(),
                explicit_bounds: vec![0.1, 1.0],
                flags: 0,
            }],
            temporality,
        },
    }
}

const SERVICE: &[(&str, &str)] = &[
    ("service.name", "checkout"),
    ("service.namespace", "shop"),
    ("service.instance.id", "pod-1"),
    ("host.name", "node-a"),
];

fn labels(s: &str) -> Labels {
    // `a="1",b="2"` to Labels.
    let pairs: Vec<(String, String)> = s
        .split("\",")
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once("=\"").unwrap();
            (k.to_string(), v.trim_end_matches('"').to_string())
        })
        .collect();
    Labels::from_pairs(pairs)
}

#[test]
fn protobuf_round_trips_and_json_decodes_to_the_same() {
    let mut req = request(
        SERVICE,
        vec![
            counter(
                "http.requests",
                "1",
                TEMPORALITY_CUMULATIVE,
                vec![point(&[("code", "200")], T0, T0 + SEC, 7.0)],
            ),
            histogram("latency", TEMPORALITY_DELTA, T0, T0 + SEC, &[1, 2, 3]),
        ],
    );
    req.resource_metrics[0].resource.push(KeyValue {
        key: "list".into(),
        value: AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Bool(true)]),
    });
    let bytes = req.encode();
    assert_eq!(ExportRequest::decode(&bytes).unwrap(), req);
    assert_eq!(req.data_points(), 2);

    let doc = format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[
            {{"key":"service.name","value":{{"stringValue":"checkout"}}}},
            {{"key":"service.namespace","value":{{"stringValue":"shop"}}}},
            {{"key":"service.instance.id","value":{{"stringValue":"pod-1"}}}},
            {{"key":"host.name","value":{{"stringValue":"node-a"}}}},
            {{"key":"list","value":{{"arrayValue":{{"values":[{{"intValue":"1"}},{{"boolValue":true}}]}}}}}}]}},
          "scopeMetrics":[{{"scope":{{"name":"my.library","version":"1.2.3"}},"metrics":[
            {{"name":"http.requests","description":"help text","unit":"1","sum":{{"aggregationTemporality":2,"isMonotonic":true,
              "dataPoints":[{{"attributes":[{{"key":"code","value":{{"stringValue":"200"}}}}],
                "startTimeUnixNano":"{T0}","timeUnixNano":{t1},"asInt":"7"}}]}}}},
            {{"name":"latency","unit":"s","histogram":{{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA",
              "dataPoints":[{{"attributes":[{{"key":"route","value":{{"stringValue":"/a"}}}}],
                "startTimeUnixNano":"{T0}","timeUnixNano":"{t1}","count":"6","sum":1.5,
                "bucketCounts":["1",2,"3"],"explicitBounds":[0.1,1]}}]}}}}]}}]}}]}}"#,
        t1 = T0 + SEC
    );
    assert_eq!(json::decode(doc.as_bytes()).unwrap(), req);
}

#[test]
fn malformed_input_names_the_field_and_byte() {
    let req = request(
        SERVICE,
        vec![counter("c", "", 2, vec![point(&[], 0, T0, 1.0)])],
    );
    let bytes = req.encode();
    // Cut inside the data: the error names where.
    let e = ExportRequest::decode(&bytes[..bytes.len() - 3]).unwrap_err();
    assert!(e.reason.contains("runs past the end of its message"), "{e}");
    assert_eq!(e.offset, 3, "{e}");
    // A string that is not UTF-8 in a metric name.
    let mut bad = req.clone();
    bad.resource_metrics[0].scope_metrics[0].metrics[0].name = "XX".into();
    let mut b = bad.encode();
    let at = b.windows(2).position(|w| w == b"XX").unwrap();
    b[at] = 0xff;
    let e = ExportRequest::decode(&b).unwrap_err();
    assert_eq!(e.offset, at, "{e}");
    assert_eq!(
        e.path,
        "resource_metrics[0].scope_metrics[0].metrics[0].name"
    );

    let e = json::decode(br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"asInt":"x1"}]}}]}]}]}"#)
        .unwrap_err();
    assert!(
        e.contains("resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asInt"),
        "{e}"
    );
    let e = json::decode(b"{\"resourceMetrics\": [}").unwrap_err();
    assert!(e.contains("line 1 column"), "{e}");
}

fn settings() -> Settings {
    Settings::default()
}

fn find<'a>(t: &'a translate::Translation, ls: &str) -> Vec<&'a translate::Sample> {
    let want = labels(ls);
    t.samples.iter().filter(|s| s.labels == want).collect()
}

#[test]
fn counters_get_total_and_unit_suffixes_and_job_instance() {
    let req = request(
        SERVICE,
        vec![
            counter(
                "http.server.requests",
                "{request}",
                2,
                vec![point(&[("http.method", "GET")], T0, T0 + SEC, 3.0)],
            ),
            counter("net.io", "By", 2, vec![point(&[], T0, T0 + SEC, 10.0)]),
            Metric {
                name: "cpu.utilization".into(),
                description: String::new(),
                unit: "1".into(),
                data: Data::Gauge(vec![point(&[], 0, T0 + SEC, 0.5)]),
            },
            Metric {
                name: "queue.size".into(),
                description: String::new(),
                unit: "{item}".into(),
                data: Data::Sum {
                    points: vec![point(&[], T0, T0 + SEC, -2.0)],
                    temporality: 2,
                    monotonic: false,
                },
            },
        ],
    );
    let t = translate::translate(&req, &settings());
    let s = find(
        &t,
        r#"__name__="http_server_requests_total",http_method="GET",instance="pod-1",job="shop/checkout""#,
    );
    assert_eq!(s.len(), 1, "{:#?}", t.samples);
    assert_eq!(
        (s[0].value, s[0].start_ms, s[0].t_ms),
        (
            3.0,
            (T0 / 1_000_000) as i64,
            ((T0 + SEC) / 1_000_000) as i64
        )
    );
    assert_eq!(s[0].meta.metric_type, MetricType::Counter);
    assert_eq!(s[0].meta.help, "help text");
    assert_eq!(
        find(
            &t,
            r#"__name__="net_io_bytes_total",instance="pod-1",job="shop/checkout""#
        )
        .len(),
        1
    );
    let g = find(
        &t,
        r#"__name__="cpu_utilization_ratio",instance="pod-1",job="shop/checkout""#,
    );
    assert_eq!(g[0].meta.metric_type, MetricType::Gauge);
    let q = find(
        &t,
        r#"__name__="queue_size",instance="pod-1",job="shop/checkout""#,
    );
    assert_eq!(q[0].value, -2.0);
    assert_eq!(q[0].meta.metric_type, MetricType::Gauge);
    // target_info with the non-identifying attributes.
    let ti = find(
        &t,
        r#"__name__="target_info",host_name="node-a",instance="pod-1",job="shop/checkout""#,
    );
    assert_eq!(ti.len(), 1);
    assert_eq!(ti[0].value, 1.0);
}

/// Prometheus 3.9's helper_test.go `TestCreateAttributes`: promoted resource attributes never
/// override a point's own; colliding sanitised names join their values with `;`.
#[test]
fn resource_attribute_promotion_and_collisions_as_prometheus() {
    let resource = [
        ("service.name", "service name"),
        ("service.instance.id", "service ID"),
        ("existent-attr", "resource value"),
        ("metric-attr", "resource value"),
    ];
    let attrs = [
        ("metric-attr", "metric value"),
        ("metric-attr-other", "metric value other"),
    ];
    let req = request(
        &resource,
        vec![Metric {
            name: "test_metric".into(),
            description: String::new(),
            unit: String::new(),
            data: Data::Gauge(vec![point(&attrs, 0, T0, 1.0)]),
        }],
    );
    let mut s = settings();
    s.attributes = vec![
        "non-existent-attr".into(),
        "existent-attr".into(),
        "metric-attr".into(),
    ];
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(&t, r#"__name__="test_metric",existent_attr="resource value",instance="service ID",job="service name",metric_attr="metric value",metric_attr_other="metric value other""#).len(),
        1,
        "{:#?}",
        t.samples
    );
    // promote_all with an ignore list.
    let mut s = settings();
    s.promote_all = true;
    s.attributes = vec!["metric-attr".into()];
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(&t, r#"__name__="test_metric",existent_attr="resource value",instance="service ID",job="service name",metric_attr="metric value",metric_attr_other="metric value other",service_instance_id="service ID",service_name="service name""#).len(),
        1,
        "{:#?}",
        t.samples
    );
    // Collisions.
    let req = request(
        &[],
        vec![Metric {
            name: "m".into(),
            description: String::new(),
            unit: String::new(),
            data: Data::Gauge(vec![point(
                &[("label.name", "a"), ("label_name", "b")],
                0,
                T0,
                1.0,
            )]),
        }],
    );
    let t = translate::translate(&req, &settings());
    assert_eq!(
        find(&t, r#"__name__="m",label_name="a;b""#).len(),
        1,
        "{:#?}",
        t.samples
    );
    // No job or instance: no target_info.
    assert!(t
        .samples
        .iter()
        .all(|s| s.labels.metric_name() != Some("target_info")));
}

#[test]
fn scope_metadata_is_promoted_only_when_asked() {
    let req = request(
        SERVICE,
        vec![counter("c", "", 2, vec![point(&[], 0, T0, 1.0)])],
    );
    let mut s = settings();
    s.promote_scope_metadata = true;
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(&t, r#"__name__="c_total",instance="pod-1",job="shop/checkout",otel_scope_name="my.library",otel_scope_version="1.2.3""#).len(),
        1,
        "{:#?}",
        t.samples
    );
}

#[test]
fn histograms_and_summaries_become_classic_series() {
    let mut req = request(
        SERVICE,
        vec![histogram("rpc.duration", 2, T0, T0 + SEC, &[1, 2, 3])],
    );
    req.resource_metrics[0].scope_metrics[0]
        .metrics
        .push(Metric {
            name: "latency".into(),
            description: String::new(),
            unit: "ms".into(),
            data: Data::Summary(vec![SummaryPoint {
                attributes: vec![],
                start_time_unix_nano: T0,
                time_unix_nano: T0 + SEC,
                count: 4,
                sum: 10.0,
                quantile_values: vec![(0.5, 2.0), (0.99, 9.0)],
                flags: 0,
            }]),
        });
    let t = translate::translate(&req, &settings());
    let base = r#"instance="pod-1",job="shop/checkout",route="/a""#;
    let v = |name: &str, extra: &str| {
        let s = find(&t, &format!(r#"__name__="{name}",{extra}{base}"#));
        assert_eq!(s.len(), 1, "{name} {extra}: {:#?}", t.samples);
        s[0].value
    };
    assert_eq!(v("rpc_duration_seconds_bucket", r#"le="0.1","#), 1.0);
    assert_eq!(v("rpc_duration_seconds_bucket", r#"le="1","#), 3.0);
    assert_eq!(v("rpc_duration_seconds_bucket", r#"le="+Inf","#), 6.0);
    assert_eq!(v("rpc_duration_seconds_count", ""), 6.0);
    assert_eq!(v("rpc_duration_seconds_sum", ""), 1.5);
    let base = r#"instance="pod-1",job="shop/checkout""#;
    assert_eq!(
        find(
            &t,
            &format!(r#"__name__="latency_milliseconds",quantile="0.99",{base}"#)
        )[0]
        .value,
        9.0
    );
    assert_eq!(
        find(
            &t,
            &format!(r#"__name__="latency_milliseconds_count",{base}"#)
        )[0]
        .value,
        4.0
    );
}

#[test]
fn exponential_histograms_become_native_histograms_and_bad_temporality_is_rejected() {
    let exp = |t: u64, flags: u32| ExpHistogramPoint {
        start_time_unix_nano: T0,
        time_unix_nano: t,
        count: 7,
        sum: Some(12.5),
        scale: 2,
        zero_count: 1,
        positive: ExpBuckets {
            offset: -1,
            bucket_counts: vec![2, 0, 3],
        },
        negative: ExpBuckets {
            offset: 0,
            bucket_counts: vec![1],
        },
        flags,
        ..Default::default()
    };
    let req = request(
        SERVICE,
        vec![
            Metric {
                name: "exp".into(),
                description: String::new(),
                unit: "s".into(),
                data: Data::ExponentialHistogram {
                    points: vec![exp(T0, 0), exp(T0 + SEC, FLAG_NO_RECORDED_VALUE)],
                    temporality: 2,
                },
            },
            counter("bad", "", 0, vec![point(&[], 0, T0, 1.0)]),
        ],
    );
    let t = translate::translate(&req, &settings());
    let reasons: Vec<(&str, usize)> = t.rejected.iter().map(|(r, n, _)| (*r, *n)).collect();
    assert_eq!(reasons, vec![("invalid", 1)]);
    let s = find(
        &t,
        r#"__name__="exp_seconds",instance="pod-1",job="shop/checkout""#,
    );
    assert_eq!(s.len(), 2);
    let h = s[0].histogram.as_deref().expect("a native histogram");
    assert_eq!(h.schema, 2);
    assert_eq!((h.count, h.zero_count, h.sum), (7, 1, 12.5));
    // OTel index -1 is Prometheus index 0; the empty bucket between is kept (gap <= 2).
    assert_eq!(
        (h.positive_spans.clone(), h.positive_buckets.clone()),
        (vec![sightline_model::Span::new(0, 3)], vec![2, -2, 3])
    );
    assert_eq!(h.negative_buckets, vec![1]);
    let stale = s[1].histogram.as_deref().expect("a native histogram");
    assert!(sightline_model::is_stale_nan(stale.sum));
}

#[test]
fn no_recorded_value_is_a_staleness_marker() {
    let mut p = point(&[], T0, T0 + SEC, 5.0);
    p.flags = FLAG_NO_RECORDED_VALUE;
    let req = request(SERVICE, vec![counter("c", "", 2, vec![p])]);
    let t = translate::translate(&req, &settings());
    let s = find(
        &t,
        r#"__name__="c_total",instance="pod-1",job="shop/checkout""#,
    );
    assert!(sightline_model::is_stale_nan(s[0].value));
}

fn receiver(storage: Arc<MemStorage>) -> Arc<otlp::Receiver> {
    Arc::new(otlp::Receiver::new(
        storage,
        OtlpMetrics::unregistered(),
        settings(),
    ))
}

async fn post(
    app: &axum::Router,
    ct: &str,
    enc: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut b = Request::post("/otlp/v1/metrics").header("content-type", ct);
    if let Some(e) = enc {
        b = b.header("content-encoding", e);
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, body)
}

fn now_ns() -> u64 {
    sightline_model::now_ms() as u64 * 1_000_000
}

#[tokio::test]
async fn handler_writes_deltas_as_cumulative_and_answers_in_the_request_encoding() {
    let storage = Arc::new(MemStorage::new());
    let app = otlp::router(Some(receiver(storage.clone())));
    let t = now_ns() - 60 * SEC;
    for (i, v) in [5.0, 2.0, 4.0].iter().enumerate() {
        let i = i as u64;
        let req = request(
            SERVICE,
            vec![counter(
                "jobs",
                "",
                TEMPORALITY_DELTA,
                vec![point(&[], t + i * SEC, t + (i + 1) * SEC, *v)],
            )],
        );
        let (status, ct, body) = post(&app, "application/x-protobuf", None, req.encode()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct, "application/x-protobuf");
        assert!(body.is_empty(), "no partial success: {body:?}");
    }
    let ls = labels(r#"__name__="jobs_total",instance="pod-1",job="shop/checkout""#);
    let vals: Vec<f64> = storage.samples_of(&ls).iter().map(|s| s.v).collect();
    assert_eq!(vals, vec![5.0, 7.0, 11.0]);
    let md = storage.metadata("jobs_total").unwrap();
    assert_eq!(md.metric_type, MetricType::Counter);

    // A replayed delta is out of order: partial success, in JSON for a JSON request.
    let doc = format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"checkout"}}}},{{"key":"service.namespace","value":{{"stringValue":"shop"}}}},{{"key":"service.instance.id","value":{{"stringValue":"pod-1"}}}}]}},"scopeMetrics":[{{"metrics":[
        {{"name":"jobs","sum":{{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{{"startTimeUnixNano":"{st}","timeUnixNano":"{t1}","asDouble":1}}]}}}},
        {{"name":"exp","exponentialHistogram":{{"aggregationTemporality":2,"dataPoints":[{{"timeUnixNano":"{t1}","scale":-5}}]}}}},
        {{"name":"lat","exponentialHistogram":{{"aggregationTemporality":2,"dataPoints":[{{"timeUnixNano":"{t1}","count":"3","sum":1.5,"scale":1,"positive":{{"offset":0,"bucketCounts":["1","2"]}}}}]}}}}]}}]}}]}}"#,
        st = t,
        t1 = t + SEC
    );
    let (status, ct, body) = post(
        &app,
        "application/json; charset=utf-8",
        None,
        doc.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/json");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "2", "{v}");
    let msg = v["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("Scale must be >= -4, was -5") && msg.contains("out of order"),
        "{msg}"
    );
    {
        use sightline_storage_api::Queryable;
        let q = storage.querier(0, i64::MAX).unwrap();
        let mut res = q
            .select(
                false,
                None,
                &[sightline_model::Matcher::equal("__name__", "lat")],
            )
            .unwrap();
        let it = &mut res[0].samples;
        assert!(it.next_sample().is_some());
        let h = it.histogram().expect("stored as a native histogram");
        assert_eq!((h.schema, h.count, h.sum), (1, 3.0, 1.5));
        assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
    }

    // Gzip.
    let req = request(
        SERVICE,
        vec![counter("gz", "", 2, vec![point(&[], t, t + SEC, 1.0)])],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&req.encode()).unwrap();
    let (status, _, _) = post(
        &app,
        "application/x-protobuf",
        Some("gzip"),
        gz.finish().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        storage
            .samples_of(&labels(
                r#"__name__="gz_total",instance="pod-1",job="shop/checkout""#
            ))
            .len(),
        1
    );
}

#[tokio::test]
async fn handler_refuses_what_it_cannot_read() {
    let app = otlp::router(Some(receiver(Arc::new(MemStorage::new()))));
    let (status, _, body) = post(&app, "text/plain", None, vec![]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(String::from_utf8_lossy(&body).contains("unsupported content type"));
    let (status, _, _) = post(&app, "application/x-protobuf", Some("br"), vec![]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, body) =
        post(&app, "application/x-protobuf", None, vec![0x0a, 0x05, 0x01]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("at byte"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, _) = post(
        &app,
        "application/x-protobuf",
        Some("gzip"),
        b"not gzip".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A gzip bomb stops at the limit.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..70 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let (status, _, body) = post(&app, "application/x-protobuf", Some("gzip"), bomb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("over the limit"));
    // The flag off: 404 with Prometheus' text.
    let off = otlp::router(None);
    let (status, _, body) = post(&off, "application/x-protobuf", None, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "otlp write receiver needs to be enabled with --web.enable-otlp-receiver\n"
    );
}

/// Every case of otlptranslator v1.0.0's `TestMetricNamer_Build` without a namespace
/// (Prometheus' OTLP receiver sets none), extracted into `data/`.
#[test]
fn metric_names_as_otlptranslator_tests() {
    let data = include_str!("data/otlptranslator_metric_names.tsv");
    let mut n = 0;
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let strategy = match (f[0], f[1]) {
            ("escape", "suffixes") => Strategy::UnderscoreEscapingWithSuffixes,
            ("escape", _) => Strategy::UnderscoreEscapingWithoutSuffixes,
            (_, "suffixes") => Strategy::NoUtf8EscapingWithSuffixes,
            _ => Strategy::NoTranslation,
        };
        let kind = match f[2] {
            "gauge" => Kind::Gauge,
            "counter" => Kind::MonotonicCounter,
            "updown" => Kind::NonMonotonicCounter,
            _ => Kind::Other,
        };
        let got = metric_name(f[3], f[4], kind, strategy);
        if f[5] == "ERROR" {
            assert!(got.is_err(), "{line}: {got:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(f[5]), "{line}");
        }
        n += 1;
    }
    assert!(n > 70);
}

/// The Python SDK's own encodings (`fuzz/seeds/otlp`, made with opentelemetry-proto 1.27 and
/// protobuf's `MessageToJson`: enum names, 64-bit integers as strings) decode to the same.
#[test]
fn sdk_protobuf_and_json_encodings_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/otlp");
    for name in ["sdk-cumulative", "sdk-delta", "summary-exp"] {
        let pb = std::fs::read(dir.join(format!("{name}.pb"))).unwrap();
        let js = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
        let a = otlp::ExportRequest::decode(&pb).unwrap();
        let b = json::decode(&js).unwrap();
        assert_eq!(a, b, "{name}");
        assert!(a.data_points() >= 2, "{name}");
    }
}

/// One service instance's export as tests/tools/otlp_load.py makes it (800 data points, 1,400
/// samples): 20 counters and 10 gauges of 25 points, 5 histograms of 10 points.
fn realistic_request(instance: usize, t: u64, round: u64) -> ExportRequest {
    let attrs = |pairs: &[(&str, String)]| -> Vec<KeyValue> {
        pairs.iter().map(|(k, v)| KeyValue::string(k, v)).collect()
    };
    let mut metrics = Vec::new();
    for m in 0..20 {
        let points = (0..25u64)
            .map(|p| NumberPoint {
                attributes: attrs(&[
                    ("http.route", format!("/api/items/{p}")),
                    ("http.method", "GET".into()),
                    ("http.status_code", "200".into()),
                ]),
                start_time_unix_nano: T0,
                time_unix_nano: t,
                value: (round * (p + 1)) as f64,
                flags: 0,
            })
            .collect();
        metrics.push(counter(
            &format!("app.requests.{m}"),
            "{request}",
            2,
            points,
        ));
    }
    for m in 0..10 {
        let points = (0..25u64)
            .map(|p| NumberPoint {
                attributes: attrs(&[
                    ("queue", format!("q{p}")),
                    ("partition", (p % 4).to_string()),
                    ("tier", "gold".into()),
                ]),
                start_time_unix_nano: 0,
                time_unix_nano: t,
                value: (p * round % 97) as f64,
                flags: 0,
            })
            .collect();
        metrics.push(Metric {
            name: format!("app.queue.depth.{m}"),
            description: String::new(),
            unit: "{item}".into(),
            data: Data::Gauge(points),
        });
    }
    for m in 0..5 {
        let points = (0..10)
            .map(|p| {
                let counts: Vec<u64> = (0..11).map(|i| round * (i + 1)).collect();
                HistogramPoint {
                    attributes: attrs(&[
                        ("http.route", format!("/api/items/{p}")),
                        ("http.method", "GET".into()),
                    ]),
                    start_time_unix_nano: T0,
                    time_unix_nano: t,
                    count: counts.iter().sum(),
                    sum: Some(round as f64 * 12.5),
                    bucket_counts: counts,
                    explicit_bounds: vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                    flags: 0,
                }
            })
            .collect();
        metrics.push(Metric {
            name: format!("http.server.duration.{m}"),
            description: String::new(),
            unit: "s".into(),
            data: Data::Histogram {
                points,
                temporality: 2,
            },
        });
    }
    let inst = format!("pod-{instance}");
    let pod = format!("checkout-7d9f8c-{instance:05}");
    let node = format!("node-{}", instance % 7);
    request(
        &[
            ("service.name", "checkout"),
            ("service.namespace", "shop"),
            ("service.instance.id", &inst),
            ("host.name", &node),
            ("cloud.region", "eu-west-1"),
            ("k8s.pod.name", &pod),
            ("telemetry.sdk.language", "python"),
        ],
        metrics,
    )
}

/// Single-threaded throughput of decoding, translating and appending (to `MemStorage`) the
/// realistic request:
/// `cargo test --release -p sightline-remote --test otlp -- --ignored measure --nocapture`.
#[test]
#[ignore]
fn measure_otlp_throughput() {
    let storage = Arc::new(MemStorage::new());
    let rx = otlp::Receiver::new(storage.clone(), OtlpMetrics::unregistered(), settings());
    let now = sightline_model::now_ms();
    let base = (now as u64 - 3_000_000) * 1_000_000;
    let bodies: Vec<Vec<u8>> = (0..200)
        .map(|r| {
            realistic_request(
                r % 10,
                base + (r / 10 + 1) as u64 * SEC,
                (r / 10 + 1) as u64,
            )
            .encode()
        })
        .collect();
    let t = std::time::Instant::now();
    let mut points = 0;
    for b in &bodies {
        let req = otlp::ExportRequest::decode(b).unwrap();
        points += req.data_points();
    }
    let decode = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mut samples = 0;
    for b in &bodies {
        let req = otlp::ExportRequest::decode(b).unwrap();
        samples += translate::translate(&req, &settings()).samples.len();
    }
    let translate = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    for b in &bodies {
        let o = otlp::handler::handle(&rx, otlp::handler::Encoding::Protobuf, false, b, now);
        assert_eq!((o.status, o.rejected), (StatusCode::OK, 0), "{}", o.message);
    }
    let all = t.elapsed().as_secs_f64();
    println!(
        "{} requests of {} KiB, {points} data points, {samples} samples: decode {:.2} M points/s; \
         decode+translate {:.2} M points/s; decode+translate+append (MemStorage) {:.2} M points/s ({:.2} M samples/s)",
        bodies.len(),
        bodies[0].len() / 1024,
        points as f64 / decode / 1e6,
        points as f64 / translate / 1e6,
        points as f64 / all / 1e6,
        samples as f64 / all / 1e6,
    );
}

/// Attribute values nested without bound (2 bytes a level in protobuf) are refused at a fixed
/// depth in both encodings instead of exhausting the stack.
#[test]
fn deeply_nested_attribute_values_are_refused() {
    let mut v = AnyValue::Int(1);
    for _ in 0..100 {
        v = AnyValue::Array(vec![v]);
    }
    let mut req = request(SERVICE, vec![]);
    req.resource_metrics[0].resource.push(KeyValue {
        key: "deep".into(),
        value: v,
    });
    let e = otlp::ExportRequest::decode(&req.encode()).unwrap_err();
    assert!(e.reason.contains("nested deeper than 32"), "{e}");
    // A thousand levels by hand, inside a resource attribute.
    let mut any: Vec<u8> = vec![0x18, 0x01];
    for _ in 0..1000 {
        // AnyValue{array_value: ArrayValue{values: [any]}}.
        let arr = wrap(0x0a, &any);
        any = wrap(0x2a, &arr);
    }
    let kv = [wrap(0x0a, b"k"), wrap(0x12, &any)].concat();
    let body = wrap(0x0a, &wrap(0x0a, &wrap(0x0a, &kv)));
    let e = otlp::ExportRequest::decode(&body).unwrap_err();
    assert!(e.reason.contains("nested deeper than 32"), "{e}");
    let mut json =
        String::from(r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":"#);
    for _ in 0..40 {
        json.push_str(r#"{"arrayValue":{"values":["#);
    }
    json.push_str(r#"{"intValue":1}"#);
    for _ in 0..40 {
        json.push_str("]}}");
    }
    json.push_str("}]}}]}");
    let e = json::decode(json.as_bytes()).unwrap_err();
    assert!(
        e.contains("nested deeper than 32") || e.contains("recursion limit"),
        "{e}"
    );
}

/// A length-delimited field: its key byte, the length, the bytes.
fn wrap(key: u8, b: &[u8]) -> Vec<u8> {
    let mut out = vec![key];
    push_varint(&mut out, b.len() as u64);
    out.extend_from_slice(b);
    out
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A batch whose points are years apart gets a bounded number of `target_info` samples.
#[test]
fn target_info_is_bounded() {
    let req = request(
        SERVICE,
        vec![Metric {
            name: "g".into(),
            description: String::new(),
            unit: String::new(),
            data: Data::Gauge(vec![point(&[], 0, 0, 1.0), point(&[], 0, u64::MAX, 1.0)]),
        }],
    );
    let t = translate::translate(&req, &settings());
    let n = t
        .samples
        .iter()
        .filter(|s| s.labels.metric_name() == Some("target_info"))
        .count();
    assert_eq!(n, 1001);
}

/// `keep_identifying_resource_attributes` keeps service.* on target_info; a UTF-8 strategy
/// keeps attribute names as they are (no `;` joining: no collisions are possible).
#[test]
fn keep_identifying_and_utf8_strategies() {
    let req = request(
        SERVICE,
        vec![counter(
            "http.requests",
            "s",
            2,
            vec![point(&[("http.method", "GET")], 0, T0, 1.0)],
        )],
    );
    let mut s = settings();
    s.keep_identifying = true;
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(&t, r#"__name__="target_info",host_name="node-a",instance="pod-1",job="shop/checkout",service_instance_id="pod-1",service_name="checkout",service_namespace="shop""#).len(),
        1,
        "{:#?}",
        t.samples
    );
    let mut s = settings();
    s.strategy = Strategy::NoUtf8EscapingWithSuffixes;
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(&t, r#"__name__="http.requests_seconds_total",http.method="GET",instance="pod-1",job="shop/checkout""#).len(),
        1,
        "{:#?}",
        t.samples
    );
    s.strategy = Strategy::NoTranslation;
    let t = translate::translate(&req, &s);
    assert_eq!(
        find(
            &t,
            r#"__name__="http.requests",http.method="GET",instance="pod-1",job="shop/checkout""#
        )
        .len(),
        1
    );
}
