//! Binary operators: scalar/scalar, vector/scalar and vector/vector with matching.

use std::collections::HashSet;
use std::sync::Arc;

use sightline_model::{CounterResetHint, FloatHistogram, Labels, LabelsBuilder};

use crate::ast::{BinModifiers, BinOp, Card};
use crate::engine::{drops_name, matching_names};
use crate::error::{Error, Result};
use crate::fxhash::{FxMap, FxSet};
use crate::value::{Arg, Elem};

/// An annotation a binary operation raises (Prometheus reports the last one of a step).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BinAnn {
    /// `incompatible sample types encountered for binary operator` (info).
    IncompatibleTypes(&'static str, BinOp, &'static str),
    /// `conflicting counter resets during histogram addition/subtraction` (warning).
    CounterResetCollision(&'static str),
    /// `mismatched custom buckets were reconciled during addition/subtraction` (info).
    MismatchedCustomBuckets(&'static str),
    /// `incompatible bucket layout encountered for binary operator` (warning).
    IncompatibleLayout(BinOp),
}

impl BinAnn {
    /// The annotation text without its position, and whether it is a warning.
    pub(crate) fn message(&self) -> (String, bool) {
        match self {
            BinAnn::IncompatibleTypes(l, op, r) => {
                let op = op.as_str();
                (
                    format!("PromQL info: incompatible sample types encountered for binary operator {op:?}: {l} {op} {r}"),
                    false,
                )
            }
            BinAnn::CounterResetCollision(what) => (
                format!("PromQL warning: conflicting counter resets during histogram {what}"),
                true,
            ),
            BinAnn::MismatchedCustomBuckets(what) => (
                format!("PromQL info: mismatched custom buckets were reconciled during {what}"),
                false,
            ),
            BinAnn::IncompatibleLayout(op) => (
                format!(
                    "PromQL warning: incompatible bucket layout encountered for binary operator {}",
                    op.as_str()
                ),
                true,
            ),
        }
    }
}

/// The outcome of an operation on two vector elements (Prometheus' `vectorElemBinop`).
struct ElemOut {
    v: f64,
    h: Option<Arc<FloatHistogram>>,
    keep: bool,
    /// An info raised alongside a result.
    info: Option<BinAnn>,
    /// An error or annotation that drops the element.
    err: Option<BinAnn>,
}

impl ElemOut {
    fn float(v: f64, keep: bool) -> Self {
        ElemOut {
            v,
            h: None,
            keep,
            info: None,
            err: None,
        }
    }

    fn hist(h: FloatHistogram) -> Self {
        ElemOut {
            v: 0.0,
            h: Some(Arc::new(h)),
            keep: true,
            info: None,
            err: None,
        }
    }

    fn incompatible(l: &'static str, op: BinOp, r: &'static str) -> Self {
        ElemOut {
            v: 0.0,
            h: None,
            keep: false,
            info: None,
            err: Some(BinAnn::IncompatibleTypes(l, op, r)),
        }
    }
}

/// Whether `op` trims histogram buckets (`</`, `>/`).
fn is_trim(op: BinOp) -> bool {
    matches!(op, BinOp::TrimUpper | BinOp::TrimLower)
}

/// Prometheus' `vectorElemBinop` over floats and native histograms.
fn elem_binop(
    op: BinOp,
    l: f64,
    r: f64,
    hl: Option<&Arc<FloatHistogram>>,
    hr: Option<&Arc<FloatHistogram>>,
) -> ElemOut {
    match (hl, hr) {
        (None, None) if is_trim(op) => ElemOut::incompatible("float", op, "float"),
        (None, None) => {
            let (v, keep) = scalar_op(op, l, r);
            ElemOut::float(v, keep)
        }
        (None, Some(h)) => match op {
            BinOp::Mul => {
                let mut x = (**h).clone();
                x.mul(l).compact(0);
                ElemOut::hist(x)
            }
            _ => ElemOut::incompatible("float", op, "histogram"),
        },
        (Some(h), None) => match op {
            BinOp::Mul => {
                let mut x = (**h).clone();
                x.mul(r).compact(0);
                ElemOut::hist(x)
            }
            BinOp::Div => {
                let mut x = (**h).clone();
                x.div(r).compact(0);
                ElemOut::hist(x)
            }
            BinOp::TrimUpper | BinOp::TrimLower => {
                let mut x = (**h).clone();
                x.trim_buckets(r, op == BinOp::TrimUpper);
                ElemOut::hist(x)
            }
            _ => ElemOut::incompatible("histogram", op, "float"),
        },
        (Some(a), Some(b)) => match op {
            BinOp::Add | BinOp::Sub => {
                let mut x = (**a).clone();
                let add = op == BinOp::Add;
                let what = if add { "addition" } else { "subtraction" };
                let res = if add { x.add(b) } else { x.sub(b) };
                let Ok(outcome) = res else {
                    let mut o = ElemOut::float(0.0, false);
                    o.err = Some(BinAnn::IncompatibleLayout(op));
                    return o;
                };
                if !add {
                    // A difference of histograms is a gauge.
                    x.counter_reset_hint = CounterResetHint::Gauge;
                }
                x.compact(0);
                let mut o = ElemOut::hist(x);
                if outcome.counter_reset_collision {
                    o.err = Some(BinAnn::CounterResetCollision(what));
                }
                if outcome.nhcb_bounds_reconciled {
                    o.info = Some(BinAnn::MismatchedCustomBuckets(what));
                }
                o
            }
            BinOp::Eql | BinOp::Neq => {
                let eq = a.equals(b);
                ElemOut {
                    v: 0.0,
                    h: Some(a.clone()),
                    keep: if op == BinOp::Eql { eq } else { !eq },
                    info: None,
                    err: None,
                }
            }
            _ => ElemOut::incompatible("histogram", op, "histogram"),
        },
    }
}

/// Applies `op` to two floats; the bool says whether a comparison holds (always true for
/// arithmetic).
pub(crate) fn scalar_op(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (l + r, true),
        BinOp::Sub => (l - r, true),
        BinOp::Mul => (l * r, true),
        BinOp::Div => (l / r, true),
        BinOp::Mod => (l % r, true),
        BinOp::Pow => (l.powf(r), true),
        BinOp::Atan2 => (l.atan2(r), true),
        BinOp::Eql => (l, l == r),
        BinOp::Neq => (l, l != r),
        BinOp::Lt => (l, l < r),
        BinOp::Lte => (l, l <= r),
        BinOp::Gt => (l, l > r),
        BinOp::Gte => (l, l >= r),
        BinOp::And | BinOp::Or | BinOp::Unless | BinOp::TrimUpper | BinOp::TrimLower => {
            (f64::NAN, false)
        }
    }
}

/// What vector matching reuses across steps (a range query's steps, a subquery's) for label
/// sets it has seen before, keyed by their addresses; every entry keeps its label sets alive, so
/// an address stays unique while its entry exists.
pub(crate) struct BinopCache {
    /// (node, lhs, rhs) addresses: the two inputs, the result's label set and its
    /// `stable_hash` (for the group_left/group_right uniqueness check).
    results: FxMap<(usize, usize, usize), ResultEntry>,
    /// (node, input) addresses: the input and its matching signature at that node (the node
    /// fixes `on`/`ignoring` and their label names).
    sigs: FxMap<(usize, usize), (Arc<Labels>, u64)>,
    /// Entries each map holds before it starts over (bounds its memory; the engine raises it
    /// to twice the series a query selected, so a large join is not recomputed every step).
    pub(crate) cap: usize,
}

impl Default for BinopCache {
    fn default() -> Self {
        Self {
            results: FxMap::default(),
            sigs: FxMap::default(),
            cap: CACHE_MAX,
        }
    }
}

/// A cached result label set: the two inputs, the result and its stable hash.
type ResultEntry = (Arc<Labels>, Arc<Labels>, Arc<Labels>, u64);

/// Entries each map of [`BinopCache`] holds at least before it starts over.
const CACHE_MAX: usize = 200_000;

impl BinopCache {
    /// Entries held (results and signatures).
    pub(crate) fn len(&self) -> usize {
        self.results.len() + self.sigs.len()
    }

    /// The matching signature of `labels` at `node` (see [`sig`]), computed once per label set.
    fn sig(&mut self, node: usize, labels: &Arc<Labels>, names: &[String], on: bool) -> u64 {
        let key = (node, Arc::as_ptr(labels) as usize);
        if let Some((_, s)) = self.sigs.get(&key) {
            return *s;
        }
        if self.sigs.len() > self.cap {
            self.sigs.clear();
        }
        let s = sig(labels, names, on);
        self.sigs.insert(key, (labels.clone(), s));
        s
    }

    /// The result label set of matching `ls` with `rs` at `node` and its stable hash.
    fn result(
        &mut self,
        node: usize,
        ls: &Arc<Labels>,
        rs: &Arc<Labels>,
        mods: &BinModifiers,
    ) -> (Arc<Labels>, u64) {
        let key = (node, Arc::as_ptr(ls) as usize, Arc::as_ptr(rs) as usize);
        if let Some((_, _, m, h)) = self.results.get(&key) {
            return (m.clone(), *h);
        }
        if self.results.len() > self.cap {
            self.results.clear();
        }
        let m = Arc::new(result_labels(ls, rs, mods));
        let h = m.stable_hash();
        self.results
            .insert(key, (ls.clone(), rs.clone(), m.clone(), h));
        (m, h)
    }
}

/// Evaluates a binary operation at one step; the annotation is the last one the step raised.
pub(crate) fn eval_binary(
    op: BinOp,
    mods: &BinModifiers,
    l: Arg,
    r: Arg,
    ts: i64,
    node: usize,
    cache: &mut BinopCache,
) -> Result<(Arg, Option<BinAnn>)> {
    let mut ann = None;
    let out = match (l, r) {
        (Arg::Scalar(a), Arg::Scalar(b)) => {
            let (v, keep) = scalar_op(op, a, b);
            if op.is_comparison() {
                Arg::Scalar(if keep { 1.0 } else { 0.0 })
            } else {
                Arg::Scalar(v)
            }
        }
        (Arg::Vector(v), Arg::Scalar(s)) => Arg::Vector(vector_scalar(
            op,
            mods.return_bool,
            v,
            s,
            false,
            ts,
            &mut ann,
        )),
        (Arg::Scalar(s), Arg::Vector(v)) => Arg::Vector(vector_scalar(
            op,
            mods.return_bool,
            v,
            s,
            true,
            ts,
            &mut ann,
        )),
        (Arg::Vector(a), Arg::Vector(b)) => Arg::Vector(match op {
            BinOp::And => set_and(mods, a, b, false),
            BinOp::Unless => set_and(mods, a, b, true),
            BinOp::Or => set_or(mods, a, b),
            _ => vector_vector(op, mods, a, b, ts, node, cache, &mut ann)?,
        }),
        _ => {
            return Err(Error::Execution(
                "binary expression must contain only scalar and instant vector types".into(),
            ))
        }
    };
    Ok((out, ann))
}

fn vector_scalar(
    op: BinOp,
    return_bool: bool,
    v: Vec<Elem>,
    s: f64,
    swap: bool,
    ts: i64,
    ann: &mut Option<BinAnn>,
) -> Vec<Elem> {
    let mut out = Vec::with_capacity(v.len());
    for mut el in v {
        let (mut val, mut keep, mut h) = if el.h.is_none() && !is_trim(op) {
            // The float path, kept free of histogram work.
            let (lv, rv) = if swap { (s, el.v) } else { (el.v, s) };
            let (v, k) = scalar_op(op, lv, rv);
            (v, k, None)
        } else {
            let (lv, rv) = if swap { (s, el.v) } else { (el.v, s) };
            let (hl, hr) = if swap {
                (None, el.h.as_ref())
            } else {
                (el.h.as_ref(), None)
            };
            let o = elem_binop(op, lv, rv, hl, hr);
            if let Some(e) = o.err {
                *ann = Some(e);
                continue;
            }
            (o.v, o.keep, o.h)
        };
        if op.is_comparison() && swap {
            val = el.v;
            h = el.h.clone();
        }
        if return_bool {
            val = if keep { 1.0 } else { 0.0 };
            h = None;
            keep = true;
        }
        if keep {
            el.v = val;
            el.h = h;
            if drops_name(op) || return_bool {
                el.drop_name = true;
            }
            if drops_name(op) || return_bool {
                el.t = ts;
            }
            out.push(el);
        }
    }
    out
}

fn sig(labels: &Labels, names: &[String], on: bool) -> u64 {
    labels.hash_for_labels(names, on)
}

fn match_labels(labels: &Labels, names: &[String], on: bool) -> Labels {
    let mut b = LabelsBuilder::new();
    for l in labels.iter() {
        let listed = names
            .binary_search_by(|n| n.as_str().cmp(l.name.as_str()))
            .is_ok();
        if listed == on {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    b.build()
}

fn set_and(mods: &BinModifiers, a: Vec<Elem>, b: Vec<Elem>, unless: bool) -> Vec<Elem> {
    let names = matching_names(mods.on, &mods.matching);
    let rs: HashSet<u64> = b.iter().map(|e| sig(&e.labels, &names, mods.on)).collect();
    a.into_iter()
        .filter(|e| rs.contains(&sig(&e.labels, &names, mods.on)) != unless)
        .collect()
}

fn set_or(mods: &BinModifiers, mut a: Vec<Elem>, b: Vec<Elem>) -> Vec<Elem> {
    let names = matching_names(mods.on, &mods.matching);
    let ls: HashSet<u64> = a.iter().map(|e| sig(&e.labels, &names, mods.on)).collect();
    for e in b {
        if !ls.contains(&sig(&e.labels, &names, mods.on)) {
            a.push(e);
        }
    }
    a
}

fn result_labels(ls: &Labels, rs: &Labels, mods: &BinModifiers) -> Labels {
    let mut b = ls.builder();
    if mods.card == Card::OneToOne {
        if mods.on {
            b.retain(|l| mods.matching.iter().any(|m| *m == *l.name));
        } else {
            for n in &mods.matching {
                b.del(n);
            }
        }
    }
    for n in &mods.include {
        match rs.get(n) {
            Some(v) if !v.is_empty() => {
                b.set(n.clone(), v.to_string());
            }
            _ => {
                b.del(n);
            }
        }
    }
    b.build()
}

#[allow(clippy::too_many_arguments)]
fn vector_vector(
    op: BinOp,
    mods: &BinModifiers,
    lhs: Vec<Elem>,
    rhs: Vec<Elem>,
    ts: i64,
    node: usize,
    cache: &mut BinopCache,
    ann: &mut Option<BinAnn>,
) -> Result<Vec<Elem>> {
    let fill = mods.fill_left.is_some() || mods.fill_right.is_some();
    if (lhs.is_empty() || rhs.is_empty()) && !fill {
        return Ok(vec![]);
    }
    let names = matching_names(mods.on, &mods.matching);
    let swapped = mods.card == Card::OneToMany;
    let (lhs, rhs) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    // Fill values in the (possibly swapped) orientation.
    // The fill values are not swapped with the sides (Prometheus' behaviour).
    let (fill_many, fill_one) = (mods.fill_left, mods.fill_right);
    let mut right: FxMap<u64, usize> = FxMap::default();
    right.reserve(rhs.len());
    for (i, rs) in rhs.iter().enumerate() {
        let s = cache.sig(node, &rs.labels, &names, mods.on);
        if let Some(&j) = right.get(&s) {
            let side = if swapped { "left" } else { "right" };
            let ml = match_labels(&rs.labels, &names, mods.on);
            let (first, second) = (&rhs[j].labels, &rs.labels);
            let (a, b) = if first <= second {
                (first, second)
            } else {
                (second, first)
            };
            return Err(Error::Execution(format!(
                "found duplicate series for the match group {ml} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
        right.insert(s, i);
    }
    // Per match group: `None` once matched one-to-one, else the stable hashes of the results
    // it produced (which must differ).
    let mut matched_one: FxMap<u64, Option<FxSet<u64>>> = FxMap::default();
    matched_one.reserve(lhs.len().min(rhs.len()));
    // Which right-hand elements matched (only needed to fill the unmatched ones).
    let mut used_right = vec![false; if fill_many.is_some() { rhs.len() } else { 0 }];
    let mut out = Vec::new();
    let mut emit = |ls: &Elem,
                    rs: &Elem,
                    lv: f64,
                    rv: f64,
                    s: u64,
                    override_labels: Option<Labels>,
                    cache: &mut BinopCache,
                    out: &mut Vec<Elem>|
     -> Result<()> {
        let (fl, fr) = if swapped { (rv, lv) } else { (lv, rv) };
        let (hl, hr) = if swapped {
            (rs.h.as_ref(), ls.h.as_ref())
        } else {
            (ls.h.as_ref(), rs.h.as_ref())
        };
        let (mut val, keep, mut hval) = if hl.is_none() && hr.is_none() && !is_trim(op) {
            let (v, k) = scalar_op(op, fl, fr);
            (v, k, None)
        } else {
            let o = elem_binop(op, fl, fr, hl, hr);
            if let Some(e) = o.err {
                *ann = Some(e);
                return Ok(());
            }
            if let Some(i) = o.info {
                *ann = Some(i);
            }
            (o.v, o.keep, o.h)
        };
        if op.is_comparison() && swapped {
            // Comparisons keep the value of the left-hand side as written.
            val = fl;
            hval = hl.cloned();
        }
        let (metric, metric_hash) = match &override_labels {
            Some(l) => (Arc::new(l.clone()), l.stable_hash()),
            None => cache.result(node, &ls.labels, &rs.labels, mods),
        };
        match mods.card {
            Card::OneToOne => {
                if matched_one.contains_key(&s) {
                    return Err(Error::Execution(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                    ));
                }
                matched_one.insert(s, None);
            }
            _ => {
                let set = matched_one
                    .entry(s)
                    .or_insert_with(|| Some(FxSet::default()));
                if let Some(set) = set {
                    if !set.insert(metric_hash) {
                        return Err(Error::Execution(
                            "multiple matches for labels: grouping labels must ensure unique matches".into(),
                        ));
                    }
                }
            }
        }
        if mods.return_bool {
            val = if keep { 1.0 } else { 0.0 };
            hval = None;
        } else if !keep {
            return Ok(());
        }
        let drop = ls.drop_name || drops_name(op) || mods.return_bool || override_labels.is_some();
        let value = if op.is_comparison() && !mods.return_bool && swapped {
            fl
        } else {
            val
        };
        out.push(Elem {
            labels: metric,
            t: ts,
            v: value,
            h: hval,
            drop_name: drop,
        });
        Ok(())
    };
    for ls in &lhs {
        let s = cache.sig(node, &ls.labels, &names, mods.on);
        match right.get(&s) {
            Some(&j) => {
                if let Some(u) = used_right.get_mut(j) {
                    *u = true;
                }
                let rs = &rhs[j];
                emit(ls, rs, ls.v, rs.v, s, None, cache, &mut out)?;
            }
            None => {
                if let Some(fv) = fill_one {
                    let rs = Elem {
                        labels: Arc::new(Labels::empty()),
                        t: ts,
                        v: fv,
                        h: None,
                        drop_name: false,
                    };
                    emit(ls, &rs, ls.v, fv, s, None, cache, &mut out)?;
                }
            }
        }
    }
    if let Some(fv) = fill_many {
        for (j, rs) in rhs.iter().enumerate() {
            if used_right[j] {
                continue;
            }
            let s = cache.sig(node, &rs.labels, &names, mods.on);
            let ls = Elem {
                labels: rs.labels.clone(),
                t: ts,
                v: fv,
                h: None,
                drop_name: true,
            };
            let ml = match_labels(&rs.labels, &names, mods.on);
            emit(&ls, rs, fv, rs.v, s, Some(ml), cache, &mut out)?;
        }
    }
    Ok(out)
}
