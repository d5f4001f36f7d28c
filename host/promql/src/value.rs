//! Query results and the per-step values functions work on.

use std::sync::Arc;

use sightline_model::{FloatHistogram, Labels, Sample};

/// One native-histogram point of a series (Prometheus' `HPoint`): float points stay plain
/// [`Sample`]s (`FPoint`) so that float-only paths carry no histogram overhead.
#[derive(Debug, Clone, PartialEq)]
pub struct HPoint {
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The histogram (shared: selectors hand out the stored one without copying).
    pub h: Arc<FloatHistogram>,
}

/// One sample of an instant vector result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// The series' labels.
    pub labels: Labels,
    /// The evaluation timestamp in milliseconds.
    pub t_ms: i64,
    /// The float value (meaningless when `h` is set).
    pub v: f64,
    /// The native histogram, when the sample is one (rendered as `histogram`).
    pub h: Option<Arc<FloatHistogram>>,
}

/// One series of a range vector (matrix) result.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Its float samples in time order (rendered as `values`).
    pub samples: Vec<Sample>,
    /// Its native-histogram samples in time order (rendered as `histograms`).
    pub histograms: Vec<HPoint>,
}

/// A query's result value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar {
        /// Evaluation time.
        t_ms: i64,
        /// The value.
        v: f64,
    },
    /// A string.
    String {
        /// Evaluation time.
        t_ms: i64,
        /// The value.
        s: String,
    },
    /// An instant vector.
    Vector(Vec<VectorSample>),
    /// A range vector.
    Matrix(Vec<RangeSeries>),
}

impl Value {
    /// Prometheus' `resultType` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A query's value with its annotations, rendered as the HTTP API renders them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// `PromQL warning: ...` annotations.
    pub warnings: Vec<String>,
    /// `PromQL info: ...` annotations.
    pub infos: Vec<String>,
    /// What the evaluation cost (the HTTP API's `stats=all`).
    pub stats: QueryStats,
}

/// What one evaluation cost, as Prometheus' `stats` object reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage (Prometheus' `totalQueryableSamples`): every sample the
    /// selectors loaded or streamed, counted once however many steps used it.
    pub total_queryable_samples: u64,
    /// The most samples held at once while evaluating (Prometheus' `peakSamples`; the figure
    /// `--query.max-samples` bounds).
    pub peak_samples: u64,
    /// Time spent reading the selectors' data before evaluation (`queryPreparationTime`).
    pub prepare: std::time::Duration,
    /// Time spent evaluating after the data was read (`innerEvalTime`).
    pub inner_eval: std::time::Duration,
}

/// An element of an instant vector during evaluation.
#[derive(Debug, Clone)]
pub struct Elem {
    /// Labels, shared cheaply between steps.
    pub labels: Arc<Labels>,
    /// The timestamp of the sample the value came from (the step time for computed values).
    pub t: i64,
    /// The float value (meaningless when `h` is set; by convention 0).
    pub v: f64,
    /// The native histogram, when the element is one (Prometheus' `Sample.H`).
    pub h: Option<Arc<FloatHistogram>>,
    /// Whether `__name__` is removed when evaluation ends (delayed name removal).
    pub drop_name: bool,
}

impl Elem {
    /// A float element.
    pub fn float(labels: Arc<Labels>, t: i64, v: f64, drop_name: bool) -> Self {
        Elem {
            labels,
            t,
            v,
            h: None,
            drop_name,
        }
    }

    /// A native-histogram element.
    pub fn histogram(labels: Arc<Labels>, t: i64, h: Arc<FloatHistogram>, drop_name: bool) -> Self {
        Elem {
            labels,
            t,
            v: 0.0,
            h: Some(h),
            drop_name,
        }
    }
}

/// The samples of one series inside a range selector's window: its float points
/// ([`Self::samples`]) and, apart, its native-histogram points ([`Self::histograms`]), as
/// Prometheus' `Series{Floats, Histograms}`.
#[derive(Debug, Clone)]
pub struct Window {
    /// The series' labels.
    pub labels: Arc<Labels>,
    /// Backing float samples (shared).
    pub data: Arc<Vec<Sample>>,
    /// First index in the window.
    pub lo: usize,
    /// One past the last index in the window.
    pub hi: usize,
    /// Backing histogram points (shared), when the series has any.
    pub hdata: Option<Arc<Vec<HPoint>>>,
    /// First index of `hdata` in the window.
    pub hlo: usize,
    /// One past the last index of `hdata` in the window.
    pub hhi: usize,
    /// Start timestamps parallel to `hdata`, when the window comes straight from a range
    /// selector over a series that has them.
    pub hst: Option<Arc<Vec<i64>>>,
    /// Whether `__name__` is removed when evaluation ends.
    pub drop_name: bool,
    /// Start timestamps parallel to `data`, when the window comes straight from a range
    /// selector over a series that has them (subqueries and expressions cut them off).
    pub st: Option<Arc<Vec<i64>>>,
    /// Whether the window's floats are known to have no value below the one before it (no
    /// counter reset), so `rate` and `increase` need not look for one; `false` when not
    /// known.
    pub no_drop: bool,
}

impl Window {
    /// A window of float samples only.
    pub fn floats(labels: Arc<Labels>, data: Arc<Vec<Sample>>, lo: usize, hi: usize) -> Self {
        Window {
            labels,
            data,
            lo,
            hi,
            hdata: None,
            hlo: 0,
            hhi: 0,
            hst: None,
            drop_name: false,
            st: None,
            no_drop: false,
        }
    }

    /// The float samples inside the window.
    pub fn samples(&self) -> &[Sample] {
        &self.data[self.lo..self.hi]
    }

    /// The start timestamps of [`Self::histograms`] (0 = unknown), if the series has any.
    pub fn histogram_start_timestamps(&self) -> Option<&[i64]> {
        self.hst.as_ref().and_then(|s| s.get(self.hlo..self.hhi))
    }

    /// The native-histogram samples inside the window (empty for a float-only series).
    pub fn histograms(&self) -> &[HPoint] {
        match &self.hdata {
            Some(h) => h.get(self.hlo..self.hhi).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The start timestamps of [`Self::samples`] (0 = unknown), if the series has any.
    pub fn start_timestamps(&self) -> Option<&[i64]> {
        self.st.as_ref().and_then(|s| s.get(self.lo..self.hi))
    }
}

/// A range vector argument: windows plus their bounds.
#[derive(Debug, Clone)]
pub struct MatrixArg {
    /// One window per series.
    pub series: Vec<Window>,
    /// Window start (exclusive), milliseconds.
    pub start: i64,
    /// Window end (inclusive), milliseconds.
    pub end: i64,
    /// The range in milliseconds.
    pub range: i64,
}

/// A function argument at one evaluation step.
#[derive(Debug, Clone)]
pub enum Arg {
    /// A scalar.
    Scalar(f64),
    /// A string.
    Str(String),
    /// An instant vector.
    Vector(Vec<Elem>),
    /// A range vector.
    Matrix(MatrixArg),
}

impl Arg {
    /// The scalar, or NaN for other kinds.
    pub fn scalar(&self) -> f64 {
        match self {
            Arg::Scalar(v) => *v,
            _ => f64::NAN,
        }
    }

    /// The string, or `""` for other kinds.
    pub fn str(&self) -> &str {
        match self {
            Arg::Str(s) => s,
            _ => "",
        }
    }
}

/// What a function returns at one step.
#[derive(Debug, Clone)]
pub enum FnOut {
    /// A scalar.
    Scalar(f64),
    /// An instant vector.
    Vector(Vec<Elem>),
}
