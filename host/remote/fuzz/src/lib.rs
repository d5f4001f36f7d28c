//! The checks of the fuzz target, shared with `tests/fuzz_seeds.rs`: any bytes, as a raw
//! message or as a snappy body, decode as 1.0 and 2.0 without panicking, and whatever decodes
//! re-encodes to bytes that decode to the same encoding (the codec is stable).

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
        let again = v1::WriteRequest::decode(&once).expect("re-encoded 1.0 message decodes");
        assert_eq!(again.encode(), once, "1.0 encoding is not stable");
    }
    if let Ok(req) = v2::Request::decode(raw) {
        let once = req.encode();
        let again = v2::Request::decode(&once).expect("re-encoded 2.0 message decodes");
        assert_eq!(again.encode(), once, "2.0 encoding is not stable");
        for ts in &req.timeseries {
            let _ = req.labels(&ts.labels_refs);
        }
    }
}
