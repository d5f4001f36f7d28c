//! Times queries over the bench's 10,000-series store: `cargo run --release --example probe -- 'QUERY' ...`
//! prints wall and CPU milliseconds per instant and range (30m at 60s steps) evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sightline_promql::{Engine, EngineOptions};

#[path = "../benches/support/seed_store.rs"]
mod seed_store;
use seed_store::{build_store, POINTS, SCRAPE_MS};
/// CPU time of this thread in milliseconds (from `/proc/thread-self/schedstat`), which
/// stays meaningful on a loaded machine where wall time does not.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|ns| ns / 1e6)
        .unwrap_or(0.0)
}

fn main() {
    let st = build_store();
    let engine = Engine::new(EngineOptions::default());
    let end = (POINTS - 1) * SCRAPE_MS;
    for q in std::env::args().skip(1) {
        for range in [false, true] {
            let t0 = std::time::Instant::now();
            let c0 = cpu_ms();
            let n = 5;
            for _ in 0..n {
                let r = if range {
                    engine.range_query(&st, &q, end - 1_800_000, end, 60_000)
                } else {
                    engine.instant_query(&st, &q, end)
                };
                r.unwrap();
            }
            println!(
                "{:>8.2} ms wall {:>8.2} ms cpu {} {}",
                t0.elapsed().as_secs_f64() * 1000.0 / n as f64,
                (cpu_ms() - c0) / n as f64,
                if range { "range  " } else { "instant" },
                q
            );
        }
    }
}
