//! Any bytes as a template: parsing and bounded execution never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_template_fuzz::parse_execute(data));
