//! Replays the committed fuzz seeds (`fuzz/seeds/`) through the fuzz targets' own checks
//! (`fuzz/src/lib.rs`, included below), so every `cargo test` runs them and CI fails on
//! a seed that panics. The fuzzing itself runs in CI for a bounded time (`.ci/fuzz`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

/// Runs `check` on every file of `fuzz/seeds/<dir>`; the number of files.
fn replay(dir: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(dir);
    let mut failed = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    n
}

#[test]
fn fuzz_seeds_config() {
    let n = replay("config", checks::config);
    assert!(n > 10, "only {n} seeds");
}

#[test]
fn fuzz_seeds_web_config() {
    let n = replay("web_config", checks::web_config);
    assert!(n > 5, "only {n} seeds");
}
