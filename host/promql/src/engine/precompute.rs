//! Range functions over a streamed range selector in a range query (`rate(x[5m])`,
//! `max_over_time(...)`), computed for all steps before the step loop runs, a chunk of series
//! at a time and chunks in parallel on large selectors.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use super::release::release_stream;
use super::{Annotations, Ev, StreamSeries};
use crate::ast::{DurExpr, Expr, PosRange, VectorSelector};
use crate::error::{Error, Result};
use crate::functions::{FnCtx, FunctionDef};
use crate::fxhash::FxMap;
use crate::parallel::map_chunks;
use crate::select::windows;
use crate::stack::guard;
use crate::value::{Arg, Elem, FnOut, MatrixArg};
use sightline_storage_api::Queryable;

impl<'a> Ev<'a> {
    /// Range functions over a streamed range selector (`rate(x[5m])`, `max_over_time(...)`)
    /// are computed over all steps before the step loop runs, as Prometheus does: each
    /// series' samples are read once, a chunk of series at a time, and stay in cache.
    pub(super) fn precompute_calls(&mut self, q: &dyn Queryable, e: &Expr) -> Result<()> {
        self.precompute(q, e, true)
    }

    /// Streams the aggregations of `e` that can be (`stream_agg.rs`) and, with `calls`,
    /// precomputes the range functions (range queries only).
    pub(super) fn precompute(&mut self, q: &dyn Queryable, e: &Expr, calls: bool) -> Result<()> {
        guard(|| self.precompute_node(q, e, calls))
    }

    fn precompute_node(&mut self, q: &dyn Queryable, e: &Expr, calls: bool) -> Result<()> {
        match e {
            Expr::Call { func, args, pos } => {
                if calls && self.try_precompute(q, e, func, args, *pos)? {
                    return Ok(());
                }
                for a in args {
                    self.precompute(q, a, calls)?;
                }
                Ok(())
            }
            // Subqueries evaluate their inner expression at their own steps.
            Expr::Subquery { .. }
            | Expr::Number { .. }
            | Expr::Str { .. }
            | Expr::Vector(_)
            | Expr::Matrix { .. } => Ok(()),
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => self.precompute(q, expr, calls),
            Expr::Binary { lhs, rhs, .. } => {
                self.precompute(q, lhs, calls)?;
                self.precompute(q, rhs, calls)
            }
            Expr::Aggregate(a) => {
                if self.try_stream_aggregate(q, e, a)? {
                    return Ok(());
                }
                if let Some(p) = &a.param {
                    self.precompute(q, p, calls)?;
                }
                self.precompute(q, &a.expr, calls)
            }
        }
    }

    fn try_precompute(
        &mut self,
        q: &dyn Queryable,
        e: &Expr,
        func: &str,
        args: &[Expr],
        pos: PosRange,
    ) -> Result<bool> {
        if let Some((_, vs, _)) = precomputable(func, args) {
            self.undefer(q, vs as *const VectorSelector as usize)?;
        }
        let Some((call, mut streams)) = self.take_call(func, args) else {
            return Ok(false);
        };
        let job = self.job(&call, args, pos, self.max_samples);
        let threads = self.threads_for(streams.len());
        let chunk = chunk_size(streams.len(), threads);
        let chunks = map_chunks(&mut streams, chunk, threads, |_, c| job.run(c))?;
        let mut out: Vec<Vec<Elem>> = vec![Vec::new(); job.n_steps];
        for c in chunks {
            self.ann.merge(c.ann);
            for (row, part) in out.iter_mut().zip(c.rows) {
                if row.is_empty() {
                    *row = part;
                } else {
                    row.extend(part);
                }
            }
        }
        // These streams are used up here rather than returned to `self.streams`.
        self.read_samples += streams.iter().map(|s| s.read).sum::<usize>();
        self.precomputed.insert(e as *const Expr as usize, out);
        Ok(true)
    }

    /// The parts of a call that can be precomputed (see [`precomputable`]) whose selector's
    /// streams are loaded; the streams are taken out of `self.streams`.
    pub(super) fn take_call<'e>(
        &mut self,
        func: &str,
        args: &'e [Expr],
    ) -> Option<(Call<'e>, Vec<StreamSeries>)> {
        if self.interval <= 0 {
            return None;
        }
        let call = self.call_parts(func, args)?;
        let key = call.vs as *const VectorSelector as usize;
        let streams = self.streams.remove(&key)?;
        Some((call, streams))
    }

    /// The parts of a call that can be precomputed (see [`precomputable`]).
    pub(super) fn call_parts<'e>(&self, func: &str, args: &'e [Expr]) -> Option<Call<'e>> {
        let (mi, vs, range) = precomputable(func, args)?;
        let lits = args
            .iter()
            .map(|a| match a {
                Expr::Number { v, .. } => Some(Arg::Scalar(*v)),
                Expr::Str { s, .. } => Some(Arg::Str(s.clone())),
                _ => None,
            })
            .collect();
        let def = self.reg.get(func).cloned()?;
        Some(Call {
            def,
            lits,
            mi,
            vs,
            range,
        })
    }

    /// The work every chunk of `call` shares; `max_samples` bounds the call's output samples
    /// over all chunks and steps.
    pub(super) fn job<'j>(
        &self,
        call: &'j Call<'j>,
        args: &'j [Expr],
        pos: PosRange,
        max_samples: usize,
    ) -> Job<'j>
    where
        'a: 'j,
    {
        let vs = call.vs;
        Job {
            def: &call.def,
            lits: &call.lits,
            mi: call.mi,
            args,
            pos,
            text: self.text,
            start: self.start,
            end: self.end,
            interval: self.interval,
            // An instant query is one step at `start`.
            n_steps: if self.interval > 0 {
                ((self.end - self.start) / self.interval + 1) as usize
            } else {
                1
            },
            at: self.at_ms(&vs.at),
            off: vs.offset.as_ref().map(|d| self.dur(d)).unwrap_or(0),
            r: self.dur(call.range),
            lb: self.lookback,
            vs,
            cancel: self.cancel,
            deadline: self.deadline,
            max_samples,
            total: AtomicUsize::new(0),
        }
    }

    /// The threads for work over `n` series.
    pub(super) fn threads_for(&self, n: usize) -> usize {
        if n >= self.par_min_series {
            self.threads
        } else {
            1
        }
    }
}

/// Whether a call is a range function of one range selector whose other arguments are
/// literals, computed per series: its selector's position, the selector and its range.
pub(super) fn precomputable<'e>(
    func: &str,
    args: &'e [Expr],
) -> Option<(usize, &'e VectorSelector, &'e DurExpr)> {
    const PER_SERIES: &[&str] = &[
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "sum_over_time",
        "avg_over_time",
        "count_over_time",
        "min_over_time",
        "max_over_time",
        "last_over_time",
        "first_over_time",
        "present_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "changes",
        "resets",
        "deriv",
        "mad_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
        "ts_of_last_over_time",
        "ts_of_first_over_time",
        "quantile_over_time",
        "predict_linear",
        "double_exponential_smoothing",
        "holt_winters",
    ];
    if !PER_SERIES.contains(&func) {
        return None;
    }
    // Exactly one range selector argument; every other argument a literal.
    let mut sel = None;
    for (i, a) in args.iter().enumerate() {
        match a {
            Expr::Matrix { vs, range, .. } if sel.is_none() => sel = Some((i, vs, range)),
            Expr::Number { .. } | Expr::Str { .. } => {}
            _ => return None,
        }
    }
    sel
}

/// A precomputable call's parts (see [`Ev::take_call`]).
pub(super) struct Call<'e> {
    def: FunctionDef,
    lits: Vec<Option<Arg>>,
    mi: usize,
    pub(super) vs: &'e VectorSelector,
    range: &'e DurExpr,
}

/// Series per chunk of precomputation: enough to amortise one function call per chunk and step,
/// few enough that the chunk's samples stay in cache across its steps.
const CHUNK_SERIES: usize = 256;

/// The chunk size for `n` series on `threads` threads: [`CHUNK_SERIES`], or smaller so that
/// every thread gets a few chunks (only with a low `parallel_min_series`, as in tests).
pub(super) fn chunk_size(n: usize, threads: usize) -> usize {
    if threads <= 1 {
        return CHUNK_SERIES;
    }
    n.div_ceil(threads * 4).clamp(1, CHUNK_SERIES)
}

/// What every chunk of one precomputed call shares.
pub(super) struct Job<'j> {
    def: &'j FunctionDef,
    lits: &'j [Option<Arg>],
    /// The argument position of the range selector.
    mi: usize,
    args: &'j [Expr],
    pos: PosRange,
    text: &'j str,
    start: i64,
    end: i64,
    interval: i64,
    pub(super) n_steps: usize,
    at: Option<i64>,
    off: i64,
    r: i64,
    lb: i64,
    vs: &'j VectorSelector,
    cancel: Option<&'j AtomicBool>,
    deadline: Instant,
    max_samples: usize,
    /// Output samples of every chunk so far (against `--query.max-samples`).
    total: AtomicUsize,
}

/// One chunk's rows (one per step, its series in order) and the annotations it raised.
pub(super) struct ChunkRows {
    pub(super) rows: Vec<Vec<Elem>>,
    pub(super) ann: Annotations,
}

impl Job<'_> {
    fn check(&self) -> Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Canceled("query execution"));
        }
        if Instant::now() > self.deadline {
            return Err(Error::Timeout("query execution"));
        }
        Ok(())
    }

    /// Evaluates the call over `series` at every step: one call of the function per step with
    /// the windows of all the chunk's series (in order), so the output of a step is what the
    /// step-by-step evaluation gives for these series.
    pub(super) fn run(&self, series: &mut [StreamSeries]) -> Result<ChunkRows> {
        let vs = self.vs;
        let extra = if vs.anchored || vs.smoothed {
            self.lb
        } else {
            0
        };
        let mut ann = Annotations::default();
        let mut label_cache = FxMap::default();
        let mut hash_cache = FxMap::default();
        let mut rows: Vec<Vec<Elem>> = Vec::with_capacity(self.n_steps);
        for i in 0..self.n_steps {
            self.check()?;
            let ts = self.start + i as i64 * self.interval;
            let t_ref = self.at.unwrap_or(ts).saturating_sub(self.off);
            let start = t_ref.saturating_sub(self.r);
            let pull = if vs.smoothed {
                t_ref.saturating_add(self.lb - 1)
            } else {
                t_ref
            };
            let mut wins = Vec::with_capacity(series.len());
            // The chunk's series mostly hold as many samples as each other: a buffer's first
            // read starts with room for the largest so far (plus a quarter for what later
            // steps pull before the buffer drops its front), not growing sample by sample.
            let mut hint = 0;
            for s in series.iter_mut() {
                s.reserve_first(hint + hint / 4);
                s.advance(pull, start.saturating_sub(extra), true)?;
                hint = hint.max(s.buf.len());
                let lo = s.buf.partition_point(|x| x.t <= start);
                let hi = s.buf.partition_point(|x| x.t <= t_ref);
                let (fw, hw) = windows(&s.buf, lo, hi, s.hbuf.as_ref(), start, t_ref, vs, self.lb);
                if fw.is_none() && hw.is_none() {
                    continue;
                }
                wins.push(s.window(fw, hw));
            }
            if wins.is_empty() {
                rows.push(Vec::new());
                continue;
            }
            let mut m = Some(MatrixArg {
                series: wins,
                start,
                end: t_ref,
                range: self.r,
            });
            let vals: Vec<Arg> = self
                .lits
                .iter()
                .enumerate()
                .map(|(j, l)| match l {
                    Some(a) => a.clone(),
                    None if j == self.mi => Arg::Matrix(m.take().unwrap_or(MatrixArg {
                        series: vec![],
                        start,
                        end: t_ref,
                        range: self.r,
                    })),
                    None => Arg::Scalar(f64::NAN),
                })
                .collect();
            let mut ctx = FnCtx {
                ts,
                start: self.start,
                end: self.end,
                step: self.interval,
                is_range_query: self.interval > 0,
                args: self.args,
                call_pos: self.pos,
                text: self.text,
                ann: &mut ann,
                label_cache: &mut label_cache,
                hash_cache: &mut hash_cache,
                cache_cap: super::CACHE_MIN,
            };
            match (self.def.imp)(&mut ctx, vals)? {
                FnOut::Vector(v) => {
                    let total = self.total.fetch_add(v.len(), Ordering::Relaxed) + v.len();
                    if total > self.max_samples {
                        return Err(Error::TooManySamples("query execution"));
                    }
                    rows.push(v);
                }
                FnOut::Scalar(_) => rows.push(Vec::new()),
            }
        }
        // The chunk's series are read to the end: their storage goes now, while later chunks
        // are computed, rather than with the whole selector.
        series.iter_mut().for_each(release_stream);
        Ok(ChunkRows { rows, ann })
    }
}
