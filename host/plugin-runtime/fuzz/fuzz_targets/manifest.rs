//! Any bytes as a plugin manifest (`<name>.toml`): parsing never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_plugin_runtime_fuzz::manifest(data));
