//! Label manipulation, sorting and `absent`.

use super::*;

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
            // Histograms have no order by value: they are dropped (`filterFloats`).
            let mut v = take_vec(&mut a, 0);
            v.retain(|e| e.h.is_none());
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

/// Registers the label, sorting and absence functions.
pub(super) fn register(r: &mut FunctionRegistry) {
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
        "info",
        &[V, V],
        1,
        false,
        V,
        Arc::new(|_, _| Err(Error::Execution("info() is evaluated by the engine".into()))),
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
            let empty = matches!(&a[0], Arg::Matrix(m) if m.series.iter().all(|w| w.samples().is_empty() && w.histograms().is_empty()));
            if !empty {
                return Ok(FnOut::Vector(vec![]));
            }
            let l = ctx.args.first().map(absent_labels).unwrap_or_default();
            Ok(FnOut::Vector(vec![elem(Arc::new(l), ctx.ts, 1.0, false)]))
        }),
    );
}
