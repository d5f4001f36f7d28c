//! The checks of the fuzz target, shared with `tests/fuzz_seeds.rs`: any bytes, as a raw
//! message or as a snappy body, decode as 1.0 and 2.0 without panicking, and whatever decodes
//! re-encodes to bytes that decode to the same encoding (the codec is stable). The re-encoding
//! may be smaller than the input (unknown fields are dropped), so its memory budget (8 times
//! its size) may refuse it; that is the one error allowed.

use sightline_remote::{v1, v2};

/// Runs every check on `data`.
pub fn decode(data: &[u8]) {
    check(data);
    if let Ok(raw) = sightline_remote::decompress(data, 1 << 20) {
        check(&raw);
    }
}

fn check(raw: &[u8]) {
    if let Ok(req) = v1::WriteRequest::decode(raw) {
        let once = req.encode();
        match v1::WriteRequest::decode(&once) {
            Ok(again) => assert_eq!(again.encode(), once, "1.0 encoding is not stable"),
            Err(e) => assert!(e.reason.contains("more than 8 times"), "{e}"),
        }
    }
    if let Ok(req) = v2::Request::decode(raw) {
        let once = req.encode();
        match v2::Request::decode(&once) {
            Ok(again) => assert_eq!(again.encode(), once, "2.0 encoding is not stable"),
            Err(e) => assert!(e.reason.contains("more than 8 times"), "{e}"),
        }
        for ts in &req.timeseries {
            let _ = req.labels(&ts.labels_refs);
        }
    }
}

/// The OTLP target's checks: any bytes decode as a protobuf and as a JSON
/// `ExportMetricsServiceRequest` without panicking, and what decodes re-encodes to bytes that
/// decode to the same encoding (the memory budget may refuse the smaller re-encoding).
pub fn otlp(data: &[u8]) {
    use sightline_remote::otlp::{json, ExportRequest};
    let stable = |req: &ExportRequest| {
        let once = req.encode();
        match ExportRequest::decode(&once) {
            Ok(again) => assert_eq!(again.encode(), once, "OTLP encoding is not stable"),
            Err(e) => assert!(e.reason.contains("more than 8 times"), "{e}"),
        }
    };
    if let Ok(req) = ExportRequest::decode(data) {
        stable(&req);
    }
    if let Ok(req) = json::decode(data) {
        stable(&req);
    }
}
