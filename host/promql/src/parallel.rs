//! Splitting one query's per-series work across threads (issue 21: Prometheus evaluates each
//! query on one core).
//!
//! Work is cut into chunks of consecutive series; the calling thread and up to `threads - 1`
//! helpers take chunks in increasing order and the results come back in chunk order, so a
//! parallel evaluation returns exactly what the single-threaded one does.
//!
//! The helpers are a process-wide set of long-lived threads that *offer* help ([`run_helped`]):
//! a query posts offers, works through its chunks itself, and on finishing withdraws the
//! offers no helper took and waits only for the helpers that did. A busy helper therefore never
//! delays a query (it does its chunks alone), and no thread is started per query. (Scoped
//! threads, one per query, cost more than they saved: a new thread starts with an empty
//! allocator heap, and a 10 k series server's 1,040-series instant `rate` took 1.18× as long on
//! two such threads as on one, BENCHMARKS.md session 22.)

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
    let helped = run_helped(threads, &|| {
        worker();
        Ok(())
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
    helped?;
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
    run_helped(threads, &worker)?;
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

/// The most helper threads the process starts (whatever `--query.parallelism` asks for).
const MAX_HELPERS: usize = 64;

/// The process' query helpers: their offers and how many threads serve them.
struct Helpers {
    state: Mutex<HelperState>,
    /// Signalled when offers are posted.
    offered: Condvar,
    /// Signalled when a helper finishes its share of a job.
    finished: Condvar,
}

struct HelperState {
    /// Offers not taken yet (a job's address, once per helper it would take).
    offers: Vec<JobPtr>,
    /// Helper threads started.
    threads: usize,
}

/// One call's work as the helpers see it. It lives on the caller's stack; see [`run_helped`]
/// for why helpers never reach it after the call returns.
struct Job {
    work: *const (dyn Fn() -> Result<()> + Sync),
    /// Helpers running `work` now (changed only under the helpers' lock).
    active: AtomicUsize,
    /// The first error a helper's run returned, or that one panicked.
    failed: Mutex<Option<Error>>,
}

#[derive(Clone, Copy, PartialEq)]
struct JobPtr(*const Job);

// SAFETY: a `JobPtr` is only dereferenced by a helper between taking it (under the lock,
// raising `active`) and lowering `active` (under the lock); `run_helped` withdraws untaken
// pointers and waits for `active` to reach zero before its `Job` goes out of scope, and the
// `work` it points to is `Sync`.
#[allow(unsafe_code)]
unsafe impl Send for JobPtr {}

fn helpers() -> &'static Helpers {
    static HELPERS: std::sync::OnceLock<Helpers> = std::sync::OnceLock::new();
    HELPERS.get_or_init(|| Helpers {
        state: Mutex::new(HelperState {
            offers: Vec::new(),
            threads: 0,
        }),
        offered: Condvar::new(),
        finished: Condvar::new(),
    })
}

fn lock(h: &Helpers) -> std::sync::MutexGuard<'_, HelperState> {
    // The lock is never held while query code runs, so it is not poisoned in practice.
    h.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn helper_loop(h: &'static Helpers) {
    let mut g = lock(h);
    loop {
        let Some(JobPtr(p)) = g.offers.pop() else {
            g = h.offered.wait(g).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        // SAFETY: the offer was taken under the lock while its caller still waits in
        // `run_helped` (it withdraws offers and waits for `active` under this lock).
        #[allow(unsafe_code)]
        let job = unsafe { &*p };
        job.active.fetch_add(1, Ordering::Relaxed);
        drop(g);
        // SAFETY: `work` outlives the job (see `run_helped`).
        #[allow(unsafe_code)]
        let work = unsafe { &*job.work };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let err = match r {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(Error::Execution(
                "internal error: a query worker panicked".into(),
            )),
        };
        if let Some(e) = err {
            let mut f = job.failed.lock().unwrap_or_else(|e| e.into_inner());
            f.get_or_insert(e);
        }
        g = lock(h);
        // The last use of `job`: once the lock is released the caller may return.
        job.active.fetch_sub(1, Ordering::Relaxed);
        h.finished.notify_all();
    }
}

/// Runs `work` on the calling thread and on up to `threads - 1` idle helpers at once, and
/// returns when every run that started has ended: the caller's result, else the first error
/// (or panic) of a helper's. `work` is expected to share its work out itself (the callers'
/// workers take chunks from a shared counter until none are left), so helpers that are
/// busy elsewhere and never start cost nothing.
pub(crate) fn run_helped(threads: usize, work: &(dyn Fn() -> Result<()> + Sync)) -> Result<()> {
    let want = threads.saturating_sub(1).min(MAX_HELPERS);
    if want == 0 {
        return work();
    }
    let h = helpers();
    // SAFETY: only the lifetime is erased. Helpers reach `work` through `job` only while
    // `job.active` counts them, and this function does not return (nor unwind) before it has
    // withdrawn every untaken offer and seen `active` at zero, both under the lock.
    #[allow(unsafe_code)]
    let erased: *const (dyn Fn() -> Result<()> + Sync) = unsafe {
        std::mem::transmute::<
            &(dyn Fn() -> Result<()> + Sync),
            &'static (dyn Fn() -> Result<()> + Sync),
        >(work)
    };
    let job = Job {
        work: erased,
        active: AtomicUsize::new(0),
        failed: Mutex::new(None),
    };
    let me = JobPtr(&job);
    {
        let mut g = lock(h);
        while g.threads < want {
            let started = std::thread::Builder::new()
                .name("query-helper".into())
                .spawn(move || helper_loop(h));
            if started.is_err() {
                break;
            }
            g.threads += 1;
        }
        for _ in 0..want.min(g.threads) {
            g.offers.push(me);
        }
        h.offered.notify_all();
    }
    let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    {
        let mut g = lock(h);
        g.offers.retain(|o| *o != me);
        while job.active.load(Ordering::Relaxed) > 0 {
            g = h.finished.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
    let mine = match mine {
        Ok(r) => r,
        Err(p) => std::panic::resume_unwind(p),
    };
    mine?;
    match job.failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller does all the work itself when the helpers are busy elsewhere, and does not
    /// wait for them; helpers that do join are waited for and their errors come back.
    #[test]
    fn helpers_help_when_idle_and_never_hold_a_caller_up() {
        use std::sync::mpsc;
        use std::time::{Duration, Instant};
        // Occupy every helper (threads - 1 = 1 here, but more may exist from other tests).
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let busy_started = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                run_helped(MAX_HELPERS + 1, &|| {
                    busy_started.fetch_add(1, Ordering::SeqCst);
                    let _ = release_rx
                        .lock()
                        .map(|r| r.recv_timeout(Duration::from_secs(20)));
                    Ok(())
                })
            });
            // Wait (bounded) until the blocker runs on its caller and some helpers.
            let t0 = Instant::now();
            while busy_started.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            // With helpers busy, another caller's parallel map finishes on its own.
            let mut items: Vec<u64> = (0..1000).collect();
            let t0 = Instant::now();
            let sums = map_chunks(&mut items, 10, 4, |_, c| Ok(c.iter().sum::<u64>())).unwrap();
            assert_eq!(sums.iter().sum::<u64>(), 999 * 1000 / 2);
            assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
            for _ in 0..MAX_HELPERS + 1 {
                let _ = release_tx.send(());
            }
        });
        // Errors and panics on helpers come back as errors.
        let on_helper = || std::thread::current().name() == Some("query-helper");
        let (mut panics, mut errors) = (0, 0);
        for i in 0..50 {
            let helped = AtomicBool::new(false);
            let r = run_helped(2, &|| {
                if on_helper() {
                    helped.store(true, Ordering::SeqCst);
                    if i % 2 == 0 {
                        panic!("worker panics");
                    }
                    return Err(Error::Execution("helper fails".into()));
                }
                // The caller waits a little so that a helper joins.
                std::thread::sleep(Duration::from_millis(2));
                Ok(())
            });
            if helped.load(Ordering::SeqCst) {
                let e = r
                    .expect_err("a helper's panic or error is an error")
                    .to_string();
                if i % 2 == 0 {
                    assert!(e.contains("panicked"), "{e}");
                    panics += 1;
                } else {
                    assert!(e.contains("helper fails"), "{e}");
                    errors += 1;
                }
            } else {
                assert!(r.is_ok());
            }
        }
        assert!(
            panics > 0 && errors > 0,
            "helpers joined: {panics} panics, {errors} errors"
        );
    }

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
