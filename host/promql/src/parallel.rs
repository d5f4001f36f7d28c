//! Splitting one query's per-series work across threads (issue 21: Prometheus evaluates each
//! query on one core).
//!
//! Work is cut into chunks of consecutive series; up to `threads` scoped threads take chunks in
//! increasing order and the results come back in chunk order, so a parallel evaluation returns
//! exactly what the single-threaded one does. Scoped threads (rather than a global pool such
//! as rayon's) keep the engine free of process-wide state and of a new dependency: a query
//! only goes parallel when it has thousands of series, where spawning a thread (tens of
//! microseconds) is noise, and the threads end with the query, so cancellation and timeouts
//! need nothing beyond the checks the workers already make.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::error::{Error, Result};

/// The number of threads a query may use when the engine is not told: the available cores,
/// read once. `available_parallelism` reads the cgroup's CPU quota from `/proc` and `/sys` on
/// every call (three file opens, ≈ 5 % of a small query's CPU when it ran per query).
pub(crate) fn default_parallelism() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `f(chunk_index, chunk)` over `items` cut into chunks of `chunk` items, on up to
/// `threads` threads, and returns the results in chunk order. After a chunk fails no new chunks
/// are started and the first error in chunk order is returned.
pub(crate) fn map_chunks<T, R, F>(
    items: &mut [T],
    chunk: usize,
    threads: usize,
    f: F,
) -> Result<Vec<R>>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> Result<R> + Sync,
{
    let chunk = chunk.max(1);
    let n_chunks = items.len().div_ceil(chunk);
    let threads = threads.min(n_chunks);
    if threads <= 1 {
        return items
            .chunks_mut(chunk)
            .enumerate()
            .map(|(i, c)| f(i, c))
            .collect();
    }
    let slots: Vec<Mutex<Option<&mut [T]>>> = items
        .chunks_mut(chunk)
        .map(|c| Mutex::new(Some(c)))
        .collect();
    let results: Vec<Mutex<Option<Result<R>>>> = (0..n_chunks).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || loop {
        if failed.load(Ordering::Relaxed) {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = slots.get(i) else {
            break;
        };
        let taken = slot.lock().map(|mut g| g.take()).unwrap_or(None);
        let Some(c) = taken else {
            continue;
        };
        let r = f(i, c);
        if r.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        if let Ok(mut g) = results[i].lock() {
            *g = Some(r);
        }
    };
    std::thread::scope(|s| {
        // The calling thread works too: `threads - 1` helpers.
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
    let mut out = Vec::with_capacity(n_chunks);
    for r in results {
        match r.into_inner() {
            Ok(Some(Ok(v))) => out.push(v),
            Ok(Some(Err(e))) => return Err(e),
            // A chunk left undone after another failed; that failure follows in chunk order.
            Ok(None) => {}
            Err(_) => {
                return Err(Error::Execution(
                    "internal error: a query worker panicked".into(),
                ))
            }
        }
    }
    if out.len() != n_chunks {
        return Err(Error::Execution(
            "internal error: a query worker stopped early".into(),
        ));
    }
    Ok(out)
}

/// Like [`map_chunks`], but hands each chunk's result to `fold` in chunk order as soon as every
/// earlier chunk has been folded, instead of collecting all results: only results finished
/// ahead of an earlier chunk wait, and a worker does not start a chunk more than `2 * threads`
/// ahead of the fold, so memory stays bounded by a few chunks per thread. `fold` runs on
/// whichever worker completes the sequence, one call at a time. After a chunk or a fold fails,
/// later chunks are skipped and earlier ones finish; the fold's error, else the error of the
/// lowest failed chunk, is returned (the same whatever the threads and timing).
pub(crate) fn map_fold_chunks<T, R, F, G>(
    items: &mut [T],
    chunk: usize,
    threads: usize,
    map: F,
    fold: G,
) -> Result<()>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> Result<R> + Sync,
    G: FnMut(usize, R) -> Result<()> + Send,
{
    let chunk = chunk.max(1);
    let n_chunks = items.len().div_ceil(chunk);
    let threads = threads.min(n_chunks);
    let mut fold = fold;
    if threads <= 1 {
        for (i, c) in items.chunks_mut(chunk).enumerate() {
            fold(i, map(i, c)?)?;
        }
        return Ok(());
    }
    struct Ordered<R, G> {
        next_fold: usize,
        pending: std::collections::BTreeMap<usize, R>,
        fold: G,
        fold_err: Option<Error>,
        map_errs: std::collections::BTreeMap<usize, Error>,
    }
    let slots: Vec<Mutex<Option<&mut [T]>>> = items
        .chunks_mut(chunk)
        .map(|c| Mutex::new(Some(c)))
        .collect();
    let shared = Mutex::new(Ordered {
        next_fold: 0,
        pending: std::collections::BTreeMap::new(),
        fold,
        fold_err: None,
        map_errs: std::collections::BTreeMap::new(),
    });
    let folded = Condvar::new();
    let next = AtomicUsize::new(0);
    // The lowest chunk that failed (or whose fold failed): later chunks are skipped, earlier
    // ones still run, so the error returned does not depend on timing.
    let failed_at = AtomicUsize::new(usize::MAX);
    let ahead = 2 * threads;
    let poisoned = || Error::Execution("internal error: a query worker panicked".into());
    let worker = || -> Result<()> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else {
                return Ok(());
            };
            {
                let mut g = shared.lock().map_err(|_| poisoned())?;
                while i >= g.next_fold + ahead && i <= failed_at.load(Ordering::Relaxed) {
                    g = folded.wait(g).map_err(|_| poisoned())?;
                }
            }
            if i > failed_at.load(Ordering::Relaxed) {
                continue;
            }
            let taken = slot.lock().map(|mut g| g.take()).unwrap_or(None);
            let Some(c) = taken else {
                continue;
            };
            let r = map(i, c);
            let mut g = shared.lock().map_err(|_| poisoned())?;
            match r {
                Ok(v) => {
                    g.pending.insert(i, v);
                }
                Err(e) => {
                    failed_at.fetch_min(i, Ordering::Relaxed);
                    g.map_errs.insert(i, e);
                }
            }
            let g = &mut *g;
            while let Some(v) = g.pending.remove(&g.next_fold) {
                if g.fold_err.is_none() {
                    if let Err(e) = (g.fold)(g.next_fold, v) {
                        failed_at.fetch_min(g.next_fold, Ordering::Relaxed);
                        g.fold_err = Some(e);
                    }
                }
                g.next_fold += 1;
            }
            folded.notify_all();
        }
    };
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        // The calling thread works too: `threads - 1` helpers.
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut rs = vec![worker()];
        for h in helpers {
            rs.push(h.join().unwrap_or_else(|_| Err(poisoned())));
        }
        rs
    });
    for r in results {
        r?;
    }
    let g = shared.into_inner().map_err(|_| poisoned())?;
    if let Some(e) = g.fold_err {
        return Err(e);
    }
    let mut map_errs = g.map_errs;
    if let Some((_, e)) = map_errs.pop_first() {
        return Err(e);
    }
    if g.next_fold != n_chunks {
        return Err(Error::Execution(
            "internal error: a query worker stopped early".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_chunk_order_whatever_the_threads() {
        let mut items: Vec<u64> = (0..10_000).collect();
        for threads in [1, 2, 3, 8] {
            let sums = map_chunks(&mut items, 97, threads, |i, c| {
                Ok((i, c.iter().sum::<u64>()))
            })
            .unwrap();
            assert_eq!(sums.len(), 10_000usize.div_ceil(97));
            for (k, (i, _)) in sums.iter().enumerate() {
                assert_eq!(k, *i);
            }
            assert_eq!(sums.iter().map(|x| x.1).sum::<u64>(), 10_000 * 9_999 / 2);
        }
    }

    #[test]
    fn the_first_error_in_chunk_order_is_returned() {
        let mut items: Vec<u32> = (0..1_000).collect();
        let r: Result<Vec<()>> = map_chunks(&mut items, 10, 4, |i, _| {
            if i >= 50 {
                Err(Error::Execution(format!("chunk {i}")))
            } else {
                Ok(())
            }
        });
        match r {
            Err(Error::Execution(m)) => assert!(m.starts_with("chunk "), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn folds_run_in_chunk_order_whatever_the_threads() {
        let mut items: Vec<u64> = (0..10_000).collect();
        for threads in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            map_fold_chunks(
                &mut items,
                97,
                threads,
                |i, c| {
                    // Uneven work, so chunks finish out of order.
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    Ok((i, c.iter().sum::<u64>()))
                },
                |i, (j, sum)| {
                    assert_eq!(i, j);
                    seen.push((i, sum));
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(seen.len(), 10_000usize.div_ceil(97));
            assert!(seen.iter().enumerate().all(|(k, (i, _))| k == *i));
            assert_eq!(seen.iter().map(|x| x.1).sum::<u64>(), 10_000 * 9_999 / 2);
        }
    }

    #[test]
    fn fold_and_map_errors_stop_the_work() {
        let mut items: Vec<u32> = (0..1_000).collect();
        for threads in [1, 4] {
            let r = map_fold_chunks(
                &mut items,
                10,
                threads,
                |i, _| {
                    if i >= 50 {
                        Err(Error::Execution(format!("chunk {i}")))
                    } else {
                        Ok(i)
                    }
                },
                |_, _| Ok(()),
            );
            match r {
                Err(Error::Execution(m)) => assert_eq!(m, "chunk 50"),
                other => panic!("{other:?}"),
            }
            let mut folded = 0;
            let r = map_fold_chunks(
                &mut items,
                10,
                threads,
                |i, _| Ok(i),
                |i, _| {
                    folded += 1;
                    if i == 3 {
                        Err(Error::TooManySamples("query execution"))
                    } else {
                        Ok(())
                    }
                },
            );
            assert!(matches!(r, Err(Error::TooManySamples(_))), "{r:?}");
            assert_eq!(folded, 4);
        }
    }
}
