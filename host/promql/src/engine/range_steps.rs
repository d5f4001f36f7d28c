//! The step loop of a range query: evaluates the expression at every step and assembles the
//! result matrix by label set.
//!
//! Once every streamed selector has been used up by precomputation (`precompute.rs`), a step
//! reads only precomputed rows and whole-loaded data, so steps are independent: blocks of
//! consecutive steps then run in parallel on forks of the evaluator (each with its own caches),
//! and the blocks' results are joined in step order. Each step is evaluated exactly as on one
//! thread (the same inputs in the same order), so the result is bit-identical; annotations are
//! merged in step order, and the samples limit is checked against the sequential running totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sightline_model::{Labels, Sample};

use super::{finish_labels, Annotations, Ev, Scope};
use crate::ast::Expr;
use crate::error::{Error, Result};
use crate::fxhash::FxMap;
use crate::parallel::map_chunks;
use crate::select::hpoint_size;
use crate::value::{Arg, Elem, HPoint, RangeSeries};

/// The result matrix of a range query while it is assembled.
#[derive(Default)]
pub(super) struct Assembly {
    series: HashMap<Labels, usize>,
    /// Label sets seen before, by address (the `Arc` kept alive so the address stays unique
    /// within the query) and whether the name is dropped.
    by_ptr: FxMap<(usize, bool), (Arc<Labels>, usize)>,
    out: Vec<RangeSeries>,
}

impl Assembly {
    /// Adds one step's value at `ts`; returns the output samples it added.
    fn push(&mut self, v: Arg, ts: i64) -> Result<usize> {
        let mut added = 0;
        match v {
            Arg::Scalar(v) => {
                let idx = *self.series.entry(Labels::empty()).or_insert_with(|| {
                    self.out.push(RangeSeries {
                        labels: Labels::empty(),
                        samples: vec![],
                        histograms: vec![],
                    });
                    self.out.len() - 1
                });
                self.out[idx].samples.push(Sample { t: ts, v });
                added += 1;
            }
            Arg::Vector(els) => {
                for e in els {
                    let idx = self.index_of(&e);
                    let rs = &mut self.out[idx];
                    if rs.samples.last().is_some_and(|s| s.t == ts)
                        || rs.histograms.last().is_some_and(|s| s.t == ts)
                    {
                        return Err(Error::Execution(
                            "vector cannot contain metrics with the same labelset".into(),
                        ));
                    }
                    match e.h {
                        None => {
                            rs.samples.push(Sample { t: ts, v: e.v });
                            added += 1;
                        }
                        Some(h) => {
                            added += hpoint_size(&h);
                            rs.histograms.push(HPoint { t: ts, h });
                        }
                    }
                }
            }
            _ => {
                return Err(Error::Execution(
                    "unexpected value type in range query".into(),
                ))
            }
        }
        Ok(added)
    }

    /// The output series of `e`. Most elements share their label set with earlier steps (same
    /// `Arc`): those are looked up by address.
    fn index_of(&mut self, e: &Elem) -> usize {
        let key = (Arc::as_ptr(&e.labels) as usize, e.drop_name);
        if let Some((_, i)) = self.by_ptr.get(&key) {
            return *i;
        }
        let l = finish_labels(e);
        let i = match self.series.get(&l) {
            Some(i) => *i,
            None => {
                self.out.push(RangeSeries {
                    labels: l.clone(),
                    samples: vec![],
                    histograms: vec![],
                });
                self.series.insert(l, self.out.len() - 1);
                self.out.len() - 1
            }
        };
        self.by_ptr.insert(key, (e.labels.clone(), i));
        i
    }

    /// Appends the series of `later`, assembled from later steps than any here.
    fn append(&mut self, later: Assembly) {
        for rs in later.out {
            match self.series.get(&rs.labels) {
                Some(&i) => {
                    let d = &mut self.out[i];
                    d.samples.extend(rs.samples);
                    d.histograms.extend(rs.histograms);
                }
                None => {
                    self.series.insert(rs.labels.clone(), self.out.len());
                    self.out.push(rs);
                }
            }
        }
    }

    /// The result matrix, sorted by label set.
    fn finish(self) -> Vec<RangeSeries> {
        let mut out = self.out;
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

/// What one block of steps left: its series, its annotations and sample counts relative to
/// the block's start (the sequential totals add the earlier blocks' output samples).
struct BlockOut {
    asm: Assembly,
    ann: Annotations,
    /// Per finished step: the block's output samples so far plus the step's working samples
    /// (what the sequential loop compares with the samples limit, less the earlier blocks').
    at_step_end: Vec<usize>,
    out_samples: usize,
    peak_samples: usize,
    /// The error that ended the block, or none (also when it stopped because an earlier block
    /// failed).
    err: Option<Error>,
}

/// One block of consecutive steps and the evaluator fork that runs it.
struct Block<'a> {
    first: usize,
    steps: usize,
    ev: Ev<'a>,
}

impl<'a> Ev<'a> {
    /// Evaluates `expr` at every step of the range query and assembles the result matrix.
    pub(super) fn range_steps(&mut self, expr: &Expr) -> Result<Vec<RangeSeries>> {
        let n_steps = ((self.end - self.start) / self.interval + 1) as usize;
        let bare = self.precomputed_node(expr);
        if let Some((key, true)) = bare {
            if let Some(out) = self.assemble_precomputed(key, n_steps)? {
                return Ok(out);
            }
        }
        let blocks = self.threads.min(n_steps);
        if blocks > 1
            && bare.is_none()
            && self.steps_are_independent()
            && self.per_step_rows() >= self.par_min_series
        {
            return self.range_steps_parallel(expr, n_steps, blocks);
        }
        let mut asm = Assembly::default();
        let mut at_step_end = Vec::new();
        self.run_steps(expr, 0, n_steps, &mut asm, &mut at_step_end, None)?;
        Ok(asm.finish())
    }

    /// The key of `expr`'s precomputed rows when it is a precomputed node itself, and whether
    /// it is a call (not a streamed aggregation): its steps only hand over their rows, so a
    /// call's matrix is built from them directly (`assemble.rs`; an aggregation's rows carry
    /// step annotations, so they go through the step loop), and forks would cost more (each
    /// builds its series' labels again, the join re-keys them) than they save (measured:
    /// `rate(x[2m])` 108 -> 144 ms on the heavy bench).
    fn precomputed_node(&self, expr: &Expr) -> Option<(usize, bool)> {
        let mut e = expr;
        while let Expr::Paren { expr, .. } = e {
            e = expr;
        }
        let key = e as *const Expr as usize;
        let is_call = matches!(e, Expr::Call { .. });
        ((is_call || matches!(e, Expr::Aggregate(_))) && self.precomputed.contains_key(&key))
            .then_some((key, is_call))
    }

    /// Whether no step depends on an earlier one: no streamed selector is left (their buffers
    /// move forward with the steps); precomputed rows and whole-loaded data are read-only.
    fn steps_are_independent(&self) -> bool {
        self.streams.values().all(Vec::is_empty)
    }

    /// The average precomputed elements per step (the work a step has to do).
    fn per_step_rows(&self) -> usize {
        let (mut elems, mut steps) = (0usize, 1usize);
        for rows in self.precomputed.values() {
            elems += rows.iter().map(Vec::len).sum::<usize>();
            steps = steps.max(rows.len());
        }
        elems / steps
    }

    /// Steps `first..first + steps` on this evaluator, into `asm`. Stops before a step when
    /// `stop_before` (the lowest failed block) says an earlier block failed.
    fn run_steps(
        &mut self,
        expr: &Expr,
        first: usize,
        steps: usize,
        asm: &mut Assembly,
        at_step_end: &mut Vec<usize>,
        stop: Option<(&AtomicUsize, usize)>,
    ) -> Result<()> {
        for i in first..first + steps {
            if stop.is_some_and(|(s, me)| s.load(Ordering::Relaxed) < me) {
                return Ok(());
            }
            let ts = self.start + i as i64 * self.interval;
            self.check()?;
            self.step_samples = 0;
            let v = self.eval(expr, ts)?;
            self.out_samples += asm.push(v, ts)?;
            self.note_peak(0);
            at_step_end.push(self.out_samples + self.step_samples);
            if self.out_samples + self.step_samples > self.max_samples {
                return Err(Error::TooManySamples("query execution"));
            }
        }
        Ok(())
    }

    /// An evaluator for a block of steps: the same query and loaded data, its own caches and
    /// counters, and the precomputed rows of its steps only.
    fn fork(&self, precomputed: HashMap<usize, Vec<Vec<Elem>>>) -> Ev<'a> {
        let mut ev = Ev::new(Scope {
            threads: 1,
            ..self.scope()
        });
        ev.data = self.data.clone();
        ev.streams = self.streams.keys().map(|k| (*k, Vec::new())).collect();
        ev.precomputed = precomputed;
        ev.step_ann = self.step_ann.clone();
        // The block's caches are its own; they hold what the whole query's would.
        ev.cache_cap = self.cache_cap;
        ev.binop_cache.cap = self.binop_cache.cap;
        ev
    }

    fn range_steps_parallel(
        &mut self,
        expr: &Expr,
        n_steps: usize,
        blocks: usize,
    ) -> Result<Vec<RangeSeries>> {
        // Block `b` runs steps `bounds[b]..bounds[b + 1]`.
        let bounds: Vec<usize> = (0..=blocks).map(|b| b * n_steps / blocks).collect();
        let mut parts: Vec<HashMap<usize, Vec<Vec<Elem>>>> = vec![HashMap::new(); blocks];
        for (key, rows) in std::mem::take(&mut self.precomputed) {
            let mut b = 0;
            for (i, row) in rows.into_iter().enumerate() {
                while i >= bounds[b + 1] {
                    b += 1;
                }
                parts[b]
                    .entry(key)
                    .or_insert_with(|| vec![Vec::new(); n_steps])[i] = row;
            }
        }
        let mut work: Vec<Block<'a>> = parts
            .into_iter()
            .enumerate()
            .map(|(b, p)| Block {
                first: bounds[b],
                steps: bounds[b + 1] - bounds[b],
                ev: self.fork(p),
            })
            .collect();
        let failed = AtomicUsize::new(usize::MAX);
        let outs = map_chunks(&mut work, 1, blocks, |b, chunk| {
            let mut out = BlockOut {
                asm: Assembly::default(),
                ann: Annotations::default(),
                at_step_end: Vec::new(),
                out_samples: 0,
                peak_samples: 0,
                err: None,
            };
            if let Some(blk) = chunk.first_mut() {
                let r = blk.ev.run_steps(
                    expr,
                    blk.first,
                    blk.steps,
                    &mut out.asm,
                    &mut out.at_step_end,
                    Some((&failed, b)),
                );
                if let Err(e) = r {
                    failed.fetch_min(b, Ordering::Relaxed);
                    out.err = Some(e);
                }
                out.ann = std::mem::take(&mut blk.ev.ann);
                out.out_samples = blk.ev.out_samples;
                out.peak_samples = blk.ev.peak_samples;
            }
            Ok(out)
        })?;
        drop(work);
        // Join in step order, checking what the sequential loop checks with its totals.
        let mut asm: Option<Assembly> = None;
        for b in outs {
            let before = self.out_samples;
            for w in b.ann.warnings {
                self.ann.warn(w);
            }
            for i in b.ann.infos {
                self.ann.info(i);
            }
            self.peak_samples = self.peak_samples.max(before + b.peak_samples);
            if b.at_step_end.iter().any(|n| before + n > self.max_samples) {
                return Err(Error::TooManySamples("query execution"));
            }
            if let Some(e) = b.err {
                return Err(e);
            }
            self.out_samples += b.out_samples;
            match asm.as_mut() {
                None => asm = Some(b.asm),
                Some(a) => a.append(b.asm),
            }
        }
        self.step_samples = 0;
        Ok(asm.map(Assembly::finish).unwrap_or_default())
    }
}
