//! Any bytes as a chunk: decoding never panics. Bytes read as samples: the persisted
//! encoding (XOR or decimal, whichever is smaller) decodes to exactly those samples.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sightline_model::Sample;
use sightline_tsdb::bench_support::{decode_chunk, decode_samples, encode_best};

fuzz_target!(|data: &[u8]| {
    let _ = decode_chunk(data);
    let mut samples: Vec<Sample> = data
        .chunks_exact(16)
        .take(120)
        .map(|c| Sample {
            t: i64::from_le_bytes(c[..8].try_into().unwrap_or_default()),
            v: f64::from_bits(u64::from_le_bytes(c[8..].try_into().unwrap_or_default())),
        })
        .collect();
    samples.sort_by_key(|s| s.t);
    let chunk = encode_best(&samples);
    let back = decode_samples(&chunk).expect("own encoding decodes");
    assert_eq!(back.len(), samples.len());
    for (a, b) in back.iter().zip(&samples) {
        assert_eq!(a.t, b.t);
        assert_eq!(a.v.to_bits(), b.v.to_bits());
    }
});
