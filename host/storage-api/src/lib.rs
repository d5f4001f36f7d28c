//! The storage seam between the writers (scrape, rules, remote-write receiver, import) and the
//! readers (PromQL, the HTTP API, federation), after Prometheus' `storage.Appendable` /
//! `storage.Queryable` split.
//!
//! Invariant: this crate names no storage engine. Scrape, PromQL and rules compile and test
//! against [`MemStorage`]; the TSDB crate implements the same traits underneath them.
//!
//! Boundary: the traits here are the only way other crates reach stored data.
#![deny(missing_docs)]

mod error;
mod mem;

pub use error::{Error, Result};
pub use mem::MemStorage;
pub use sightline_model::{
    FloatHistogram, Histogram, Labels, Matcher, Metadata, Sample, SeriesRef, TimestampMs,
};
use std::sync::Arc;

/// Something that hands out appenders: the write side of storage.
pub trait Appendable: Send + Sync {
    /// A new appender. Samples it receives are invisible to readers until
    /// [`Appender::commit`] returns `Ok`, and durable (per the backend's contract) from then on.
    fn appender(&self) -> Box<dyn Appender + '_>;

    /// Whether a commit may wait for the disk every time (e.g. an fsync per commit), so that
    /// async callers should move it off their runtime's worker threads. `false` when a
    /// commit only writes to memory and the page cache, with at most an occasional fsync.
    fn commit_may_block(&self) -> bool {
        false
    }
}

/// A batch of appends, committed or rolled back as a whole (one per scrape or rule evaluation).
pub trait Appender: Send {
    /// Appends one float sample. `series_ref` is the reference returned by an earlier append of
    /// the same label set (a cache hint; `None` or a stale reference falls back to `labels`).
    ///
    /// Sample-level rejections ([`Error::OutOfOrderSample`], [`Error::DuplicateSampleForTimestamp`],
    /// [`Error::OutOfBounds`]) drop only that sample: the batch stays usable and the caller
    /// counts them. Any other error poisons the batch and the caller must roll back.
    fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        v: f64,
    ) -> Result<SeriesRef>;

    /// Appends one float sample with its start timestamp `st` (the time the counter or delta
    /// started accumulating; OpenMetrics' `_created`, OTel's start time; 0 means unknown).
    /// Backends that do not store start timestamps keep the sample and drop `st`; the default
    /// does exactly that.
    fn append_with_start(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        st: TimestampMs,
        t: TimestampMs,
        v: f64,
    ) -> Result<SeriesRef> {
        let _ = st;
        self.append(series_ref, labels, t, v)
    }

    /// Appends one native-histogram sample with integer counts (what scrapes produce). A stale
    /// marker is a histogram whose `sum` is the stale NaN. The same rejections as
    /// [`Self::append`] apply; a series holds floats and histograms in time order, and a
    /// histogram at the time of a float (or the reverse) is a duplicate.
    ///
    /// Backends without histogram support answer [`Error::Unsupported`], which poisons the batch.
    fn append_histogram(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        h: &Histogram,
    ) -> Result<SeriesRef> {
        let _ = (series_ref, labels, t, h);
        Err(Error::Unsupported("native histograms"))
    }

    /// Appends one native-histogram sample with float counts (what rules and remote writers may
    /// produce). As [`Self::append_histogram`] otherwise.
    fn append_float_histogram(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        fh: &FloatHistogram,
    ) -> Result<SeriesRef> {
        let _ = (series_ref, labels, t, fh);
        Err(Error::Unsupported("native histograms"))
    }

    /// [`Self::append_float_histogram`] with the sample's start timestamp (`st`, 0 when
    /// unknown), read back by [`SampleIterator::start_timestamp`]. Backends that keep no start
    /// timestamps drop `st`.
    fn append_float_histogram_with_start(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        st: TimestampMs,
        t: TimestampMs,
        fh: &FloatHistogram,
    ) -> Result<SeriesRef> {
        let _ = st;
        self.append_float_histogram(series_ref, labels, t, fh)
    }

    /// Records metric metadata for a series (type, help, unit). Optional for backends.
    fn update_metadata(
        &mut self,
        _series_ref: SeriesRef,
        _labels: &Labels,
        _meta: &Metadata,
    ) -> Result<()> {
        Ok(())
    }

    /// Makes every append of this batch visible and durable.
    fn commit(self: Box<Self>) -> Result<()>;

    /// Discards every append of this batch.
    fn rollback(self: Box<Self>) -> Result<()>;
}

/// Something that opens queriers over a time range: the read side of storage.
pub trait Queryable: Send + Sync {
    /// A querier that sees samples with `min_t <= t <= max_t` (milliseconds, inclusive).
    fn querier(&self, min_t: TimestampMs, max_t: TimestampMs) -> Result<Box<dyn Querier + '_>>;
}

/// Hints a querier may use to read less (Prometheus' `SelectHints`).
#[derive(Debug, Clone, Default)]
pub struct SelectHints {
    /// Start of the data needed, in milliseconds.
    pub start: TimestampMs,
    /// End of the data needed, in milliseconds.
    pub end: TimestampMs,
    /// Query step in milliseconds (0 for instant queries).
    pub step: i64,
    /// The PromQL function applied, if any (e.g. `rate`).
    pub func: Option<String>,
}

/// A read view over a time range.
pub trait Querier: Send + Sync {
    /// Every series matching all `matchers`, sorted by labels when `sorted` is true.
    /// At least one matcher must match a non-empty value; callers enforce that rule.
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>>;

    /// The series `select(false, hints, matchers)` returns, handed over a batch at a time in
    /// the same order, so that a caller which reads and drops each batch before asking for the
    /// next never holds every series' iterator at once. The default hands over `select`'s
    /// result as one batch.
    fn select_batches<'s>(
        &'s self,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesBatches + 's>> {
        Ok(Box::new(OneBatch(Some(
            self.select(false, hints, matchers)?,
        ))))
    }

    /// Sorted distinct values of label `name` over series matching `matchers` (all series when
    /// `matchers` is empty).
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// Sorted distinct label names over series matching `matchers` (all series when empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>>;
}

/// Series handed over a batch at a time ([`Querier::select_batches`]).
pub trait SeriesBatches {
    /// The next batch, or `None` once every series was handed over.
    fn next_batch(&mut self) -> Result<Option<Vec<Series>>>;
}

/// All series in one batch.
pub struct OneBatch(pub Option<Vec<Series>>);

impl SeriesBatches for OneBatch {
    fn next_batch(&mut self) -> Result<Option<Vec<Series>>> {
        Ok(self.0.take())
    }
}

/// A series with its samples in the querier's time range, ascending by timestamp.
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples.
    pub samples: Box<dyn SampleIterator>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// Iterates samples in ascending time order.
pub trait SampleIterator: Send {
    /// The next sample.
    fn next_sample(&mut self) -> Option<Sample>;

    /// Advances to the first sample with `t >= min_t` and returns it. The default walks;
    /// backends override it to skip whole chunks.
    fn seek(&mut self, min_t: TimestampMs) -> Option<Sample> {
        loop {
            let s = self.next_sample()?;
            if s.t >= min_t {
                return Some(s);
            }
        }
    }

    /// The start timestamp of the sample most recently returned by [`Self::next_sample`] or
    /// [`Self::seek`]; 0 when unknown or when the backend stores none.
    fn start_timestamp(&self) -> TimestampMs {
        0
    }

    /// Whether this series may carry start timestamps at all. When false, readers skip
    /// [`Self::start_timestamp`] and keep no per-sample start timestamps.
    fn has_start_timestamps(&self) -> bool {
        false
    }

    /// The histogram of the sample most recently returned by [`Self::next_sample`] or
    /// [`Self::seek`], when that sample is a native-histogram sample; `None` for a float
    /// sample. For a histogram sample, the [`Sample`]'s `v` is meaningless: readers that know
    /// histograms must ask this first. Integer histograms are read as float histograms (as
    /// PromQL computes with them). A stale histogram marker is read as a float stale marker
    /// (`v` is the stale NaN and this returns `None`), so readers need one staleness check.
    fn histogram(&self) -> Option<&Arc<FloatHistogram>> {
        None
    }

    /// Whether this series may hold native-histogram samples at all. When false, readers skip
    /// [`Self::histogram`].
    fn has_histograms(&self) -> bool {
        false
    }

    /// Appends to `out` the samples [`Self::next_sample`] would return next while their
    /// timestamp is at most `until`, leaving stale markers out when `drop_stale`, and returns
    /// the first sample past `until` (consumed, as `next_sample` returned it) with the number
    /// of samples consumed up to `until`, stale markers included.
    ///
    /// For float series only: callers use it when neither [`Self::has_histograms`] nor
    /// [`Self::has_start_timestamps`] holds, as it keeps neither. The default calls
    /// `next_sample` per sample ([`next_until_by_sample`]); backends override it to decode
    /// without a dynamic call per sample.
    fn next_until(
        &mut self,
        until: TimestampMs,
        out: &mut Vec<Sample>,
        drop_stale: bool,
    ) -> (Option<Sample>, usize) {
        next_until_by_sample(self, until, out, drop_stale)
    }

    /// Drains the rest into a vector (convenience for tests and small reads).
    fn collect_all(&mut self) -> Vec<Sample> {
        let mut v = Vec::new();
        while let Some(s) = self.next_sample() {
            v.push(s);
        }
        v
    }
}

/// [`SampleIterator::next_until`] one [`SampleIterator::next_sample`] at a time: the
/// default, and the fallback of backends whose fast path does not cover a series.
pub fn next_until_by_sample<I: SampleIterator + ?Sized>(
    it: &mut I,
    until: TimestampMs,
    out: &mut Vec<Sample>,
    drop_stale: bool,
) -> (Option<Sample>, usize) {
    let mut n = 0;
    while let Some(s) = it.next_sample() {
        if s.t > until {
            return (Some(s), n);
        }
        n += 1;
        if !(drop_stale && sightline_model::is_stale_nan(s.v)) {
            out.push(s);
        }
    }
    (None, n)
}

/// A [`SampleIterator`] over an owned vector.
#[derive(Debug)]
pub struct VecSampleIterator {
    samples: Vec<Sample>,
    /// Start timestamps, parallel to `samples`, when the series has any.
    starts: Option<Vec<TimestampMs>>,
    /// Histograms, parallel to `samples`, when the series has any (`None` for float samples).
    hists: Option<Vec<Option<Arc<FloatHistogram>>>>,
    pos: usize,
}

impl VecSampleIterator {
    /// Iterates `samples`, which must be sorted by time.
    pub fn new(samples: Vec<Sample>) -> Self {
        VecSampleIterator {
            samples,
            starts: None,
            hists: None,
            pos: 0,
        }
    }

    /// Iterates `samples` with their start timestamps (`starts[i]` belongs to `samples[i]`;
    /// missing entries read as 0).
    pub fn with_start_timestamps(samples: Vec<Sample>, starts: Vec<TimestampMs>) -> Self {
        VecSampleIterator {
            samples,
            starts: Some(starts),
            hists: None,
            pos: 0,
        }
    }

    /// Adds histograms parallel to the samples (`hists[i]` belongs to `samples[i]`; `None` or a
    /// missing entry is a float sample). Stale histogram markers must already be float stale
    /// markers (see [`SampleIterator::histogram`]).
    pub fn with_histograms(mut self, hists: Vec<Option<Arc<FloatHistogram>>>) -> Self {
        self.hists = Some(hists);
        self
    }
}

impl SampleIterator for VecSampleIterator {
    fn start_timestamp(&self) -> TimestampMs {
        match (&self.starts, self.pos.checked_sub(1)) {
            (Some(st), Some(i)) => st.get(i).copied().unwrap_or(0),
            _ => 0,
        }
    }

    fn has_start_timestamps(&self) -> bool {
        self.starts.is_some()
    }

    fn histogram(&self) -> Option<&Arc<FloatHistogram>> {
        let i = self.pos.checked_sub(1)?;
        self.hists.as_ref()?.get(i)?.as_ref()
    }

    fn has_histograms(&self) -> bool {
        self.hists.is_some()
    }

    fn next_sample(&mut self) -> Option<Sample> {
        let s = self.samples.get(self.pos).copied();
        if s.is_some() {
            self.pos += 1;
        }
        s
    }

    fn seek(&mut self, min_t: TimestampMs) -> Option<Sample> {
        let rest = &self.samples[self.pos..];
        self.pos += rest.partition_point(|s| s.t < min_t);
        self.next_sample()
    }
}

/// Whether a series with `labels` matches every matcher (absent labels read as `""`).
pub fn labels_match(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get_or_empty(&m.name)))
}
