//! Aggregation operators (`sum`, `avg`, `topk`, `quantile`, `count_values`, `limitk`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use sightline_model::{CounterResetHint, FloatHistogram, Labels, LabelsBuilder};

use crate::ast::{fmt_number, AggregateExpr};
use crate::engine::{pos_str, Annotations, Ev};
use crate::error::{Error, Result};
use crate::functions::{kahan_inc, quantile};
use crate::value::{Arg, Elem};

fn group_labels(l: &Labels, a: &AggregateExpr) -> Labels {
    let mut b = LabelsBuilder::with_capacity(a.grouping.len());
    if a.without {
        for lb in l.iter() {
            if lb.name != "__name__" && !a.grouping.iter().any(|g| *g == *lb.name) {
                b.push_unchecked(lb.name.clone(), lb.value.clone());
            }
        }
    } else {
        for lb in l.iter() {
            if a.grouping.iter().any(|g| *g == *lb.name) {
                b.push_unchecked(lb.name.clone(), lb.value.clone());
            }
        }
    }
    b.build()
}

pub(crate) struct Group {
    labels: Arc<Labels>,
    /// Whether the group has taken a sample at this step.
    seen: bool,
    value: f64,
    comp: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    drop: bool,
    items: Vec<Elem>,
    /// The running histogram sum (or mean, once `hist_incremental`).
    /// (Boxed: most groups never hold one, and streamed aggregations keep a group per step.)
    hist: Option<Box<FloatHistogram>>,
    /// The Kahan compensation of `hist`.
    hist_comp: Option<Box<FloatHistogram>>,
    hist_incremental: bool,
    has_float: bool,
    has_hist: bool,
    /// The group mixed exponential and custom-bucket histograms.
    incompatible: bool,
    counter_reset_seen: bool,
    not_counter_reset_seen: bool,
}

impl Group {
    pub(crate) fn new(labels: Arc<Labels>) -> Self {
        Group {
            labels,
            seen: false,
            value: 0.0,
            comp: 0.0,
            mean: 0.0,
            count: 0.0,
            incremental: false,
            drop: false,
            items: vec![],
            hist: None,
            hist_comp: None,
            hist_incremental: false,
            has_float: false,
            has_hist: false,
            incompatible: false,
            counter_reset_seen: false,
            not_counter_reset_seen: false,
        }
    }

    fn note_hint(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.counter_reset_seen = true,
            CounterResetHint::NotCounterReset => self.not_counter_reset_seen = true,
            _ => {}
        }
    }

    /// Adds `h` to the running sum (or mean, for `avg`), as Prometheus' `aggregation` does
    /// with Kahan compensation. `Err(true)` means custom bounds were reconciled (an info, the
    /// addition happened); `Err(false)` an incompatible schema.
    fn add_histogram(&mut self, avg: bool, h: &FloatHistogram) -> Result<(), bool> {
        let n = self.count;
        let mut reconciled = false;
        if !avg {
            let Some(sum) = self.hist.as_mut() else {
                return Ok(());
            };
            let (c, o) = sum
                .kahan_add(h, self.hist_comp.take().map(|c| *c))
                .map_err(|_| false)?;
            self.hist_comp = Some(Box::new(c));
            reconciled = o.nhcb_bounds_reconciled;
        } else {
            if !self.hist_incremental {
                let Some(sum) = self.hist.as_ref() else {
                    return Ok(());
                };
                let mut v = sum.clone();
                let (c, o) = v
                    .kahan_add(h, self.hist_comp.as_deref().cloned())
                    .map_err(|_| false)?;
                reconciled = o.nhcb_bounds_reconciled;
                if !v.has_overflow() {
                    self.hist = Some(v);
                    self.hist_comp = Some(Box::new(c));
                    return if reconciled { Err(true) } else { Ok(()) };
                }
                self.hist_incremental = true;
                if let Some(m) = self.hist.as_mut() {
                    m.div(n - 1.0);
                }
                if let Some(c) = self.hist_comp.as_mut() {
                    c.div(n - 1.0);
                }
            }
            let q = (n - 1.0) / n;
            if let Some(c) = self.hist_comp.as_mut() {
                c.mul(q);
            }
            let mut to_add = h.clone();
            to_add.div(n);
            let Some(mean) = self.hist.as_mut() else {
                return Ok(());
            };
            mean.mul(q);
            let (c, o) = mean
                .kahan_add(&to_add, self.hist_comp.take().map(|c| *c))
                .map_err(|_| false)?;
            self.hist_comp = Some(Box::new(c));
            reconciled |= o.nhcb_bounds_reconciled;
        }
        if reconciled {
            Err(true)
        } else {
            Ok(())
        }
    }

    /// The final histogram of a `sum` or `avg` group.
    fn finish_histogram(self, avg: bool) -> Option<FloatHistogram> {
        let mut h = self.hist?;
        if avg && !self.hist_incremental {
            h.div(self.count);
            if let Some(mut c) = self.hist_comp {
                c.div(self.count);
                let _ = h.add(&c);
            }
        } else if let Some(c) = self.hist_comp {
            let _ = h.add(&c);
        }
        h.compact(0);
        Some(*h)
    }
}

/// What an aggregation needs besides its input, prepared once per evaluation step (or once
/// per query when the aggregation is streamed, `engine/stream_agg.rs`).
pub(crate) struct Spec<'a> {
    pub(crate) a: &'a AggregateExpr,
    op: &'a str,
    k: i64,
    ratio: f64,
    phi: f64,
    /// The label names of the grouping hash (sorted; `__name__` added for `without`).
    names: Vec<String>,
    keep_items: bool,
    expr_pos: String,
    agg_pos: String,
}

/// An aggregation's parameter checked: nothing to do, `count_values` with its label, or the
/// aggregation to run.
pub(crate) enum Prepared<'a> {
    Empty,
    CountValues(String),
    Run(Spec<'a>),
}

/// Checks the parameter of `a` (raising its warnings) and prepares the aggregation.
pub(crate) fn prepare<'a>(
    ann: &mut Annotations,
    text: &str,
    a: &'a AggregateExpr,
    param: Option<&Arg>,
) -> Result<Prepared<'a>> {
    let op = a.op.as_str();
    let param_pos = a.param.as_ref().map(|p| p.pos()).unwrap_or(a.pos);
    let mut k: i64 = 0;
    let mut ratio = 0.0;
    let mut phi = 0.0;
    match op {
        "topk" | "bottomk" | "limitk" => {
            let f = param.map(|p| p.scalar()).unwrap_or(f64::NAN);
            if f.is_nan() {
                return Err(Error::Execution("Parameter value is NaN".into()));
            }
            if f >= 9.223372036854776e18 {
                return Err(Error::Execution(format!(
                    "Scalar value {} overflows int64",
                    fmt_number(f)
                )));
            }
            if f <= -9.223372036854776e18 {
                return Err(Error::Execution(format!(
                    "Scalar value {} underflows int64",
                    fmt_number(f)
                )));
            }
            k = f as i64;
            if k < 1 {
                return Ok(Prepared::Empty);
            }
        }
        "limit_ratio" => {
            let f = param.map(|p| p.scalar()).unwrap_or(f64::NAN);
            if f.is_nan() {
                return Err(Error::Execution("Ratio value is NaN".into()));
            }
            ratio = f;
            if !(-1.0..=1.0).contains(&f) {
                let capped = f.clamp(-1.0, 1.0);
                ann.warn(format!(
                    "PromQL warning: ratio value should be between -1 and 1, got {}, capping to {} {}",
                    fmt_number(f),
                    fmt_number(capped),
                    pos_str(text, param_pos)
                ));
                ratio = capped;
            }
            if ratio == 0.0 {
                return Ok(Prepared::Empty);
            }
        }
        "quantile" => {
            phi = param.map(|p| p.scalar()).unwrap_or(f64::NAN);
            if !(0.0..=1.0).contains(&phi) {
                ann.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {} {}",
                    fmt_number(phi),
                    pos_str(text, param_pos)
                ));
            }
        }
        "count_values" => {
            let label = param.map(|p| p.str().to_string()).unwrap_or_default();
            if !sightline_model::is_valid_label_name(&label) {
                return Err(Error::Execution(format!(
                    "invalid label name {}",
                    crate::ast::go_quote(&label)
                )));
            }
            return Ok(Prepared::CountValues(label));
        }
        _ => {}
    }
    let keep_items = matches!(
        op,
        "topk" | "bottomk" | "limitk" | "limit_ratio" | "quantile"
    );
    // Groups are keyed by a hash of the grouping labels, as Prometheus does.
    let mut names: Vec<String> = a.grouping.clone();
    if a.without {
        names.push("__name__".to_string());
    }
    names.sort();
    names.dedup();
    Ok(Prepared::Run(Spec {
        a,
        op,
        k,
        ratio,
        phi,
        names,
        keep_items,
        expr_pos: pos_str(text, a.expr.pos()),
        agg_pos: pos_str(text, a.pos),
    }))
}

impl Spec<'_> {
    /// The hash that identifies the group of a series with labels `l`.
    pub(crate) fn group_hash(&self, l: &Labels) -> u64 {
        l.hash_for_labels(&self.names, !self.a.without)
    }

    /// The labels of the group of a series with labels `l`.
    pub(crate) fn group_labels(&self, l: &Labels) -> Labels {
        group_labels(l, self.a)
    }
}

pub(crate) fn aggregate(
    ev: &mut Ev<'_>,
    a: &AggregateExpr,
    param: Option<Arg>,
    v: Vec<Elem>,
    ts: i64,
) -> Result<Arg> {
    let spec = match prepare(&mut ev.ann, ev.text, a, param.as_ref())? {
        Prepared::Empty => return Ok(Arg::Vector(vec![])),
        Prepared::CountValues(label) => return Ok(Arg::Vector(count_values(a, &label, v, ts))),
        Prepared::Run(spec) => spec,
    };
    let node = a as *const AggregateExpr as usize;
    let mut order: Vec<Group> = Vec::new();
    let mut hindex: crate::fxhash::FxMap<u64, usize> = Default::default();
    for el in v {
        let h = ev.cached_hash(node, &el.labels, |l| spec.group_hash(l));
        let gi = match hindex.get(&h) {
            Some(&i) => i,
            None => {
                let gl = ev.cached_labels(node, h, || spec.group_labels(&el.labels));
                hindex.insert(h, order.len());
                order.push(Group::new(gl));
                order.len() - 1
            }
        };
        order[gi].add(&spec, el, &mut ev.ann);
    }
    Ok(Arg::Vector(finish(&spec, order, ts, &mut ev.ann)?))
}

/// `count_values`: how many elements have each value, by group.
fn count_values(a: &AggregateExpr, label: &str, v: Vec<Elem>, ts: i64) -> Vec<Elem> {
    let mut order: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for el in v {
        let mut gl = group_labels(&el.labels, a).builder();
        let value = match &el.h {
            Some(h) => h.to_string(),
            None => fmt_number(el.v),
        };
        gl.set(label.to_string(), value);
        let gl = gl.build();
        match index.get(&gl) {
            Some(&i) => order[i].value += 1.0,
            None => {
                index.insert(gl.clone(), order.len());
                let mut g = Group::new(Arc::new(gl));
                g.value = 1.0;
                order.push(g);
            }
        }
    }
    order
        .into_iter()
        .map(|g| Elem {
            labels: g.labels,
            t: ts,
            v: g.value,
            h: None,
            drop_name: false,
        })
        .collect()
}

impl Group {
    /// Adds one element of the group's input (Prometheus' `aggregation` loop body).
    pub(crate) fn add(&mut self, spec: &Spec<'_>, el: Elem, ann: &mut Annotations) {
        let op = spec.op;
        let ignored = |ann: &mut Annotations, pos: &str| {
            ann.info(format!(
                "PromQL info: ignored histogram in {op} aggregation {pos}"
            ));
        };
        let g = self;
        if !g.seen {
            // The first sample of the group (Prometheus re-initialises a group whose first
            // sample was a histogram an operator ignores).
            let f = el.v;
            g.seen = true;
            g.drop = el.drop_name;
            g.count = 1.0;
            g.mean = f;
            g.comp = 0.0;
            g.value = match op {
                "count" | "group" => 1.0,
                "stddev" | "stdvar" => {
                    if f.is_finite() {
                        0.0
                    } else {
                        f64::NAN
                    }
                }
                _ => f,
            };
            match (op, &el.h) {
                ("sum" | "avg", Some(h)) => {
                    g.has_hist = true;
                    g.note_hint(h);
                    g.hist = Some(Box::new((**h).clone()));
                }
                ("sum" | "avg", None) => g.has_float = true,
                ("stddev" | "stdvar" | "quantile" | "min" | "max", Some(_)) => {
                    g.seen = false;
                    ignored(ann, &spec.expr_pos);
                    return;
                }
                ("topk" | "bottomk", Some(_)) => {
                    g.seen = false;
                    ignored(ann, &spec.agg_pos);
                    return;
                }
                _ => {}
            }
            if spec.keep_items {
                push_item(op, g, el, spec.k, spec.ratio);
            }
            return;
        }
        if g.incompatible {
            return;
        }
        g.drop |= el.drop_name;
        let f = el.v;
        if let Some(hv) = &el.h {
            match op {
                "sum" | "avg" => {
                    g.has_hist = true;
                    g.count += 1.0;
                    if g.hist.is_some() {
                        g.note_hint(hv);
                        if let Err(e) = g.add_histogram(op == "avg", hv) {
                            if e {
                                ann.info(format!(
                                    "PromQL info: mismatched custom buckets were reconciled during aggregation {}",
                                    spec.expr_pos
                                ));
                            } else {
                                ann.warn(format!(
                                    "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {:?} {}",
                                    el.labels.get_or_empty("__name__"),
                                    spec.expr_pos
                                ));
                                g.incompatible = true;
                            }
                        }
                    }
                }
                "count" => g.count += 1.0,
                "group" => {}
                "max" | "min" | "stddev" | "stdvar" | "quantile" => ignored(ann, &spec.expr_pos),
                "topk" | "bottomk" => ignored(ann, &spec.agg_pos),
                _ => push_item(op, g, el, spec.k, spec.ratio),
            }
            return;
        }
        match op {
            "sum" => {
                g.has_float = true;
                let (s, c) = kahan_inc(f, g.value, g.comp);
                g.value = s;
                g.comp = c;
            }
            "avg" => {
                g.has_float = true;
                g.count += 1.0;
                if !g.incremental {
                    let (s, c) = kahan_inc(f, g.value, g.comp);
                    if !s.is_infinite() {
                        g.value = s;
                        g.comp = c;
                        return;
                    }
                    g.incremental = true;
                    g.mean = g.value / (g.count - 1.0);
                    g.comp /= g.count - 1.0;
                }
                let q = (g.count - 1.0) / g.count;
                let (m, c) = kahan_inc(f / g.count, q * g.mean, q * g.comp);
                g.mean = m;
                g.comp = c;
            }
            "count" => g.count += 1.0,
            "group" => {}
            "max" => {
                if g.value < f || g.value.is_nan() {
                    g.value = f;
                }
            }
            "min" => {
                if g.value > f || g.value.is_nan() {
                    g.value = f;
                }
            }
            "stddev" | "stdvar" => {
                g.count += 1.0;
                let delta = f - (g.mean + g.comp);
                let (m, c) = kahan_inc(delta / g.count, g.mean, g.comp);
                g.mean = m;
                g.comp = c;
                g.value += delta * (f - (g.mean + g.comp));
            }
            _ => push_item(op, g, el, spec.k, spec.ratio),
        }
    }
}

/// The output of the groups `order` (in their order) at `ts`.
pub(crate) fn finish(
    spec: &Spec<'_>,
    order: Vec<Group>,
    ts: i64,
    ann: &mut Annotations,
) -> Result<Vec<Elem>> {
    let op = spec.op;
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        if !g.seen {
            continue;
        }
        if matches!(op, "sum" | "avg") && g.has_hist {
            if g.has_float {
                ann.warn(format!(
                    "PromQL warning: encountered a mix of histograms and floats for aggregation {}",
                    spec.expr_pos
                ));
                continue;
            }
            if g.incompatible {
                continue;
            }
            if g.counter_reset_seen && g.not_counter_reset_seen {
                ann.warn(format!(
                    "PromQL warning: conflicting counter resets during histogram aggregation {}",
                    spec.expr_pos
                ));
            }
            let (labels, drop) = (g.labels.clone(), g.drop);
            let Some(h) = g.finish_histogram(op == "avg") else {
                continue;
            };
            out.push(Elem::histogram(labels, ts, Arc::new(h), drop));
            continue;
        }
        let value = match op {
            "sum" => g.value + g.comp,
            "avg" => {
                if g.incremental {
                    g.mean + g.comp
                } else {
                    g.value / g.count + g.comp / g.count
                }
            }
            "count" => g.count,
            "group" | "max" | "min" => g.value,
            "stdvar" => g.value / g.count,
            "stddev" => (g.value / g.count).sqrt(),
            "quantile" => {
                let vals: Vec<f64> = g
                    .items
                    .iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| e.v)
                    .collect();
                quantile(spec.phi, vals)
            }
            "topk" | "bottomk" => {
                let mut items = g.items;
                let top = op == "topk";
                items.sort_by(|x, y| cmp_for_k(x.v, y.v, top));
                out.extend(items);
                continue;
            }
            "limitk" | "limit_ratio" => {
                out.extend(g.items);
                continue;
            }
            _ => return Err(Error::Execution(format!("unknown aggregation {op:?}"))),
        };
        out.push(Elem::float(g.labels, ts, value, g.drop));
    }
    Ok(out)
}

/// Orders so the "best" element for topk (largest) / bottomk (smallest) comes first; NaN last.
fn cmp_for_k(a: f64, b: f64, top: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            if top {
                b.partial_cmp(&a).unwrap_or(Ordering::Equal)
            } else {
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
    }
}

fn limit_ratio_offset(l: &Labels) -> f64 {
    l.stable_hash() as f64 / u64::MAX as f64
}

fn push_item(op: &str, g: &mut Group, el: Elem, k: i64, ratio: f64) {
    match op {
        "topk" | "bottomk" => {
            let top = op == "topk";
            if (g.items.len() as i64) < k {
                g.items.push(el);
                return;
            }
            // Replace the worst kept element when the new one is better.
            let mut worst = 0;
            for i in 1..g.items.len() {
                if cmp_for_k(g.items[i].v, g.items[worst].v, top) == std::cmp::Ordering::Greater {
                    worst = i;
                }
            }
            if cmp_for_k(el.v, g.items[worst].v, top) == std::cmp::Ordering::Less {
                g.items[worst] = el;
            }
        }
        "limitk" => {
            if (g.items.len() as i64) < k {
                g.items.push(el);
            }
        }
        "limit_ratio" => {
            let off = limit_ratio_offset(&el.labels);
            let keep = if ratio >= 0.0 {
                off < ratio
            } else {
                off >= 1.0 + ratio
            };
            if keep {
                g.items.push(el);
            }
        }
        _ => g.items.push(el),
    }
}
