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
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The number of threads a query may use when the engine is not told: the available cores.
pub(crate) fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
}
