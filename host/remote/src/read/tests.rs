//! Unit tests of the remote-read messages and handler.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::v1::{Label, Sample, TimeSeries};

fn l(n: &str, v: &str) -> Label {
    Label {
        name: n.into(),
        value: v.into(),
    }
}

fn m(t: i32, n: &str, v: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: t,
        name: n.into(),
        value: v.into(),
    }
}

fn request() -> ReadRequest {
    ReadRequest {
        queries: vec![
            Query {
                start_timestamp_ms: 1_000,
                end_timestamp_ms: 2_000,
                matchers: vec![
                    m(matcher_type::EQ, "__name__", "up"),
                    m(matcher_type::NEQ, "job", "x"),
                    m(matcher_type::RE, "instance", "a.*"),
                    m(matcher_type::NRE, "env", "dev|test"),
                ],
                hints: Some(ReadHints {
                    step_ms: 15_000,
                    func: "rate".into(),
                    start_ms: 700,
                    end_ms: 2_000,
                    grouping: vec!["job".into(), "instance".into()],
                    by: true,
                    range_ms: 300_000,
                }),
            },
            Query {
                start_timestamp_ms: -5,
                end_timestamp_ms: i64::MAX,
                matchers: vec![m(matcher_type::EQ, "a", "")],
                hints: Some(ReadHints::default()),
            },
            Query::default(),
        ],
        accepted_response_types: vec![STREAMED_XOR_CHUNKS, SAMPLES],
    }
}

#[test]
fn read_request_round_trips() {
    let req = request();
    let bytes = req.encode();
    assert_eq!(ReadRequest::decode(&bytes).unwrap(), req);
    // Empty hints stay present (a present, empty message differs from an absent one).
    assert_eq!(
        ReadRequest::decode(&bytes).unwrap().queries[1].hints,
        Some(ReadHints::default())
    );
    assert_eq!(ReadRequest::decode(&bytes).unwrap().queries[2].hints, None);
    assert_eq!(ReadRequest::decode(&[]).unwrap(), ReadRequest::default());
}

#[test]
fn read_request_as_gogo_writes_it() {
    // Bytes as Go's gogo-protobuf marshals ReadRequest{Queries: [{StartTimestampMs: 1,
    // EndTimestampMs: 2, Matchers: [{Type: RE, Name: "a", Value: "b"}]}],
    // AcceptedResponseTypes: [STREAMED_XOR_CHUNKS]} (packed enum, field order).
    let bytes = [
        0x0a, 0x0e, 0x08, 0x01, 0x10, 0x02, 0x1a, 0x08, 0x08, 0x02, 0x12, 0x01, b'a', 0x1a, 0x01,
        b'b', 0x12, 0x01, 0x01,
    ];
    let req = ReadRequest::decode(&bytes).unwrap();
    assert_eq!(
        req,
        ReadRequest {
            queries: vec![Query {
                start_timestamp_ms: 1,
                end_timestamp_ms: 2,
                matchers: vec![m(matcher_type::RE, "a", "b")],
                hints: None,
            }],
            accepted_response_types: vec![STREAMED_XOR_CHUNKS],
        }
    );
    assert_eq!(req.encode(), bytes);
    // Unpacked enums (another encoder's choice) decode the same; unknown values are kept.
    let unpacked = [0x10, 0x01, 0x10, 0x07];
    assert_eq!(
        ReadRequest::decode(&unpacked)
            .unwrap()
            .accepted_response_types,
        vec![1, 7]
    );
}

#[test]
fn malformed_requests_name_field_and_byte() {
    let bytes = request().encode();
    // Every truncation fails with a located error, never a panic.
    for n in 0..bytes.len() {
        if let Err(e) = ReadRequest::decode(&bytes[..n]) {
            assert!(e.offset <= n, "{e}");
            assert!(
                e.to_string().starts_with("proto: prometheus.ReadRequest"),
                "{e}"
            );
        }
    }
    // A matcher name that is not UTF-8.
    let bad = [0x0a, 0x07, 0x1a, 0x05, 0x12, 0x03, b'a', 0xff, b'c'];
    let e = ReadRequest::decode(&bad).unwrap_err();
    assert_eq!(e.path, "queries[0].matchers[0].name");
    assert_eq!(e.offset, 7);
    assert_eq!(
        e.to_string(),
        "proto: prometheus.ReadRequest.queries[0].matchers[0].name: string is not valid UTF-8 at byte 7"
    );
    // A start timestamp with the wrong wire type.
    let bad = [0x0a, 0x02, 0x09, 0x00];
    let e = ReadRequest::decode(&bad).unwrap_err();
    assert!(e.path.starts_with("queries[0]"), "{e}");
    // Hints whose step is length-delimited.
    let bad = [0x0a, 0x04, 0x22, 0x02, 0x0a, 0x00];
    let e = ReadRequest::decode(&bad).unwrap_err();
    assert_eq!(e.path, "queries[0].hints.step_ms", "{e}");
    assert_eq!(e.offset, 4);
    // A sub-message running past its parent.
    let bad = [0x0a, 0x04, 0x1a, 0x09, 0x08, 0x01];
    let e = ReadRequest::decode(&bad).unwrap_err();
    assert_eq!(e.path, "queries[0]", "{e}");
    assert!(e.reason.contains("runs past the end"), "{e}");
}

#[test]
fn read_response_round_trips() {
    let stale = f64::from_bits(sightline_model::STALE_NAN_BITS);
    let resp = ReadResponse {
        results: vec![
            QueryResult {
                timeseries: vec![
                    TimeSeries {
                        labels: vec![l("__name__", "up"), l("job", "a")],
                        samples: vec![
                            Sample {
                                value: 1.0,
                                timestamp: 1,
                            },
                            Sample {
                                value: 0.0,
                                timestamp: 0,
                            },
                            Sample {
                                value: stale,
                                timestamp: -7,
                            },
                        ],
                        ..Default::default()
                    },
                    TimeSeries {
                        labels: vec![l("__name__", "x")],
                        ..Default::default()
                    },
                ],
            },
            QueryResult::default(),
        ],
    };
    let back = ReadResponse::decode(&resp.encode()).unwrap();
    assert_eq!(back.results.len(), 2);
    assert_eq!(back.results[0].timeseries.len(), 2);
    assert_eq!(
        back.results[0].timeseries[0].labels,
        resp.results[0].timeseries[0].labels
    );
    let got: Vec<(i64, u64)> = back.results[0].timeseries[0]
        .samples
        .iter()
        .map(|s| (s.timestamp, s.value.to_bits()))
        .collect();
    assert_eq!(
        got,
        vec![(1, 1f64.to_bits()), (0, 0), (-7, stale.to_bits())]
    );
    // The response is the same bytes the write path's TimeSeries encoder produces.
    let via_v1 = crate::v1::WriteRequest {
        timeseries: resp.results[0].timeseries.clone(),
        metadata: vec![],
    }
    .encode();
    let mut q = Vec::new();
    q.push(0x0a);
    let mut len = via_v1.len();
    while len >= 0x80 {
        q.push((len as u8) | 0x80);
        len >>= 7;
    }
    q.push(len as u8);
    q.extend_from_slice(&via_v1);
    assert_eq!(&resp.encode()[..q.len()], &q[..]);
}

#[test]
fn chunked_response_round_trips_and_sizes_match() {
    let mut c = xor::XorChunk::new();
    for i in 0..10 {
        c.append(i * 1000, i as f64);
    }
    let resp = ChunkedReadResponse {
        chunked_series: vec![ChunkedSeries {
            labels: vec![l("__name__", "up"), l("job", "a")],
            chunks: vec![Chunk {
                min_time_ms: 0,
                max_time_ms: 9000,
                r#type: xor::ENCODING_XOR,
                data: c.bytes().to_vec(),
            }],
        }],
        query_index: 3,
    };
    let bytes = resp.encode();
    assert_eq!(ChunkedReadResponse::decode(&bytes).unwrap(), resp);
    // The handler's frame encoder writes the same bytes.
    let fast = messages::encode_frame(
        3,
        &resp.chunked_series[0].labels,
        [(0, 9000, c.bytes())].into_iter(),
    );
    assert_eq!(fast, bytes);
    // gogo's Size() of a label: 2 + len(name) + 2 + len(value) for short strings.
    assert_eq!(label_size("job", "a"), 2 + 3 + 2 + 1);
    assert_eq!(label_size("", ""), 0);
    let e = ChunkedReadResponse::decode(&bytes[..bytes.len() - 3]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("proto: prometheus.ChunkedReadResponse"),
        "{e}"
    );
}
