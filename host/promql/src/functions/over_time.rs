//! The `*_over_time` aggregations and the other functions of a range's values (`deriv`,
//! `predict_linear`, `double_exponential_smoothing`).

use sightline_model::FloatHistogram;

use super::hist_range::{
    avg_histograms, histograms_ignored, mixed_floats_histograms, sum_histograms, Annos,
};
use super::histogram::check_quantile;
use super::*;
use crate::value::{HPoint, Window};

/// What a range function makes of one series' window.
pub(super) enum Res {
    /// A float.
    F(f64),
    /// A native histogram.
    H(FloatHistogram),
}

/// Applies `f` to every series' window of `m` (floats and histograms), flushing the
/// annotations each raises (pointing at the first argument, as Prometheus' functions do).
pub(super) fn each_window(
    ctx: &mut FnCtx<'_>,
    m: &MatrixArg,
    drop: bool,
    mut f: impl FnMut(&mut FnCtx<'_>, &Window, &mut Annos) -> Option<Res>,
) -> Vec<Elem> {
    let mut out = Vec::with_capacity(m.series.len());
    for w in &m.series {
        if w.samples().is_empty() && w.histograms().is_empty() {
            continue;
        }
        let mut annos = Annos::default();
        let r = f(ctx, w, &mut annos);
        annos.flush(ctx, 0);
        let drop = drop || w.drop_name;
        match r {
            Some(Res::F(v)) => out.push(elem(w.labels.clone(), ctx.ts, v, drop)),
            Some(Res::H(h)) => {
                out.push(Elem::histogram(w.labels.clone(), ctx.ts, Arc::new(h), drop))
            }
            None => {}
        }
    }
    out
}

/// A range function of each series' window.
pub(super) fn window_fn(
    r: &mut FunctionRegistry,
    name: &str,
    drop: bool,
    f: impl Fn(&mut FnCtx<'_>, &Window, &MatrixArg, &mut Annos) -> Option<Res> + Send + Sync + 'static,
) {
    reg(
        r,
        name,
        &[M],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let m = take_mat(&mut a, 0);
            let out = each_window(ctx, &m, drop, |ctx, w, annos| f(ctx, w, &m, annos));
            Ok(FnOut::Vector(out))
        }),
    );
}

/// A window's floats for a function that ignores histograms: none without floats, and an
/// info when histograms were ignored.
pub(super) fn floats_of<'w>(w: &'w Window, annos: &mut Annos) -> Option<&'w [Sample]> {
    let s = w.samples();
    if s.is_empty() {
        return None;
    }
    if !w.histograms().is_empty() {
        annos.info(histograms_ignored(metric_name(&w.labels)));
    }
    Some(s)
}

/// A window's floats for a function that needs at least two of them (`deriv`,
/// `predict_linear`, `double_exponential_smoothing`); histograms are ignored with an info.
fn two_floats_of<'w>(w: &'w Window, annos: &mut Annos) -> Option<&'w [Sample]> {
    let s = w.samples();
    let ignored = !w.histograms().is_empty();
    if s.len() < 2 {
        if s.len() == 1 && ignored {
            annos.info(histograms_ignored(metric_name(&w.labels)));
        }
        return None;
    }
    if ignored {
        annos.info(histograms_ignored(metric_name(&w.labels)));
    }
    Some(s)
}

/// A function of a window's floats that ignores its histograms.
fn float_fn(r: &mut FunctionRegistry, name: &str, f: fn(&[Sample]) -> f64) {
    window_fn(r, name, true, move |_, w, _, annos| {
        floats_of(w, annos).map(|s| Res::F(f(s)))
    });
}

fn linear_regression(s: &[Sample], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].v;
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

fn avg_of(s: &[Sample]) -> f64 {
    let (mut sum, mut mean, mut count, mut c) = (0.0, 0.0, 0.0, 0.0);
    let mut incremental = false;
    for p in s {
        count += 1.0;
        if !incremental {
            let (ns, nc) = kahan_inc(p.v, sum, c);
            if count == 1.0 || !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

fn variance_of(s: &[Sample]) -> f64 {
    let (mut count, mut mean, mut cm, mut aux, mut ca) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in s {
        count += 1.0;
        let delta = p.v - (mean + cm);
        (mean, cm) = kahan_inc(delta / count, mean, cm);
        (aux, ca) = kahan_inc(delta * (p.v - (mean + cm)), aux, ca);
    }
    (aux + ca) / count
}

fn ts_of(s: &[Sample], pick: fn(&Sample, &Sample) -> bool) -> Option<f64> {
    let mut best = *s.first()?;
    for p in &s[1..] {
        if pick(p, &best) {
            best = *p;
        }
    }
    Some(best.t as f64 / 1000.0)
}

/// `sum_over_time` and `avg_over_time`: of floats, or of histograms, not of a mix.
fn sum_or_avg(
    w: &Window,
    annos: &mut Annos,
    floats: fn(&[Sample]) -> f64,
    hists: fn(&[HPoint], &str, &mut Annos) -> Option<FloatHistogram>,
) -> Option<Res> {
    let (s, hs) = (w.samples(), w.histograms());
    if !s.is_empty() && !hs.is_empty() {
        annos.warn(mixed_floats_histograms(metric_name(&w.labels)));
        return None;
    }
    if hs.is_empty() {
        return Some(Res::F(floats(s)));
    }
    hists(hs, metric_name(&w.labels), annos).map(Res::H)
}

fn sum_of(s: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in s {
        (sum, c) = kahan_inc(p.v, sum, c);
    }
    if sum.is_infinite() {
        sum
    } else {
        sum + c
    }
}

/// `first_over_time` / `last_over_time`: the oldest (newest) point, float or histogram.
fn pick_end(w: &Window, last: bool) -> Option<Res> {
    let (s, hs) = (w.samples(), w.histograms());
    let f = if last { s.last() } else { s.first() };
    let h = if last { hs.last() } else { hs.first() };
    match (f, h) {
        (Some(f), Some(h)) if (last && f.t > h.t) || (!last && f.t < h.t) => Some(Res::F(f.v)),
        (_, Some(h)) => Some(Res::H(h.h.copy())),
        (Some(f), None) => Some(Res::F(f.v)),
        (None, None) => None,
    }
}

/// Registers the over-time functions.
pub(super) fn register(r: &mut FunctionRegistry) {
    window_fn(r, "sum_over_time", true, |_, w, _, annos| {
        sum_or_avg(w, annos, sum_of, sum_histograms)
    });
    window_fn(r, "avg_over_time", true, |_, w, _, annos| {
        sum_or_avg(w, annos, avg_of, avg_histograms)
    });
    window_fn(r, "count_over_time", true, |_, w, _, _| {
        Some(Res::F((w.samples().len() + w.histograms().len()) as f64))
    });
    float_fn(r, "min_over_time", |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v < m || m.is_nan() {
                m = p.v;
            }
        }
        m
    });
    float_fn(r, "max_over_time", |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v > m || m.is_nan() {
                m = p.v;
            }
        }
        m
    });
    window_fn(r, "last_over_time", false, |_, w, _, _| pick_end(w, true));
    window_fn(r, "first_over_time", false, |_, w, _, _| pick_end(w, false));
    window_fn(r, "present_over_time", true, |_, _, _, _| Some(Res::F(1.0)));
    float_fn(r, "stddev_over_time", |s| variance_of(s).sqrt());
    float_fn(r, "stdvar_over_time", variance_of);
    window_fn(r, "deriv", true, |_, w, _, annos| {
        let s = two_floats_of(w, annos)?;
        Some(Res::F(linear_regression(s, s[0].t).0))
    });
    float_fn(r, "mad_over_time", |s| {
        let vals: Vec<f64> = s.iter().map(|p| p.v).collect();
        if vals.iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        let med = quantile(0.5, vals.clone());
        quantile(0.5, vals.iter().map(|v| (v - med).abs()).collect())
    });
    window_fn(r, "ts_of_max_over_time", true, |_, w, _, annos| {
        let s = floats_of(w, annos)?;
        ts_of(s, |p, b| p.v >= b.v || b.v.is_nan()).map(Res::F)
    });
    window_fn(r, "ts_of_min_over_time", true, |_, w, _, annos| {
        let s = floats_of(w, annos)?;
        ts_of(s, |p, b| p.v <= b.v || b.v.is_nan()).map(Res::F)
    });
    window_fn(r, "ts_of_last_over_time", true, |_, w, _, _| {
        let f = w.samples().last().map_or(i64::MIN, |p| p.t);
        let h = w.histograms().last().map_or(i64::MIN, |p| p.t);
        Some(Res::F(f.max(h) as f64 / 1000.0))
    });
    window_fn(r, "ts_of_first_over_time", true, |_, w, _, _| {
        let f = w.samples().first().map_or(i64::MAX, |p| p.t);
        let h = w.histograms().first().map_or(i64::MAX, |p| p.t);
        Some(Res::F(f.min(h) as f64 / 1000.0))
    });
    reg(
        r,
        "quantile_over_time",
        &[S, M],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let q = a[0].scalar();
            let m = take_mat(&mut a, 1);
            let mut warned = false;
            let out = each_window(ctx, &m, true, |ctx, w, annos| {
                let s = w.samples();
                if s.is_empty() {
                    return None;
                }
                if !warned {
                    // Prometheus checks the quantile only for series that have floats.
                    check_quantile(ctx, q, 0);
                    warned = true;
                }
                let s = floats_of(w, annos)?;
                Some(Res::F(quantile(q, s.iter().map(|p| p.v).collect())))
            });
            Ok(FnOut::Vector(out))
        }),
    );
    reg(
        r,
        "predict_linear",
        &[M, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let d = a[1].scalar();
            let m = take_mat(&mut a, 0);
            let out = each_window(ctx, &m, true, |ctx, w, annos| {
                let s = two_floats_of(w, annos)?;
                let (slope, icpt) = linear_regression(s, ctx.ts);
                Some(Res::F(slope * d + icpt))
            });
            Ok(FnOut::Vector(out))
        }),
    );
    for name in ["double_exponential_smoothing", "holt_winters"] {
        reg(
            r,
            name,
            &[M, S, S],
            0,
            false,
            V,
            Arc::new(|ctx, mut a| {
                let (sf, tf) = (a[1].scalar(), a[2].scalar());
                if sf <= 0.0 || sf >= 1.0 {
                    return Err(Error::Execution(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                    )));
                }
                if tf <= 0.0 || tf >= 1.0 {
                    return Err(Error::Execution(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                    )));
                }
                let m = take_mat(&mut a, 0);
                let out = each_window(ctx, &m, true, |_, w, annos| {
                    let s = two_floats_of(w, annos)?;
                    let (mut s0, mut s1, mut b) = (0.0, s[0].v, s[1].v - s[0].v);
                    for (i, p) in s.iter().enumerate().skip(1) {
                        let x = sf * p.v;
                        if i > 1 {
                            b = tf * (s1 - s0) + (1.0 - tf) * b;
                        }
                        let y = (1.0 - sf) * (s1 + b);
                        s0 = s1;
                        s1 = x + y;
                    }
                    Some(Res::F(s1))
                });
                Ok(FnOut::Vector(out))
            }),
        );
    }
}
