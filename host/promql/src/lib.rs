//! sightline-promql: the PromQL parser, pretty-printer and evaluator.
//!
//! It owns the PromQL language (syntax tree, type checks, Prometheus' error messages), the
//! evaluation semantics (lookback, staleness, vector matching, aggregations, the function
//! table) and the query limits. It reads data only through `sightline_storage_api::Queryable`
//! and must not know which storage engine is underneath, nor anything about HTTP (the `api`
//! crate owns the JSON wire format).
//!
//! Design notes:
//! - The parser is our own (recursive descent with precedence climbing) rather than the
//!   `promql-parser` crate: it has to accept the Prometheus 3.x experimental syntax the
//!   conformance suite uses (duration expressions, `anchored`/`smoothed`, `fill*` modifiers,
//!   `info()`), carry byte positions on every node for annotations, and give Prometheus'
//!   messages (`1:5: parse error: unexpected end of input`).
//! - Evaluation first selects every selector's series once over the whole query range, then
//!   evaluates the tree step by step. Selectors of range queries are streamed through sliding
//!   buffers (memory bounded by the windows, not the range); selectors under subqueries are
//!   materialized, and materialized samples count against `max_samples`.
//! - `__name__` is removed lazily (Prometheus' delayed name removal): values carry a
//!   `drop_name` flag that is applied when evaluation ends.
//! - Functions live in a [`FunctionRegistry`]; a plugin adds one with
//!   [`FunctionRegistry::register`] and an [`Engine::with_registry`] engine evaluates it.
//! - Native histograms follow Prometheus' split of float and histogram points: an [`Elem`]
//!   carries an optional `Arc<FloatHistogram>`, a [`Window`] keeps its float `Sample`s and
//!   its [`HPoint`]s apart, so float-only series pay no per-sample histogram cost.
mod aggregate;
mod ast;
mod binary;
mod engine;
mod error;
mod functions;
mod fxhash;
mod head_hints;
mod lexer;
mod parallel;
mod parser;
pub mod quantile;
mod select;
mod series_desc;
mod stack;
mod stats_decoding;
mod value;

pub use ast::{
    AggregateExpr, AtModifier, BinModifiers, BinOp, Card, DurExpr, Expr, PosRange, ValueType,
    VectorSelector,
};
pub use engine::{defer_frees, Deferred, Engine, EngineOptions, QueryOptions, FREE_ELSEWHERE_MIN};
pub use error::{Error, ParseError, Result};
pub use functions::{FnCtx, FnImpl, FunctionDef, FunctionRegistry};
pub use head_hints::{compact_buckets, HeadHints};
pub use series_desc::{
    expand_series, expand_series_values, parse_series_desc, parse_series_labels, scan_float,
    split_series_desc, Histograms, SeriesStep, SeriesValue,
};
pub use stack::MAX_DEPTH;
pub use value::{
    Arg, Elem, FnOut, HPoint, MatrixArg, QueryResult, QueryStats, RangeSeries, Value, VectorSample,
    Window,
};

use sightline_model::Matcher;

/// Parses a PromQL expression with the built-in functions. `Expr`'s `Display` prints it as
/// Prometheus does; [`Expr::pretty`] is what `/api/v1/format_query` returns.
pub fn parse(expr: &str) -> Result<Expr, ParseError> {
    parser::parse_with(expr, &builtin_registry())
}

/// Parses a PromQL expression with the functions of `reg` (the built-ins and, in the daemon,
/// the query-function plugins).
pub fn parse_with(expr: &str, reg: &FunctionRegistry) -> Result<Expr, ParseError> {
    parser::parse_with(expr, reg)
}

/// Parses a series selector such as `up{job="x"}` (for `match[]`).
pub fn parse_selector(expr: &str) -> Result<Vec<Matcher>, ParseError> {
    parser::parse_selector(expr, &builtin_registry())
}

/// Parses a series selector exactly as Prometheus' `ParseMetricSelector` (for `/federate`):
/// selectors matching the empty string are accepted, and the errors are Prometheus' words.
pub fn parse_metric_selector(expr: &str) -> Result<Vec<Matcher>, ParseError> {
    parser::parse_metric_selector(expr, &builtin_registry())
}

fn builtin_registry() -> std::sync::Arc<FunctionRegistry> {
    static REG: std::sync::OnceLock<std::sync::Arc<FunctionRegistry>> = std::sync::OnceLock::new();
    REG.get_or_init(|| std::sync::Arc::new(FunctionRegistry::with_builtins()))
        .clone()
}
