//! Any bytes as a chunk: decoding never panics. Bytes read as samples: the persisted
//! encoding (XOR or decimal, whichever is smaller) decodes to exactly those samples. Bytes
//! read as native histograms (integer or float counts, growing and new buckets, counter
//! resets, stale markers): Prometheus' histogram chunk encodings, with the head's chunk
//! cuts and recoding, decode to the same histograms. Any bytes behind a histogram encoding
//! byte: decoding never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sightline_model::Sample;
use sightline_tsdb::bench_support::{
    decode_chunk, decode_samples, encode_best, histogram_round_trip,
};

fuzz_target!(|data: &[u8]| {
    let _ = decode_chunk(data);
    for enc in [3u8, 4] {
        let mut c = vec![enc];
        c.extend_from_slice(data);
        let _ = decode_chunk(&c);
    }
    histogram_round_trip(data);
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
