//! Any bytes as a remote-write body (raw or snappy), 1.0 and 2.0: decoding never panics and
//! what decodes re-encodes stably.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_remote_fuzz::decode(data));
