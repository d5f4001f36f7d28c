//! Replays the committed fuzz seeds (`fuzz/seeds/v1`: snappy bodies and raw messages of both
//! protocols, truncated and corrupted variants among them; `fuzz/seeds/read`: remote-read
//! requests, responses, frame streams and XOR chunks) through the fuzz targets' own checks
//! (`fuzz/src/lib.rs`, included below), so every `cargo test` runs them.

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

#[test]
fn read_fuzz_seeds_decode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/read");
    let mut failed = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        let run = std::panic::AssertUnwindSafe(|| checks::read(&data));
        if std::panic::catch_unwind(run).is_err() {
            failed.push(path.display().to_string());
        }
        // Every prefix too: truncation is the commonest corruption.
        for cut in 0..data.len().min(200) {
            let run = std::panic::AssertUnwindSafe(|| checks::read(&data[..cut]));
            if std::panic::catch_unwind(run).is_err() {
                failed.push(format!("{} cut at {cut}", path.display()));
            }
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    assert!(n >= 10, "only {n} seeds");
}
