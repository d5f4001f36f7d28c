//! Aggregation operators (`sum`, `avg`, `topk`, `quantile`, `count_values`, `limitk`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use sightline_model::{Labels, LabelsBuilder};

use crate::ast::{fmt_number, AggregateExpr};
use crate::engine::{pos_str, Ev};
use crate::error::{Error, Result};
use crate::functions::{kahan_inc, quantile};
use crate::value::{Arg, Elem};

fn group_labels(l: &Labels, a: &AggregateExpr) -> Labels {
    let mut b = LabelsBuilder::with_capacity(a.grouping.len());
    if a.without {
        for lb in l.iter() {
            if lb.name != "__name__" && !a.grouping.contains(&lb.name) {
                b.push_unchecked(lb.name.clone(), lb.value.clone());
            }
        }
    } else {
        for lb in l.iter() {
            if a.grouping.contains(&lb.name) {
                b.push_unchecked(lb.name.clone(), lb.value.clone());
            }
        }
    }
    b.build()
}

struct Group {
    labels: Arc<Labels>,
    value: f64,
    comp: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    drop: bool,
    items: Vec<Elem>,
}

pub(crate) fn aggregate(
    ev: &mut Ev<'_>,
    a: &AggregateExpr,
    param: Option<Arg>,
    v: Vec<Elem>,
    ts: i64,
) -> Result<Arg> {
    let op = a.op.as_str();
    let param_pos = a.param.as_ref().map(|p| p.pos()).unwrap_or(a.pos);
    let mut k: i64 = 0;
    let mut ratio = 0.0;
    let mut phi = 0.0;
    let mut label = String::new();
    match op {
        "topk" | "bottomk" | "limitk" => {
            let f = param.as_ref().map(|p| p.scalar()).unwrap_or(f64::NAN);
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
                return Ok(Arg::Vector(vec![]));
            }
        }
        "limit_ratio" => {
            let f = param.as_ref().map(|p| p.scalar()).unwrap_or(f64::NAN);
            if f.is_nan() {
                return Err(Error::Execution("Ratio value is NaN".into()));
            }
            ratio = f;
            if !(-1.0..=1.0).contains(&f) {
                let capped = f.clamp(-1.0, 1.0);
                ev.ann.warn(format!(
                    "PromQL warning: ratio value should be between -1 and 1, got {}, capping to {} {}",
                    fmt_number(f),
                    fmt_number(capped),
                    pos_str(ev.text, param_pos)
                ));
                ratio = capped;
            }
            if ratio == 0.0 {
                return Ok(Arg::Vector(vec![]));
            }
        }
        "quantile" => {
            phi = param.as_ref().map(|p| p.scalar()).unwrap_or(f64::NAN);
            if !(0.0..=1.0).contains(&phi) {
                ev.ann.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {} {}",
                    fmt_number(phi),
                    pos_str(ev.text, param_pos)
                ));
            }
        }
        "count_values" => {
            label = param
                .as_ref()
                .map(|p| p.str().to_string())
                .unwrap_or_default();
            if !sightline_model::is_valid_label_name(&label) {
                return Err(Error::Execution(format!("invalid label name {label:?}")));
            }
        }
        _ => {}
    }

    let mut order: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    if op == "count_values" {
        for el in v {
            let mut gl = group_labels(&el.labels, a).builder();
            gl.set(label.clone(), fmt_number(el.v));
            let gl = gl.build();
            match index.get(&gl) {
                Some(&i) => order[i].value += 1.0,
                None => {
                    index.insert(gl.clone(), order.len());
                    order.push(Group {
                        labels: Arc::new(gl),
                        value: 1.0,
                        comp: 0.0,
                        mean: 0.0,
                        count: 1.0,
                        incremental: false,
                        drop: false,
                        items: vec![],
                    });
                }
            }
        }
        return Ok(Arg::Vector(
            order
                .into_iter()
                .map(|g| Elem {
                    labels: g.labels,
                    t: ts,
                    v: g.value,
                    h: None,
                    drop_name: false,
                })
                .collect(),
        ));
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
    let mut hindex: crate::fxhash::FxMap<u64, usize> = Default::default();
    for el in v {
        let node = a as *const AggregateExpr as usize;
        let h = ev.cached_hash(node, &el.labels, |l| l.hash_for_labels(&names, !a.without));
        let gi = match hindex.get(&h) {
            Some(&i) => i,
            None => {
                let node = a as *const AggregateExpr as usize;
                let gl = ev.cached_labels(node, h, || group_labels(&el.labels, a));
                hindex.insert(h, order.len());
                let f = el.v;
                order.push(Group {
                    labels: gl,
                    value: match op {
                        "count" | "group" => 1.0,
                        "stddev" | "stdvar" => {
                            if f.is_finite() {
                                0.0
                            } else {
                                f64::NAN
                            }
                        }
                        _ => f,
                    },
                    comp: 0.0,
                    mean: f,
                    count: 1.0,
                    incremental: false,
                    drop: el.drop_name,
                    items: vec![],
                });
                if keep_items {
                    if let Some(g) = order.last_mut() {
                        push_item(op, g, el, k, ratio);
                    }
                }
                continue;
            }
        };
        let g = &mut order[gi];
        g.drop |= el.drop_name;
        let f = el.v;
        match op {
            "sum" => {
                let (s, c) = kahan_inc(f, g.value, g.comp);
                g.value = s;
                g.comp = c;
            }
            "avg" => {
                g.count += 1.0;
                if !g.incremental {
                    let (s, c) = kahan_inc(f, g.value, g.comp);
                    if !s.is_infinite() {
                        g.value = s;
                        g.comp = c;
                        continue;
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
            "count" => g.value += 1.0,
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
            _ => push_item(op, g, el, k, ratio),
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        let value = match op {
            "sum" => g.value + g.comp,
            "avg" => {
                if g.incremental {
                    g.mean + g.comp
                } else {
                    g.value / g.count + g.comp / g.count
                }
            }
            "count" | "group" | "max" | "min" => g.value,
            "stdvar" => g.value / g.count,
            "stddev" => (g.value / g.count).sqrt(),
            "quantile" => {
                let vals: Vec<f64> = g.items.iter().map(|e| e.v).collect();
                quantile(phi, vals)
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
        out.push(Elem {
            labels: g.labels,
            t: ts,
            v: value,
            h: None,
            drop_name: g.drop,
        });
    }
    Ok(Arg::Vector(out))
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
