//! Replays the committed fuzz seeds (`fuzz/seeds/`) through the fuzz targets' own checks
//! (`fuzz/src/lib.rs`, included below), so every `cargo test` runs them and CI fails on
//! a seed that panics. The fuzzing itself runs in CI for a bounded time (`.ci/fuzz`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

/// Runs `check` on every file of `fuzz/seeds/<dir>`; the number of files.
fn replay(dir: &str, check: fn(&[u8])) -> usize {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(dir);
    sightline_tests::replay_seeds(&seeds, check)
}

#[test]
fn fuzz_seeds_parse() {
    let n = replay("expr", checks::parse);
    assert!(n > 1000, "only {n} seeds");
}

#[test]
fn fuzz_seeds_roundtrip() {
    let n = replay("expr", checks::roundtrip);
    assert!(n > 1000, "only {n} seeds");
}
