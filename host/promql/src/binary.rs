//! Binary operators: scalar/scalar, vector/scalar and vector/vector with matching.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sightline_model::{Labels, LabelsBuilder};

use crate::ast::{BinModifiers, BinOp, Card};
use crate::engine::{drops_name, matching_names};
use crate::error::{Error, Result};
use crate::value::{Arg, Elem};

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
        BinOp::And | BinOp::Or | BinOp::Unless => (f64::NAN, false),
    }
}

/// Result label sets of vector matching, reused across steps: (node, lhs, rhs) addresses to
/// the two inputs (kept alive so their addresses stay unique) and the result.
pub(crate) type BinopCache =
    crate::fxhash::FxMap<(usize, usize, usize), (Arc<Labels>, Arc<Labels>, Arc<Labels>)>;

pub(crate) fn eval_binary(
    op: BinOp,
    mods: &BinModifiers,
    l: Arg,
    r: Arg,
    ts: i64,
    node: usize,
    cache: &mut BinopCache,
) -> Result<Arg> {
    match (l, r) {
        (Arg::Scalar(a), Arg::Scalar(b)) => {
            let (v, keep) = scalar_op(op, a, b);
            if op.is_comparison() {
                Ok(Arg::Scalar(if keep { 1.0 } else { 0.0 }))
            } else {
                Ok(Arg::Scalar(v))
            }
        }
        (Arg::Vector(v), Arg::Scalar(s)) => Ok(Arg::Vector(vector_scalar(
            op,
            mods.return_bool,
            v,
            s,
            false,
            ts,
        ))),
        (Arg::Scalar(s), Arg::Vector(v)) => Ok(Arg::Vector(vector_scalar(
            op,
            mods.return_bool,
            v,
            s,
            true,
            ts,
        ))),
        (Arg::Vector(a), Arg::Vector(b)) => Ok(Arg::Vector(match op {
            BinOp::And => set_and(mods, a, b, false),
            BinOp::Unless => set_and(mods, a, b, true),
            BinOp::Or => set_or(mods, a, b),
            _ => vector_vector(op, mods, a, b, ts, node, cache)?,
        })),
        _ => Err(Error::Execution(
            "binary expression must contain only scalar and instant vector types".into(),
        )),
    }
}

fn vector_scalar(
    op: BinOp,
    return_bool: bool,
    v: Vec<Elem>,
    s: f64,
    swap: bool,
    ts: i64,
) -> Vec<Elem> {
    let mut out = Vec::with_capacity(v.len());
    for mut el in v {
        let (lv, rv) = if swap { (s, el.v) } else { (el.v, s) };
        let (mut val, mut keep) = scalar_op(op, lv, rv);
        if op.is_comparison() && swap {
            val = el.v;
        }
        if return_bool {
            val = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            el.v = val;
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
        let listed = names.binary_search(&l.name).is_ok();
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
            b.retain(|l| mods.matching.contains(&l.name));
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

fn vector_vector(
    op: BinOp,
    mods: &BinModifiers,
    lhs: Vec<Elem>,
    rhs: Vec<Elem>,
    ts: i64,
    node: usize,
    cache: &mut BinopCache,
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
    let mut right: HashMap<u64, usize> = HashMap::with_capacity(rhs.len());
    for (i, rs) in rhs.iter().enumerate() {
        let s = sig(&rs.labels, &names, mods.on);
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
    let mut matched_one: HashMap<u64, Option<HashSet<u64>>> = HashMap::new();
    let mut used_right: HashSet<usize> = HashSet::new();
    let mut out = Vec::new();
    let mut emit = |ls: &Elem,
                    rs: &Elem,
                    lv: f64,
                    rv: f64,
                    s: u64,
                    override_labels: Option<Labels>,
                    out: &mut Vec<Elem>|
     -> Result<()> {
        let (fl, fr) = if swapped { (rv, lv) } else { (lv, rv) };
        let (mut val, keep) = scalar_op(op, fl, fr);
        if op.is_comparison() && swapped {
            // Comparisons keep the value of the left-hand side as written.
            val = fl;
        }
        let metric = match &override_labels {
            Some(l) => Arc::new(l.clone()),
            None => {
                let key = (
                    node,
                    Arc::as_ptr(&ls.labels) as usize,
                    Arc::as_ptr(&rs.labels) as usize,
                );
                match cache.get(&key) {
                    Some((_, _, m)) => m.clone(),
                    None => {
                        if cache.len() > 200_000 {
                            cache.clear();
                        }
                        let m = Arc::new(result_labels(&ls.labels, &rs.labels, mods));
                        cache.insert(key, (ls.labels.clone(), rs.labels.clone(), m.clone()));
                        m
                    }
                }
            }
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
                let set = matched_one.entry(s).or_insert_with(|| Some(HashSet::new()));
                if let Some(set) = set {
                    if !set.insert(metric.stable_hash()) {
                        return Err(Error::Execution(
                            "multiple matches for labels: grouping labels must ensure unique matches".into(),
                        ));
                    }
                }
            }
        }
        if mods.return_bool {
            val = if keep { 1.0 } else { 0.0 };
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
            h: None,
            drop_name: drop,
        });
        Ok(())
    };
    for ls in &lhs {
        let s = sig(&ls.labels, &names, mods.on);
        match right.get(&s) {
            Some(&j) => {
                used_right.insert(j);
                let rs = &rhs[j];
                emit(ls, rs, ls.v, rs.v, s, None, &mut out)?;
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
                    emit(ls, &rs, ls.v, fv, s, None, &mut out)?;
                }
            }
        }
    }
    if let Some(fv) = fill_many {
        for (j, rs) in rhs.iter().enumerate() {
            if used_right.contains(&j) {
                continue;
            }
            let s = sig(&rs.labels, &names, mods.on);
            let ls = Elem {
                labels: rs.labels.clone(),
                t: ts,
                v: fv,
                h: None,
                drop_name: true,
            };
            let ml = match_labels(&rs.labels, &names, mods.on);
            emit(&ls, rs, fv, rs.v, s, Some(ml), &mut out)?;
        }
    }
    Ok(out)
}
