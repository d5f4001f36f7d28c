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
        if self.label_cache.len() > 200_000 {
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
    Elem {
        labels,
        t: ts,
        v,
        drop_name: drop,
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

fn math_fn(r: &mut FunctionRegistry, name: &str, f: fn(f64) -> f64) {
    reg(
        r,
        name,
        &[V],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, f(e.v), true))
                    .collect(),
            ))
        }),
    );
}

/// A range function computing one float per window (or none).
fn over_time(r: &mut FunctionRegistry, name: &str, drop: bool, f: fn(&[Sample]) -> Option<f64>) {
    window_fn(r, name, drop, move |s, _| f(s));
}

/// A range function computing one float per window from its samples and their start
/// timestamps (only `irate` and `resets` look at those, as in Prometheus).
fn over_time_st(
    r: &mut FunctionRegistry,
    name: &str,
    f: fn(&[Sample], Option<&[i64]>) -> Option<f64>,
) {
    window_fn(r, name, true, f);
}

fn window_fn(
    r: &mut FunctionRegistry,
    name: &str,
    drop: bool,
    f: impl Fn(&[Sample], Option<&[i64]>) -> Option<f64> + Send + Sync + 'static,
) {
    reg(
        r,
        name,
        &[M],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let m = take_mat(&mut a, 0);
            let mut out = Vec::with_capacity(m.series.len());
            for w in m.series {
                let s = w.samples();
                if s.is_empty() {
                    continue;
                }
                if let Some(v) = f(s, w.start_timestamps()) {
                    out.push(elem(w.labels.clone(), ctx.ts, v, drop || w.drop_name));
                }
            }
            Ok(FnOut::Vector(out))
        }),
    );
}

fn linear_regression(s: &[Sample], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].v;
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

/// `__name__` and `__type__` without binary searches: labels starting with `__` sort before
/// every lowercase name, so a short scan from the front finds them.
fn name_and_type(l: &Labels) -> (Option<&str>, Option<&str>) {
    let (mut name, mut typ) = (None, None);
    for lb in l.iter() {
        let first = lb.name.as_bytes().first().copied().unwrap_or(0);
        if first > b'_' {
            break;
        }
        if lb.name == "__name__" {
            name = Some(lb.value.as_str());
        } else if lb.name == "__type__" {
            typ = Some(lb.value.as_str());
        }
    }
    (name, typ)
}

fn has_counter_suffix(name: &str) -> bool {
    name.ends_with("_total")
        || name.ends_with("_sum")
        || name.ends_with("_count")
        || name.ends_with("_bucket")
}

/// Whether a start timestamp says the counter restarted between two samples (Prometheus'
/// `isStartTimestampReset`): the current start lies after the previous sample, or points at it
/// while the previous sample had a known start of its own (a delta series).
fn is_start_timestamp_reset(prev_st: i64, prev_t: i64, cur_st: i64, cur_t: i64) -> bool {
    // Unset (0), invalid (after the sample) or OTel's "unknown start" (equal to it).
    if cur_st == 0 || cur_st >= cur_t || cur_st < prev_t {
        return false;
    }
    if cur_st > prev_t {
        return true;
    }
    // cur_st == prev_t: a delta point, or a cumulative one with an unknown start.
    if prev_st > prev_t {
        return false;
    }
    prev_st != 0 && prev_st != prev_t
}

/// Whether a sample's start timestamp overlaps the previous sample (Prometheus'
/// `checkStartTimeOverlap`), which earns a warning.
fn start_time_overlaps(prev_st: i64, prev_t: i64, cur_st: i64) -> bool {
    cur_st != 0 && cur_st < prev_t && cur_st != prev_st
}

const START_TIME_OVERLAP: &str =
    "sample has start time that overlaps with previous sample timestamp for metric";

/// Prometheus' `extrapolatedRate`, with its use of stored start timestamps: a reset shown by a
/// start timestamp counts like a value drop, and a first sample whose start lies inside the
/// window stands for a zero at that start instead of extrapolating to the left.
/// Returns the value and whether start timestamps overlapped (a warning).
fn extrapolated_rate(
    s: &[Sample],
    sts: Option<&[i64]>,
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
) -> (Option<f64>, bool) {
    if s.is_empty() {
        return (None, false);
    }
    let sts = if is_counter { sts.unwrap_or(&[]) } else { &[] };
    let first = s[0];
    let last = s[s.len() - 1];
    let mut result = last.v - first.v;
    let mut overlap = false;
    if is_counter {
        for i in 1..s.len() {
            let (prev, cur) = (s[i - 1], s[i]);
            let st_reset = match (sts.get(i - 1), sts.get(i)) {
                (Some(&prev_st), Some(&cur_st)) => {
                    overlap |= start_time_overlaps(prev_st, prev.t, cur_st);
                    is_start_timestamp_reset(prev_st, prev.t, cur_st, cur.t)
                }
                _ => false,
            };
            if cur.v < prev.v || st_reset {
                result += prev.v;
            }
        }
    }
    let mut dur_to_start = (first.t - m.start) as f64 / 1000.0;
    let mut dur_to_end = (m.end - last.t) as f64 / 1000.0;
    let mut sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = if s.len() > 1 {
        sampled / (s.len() - 1) as f64
    } else {
        0.0
    };
    let threshold = avg * 1.1;
    match sts.first() {
        Some(&st0) if st0 != 0 && st0 > m.start && st0 < first.t => {
            // A zero at the first sample's start replaces extrapolation to the left.
            dur_to_start = 0.0;
            sampled = (last.t - st0) as f64 / 1000.0;
            result += first.v;
        }
        _ if s.len() < 2 => return (None, overlap),
        _ => {
            if dur_to_start >= threshold {
                dur_to_start = avg / 2.0;
            }
            if is_counter {
                let mut dur_to_zero = dur_to_start;
                if result > 0.0 && first.v >= 0.0 {
                    dur_to_zero = sampled * (first.v / result);
                }
                if dur_to_zero < dur_to_start {
                    dur_to_start = dur_to_zero;
                }
            }
        }
    }
    if dur_to_end >= threshold {
        dur_to_end = avg / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + dur_to_start + dur_to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= m.range as f64 / 1000.0;
    }
    (Some(result * factor), overlap)
}

/// The value a series had at `t` by linear interpolation between neighbours (for anchored and
/// smoothed selectors).
fn interpolate(s: &[Sample], t: i64, smoothed: bool, is_counter: bool) -> Option<f64> {
    let idx = s.partition_point(|p| p.t <= t);
    if idx == 0 {
        return s.first().map(|p| p.v);
    }
    let a = s[idx - 1];
    if a.t == t || !smoothed || idx >= s.len() {
        return Some(a.v);
    }
    let b = s[idx];
    let f = (t - a.t) as f64 / (b.t - a.t) as f64;
    if is_counter && b.v < a.v {
        // A counter reset between the neighbours: the counter restarted from zero.
        return Some(b.v * f);
    }
    Some(a.v + (b.v - a.v) * f)
}

/// Rate/increase/delta over an anchored or smoothed window.
fn extended_rate(
    s: &[Sample],
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
    smoothed: bool,
) -> Option<f64> {
    // Samples strictly inside (start, end].
    let inside: Vec<Sample> = s
        .iter()
        .copied()
        .filter(|p| p.t > m.start && p.t <= m.end)
        .collect();
    let vstart = interpolate(s, m.start, smoothed, is_counter)?;
    let vend = if smoothed {
        interpolate(s, m.end, true, is_counter)?
    } else {
        inside.last().map(|p| p.v).unwrap_or(vstart)
    };
    let mut pts = vec![Sample {
        t: m.start,
        v: vstart,
    }];
    pts.extend(inside.iter().copied());
    if smoothed {
        if pts.last().is_some_and(|p| p.t != m.end) {
            pts.push(Sample { t: m.end, v: vend });
        } else if let Some(p) = pts.last_mut() {
            p.v = vend;
        }
    }
    if pts.len() < 2 && !smoothed {
        return None;
    }
    let mut result = pts[pts.len() - 1].v - pts[0].v;
    if is_counter {
        let mut prev = pts[0].v;
        for p in &pts[1..] {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    if is_rate {
        result /= m.range as f64 / 1000.0;
    }
    Some(result)
}

fn rate_fn(r: &mut FunctionRegistry, name: &'static str, is_counter: bool, is_rate: bool) {
    reg(
        r,
        name,
        &[M],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let m = take_mat(&mut a, 0);
            let (anchored, smoothed) = match ctx.args.first() {
                Some(Expr::Matrix { vs, .. }) => (vs.anchored, vs.smoothed),
                _ => (false, false),
            };
            let mut out = Vec::with_capacity(m.series.len());
            for w in &m.series {
                let s = w.samples();
                let v = if anchored || smoothed {
                    extended_rate(s, &m, is_counter, is_rate, smoothed)
                } else {
                    let (v, overlap) =
                        extrapolated_rate(s, w.start_timestamps(), &m, is_counter, is_rate);
                    if overlap {
                        warn_start_overlap(ctx, &w.labels);
                    }
                    v
                };
                // Each series is checked once per query: reading its labels every step costs
                // cache misses on large range queries.
                let first_visit = is_counter && !s.is_empty() && {
                    let key = (
                        ctx.call_pos.start | (1 << 48),
                        Arc::as_ptr(&w.labels) as usize,
                    );
                    match ctx.hash_cache.entry(key) {
                        std::collections::hash_map::Entry::Occupied(_) => false,
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert((w.labels.clone(), 0, 0.0));
                            true
                        }
                    }
                };
                if first_visit {
                    let (name, typ) = name_and_type(&w.labels);
                    if let Some(n) = name {
                        if let Some(t) = typ {
                            if t != "counter" && t != "histogram" {
                                let msg = format!("metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\": {n:?}");
                                let p = ctx.arg_pos(0);
                                ctx.info(&msg, p);
                            }
                        } else if !has_counter_suffix(n) {
                            let msg = format!(
                                "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {n:?}"
                            );
                            let p = ctx.arg_pos(0);
                            ctx.info(&msg, p);
                        }
                    }
                }
                if let Some(v) = v {
                    out.push(elem(w.labels.clone(), ctx.ts, v, true));
                }
            }
            Ok(FnOut::Vector(out))
        }),
    );
}

/// The start-time overlap warning, once per metric name and call site.
fn warn_start_overlap(ctx: &mut FnCtx<'_>, labels: &Labels) {
    let name = labels.metric_name().unwrap_or("");
    let msg = format!("{START_TIME_OVERLAP} {name:?}");
    let p = ctx.arg_pos(0);
    ctx.warn(&msg, p);
}

/// `irate` (with `sts`, a start-timestamp reset counts as a counter reset) and `idelta`.
fn instant_value(s: &[Sample], sts: Option<&[i64]>, is_rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let last = s[s.len() - 1];
    let prev = s[s.len() - 2];
    let st_reset = match sts {
        Some(st) if st.len() == s.len() => {
            is_start_timestamp_reset(st[s.len() - 2], prev.t, st[s.len() - 1], last.t)
        }
        _ => false,
    };
    let mut result = if is_rate && (last.v < prev.v || st_reset) {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

fn avg_of(s: &[Sample]) -> f64 {
    let (mut sum, mut mean, mut count, mut c) = (0.0, 0.0, 0.0, 0.0);
    let mut incremental = false;
    for p in s {
        count += 1.0;
        if !incremental {
            let (ns, nc) = kahan_inc(p.v, sum, c);
            if count == 1.0 || !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

fn variance_of(s: &[Sample]) -> f64 {
    let (mut count, mut mean, mut cm, mut aux, mut ca) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in s {
        count += 1.0;
        let delta = p.v - (mean + cm);
        (mean, cm) = kahan_inc(delta / count, mean, cm);
        (aux, ca) = kahan_inc(delta * (p.v - (mean + cm)), aux, ca);
    }
    (aux + ca) / count
}

fn time_fn(r: &mut FunctionRegistry, name: &str, f: fn(chrono::DateTime<chrono::Utc>) -> f64) {
    reg(
        r,
        name,
        &[V],
        1,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let conv = |secs: f64| -> f64 {
                if !secs.is_finite() {
                    return f64::NAN;
                }
                let ms = (secs * 1000.0) as i64;
                match chrono::Utc.timestamp_millis_opt(ms) {
                    chrono::LocalResult::Single(dt) => f(dt),
                    _ => f64::NAN,
                }
            };
            if a.is_empty() {
                return Ok(FnOut::Vector(vec![elem(
                    Arc::new(Labels::empty()),
                    ctx.ts,
                    conv(ctx.ts as f64 / 1000.0),
                    false,
                )]));
            }
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, conv(e.v), true))
                    .collect(),
            ))
        }),
    );
}

fn absent_labels(e: &Expr) -> Labels {
    let ms = match e {
        Expr::Vector(vs) => &vs.matchers,
        Expr::Matrix { vs, .. } => &vs.matchers,
        _ => return Labels::empty(),
    };
    let mut b = LabelsBuilder::new();
    let mut dup: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for m in ms {
        if m.name == "__name__" {
            continue;
        }
        if seen.contains(&m.name) {
            dup.push(m.name.clone());
        }
        seen.push(m.name.clone());
        if m.op == MatchOp::Equal {
            b.set(m.name.clone(), m.value.clone());
        }
    }
    for d in dup {
        b.del(&d);
    }
    b.build()
}

fn unwrap_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren { expr, .. } = e {
        e = expr;
    }
    e
}

fn cmp_nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// Compares strings the way Prometheus' natural sort for `sort_by_label` does: runs of digits
/// compare numerically.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        } else {
            let o = ab[i].cmp(&bb[j]);
            if o != std::cmp::Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
}

fn sort_fn(r: &mut FunctionRegistry, name: &'static str, desc: bool) {
    reg(
        r,
        name,
        &[V],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            if ctx.is_range_query {
                let p = ctx.call_pos;
                ctx.warn("sort is ineffective for range queries since results are always ordered by labels", p);
            }
            let mut v = take_vec(&mut a, 0);
            v.sort_by(|x, y| cmp_nan_last(x.v, y.v, desc));
            Ok(FnOut::Vector(v))
        }),
    );
}

fn sort_by_label_fn(r: &mut FunctionRegistry, name: &'static str, desc: bool) {
    reg(
        r,
        name,
        &[V, Str],
        1,
        true,
        V,
        Arc::new(move |ctx, mut a| {
            if ctx.is_range_query {
                let p = ctx.call_pos;
                ctx.warn("sort is ineffective for range queries since results are always ordered by labels", p);
            }
            let names: Vec<String> = a[1..].iter().map(|x| x.str().to_string()).collect();
            let mut v = take_vec(&mut a, 0);
            v.sort_by(|x, y| {
                for n in &names {
                    let o = natural_cmp(x.labels.get_or_empty(n), y.labels.get_or_empty(n));
                    if o != std::cmp::Ordering::Equal {
                        return if desc { o.reverse() } else { o };
                    }
                }
                let o = x.labels.cmp(&y.labels);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
            Ok(FnOut::Vector(v))
        }),
    );
}

fn check_dup_labels(v: &[Elem]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in v {
        let key = if e.drop_name {
            crate::engine::drop_name_labels(&e.labels)
        } else {
            (*e.labels).clone()
        };
        if !seen.insert(key) {
            return Err(Error::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}

fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "+inf" | "inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t != s {
        return None;
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    t.parse::<f64>().ok()
}

fn histogram_quantile_fn(ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let q = a[0].scalar();
    if !(0.0..=1.0).contains(&q) {
        let p = ctx.arg_pos(0);
        ctx.warn(
            &format!(
                "quantile value should be between 0 and 1, got {}",
                fmt_number(q)
            ),
            p,
        );
    }
    let v = take_vec(&mut a, 1);
    let groups = group_buckets(ctx, v, 1);
    let mut out = Vec::with_capacity(groups.len());
    for (labels, buckets) in groups {
        let (val, fixes) = bucket_quantile(q, buckets);
        if fixes.forced_monotonic {
            let name = labels.metric_name().unwrap_or("").to_string();
            let p = ctx.arg_pos(1);
            ctx.info(
                &format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"),
                p,
            );
        }
        out.push(elem(labels, ctx.ts, val, true));
    }
    Ok(FnOut::Vector(out))
}

/// Groups classic-histogram bucket series by their labels without `le`.
fn group_buckets(
    ctx: &mut FnCtx<'_>,
    v: Vec<Elem>,
    arg: usize,
) -> Vec<(Arc<Labels>, Vec<ClassicBucket>)> {
    let mut groups: Vec<(Arc<Labels>, Vec<ClassicBucket>)> = Vec::new();
    let mut idx: crate::fxhash::FxMap<u64, usize> = Default::default();
    let le_name = ["le".to_string()];
    for e in v {
        let key = (ctx.call_pos.start, Arc::as_ptr(&e.labels) as usize);
        let (h, upper) = match ctx.hash_cache.get(&key) {
            Some((_, h, u)) => (*h, *u),
            None => {
                let le = e.labels.get_or_empty("le").to_string();
                let upper = match parse_go_float(&le) {
                    Some(u) if !le.is_empty() => u,
                    _ => {
                        let name = e.labels.metric_name().unwrap_or("").to_string();
                        let p = ctx.arg_pos(arg);
                        ctx.warn(
                            &format!("bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {name:?}"),
                            p,
                        );
                        continue;
                    }
                };
                let h = e.labels.hash_for_labels(&le_name, false);
                if ctx.hash_cache.len() > 500_000 {
                    ctx.hash_cache.clear();
                }
                ctx.hash_cache.insert(key, (e.labels.clone(), h, upper));
                (h, upper)
            }
        };
        let i = match idx.get(&h) {
            Some(i) => *i,
            None => {
                let l = ctx.cached_labels(h, || {
                    let mut b = e.labels.builder();
                    b.del("le");
                    b.build()
                });
                idx.insert(h, groups.len());
                groups.push((l, vec![]));
                groups.len() - 1
            }
        };
        groups[i].1.push(ClassicBucket { upper, count: e.v });
    }
    groups
}

fn histogram_fraction_fn(ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let (lo, hi) = (a[0].scalar(), a[1].scalar());
    let v = take_vec(&mut a, 2);
    let groups = group_buckets(ctx, v, 2);
    Ok(FnOut::Vector(
        groups
            .into_iter()
            .map(|(l, b)| elem(l, ctx.ts, bucket_fraction(lo, hi, b), true))
            .collect(),
    ))
}

fn quantile_label(q: f64) -> String {
    let s = fmt_number(q);
    if s.contains('.') || s.contains('e') || s.contains("Inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

fn histogram_quantiles_fn(ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let label = a[1].str().to_string();
    if !sightline_model::is_valid_label_name(&label) {
        return Err(Error::Execution(format!("invalid label name {label:?}")));
    }
    let qs: Vec<f64> = a[2..].iter().map(Arg::scalar).collect();
    for (i, q) in qs.iter().enumerate() {
        if !(0.0..=1.0).contains(q) {
            let p = ctx.arg_pos(i + 2);
            ctx.warn(
                &format!(
                    "quantile value should be between 0 and 1, got {}",
                    fmt_number(*q)
                ),
                p,
            );
        }
    }
    let v = take_vec(&mut a, 0);
    if let Some(e) = v.iter().find(|e| e.labels.has(&label)) {
        return Err(Error::Execution(format!(
            "label {label:?} already exists on series {}",
            e.labels
        )));
    }
    let groups = group_buckets(ctx, v, 0);
    let mut out = Vec::new();
    for (l, b) in groups {
        for q in &qs {
            let (val, fixes) = bucket_quantile(*q, b.clone());
            if fixes.forced_monotonic {
                let name = l.metric_name().unwrap_or("").to_string();
                let p = ctx.arg_pos(0);
                ctx.info(
                    &format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"),
                    p,
                );
            }
            let mut lb = l.builder();
            lb.set(label.clone(), quantile_label(*q));
            out.push(elem(Arc::new(lb.build()), ctx.ts, val, true));
        }
    }
    Ok(FnOut::Vector(out))
}

fn label_replace_fn(_ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let dst = a[1].str().to_string();
    let repl = a[2].str().to_string();
    let src = a[3].str().to_string();
    let re_s = a[4].str().to_string();
    let re = regex::Regex::new(&format!("^(?s:{re_s})$")).map_err(|e| {
        Error::Execution(format!(
            "invalid regular expression in label_replace(): {re_s}: {e}"
        ))
    })?;
    if !sightline_model::is_valid_label_name(&dst) {
        return Err(Error::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let v = take_vec(&mut a, 0);
    let mut out = Vec::with_capacity(v.len());
    for mut e in v {
        let val = e.labels.get_or_empty(&src).to_string();
        if let Some(caps) = re.captures(&val) {
            let mut res = String::new();
            caps.expand(&repl, &mut res);
            let mut b = e.labels.builder();
            b.set(dst.clone(), res);
            e.labels = Arc::new(b.build());
            if dst == "__name__" {
                e.drop_name = false;
            }
        }
        out.push(e);
    }
    check_dup_labels(&out)?;
    Ok(FnOut::Vector(out))
}

fn label_join_fn(_ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let dst = a[1].str().to_string();
    let sep = a[2].str().to_string();
    let srcs: Vec<String> = a[3..].iter().map(|x| x.str().to_string()).collect();
    for s in &srcs {
        if !sightline_model::is_valid_label_name(s) {
            return Err(Error::Execution(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
    }
    if !sightline_model::is_valid_label_name(&dst) {
        return Err(Error::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let v = take_vec(&mut a, 0);
    let mut out = Vec::with_capacity(v.len());
    for mut e in v {
        let joined: Vec<&str> = srcs.iter().map(|s| e.labels.get_or_empty(s)).collect();
        let joined = joined.join(&sep);
        let mut b = e.labels.builder();
        b.set(dst.clone(), joined);
        e.labels = Arc::new(b.build());
        if dst == "__name__" {
            e.drop_name = false;
        }
        out.push(e);
    }
    check_dup_labels(&out)?;
    Ok(FnOut::Vector(out))
}

fn ts_of(s: &[Sample], pick: fn(&Sample, &Sample) -> bool) -> Option<f64> {
    let mut best = *s.first()?;
    for p in &s[1..] {
        if pick(p, &best) {
            best = *p;
        }
    }
    Some(best.t as f64 / 1000.0)
}

fn register_builtins(r: &mut FunctionRegistry) {
    // Plain math.
    math_fn(r, "abs", f64::abs);
    math_fn(r, "ceil", f64::ceil);
    math_fn(r, "floor", f64::floor);
    math_fn(r, "exp", f64::exp);
    math_fn(r, "sqrt", f64::sqrt);
    math_fn(r, "ln", f64::ln);
    math_fn(r, "log2", f64::log2);
    math_fn(r, "log10", f64::log10);
    math_fn(r, "sin", f64::sin);
    math_fn(r, "cos", f64::cos);
    math_fn(r, "tan", f64::tan);
    math_fn(r, "asin", f64::asin);
    math_fn(r, "acos", f64::acos);
    math_fn(r, "atan", f64::atan);
    math_fn(r, "sinh", f64::sinh);
    math_fn(r, "cosh", f64::cosh);
    math_fn(r, "tanh", f64::tanh);
    math_fn(r, "asinh", f64::asinh);
    math_fn(r, "acosh", f64::acosh);
    math_fn(r, "atanh", f64::atanh);
    math_fn(r, "rad", |v| v * std::f64::consts::PI / 180.0);
    math_fn(r, "deg", |v| v * 180.0 / std::f64::consts::PI);
    math_fn(r, "sgn", |v| {
        if v < 0.0 {
            -1.0
        } else if v > 0.0 {
            1.0
        } else {
            v
        }
    });
    reg(
        r,
        "pi",
        &[],
        0,
        false,
        S,
        Arc::new(|_, _| Ok(FnOut::Scalar(std::f64::consts::PI))),
    );
    reg(
        r,
        "time",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.ts as f64 / 1000.0))),
    );
    reg(
        r,
        "start",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.start as f64 / 1000.0))),
    );
    reg(
        r,
        "end",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.end as f64 / 1000.0))),
    );
    reg(
        r,
        "step",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.step as f64 / 1000.0))),
    );
    reg(
        r,
        "range",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar((ctx.end - ctx.start) as f64 / 1000.0))),
    );
    reg(
        r,
        "min_of",
        &[S, S],
        0,
        false,
        S,
        Arc::new(|_, a| {
            let (x, y) = (a[0].scalar(), a[1].scalar());
            Ok(FnOut::Scalar(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            }))
        }),
    );
    reg(
        r,
        "max_of",
        &[S, S],
        0,
        false,
        S,
        Arc::new(|_, a| {
            let (x, y) = (a[0].scalar(), a[1].scalar());
            Ok(FnOut::Scalar(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }))
        }),
    );
    reg(
        r,
        "round",
        &[V, S],
        1,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let to = if a.len() > 1 { a[1].scalar() } else { 1.0 };
            let inv = 1.0 / to;
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, (e.v * inv + 0.5).floor() / inv, true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp",
        &[V, S, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let (lo, hi) = (a[1].scalar(), a[2].scalar());
            let v = take_vec(&mut a, 0);
            if hi < lo {
                return Ok(FnOut::Vector(vec![]));
            }
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, e.v.max(lo).min(hi), true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp_min",
        &[V, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let lo = a[1].scalar();
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, e.v.max(lo), true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp_max",
        &[V, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let hi = a[1].scalar();
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| elem(e.labels, ctx.ts, e.v.min(hi), true))
                    .collect(),
            ))
        }),
    );
    // Evaluated by the engine, which alone sees the selector's stored start timestamps.
    reg(
        r,
        "start_timestamp",
        &[V],
        0,
        false,
        V,
        Arc::new(|_ctx, _a| Ok(FnOut::Vector(Vec::new()))),
    );
    reg(
        r,
        "timestamp",
        &[V],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let direct = ctx
                .args
                .first()
                .map(|e| matches!(unwrap_parens(e), Expr::Vector(_)))
                .unwrap_or(false);
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| {
                        let t = if direct { e.t } else { ctx.ts };
                        elem(e.labels, ctx.ts, t as f64 / 1000.0, true)
                    })
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "vector",
        &[S],
        0,
        false,
        V,
        Arc::new(|ctx, a| {
            Ok(FnOut::Vector(vec![elem(
                Arc::new(Labels::empty()),
                ctx.ts,
                a[0].scalar(),
                false,
            )]))
        }),
    );
    reg(
        r,
        "scalar",
        &[V],
        0,
        false,
        S,
        Arc::new(|_, a| {
            Ok(FnOut::Scalar(match &a[0] {
                Arg::Vector(v) if v.len() == 1 => v[0].v,
                _ => f64::NAN,
            }))
        }),
    );
    sort_fn(r, "sort", false);
    sort_fn(r, "sort_desc", true);
    sort_by_label_fn(r, "sort_by_label", false);
    sort_by_label_fn(r, "sort_by_label_desc", true);
    reg(
        r,
        "label_replace",
        &[V, Str, Str, Str, Str],
        0,
        false,
        V,
        Arc::new(label_replace_fn),
    );
    reg(
        r,
        "label_join",
        &[V, Str, Str, Str],
        1,
        true,
        V,
        Arc::new(label_join_fn),
    );
    reg(
        r,
        "histogram_quantile",
        &[S, V],
        0,
        false,
        V,
        Arc::new(histogram_quantile_fn),
    );
    for name in [
        "histogram_count",
        "histogram_sum",
        "histogram_avg",
        "histogram_stddev",
        "histogram_stdvar",
    ] {
        // Native histograms are not stored yet: float samples yield nothing.
        reg(
            r,
            name,
            &[V],
            0,
            false,
            V,
            Arc::new(|_, _| Ok(FnOut::Vector(vec![]))),
        );
    }
    reg(
        r,
        "info",
        &[V, V],
        1,
        false,
        V,
        Arc::new(|_, _| Err(Error::Execution("info() is evaluated by the engine".into()))),
    );
    reg(
        r,
        "histogram_fraction",
        &[S, S, V],
        0,
        false,
        V,
        Arc::new(histogram_fraction_fn),
    );
    reg(
        r,
        "histogram_quantiles",
        &[V, Str, S],
        0,
        true,
        V,
        Arc::new(histogram_quantiles_fn),
    );
    reg(
        r,
        "absent",
        &[V],
        0,
        false,
        V,
        Arc::new(|ctx, a| {
            let empty = matches!(&a[0], Arg::Vector(v) if v.is_empty());
            if !empty {
                return Ok(FnOut::Vector(vec![]));
            }
            let l = ctx.args.first().map(absent_labels).unwrap_or_default();
            Ok(FnOut::Vector(vec![elem(Arc::new(l), ctx.ts, 1.0, false)]))
        }),
    );
    reg(
        r,
        "absent_over_time",
        &[M],
        0,
        false,
        V,
        Arc::new(|ctx, a| {
            let empty =
                matches!(&a[0], Arg::Matrix(m) if m.series.iter().all(|w| w.samples().is_empty()));
            if !empty {
                return Ok(FnOut::Vector(vec![]));
            }
            let l = ctx.args.first().map(absent_labels).unwrap_or_default();
            Ok(FnOut::Vector(vec![elem(Arc::new(l), ctx.ts, 1.0, false)]))
        }),
    );
    // Time and date.
    time_fn(r, "day_of_month", |d| d.day() as f64);
    time_fn(r, "day_of_week", |d| {
        d.weekday().num_days_from_sunday() as f64
    });
    time_fn(r, "day_of_year", |d| d.ordinal() as f64);
    time_fn(r, "days_in_month", |d| {
        let (y, m) = (d.year(), d.month());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        match (
            chrono::NaiveDate::from_ymd_opt(y, m, 1),
            chrono::NaiveDate::from_ymd_opt(ny, nm, 1),
        ) {
            (Some(a), Some(b)) => (b - a).num_days() as f64,
            _ => f64::NAN,
        }
    });
    time_fn(r, "hour", |d| d.hour() as f64);
    time_fn(r, "minute", |d| d.minute() as f64);
    time_fn(r, "month", |d| d.month() as f64);
    time_fn(r, "year", |d| d.year() as f64);

    // Range functions.
    rate_fn(r, "rate", true, true);
    rate_fn(r, "increase", true, false);
    rate_fn(r, "delta", false, false);
    over_time_st(r, "irate", |s, st| instant_value(s, st, true));
    over_time(r, "idelta", true, |s| instant_value(s, None, false));
    over_time(r, "sum_over_time", true, |s| {
        let (mut sum, mut c) = (0.0, 0.0);
        for p in s {
            (sum, c) = kahan_inc(p.v, sum, c);
        }
        Some(if sum.is_infinite() { sum } else { sum + c })
    });
    over_time(r, "avg_over_time", true, |s| Some(avg_of(s)));
    over_time(r, "count_over_time", true, |s| Some(s.len() as f64));
    over_time(r, "min_over_time", true, |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v < m || m.is_nan() {
                m = p.v;
            }
        }
        Some(m)
    });
    over_time(r, "max_over_time", true, |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v > m || m.is_nan() {
                m = p.v;
            }
        }
        Some(m)
    });
    over_time(r, "last_over_time", false, |s| s.last().map(|p| p.v));
    over_time(r, "first_over_time", false, |s| s.first().map(|p| p.v));
    over_time(r, "present_over_time", true, |_| Some(1.0));
    over_time(r, "stddev_over_time", true, |s| Some(variance_of(s).sqrt()));
    over_time(r, "stdvar_over_time", true, |s| Some(variance_of(s)));
    over_time(r, "changes", true, |s| {
        let mut n = 0.0;
        for w in s.windows(2) {
            if !(w[1].v == w[0].v || (w[1].v.is_nan() && w[0].v.is_nan())) {
                n += 1.0;
            }
        }
        Some(n)
    });
    over_time_st(r, "resets", |s, sts| {
        let sts = sts.filter(|x| x.len() == s.len());
        let mut n = 0.0;
        for i in 1..s.len() {
            let st_reset = sts
                .is_some_and(|st| is_start_timestamp_reset(st[i - 1], s[i - 1].t, st[i], s[i].t));
            if s[i].v < s[i - 1].v || st_reset {
                n += 1.0;
            }
        }
        Some(n)
    });
    over_time(r, "deriv", true, |s| {
        if s.len() < 2 {
            return None;
        }
        Some(linear_regression(s, s[0].t).0)
    });
    over_time(r, "mad_over_time", true, |s| {
        let vals: Vec<f64> = s.iter().map(|p| p.v).collect();
        if vals.iter().any(|v| v.is_nan()) {
            return Some(f64::NAN);
        }
        let med = quantile(0.5, vals.clone());
        Some(quantile(
            0.5,
            vals.iter().map(|v| (v - med).abs()).collect(),
        ))
    });
    over_time(r, "ts_of_max_over_time", true, |s| {
        ts_of(s, |p, b| p.v >= b.v || b.v.is_nan())
    });
    over_time(r, "ts_of_min_over_time", true, |s| {
        ts_of(s, |p, b| p.v <= b.v || b.v.is_nan())
    });
    over_time(r, "ts_of_last_over_time", true, |s| {
        s.last().map(|p| p.t as f64 / 1000.0)
    });
    over_time(r, "ts_of_first_over_time", true, |s| {
        s.first().map(|p| p.t as f64 / 1000.0)
    });
    reg(
        r,
        "quantile_over_time",
        &[S, M],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let q = a[0].scalar();
            if !(0.0..=1.0).contains(&q) {
                let p = ctx.arg_pos(0);
                ctx.warn(
                    &format!(
                        "quantile value should be between 0 and 1, got {}",
                        fmt_number(q)
                    ),
                    p,
                );
            }
            let m = take_mat(&mut a, 1);
            let mut out = vec![];
            for w in m.series {
                let s = w.samples();
                if s.is_empty() {
                    continue;
                }
                let v = quantile(q, s.iter().map(|p| p.v).collect());
                out.push(elem(w.labels.clone(), ctx.ts, v, true));
            }
            Ok(FnOut::Vector(out))
        }),
    );
    reg(
        r,
        "predict_linear",
        &[M, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let d = a[1].scalar();
            let m = take_mat(&mut a, 0);
            let mut out = vec![];
            for w in m.series {
                let s = w.samples();
                if s.len() < 2 {
                    continue;
                }
                let (slope, icpt) = linear_regression(s, ctx.ts);
                out.push(elem(w.labels.clone(), ctx.ts, slope * d + icpt, true));
            }
            Ok(FnOut::Vector(out))
        }),
    );
    for name in ["double_exponential_smoothing", "holt_winters"] {
        reg(
            r,
            name,
            &[M, S, S],
            0,
            false,
            V,
            Arc::new(|ctx, mut a| {
                let (sf, tf) = (a[1].scalar(), a[2].scalar());
                if sf <= 0.0 || sf >= 1.0 {
                    return Err(Error::Execution(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                    )));
                }
                if tf <= 0.0 || tf >= 1.0 {
                    return Err(Error::Execution(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                    )));
                }
                let m = take_mat(&mut a, 0);
                let mut out = vec![];
                for w in m.series {
                    let s = w.samples();
                    if s.len() < 2 {
                        continue;
                    }
                    let (mut s0, mut s1, mut b) = (0.0, s[0].v, s[1].v - s[0].v);
                    for (i, p) in s.iter().enumerate().skip(1) {
                        let x = sf * p.v;
                        if i > 1 {
                            b = tf * (s1 - s0) + (1.0 - tf) * b;
                        }
                        let y = (1.0 - sf) * (s1 + b);
                        s0 = s1;
                        s1 = x + y;
                    }
                    out.push(elem(w.labels.clone(), ctx.ts, s1, true));
                }
                Ok(FnOut::Vector(out))
            }),
        );
    }
}
