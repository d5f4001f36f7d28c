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
