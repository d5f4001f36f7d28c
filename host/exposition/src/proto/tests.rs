//! Decoder tests: hand-encoded messages (client_golang's shapes, the families of
//! Prometheus' `protobufparse_test.go`) and hostile bodies.

use sightline_model::{Histogram, LabelsBuilder, Span};

use super::*;

/// An entry as owned, comparable text.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Help(String, String),
    Unit(String, String),
    Type(String, MetricType),
    Float {
        labels: String,
        v: f64,
        ts: Option<i64>,
        st: i64,
        ex: usize,
    },
    Hist {
        labels: String,
        h: Histogram,
        ts: Option<i64>,
        ex: usize,
    },
    FHist {
        labels: String,
        h: FloatHistogram,
        ts: Option<i64>,
    },
}

fn collect(body: &[u8], opts: ProtoOptions) -> Result<Vec<Out>, ParseError> {
    let mut p = parse_proto(body, opts);
    let mut out = Vec::new();
    let mut keys = std::collections::HashSet::new();
    while let Some(e) = p.next_entry() {
        out.push(match e? {
            ProtoEntry::Help { name, help } => Out::Help(name.into(), help.into_owned()),
            ProtoEntry::Unit { name, unit } => Out::Unit(name.into(), unit.into()),
            ProtoEntry::Type { name, metric_type } => Out::Type(name.into(), metric_type),
            ProtoEntry::Sample(s) => {
                let mut b = LabelsBuilder::new();
                s.labels_into(&mut b);
                let labels = b.build().to_string();
                assert!(keys.insert(s.key.to_vec()), "key of {labels} repeated");
                match s.value {
                    ProtoValue::Float(v) => Out::Float {
                        labels,
                        v,
                        ts: s.timestamp_ms,
                        st: s.start_timestamp_ms,
                        ex: s.exemplars.len(),
                    },
                    ProtoValue::Histogram(h) => Out::Hist {
                        labels,
                        h: h.clone(),
                        ts: s.timestamp_ms,
                        ex: s.exemplars.len(),
                    },
                    ProtoValue::FloatHistogram(h) => Out::FHist {
                        labels,
                        h: h.clone(),
                        ts: s.timestamp_ms,
                    },
                }
            }
        });
    }
    Ok(out)
}

fn lp(n: &str, v: &str) -> (String, String) {
    (n.into(), v.into())
}

fn ex(id: &str, v: f64, ts: Option<Timestamp>) -> Exemplar {
    Exemplar {
        label: vec![lp("dummyID", id)],
        value: v,
        timestamp: ts,
    }
}

/// `test_histogram` of Prometheus' protobuf parser tests: three classic buckets (two with
/// exemplars, one of them timestamped) and a schema-3 native histogram.
fn test_histogram(name: &str, t: i32) -> MetricFamily {
    let ts = Some(Timestamp {
        seconds: 1625851155,
        nanos: 146848499,
    });
    MetricFamily {
        name: name.into(),
        help: "Test histogram with many buckets removed to keep it manageable in size.".into(),
        metric_type: t,
        metric: vec![Metric {
            histogram: Some(HistogramMsg {
                sample_count: 175,
                sample_sum: 0.0008280461746287094,
                bucket: vec![
                    Bucket {
                        cumulative_count: 2,
                        upper_bound: -0.0004899999999999998,
                        ..Bucket::default()
                    },
                    Bucket {
                        cumulative_count: 4,
                        upper_bound: -0.0003899999999999998,
                        exemplar: Some(ex("59727", -0.00039, ts)),
                        ..Bucket::default()
                    },
                    Bucket {
                        cumulative_count: 16,
                        upper_bound: -0.0002899999999999998,
                        exemplar: Some(ex("5617", -0.00029, None)),
                        ..Bucket::default()
                    },
                ],
                schema: 3,
                zero_threshold: 2.938735877055719e-39,
                zero_count: 2,
                negative_span: vec![Span::new(-162, 1), Span::new(23, 4)],
                negative_delta: vec![1, 3, -2, -1, 1],
                positive_span: vec![Span::new(-161, 1), Span::new(8, 3)],
                positive_delta: vec![1, 2, -1, -1],
                ..HistogramMsg::default()
            }),
            timestamp_ms: 1234568,
            ..Metric::default()
        }],
        ..MetricFamily::default()
    }
}

fn golang_body() -> Vec<u8> {
    encode_delimited(&[
        MetricFamily {
            name: "go_build_info".into(),
            help: "Build information about the main Go module.".into(),
            metric_type: TYPE_GAUGE,
            metric: vec![Metric {
                label: vec![
                    lp("checksum", ""),
                    lp("path", "github.com/prometheus/client_golang"),
                    lp("version", "(devel)"),
                ],
                gauge: Some(1.0),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        },
        MetricFamily {
            name: "go_memstats_alloc_bytes_total".into(),
            help: "Total number of bytes allocated, even if freed.".into(),
            metric_type: TYPE_COUNTER,
            unit: "bytes".into(),
            metric: vec![Metric {
                counter: Some(Counter {
                    value: 1.546544e6,
                    exemplar: Some(ex(
                        "42",
                        12.0,
                        Some(Timestamp {
                            seconds: 1625851151,
                            nanos: 233181499,
                        }),
                    )),
                    start_timestamp: Some(Timestamp::from_ms(1_000_500)),
                }),
                ..Metric::default()
            }],
        },
        MetricFamily {
            name: "something_untyped".into(),
            help: "Just to test the untyped type.".into(),
            metric_type: TYPE_UNTYPED,
            metric: vec![Metric {
                untyped: Some(42.0),
                timestamp_ms: 1234567,
                ..Metric::default()
            }],
            ..MetricFamily::default()
        },
        MetricFamily {
            name: "empty_family".into(),
            help: "No metrics: skipped, metadata and all.".into(),
            metric_type: TYPE_GAUGE,
            ..MetricFamily::default()
        },
        test_histogram("test_histogram", TYPE_HISTOGRAM),
        test_histogram("test_gauge_histogram", TYPE_GAUGE_HISTOGRAM),
        MetricFamily {
            name: "rpc_durations_seconds".into(),
            help: "RPC latency distributions.".into(),
            metric_type: TYPE_SUMMARY,
            metric: vec![Metric {
                label: vec![lp("service", "exponential")],
                summary: Some(Summary {
                    sample_count: 262,
                    sample_sum: 0.00025551262820703587,
                    quantile: vec![
                        Quantile {
                            quantile: 0.5,
                            value: 6.442786329648548e-07,
                        },
                        Quantile {
                            quantile: 0.99,
                            value: 1.260805e-05,
                        },
                    ],
                    start_timestamp: None,
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        },
    ])
}

fn expected_native(gauge: bool) -> Histogram {
    Histogram {
        counter_reset_hint: if gauge {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        },
        schema: 3,
        zero_threshold: 2.938735877055719e-39,
        zero_count: 2,
        count: 175,
        sum: 0.0008280461746287094,
        positive_spans: vec![Span::new(-161, 1), Span::new(8, 3)],
        negative_spans: vec![Span::new(-162, 1), Span::new(23, 4)],
        positive_buckets: vec![1, 2, -1, -1],
        negative_buckets: vec![1, 3, -2, -1, 1],
        ..Histogram::default()
    }
}

fn float(labels: &str, v: f64, ts: Option<i64>) -> Out {
    Out::Float {
        labels: labels.into(),
        v,
        ts,
        st: 0,
        ex: 0,
    }
}

#[test]
fn client_golang_families_with_native_histograms() {
    let out = collect(&golang_body(), ProtoOptions::default()).unwrap();
    let want = vec![
        Out::Help(
            "go_build_info".into(),
            "Build information about the main Go module.".into(),
        ),
        Out::Type("go_build_info".into(), MetricType::Gauge),
        // The empty `checksum` label is no label at all.
        float(
            r#"{__name__="go_build_info", path="github.com/prometheus/client_golang", version="(devel)"}"#,
            1.0,
            None,
        ),
        Out::Help(
            "go_memstats_alloc_bytes_total".into(),
            "Total number of bytes allocated, even if freed.".into(),
        ),
        Out::Unit("go_memstats_alloc_bytes_total".into(), "bytes".into()),
        Out::Type("go_memstats_alloc_bytes_total".into(), MetricType::Counter),
        Out::Float {
            labels: r#"{__name__="go_memstats_alloc_bytes_total"}"#.into(),
            v: 1.546544e6,
            ts: None,
            st: 1_000_500,
            ex: 1,
        },
        Out::Help(
            "something_untyped".into(),
            "Just to test the untyped type.".into(),
        ),
        Out::Type("something_untyped".into(), MetricType::Unknown),
        float(r#"{__name__="something_untyped"}"#, 42.0, Some(1234567)),
        Out::Help(
            "test_histogram".into(),
            "Test histogram with many buckets removed to keep it manageable in size.".into(),
        ),
        Out::Type("test_histogram".into(), MetricType::Histogram),
        // Only the timestamped bucket exemplar goes with a native histogram.
        Out::Hist {
            labels: r#"{__name__="test_histogram"}"#.into(),
            h: expected_native(false),
            ts: Some(1234568),
            ex: 1,
        },
        Out::Help(
            "test_gauge_histogram".into(),
            "Test histogram with many buckets removed to keep it manageable in size.".into(),
        ),
        Out::Type("test_gauge_histogram".into(), MetricType::GaugeHistogram),
        Out::Hist {
            labels: r#"{__name__="test_gauge_histogram"}"#.into(),
            h: expected_native(true),
            ts: Some(1234568),
            ex: 1,
        },
        Out::Help(
            "rpc_durations_seconds".into(),
            "RPC latency distributions.".into(),
        ),
        Out::Type("rpc_durations_seconds".into(), MetricType::Summary),
        float(
            r#"{__name__="rpc_durations_seconds_count", service="exponential"}"#,
            262.0,
            None,
        ),
        float(
            r#"{__name__="rpc_durations_seconds_sum", service="exponential"}"#,
            0.00025551262820703587,
            None,
        ),
        float(
            r#"{__name__="rpc_durations_seconds", quantile="0.5", service="exponential"}"#,
            6.442786329648548e-07,
            None,
        ),
        float(
            r#"{__name__="rpc_durations_seconds", quantile="0.99", service="exponential"}"#,
            1.260805e-05,
            None,
        ),
    ];
    assert_eq!(out, want);
}

fn classic_of(name: &str, ts: Option<i64>) -> Vec<Out> {
    let b = |le: &str, v: f64, ex: usize| Out::Float {
        labels: format!(r#"{{__name__="{name}_bucket", le="{le}"}}"#),
        v,
        ts,
        st: 0,
        ex,
    };
    vec![
        float(&format!(r#"{{__name__="{name}_count"}}"#), 175.0, ts),
        float(
            &format!(r#"{{__name__="{name}_sum"}}"#),
            0.0008280461746287094,
            ts,
        ),
        b("-0.0004899999999999998", 2.0, 0),
        b("-0.0003899999999999998", 4.0, 1),
        b("-0.0002899999999999998", 16.0, 1),
        b("+Inf", 175.0, 0),
    ]
}

#[test]
fn classic_series_kept_after_the_native_histogram() {
    let body = encode_delimited(&[test_histogram("test_histogram", TYPE_HISTOGRAM)]);
    let opts = ProtoOptions {
        keep_classic_histograms: true,
        ..ProtoOptions::default()
    };
    let out = collect(&body, opts).unwrap();
    assert!(matches!(&out[2], Out::Hist { .. }));
    assert_eq!(
        out[3..].to_vec(),
        classic_of("test_histogram", Some(1234568))
    );
}

#[test]
fn ignoring_native_histograms_reads_the_classic_ones() {
    let body = encode_delimited(&[test_histogram("test_histogram", TYPE_HISTOGRAM)]);
    let opts = ProtoOptions {
        ignore_native_histograms: true,
        ..ProtoOptions::default()
    };
    let out = collect(&body, opts).unwrap();
    assert_eq!(
        out[2..].to_vec(),
        classic_of("test_histogram", Some(1234568))
    );
    // A histogram without classic buckets is `_count`, `_sum` and a `+Inf` bucket.
    let mut f = test_histogram("h", TYPE_HISTOGRAM);
    if let Some(h) = f.metric[0].histogram.as_mut() {
        h.bucket.clear();
    }
    let out = collect(&encode_delimited(&[f]), opts).unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(
        out[4],
        float(r#"{__name__="h_bucket", le="+Inf"}"#, 175.0, Some(1234568))
    );
}

#[test]
fn classic_histograms_convert_to_nhcb() {
    let mut f = test_histogram("h", TYPE_HISTOGRAM);
    if let Some(h) = f.metric[0].histogram.as_mut() {
        h.schema = 0;
        h.zero_threshold = 0.0;
        h.zero_count = 0;
        h.negative_span.clear();
        h.positive_span.clear();
        h.negative_delta.clear();
        h.positive_delta.clear();
    }
    let body = encode_delimited(&[f]);
    let nhcb = ProtoOptions {
        convert_classic_histograms_to_nhcb: true,
        ..ProtoOptions::default()
    };
    let want = Out::Hist {
        labels: r#"{__name__="h"}"#.into(),
        h: Histogram {
            schema: -53,
            count: 175,
            sum: 0.0008280461746287094,
            positive_spans: vec![Span::new(0, 4)],
            // 2, 2, 12, 159 as deltas.
            positive_buckets: vec![2, 0, 10, 147],
            custom_values: vec![
                -0.0004899999999999998,
                -0.0003899999999999998,
                -0.0002899999999999998,
            ]
            .into(),
            ..Histogram::default()
        },
        ts: Some(1234568),
        // The timestamped bucket exemplar.
        ex: 1,
    };
    let out = collect(&body, nhcb).unwrap();
    assert_eq!(out[2..].to_vec(), vec![want.clone()]);
    // Keeping the classic series: they come first, then the NHCB.
    let keep = ProtoOptions {
        keep_classic_histograms: true,
        ..nhcb
    };
    let out = collect(&body, keep).unwrap();
    let mut w = classic_of("h", Some(1234568));
    w.push(want);
    assert_eq!(out[2..].to_vec(), w);
}

#[test]
fn float_histograms_and_gauge_hints() {
    let body = encode_delimited(&[MetricFamily {
        name: "f".into(),
        metric_type: TYPE_GAUGE_HISTOGRAM,
        metric: vec![Metric {
            histogram: Some(HistogramMsg {
                sample_count_float: 3.5,
                sample_sum: 10.0,
                schema: 1,
                zero_threshold: 0.001,
                zero_count_float: 0.5,
                // An empty bucket between two full ones, and one at the end: compacted away.
                positive_span: vec![Span::new(1, 4)],
                positive_count: vec![1.0, 0.0, 2.0, 0.0],
                ..HistogramMsg::default()
            }),
            ..Metric::default()
        }],
        ..MetricFamily::default()
    }]);
    let out = collect(&body, ProtoOptions::default()).unwrap();
    let Out::FHist { h, ts, .. } = &out[2] else {
        panic!("{out:?}")
    };
    assert_eq!(*ts, None);
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    assert_eq!((h.count, h.zero_count, h.schema), (3.5, 0.5, 1));
    assert_eq!(h.positive_spans, vec![Span::new(1, 1), Span::new(1, 1)]);
    assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
}

#[test]
fn a_native_histogram_without_observations_needs_an_empty_span() {
    let h = |spans: Vec<Span>| {
        encode_delimited(&[MetricFamily {
            name: "e".into(),
            metric_type: TYPE_HISTOGRAM,
            metric: vec![Metric {
                histogram: Some(HistogramMsg {
                    schema: 3,
                    positive_span: spans,
                    ..HistogramMsg::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }])
    };
    let out = collect(&h(vec![Span::new(0, 0)]), ProtoOptions::default()).unwrap();
    let Out::Hist { h: got, .. } = &out[2] else {
        panic!("{out:?}")
    };
    assert!(got.positive_spans.is_empty() && got.count == 0 && got.schema == 3);
    // Without it, it is a classic histogram with only `+Inf`.
    let out = collect(&h(vec![]), ProtoOptions::default()).unwrap();
    assert_eq!(out.len(), 5);
}

/// The same bytes client_golang writes for `# TYPE c counter` / `c{a="b"} 1`, by hand.
#[test]
fn hand_encoded_bytes() {
    let msg: Vec<u8> = vec![
        0x0a, 0x01, b'c', // name "c"
        0x18, 0x00, // type COUNTER (explicit default)
        0x22, 0x13, // metric, 19 bytes
        0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b', // label a="b"
        0x1a, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // counter { value: 1.0 }
    ];
    let mut body = vec![msg.len() as u8];
    body.extend_from_slice(&msg);
    let out = collect(&body, ProtoOptions::default()).unwrap();
    assert_eq!(out[2], float(r#"{__name__="c", a="b"}"#, 1.0, None));
    let mut p = parse_proto(&body, ProtoOptions::default());
    let mut keys = Vec::new();
    while let Some(Ok(e)) = p.next_entry() {
        if let ProtoEntry::Sample(s) = e {
            keys.push(s.key.to_vec());
        }
    }
    assert_eq!(keys, vec![b"c\xffa\xffb".to_vec()]);
}

fn err_of(body: &[u8]) -> String {
    let mut p = parse_proto(body, ProtoOptions::default());
    loop {
        match p.next_entry() {
            Some(Ok(_)) => {}
            Some(Err(e)) => return e.to_string(),
            None => panic!("no error"),
        }
    }
}

#[test]
fn hostile_bodies_fail_with_positions() {
    // A length prefix beyond the body.
    assert_eq!(
        err_of(&[0x05, 0x0a]),
        "protobuf: byte 0: insufficient length of buffer, expected at least 6 bytes, got 2 bytes"
    );
    // A varint that never ends.
    assert_eq!(
        err_of(&[0xff, 0xff]),
        "protobuf: byte 0: unexpected end of varint"
    );
    // Spans that promise more buckets than there are.
    let mut f = test_histogram("h", TYPE_HISTOGRAM);
    if let Some(h) = f.metric[0].histogram.as_mut() {
        h.positive_span[1].length = u32::MAX;
    }
    let e = err_of(&encode_delimited(&[f]));
    assert!(
        e.ends_with("histogram \"h\": positive side: spans require 4294967296 buckets, have 4"),
        "{e}"
    );
    // Unknown type; duplicate labels; a label that clashes with `le`.
    let fam = |t: i32, labels: Vec<(String, String)>| {
        encode_delimited(&[MetricFamily {
            name: "m".into(),
            metric_type: t,
            metric: vec![Metric {
                label: labels,
                gauge: Some(1.0),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }])
    };
    assert!(err_of(&fam(9, vec![])).ends_with("unknown metric type for metric \"m\": 9"));
    assert!(
        err_of(&fam(1, vec![lp("a", "1"), lp("a", "2")])).ends_with("duplicate label name \"a\"")
    );
    let e = err_of(&fam(TYPE_HISTOGRAM, vec![lp("le", "1")]));
    assert!(e.contains("duplicate label name \"le\""), "{e}");
    // Invalid UTF-8 in a label value, at its byte.
    let mut b = fam(1, vec![lp("a", "xy")]);
    let at = b.windows(2).position(|w| w == b"xy").unwrap();
    b[at + 1] = 0xff;
    assert_eq!(
        err_of(&b),
        format!(
            "protobuf: byte {}: LabelPair.value is not valid UTF-8",
            at + 1
        )
    );
    // A wrong wire type.
    assert!(
        err_of(&[0x05, 0x1d, 0, 0, 0, 0]).contains("wrong wire type for field MetricFamily.type")
    );
}

#[test]
fn every_truncation_and_corruption_is_an_error_not_a_panic() {
    let body = golang_body();
    for cut in 0..body.len() {
        let mut p = parse_proto(&body[..cut], ProtoOptions::default());
        while p.next_entry().is_some() {}
    }
    let mut rng = 7u64;
    for _ in 0..2000 {
        let mut b = body.clone();
        for _ in 0..3 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = (rng >> 33) as usize % b.len();
            b[i] = (rng >> 17) as u8;
        }
        for opts in [
            ProtoOptions::default(),
            ProtoOptions {
                ignore_native_histograms: true,
                keep_classic_histograms: true,
                convert_classic_histograms_to_nhcb: true,
            },
        ] {
            let mut p = parse_proto(&b, opts);
            while p.next_entry().is_some() {}
        }
    }
}

/// Spans at the ends of the index range, empty ones among them: compaction must not overflow.
#[test]
fn extreme_span_offsets_do_not_overflow() {
    for spans in [
        vec![
            Span::new(i32::MAX, 0),
            Span::new(i32::MAX, 1),
            Span::new(i32::MAX, 1),
        ],
        vec![
            Span::new(i32::MIN, 1),
            Span::new(i32::MIN, 0),
            Span::new(-1, 1),
        ],
        vec![Span::new(i32::MAX, 2)],
    ] {
        let body = encode_delimited(&[MetricFamily {
            name: "x".into(),
            metric_type: TYPE_HISTOGRAM,
            metric: vec![Metric {
                histogram: Some(HistogramMsg {
                    sample_count: 2,
                    schema: 8,
                    positive_span: spans.clone(),
                    positive_delta: vec![1, -1],
                    negative_span: spans,
                    negative_delta: vec![0, 2],
                    ..HistogramMsg::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }]);
        let out = collect(&body, ProtoOptions::default()).unwrap();
        assert!(matches!(out[2], Out::Hist { .. }), "{out:?}");
    }
}

#[test]
fn openmetrics_floats_for_le_and_quantile() {
    for (v, s) in [
        (1.0, "1.0"),
        (0.0, "0.0"),
        (0.5, "0.5"),
        (100000.0, "100000.0"),
        (1e6, "1e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.0004899999999999998, "-0.0004899999999999998"),
        (2.5e-7, "2.5e-07"),
        (f64::INFINITY, "+Inf"),
        (123456789.0, "1.23456789e+08"),
    ] {
        assert_eq!(format_openmetrics_float(v), s, "{v}");
    }
}
