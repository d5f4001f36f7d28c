//! The function registry and every built-in PromQL function.
//!
//! Functions are looked up by name; a plugin adds its own with [`FunctionRegistry::register`]
//! without touching the evaluator.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Datelike, TimeZone, Timelike};
use sightline_model::{Labels, LabelsBuilder, MatchOp, Sample};

use crate::ast::{fmt_number, Expr, PosRange, ValueType};
use crate::engine::{pos_str, Annotations};
use crate::error::{Error, Result};
use crate::quantile::{bucket_fraction, bucket_quantile, ClassicBucket};
use crate::value::{Arg, Elem, FnOut, MatrixArg};

mod hist_range;
mod histogram;
mod labels;
mod math;
mod over_time;
mod rate;

/// What a function sees at one evaluation step besides its arguments.
pub struct FnCtx<'a> {
    /// The step's timestamp in milliseconds.
    pub ts: i64,
    /// The query's start in milliseconds.
    pub start: i64,
    /// The query's end in milliseconds.
    pub end: i64,
    /// The query step in milliseconds (0 for instant queries).
    pub step: i64,
    /// Whether this is a range query.
    pub is_range_query: bool,
    /// The argument expressions.
    pub args: &'a [Expr],
    /// The call's position in the query.
    pub call_pos: PosRange,
    pub(crate) text: &'a str,
    pub(crate) ann: &'a mut Annotations,
    pub(crate) label_cache: &'a mut crate::fxhash::FxMap<(usize, u64), Arc<Labels>>,
    pub(crate) hash_cache: &'a mut crate::fxhash::FxMap<(usize, usize), (Arc<Labels>, u64, f64)>,
    /// The entries either cache may hold before it is emptied (grows with the query's
    /// selection).
    pub(crate) cache_cap: usize,
}

impl FnCtx<'_> {
    /// Adds a `PromQL warning:` annotation pointing at `pos`.
    pub fn warn(&mut self, msg: &str, pos: PosRange) {
        let s = format!("PromQL warning: {msg} {}", pos_str(self.text, pos));
        self.ann.warn(s);
    }

    /// Adds a `PromQL info:` annotation pointing at `pos`.
    pub fn info(&mut self, msg: &str, pos: PosRange) {
        let s = format!("PromQL info: {msg} {}", pos_str(self.text, pos));
        self.ann.info(s);
    }

    /// A label set built once per query for `key` (per call site) and shared by every step,
    /// which keeps range queries from rebuilding and rehashing identical label sets.
    pub fn cached_labels(&mut self, key: u64, make: impl FnOnce() -> Labels) -> Arc<Labels> {
        if self.label_cache.len() > self.cache_cap {
            self.label_cache.clear();
        }
        self.label_cache
            .entry((self.call_pos.start, key))
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }

    /// The position of argument `i` (the call's position when absent).
    pub fn arg_pos(&self, i: usize) -> PosRange {
        self.args.get(i).map(|a| a.pos()).unwrap_or(self.call_pos)
    }
}

/// A function implementation.
pub type FnImpl = Arc<dyn Fn(&mut FnCtx<'_>, Vec<Arg>) -> Result<FnOut> + Send + Sync>;

/// A registered function.
#[derive(Clone)]
pub struct FunctionDef {
    /// The name.
    pub name: String,
    /// Argument types; the last repeats when `variadic`.
    pub arg_types: Vec<ValueType>,
    /// How many trailing arguments may be left out.
    pub optional: usize,
    /// Whether the last argument type repeats without limit.
    pub variadic: bool,
    /// The return type.
    pub return_type: ValueType,
    /// The implementation.
    pub imp: FnImpl,
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionDef")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Name → function table.
#[derive(Clone, Debug, Default)]
pub struct FunctionRegistry {
    map: HashMap<String, FunctionDef>,
}

impl FunctionRegistry {
    /// An empty registry.
    pub fn empty() -> Self {
        FunctionRegistry {
            map: HashMap::new(),
        }
    }

    /// Every built-in PromQL function.
    pub fn with_builtins() -> Self {
        let mut r = FunctionRegistry::empty();
        register_builtins(&mut r);
        r
    }

    /// Adds or replaces a function.
    pub fn register(&mut self, def: FunctionDef) {
        self.map.insert(def.name.clone(), def);
    }

    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<&FunctionDef> {
        self.map.get(name)
    }

    /// Every registered name.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.map.keys().map(String::as_str).collect();
        v.sort();
        v
    }
}

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

fn reg(
    r: &mut FunctionRegistry,
    name: &str,
    args: &[ValueType],
    optional: usize,
    variadic: bool,
    ret: ValueType,
    imp: FnImpl,
) {
    r.register(FunctionDef {
        name: name.to_string(),
        arg_types: args.to_vec(),
        optional,
        variadic,
        return_type: ret,
        imp,
    });
}

/// Neumaier-compensated summation step (Prometheus' `kahanSumInc`).
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Prometheus' `quantile` over plain values.
pub(crate) fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

fn elem(labels: Arc<Labels>, ts: i64, v: f64, drop: bool) -> Elem {
    Elem::float(labels, ts, v, drop)
}

/// A series' metric name (empty without one).
pub(crate) fn metric_name(l: &Labels) -> &str {
    l.metric_name().unwrap_or("")
}

/// Prometheus' `maybeAddMetricName`: ` for metric name "x"` unless the name is empty.
pub(crate) fn with_metric_name(msg: &str, name: &str) -> String {
    if name.is_empty() {
        msg.to_string()
    } else {
        format!("{msg} for metric name {name:?}")
    }
}

fn take_vec(a: &mut [Arg], i: usize) -> Vec<Elem> {
    match a.get_mut(i) {
        Some(Arg::Vector(v)) => std::mem::take(v),
        _ => vec![],
    }
}

fn take_mat(a: &mut [Arg], i: usize) -> MatrixArg {
    match a.get_mut(i) {
        Some(Arg::Matrix(m)) => std::mem::replace(
            m,
            MatrixArg {
                series: vec![],
                start: 0,
                end: 0,
                range: 0,
            },
        ),
        _ => MatrixArg {
            series: vec![],
            start: 0,
            end: 0,
            range: 0,
        },
    }
}

fn register_builtins(r: &mut FunctionRegistry) {
    math::register(r);
    labels::register(r);
    histogram::register(r);
    rate::register(r);
    over_time::register(r);
}
