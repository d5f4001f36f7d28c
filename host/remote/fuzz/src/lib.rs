//! The checks of the fuzz target, shared with `tests/fuzz_seeds.rs`: any bytes, as a raw
//! message or as a snappy body, decode as 1.0 and 2.0 without panicking, and whatever decodes
//! re-encodes to bytes that decode to the same encoding (the codec is stable). The re-encoding
//! may be smaller than the input (unknown fields are dropped), so its memory budget (8 times
//! its size) may refuse it; that is the one error allowed. [`read`] does the same for the
//! remote-read messages, the streamed framing and Prometheus' XOR chunks.

use sightline_remote::read::{frame, xor, ChunkedReadResponse, ReadRequest, ReadResponse};
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

/// Runs every remote-read check on `data`: as a request (raw or snappy), a response, a frame
/// stream and an XOR chunk.
pub fn read(data: &[u8]) {
    check_read(data);
    if let Ok(raw) = sightline_remote::decompress(data, 1 << 20) {
        check_read(&raw);
    }
    if let Ok(frames) = frame::split_frames(data, 1 << 20) {
        for f in frames {
            check_read(f);
        }
    }
}

fn stable<T>(
    data: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, sightline_remote::DecodeError>,
    encode: impl Fn(&T) -> Vec<u8>,
    what: &str,
) {
    if let Ok(m) = decode(data) {
        let once = encode(&m);
        match decode(&once) {
            Ok(again) => assert_eq!(encode(&again), once, "{what} encoding is not stable"),
            Err(e) => assert!(e.reason.contains("more than 8 times"), "{e}"),
        }
    }
}

fn check_read(raw: &[u8]) {
    stable(raw, ReadRequest::decode, ReadRequest::encode, "ReadRequest");
    stable(
        raw,
        ReadResponse::decode,
        ReadResponse::encode,
        "ReadResponse",
    );
    if let Ok(r) = ChunkedReadResponse::decode(raw) {
        let once = r.encode();
        let again = ChunkedReadResponse::decode(&once);
        match again {
            Ok(a) => assert_eq!(
                a.encode(),
                once,
                "ChunkedReadResponse encoding is not stable"
            ),
            Err(e) => assert!(e.reason.contains("more than 8 times"), "{e}"),
        }
        for c in r.chunked_series.iter().flat_map(|s| &s.chunks) {
            check_chunk(&c.data);
        }
    }
    check_chunk(raw);
}

/// A chunk that decodes re-encodes to samples with the same bits (the bytes may differ: a
/// hostile chunk may spend more bits than the encoder would).
fn check_chunk(data: &[u8]) {
    if let Ok(samples) = xor::decode(data) {
        let mut c = xor::XorChunk::new();
        for &(t, v) in samples.iter().take(u16::MAX as usize) {
            c.append(t, v);
        }
        let back = xor::decode(c.bytes()).expect("a re-encoded chunk decodes");
        let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&samples), "XOR chunk does not round-trip");
    }
}
