//! Times queries over the bench's 10,000-series store: `cargo run --release --example probe -- 'QUERY' ...`
//! prints wall and CPU milliseconds per instant and range (30m at 60s steps) evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions};
use sightline_storage_api::{Appendable, MemStorage};
const SCRAPE_MS: i64 = 15_000;
const POINTS: i64 = 240; // One hour of 15s scrapes.

/// Builds about 10,000 series shaped like the benchmark targets' metrics.
fn build_store() -> MemStorage {
    let st = MemStorage::new();
    let mut series: Vec<Labels> = Vec::new();
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let statuses = ["200", "201", "404", "500", "503"];
    let methods = ["GET", "POST"];
    let endpoints = ["/a", "/b", "/c", "/d", "/e"];
    for inst in 0..40 {
        let instance = format!("10.0.0.{inst}:8080");
        series.push(Labels::from_pairs([
            ("__name__", "up"),
            ("job", "app"),
            ("instance", instance.as_str()),
        ]));
        series.push(Labels::from_pairs([
            ("__name__", "process_cpu_seconds_total"),
            ("job", "app"),
            ("instance", instance.as_str()),
        ]));
        for m in methods {
            for e in endpoints {
                for s in statuses {
                    series.push(Labels::from_pairs([
                        ("__name__", "http_requests_total"),
                        ("job", "app"),
                        ("instance", instance.as_str()),
                        ("method", m),
                        ("endpoint", e),
                        ("status", s),
                    ]));
                }
                for le in les {
                    series.push(Labels::from_pairs([
                        ("__name__", "http_request_duration_seconds_bucket"),
                        ("job", "app"),
                        ("instance", instance.as_str()),
                        ("method", m),
                        ("endpoint", e),
                        ("le", le),
                    ]));
                }
            }
        }
    }
    let mut app = st.appender();
    for (i, l) in series.iter().enumerate() {
        let mut v = 0.0;
        for p in 0..POINTS {
            v += ((i as i64 * 7 + p * 13) % 10) as f64;
            let val = if l.metric_name() == Some("up") {
                1.0
            } else {
                v
            };
            app.append(None, l, p * SCRAPE_MS, val)
                .expect("in-order bench data");
        }
    }
    app.commit().expect("commit bench data");
    st
}
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
