//! The evaluator: selects every series once over the whole query range, then evaluates the
//! expression tree step by step over the loaded data.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_model::{is_stale_nan, CounterResetHint, FloatHistogram, Labels, MatchOp, Sample};
use sightline_storage_api::{Queryable, SelectHints};

use crate::aggregate;
use crate::ast::{AtModifier, BinOp, DurExpr, Expr, PosRange, VectorSelector};
use crate::binary;
use crate::error::{Error, Result};
use crate::functions::{FnCtx, FunctionRegistry};
use crate::fxhash::FxMap;
use crate::select::{
    hist_samples, hpoint_size, instant_sample, plain_sample, windows, SmoothIssue,
};
use crate::stack::guard;
use crate::stats_decoding::StatsDecoder;
use crate::value::{
    Arg, Elem, FnOut, HPoint, MatrixArg, QueryResult, RangeSeries, Value, VectorSample, Window,
};

mod assemble;
mod precompute;
mod range_steps;
mod release;
pub use release::{defer_frees, Deferred, FREE_ELSEWHERE_MIN};
mod stream_agg;

/// Engine limits and defaults (Prometheus' `--query.*` flags).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--query.timeout`.
    pub timeout: Duration,
    /// `--query.max-samples`.
    pub max_samples: usize,
    /// `--query.lookback-delta`.
    pub lookback_delta: Duration,
    /// `--query.max-concurrency` (enforced by the caller; kept here for one place of truth).
    pub max_concurrency: usize,
    /// Step of subqueries without an explicit resolution.
    pub default_subquery_step: Duration,
    /// Threads one query may use for its per-series work (0: the available cores; 1: none
    /// beyond the calling thread).
    pub parallelism: usize,
    /// The fewest series a selector needs before its per-series work is shared with the query
    /// helpers (below it, handing work over costs more than it saves). 256 since the helpers
    /// became long-lived threads: with a new thread per query, a 10 k series server's
    /// 1,040-series instant `rate` took 1.18× as long on two threads as on one and the
    /// threshold was 4,096 (BENCHMARKS.md, session 22).
    pub parallel_min_series: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            lookback_delta: Duration::from_secs(300),
            max_concurrency: 20,
            default_subquery_step: Duration::from_secs(60),
            parallelism: 0,
            parallel_min_series: 256,
        }
    }
}

/// Per-query overrides for [`Engine::exec_with`].
#[derive(Debug, Default, Clone, Copy)]
pub struct QueryOptions<'a> {
    /// Aborts the query when set.
    pub cancel: Option<&'a AtomicBool>,
    /// A shorter timeout than the engine's.
    pub timeout: Option<Duration>,
    /// A different lookback delta (zero means the engine's).
    pub lookback_delta: Option<Duration>,
    /// When the query started, if before [`Engine::exec_with`] (parsing counts against the
    /// timeout too); default: when `exec_with` is called.
    pub started: Option<Instant>,
}

/// The PromQL engine.
#[derive(Clone)]
pub struct Engine {
    opts: EngineOptions,
    reg: Arc<FunctionRegistry>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// Annotations collected during evaluation.
#[derive(Debug, Default, Clone)]
pub(crate) struct Annotations {
    pub(crate) warnings: Vec<String>,
    pub(crate) infos: Vec<String>,
}

impl Annotations {
    pub(crate) fn warn(&mut self, s: String) {
        if !self.warnings.contains(&s) {
            self.warnings.push(s);
        }
    }
    pub(crate) fn info(&mut self, s: String) {
        if !self.infos.contains(&s) {
            self.infos.push(s);
        }
    }
    /// Adds `other`'s annotations after these (in its order, without repeats).
    pub(crate) fn merge(&mut self, other: Annotations) {
        for w in other.warnings {
            self.warn(w);
        }
        for i in other.infos {
            self.info(i);
        }
    }
}

/// `(line:col)` of a position in the query.
pub(crate) fn pos_str(text: &str, pos: PosRange) -> String {
    let e = crate::lexer::error_at(text, pos.start, pos.end, "");
    format!("({}:{})", e.line, e.col)
}

impl Engine {
    /// An engine with the built-in functions.
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            opts,
            reg: Arc::new(FunctionRegistry::with_builtins()),
        }
    }

    /// An engine with a custom (usually extended) function registry.
    pub fn with_registry(opts: EngineOptions, reg: FunctionRegistry) -> Self {
        Engine {
            opts,
            reg: Arc::new(reg),
        }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// The engine's function registry.
    pub fn registry(&self) -> &FunctionRegistry {
        &self.reg
    }

    /// The engine's function registry, shared (to parse elsewhere with the same functions).
    pub fn shared_registry(&self) -> Arc<FunctionRegistry> {
        self.reg.clone()
    }

    /// Parses `expr` with this engine's functions.
    pub fn parse(&self, expr: &str) -> Result<Expr> {
        Ok(crate::parser::parse_with(expr, &self.reg)?)
    }

    /// Evaluates `expr` at `t_ms`.
    pub fn instant_query(&self, q: &dyn Queryable, expr: &str, t_ms: i64) -> Result<QueryResult> {
        self.instant_query_cancelable(q, expr, t_ms, None)
    }

    /// [`Engine::instant_query`] that stops (with [`Error::Canceled`]) once `cancel` is set.
    pub fn instant_query_cancelable(
        &self,
        q: &dyn Queryable,
        expr: &str,
        t_ms: i64,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult> {
        self.parse_and_exec(q, expr, (t_ms, t_ms, 0), cancel)
    }

    /// Parses `expr` (the parse counting against the timeout) and evaluates it over
    /// `(start, end, step)`.
    fn parse_and_exec(
        &self,
        q: &dyn Queryable,
        expr: &str,
        range: (i64, i64, i64),
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult> {
        let opts = QueryOptions {
            cancel,
            ..Default::default()
        };
        self.query_with(q, expr, range, &opts)
    }

    /// Parses `expr` and evaluates it over `(start, end, step)` (an instant query has
    /// `start == end` and `step == 0`) with per-query overrides. Parsing counts against the
    /// timeout, which runs from `opts.started` or, without it, from this call.
    pub fn query_with(
        &self,
        q: &dyn Queryable,
        expr: &str,
        (start, end, step): (i64, i64, i64),
        opts: &QueryOptions<'_>,
    ) -> Result<QueryResult> {
        let opts = QueryOptions {
            started: Some(opts.started.unwrap_or_else(Instant::now)),
            ..*opts
        };
        let e = self.parse(expr)?;
        self.exec_with(q, &e, expr, start, end, step, &opts)
    }

    /// Evaluates `expr` from `start_ms` to `end_ms` every `step_ms`.
    pub fn range_query(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult> {
        self.range_query_cancelable(q, expr, start_ms, end_ms, step_ms, None)
    }

    /// [`Engine::range_query`] that stops (with [`Error::Canceled`]) once `cancel` is set.
    pub fn range_query_cancelable(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult> {
        if step_ms <= 0 {
            return Err(Error::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(Error::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        if (end_ms - start_ms) / step_ms > 11_000 {
            return Err(Error::BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        self.parse_and_exec(q, expr, (start_ms, end_ms, step_ms), cancel)
    }

    /// Evaluates a parsed expression. An instant query has `start == end` and `step == 0`.
    /// `text` is the query text positions refer to. Setting `cancel` aborts the query.
    #[allow(clippy::too_many_arguments)]
    pub fn exec(
        &self,
        q: &dyn Queryable,
        expr: &Expr,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult> {
        let opts = QueryOptions {
            cancel,
            ..Default::default()
        };
        self.exec_with(q, expr, text, start, end, step, &opts)
    }

    /// [`Engine::exec`] with per-query overrides (the HTTP API's `timeout` and
    /// `lookback_delta` parameters).
    #[allow(clippy::too_many_arguments)]
    pub fn exec_with(
        &self,
        q: &dyn Queryable,
        expr: &Expr,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
        opts: &QueryOptions<'_>,
    ) -> Result<QueryResult> {
        let cancel = opts.cancel;
        // A per-query timeout may only shorten the engine's.
        let timeout = opts
            .timeout
            .map_or(self.opts.timeout, |t| t.min(self.opts.timeout));
        let lookback = opts
            .lookback_delta
            .filter(|d| !d.is_zero())
            .unwrap_or(self.opts.lookback_delta);
        let is_range = step > 0;
        if is_range && end < start {
            return Err(Error::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        let vt = expr.value_type(&self.reg);
        if is_range && !matches!(vt, crate::ValueType::Scalar | crate::ValueType::Vector) {
            return Err(Error::BadData(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                vt.name()
            )));
        }
        validate(expr)?;
        let mut ev = Ev::new(Scope {
            reg: &self.reg,
            text,
            start,
            end,
            interval: step,
            lookback: lookback.as_millis() as i64,
            sub_step_default: self.opts.default_subquery_step.as_millis() as i64,
            deadline: opts.started.unwrap_or_else(Instant::now) + timeout,
            cancel,
            max_samples: self.opts.max_samples,
            is_range,
            threads: match self.opts.parallelism {
                0 => crate::parallel::default_parallelism(),
                n => n,
            },
            par_min_series: self.opts.parallel_min_series.max(1),
        });
        let load_started = Instant::now();
        ev.load(q, expr)?;
        ev.size_caches();
        if is_range {
            ev.precompute_calls(q, expr)?;
        } else {
            // An instant query's streamed aggregations (one step each).
            ev.precompute(q, expr, false)?;
        }
        ev.load_deferred(q)?;
        ev.size_caches();
        let prepare = load_started.elapsed();
        let eval_started = Instant::now();
        let value = if !is_range {
            ev.step_samples = 0;
            let v = ev.eval(expr, start)?;
            match v {
                Arg::Scalar(v) => Value::Scalar { t_ms: start, v },
                Arg::Str(s) => Value::String { t_ms: start, s },
                Arg::Vector(els) => {
                    let mut out = Vec::with_capacity(els.len());
                    for e in els {
                        out.push(VectorSample {
                            labels: finish_labels(&e),
                            t_ms: start,
                            v: e.v,
                            h: e.h,
                        });
                    }
                    check_dups(&out.iter().map(|s| &s.labels).collect::<Vec<_>>())?;
                    Value::Vector(out)
                }
                Arg::Matrix(m) => {
                    let mut out: Vec<RangeSeries> = m
                        .series
                        .into_iter()
                        .map(|w| RangeSeries {
                            labels: if w.drop_name {
                                drop_name_labels(&w.labels)
                            } else {
                                (*w.labels).clone()
                            },
                            samples: w.samples().to_vec(),
                            histograms: w.histograms().to_vec(),
                        })
                        .collect();
                    check_dups(&out.iter().map(|s| &s.labels).collect::<Vec<_>>())?;
                    out.sort_by(|a, b| a.labels.cmp(&b.labels));
                    Value::Matrix(out)
                }
            }
        } else {
            Value::Matrix(ev.range_steps(expr)?)
        };
        // Streamed selectors count what they read as they go.
        let streamed: usize = ev.streams.values().flatten().map(|s| s.read).sum();
        ev.note_peak(0);
        let stats = crate::QueryStats {
            total_queryable_samples: (ev.read_samples + streamed) as u64,
            peak_samples: ev.peak_samples as u64,
            prepare,
            inner_eval: eval_started.elapsed(),
        };
        ev.free_leftovers();
        Ok(QueryResult {
            value,
            warnings: ev.ann.warnings,
            infos: ev.ann.infos,
            stats,
        })
    }
}

/// Checks made when a query is created (Prometheus reports them without a position).
fn validate(e: &Expr) -> Result<()> {
    guard(|| validate_node(e))
}

fn validate_node(e: &Expr) -> Result<()> {
    match e {
        Expr::Call { func, args, .. } => {
            for a in args {
                if let Expr::Matrix { vs, .. } = a {
                    if vs.smoothed && !matches!(func.as_str(), "delta" | "increase" | "rate") {
                        return Err(Error::BadData(format!(
                            "smoothed modifier can only be used with: delta, increase, rate - not with {func}"
                        )));
                    }
                    if vs.anchored
                        && !matches!(
                            func.as_str(),
                            "changes" | "delta" | "increase" | "rate" | "resets"
                        )
                    {
                        return Err(Error::BadData(format!(
                            "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with {func}"
                        )));
                    }
                }
                validate(a)?;
            }
            Ok(())
        }
        Expr::Subquery { expr, .. } | Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
            validate(expr)
        }
        Expr::Binary { lhs, rhs, .. } => {
            validate(lhs)?;
            validate(rhs)
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                validate(p)?;
            }
            validate(&a.expr)
        }
        _ => Ok(()),
    }
}

fn finish_labels(e: &Elem) -> Labels {
    if e.drop_name {
        drop_name_labels(&e.labels)
    } else {
        (*e.labels).clone()
    }
}

/// Removes `__name__` and the labels that belong to it (`__type__`, `__unit__`).
pub(crate) fn drop_name_labels(l: &Labels) -> Labels {
    let s = l.as_slice();
    // Label sets as storage hands them out are sorted by name without repeats; dropping some
    // keeps them so, and the builder's copy, sort and de-duplication would change nothing (a
    // large range answer drops the name of every one of its series).
    if s.windows(2).all(|w| w[0].name < w[1].name) {
        let mut v = Vec::with_capacity(s.len());
        v.extend(
            s.iter()
                .filter(|x| {
                    !x.value.is_empty()
                        && !matches!(x.name.as_str(), "__name__" | "__type__" | "__unit__")
                })
                .cloned(),
        );
        return Labels::from_sorted_unchecked(v);
    }
    let mut b = l.builder();
    b.del("__name__");
    b.del("__type__");
    b.del("__unit__");
    b.build()
}

/// Fails when two of the label sets are equal. Sorts the sets' stable hashes (xxHash, as the
/// aggregations' grouping uses) and compares only sets whose hashes are equal: far cheaper on
/// a large answer than a `HashSet` of the sets, which hashes every label with SipHash.
fn check_dups(labels: &[&Labels]) -> Result<()> {
    let mut hashes: Vec<(u64, usize)> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.stable_hash(), i))
        .collect();
    hashes.sort_unstable();
    for (i, a) in hashes.iter().enumerate() {
        for b in hashes[i + 1..].iter().take_while(|b| b.0 == a.0) {
            if labels[a.1] == labels[b.1] {
                return Err(Error::Execution(
                    "vector cannot contain metrics with the same labelset".into(),
                ));
            }
        }
    }
    Ok(())
}

struct LSeries {
    labels: Arc<Labels>,
    /// Float samples (and stale markers, which are floats even in histogram series).
    samples: Arc<Vec<Sample>>,
    /// Start timestamps parallel to `samples` (only for series whose storage has them).
    st: Option<Arc<Vec<i64>>>,
    /// Native-histogram samples (only for series whose storage may have them).
    hists: Option<Arc<Vec<HPoint>>>,
    /// Start timestamps parallel to `hists` (only when the storage has start timestamps).
    hst: Option<Arc<Vec<i64>>>,
}

/// A series read lazily while the step loop moves forward: `buf` holds only the samples the
/// current and later steps can still need, so a range query's memory stays bounded by its
/// windows instead of its whole range.
struct StreamSeries {
    labels: Arc<Labels>,
    buf: Arc<Vec<Sample>>,
    /// Start timestamps parallel to `buf` (only for series whose storage has them).
    st: Option<Arc<Vec<i64>>>,
    /// Native-histogram samples (only for series whose storage may have them).
    hbuf: Option<Arc<Vec<HPoint>>>,
    /// Start timestamps parallel to `hbuf` (only when the storage has start timestamps).
    hst: Option<Arc<Vec<i64>>>,
    iter: Box<dyn sightline_storage_api::SampleIterator>,
    /// Where the iterator is still to be moved to before the first read: the seek (decoding
    /// a chunk from its start up to the selector's first time) is left to the first
    /// `advance`, which runs on the query's worker threads, not in the one thread that
    /// selects the series.
    seek_from: Option<i64>,
    pending: Option<(Sample, i64)>,
    /// The histogram of `pending`, when it is a histogram sample.
    pending_h: Option<Arc<FloatHistogram>>,
    /// Set when the selector reads histograms without buckets (`histogram_count` & co).
    decoder: Option<StatsDecoder>,
    max_t: i64,
    last_ref: i64,
    /// Samples read from storage so far (for [`crate::QueryStats`]).
    read: usize,
    /// The index in `buf` of the newest sample whose value is below the one before it (a
    /// counter reset), if there is one: a window that starts at or after it has none, so
    /// `rate` need not look for one ([`Window::no_drop`]).
    last_drop: Option<usize>,
}

impl StreamSeries {
    /// The window of this series' buffers that `select::windows` found (absent parts empty).
    pub(crate) fn window(
        &self,
        fw: Option<(usize, usize)>,
        hw: Option<crate::select::HistWindow>,
    ) -> Window {
        let (lo, hi) = fw.unwrap_or((0, 0));
        let (hdata, hlo, hhi) = hw.unwrap_or((None, 0, 0));
        Window {
            labels: self.labels.clone(),
            data: self.buf.clone(),
            lo,
            hi,
            hst: hdata.as_ref().and(self.hst.clone()),
            hdata,
            hlo,
            hhi,
            drop_name: false,
            st: self.st.clone(),
            no_drop: self.last_drop.is_none_or(|d| d <= lo),
        }
    }

    /// Makes room for `n` float samples in a buffer that has none yet (see
    /// [`precompute::Job::run`]: the chunk's previous series is the hint).
    fn reserve_first(&mut self, n: usize) {
        if n > 0 && self.buf.capacity() == 0 {
            Arc::make_mut(&mut self.buf).reserve_exact(n);
        }
    }

    /// Reads samples up to `pull_to` and forgets those at or before `drop_upto`.
    fn advance(&mut self, pull_to: i64, drop_upto: i64, strip_stale: bool) -> Result<()> {
        if pull_to < self.last_ref {
            return Err(Error::Execution(
                "internal error: selector read out of time order".into(),
            ));
        }
        self.last_ref = pull_to;
        if let Some(min_t) = self.seek_from.take() {
            self.pending = self
                .iter
                .seek(min_t)
                .map(|p| (p, self.iter.start_timestamp()));
            if self.hbuf.is_some() {
                self.pending_h = self.iter.histogram().cloned();
            }
        }
        let buf = Arc::make_mut(&mut self.buf);
        let old_len = buf.len();
        let mut st = self.st.as_mut().map(Arc::make_mut);
        let mut hbuf = self.hbuf.as_mut().map(Arc::make_mut);
        let mut hst = self.hst.as_mut().map(Arc::make_mut);
        if hbuf.is_none() && st.is_none() {
            // Floats only: the storage appends the samples up to the limit in one call.
            let limit = pull_to.min(self.max_t);
            if let Some((p, _)) = self.pending.filter(|(p, _)| p.t <= limit) {
                let (next, n) = read_run(p, self.iter.as_mut(), limit, buf, strip_stale);
                self.read += n;
                self.pending = next.map(|s| (s, 0));
            }
        }
        while let Some((p, p_st)) = self.pending {
            if p.t > pull_to || p.t > self.max_t {
                break;
            }
            match (self.pending_h.take(), hbuf.as_mut()) {
                (Some(h), Some(hb)) => {
                    self.read += hpoint_size(&h);
                    let h = match self.decoder.as_mut() {
                        Some(d) => d.decode(&h),
                        None => h,
                    };
                    hb.push(HPoint { t: p.t, h });
                    if let Some(v) = hst.as_mut() {
                        v.push(p_st);
                    }
                }
                _ => {
                    self.read += 1;
                    if !(strip_stale && is_stale_nan(p.v)) {
                        buf.push(p);
                        if let Some(st) = st.as_mut() {
                            st.push(p_st);
                        }
                    }
                }
            }
            self.pending = next_with_st(self.iter.as_mut());
            if hbuf.is_some() {
                self.pending_h = self.iter.histogram().cloned();
            }
        }
        // Each sample is compared with the one before it once, as it arrives.
        if let Some(d) = (old_len.max(1)..buf.len())
            .rev()
            .find(|&i| buf[i].v < buf[i - 1].v)
        {
            self.last_drop = Some(d);
        }
        // The front goes once it is at least as long as what stays: each sample is moved at
        // most once on average, and a buffer holds at most twice its window. (Dropping every
        // 64 samples moved a long window's samples again and again; `memmove` was 6 % of a
        // 10 k `rate` range query's CPU, BENCHMARKS.md session 22.)
        let k = buf.partition_point(|x| x.t <= drop_upto);
        if k > 0 && k * 2 >= buf.len() {
            buf.drain(..k);
            self.last_drop = self.last_drop.and_then(|d| d.checked_sub(k));
            if let Some(st) = st {
                st.drain(..k.min(st.len()));
            }
        }
        if let Some(hb) = hbuf {
            let k = hb.partition_point(|x| x.t <= drop_upto);
            if k > 0 && (k >= 16 || k * 2 >= hb.len()) {
                hb.drain(..k);
                if let Some(v) = hst {
                    v.drain(..k.min(v.len()));
                }
            }
        }
        Ok(())
    }
}

/// The streams of a streamed selector's series (storage order kept).
fn make_streams(
    series: Vec<sightline_storage_api::Series>,
    n: &Need,
    is_stats: bool,
) -> Vec<StreamSeries> {
    let mut streams = Vec::with_capacity(series.len());
    for s in series {
        let st = s.samples.has_start_timestamps().then(Default::default);
        let hbuf = s.samples.has_histograms().then(Default::default);
        let hst = (hbuf.is_some() && st.is_some()).then(Default::default);
        streams.push(StreamSeries {
            labels: Arc::new(s.labels),
            buf: Arc::new(Vec::new()),
            st,
            hbuf,
            hst,
            iter: s.samples,
            seek_from: Some(n.min + 1),
            pending: None,
            pending_h: None,
            decoder: is_stats.then(StatsDecoder::default),
            max_t: n.max,
            last_ref: i64::MIN,
            read: 0,
            last_drop: None,
        });
    }
    streams
}

/// Reads one series of a non-streamed selector: its samples within the selector's range (only
/// the newest with `only_last`), or `None` when it has none; with the samples it counts.
fn load_series(
    s: &mut sightline_storage_api::Series,
    n: &Need,
    only_last: bool,
    is_stats: bool,
    capacity: usize,
) -> Option<(LSeries, usize)> {
    let mut samples = Vec::with_capacity(if only_last { 1 } else { capacity });
    let mut sts = s.samples.has_start_timestamps().then(Vec::new);
    let mut hists: Option<Vec<HPoint>> = s.samples.has_histograms().then(Vec::new);
    let mut decoder = is_stats.then(StatsDecoder::default);
    let mut hst = (hists.is_some() && sts.is_some()).then(Vec::new);
    let mut cur = s.samples.seek(n.min + 1);
    let mut size = 0usize;
    if hists.is_none() && sts.is_none() && !only_last {
        // Floats only: the storage appends the samples in one call.
        if let Some(first) = cur.take().filter(|f| f.t <= n.max) {
            read_run(first, s.samples.as_mut(), n.max, &mut samples, n.is_matrix);
            size = samples.len();
        }
    }
    while let Some(smp) = cur {
        if smp.t > n.max {
            break;
        }
        let h = match hists.as_ref() {
            Some(_) => s.samples.histogram().cloned(),
            None => None,
        };
        if let (Some(h), Some(hs)) = (h, hists.as_mut()) {
            if only_last {
                samples.clear();
                hs.clear();
                if let Some(v) = sts.as_mut() {
                    v.clear();
                }
                if let Some(v) = hst.as_mut() {
                    v.clear();
                }
                size = 0;
            }
            if let Some(v) = hst.as_mut() {
                v.push(s.samples.start_timestamp());
            }
            size += hpoint_size(&h);
            let h = match decoder.as_mut() {
                Some(d) => d.decode(&h),
                None => h,
            };
            hs.push(HPoint { t: smp.t, h });
        } else if !(n.is_matrix && is_stale_nan(smp.v)) {
            if only_last {
                samples.clear();
                if let Some(v) = sts.as_mut() {
                    v.clear();
                }
                if let Some(hs) = hists.as_mut() {
                    hs.clear();
                }
                if let Some(v) = hst.as_mut() {
                    v.clear();
                }
                size = 0;
            }
            samples.push(smp);
            size += 1;
            if let Some(v) = sts.as_mut() {
                v.push(s.samples.start_timestamp());
            }
        }
        cur = s.samples.next_sample();
    }
    if samples.is_empty() && hists.as_ref().is_none_or(|h| h.is_empty()) {
        return None;
    }
    // A capacity hint far above what the series had is given back.
    if samples.capacity() > 2 * samples.len() + 8 {
        samples.shrink_to_fit();
    }
    let ls = LSeries {
        labels: Arc::new(std::mem::take(&mut s.labels)),
        samples: Arc::new(samples),
        st: sts.map(Arc::new),
        hst: hst
            .filter(|_| hists.as_ref().is_some_and(|h| !h.is_empty()))
            .map(Arc::new),
        hists: hists.filter(|h| !h.is_empty()).map(Arc::new),
    };
    Some((ls, size))
}

/// The cancellation and timeout checks of [`Ev::check`], for worker threads.
fn check_limits(cancel: Option<&AtomicBool>, deadline: Instant) -> Result<()> {
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(Error::Canceled("query execution"));
    }
    if Instant::now() > deadline {
        return Err(Error::Timeout("query execution"));
    }
    Ok(())
}

/// Appends `first`, a sample already read from `it` at or before `until`, and the samples
/// after it up to `until` to `out` ([`SampleIterator::next_until`], stale markers left out
/// when `drop_stale`); returns the first sample past `until` and how many were read, `first`
/// and stale markers included. Float series only.
///
/// [`SampleIterator::next_until`]: sightline_storage_api::SampleIterator::next_until
fn read_run(
    first: Sample,
    it: &mut dyn sightline_storage_api::SampleIterator,
    until: i64,
    out: &mut Vec<Sample>,
    drop_stale: bool,
) -> (Option<Sample>, usize) {
    if !(drop_stale && is_stale_nan(first.v)) {
        out.push(first);
    }
    let (next, n) = it.next_until(until, out, drop_stale);
    (next, n + 1)
}

/// The next sample and its start timestamp.
fn next_with_st(it: &mut dyn sightline_storage_api::SampleIterator) -> Option<(Sample, i64)> {
    let s = it.next_sample()?;
    Some((s, it.start_timestamp()))
}

pub(crate) struct Ev<'a> {
    pub(crate) reg: &'a FunctionRegistry,
    pub(crate) text: &'a str,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) interval: i64,
    lookback: i64,
    sub_step_default: i64,
    data: HashMap<usize, Arc<Vec<LSeries>>>,
    streams: HashMap<usize, Vec<StreamSeries>>,
    pub(crate) ann: Annotations,
    deadline: Instant,
    cancel: Option<&'a AtomicBool>,
    max_samples: usize,
    step_samples: usize,
    out_samples: usize,
    sub_cache: HashMap<usize, std::collections::BTreeMap<i64, Vec<Elem>>>,
    pub(crate) is_range: bool,
    checks: u32,
    cursors: FxMap<usize, (i64, Vec<(usize, usize)>)>,
    pub(crate) label_cache: FxMap<(usize, u64), Arc<Labels>>,
    pub(crate) hash_cache: FxMap<(usize, usize), (Arc<Labels>, u64, f64)>,
    /// The entries `hash_cache` and `label_cache` may hold before they are emptied
    /// ([`Ev::size_caches`]).
    pub(crate) cache_cap: usize,
    binop_cache: binary::BinopCache,
    precomputed: HashMap<usize, Vec<Vec<Elem>>>,
    /// Annotations a precomputed node raised at a step, by (node, step): handed over with the
    /// step's row (streamed aggregations, `engine/stream_agg.rs`).
    step_ann: FxMap<(usize, usize), Annotations>,
    /// Streamed selectors whose series are read only when their aggregation is streamed, a
    /// storage batch at a time (`engine/stream_agg.rs`); with whether they read histogram
    /// statistics only.
    deferred: HashMap<usize, (Need, bool)>,
    /// Samples the non-streamed selectors loaded (for [`crate::QueryStats`]).
    read_samples: usize,
    /// The most samples held at once so far (for [`crate::QueryStats`]).
    peak_samples: usize,
    /// Threads the query's per-series work may use.
    pub(crate) threads: usize,
    /// Series a selector needs before its work is split across threads.
    pub(crate) par_min_series: usize,
}

/// What an evaluator is given: the query, its time range and limits (everything else in an
/// [`Ev`] is data, caches and counters built while it runs).
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) reg: &'a FunctionRegistry,
    pub(crate) text: &'a str,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) interval: i64,
    pub(crate) lookback: i64,
    pub(crate) sub_step_default: i64,
    pub(crate) deadline: Instant,
    pub(crate) cancel: Option<&'a AtomicBool>,
    pub(crate) max_samples: usize,
    pub(crate) is_range: bool,
    pub(crate) threads: usize,
    pub(crate) par_min_series: usize,
}

impl<'a> Ev<'a> {
    /// An evaluator with no data loaded and empty caches.
    pub(crate) fn new(s: Scope<'a>) -> Self {
        Ev {
            reg: s.reg,
            text: s.text,
            start: s.start,
            end: s.end,
            interval: s.interval,
            lookback: s.lookback,
            sub_step_default: s.sub_step_default,
            data: HashMap::new(),
            streams: HashMap::new(),
            ann: Annotations::default(),
            deadline: s.deadline,
            cancel: s.cancel,
            max_samples: s.max_samples,
            step_samples: 0,
            out_samples: 0,
            sub_cache: HashMap::new(),
            is_range: s.is_range,
            checks: 0,
            cursors: FxMap::default(),
            label_cache: FxMap::default(),
            hash_cache: FxMap::default(),
            cache_cap: CACHE_MIN,
            binop_cache: binary::BinopCache::default(),
            precomputed: HashMap::new(),
            step_ann: FxMap::default(),
            deferred: HashMap::new(),
            read_samples: 0,
            peak_samples: 0,
            threads: s.threads,
            par_min_series: s.par_min_series,
        }
    }

    /// The scope this evaluator was made with.
    pub(crate) fn scope(&self) -> Scope<'a> {
        Scope {
            reg: self.reg,
            text: self.text,
            start: self.start,
            end: self.end,
            interval: self.interval,
            lookback: self.lookback,
            sub_step_default: self.sub_step_default,
            deadline: self.deadline,
            cancel: self.cancel,
            max_samples: self.max_samples,
            is_range: self.is_range,
            threads: self.threads,
            par_min_series: self.par_min_series,
        }
    }
}

/// One series of a subquery's result while it is assembled.
struct SubSeries {
    labels: Arc<Labels>,
    floats: Vec<Sample>,
    hists: Vec<HPoint>,
    drop: bool,
}

struct Need {
    key: usize,
    stream: bool,
    vs: VectorSelector,
    is_matrix: bool,
    min: i64,
    max: i64,
    func: Option<String>,
}

/// The fewest entries the per-query label-set caches hold before they are emptied.
pub(crate) const CACHE_MIN: usize = 500_000;

impl<'a> Ev<'a> {
    /// Bounds the per-label-set caches by what the query selected. They hold an entry per
    /// series read (and per group built), keyed by the label set's address, and are emptied
    /// when full so that label sets made afresh at every step cannot grow them without
    /// bound. A fixed bound below the selection emptied them at every step instead:
    /// `histogram_quantile` over 526,200 bucket series rehashed and re-parsed every `le`
    /// at every step, a third of the query's time.
    fn size_caches(&mut self) {
        // Loaded and streamed selectors, and the widest step of each precomputed call (the
        // streams it read are gone by then).
        let selected = self.held_series()
            + self
                .precomputed
                .values()
                .map(|rows| rows.iter().map(Vec::len).max().unwrap_or(0))
                .sum::<usize>();
        self.cache_cap = self.cache_cap.max(selected.saturating_mul(2));
        self.binop_cache.cap = self.binop_cache.cap.max(selected.saturating_mul(2));
    }

    /// The series the loaded and the streamed selectors hold.
    fn held_series(&self) -> usize {
        self.data.values().map(|d| d.len()).sum::<usize>()
            + self.streams.values().map(Vec::len).sum::<usize>()
    }

    pub(crate) fn check(&mut self) -> Result<()> {
        self.checks = self.checks.wrapping_add(1);
        if let Some(c) = self.cancel {
            if c.load(Ordering::Relaxed) {
                return Err(Error::Canceled("query execution"));
            }
        }
        if Instant::now() > self.deadline {
            return Err(Error::Timeout("query execution"));
        }
        Ok(())
    }

    fn dur(&self, d: &DurExpr) -> i64 {
        d.millis(self.interval, self.end - self.start)
    }

    fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Time(t) => t,
            AtModifier::Start => self.start,
            AtModifier::End => self.end,
        })
    }

    fn sub_step(&self, step: &Option<DurExpr>) -> i64 {
        match step {
            Some(s) => self.dur(s).max(1),
            None => self.sub_step_default.max(1),
        }
    }

    fn collect(&self, e: &Expr, tmin: i64, tmax: i64, func: Option<&str>, out: &mut Vec<Need>) {
        guard(|| self.collect_node(e, tmin, tmax, func, out))
    }

    fn collect_node(
        &self,
        e: &Expr,
        tmin: i64,
        tmax: i64,
        func: Option<&str>,
        out: &mut Vec<Need>,
    ) {
        match e {
            Expr::Number { .. } | Expr::Str { .. } => {}
            Expr::Vector(vs) => {
                let off = vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
                let (a, b) = match self.at_ms(&vs.at) {
                    Some(t) => (t.saturating_sub(off), t.saturating_sub(off)),
                    None => (tmin.saturating_sub(off), tmax.saturating_sub(off)),
                };
                out.push(Need {
                    key: vs as *const VectorSelector as usize,
                    stream: true,
                    vs: vs.clone(),
                    is_matrix: false,
                    min: a.saturating_sub(self.lookback),
                    max: b.saturating_add(if vs.smoothed { self.lookback } else { 0 }),
                    func: func.map(str::to_string),
                });
            }
            Expr::Matrix { vs, range, .. } => {
                let off = vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
                let r = self.dur(range);
                let (a, b) = match self.at_ms(&vs.at) {
                    Some(t) => (t.saturating_sub(off), t.saturating_sub(off)),
                    None => (tmin.saturating_sub(off), tmax.saturating_sub(off)),
                };
                // Anchored and smoothed selectors look one lookback further back and ahead.
                let extra = if vs.anchored || vs.smoothed {
                    self.lookback
                } else {
                    0
                };
                out.push(Need {
                    key: vs as *const VectorSelector as usize,
                    stream: true,
                    vs: vs.clone(),
                    is_matrix: true,
                    min: a.saturating_sub(r).saturating_sub(extra),
                    max: b.saturating_add(if vs.smoothed { self.lookback } else { 0 }),
                    func: func.map(str::to_string),
                });
            }
            Expr::Subquery {
                expr,
                range,
                offset,
                at,
                ..
            } => {
                let off = offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
                let r = self.dur(range);
                let (a, b) = match self.at_ms(at) {
                    Some(t) => (t.saturating_sub(off), t.saturating_sub(off)),
                    None => (tmin.saturating_sub(off), tmax.saturating_sub(off)),
                };
                self.collect(expr, a.saturating_sub(r), b, None, out);
            }
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
                self.collect(expr, tmin, tmax, func, out)
            }
            Expr::Binary { lhs, rhs, .. } => {
                self.collect(lhs, tmin, tmax, None, out);
                self.collect(rhs, tmin, tmax, None, out);
            }
            Expr::Aggregate(a) => {
                if let Some(p) = &a.param {
                    self.collect(p, tmin, tmax, None, out);
                }
                self.collect(&a.expr, tmin, tmax, None, out);
            }
            Expr::Call { func, args, pos } if func == "info" => {
                if let Some(a) = args.first() {
                    self.collect(a, tmin, tmax, Some(func), out);
                }
                let (name_ms, _) = info_matchers(args.get(1));
                // The info series are read at the base expression's reference times.
                let (mut info_min, mut info_max) = (tmin, tmax);
                if let Some(a) = args.first() {
                    for t in [tmin, tmax] {
                        let r = self.ref_time(a, t);
                        info_min = info_min.min(r);
                        info_max = info_max.max(r);
                    }
                }
                let mut ms = name_ms;
                if !ms.iter().any(|m| !m.matches_empty()) {
                    if let Ok(m) = sightline_model::Matcher::new(
                        sightline_model::MatchOp::RegexMatch,
                        "__name__",
                        ".+_info",
                    ) {
                        ms.push(m);
                    }
                }
                out.push(Need {
                    key: e as *const Expr as usize,
                    stream: false,
                    vs: VectorSelector {
                        name: None,
                        matchers: ms,
                        offset: None,
                        at: None,
                        anchored: false,
                        smoothed: false,
                        pos: *pos,
                    },
                    is_matrix: false,
                    min: info_min.saturating_sub(self.lookback),
                    max: info_max,
                    func: None,
                });
            }
            Expr::Call { func, args, .. } => {
                for a in args {
                    self.collect(a, tmin, tmax, Some(func), out);
                }
            }
        }
    }

    fn load(&mut self, q: &dyn Queryable, e: &Expr) -> Result<()> {
        let mut needs = Vec::new();
        self.collect(e, self.start, self.end, None, &mut needs);
        if needs.is_empty() {
            return Ok(());
        }
        // Selectors inside subqueries are read at times that may repeat; keep them whole.
        let mut in_sub = std::collections::HashSet::new();
        selectors_under_subqueries(e, false, &mut in_sub);
        let has_info = calls_function(e, "info");
        let stats = crate::stats_decoding::stats_selectors(e);
        // Selectors a streamed aggregation reads (a storage batch at a time) are left to it
        // (never one under a subquery: `lazy_selectors` does not enter them).
        let lazy = stream_agg::lazy_selectors(e);
        for n in &mut needs {
            n.stream = n.stream && self.is_range && !in_sub.contains(&n.key);
        }
        let mut loaded_total: usize = 0;
        let min = needs.iter().map(|n| n.min).min().unwrap_or(0);
        let max = needs.iter().map(|n| n.max).max().unwrap_or(0);
        let querier = q.querier(min.saturating_add(1), max)?;
        for n in needs {
            self.check()?;
            let hints = SelectHints {
                start: n.min + 1,
                end: n.max,
                step: self.interval,
                func: n.func.clone(),
            };
            if n.is_matrix && lazy.contains(&n.key) {
                let is_stats = stats.contains(&n.key);
                self.deferred.insert(n.key, (n, is_stats));
                continue;
            }
            let series = querier.select(false, Some(&hints), &n.vs.matchers)?;
            if n.stream {
                let streams = make_streams(series, &n, stats.contains(&n.key));
                // Storage order is kept; range results are sorted at the end.
                self.streams.insert(n.key, streams);
                continue;
            }
            // An instant query reads a plain vector selector at one time only: of each series
            // only the newest sample up to then matters, so no others are kept.
            // (`info()` reads its data series at the times of its input's samples: excluded.)
            let only_last = !n.is_matrix
                && !self.is_range
                && !n.vs.smoothed
                && !in_sub.contains(&n.key)
                && !has_info;
            let is_stats = stats.contains(&n.key);
            loaded_total = self.load_whole(&n, series, only_last, is_stats, loaded_total)?;
        }
        Ok(())
    }

    /// Reads a non-streamed selector's series whole into `data` (in parallel on large
    /// selections); `loaded_total` samples were loaded by the query's earlier selectors, and
    /// the new total is returned.
    fn load_whole(
        &mut self,
        n: &Need,
        mut series: Vec<sightline_storage_api::Series>,
        only_last: bool,
        is_stats: bool,
        loaded_total: usize,
    ) -> Result<usize> {
        let threads = if series.len() >= self.par_min_series {
            self.threads
        } else {
            1
        };
        let chunk = precompute::chunk_size(series.len(), threads);
        let total = AtomicUsize::new(loaded_total);
        let (cancel, deadline, max_samples) = (self.cancel, self.deadline, self.max_samples);
        let need = n;
        let parts = crate::parallel::map_chunks(&mut series, chunk, threads, |_, c| {
            check_limits(cancel, deadline)?;
            let mut out = Vec::with_capacity(c.len());
            // Series of one selector mostly hold as many samples as each other: each series'
            // buffer starts with room for the previous one's, instead of growing sample by
            // sample (four or five reallocations for a five-minute window).
            let mut hint = 0;
            for s in c.iter_mut() {
                let loaded = load_series(s, need, only_last, is_stats, hint);
                release::release_series(s);
                let Some((ls, size)) = loaded else {
                    continue;
                };
                hint = ls.samples.len();
                if total.fetch_add(size, Ordering::Relaxed) + size > max_samples {
                    return Err(Error::TooManySamples("query execution"));
                }
                out.push(ls);
            }
            Ok(out)
        })?;
        // What is left of the storage's series (each was released once read) goes before
        // the next selector.
        drop(series);
        let now_total = total.into_inner();
        self.read_samples += now_total - loaded_total;
        let loaded: Vec<LSeries> = if parts.len() == 1 {
            parts.into_iter().flatten().collect()
        } else {
            let mut v = Vec::with_capacity(parts.iter().map(Vec::len).sum());
            for p in parts {
                v.extend(p);
            }
            v
        };
        // Storage order is kept, as Prometheus keeps it (it selects unsorted).
        self.data.insert(n.key, Arc::new(loaded));
        Ok(now_total)
    }

    /// Per-series positions from the previous evaluation of a selector and whether they are
    /// unusable (time went backwards or first use), in which case callers binary-search.
    fn take_cursor(&mut self, key: usize, t_ref: i64, n: usize) -> (Vec<(usize, usize)>, bool) {
        match self.cursors.remove(&key) {
            Some(c) if c.0 <= t_ref && c.1.len() == n => (c.1, false),
            _ => (vec![(0, 0); n], true),
        }
    }

    /// A label set built once per query for (`node`, `key`) and shared by every step, so that
    /// later steps (and the range assembly) can recognise it by address.
    /// The grouping hash of `labels` for `node`, computed once per label set and query.
    pub(crate) fn cached_hash(
        &mut self,
        node: usize,
        labels: &Arc<Labels>,
        make: impl FnOnce(&Labels) -> u64,
    ) -> u64 {
        let key = (node, Arc::as_ptr(labels) as usize);
        if let Some((_, h, _)) = self.hash_cache.get(&key) {
            return *h;
        }
        if self.hash_cache.len() > self.cache_cap {
            self.hash_cache.clear();
        }
        let h = make(labels);
        self.hash_cache.insert(key, (labels.clone(), h, 0.0));
        h
    }

    pub(crate) fn cached_labels(
        &mut self,
        node: usize,
        key: u64,
        make: impl FnOnce() -> Labels,
    ) -> Arc<Labels> {
        if self.label_cache.len() > self.cache_cap {
            self.label_cache.clear();
        }
        self.label_cache
            .entry((node, key))
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }

    /// Records the samples held now (plus `extra` about to be) for the peak figure.
    fn note_peak(&mut self, extra: usize) {
        self.peak_samples = self
            .peak_samples
            .max(self.step_samples + self.out_samples + extra);
    }

    fn count_samples(&mut self, n: usize) -> Result<()> {
        self.step_samples += n;
        self.note_peak(0);
        if self.step_samples + self.out_samples > self.max_samples {
            return Err(Error::TooManySamples("query execution"));
        }
        Ok(())
    }

    fn select_vector(&mut self, vs: &VectorSelector, ts: i64) -> Result<Vec<Elem>> {
        self.select_vector_impl(vs, ts, false)
    }

    /// A vector selector's samples; with `start_ts`, each value is replaced by the sample's
    /// start timestamp in seconds (0 when unknown), which is what `start_timestamp()` returns.
    fn select_vector_impl(
        &mut self,
        vs: &VectorSelector,
        ts: i64,
        start_ts: bool,
    ) -> Result<Vec<Elem>> {
        let off = vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
        let t_ref = self.at_ms(&vs.at).unwrap_or(ts).saturating_sub(off);
        let key = vs as *const VectorSelector as usize;
        let lb = self.lookback;
        if let Some(mut streams) = self.streams.remove(&key) {
            let pull = if vs.smoothed {
                t_ref.saturating_add(lb - 1)
            } else {
                t_ref
            };
            let mut out = Vec::new();
            let mut res = Ok(());
            let mut n = 0;
            let mut issues = Vec::new();
            for s in streams.iter_mut() {
                res = s.advance(pull, t_ref.saturating_sub(lb), false);
                if res.is_err() {
                    break;
                }
                let hs = s.hbuf.as_deref().map_or(&[][..], |h| &h[..]);
                let p = match instant_sample(&s.buf, hs, t_ref, lb, vs.smoothed) {
                    Ok(Some(p)) => p,
                    Ok(None) => continue,
                    Err(issue) => {
                        issues.push((issue, s.labels.clone()));
                        continue;
                    }
                };
                let el = if start_ts {
                    let st = p
                        .idx
                        .and_then(|i| s.st.as_ref().and_then(|x| x.get(i)))
                        .or_else(|| p.hidx.and_then(|i| s.hst.as_ref().and_then(|x| x.get(i))))
                        .copied()
                        .unwrap_or(0);
                    n += 1;
                    Elem::float(s.labels.clone(), ts, st as f64 / 1000.0, true)
                } else {
                    n += p.h.as_deref().map_or(1, hpoint_size);
                    Elem {
                        labels: s.labels.clone(),
                        t: p.t,
                        v: p.v,
                        h: p.h,
                        drop_name: false,
                    }
                };
                out.push(el);
            }
            self.streams.insert(key, streams);
            res?;
            self.smoothing_issues(vs, issues);
            self.count_samples(n)?;
            return Ok(out);
        }
        let data = match self.data.get(&key) {
            Some(d) => d.clone(),
            None => return Ok(vec![]),
        };
        let mut out = Vec::new();
        let mut n = 0;
        let mut issues = Vec::new();
        let (mut pos, fresh) = self.take_cursor(key, t_ref, data.len());
        for (si, s) in data.iter().enumerate() {
            let idx = if fresh {
                s.samples.partition_point(|x| x.t <= t_ref)
            } else {
                seek_after(&s.samples, pos[si].1, t_ref)
            };
            pos[si].1 = idx;
            if let Some(hs) = &s.hists {
                // A series with histograms: the newest of its float and histogram points.
                let p = match instant_sample(&s.samples, hs, t_ref, lb, vs.smoothed) {
                    Ok(Some(p)) => p,
                    Ok(None) => continue,
                    Err(issue) => {
                        issues.push((issue, s.labels.clone()));
                        continue;
                    }
                };
                if start_ts {
                    let st = p
                        .idx
                        .and_then(|i| s.st.as_ref().and_then(|x| x.get(i)))
                        .or_else(|| p.hidx.and_then(|i| s.hst.as_ref().and_then(|x| x.get(i))));
                    n += 1;
                    out.push(Elem::float(
                        s.labels.clone(),
                        ts,
                        st.copied().unwrap_or(0) as f64 / 1000.0,
                        true,
                    ));
                    continue;
                }
                n += p.h.as_deref().map_or(1, hpoint_size);
                out.push(Elem {
                    labels: s.labels.clone(),
                    t: p.t,
                    v: p.v,
                    h: p.h,
                    drop_name: false,
                });
                continue;
            }
            if idx == 0 {
                continue;
            }
            let smp = s.samples[idx - 1];
            if smp.t <= t_ref.saturating_sub(lb) || is_stale_nan(smp.v) {
                continue;
            }
            n += 1;
            if start_ts {
                let st = s.st.as_ref().and_then(|x| x.get(idx - 1)).copied();
                out.push(Elem::float(
                    s.labels.clone(),
                    ts,
                    st.unwrap_or(0) as f64 / 1000.0,
                    true,
                ));
                continue;
            }
            let mut v = smp.v;
            if vs.smoothed && smp.t < t_ref {
                if let Some(nx) = s.samples.get(idx) {
                    if nx.t.saturating_sub(t_ref) < lb && !is_stale_nan(nx.v) {
                        v = smp.v + (nx.v - smp.v) * (t_ref - smp.t) as f64 / (nx.t - smp.t) as f64;
                    }
                }
            }
            out.push(Elem::float(s.labels.clone(), smp.t, v, false));
        }
        self.cursors.insert(key, (t_ref, pos));
        self.smoothing_issues(vs, issues);
        self.count_samples(n)?;
        Ok(out)
    }

    /// The warnings of a smoothed selector that dropped series.
    fn smoothing_issues(&mut self, vs: &VectorSelector, issues: Vec<(SmoothIssue, Arc<Labels>)>) {
        for (issue, labels) in issues {
            let name = labels.get_or_empty("__name__");
            let pos = pos_str(self.text, vs.pos);
            self.ann.warn(match issue {
                SmoothIssue::Mixed => format!(
                    "PromQL warning: encountered a mix of histograms and floats for metric name {name:?} {pos}"
                ),
                SmoothIssue::MixedSchemas => format!(
                    "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {name:?} {pos}"
                ),
            });
        }
    }

    fn select_matrix(
        &mut self,
        vs: &VectorSelector,
        range: &DurExpr,
        ts: i64,
    ) -> Result<MatrixArg> {
        let off = vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
        let t_ref = self.at_ms(&vs.at).unwrap_or(ts).saturating_sub(off);
        let r = self.dur(range);
        let start = t_ref.saturating_sub(r);
        let key = vs as *const VectorSelector as usize;
        let mut out = Vec::new();
        let mut n = 0;
        if let Some(mut streams) = self.streams.remove(&key) {
            let lb = self.lookback;
            let extra = if vs.anchored || vs.smoothed { lb } else { 0 };
            let pull = if vs.smoothed {
                t_ref.saturating_add(lb - 1)
            } else {
                t_ref
            };
            let mut res = Ok(());
            for s in streams.iter_mut() {
                res = s.advance(pull, start.saturating_sub(extra), true);
                if res.is_err() {
                    break;
                }
                let lo = s.buf.partition_point(|x| x.t <= start);
                let hi = s.buf.partition_point(|x| x.t <= t_ref);
                let (fw, hw) = windows(&s.buf, lo, hi, s.hbuf.as_ref(), start, t_ref, vs, lb);
                if fw.is_none() && hw.is_none() {
                    continue;
                }
                let w = s.window(fw, hw);
                n += w.hi - w.lo + hist_samples(w.hdata.as_deref(), w.hlo, w.hhi);
                out.push(w);
            }
            self.streams.insert(key, streams);
            res?;
        } else if let Some(data) = self.data.get(&key).cloned() {
            let (mut pos, fresh) = self.take_cursor(key, t_ref, data.len());
            for (si, s) in data.iter().enumerate() {
                let (lo, hi) = if fresh {
                    (
                        s.samples.partition_point(|x| x.t <= start),
                        s.samples.partition_point(|x| x.t <= t_ref),
                    )
                } else {
                    let lo = seek_after(&s.samples, pos[si].0, start);
                    (lo, seek_after(&s.samples, pos[si].1.max(lo), t_ref))
                };
                pos[si] = (lo, hi);
                let (fw, hw) = windows(
                    &s.samples,
                    lo,
                    hi,
                    s.hists.as_ref(),
                    start,
                    t_ref,
                    vs,
                    self.lookback,
                );
                if fw.is_none() && hw.is_none() {
                    continue;
                }
                let (lo, hi) = fw.unwrap_or((0, 0));
                let (hdata, hlo, hhi) = hw.unwrap_or((None, 0, 0));
                n += hi - lo + hist_samples(hdata.as_deref(), hlo, hhi);
                out.push(Window {
                    labels: s.labels.clone(),
                    data: s.samples.clone(),
                    lo,
                    hi,
                    hst: hdata.as_ref().and(s.hst.clone()),
                    hdata,
                    hlo,
                    hhi,
                    drop_name: false,
                    st: s.st.clone(),
                    no_drop: false,
                });
            }
            self.cursors.insert(key, (t_ref, pos));
        }
        self.count_samples(n)?;
        Ok(MatrixArg {
            series: out,
            start,
            end: t_ref,
            range: r,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_subquery(
        &mut self,
        e: &Expr,
        inner: &Expr,
        range: &DurExpr,
        step: &Option<DurExpr>,
        offset: &Option<DurExpr>,
        at: &Option<AtModifier>,
        ts: i64,
    ) -> Result<MatrixArg> {
        let off = offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
        let t_ref = self.at_ms(at).unwrap_or(ts).saturating_sub(off);
        let r = self.dur(range);
        let st = self.sub_step(step);
        let start = t_ref.saturating_sub(r);
        let mut t = start.div_euclid(st).saturating_mul(st);
        if t <= start {
            t = t.saturating_add(st);
        }
        let key = e as *const Expr as usize;
        // Series are found by the address of a label set they keep alive, else by value.
        let mut by_ptr: FxMap<usize, usize> = FxMap::default();
        let mut index: HashMap<Arc<Labels>, usize> = HashMap::new();
        let mut series: Vec<SubSeries> = Vec::new();
        let mut n = 0;
        while t <= t_ref {
            self.check()?;
            let vec = match self.sub_cache.get(&key).and_then(|m| m.get(&t)) {
                Some(v) => v.clone(),
                None => {
                    let v = match self.eval(inner, t)? {
                        Arg::Vector(v) => v,
                        Arg::Scalar(s) => vec![Elem::float(Arc::new(Labels::empty()), t, s, false)],
                        _ => {
                            return Err(Error::Execution(
                                "subquery must evaluate to an instant vector".into(),
                            ))
                        }
                    };
                    self.sub_cache.entry(key).or_default().insert(t, v.clone());
                    v
                }
            };
            for el in vec {
                let i = match by_ptr.get(&(Arc::as_ptr(&el.labels) as usize)) {
                    Some(i) => *i,
                    None => match index.get(&el.labels) {
                        Some(i) => *i,
                        None => {
                            by_ptr.insert(Arc::as_ptr(&el.labels) as usize, series.len());
                            index.insert(el.labels.clone(), series.len());
                            series.push(SubSeries {
                                labels: el.labels.clone(),
                                floats: Vec::new(),
                                hists: Vec::new(),
                                drop: false,
                            });
                            series.len() - 1
                        }
                    },
                };
                let ss = &mut series[i];
                ss.drop |= el.drop_name;
                match el.h {
                    None => {
                        n += 1;
                        ss.floats.push(Sample { t, v: el.v });
                    }
                    Some(mut h) => {
                        n += hpoint_size(&h);
                        // As Prometheus: explicit counter reset hints mean nothing across a
                        // subquery's steps (samples may be skipped or repeated).
                        if matches!(
                            h.counter_reset_hint,
                            CounterResetHint::NotCounterReset | CounterResetHint::CounterReset
                        ) {
                            Arc::make_mut(&mut h).counter_reset_hint = CounterResetHint::Unknown;
                        }
                        ss.hists.push(HPoint { t, h });
                    }
                }
            }
            self.note_peak(n);
            if n + self.step_samples + self.out_samples > self.max_samples {
                return Err(Error::TooManySamples("query execution"));
            }
            match t.checked_add(st) {
                Some(x) => t = x,
                None => break,
            }
        }
        // Later windows start later: forget inner results they cannot need.
        if let Some(m) = self.sub_cache.get_mut(&key) {
            *m = m.split_off(&(start + 1));
        }
        self.count_samples(n)?;
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        let out = series
            .into_iter()
            .map(|s| {
                let len = s.floats.len();
                let hlen = s.hists.len();
                // Subqueries cut the propagation of start timestamps, as in Prometheus.
                Window {
                    labels: s.labels,
                    data: Arc::new(s.floats),
                    lo: 0,
                    hi: len,
                    hdata: (hlen > 0).then(|| Arc::new(s.hists)),
                    hst: None,
                    hlo: 0,
                    hhi: hlen,
                    drop_name: s.drop,
                    st: None,
                    no_drop: false,
                }
            })
            .collect();
        Ok(MatrixArg {
            series: out,
            start,
            end: t_ref,
            range: r,
        })
    }

    pub(crate) fn eval(&mut self, e: &Expr, ts: i64) -> Result<Arg> {
        guard(|| self.eval_node(e, ts))
    }

    fn eval_node(&mut self, e: &Expr, ts: i64) -> Result<Arg> {
        self.checks = self.checks.wrapping_add(1);
        if self.checks.is_multiple_of(64) {
            self.check()?;
        }
        match e {
            Expr::Number { v, .. } => Ok(Arg::Scalar(*v)),
            Expr::Str { s, .. } => Ok(Arg::Str(s.clone())),
            Expr::Paren { expr, .. } => self.eval(expr, ts),
            Expr::Unary { neg, expr, .. } => {
                let v = self.eval(expr, ts)?;
                if !*neg {
                    return Ok(v);
                }
                Ok(match v {
                    Arg::Scalar(s) => Arg::Scalar(-s),
                    Arg::Vector(mut els) => {
                        for el in &mut els {
                            el.v = -el.v;
                            if let Some(h) = el.h.as_mut() {
                                Arc::make_mut(h).mul(-1.0);
                            }
                            el.drop_name = true;
                        }
                        Arg::Vector(els)
                    }
                    other => other,
                })
            }
            Expr::Vector(vs) => Ok(Arg::Vector(self.select_vector(vs, ts)?)),
            Expr::Matrix { vs, range, .. } => Ok(Arg::Matrix(self.select_matrix(vs, range, ts)?)),
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
                ..
            } => Ok(Arg::Matrix(
                self.eval_subquery(e, expr, range, step, offset, at, ts)?,
            )),
            Expr::Binary {
                op,
                lhs,
                rhs,
                mods,
                pos,
            } => {
                let l = self.eval(lhs, ts)?;
                let r = self.eval(rhs, ts)?;
                let (v, ann) = binary::eval_binary(
                    *op,
                    mods,
                    l,
                    r,
                    ts,
                    e as *const Expr as usize,
                    &mut self.binop_cache,
                )?;
                if let Some(a) = ann {
                    let (msg, warn) = a.message();
                    let msg = format!("{msg} {}", pos_str(self.text, *pos));
                    if warn {
                        self.ann.warn(msg);
                    } else {
                        self.ann.info(msg);
                    }
                }
                Ok(v)
            }
            Expr::Aggregate(_) if self.precomputed.contains_key(&(e as *const Expr as usize)) => {
                Ok(Arg::Vector(self.take_precomputed(e, ts)))
            }
            Expr::Aggregate(a) => {
                let param = match &a.param {
                    Some(p) => Some(self.eval(p, ts)?),
                    None => None,
                };
                let v = match self.eval(&a.expr, ts)? {
                    Arg::Vector(v) => v,
                    _ => return Err(Error::Execution("aggregation over a non-vector".into())),
                };
                aggregate::aggregate(self, a, param, v, ts)
            }
            Expr::Call { func, args, .. } if func == "info" => self.eval_info(e, args, ts),
            Expr::Call { .. } if self.precomputed.contains_key(&(e as *const Expr as usize)) => {
                Ok(Arg::Vector(self.take_precomputed(e, ts)))
            }
            Expr::Call { func, args, .. } if func == "start_timestamp" => {
                // Start timestamps reach the function only straight from a selector: of any
                // other expression the result is empty, as in Prometheus.
                match args.first() {
                    Some(Expr::Vector(vs)) => {
                        Ok(Arg::Vector(self.select_vector_impl(vs, ts, true)?))
                    }
                    Some(a) => {
                        self.eval(a, ts)?;
                        Ok(Arg::Vector(Vec::new()))
                    }
                    None => Err(Error::BadData(
                        "wrong number of arguments in call to \"start_timestamp\"".into(),
                    )),
                }
            }
            Expr::Call { func, args, pos } => self.eval_call(func, args, *pos, ts),
        }
    }

    /// The precomputed row of `e` at step `ts` (each is taken once), with the annotations the
    /// step raised.
    fn take_precomputed(&mut self, e: &Expr, ts: i64) -> Vec<Elem> {
        let key = e as *const Expr as usize;
        let idx = if self.interval > 0 {
            ((ts - self.start) / self.interval) as usize
        } else {
            0
        };
        if let Some(a) = self.step_ann.remove(&(key, idx)) {
            self.ann.merge(a);
        }
        self.precomputed
            .get_mut(&key)
            .and_then(|p| p.get_mut(idx))
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn eval_info(&mut self, e: &Expr, args: &[Expr], ts: i64) -> Result<Arg> {
        let base = match args.first() {
            Some(a) => match self.eval(a, ts)? {
                Arg::Vector(v) => v,
                _ => return Err(Error::Execution("info() needs an instant vector".into())),
            },
            None => vec![],
        };
        let (name_ms, data_ms) = info_matchers(args.get(1));
        let key = e as *const Expr as usize;
        let rt = args.first().map(|a| self.ref_time(a, ts)).unwrap_or(ts);
        let mut infos: Vec<(Arc<Labels>, i64)> = Vec::new();
        if let Some(d) = self.data.get(&key) {
            for s in d.iter() {
                if let Some(hs) = &s.hists {
                    let p = plain_sample(&s.samples, hs, rt, self.lookback, false);
                    if p.is_some_and(|p| p.h.is_some())
                        && name_ms
                            .iter()
                            .all(|m| m.matches(s.labels.get_or_empty(&m.name)))
                    {
                        return Err(Error::Execution("info sample should be float".into()));
                    }
                }
                let idx = s.samples.partition_point(|x| x.t <= rt);
                if idx == 0 {
                    continue;
                }
                let smp = s.samples[idx - 1];
                if smp.t <= rt.saturating_sub(self.lookback) || is_stale_nan(smp.v) {
                    continue;
                }
                if name_ms
                    .iter()
                    .all(|m| m.matches(s.labels.get_or_empty(&m.name)))
                {
                    infos.push((s.labels.clone(), smp.t));
                }
            }
        }
        let mut out = Vec::with_capacity(base.len());
        for el in base {
            let positive = name_ms
                .iter()
                .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::RegexMatch));
            if positive
                && name_ms
                    .iter()
                    .all(|m| m.matches(el.labels.get_or_empty("__name__")))
            {
                out.push(el);
                continue;
            }
            let inst = el.labels.get_or_empty("instance");
            let job = el.labels.get_or_empty("job");
            let mut added: Vec<(sightline_model::ArcStr, sightline_model::ArcStr)> = Vec::new();
            let mut found = false;
            // Per info metric name, only the series with the newest sample counts (churn).
            let mut chosen: Vec<(&Arc<Labels>, i64)> = Vec::new();
            for (inf, t) in &infos {
                if inf.get_or_empty("instance") != inst || inf.get_or_empty("job") != job {
                    continue;
                }
                if !data_ms.iter().all(|m| m.matches(inf.get_or_empty(&m.name))) {
                    continue;
                }
                match chosen
                    .iter_mut()
                    .find(|(l, _)| l.metric_name() == inf.metric_name())
                {
                    Some(c) if c.1 < *t => *c = (inf, *t),
                    Some(_) => {}
                    None => chosen.push((inf, *t)),
                }
            }
            for (inf, _) in chosen {
                found = true;
                for l in inf.iter() {
                    if l.name == "__name__" || l.name == "instance" || l.name == "job" {
                        continue;
                    }
                    if !data_ms.is_empty() && !data_ms.iter().any(|m| m.name == l.name) {
                        continue;
                    }
                    if el.labels.has(&l.name) {
                        continue;
                    }
                    match added.iter().find(|(n, _)| *n == l.name) {
                        Some((_, v)) if *v != l.value => {
                            return Err(Error::Execution(format!(
                                "conflicting label: {:?} has values {:?} and {:?}",
                                l.name, v, l.value
                            )));
                        }
                        Some(_) => {}
                        None => added.push((l.name.clone(), l.value.clone())),
                    }
                }
            }
            if !found {
                if data_ms.iter().all(|m| m.matches_empty()) {
                    out.push(el);
                }
                continue;
            }
            if added.is_empty() {
                out.push(el);
                continue;
            }
            let mut b = el.labels.builder();
            for (n, v) in added {
                b.set(n, v);
            }
            out.push(Elem {
                labels: Arc::new(b.build()),
                ..el
            });
        }
        Ok(Arg::Vector(out))
    }

    /// The time the samples of `e` come from at step `ts` (after `@` and `offset`), which is
    /// when `info()` looks its info series up.
    fn ref_time(&self, e: &Expr, ts: i64) -> i64 {
        guard(|| self.ref_time_node(e, ts))
    }

    fn ref_time_node(&self, e: &Expr, ts: i64) -> i64 {
        match e {
            Expr::Vector(vs) | Expr::Matrix { vs, .. } => {
                self.at_ms(&vs.at).unwrap_or(ts)
                    - vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0)
            }
            Expr::Subquery {
                expr, offset, at, ..
            } => {
                let t = self.at_ms(at).unwrap_or(ts)
                    - offset.as_ref().map(|d| self.dur(d)).unwrap_or(0);
                self.ref_time(expr, t)
            }
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => self.ref_time(expr, ts),
            Expr::Aggregate(a) => self.ref_time(&a.expr, ts),
            Expr::Call { args, .. } => match args
                .iter()
                .find(|a| !matches!(a, Expr::Number { .. } | Expr::Str { .. }))
            {
                Some(a) => self.ref_time(a, ts),
                None => ts,
            },
            Expr::Binary { lhs, .. } => self.ref_time(lhs, ts),
            _ => ts,
        }
    }

    fn eval_call(&mut self, func: &str, args: &[Expr], pos: PosRange, ts: i64) -> Result<Arg> {
        let def = match self.reg.get(func) {
            Some(d) => d.clone(),
            None => return Err(Error::Execution(format!("unknown function {func:?}"))),
        };
        // The parser checks arity; a hand-built tree must not reach a function with too few
        // arguments either.
        let min_args = def.arg_types.len() - def.optional.min(def.arg_types.len());
        if args.len() < min_args || (!def.variadic && args.len() > def.arg_types.len()) {
            return Err(Error::BadData(format!(
                "wrong number of arguments in call to {func:?}"
            )));
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, ts)?);
        }
        let mut ctx = FnCtx {
            ts,
            start: self.start,
            end: self.end,
            step: self.interval,
            is_range_query: self.is_range,
            args,
            call_pos: pos,
            text: self.text,
            ann: &mut self.ann,
            label_cache: &mut self.label_cache,
            hash_cache: &mut self.hash_cache,
            cache_cap: self.cache_cap,
        };
        let out = (def.imp)(&mut ctx, vals)?;
        Ok(match out {
            FnOut::Scalar(v) => Arg::Scalar(v),
            FnOut::Vector(v) => Arg::Vector(v),
        })
    }
}

/// Splits `info()`'s selector into `__name__` matchers (defaulting to `target_info`) and data
/// label matchers.
fn info_matchers(
    sel: Option<&Expr>,
) -> (Vec<sightline_model::Matcher>, Vec<sightline_model::Matcher>) {
    let ms = match sel {
        Some(Expr::Vector(vs)) => vs.matchers.clone(),
        _ => vec![],
    };
    let (mut name, data): (Vec<_>, Vec<_>) = ms.into_iter().partition(|m| m.name == "__name__");
    if name.is_empty() {
        name.push(sightline_model::Matcher::equal("__name__", "target_info"));
    }
    (name, data)
}

/// The signature of a binary expression's matching labels.
pub(crate) fn matching_names(on: bool, names: &[String]) -> Vec<String> {
    let mut v: Vec<String> = names.to_vec();
    if !on {
        v.push("__name__".to_string());
    }
    v.sort();
    v.dedup();
    v
}

/// Whether `op` drops the metric name.
pub(crate) fn drops_name(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow | BinOp::Atan2
    )
}

/// The first index at or after `from` whose sample is newer than `t`, assuming every sample
/// before `from` is not. Walks a few samples, then falls back to a binary search.
fn seek_after(samples: &[Sample], from: usize, t: i64) -> usize {
    let mut i = from.min(samples.len());
    let mut steps = 0;
    while i < samples.len() && samples[i].t <= t {
        i += 1;
        steps += 1;
        if steps > 16 {
            return i + samples[i..].partition_point(|x| x.t <= t);
        }
    }
    i
}

/// Whether `e` calls the function `name` anywhere.
fn calls_function(e: &Expr, name: &str) -> bool {
    guard(|| calls_function_node(e, name))
}

fn calls_function_node(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Call { func, args, .. } => {
            func == name || args.iter().any(|a| calls_function(a, name))
        }
        Expr::Subquery { expr, .. } | Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
            calls_function(expr, name)
        }
        Expr::Binary { lhs, rhs, .. } => calls_function(lhs, name) || calls_function(rhs, name),
        Expr::Aggregate(a) => {
            a.param.as_ref().is_some_and(|p| calls_function(p, name))
                || calls_function(&a.expr, name)
        }
        Expr::Vector(_) | Expr::Matrix { .. } | Expr::Number { .. } | Expr::Str { .. } => false,
    }
}

/// Collects the keys of selectors that sit inside a subquery.
fn selectors_under_subqueries(e: &Expr, under: bool, out: &mut std::collections::HashSet<usize>) {
    guard(|| selectors_under_subqueries_node(e, under, out))
}

fn selectors_under_subqueries_node(
    e: &Expr,
    under: bool,
    out: &mut std::collections::HashSet<usize>,
) {
    match e {
        Expr::Vector(vs) | Expr::Matrix { vs, .. } => {
            if under {
                out.insert(vs as *const VectorSelector as usize);
            }
        }
        Expr::Subquery { expr, .. } => selectors_under_subqueries(expr, true, out),
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
            selectors_under_subqueries(expr, under, out)
        }
        Expr::Binary { lhs, rhs, .. } => {
            selectors_under_subqueries(lhs, under, out);
            selectors_under_subqueries(rhs, under, out);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                selectors_under_subqueries(p, under, out);
            }
            selectors_under_subqueries(&a.expr, under, out);
        }
        Expr::Call { args, .. } => args
            .iter()
            .for_each(|a| selectors_under_subqueries(a, under, out)),
        Expr::Number { .. } | Expr::Str { .. } => {}
    }
}
