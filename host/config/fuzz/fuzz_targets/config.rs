//! Any bytes as prometheus.yml: loading never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_config_fuzz::config(data));
