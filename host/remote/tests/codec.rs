//! The codecs: round trips of every field, the wire bytes of a known message, and malformed
//! input (every truncation, wrong wire types, bad UTF-8, overlong varints, bad snappy), which
//! must be an error naming the field and byte, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sightline_remote::v1::{
    BucketSpan, Count, Exemplar, Histogram, Label, MetricMetadata, Sample, TimeSeries, WriteRequest,
};
use sightline_remote::{compress, decompress, v2, Error};

fn label(n: &str, v: &str) -> Label {
    Label {
        name: n.into(),
        value: v.into(),
    }
}

fn histogram(float: bool) -> Histogram {
    Histogram {
        count: if float {
            Count::Float(7.5)
        } else {
            Count::Int(12)
        },
        sum: 3.25,
        schema: -2,
        zero_threshold: 1e-128,
        zero_count: if float {
            Count::Float(0.0)
        } else {
            Count::Int(2)
        },
        negative_spans: vec![BucketSpan {
            offset: -3,
            length: 2,
        }],
        negative_deltas: vec![1, -1],
        negative_counts: vec![],
        positive_spans: vec![
            BucketSpan {
                offset: 0,
                length: 1,
            },
            BucketSpan {
                offset: 5,
                length: 2,
            },
        ],
        positive_deltas: if float { vec![] } else { vec![4, -2, 7] },
        positive_counts: if float { vec![1.0, 2.5, 0.5] } else { vec![] },
        reset_hint: 2,
        timestamp: 1_700_000_000_123,
        custom_values: vec![],
    }
}

pub(crate) fn full_v1() -> WriteRequest {
    WriteRequest {
        timeseries: vec![
            TimeSeries {
                labels: vec![
                    label("__name__", "http_requests_total"),
                    label("job", "api"),
                    label("path", "/ünï\"code\""),
                ],
                samples: vec![
                    Sample {
                        value: 1.5,
                        timestamp: 1_700_000_000_000,
                    },
                    Sample {
                        value: f64::from_bits(0x7ff0_0000_0000_0002), // the stale marker
                        timestamp: 1_700_000_015_000,
                    },
                    Sample {
                        value: -0.0,
                        timestamp: -5,
                    },
                ],
                exemplars: vec![Exemplar {
                    labels: vec![label("trace_id", "abc")],
                    value: 0.25,
                    timestamp: 1_700_000_000_001,
                }],
                histograms: vec![],
            },
            TimeSeries {
                labels: vec![label("__name__", "latency")],
                samples: vec![],
                exemplars: vec![],
                histograms: vec![histogram(false), histogram(true)],
            },
            TimeSeries::default(),
        ],
        metadata: vec![MetricMetadata {
            metric_type: 1,
            metric_family_name: "http_requests_total".into(),
            help: "Requests.".into(),
            unit: "".into(),
        }],
    }
}

fn bits(r: &WriteRequest) -> Vec<u64> {
    r.timeseries
        .iter()
        .flat_map(|t| t.samples.iter().map(|s| s.value.to_bits()))
        .collect()
}

#[test]
fn v1_round_trip_every_field() {
    let req = full_v1();
    let bytes = req.encode();
    let back = WriteRequest::decode(&bytes).unwrap();
    // Every value's bits survive: the stale marker's NaN, and -0.0 (which gogo would drop as
    // the default; writing it is still valid protobuf).
    let mut want = req.clone();
    assert_eq!(bits(&back), bits(&want));
    want.timeseries[0].samples[1].value = 0.0;
    let mut got = back.clone();
    got.timeseries[0].samples[1].value = 0.0;
    assert_eq!(got, want);
    assert_eq!(back.encode(), bytes);
    // Through snappy.
    let body = compress(&bytes);
    assert_eq!(decompress(&body, 1 << 20).unwrap(), bytes);
}

#[test]
fn v1_known_wire_bytes() {
    // One series {__name__="a"} with one sample (1.0 at t=2), as gogo/protobuf encodes it.
    let req = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![label("__name__", "a")],
            samples: vec![Sample {
                value: 1.0,
                timestamp: 2,
            }],
            ..Default::default()
        }],
        metadata: vec![],
    };
    let want: Vec<u8> = [
        &[0x0a, 0x1c][..],         // timeseries, 28 bytes
        &[0x0a, 0x0d, 0x0a, 0x08], // labels, name
        b"__name__",
        &[0x12, 0x01, b'a'],                                           // value
        &[0x12, 0x0b, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0x02], // sample
    ]
    .concat();
    assert_eq!(req.encode(), want);
    assert_eq!(WriteRequest::decode(&want).unwrap(), req);
    // Unpacked repeated scalars and unknown fields of every wire type are accepted.
    let mut with_unknown = want.clone();
    with_unknown.extend_from_slice(&[
        0x78, 0x01, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x85, 0x01, 1, 2, 3, 4,
    ]);
    assert_eq!(WriteRequest::decode(&with_unknown).unwrap(), req);
}

pub(crate) fn full_v2() -> v2::Request {
    v2::Request {
        symbols: vec![
            "".into(),
            "__name__".into(),
            "up".into(),
            "job".into(),
            "node".into(),
            "Whether the target is up.".into(),
            "trace_id".into(),
            "x1".into(),
        ],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![
                v2::Sample {
                    value: 1.0,
                    timestamp: 1000,
                    start_timestamp: 0,
                },
                v2::Sample {
                    value: 0.0,
                    timestamp: 2000,
                    start_timestamp: 500,
                },
            ],
            histograms: vec![Histogram {
                custom_values: vec![0.1, 1.0, 10.0],
                schema: -53,
                ..histogram(true)
            }],
            exemplars: vec![v2::Exemplar {
                labels_refs: vec![6, 7],
                value: 2.0,
                timestamp: 1500,
            }],
            metadata: v2::Metadata {
                metric_type: 2,
                help_ref: 5,
                unit_ref: 0,
            },
            created_timestamp: 400,
        }],
    }
}

#[test]
fn v2_round_trip_and_symbols() {
    let req = full_v2();
    let bytes = req.encode();
    let back = v2::Request::decode(&bytes).unwrap();
    assert_eq!(back, req);
    assert_eq!(
        back.labels(&back.timeseries[0].labels_refs).unwrap(),
        vec![("__name__", "up"), ("job", "node")]
    );
    assert!(back
        .labels(&[1])
        .unwrap_err()
        .contains("not name/value pairs"));
    assert!(back.labels(&[1, 99]).unwrap_err().contains("out of range"));
    // The empty first symbol is kept, so references stay positions.
    assert_eq!(back.symbols[0], "");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for bytes in [full_v1().encode(), full_v2().encode()] {
        for n in 0..bytes.len() {
            let cut = &bytes[..n];
            if let Err(e) = WriteRequest::decode(cut) {
                assert!(e.offset <= n, "{e}");
            }
            if let Err(e) = v2::Request::decode(cut) {
                assert!(e.offset <= n, "{e}");
            }
        }
    }
}

#[test]
fn errors_name_the_field_and_byte() {
    // timeseries[0].labels[0].name with an invalid UTF-8 byte at offset 6.
    let bad = [0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, b'a', 0xff];
    let e = WriteRequest::decode(&bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "proto: prometheus.WriteRequest.timeseries[0].labels[0].name: string is not valid UTF-8 at byte 7"
    );
    // A sample's value with the varint wire type.
    let bad = [0x0a, 0x04, 0x12, 0x02, 0x08, 0x01];
    let e = WriteRequest::decode(&bad).unwrap_err();
    assert_eq!(e.path, "timeseries[0].samples[0].value");
    assert!(e.reason.contains("wrong wire type"), "{e}");
    assert_eq!(e.offset, 4);
    // A length running past the end.
    let e = WriteRequest::decode(&[0x0a, 0x05, 0x0a]).unwrap_err();
    assert!(e.reason.contains("runs past the end"), "{e}");
    assert_eq!(e.offset, 2);
    // Field number 0, a group, an overlong varint.
    assert!(WriteRequest::decode(&[0x00])
        .unwrap_err()
        .reason
        .contains("illegal field number 0"));
    assert!(WriteRequest::decode(&[0x0b])
        .unwrap_err()
        .reason
        .contains("illegal wire type 3"));
    let e = WriteRequest::decode(&[
        0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ])
    .unwrap_err();
    assert!(e.reason.contains("overflows"), "{e}");
    // Packed doubles of a wrong length, inside a histogram of 2.0.
    let h = [0x6a, 0x03, 1, 2, 3]; // positive_counts, 3 bytes
    let mut ts = vec![0x1a, h.len() as u8];
    ts.extend_from_slice(&h);
    let mut req = vec![0x2a, ts.len() as u8];
    req.extend_from_slice(&ts);
    let e = v2::Request::decode(&req).unwrap_err();
    assert_eq!(e.path, "timeseries[0].histograms[0].positive_counts");
    assert!(e.reason.contains("multiple of 8"), "{e}");
}

#[test]
fn empty_elements_cannot_blow_up_memory() {
    // 100,000 empty series: 200 KB on the wire, 9.6 MB decoded; refused at the budget (8x).
    let bomb: Vec<u8> = [0x0a, 0x00].repeat(100_000);
    let e = WriteRequest::decode(&bomb).unwrap_err();
    assert!(e.reason.contains("more than 8 times"), "{e}");
    assert!(e.path.starts_with("timeseries["), "{e}");
    let symbols: Vec<u8> = [0x22, 0x00].repeat(100_000);
    assert!(v2::Request::decode(&symbols).is_err());
    // A realistic request is well within it.
    let req = full_v1();
    assert!(WriteRequest::decode(&req.encode()).is_ok());
}

#[test]
fn snappy_errors_and_limits() {
    assert!(matches!(
        decompress(b"\xff\xff\xff\xff\x0fgarbage", 1 << 20),
        Err(Error::TooLarge { .. })
    ));
    let e = decompress(b"\x0agarbage", 1 << 20).unwrap_err();
    assert!(e.to_string().starts_with("snappy: "), "{e}");
    assert!(decompress(b"", 1 << 20).is_err());
}

/// Writes the fuzz seeds (`cargo test -p sightline-remote --test codec -- --ignored`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/v1");
    std::fs::create_dir_all(&dir).unwrap();
    let v1 = full_v1().encode();
    let v2 = full_v2().encode();
    let mut seeds: Vec<(String, Vec<u8>)> = vec![
        ("v1.pb".into(), v1.clone()),
        ("v2.pb".into(), v2.clone()),
        ("v1.snappy".into(), compress(&v1)),
        ("v2.snappy".into(), compress(&v2)),
    ];
    for (i, n) in [3usize, 17, 40, 77].into_iter().enumerate() {
        seeds.push((format!("v1-cut-{i}.pb"), v1[..n.min(v1.len())].to_vec()));
        seeds.push((format!("v2-cut-{i}.pb"), v2[..n.min(v2.len())].to_vec()));
    }
    let mut flipped = compress(&v1);
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    seeds.push(("v1-flipped.snappy".into(), flipped));
    for (name, data) in seeds {
        std::fs::write(dir.join(name), data).unwrap();
    }
}

/// Decode and encode throughput of a request shaped like Prometheus' (2,000 samples over
/// 500 series with 8 labels each), single-threaded:
/// `cargo test --release -p sightline-remote --no-default-features --test codec -- --ignored measure --nocapture`.
#[test]
#[ignore]
fn measure_codec_throughput() {
    let req = WriteRequest {
        timeseries: (0..500)
            .map(|i| TimeSeries {
                labels: vec![
                    label("__name__", &format!("http_requests_total_{}", i % 20)),
                    label("instance", &format!("app-{}:8080", i % 7)),
                    label("job", "app"),
                    label("method", "GET"),
                    label("path", &format!("/api/v1/items/{i}")),
                    label("status", "200"),
                    label("region", "eu-west-1"),
                    label("pod", &format!("app-7d9f8c-{i:05}")),
                ],
                samples: (0..4)
                    .map(|k| Sample {
                        value: (i * k) as f64 * 1.5,
                        timestamp: 1_700_000_000_000 + k * 15_000,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        metadata: vec![],
    };
    let raw = req.encode();
    let body = compress(&raw);
    let rounds = 300;
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        let raw = decompress(&body, 1 << 26).unwrap();
        let back = WriteRequest::decode(&raw).unwrap();
        assert_eq!(back.timeseries.len(), 500);
    }
    let dec = t.elapsed().as_secs_f64() / rounds as f64;
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        assert!(!compress(&req.encode()).is_empty());
    }
    let enc = t.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "request: {} bytes raw, {} snappy; decompress+decode {:.0} µs ({:.1} M samples/s), encode+compress {:.0} µs ({:.1} M samples/s)",
        raw.len(),
        body.len(),
        dec * 1e6,
        2000.0 / dec / 1e6,
        enc * 1e6,
        2000.0 / enc / 1e6
    );
}
