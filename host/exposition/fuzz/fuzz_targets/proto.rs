//! Any bytes as a protobuf exposition, under every histogram option: no panic, consistent
//! histograms, nothing after an error (the checks are in `src/lib.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sightline_exposition_fuzz::proto(data));
