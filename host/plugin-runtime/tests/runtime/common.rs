//! Test helpers: the guest/plugin builders are shared with the daemon's end-to-end tests in
//! the `sightline-tests` crate.

use std::time::{Duration, Instant};

// Shared with the benches, which use only some of them.
#[allow(unused_imports)]
pub(crate) use sightline_tests::{example, first_party, guest, install, repo_root};

/// Polls `cond` every 20 ms until it holds or `limit` passes; returns the
/// time it took.
pub(crate) async fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond().then(|| start.elapsed())
}
