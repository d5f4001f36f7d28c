//! The protobuf exposition's fuzz seeds (`fuzz/seeds/proto`: client_golang-shaped bodies with
//! native, float, gauge and classic histograms, summaries, exemplars and start timestamps,
//! plus truncated and corrupted variants), replayed through the fuzz target's own checks
//! (`fuzz/src/lib.rs`, included below) on every `cargo test`, every prefix too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sightline_exposition::proto::*;
use sightline_model::Span;

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

fn seeds_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/proto")
}

#[test]
fn fuzz_seeds_proto() {
    let mut failed = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(seeds_dir()).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        for cut in (0..data.len()).chain([data.len()]) {
            let run = std::panic::AssertUnwindSafe(|| checks::proto(&data[..cut]));
            if std::panic::catch_unwind(run).is_err() {
                failed.push(format!("{} cut at {cut}", path.display()));
            }
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    assert!(n >= 8, "only {n} seeds");
}

fn ts(ms: i64) -> Option<Timestamp> {
    Some(Timestamp::from_ms(ms))
}

fn native(float: bool, gauge: bool) -> MetricFamily {
    let mut h = HistogramMsg {
        sample_sum: 12.5,
        schema: 2,
        zero_threshold: 1e-128,
        positive_span: vec![Span::new(-3, 2), Span::new(4, 3)],
        negative_span: vec![Span::new(1, 1)],
        start_timestamp: ts(1_700_000_000_000),
        bucket: vec![
            Bucket {
                cumulative_count: 3,
                upper_bound: 0.5,
                exemplar: Some(Exemplar {
                    label: vec![("trace_id".into(), "abc".into())],
                    value: 0.3,
                    timestamp: ts(1_700_000_001_000),
                }),
                ..Bucket::default()
            },
            Bucket {
                cumulative_count: 9,
                upper_bound: 2.0,
                ..Bucket::default()
            },
        ],
        ..HistogramMsg::default()
    };
    if float {
        h.sample_count_float = 10.5;
        h.zero_count_float = 1.5;
        h.positive_count = vec![1.0, 2.0, 0.0, 3.0, 1.0];
        h.negative_count = vec![2.0];
    } else {
        h.sample_count = 10;
        h.zero_count = 1;
        h.positive_delta = vec![1, 1, -2, 3, -2];
        h.negative_delta = vec![2];
    }
    MetricFamily {
        name: "rpc_duration_seconds".into(),
        help: "RPC durations.".into(),
        metric_type: if gauge {
            TYPE_GAUGE_HISTOGRAM
        } else {
            TYPE_HISTOGRAM
        },
        metric: vec![Metric {
            label: vec![("service".into(), "a".into())],
            histogram: Some(h),
            ..Metric::default()
        }],
        ..MetricFamily::default()
    }
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let counter = MetricFamily {
        name: "requests_total".into(),
        help: "Requests.".into(),
        metric_type: TYPE_COUNTER,
        unit: "requests".into(),
        metric: vec![Metric {
            label: vec![("code".into(), "200".into())],
            counter: Some(Counter {
                value: 1027.0,
                exemplar: Some(Exemplar {
                    label: vec![("trace_id".into(), "x".into())],
                    value: 1.0,
                    timestamp: None,
                }),
                start_timestamp: ts(1_600_000_000_000),
            }),
            timestamp_ms: 1_700_000_000_000,
            ..Metric::default()
        }],
    };
    let summary = MetricFamily {
        name: "s".into(),
        metric_type: TYPE_SUMMARY,
        metric: vec![Metric {
            summary: Some(Summary {
                sample_count: 4,
                sample_sum: 2.0,
                quantile: vec![Quantile {
                    quantile: 0.5,
                    value: 0.4,
                }],
                start_timestamp: ts(5),
            }),
            ..Metric::default()
        }],
        ..MetricFamily::default()
    };
    let gauge = MetricFamily {
        name: "g".into(),
        metric_type: TYPE_GAUGE,
        metric: vec![Metric {
            gauge: Some(-1.5),
            ..Metric::default()
        }],
        ..MetricFamily::default()
    };
    let mut classic = native(false, false);
    if let Some(h) = classic.metric[0].histogram.as_mut() {
        h.positive_span.clear();
        h.negative_span.clear();
        h.positive_delta.clear();
        h.negative_delta.clear();
        h.zero_threshold = 0.0;
        h.zero_count = 0;
        h.sample_count = 9;
    }
    let all = encode_delimited(&[
        counter.clone(),
        gauge.clone(),
        summary.clone(),
        native(false, false),
        native(true, true),
        classic.clone(),
    ]);
    let mut corrupt = all.clone();
    for i in (7..corrupt.len()).step_by(37) {
        corrupt[i] ^= 0x5a;
    }
    vec![
        ("counter.pb", encode_delimited(&[counter])),
        ("gauge.pb", encode_delimited(&[gauge])),
        ("summary.pb", encode_delimited(&[summary])),
        ("native-int.pb", encode_delimited(&[native(false, false)])),
        (
            "native-float-gauge.pb",
            encode_delimited(&[native(true, true)]),
        ),
        ("classic.pb", encode_delimited(&[classic])),
        ("all.pb", all.clone()),
        ("all-cut.pb", all[..all.len() / 2].to_vec()),
        ("all-corrupt.pb", corrupt),
    ]
}

/// Writes the seeds (`cargo test -p sightline-exposition --test proto -- --ignored`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    std::fs::create_dir_all(seeds_dir()).unwrap();
    for (name, b) in bodies() {
        std::fs::write(seeds_dir().join(name), b).unwrap();
    }
}

/// The committed seeds are what this file generates (the encoder is stable).
#[test]
fn seeds_are_current() {
    for (name, b) in bodies() {
        let got = std::fs::read(seeds_dir().join(name)).unwrap();
        assert_eq!(got, b, "{name}: rerun write_fuzz_seeds");
    }
}

/// Every option combination reads the full body; the native histograms come out as written.
#[test]
fn all_seed_bodies_parse() {
    let all = &bodies()[6].1;
    let mut p = parse_proto(all, ProtoOptions::default());
    let (mut floats, mut hists, mut exemplars) = (0, 0, 0);
    while let Some(e) = p.next_entry() {
        if let ProtoEntry::Sample(s) = e.unwrap() {
            exemplars += s.exemplars.len();
            match s.value {
                ProtoValue::Float(_) => floats += 1,
                ProtoValue::Histogram(h) => {
                    hists += 1;
                    assert_eq!((h.count, h.zero_count, h.schema), (10, 1, 2));
                    // The third positive bucket is empty: compacted into two spans.
                    assert_eq!(h.positive_spans, vec![Span::new(-3, 2), Span::new(5, 2)]);
                    assert_eq!(h.positive_buckets, vec![1, 1, 1, -2]);
                }
                ProtoValue::FloatHistogram(h) => {
                    hists += 1;
                    assert_eq!(h.positive_buckets, vec![1.0, 2.0, 3.0, 1.0]);
                }
            }
        }
    }
    // counter 1, gauge 1, summary 3, classic 2 + 3 buckets (the +Inf one added).
    assert_eq!((floats, hists), (10, 2));
    // The counter's, the two native histograms' timestamped ones, the classic bucket's.
    assert_eq!(exemplars, 4);
}
