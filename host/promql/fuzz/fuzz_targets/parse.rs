//! Any bytes as a PromQL expression: parsing and printing never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_promql_fuzz::parse(data));
