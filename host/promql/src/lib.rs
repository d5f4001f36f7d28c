//! sightline-promql: the PromQL parser, pretty-printer and evaluator.
//!
//! It owns the PromQL language (syntax tree, type checks, Prometheus' error messages), the
//! evaluation semantics (lookback, staleness, vector matching, aggregations, the function
//! table) and the query limits. It reads data only through `sightline_storage_api::Queryable`
//! and must not know which storage engine is underneath, nor anything about HTTP.

mod aggregate;
mod ast;
mod binary;
mod engine;
mod error;
mod functions;
mod fxhash;
mod lexer;
mod parser;
mod value;

pub use ast::{
    AggregateExpr, AtModifier, BinModifiers, BinOp, Card, DurExpr, Expr, PosRange, ValueType,
    VectorSelector,
};
pub use engine::{Engine, EngineOptions};
pub use error::{Error, ParseError, Result};
pub use functions::{FnCtx, FnImpl, FunctionDef, FunctionRegistry};
pub use value::{
    Arg, Elem, FnOut, MatrixArg, QueryResult, RangeSeries, Value, VectorSample, Window,
};

use sightline_model::Matcher;

/// Parses a PromQL expression with the built-in functions.
pub fn parse(expr: &str) -> Result<Expr, ParseError> {
    parser::parse_with(expr, &builtin_registry())
}

/// Parses a series selector such as `up{job="x"}` (for `match[]`).
pub fn parse_selector(expr: &str) -> Result<Vec<Matcher>, ParseError> {
    parser::parse_selector(expr, &builtin_registry())
}

fn builtin_registry() -> std::sync::Arc<FunctionRegistry> {
    static REG: std::sync::OnceLock<std::sync::Arc<FunctionRegistry>> = std::sync::OnceLock::new();
    REG.get_or_init(|| std::sync::Arc::new(FunctionRegistry::with_builtins()))
        .clone()
}
