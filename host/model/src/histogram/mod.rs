//! Native histograms: Prometheus' `model/histogram` (`Histogram`, `FloatHistogram`, spans,
//! schemas, custom buckets), with the same semantics and the same names in snake case.
//!
//! Layout, as in Prometheus: buckets are grouped in [`Span`]s (an `offset` from the end of the
//! previous span, or from index 0 for the first one, and a `length`). An integer
//! [`Histogram`] stores its bucket counts delta-encoded (each bucket as the difference from the
//! previous one, across spans); a [`FloatHistogram`] stores absolute counts.
//!
//! For exponential schemas (`-4..=8`) the upper bound of bucket `i` is `2^(i * 2^-schema)`;
//! with [`CUSTOM_BUCKETS_SCHEMA`] the bounds are `custom_values` (sorted, finite) and only
//! positive buckets exist: bucket `i` is `(custom_values[i-1], custom_values[i]]`, the last one
//! ending at `+Inf`.
//!
//! Files by responsibility: `generic.rs` (schema math, bounds, span reduction, compaction,
//! validation helpers, Go number formatting, Kahan summation; the bound table is in
//! `bounds.rs`), `iter.rs` (bucket iterators of both types), `float.rs` (copying, `String`,
//! scaling, equality, compaction, validation), `float_ops.rs` (add/sub/Kahan add, zero-bucket
//! and schema reconciliation, reset detection), `float_trim.rs` (`trim_buckets`), `int.rs`
//! (the integer histogram), `convert.rs` (custom buckets to classic series), `error.rs`.
//! Where Go panics on a misuse, these return an error (or stop iterating) instead.

use std::sync::Arc;

mod bounds;
mod convert;
mod error;
mod float;
mod float_ops;
mod float_trim;
mod generic;
mod int;
mod iter;
#[cfg(test)]
mod tests;

pub use convert::{convert_nhcb_to_classic, format_openmetrics_float, NhcbRef};
pub use error::{
    HistogramError, HistogramErrorKind, EXPONENTIAL_SCHEMA_MAX_RESERVED,
    EXPONENTIAL_SCHEMA_MIN_RESERVED,
};
pub use float_ops::AddOutcome;
pub use generic::{
    custom_bucket_bounds_match, get_bound, get_bound_exponential, go_g,
    is_exponential_schema_reserved, is_known_schema, is_valid_schema, kahan_dec, kahan_inc, Bucket,
    BucketCount,
};
pub use iter::{
    AllFloatBucketIterator, CumulativeBucketIterator, FloatBucketIterator, RegularBucketIterator,
    ReverseFloatBucketIterator,
};

/// The schema of native histograms with custom bucket boundaries (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// The smallest exponential schema.
pub const EXPONENTIAL_SCHEMA_MIN: i32 = -4;
/// The largest exponential schema.
pub const EXPONENTIAL_SCHEMA_MAX: i32 = 8;

/// What the writer knows about a counter reset at this sample (`histogram.CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CounterResetHint {
    /// Unknown: detect a reset by comparing with the previous sample.
    #[default]
    Unknown,
    /// A counter reset happened here.
    CounterReset,
    /// No counter reset happened here.
    NotCounterReset,
    /// The histogram is a gauge histogram: resets mean nothing.
    Gauge,
}

impl CounterResetHint {
    /// The two-bit code Prometheus' chunks and WAL records use.
    pub fn code(self) -> u8 {
        match self {
            CounterResetHint::Unknown => 0,
            CounterResetHint::CounterReset => 1,
            CounterResetHint::NotCounterReset => 2,
            CounterResetHint::Gauge => 3,
        }
    }

    /// The hint of a two-bit code (only the low two bits are read).
    pub fn from_code(c: u8) -> Self {
        match c & 3 {
            1 => CounterResetHint::CounterReset,
            2 => CounterResetHint::NotCounterReset,
            3 => CounterResetHint::Gauge,
            _ => CounterResetHint::Unknown,
        }
    }
}

/// A run of consecutive buckets: `offset` buckets after the previous span's end (for the first
/// span: after index 0), `length` buckets long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Gap to the previous span (may be negative only for the first span).
    pub offset: i32,
    /// Number of buckets.
    pub length: u32,
}

impl Span {
    /// A span.
    pub const fn new(offset: i32, length: u32) -> Self {
        Span { offset, length }
    }
}

/// A native histogram with integer counts (`histogram.Histogram`): what scrapes and client
/// libraries produce. Bucket counts are delta-encoded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    /// Counter reset knowledge.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: `-4..=8`, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Width of the zero bucket (`[-zero_threshold, zero_threshold]`).
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total observations (including NaN observations, so it may exceed the bucket total).
    pub count: u64,
    /// Sum of observations. A stale marker is a histogram whose `sum` is the stale NaN.
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<Span>,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts, delta-encoded.
    pub positive_buckets: Vec<i64>,
    /// Negative bucket counts, delta-encoded.
    pub negative_buckets: Vec<i64>,
    /// Upper bounds of the custom buckets (only with [`CUSTOM_BUCKETS_SCHEMA`]); shared between
    /// the samples of a series.
    pub custom_values: Arc<[f64]>,
}

/// A native histogram with float counts (`histogram.FloatHistogram`): what PromQL computes
/// with, and what a rule or a remote writer may store. Bucket counts are absolute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter reset knowledge.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: `-4..=8`, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<Span>,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts (absolute).
    pub positive_buckets: Vec<f64>,
    /// Negative bucket counts (absolute).
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (only with [`CUSTOM_BUCKETS_SCHEMA`]).
    pub custom_values: Arc<[f64]>,
}

/// Whether `schema` is the custom-buckets schema.
pub fn is_custom_buckets(schema: i32) -> bool {
    schema == CUSTOM_BUCKETS_SCHEMA
}

/// Whether `schema` is a valid exponential schema.
pub fn is_exponential_schema(schema: i32) -> bool {
    (EXPONENTIAL_SCHEMA_MIN..=EXPONENTIAL_SCHEMA_MAX).contains(&schema)
}

impl Histogram {
    /// Whether this sample is a stale marker.
    pub fn is_stale(&self) -> bool {
        crate::is_stale_nan(self.sum)
    }
}

impl FloatHistogram {
    /// Whether this sample is a stale marker.
    pub fn is_stale(&self) -> bool {
        crate::is_stale_nan(self.sum)
    }
}
