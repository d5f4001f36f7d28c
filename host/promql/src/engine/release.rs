//! Giving storage memory back as soon as a series is read (issue 21: peak memory of queries).
//!
//! `Querier::select` returns every matching series at once, each with its own iterator holding
//! copies of the series' chunks (the head's open chunk is copied under its lock). A selector's
//! series are read one after another, so each one's iterator, chunk copies and read buffers are
//! released as soon as it has been read rather than when the whole selector has: the selector's
//! peak is then the larger of what storage returned and what the query keeps, not their sum.

use std::cell::RefCell;
use std::sync::Arc;

use sightline_model::Sample;
use sightline_storage_api::{SampleIterator, Series};

use super::{Ev, StreamSeries};

/// A sample iterator with nothing left, put in place of one that has been read. It has no
/// size, so boxing it allocates nothing.
struct Drained;

impl SampleIterator for Drained {
    fn next_sample(&mut self) -> Option<Sample> {
        None
    }
}

/// Frees what `s` still holds of storage: its iterator (with the chunk copies) and labels.
pub(super) fn release_series(s: &mut Series) {
    s.samples = Box::new(Drained);
    s.labels = Default::default();
}

/// Frees a streamed series' iterator and sample buffers once nothing will read them again
/// (its labels stay: results share them). What it has read stays counted in `read`.
pub(super) fn release_stream(s: &mut StreamSeries) {
    s.iter = Box::new(Drained);
    s.seek_from = None;
    s.pending = None;
    s.pending_h = None;
    s.buf = Arc::new(Vec::new());
    s.st = None;
    s.hbuf = None;
    s.hst = None;
}

/// Cache and data entries (or, for a caller, series in a value) past which memory counts as
/// large: freed on a thread of their own, or handed to the caller's [`defer_frees`] scope
/// (below it, freeing them takes less than starting a thread).
pub const FREE_ELSEWHERE_MIN: usize = 10_000;

thread_local! {
    /// The leftovers of the evaluations run inside this thread's [`defer_frees`] scope.
    static DEFERRED: RefCell<Option<Vec<Box<dyn Send>>>> = const { RefCell::new(None) };
}

/// What the evaluations inside a [`defer_frees`] scope left to free. Dropping it frees
/// them on the dropping thread.
#[must_use = "dropping it frees the leftovers here; that is what it is for"]
pub struct Deferred(Vec<Box<dyn Send>>);

impl Deferred {
    /// True when some evaluation left large leftovers.
    pub fn is_large(&self) -> bool {
        !self.0.is_empty()
    }
}

/// Runs `f` with the large leftovers of the evaluations it runs on this thread held back
/// rather than freed on threads of their own, and returns them with `f`'s result. The HTTP
/// API evaluates and renders a query inside this scope, hands the response over, and then
/// frees the leftovers on the same thread, the one that allocated them, while the answer is
/// on its way, instead of on another thread beside the next query.
pub fn defer_frees<R>(f: impl FnOnce() -> R) -> (R, Deferred) {
    /// Restores the enclosing scope's list even if `f` unwinds.
    struct Scope(Option<Vec<Box<dyn Send>>>);
    impl Drop for Scope {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = DEFERRED.try_with(|d| *d.borrow_mut() = outer);
        }
    }
    let scope = Scope(DEFERRED.with(|d| d.borrow_mut().replace(Vec::new())));
    let out = f();
    let mine = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    drop(scope);
    (out, Deferred(mine))
}

impl Ev<'_> {
    /// Hands what the evaluation holds once its value is built (the loaded series, the
    /// per-label-set caches, unread streams) on: to the caller's [`defer_frees`] scope if
    /// there is one, else to a short-lived thread that frees them, so the answer is rendered
    /// and sent meanwhile: on a large query freeing every label set and buffer took a tenth
    /// of an instant query's time, serially, at its end (the Go runtime frees Prometheus'
    /// concurrently too). Small leftovers are freed here.
    pub(super) fn free_leftovers(&mut self) {
        let size = self.hash_cache.len()
            + self.label_cache.len()
            + self.binop_cache.len()
            + self.held_series();
        let leftovers = (
            std::mem::take(&mut self.data),
            std::mem::take(&mut self.streams),
            std::mem::take(&mut self.hash_cache),
            std::mem::take(&mut self.label_cache),
            std::mem::take(&mut self.binop_cache),
            std::mem::take(&mut self.precomputed),
            std::mem::take(&mut self.sub_cache),
        );
        if size < FREE_ELSEWHERE_MIN {
            return;
        }
        let leftovers: Box<dyn Send> = Box::new(leftovers);
        // Inside a scope the list takes them; without one (or with the thread's storage
        // gone, when they are freed right here) they come back to be freed elsewhere.
        let unclaimed = DEFERRED
            .try_with(|d| match d.borrow_mut().as_mut() {
                Some(list) => {
                    list.push(leftovers);
                    None
                }
                None => Some(leftovers),
            })
            .ok()
            .flatten();
        if let Some(leftovers) = unclaimed {
            // Should the thread not start, the closure (and the leftovers) is dropped here.
            let _ = std::thread::Builder::new()
                .name("query-free".into())
                .spawn(move || drop(leftovers));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::Labels;
    use sightline_storage_api::VecSampleIterator;

    #[test]
    fn a_released_series_reads_as_empty() {
        let mut s = Series {
            labels: Labels::from_pairs(vec![("a".to_string(), "b".to_string())]),
            samples: Box::new(VecSampleIterator::new(vec![Sample { t: 1, v: 1.0 }])),
        };
        release_series(&mut s);
        assert!(s.labels.is_empty());
        assert!(s.samples.next_sample().is_none());
        assert!(s.samples.seek(0).is_none());
        assert!(!s.samples.has_histograms());
        assert!(!s.samples.has_start_timestamps());
    }
}
