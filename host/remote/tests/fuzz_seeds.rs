//! Replays the committed fuzz seeds (`fuzz/seeds/v1`: snappy bodies and raw messages of both
//! protocols, truncated and corrupted variants among them) through the fuzz target's own
//! check (`fuzz/src/lib.rs`, included below), so every `cargo test` runs them.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

#[test]
fn fuzz_seeds_decode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/v1");
    let mut failed = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        let run = std::panic::AssertUnwindSafe(|| checks::decode(&data));
        if std::panic::catch_unwind(run).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    assert!(n >= 10, "only {n} seeds");
}

/// The OTLP seeds (`fuzz/seeds/otlp`: the Python SDK's own protobuf and JSON encodings of
/// cumulative and delta requests, truncated variants, a summary and an exponential
/// histogram) through the OTLP target's check, and what decodes through the translation.
#[test]
fn fuzz_seeds_otlp() {
    use sightline_remote::otlp::{json, translate, ExportRequest, Settings};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/otlp");
    let mut failed = Vec::new();
    let (mut n, mut decoded) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        let run = std::panic::AssertUnwindSafe(|| {
            checks::otlp(&data);
            let req = ExportRequest::decode(&data)
                .ok()
                .or_else(|| json::decode(&data).ok());
            if let Some(req) = &req {
                translate::translate(req, &Settings::default());
            }
            req.is_some()
        });
        match std::panic::catch_unwind(run) {
            Ok(ok) => decoded += usize::from(ok),
            Err(_) => failed.push(path.display().to_string()),
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    assert!(n >= 10, "only {n} seeds");
    // The whole ones decode (the protobuf and the JSON of each).
    assert!(decoded >= 6, "only {decoded} seeds decode");
}
