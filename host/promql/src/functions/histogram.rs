//! Histogram functions: `histogram_quantile(s)`, `histogram_fraction` and the native-histogram
//! statistics (`histogram_count`, `_sum`, `_avg`, `_stddev`, `_stdvar`).

use super::*;

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

/// Registers the histogram functions.
pub(super) fn register(r: &mut FunctionRegistry) {
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
}
