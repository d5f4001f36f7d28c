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
pub use sightline_model::{Labels, Matcher, Metadata, Sample, SeriesRef, TimestampMs};

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

    /// Sorted distinct values of label `name` over series matching `matchers` (all series when
    /// `matchers` is empty).
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// Sorted distinct label names over series matching `matchers` (all series when empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>>;
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

    /// Drains the rest into a vector (convenience for tests and small reads).
    fn collect_all(&mut self) -> Vec<Sample> {
        let mut v = Vec::new();
        while let Some(s) = self.next_sample() {
            v.push(s);
        }
        v
    }
}

/// A [`SampleIterator`] over an owned vector.
#[derive(Debug)]
pub struct VecSampleIterator {
    samples: Vec<Sample>,
    /// Start timestamps, parallel to `samples`, when the series has any.
    starts: Option<Vec<TimestampMs>>,
    pos: usize,
}

impl VecSampleIterator {
    /// Iterates `samples`, which must be sorted by time.
    pub fn new(samples: Vec<Sample>) -> Self {
        VecSampleIterator {
            samples,
            starts: None,
            pos: 0,
        }
    }

    /// Iterates `samples` with their start timestamps (`starts[i]` belongs to `samples[i]`;
    /// missing entries read as 0).
    pub fn with_start_timestamps(samples: Vec<Sample>, starts: Vec<TimestampMs>) -> Self {
        VecSampleIterator {
            samples,
            starts: Some(starts),
            pos: 0,
        }
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
