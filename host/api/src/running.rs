//! The queries running now, so that they can be stopped: when their client goes away (the
//! request's future is dropped) and when the server shuts down, as Prometheus cancels a
//! query's context in both cases. Without it a heavy query ran to its end after its client
//! had timed out, holding a query slot, cores and memory, and shutdown waited for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The cancellation flags of the running queries.
#[derive(Debug, Default)]
pub struct RunningQueries {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    flags: HashMap<u64, Arc<AtomicBool>>,
    /// Set by [`RunningQueries::cancel_all`]: queries started later are canceled at once.
    closed: bool,
}

impl RunningQueries {
    /// Cancels every running query and every query started from now on (shutdown).
    pub fn cancel_all(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.closed = true;
        for f in g.flags.values() {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// How many queries are registered as running.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .flags
            .len()
    }

    /// Whether no query is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a query; its flag is set if it is dropped before [`Running::finish`].
    pub(crate) fn start(self: &Arc<Self>) -> Running {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let id = g.next;
        g.next += 1;
        let flag = Arc::new(AtomicBool::new(g.closed));
        g.flags.insert(id, flag.clone());
        Running {
            id,
            flag,
            owner: self.clone(),
            finished: false,
        }
    }
}

/// One running query's registration.
pub(crate) struct Running {
    id: u64,
    flag: Arc<AtomicBool>,
    owner: Arc<RunningQueries>,
    finished: bool,
}

impl Running {
    /// The flag the engine checks.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// The query's answer was produced: dropping the registration no longer cancels.
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.finished {
            self.flag.store(true, Ordering::Relaxed);
        }
        let mut g = self.owner.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.flags.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_and_shut_down_queries_are_canceled_finished_ones_not() {
        let r = Arc::new(RunningQueries::default());
        let (a, b) = (r.start(), r.start());
        let (fa, fb) = (a.flag(), b.flag());
        assert_eq!(r.len(), 2);
        // A client that goes away drops its request's future, and with it the registration.
        drop(a);
        assert!(fa.load(Ordering::Relaxed));
        assert!(!fb.load(Ordering::Relaxed));
        b.finish();
        assert!(!fb.load(Ordering::Relaxed));
        assert!(r.is_empty());
        let c = r.start();
        let fc = c.flag();
        r.cancel_all();
        assert!(
            fc.load(Ordering::Relaxed),
            "running queries stop at shutdown"
        );
        assert!(
            r.start().flag().load(Ordering::Relaxed),
            "and later ones at once"
        );
        c.finish();
    }
}
