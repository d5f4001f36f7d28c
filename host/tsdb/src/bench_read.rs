//! Read-path entry points for the criterion benches (`bench_support`): the head's postings
//! and label building without the WAL, and the query's per-series sample iterator.

use std::sync::Arc;

use sightline_model::{Labels, Matcher, TimestampMs};
use sightline_storage_api::SampleIterator;

use crate::head::HeadInner;
use crate::postings;
use crate::query::SeriesIter;
use crate::store::StoredChunk;

/// A head holding only series (labels, postings, empty chunks), built without a WAL so a
/// bench can hold a million series in a few seconds.
pub struct BenchHead(HeadInner);

impl BenchHead {
    /// Creates the series of `label_sets` in order, as the appender does.
    pub fn new(label_sets: impl IntoIterator<Item = Labels>) -> Self {
        let mut h = HeadInner::new(2 * 3_600_000, 0);
        for l in label_sets {
            h.create(None, l.stable_hash(), &l);
        }
        BenchHead(h)
    }

    /// Resolves `matchers` to series ids with the read path's postings code
    /// (`PostingsForMatchers`); errors read as no series.
    pub fn select(&self, matchers: &[Matcher]) -> Vec<u64> {
        postings::select(&self.0, matchers).unwrap_or_default()
    }

    /// Builds the label sets of `ids` from the head's interned form, as a `select` does.
    pub fn labels_for(&self, ids: &[u64]) -> Vec<Labels> {
        self.0.labels_for(ids)
    }
}

/// Iterates one series over `chunks` (`(min_t, max_t, bytes)`, non-overlapping) with the
/// query's sample iterator; returns the samples read.
pub fn iterate_series(chunks: &[(TimestampMs, TimestampMs, Arc<[u8]>)]) -> usize {
    let mut it = series_iter(chunks);
    let mut n = 0;
    while it.next_sample().is_some() {
        n += 1;
    }
    n
}

/// Seeks the query's sample iterator to each of `targets` (ascending) in turn, as a range
/// query's steps do; returns the samples found.
pub fn seek_series(
    chunks: &[(TimestampMs, TimestampMs, Arc<[u8]>)],
    targets: &[TimestampMs],
) -> usize {
    let mut it = series_iter(chunks);
    targets.iter().filter(|&&t| it.seek(t).is_some()).count()
}

fn series_iter(chunks: &[(TimestampMs, TimestampMs, Arc<[u8]>)]) -> SeriesIter {
    let stored = chunks
        .iter()
        .map(|(min_t, max_t, data)| StoredChunk {
            min_t: *min_t,
            max_t: *max_t,
            data: data.clone(),
        })
        .collect();
    SeriesIter::new(stored, Vec::new(), i64::MIN, i64::MAX, Vec::new())
}
