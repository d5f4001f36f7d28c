//! Whatever parses prints (plainly and prettily) to text that parses back to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_promql_fuzz::roundtrip(data));
