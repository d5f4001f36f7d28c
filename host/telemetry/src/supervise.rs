//! Supervision of background tasks: a task's body runs under `catch_unwind`; a panic is
//! logged at ERROR with the task's name and message, counted in
//! `sightline_task_panics_total{task}`, and the body is started again after a backoff (1 s,
//! doubling to 30 s; back to 1 s once a run lasted longer than the cap), unless shutdown was
//! requested. A body that returns normally is not restarted: returning is how it stops.
//!
//! Why here: every crate that spawns a loop (scrape, plugin-runtime, tsdb, daemon) already
//! depends on telemetry, and the panic counter is process-wide state like the panic hook, so
//! it lives in one static that the daemon's registry gathers ([`families`]).
//!
//! A body must not rely on state a panic could leave half-updated: our locks are
//! `parking_lot`'s, which do not poison, and their guards are released while unwinding.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use crate::{names, CounterVec, Family, Registry};

/// The first restart delay.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest restart delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

const HELP: &str = "Panics of supervised background tasks, each followed by a restart.";

fn counter() -> &'static (Registry, std::sync::Arc<CounterVec>) {
    static C: OnceLock<(Registry, std::sync::Arc<CounterVec>)> = OnceLock::new();
    C.get_or_init(|| {
        let r = Registry::new();
        let v = r.counter_vec(names::TASK_PANICS, HELP, &["task"]);
        (r, v)
    })
}

/// How many times the task named `task` has panicked in this process.
pub fn panics(task: &str) -> f64 {
    counter().1.with(&[task]).get()
}

/// The `sightline_task_panics` family, for the daemon's registry. Present (with no samples)
/// before the first panic.
pub fn families() -> Vec<Family> {
    counter().0.gather()
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

fn record(task: &str, payload: &(dyn Any + Send), delay: Duration) {
    counter().1.with(&[task]).inc();
    tracing::error!(
        task,
        panic = panic_message(payload),
        restart_in_ms = delay.as_millis() as u64,
        "background task panicked; restarting it"
    );
}

/// Logs and counts a panic caught elsewhere (a periodic pass on a blocking thread, whose
/// `JoinError` carries it); the caller retries on its own schedule.
pub fn record_panic(task: &str, payload: &(dyn Any + Send)) {
    counter().1.with(&[task]).inc();
    tracing::error!(
        task,
        panic = panic_message(payload),
        "task panicked; its current work is abandoned"
    );
}

/// Runs `fut` once under `catch_unwind`: a panic is logged and counted under `task` and
/// `None` returned, with no restart (for units of work whose owner carries on, such as one
/// HTTP connection).
pub async fn contain<F: Future>(task: &str, fut: F) -> Option<F::Output> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => Some(v),
        Err(payload) => {
            record_panic(task, payload.as_ref());
            None
        }
    }
}

/// Restart delays: doubling from [`INITIAL_BACKOFF`] to [`MAX_BACKOFF`], reset by a run that
/// lasted longer than the cap (a rare panic is not punished like a crash loop).
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(INITIAL_BACKOFF, MAX_BACKOFF)
    }
}

impl Backoff {
    /// Delays from `initial`, doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay after a run that lasted `ran`.
    pub fn after(&mut self, ran: Duration) -> Duration {
        if ran > self.max {
            self.next = self.initial;
        }
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// Runs `body()` until it returns, restarting it after each panic (see the module docs).
/// Returns when the body returns, or when `shutdown` is cancelled after a panic or during the
/// backoff.
pub async fn supervise<F, Fut>(
    task: &str,
    shutdown: Option<&CancellationToken>,
    backoff: Backoff,
    mut body: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut backoff = backoff;
    loop {
        let started = Instant::now();
        let Err(payload) = AssertUnwindSafe(body()).catch_unwind().await else {
            return;
        };
        let delay = backoff.after(started.elapsed());
        record(task, payload.as_ref(), delay);
        match shutdown {
            Some(s) => {
                if s.is_cancelled() {
                    return;
                }
                tokio::select! {
                    _ = s.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            None => tokio::time::sleep(delay).await,
        }
    }
}

/// [`supervise`] for a body on a plain thread. `stopping` is asked after a panic; the
/// backoff sleeps in slices of at most 100 ms so a stop is noticed soon.
pub fn supervise_thread(
    task: &str,
    stopping: impl Fn() -> bool,
    backoff: Backoff,
    mut body: impl FnMut(),
) {
    let mut backoff = backoff;
    loop {
        let started = Instant::now();
        let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(&mut body)) else {
            return;
        };
        let delay = backoff.after(started.elapsed());
        record(task, payload.as_ref(), delay);
        let until = Instant::now() + delay;
        loop {
            if stopping() {
                return;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn samples() -> Vec<crate::FamilySample> {
        families().into_iter().flat_map(|f| f.samples).collect()
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets_after_a_long_run() {
        let mut b = Backoff::default();
        let short = Duration::from_millis(10);
        let got: Vec<u64> = (0..7).map(|_| b.after(short).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(b.after(Duration::from_secs(31)).as_secs(), 1);
        assert_eq!(b.after(short).as_secs(), 2);
    }

    #[tokio::test]
    async fn a_body_that_panics_twice_is_restarted_and_counted() {
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let started = Instant::now();
        let backoff = Backoff::new(Duration::from_millis(20), Duration::from_secs(1));
        supervise("test_async_twice", None, backoff, || {
            let r = r.clone();
            async move {
                tokio::task::yield_now().await;
                let n = r.fetch_add(1, Ordering::SeqCst);
                if n < 2 {
                    panic!("injected panic {n}");
                }
            }
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(panics("test_async_twice"), 2.0);
        // 20 ms, then 40 ms of backoff.
        assert!(started.elapsed() >= Duration::from_millis(60));
        let fams = families();
        assert_eq!(fams.len(), 1);
        assert_eq!(fams[0].name, "sightline_task_panics");
        assert!(samples()
            .iter()
            .any(|s| s.labels.get("task") == Some("test_async_twice") && s.value == 2.0));
    }

    #[tokio::test]
    async fn shutdown_stops_the_restarts() {
        let token = CancellationToken::new();
        let t = token.clone();
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        supervise(
            "test_async_shutdown",
            Some(&token),
            Backoff::default(),
            || {
                let r = r.clone();
                let t = t.clone();
                async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    t.cancel();
                    panic!("always");
                }
            },
        )
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(panics("test_async_shutdown"), 1.0);
    }

    #[tokio::test]
    async fn a_contained_panic_is_counted_once() {
        assert_eq!(contain("test_contain", async { 7 }).await, Some(7));
        let r: Option<()> = contain("test_contain", async { panic!("once") }).await;
        assert_eq!(r, None);
        assert_eq!(panics("test_contain"), 1.0);
    }

    #[test]
    fn a_thread_body_that_panics_twice_is_restarted_and_counted() {
        let mut runs = 0;
        let fast = Backoff::new(Duration::from_millis(1), Duration::from_millis(4));
        supervise_thread(
            "test_thread_twice",
            || false,
            fast,
            || {
                runs += 1;
                if runs <= 2 {
                    panic!("injected panic {runs}");
                }
            },
        );
        assert_eq!(runs, 3);
        assert_eq!(panics("test_thread_twice"), 2.0);
    }

    #[test]
    fn a_parking_lot_lock_held_by_a_panicking_body_is_released() {
        let m = parking_lot::Mutex::new(0u32);
        let fast = Backoff::new(Duration::from_millis(1), Duration::from_millis(1));
        supervise_thread(
            "test_thread_lock",
            || false,
            fast,
            || {
                let mut g = m.lock();
                *g += 1;
                if *g == 1 {
                    panic!("panic while holding the lock");
                }
            },
        );
        // Not poisoned, not held: the second run took it and saw the first run's write.
        assert_eq!(*m.lock(), 2);
    }
}
