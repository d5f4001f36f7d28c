//! Peak heap per query over the heavy bench's 100,000-series TSDB head (issue 21):
//! `cargo run --release -p sightline-promql --example query_mem [-- NAME...]` prints, for each of
//! the benchmark harness' queries (instant at the end, range over the last 3 minutes at 15 s
//! steps, or the last `SIGHTLINE_QUERY_MEM_RANGE` seconds, at most 900), the heap the query held at its peak above what was live before it (result
//! included), what it still held after the result was dropped, what `select` alone holds for
//! the query's selectors (the storage iterators, before any sample is read) and the median
//! time of five further runs.
//!
//! The heap is counted by a wrapping global allocator, so the figures are the program's own
//! allocations, free of allocator retention (which RSS measurements include).

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The counting allocator wraps the system one: the only unsafe code here, and it forwards
// every call unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sightline_model::{MatchOp, Matcher};
use sightline_promql::{Engine, EngineOptions};
use sightline_storage_api::Queryable;

#[path = "../benches/support/heavy_store.rs"]
mod heavy_store;
use heavy_store::{filled_tsdb, POINTS, QUERIES, SCRAPE_MS};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Runs `f` and returns its value, the peak heap above the start and the time it took.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, f64) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t0 = Instant::now();
    let v = f();
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    (v, PEAK.load(Ordering::Relaxed).saturating_sub(base), ms)
}

/// The selectors of the harness' queries, by metric name (and the 5xx status matcher).
fn selectors(q: &str) -> Vec<Vec<Matcher>> {
    let name = |n: &str| Matcher::new(MatchOp::Equal, "__name__", n).unwrap();
    let status = || Matcher::new(MatchOp::RegexMatch, "status", "5..").unwrap();
    let mut out = Vec::new();
    for n in [
        "up",
        "process_cpu_seconds_total",
        "http_request_duration_seconds_bucket",
    ] {
        if q.contains(n) {
            out.push(vec![name(n)]);
        }
    }
    if q.contains(r#"http_requests_total{status=~"5.."}"#) {
        out.push(vec![name("http_requests_total"), status()]);
    }
    if q.contains("rate(http_requests_total[") {
        out.push(vec![name("http_requests_total")]);
    }
    out
}

fn main() {
    let (_dir, st) = filled_tsdb();
    let engine = Engine::new(EngineOptions::default());
    let end = (POINTS - 1) * SCRAPE_MS;
    let range_ms: i64 = std::env::var("SIGHTLINE_QUERY_MEM_RANGE")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .map_or(180_000, |s| s * 1_000);
    let names: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "{:<18} {:>6} {:>10} {:>10} {:>10} {:>9} {:>8}",
        "query", "kind", "peak MiB", "kept MiB", "select MiB", "series", "med ms"
    );
    let mut worst = 0usize;
    for (name, q) in QUERIES {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        // `select` alone: every selector's series held at once, as `Ev::load` holds them.
        let querier = st.querier(end - 1_800_000, end).expect("querier");
        let (sel, sel_peak, _) = measure(|| {
            selectors(q)
                .iter()
                .map(|m| querier.select(false, None, m).expect("select"))
                .collect::<Vec<_>>()
        });
        let n_series: usize = sel.iter().map(Vec::len).sum();
        drop(sel);
        drop(querier);
        for range in [false, true] {
            let before = LIVE.load(Ordering::Relaxed);
            let (r, peak, _) = measure(|| {
                if range {
                    engine.range_query(&st, q, end - range_ms, end, 15_000)
                } else {
                    engine.instant_query(&st, q, end)
                }
                .expect("query runs")
            });
            drop(r);
            let kept = LIVE.load(Ordering::Relaxed).saturating_sub(before);
            // The median of five more runs for the time.
            let mut times: Vec<f64> = (0..5)
                .map(|_| {
                    measure(|| {
                        if range {
                            engine.range_query(&st, q, end - range_ms, end, 15_000)
                        } else {
                            engine.instant_query(&st, q, end)
                        }
                        .expect("query runs")
                    })
                    .2
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let ms = times[2];
            worst = worst.max(peak);
            println!(
                "{:<18} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>9} {:>8.1}",
                name,
                if range { "range" } else { "inst" },
                mib(peak),
                mib(kept),
                mib(sel_peak),
                n_series,
                ms
            );
        }
    }
    println!("largest peak: {:.1} MiB", mib(worst));
}
