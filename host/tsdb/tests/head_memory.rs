//! What the head allocates when its series close their chunks (issue 21). A scrape's series
//! all reach a full chunk on the same scrape, so whatever closing a chunk allocates, it
//! allocates for every series of the head at once: copying the chunk there made a 10 k-series
//! daemon's RSS jump by 0.6 KB a series (BENCHMARKS.md, session 24).
//!
//! This test binary counts the bytes each thread allocates (a counting global allocator), and
//! compares the commit that closes every series' chunk with the commit before it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.
#![allow(unsafe_code)] // The counting allocator forwards to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sightline_model::Labels;
use sightline_storage_api::Appendable;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

struct Counting;

thread_local! {
    /// Bytes this thread allocated (growth by `realloc` included, frees not subtracted).
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

fn count(n: usize) {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = ALLOCATED.try_with(|c| c.set(c.get() + n as u64));
}

// SAFETY: every call forwards to the system allocator with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated() -> u64 {
    ALLOCATED.with(Cell::get)
}

#[test]
fn closing_every_series_chunk_at_once_allocates_little() {
    const SERIES: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir.path())
    })
    .unwrap();
    let labels: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "requests_total"),
                ("instance", "127.0.0.1:9100"),
                ("path", &format!("/api/{i}")),
            ])
        })
        .collect();
    let mut refs = vec![None; SERIES];
    // One commit a scrape, 1 s apart, counters with some noise in the low digits: a chunk
    // holds 120 samples, so the 121st scrape closes every series' chunk.
    let mut scrape = |k: i64| -> u64 {
        let before = allocated();
        let mut a = db.appender();
        for (i, lb) in labels.iter().enumerate() {
            let v = (k * 1_000 + (k * 7 + i as i64) % 13) as f64;
            refs[i] = Some(a.append(refs[i], lb, 1_000 + k * 1_000, v).unwrap());
        }
        a.commit().unwrap();
        allocated() - before
    };
    for k in 0..119 {
        scrape(k);
    }
    let ordinary = scrape(119);
    let chunks = || db.stats(0).head.chunk_count;
    assert_eq!(chunks(), SERIES as u64, "one open chunk a series");
    let closing = scrape(120);
    assert_eq!(chunks(), 2 * SERIES as u64, "every series closed one chunk");
    let per_series = closing.saturating_sub(ordinary) as f64 / SERIES as f64;
    // Left to allocate: the cold part (56 B), its list of closed chunks sized exactly (48 B)
    // and the next chunk's first buffer (32 B), 146 B a series as measured. Copying the
    // chunk, a list sized for four and a cold part holding histogram state inline came to
    // 1,009 B.
    assert!(
        per_series < 256.0,
        "closing a chunk allocated {per_series:.0} B a series ({closing} B in the commit \
         that closed them against {ordinary} B in the one before)"
    );
}
