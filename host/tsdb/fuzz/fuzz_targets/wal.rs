//! Any bytes as one WAL record (type byte, payload) behind a valid frame and checksum:
//! decoding series, samples, histogram samples (types 7 to 10), tombstone, snappy-compressed
//! and checkpoint records never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sightline_tsdb::bench_support::parse_wal_record(data);
});
