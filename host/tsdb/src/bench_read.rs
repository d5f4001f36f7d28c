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

    /// Bytes of the head's postings index (lists with their slack, headers, tree entries).
    pub fn postings_bytes(&self) -> usize {
        self.0.postings_bytes()
    }

    /// Trims the postings lists' growth slack as maintenance does; returns the bytes freed.
    pub fn trim_postings(&mut self) -> usize {
        self.0.trim_postings()
    }

    /// Builds the label sets of `ids`    /// Builds the label sets of `ids` from the head's interned form, as a `select` does.
    pub fn labels_for(&self, ids: &[u64]) -> Vec<Labels> {
        self.0.labels_for(ids)
    }
}

/// Counts the `values` a regex matcher accepts, with the matcher's compiled regex alone
/// (`fast == false`) or through the postings code's fast paths (`fast == true`).
pub fn regex_count(m: &Matcher, values: &[&str], fast: bool) -> usize {
    if fast {
        postings::fast_regex_count(m, values, 1)
    } else {
        values.iter().filter(|v| m.matches(v)).count()
    }
}

/// Analyses a regex matcher's pattern for its fast paths, as `select` does once per call.
pub fn regex_analyse(m: &Matcher) -> usize {
    postings::fast_regex_count(m, &[], 0)
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
