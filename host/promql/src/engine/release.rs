//! Giving storage memory back as soon as a series is read (issue 21: peak memory of queries).
//!
//! `Querier::select` returns every matching series at once, each with its own iterator holding
//! copies of the series' chunks (the head's open chunk is copied under its lock). A selector's
//! series are read one after another, so each one's iterator, chunk copies and read buffers are
//! released as soon as it has been read rather than when the whole selector has: the selector's
//! peak is then the larger of what storage returned and what the query keeps, not their sum.

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
    s.pending = None;
    s.pending_h = None;
    s.buf = Arc::new(Vec::new());
    s.st = None;
    s.hbuf = None;
    s.hst = None;
}

/// Cache and data entries past which an evaluation's leftovers are freed on a thread of
/// their own (below it, freeing them takes less than starting the thread).
const FREE_ELSEWHERE_MIN: usize = 10_000;

impl Ev<'_> {
    /// Hands what the evaluation holds once its value is built (the loaded series, the
    /// per-label-set caches, unread streams) to a short-lived thread that frees them, so the
    /// answer is rendered and sent meanwhile: on a large query freeing every label set and
    /// buffer took a tenth of an instant query's time, serially, at its end (the Go runtime
    /// frees Prometheus' concurrently too). Small leftovers are freed here.
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
        // Should the thread not start, the closure (and the leftovers) is dropped here.
        let _ = std::thread::Builder::new()
            .name("query-free".into())
            .spawn(move || drop(leftovers));
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
