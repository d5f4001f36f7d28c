//! Histogram functions: `histogram_quantile(s)`, `histogram_fraction` and the native-histogram
//! statistics (`histogram_count`, `_sum`, `_avg`, `_stddev`, `_stdvar`).

use super::*;
use crate::quantile::{
    histogram_avg, histogram_fraction, histogram_quantile, histogram_variance, NativeAnno,
};
use sightline_model::FloatHistogram;

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

/// The quantile warning of `histogram_quantile(s)` (`NewInvalidQuantileWarning`).
pub(super) fn check_quantile(ctx: &mut FnCtx<'_>, q: f64, arg: usize) {
    if !(0.0..=1.0).contains(&q) {
        let p = ctx.arg_pos(arg);
        ctx.warn(
            &format!(
                "quantile value should be between 0 and 1, got {}",
                fmt_number(q)
            ),
            p,
        );
    }
}

/// The info annotation of a classic histogram whose buckets had to be made monotonic.
fn forced_monotonicity_info(ctx: &mut FnCtx<'_>, labels: &Labels, arg: usize) {
    let msg = with_metric_name(
        "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)",
        metric_name(labels),
    );
    let p = ctx.arg_pos(arg);
    ctx.info(&msg, p);
}

/// The info annotation a native histogram's estimate returned.
fn native_info(ctx: &mut FnCtx<'_>, anno: Option<NativeAnno>, labels: &Labels, arg: usize) {
    if let Some(a) = anno {
        let msg = with_metric_name(a.message(), metric_name(labels));
        let p = ctx.arg_pos(arg);
        ctx.info(&msg, p);
    }
}

fn histogram_quantile_fn(ctx: &mut FnCtx<'_>, mut a: Vec<Arg>) -> Result<FnOut> {
    let q = a[0].scalar();
    check_quantile(ctx, q, 0);
    let v = take_vec(&mut a, 1);
    let (natives, groups) = split_histograms(ctx, v, 1);
    let mut out = Vec::with_capacity(natives.len() + groups.len());
    for (labels, h) in natives {
        let (val, anno) = histogram_quantile(q, &h);
        native_info(ctx, anno, &labels, 1);
        out.push(elem(labels, ctx.ts, val, true));
    }
    // The info names the metric only: one per name is enough (annotations are deduplicated),
    // which spares formatting it for every group of every step.
    let mut noted: Option<Arc<Labels>> = None;
    for (labels, buckets) in groups {
        let (val, fixes) = bucket_quantile(q, buckets);
        if fixes.forced_monotonic
            && noted
                .as_ref()
                .is_none_or(|n| metric_name(n) != metric_name(&labels))
        {
            forced_monotonicity_info(ctx, &labels, 1);
            noted = Some(labels.clone());
        }
        out.push(elem(labels, ctx.ts, val, true));
    }
    Ok(FnOut::Vector(out))
}

/// A native histogram of an input vector with its labels.
type NativeHist = (Arc<Labels>, Arc<FloatHistogram>);
/// A classic histogram of an input vector: its labels without `le` and its buckets.
type ClassicGroup = (Arc<Labels>, Vec<ClassicBucket>);

/// Prometheus' `resetHistograms`: sorts an input vector into native histograms and classic
/// bucket groups (by their labels without `le`). A native histogram with the labels of a
/// classic group makes both be ignored, with a warning.
fn split_histograms(
    ctx: &mut FnCtx<'_>,
    v: Vec<Elem>,
    arg: usize,
) -> (Vec<NativeHist>, Vec<ClassicGroup>) {
    let mut natives = Vec::new();
    let mut floats = Vec::with_capacity(v.len());
    for e in v {
        match e.h {
            Some(h) => natives.push((e.labels, h)),
            None => floats.push(e),
        }
    }
    let mut groups = group_buckets(ctx, floats, arg);
    if natives.is_empty() || groups.is_empty() {
        return (natives, groups);
    }
    let le_name = ["le".to_string()];
    let mut by_hash: crate::fxhash::FxMap<u64, usize> = Default::default();
    for (i, (l, _)) in groups.iter().enumerate() {
        by_hash.insert(l.hash_for_labels(&le_name, false), i);
    }
    let mut dropped = vec![false; groups.len()];
    natives.retain(
        |(l, _)| match by_hash.get(&l.hash_for_labels(&le_name, false)) {
            Some(&i) if !dropped[i] && *groups[i].0 == **l => {
                dropped[i] = true;
                let msg = with_metric_name(
                    "vector contains a mix of classic and native histograms",
                    metric_name(l),
                );
                let p = ctx.arg_pos(arg);
                ctx.warn(&msg, p);
                false
            }
            _ => true,
        },
    );
    let mut i = 0;
    groups.retain(|_| {
        i += 1;
        !dropped[i - 1]
    });
    (natives, groups)
}

/// Groups classic-histogram bucket series by their labels without `le`.
fn group_buckets(ctx: &mut FnCtx<'_>, v: Vec<Elem>, arg: usize) -> Vec<ClassicGroup> {
    let mut groups: Vec<ClassicGroup> = Vec::new();
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
                        let msg = with_metric_name(
                            &format!(
                                "bucket label \"le\" is missing or has a malformed value of {le:?}"
                            ),
                            metric_name(&e.labels),
                        );
                        let p = ctx.arg_pos(arg);
                        ctx.warn(&msg, p);
                        continue;
                    }
                };
                let h = e.labels.hash_for_labels(&le_name, false);
                if ctx.hash_cache.len() > ctx.cache_cap {
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
                // A histogram's buckets mostly come together and histograms of one metric
                // have as many buckets as each other: room for as many as the previous group
                // holds spares growing bucket by bucket.
                let room = groups.last().map_or(0, |g| g.1.len());
                groups.push((l, Vec::with_capacity(room)));
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
    let (natives, groups) = split_histograms(ctx, v, 2);
    let mut out = Vec::with_capacity(natives.len() + groups.len());
    for (labels, h) in natives {
        let (val, anno) = histogram_fraction(lo, hi, &h);
        native_info(ctx, anno, &labels, 2);
        out.push(elem(labels, ctx.ts, val, true));
    }
    for (l, b) in groups {
        out.push(elem(l, ctx.ts, bucket_fraction(lo, hi, b), true));
    }
    Ok(FnOut::Vector(out))
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
        check_quantile(ctx, *q, i + 2);
    }
    let v = take_vec(&mut a, 0);
    if let Some(e) = v.iter().find(|e| e.labels.has(&label)) {
        return Err(Error::Execution(format!(
            "label {label:?} already exists on series {}",
            e.labels
        )));
    }
    let (natives, groups) = split_histograms(ctx, v, 0);
    let with_q = |l: &Labels, q: f64| {
        let mut lb = l.builder();
        lb.set(label.clone(), quantile_label(q));
        Arc::new(lb.build())
    };
    let mut out = Vec::with_capacity((natives.len() + groups.len()) * qs.len());
    for q in &qs {
        for (l, h) in &natives {
            let (val, anno) = histogram_quantile(*q, h);
            native_info(ctx, anno, l, 0);
            out.push(elem(with_q(l, *q), ctx.ts, val, true));
        }
        for (l, b) in &groups {
            let (val, fixes) = bucket_quantile(*q, b.clone());
            if fixes.forced_monotonic {
                forced_monotonicity_info(ctx, l, 0);
            }
            out.push(elem(with_q(l, *q), ctx.ts, val, true));
        }
    }
    Ok(FnOut::Vector(out))
}

/// A function of each native histogram of a vector (`simpleHistogramFunc`); float
/// elements are dropped.
fn simple_histogram_fn(r: &mut FunctionRegistry, name: &str, f: fn(&FloatHistogram) -> f64) {
    reg(
        r,
        name,
        &[V],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter_map(|e| {
                        let h = e.h.as_deref()?;
                        Some(elem(e.labels.clone(), ctx.ts, f(h), true))
                    })
                    .collect(),
            ))
        }),
    );
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
    simple_histogram_fn(r, "histogram_count", |h| h.count);
    simple_histogram_fn(r, "histogram_sum", |h| h.sum);
    simple_histogram_fn(r, "histogram_avg", histogram_avg);
    simple_histogram_fn(r, "histogram_stddev", |h| histogram_variance(h).sqrt());
    simple_histogram_fn(r, "histogram_stdvar", histogram_variance);
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
