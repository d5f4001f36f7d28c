//! Any bytes as a remote-read request, response, frame stream or XOR chunk: decoding never
//! panics, what decodes re-encodes stably, and chunks round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_remote_fuzz::read(data));
