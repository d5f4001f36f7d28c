//! Any bytes as an OTLP metrics export body (protobuf and JSON): decoding never panics and
//! what decodes re-encodes stably.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_remote_fuzz::otlp(data));
