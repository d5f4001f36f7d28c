//! Sightline's cross-crate integration tests (one binary).
//!
//! Where the other integration tests live:
//! - `host/daemon/tests/e2e`: the real `sightline` binary end to end (only the binary's own
//!   package gets `CARGO_BIN_EXE_sightline`), including the peers' Grafana client and
//!   OpenMetrics scrape suites, the seed's queries side by side with Prometheus 2.42, and 50
//!   heavy queries at once under the concurrency and sample limits;
//! - `host/plugin-runtime/tests/runtime`: the hostile-guest suite and hot reload;
//! - `host/exposition/tests`, `host/promql/tests`, `host/tsdb/tests`: the conformance suites,
//!   the crash test and the data-driven tests of each crate.
//!
//! The helpers in `tests/lib.rs` build the wasm guests, plugins and examples for all of them;
//! `sightline_tests::chromium` drives headless Chromium for the web UI tests (tested here).

// Test support panics on purpose: a failed setup step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chromium;

/// The guest builder finds the repository's wasm workspaces.
#[test]
fn wasm_workspaces_are_where_the_builders_look() {
    let root = sightline_tests::repo_root();
    for ws in ["tests/guests", "plugins", "examples"] {
        assert!(
            root.join(ws).join("Cargo.toml").is_file(),
            "{ws}/Cargo.toml missing"
        );
    }
}
