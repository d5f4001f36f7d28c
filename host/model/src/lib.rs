//! Sightline's core value types: [`Labels`], [`Sample`], [`Matcher`], timestamps and the
//! Prometheus number formatting rules.
//!
//! This crate owns no IO and no async: every other host crate may depend on it, and it depends
//! on none of them. Domain types here deliberately do not derive `Serialize`; the `api` crate
//! owns the wire format and converts by hand.

mod error;
mod format;
pub mod histogram;
mod labels;
pub use labels::{is_valid_label_name, is_valid_metric_name};
mod matcher;
mod time;

pub use error::{Error, Result};
pub use format::{format_go_float, format_timestamp_secs};
pub use histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
pub use labels::{
    ArcStr, Label, Labels, LabelsBuilder, ALERT_NAME, BUCKET_LABEL, INSTANCE_LABEL, JOB_LABEL,
    METRIC_NAME, QUANTILE_LABEL,
};
pub use matcher::{MatchOp, Matcher};
pub use time::{format_duration, now_ms, parse_duration, DurationParseError};

/// A timestamp in milliseconds since the Unix epoch, as Prometheus stores it.
pub type TimestampMs = i64;

/// The bit pattern Prometheus uses to mark a series stale (`value.StaleNaN`).
///
/// It is a signalling-free NaN distinct from the NaN produced by arithmetic, so storage must
/// keep the exact bits: compare with [`is_stale_nan`], never with `==`.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The stale marker as an `f64`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is exactly the stale marker (not merely some NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Series reference handed out by an appender: an opaque handle that lets a caller skip label
/// hashing on subsequent appends of the same series. `0` is never a valid reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SeriesRef(pub u64);

/// One float sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub t: TimestampMs,
    /// The value; may be the stale marker.
    pub v: f64,
}

/// The metric type announced by `# TYPE`, as both exposition formats know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    #[default]
    Unknown,
}

impl MetricType {
    /// The name Prometheus' metadata API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// Per-metric-family metadata (`# TYPE`, `# HELP`, `# UNIT`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}
