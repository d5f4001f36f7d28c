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
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(dir);
    sightline_tests::replay_seeds(&seeds, check)
}

#[test]
fn fuzz_seeds_manifest() {
    let n = replay("manifest", checks::manifest);
    assert!(n > 5, "only {n} seeds");
}

/// The cargo-fuzz build of this target compiles wasmtime, too slow for every CI run, so the
/// ordinary tests also mutate the seeds (bytes replaced, inserted, deleted; TOML punctuation
/// favoured) a bounded, deterministic number of times through the same check.
#[test]
fn fuzz_seeds_manifest_mutated() {
    const ALPHABET: &[u8] = b" \n\t=[]{}\"'#.,-_$0123456789aeKMGiBsmhx/*\\";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/manifest");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let mut state: u64 = 0x5eed_f00d_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for i in 0..20_000 {
        let mut b = seeds[i % seeds.len()].clone();
        for _ in 0..1 + next(8) {
            let at = next(b.len() + 1);
            match next(4) {
                0 if at < b.len() => b[at] = ALPHABET[next(ALPHABET.len())],
                1 => b.insert(at, ALPHABET[next(ALPHABET.len())]),
                2 if at < b.len() => {
                    b.remove(at);
                }
                _ => {
                    let other = &seeds[next(seeds.len())];
                    let from = next(other.len() + 1);
                    let len = next(other.len() - from + 1).min(64);
                    b.splice(at..at, other[from..from + len].iter().copied());
                }
            }
        }
        if catch_unwind(AssertUnwindSafe(|| checks::manifest(&b))).is_err() {
            panic!("panic on {:?}", String::from_utf8_lossy(&b));
        }
    }
}
