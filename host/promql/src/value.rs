//! Query results and the per-step values functions work on.

use std::sync::Arc;

use sightline_model::{Labels, Sample};

/// One sample of an instant vector result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// The series' labels.
    pub labels: Labels,
    /// The evaluation timestamp in milliseconds.
    pub t_ms: i64,
    /// The value.
    pub v: f64,
}

/// One series of a range vector (matrix) result.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples in time order.
    pub samples: Vec<Sample>,
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
    /// The value.
    pub v: f64,
    /// Whether `__name__` is removed when evaluation ends (delayed name removal).
    pub drop_name: bool,
}

/// The samples of one series inside a range selector's window.
#[derive(Debug, Clone)]
pub struct Window {
    /// The series' labels.
    pub labels: Arc<Labels>,
    /// Backing samples (shared).
    pub data: Arc<Vec<Sample>>,
    /// First index in the window.
    pub lo: usize,
    /// One past the last index in the window.
    pub hi: usize,
    /// Whether `__name__` is removed when evaluation ends.
    pub drop_name: bool,
    /// Start timestamps parallel to `data`, when the window comes straight from a range
    /// selector over a series that has them (subqueries and expressions cut them off).
    pub st: Option<Arc<Vec<i64>>>,
}

impl Window {
    /// The samples inside the window.
    pub fn samples(&self) -> &[Sample] {
        &self.data[self.lo..self.hi]
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
