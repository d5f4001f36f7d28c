//! The runtimes HTTP scrape loops run on: a few one-worker tokio runtimes ("shards"), each
//! a dedicated thread with its own timer and socket driver, and each target pinned to one.
//!
//! Why not the daemon's runtime: a scrape is a timer wake-up, a request, a response and a
//! parse, with nothing to share between targets. On a work-stealing runtime every such
//! wake-up also wakes an idle worker to look for work it does not find. A one-worker runtime
//! has no one to wake, so a scrape costs one thread's wake-ups. Measured on the 10 × 1,000
//! series benchmark alone on a 2-vCPU VM: the daemon with one async worker spent 8 % less CPU
//! than with two (BENCHMARKS.md, session 26). Shards keep the parallelism that one worker
//! would lose: targets spread over them by identity, and a big body still hands its worker's
//! other loops to another thread (`block_in_place`) while it is appended.

use tokio::runtime::{Handle, Runtime};

/// At most this many shards, whatever the core count: a shard's worker sleeps when idle,
/// but each is a thread and a timer wheel.
const MAX_SHARDS: usize = 8;

pub(crate) struct Shards {
    runtimes: Vec<Runtime>,
}

impl Shards {
    /// One shard per available core, at most [`MAX_SHARDS`]. `None` if a runtime cannot be
    /// built (no threads left): loops then run on the caller's runtime.
    pub(crate) fn new() -> Option<Self> {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_SHARDS);
        let mut runtimes = Vec::with_capacity(n);
        for i in 0..n {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(format!("sightline-scrape-{i}"))
                .enable_all()
                .build();
            match rt {
                Ok(rt) => runtimes.push(rt),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start the scrape runtimes; scraping on the main runtime");
                    for rt in runtimes {
                        rt.shutdown_background();
                    }
                    return None;
                }
            }
        }
        Some(Shards { runtimes })
    }

    /// The shard of the target with this key.
    pub(crate) fn handle_for(&self, key: u64) -> &Handle {
        self.runtimes[(key % self.runtimes.len() as u64) as usize].handle()
    }
}

impl Drop for Shards {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside another runtime: the loops
        // have been stopped (or are abandoned at exit), so nothing is waited for.
        for rt in self.runtimes.drain(..) {
            rt.shutdown_background();
        }
    }
}
