//! Streamed aggregation in range queries: `sum by (le) (rate(x[5m]))` and the like, where the
//! aggregated expression is a precomputed range function (`precompute.rs`).
//!
//! Precomputing the function alone holds its output for every series and step until the step
//! loop aggregates it, which at millions of series is more memory than the machine has. Here
//! each chunk of series is computed (in parallel, as in `precompute.rs`) and folded into
//! per-step group states as soon as every earlier chunk has been: only a few chunks' rows and
//! the groups are held. The fold runs in chunk order and, within a chunk, in series order, so
//! every group sees its inputs in exactly the order the step-by-step aggregation would (float
//! sums are order-sensitive); within a step, groups keep their order of first appearance, and
//! a step's annotations are handed over with its row. The results are therefore identical to
//! aggregating the precomputed rows step by step.
//!
//! Only aggregations whose state per group is a few numbers are streamed (`sum`, `avg`,
//! `count`, `group`, `min`, `max`, `stddev`, `stdvar`); the samples limit then counts what is
//! held: a chunk's rows plus the groups of every step.

use std::sync::Arc;

use sightline_model::Labels;

use std::collections::HashSet;

use sightline_storage_api::{Queryable, SelectHints};

use super::precompute::{chunk_size, precomputable, ChunkRows};
use super::{make_streams, Annotations, Ev, Need, StreamSeries};
use crate::aggregate::{self, Group, Prepared, Spec};
use crate::ast::{AggregateExpr, Expr, VectorSelector};
use crate::error::{Error, Result};
use crate::fxhash::FxMap;
use crate::parallel::map_fold_chunks;
use crate::stack::guard;
use crate::value::Elem;

/// The elements a chunk's rows may hold (series times steps), about 10 MiB.
const CHUNK_ROWS: usize = 262_144;

/// Aggregations streamed over a precomputed call.
const STREAMED: &[&str] = &[
    "sum", "avg", "count", "group", "min", "max", "stddev", "stdvar",
];

impl Ev<'_> {
    /// Streams `e` (the aggregation `a`) when its expression is a precomputable call: the
    /// per-step results go to `precomputed` under `e`, the steps' annotations to `step_ann`.
    /// A selector deferred by `load` is read here a storage batch at a time
    /// ([`sightline_storage_api::Querier::select_batches`]), each batch's series released
    /// before the next is read.
    pub(super) fn try_stream_aggregate(
        &mut self,
        q: &dyn Queryable,
        e: &Expr,
        a: &AggregateExpr,
    ) -> Result<bool> {
        let Some(Expr::Call { func, args, pos }) = streamable(a) else {
            return Ok(false);
        };
        let mut none = Annotations::default();
        let Prepared::Run(spec) = aggregate::prepare(&mut none, self.text, a, None)? else {
            return Ok(false);
        };
        let Some(call) = self.call_parts(func, args) else {
            return Ok(false);
        };
        let key = call.vs as *const VectorSelector as usize;
        let mut source = match (self.deferred.remove(&key), self.streams.remove(&key)) {
            (Some(d), _) => Source::Deferred(d),
            (None, Some(streams)) => Source::Loaded(Some(streams)),
            (None, None) => return Ok(false),
        };
        // The call's output is never held whole: the fold counts what is held instead.
        let job = self.job(&call, args, *pos, usize::MAX);
        let max_samples = self.max_samples;
        let mut fold = Fold::new(&spec, job.n_steps, max_samples);
        let mut call_ann = Annotations::default();
        let querier;
        let mut batches = match &mut source {
            Source::Deferred((n, _)) => {
                querier = q.querier(n.min.saturating_add(1), n.max)?;
                Some(querier.select_batches(Some(&hints_for(n, self.interval)), &n.vs.matchers)?)
            }
            Source::Loaded(_) => None,
        };
        loop {
            self.check()?;
            let mut streams = match (&mut source, batches.as_mut()) {
                (Source::Deferred((n, is_stats)), Some(b)) => match b.next_batch()? {
                    Some(series) => make_streams(series, n, *is_stats),
                    None => break,
                },
                (Source::Loaded(s), _) => match s.take() {
                    Some(s) => s,
                    None => break,
                },
                (Source::Deferred(_), None) => break,
            };
            let threads = self.threads_for(streams.len());
            // A chunk's rows hold its series at every step: fewer series per chunk on long
            // ranges.
            let chunk = chunk_size(streams.len(), threads).min((CHUNK_ROWS / job.n_steps).max(16));
            map_fold_chunks(
                &mut streams,
                chunk,
                threads,
                |_, c| Keyed::new(&spec, job.run(c)?, max_samples),
                |_, mut k| {
                    call_ann.merge(std::mem::take(&mut k.ann));
                    fold.add(k)
                },
            )?;
            self.read_samples += streams.iter().map(|s| s.read).sum::<usize>();
        }
        drop(batches);
        self.ann.merge(call_ann);
        let key = e as *const Expr as usize;
        let mut rows = Vec::with_capacity(fold.steps.len());
        for (i, mut st) in std::mem::take(&mut fold.steps).into_iter().enumerate() {
            let ts = self.start + i as i64 * self.interval;
            rows.push(aggregate::finish(&spec, st.groups, ts, &mut st.ann)?);
            if !st.ann.warnings.is_empty() || !st.ann.infos.is_empty() {
                self.step_ann.insert((key, i), st.ann);
            }
        }
        self.precomputed.insert(key, rows);
        Ok(true)
    }

    /// Loads a deferred selector after all (when what deferred it is not streamed).
    pub(super) fn undefer(&mut self, q: &dyn Queryable, key: usize) -> Result<()> {
        if let Some((n, is_stats)) = self.deferred.remove(&key) {
            let querier = q.querier(n.min.saturating_add(1), n.max)?;
            let series =
                querier.select(false, Some(&hints_for(&n, self.interval)), &n.vs.matchers)?;
            // As `load` would have read it: streamed in range queries, whole in instant ones.
            if self.is_range {
                self.streams.insert(key, make_streams(series, &n, is_stats));
            } else {
                let loaded = self.read_samples;
                self.load_whole(&n, series, false, is_stats, loaded)?;
            }
        }
        Ok(())
    }

    /// Loads every selector still deferred after precomputation.
    pub(super) fn load_deferred(&mut self, q: &dyn Queryable) -> Result<()> {
        let keys: Vec<usize> = self.deferred.keys().copied().collect();
        for k in keys {
            self.undefer(q, k)?;
        }
        Ok(())
    }
}

/// Where a streamed aggregation's series come from.
enum Source {
    /// Read by `load` (one batch).
    Loaded(Option<Vec<StreamSeries>>),
    /// Deferred by `load`: read here in storage batches.
    Deferred((Need, bool)),
}

/// The hints `load` gives storage for a selector.
fn hints_for(n: &Need, interval: i64) -> SelectHints {
    SelectHints {
        start: n.min + 1,
        end: n.max,
        step: interval,
        func: n.func.clone(),
    }
}

/// The call under `a` when `a` can be streamed: an aggregation of [`STREAMED`] without a
/// parameter directly over a precomputable call.
fn streamable(a: &AggregateExpr) -> Option<&Expr> {
    if a.param.is_some() || !STREAMED.contains(&a.op.as_str()) {
        return None;
    }
    let mut inner = a.expr.as_ref();
    while let Expr::Paren { expr, .. } = inner {
        inner = expr;
    }
    match inner {
        Expr::Call { func, args, .. } if precomputable(func, args).is_some() => Some(inner),
        _ => None,
    }
}

/// The range selectors of a range query whose series `load` may leave to a streamed
/// aggregation (read then in storage batches): those of streamable aggregations.
pub(super) fn lazy_selectors(e: &Expr) -> HashSet<usize> {
    let mut out = HashSet::new();
    guard(|| walk(e, &mut out));
    out
}

fn walk(e: &Expr, out: &mut HashSet<usize>) {
    match e {
        Expr::Aggregate(a) => {
            if let Some(Expr::Call { func, args, .. }) = streamable(a) {
                if let Some((_, vs, _)) = precomputable(func, args) {
                    out.insert(vs as *const VectorSelector as usize);
                }
            }
            if let Some(p) = &a.param {
                guard(|| walk(p, out));
            }
            guard(|| walk(&a.expr, out));
        }
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => guard(|| walk(expr, out)),
        Expr::Binary { lhs, rhs, .. } => {
            guard(|| walk(lhs, out));
            guard(|| walk(rhs, out));
        }
        Expr::Call { args, .. } => {
            for a in args {
                guard(|| walk(a, out));
            }
        }
        // Selectors under subqueries are never streamed.
        Expr::Subquery { .. }
        | Expr::Number { .. }
        | Expr::Str { .. }
        | Expr::Vector(_)
        | Expr::Matrix { .. } => {}
    }
}

/// One chunk's rows with each element's group resolved to a chunk-local index (hashing the
/// labels is the costly part, so it happens on the worker, once per label set).
struct Keyed {
    /// Per chunk-local group: its grouping hash and the labels of one of its series.
    groups: Vec<(u64, Arc<Labels>)>,
    /// Per step: (chunk-local group, element), in series order.
    rows: Vec<Vec<(u32, Elem)>>,
    /// The call's annotations for this chunk (taken by the fold, in chunk order).
    ann: Annotations,
    /// Elements in `rows`.
    elems: usize,
}

impl Keyed {
    fn new(spec: &Spec<'_>, c: ChunkRows, max_samples: usize) -> Result<Keyed> {
        let mut by_ptr: FxMap<usize, u32> = FxMap::default();
        let mut by_hash: FxMap<u64, u32> = FxMap::default();
        let mut groups: Vec<(u64, Arc<Labels>)> = Vec::new();
        let mut elems = 0usize;
        let mut rows = Vec::with_capacity(c.rows.len());
        for row in c.rows {
            elems += row.len();
            let mut out = Vec::with_capacity(row.len());
            for el in row {
                // The label sets of one series are shared across its steps (same `Arc`), and
                // all are alive in `rows`, so the address identifies them here.
                let ptr = Arc::as_ptr(&el.labels) as usize;
                let lg = match by_ptr.get(&ptr) {
                    Some(&g) => g,
                    None => {
                        let h = spec.group_hash(&el.labels);
                        let g = *by_hash.entry(h).or_insert_with(|| {
                            groups.push((h, el.labels.clone()));
                            (groups.len() - 1) as u32
                        });
                        by_ptr.insert(ptr, g);
                        g
                    }
                };
                out.push((lg, el));
            }
            rows.push(out);
        }
        if elems > max_samples {
            return Err(Error::TooManySamples("query execution"));
        }
        Ok(Keyed {
            groups,
            rows,
            ann: c.ann,
            elems,
        })
    }
}

/// The groups of every step while chunks are folded in.
struct Fold<'s> {
    spec: &'s Spec<'s>,
    /// Group index by grouping hash (a hash identifies a group, as in Prometheus).
    index: FxMap<u64, u32>,
    /// The labels of each group, shared by all steps.
    labels: Vec<Arc<Labels>>,
    steps: Vec<StepGroups>,
    /// Groups held over all steps.
    held: usize,
    max_samples: usize,
}

/// One step's groups in their order of first appearance at the step.
#[derive(Default)]
struct StepGroups {
    /// Position in `groups` by group index (`u32::MAX`: not seen at this step yet).
    pos: Vec<u32>,
    groups: Vec<Group>,
    ann: Annotations,
}

impl<'s> Fold<'s> {
    fn new(spec: &'s Spec<'s>, n_steps: usize, max_samples: usize) -> Self {
        Fold {
            spec,
            index: FxMap::default(),
            labels: Vec::new(),
            steps: (0..n_steps).map(|_| StepGroups::default()).collect(),
            held: 0,
            max_samples,
        }
    }

    /// Folds the next chunk (in chunk order) into the steps' groups.
    fn add(&mut self, k: Keyed) -> Result<()> {
        let Fold {
            spec,
            index,
            labels,
            steps,
            held,
            max_samples,
        } = self;
        let remap: Vec<u32> = k
            .groups
            .iter()
            .map(|(h, l)| {
                *index.entry(*h).or_insert_with(|| {
                    labels.push(Arc::new(spec.group_labels(l)));
                    (labels.len() - 1) as u32
                })
            })
            .collect();
        for (st, row) in steps.iter_mut().zip(k.rows) {
            for (lg, el) in row {
                let gi = remap[lg as usize] as usize;
                if st.pos.len() <= gi {
                    st.pos.resize(labels.len(), u32::MAX);
                }
                let p = match st.pos[gi] {
                    u32::MAX => {
                        st.pos[gi] = st.groups.len() as u32;
                        st.groups.push(Group::new(labels[gi].clone()));
                        *held += 1;
                        st.groups.len() - 1
                    }
                    p => p as usize,
                };
                st.groups[p].add(spec, el, &mut st.ann);
            }
        }
        if *held + k.elems > *max_samples {
            return Err(Error::TooManySamples("query execution"));
        }
        Ok(())
    }
}
