//! Sightline's own instrumentation: a small registry of counters, gauges and histograms with
//! label vectors, plus the standard `process_*` metrics read from `/proc/self`.
//!
//! Why not the `prometheus` or `prometheus-client` crates: each encodes only one of the two
//! exposition formats we must serve, and both pull their own label and encoding types into
//! every subsystem. Here a subsystem holds plain atomics; [`Registry::gather`] turns them into
//! [`Family`] snapshots and the exposition crate encodes them in either format.
//!
//! Invariant: this crate does no encoding and no IO except reading `/proc/self` in
//! [`process_families`]. It also holds [`supervise`], the restart-on-panic wrapper every
//! background loop runs in, because every crate that spawns one already depends on it.
//! Metric names live in [`names`], one place, as constants.

mod metrics;
pub mod names;
mod process;
pub mod supervise;

pub use metrics::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, Registry, DEFAULT_BUCKETS,
};
pub use process::{disable_transparent_huge_pages, process_families};

use sightline_model::{Labels, MetricType};

/// One sample of a gathered family: the suffix (`""`, `_bucket`, `_sum`, `_count`, `_total`
/// is part of the name given by the family type), extra labels and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// Name suffix appended to the family name (e.g. `_bucket`, `_sum`, `_count`, `_total`).
    pub suffix: &'static str,
    /// Labels of the sample, without `__name__`.
    pub labels: Labels,
    /// The value.
    pub value: f64,
}

/// A gathered metric family, ready for encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Family name; for counters without the `_total` suffix (OpenMetrics style).
    pub name: String,
    /// HELP text.
    pub help: String,
    /// Metric type.
    pub metric_type: MetricType,
    /// Samples.
    pub samples: Vec<FamilySample>,
}

impl Family {
    /// A family of one unlabelled sample.
    pub fn single(name: &str, help: &str, metric_type: MetricType, value: f64) -> Family {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            metric_type,
            samples: vec![FamilySample {
                suffix: "",
                labels: Labels::empty(),
                value,
            }],
        }
    }
}
