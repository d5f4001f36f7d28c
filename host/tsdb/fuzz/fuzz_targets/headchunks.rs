//! Any bytes as the records of a head chunk file, with every record's checksum fixed up:
//! decoding headers, chunk headers and reset records never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sightline_tsdb::bench_support::parse_head_chunk_records(data);
});
