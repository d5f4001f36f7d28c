//! Any bytes as a web configuration (`--web.config.file`): parsing never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_config_fuzz::web_config(data));
