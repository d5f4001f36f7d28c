//! The `*_over_time` aggregations and the other functions of a range's values (`deriv`,
//! `predict_linear`, `double_exponential_smoothing`).

use super::*;

/// A range function computing one float per window (or none).
pub(super) fn over_time(
    r: &mut FunctionRegistry,
    name: &str,
    drop: bool,
    f: fn(&[Sample]) -> Option<f64>,
) {
    window_fn(r, name, drop, move |s, _| f(s));
}

/// A range function computing one float per window from its samples and their start
/// timestamps (only `irate` and `resets` look at those, as in Prometheus).
pub(super) fn over_time_st(
    r: &mut FunctionRegistry,
    name: &str,
    f: fn(&[Sample], Option<&[i64]>) -> Option<f64>,
) {
    window_fn(r, name, true, f);
}

fn window_fn(
    r: &mut FunctionRegistry,
    name: &str,
    drop: bool,
    f: impl Fn(&[Sample], Option<&[i64]>) -> Option<f64> + Send + Sync + 'static,
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
            let mut out = Vec::with_capacity(m.series.len());
            for w in m.series {
                let s = w.samples();
                if s.is_empty() {
                    continue;
                }
                if let Some(v) = f(s, w.start_timestamps()) {
                    out.push(elem(w.labels.clone(), ctx.ts, v, drop || w.drop_name));
                }
            }
            Ok(FnOut::Vector(out))
        }),
    );
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

/// Registers the over-time functions.
pub(super) fn register(r: &mut FunctionRegistry) {
    over_time(r, "sum_over_time", true, |s| {
        let (mut sum, mut c) = (0.0, 0.0);
        for p in s {
            (sum, c) = kahan_inc(p.v, sum, c);
        }
        Some(if sum.is_infinite() { sum } else { sum + c })
    });
    over_time(r, "avg_over_time", true, |s| Some(avg_of(s)));
    over_time(r, "count_over_time", true, |s| Some(s.len() as f64));
    over_time(r, "min_over_time", true, |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v < m || m.is_nan() {
                m = p.v;
            }
        }
        Some(m)
    });
    over_time(r, "max_over_time", true, |s| {
        let mut m = s[0].v;
        for p in &s[1..] {
            if p.v > m || m.is_nan() {
                m = p.v;
            }
        }
        Some(m)
    });
    over_time(r, "last_over_time", false, |s| s.last().map(|p| p.v));
    over_time(r, "first_over_time", false, |s| s.first().map(|p| p.v));
    over_time(r, "present_over_time", true, |_| Some(1.0));
    over_time(r, "stddev_over_time", true, |s| Some(variance_of(s).sqrt()));
    over_time(r, "stdvar_over_time", true, |s| Some(variance_of(s)));
    over_time(r, "deriv", true, |s| {
        if s.len() < 2 {
            return None;
        }
        Some(linear_regression(s, s[0].t).0)
    });
    over_time(r, "mad_over_time", true, |s| {
        let vals: Vec<f64> = s.iter().map(|p| p.v).collect();
        if vals.iter().any(|v| v.is_nan()) {
            return Some(f64::NAN);
        }
        let med = quantile(0.5, vals.clone());
        Some(quantile(
            0.5,
            vals.iter().map(|v| (v - med).abs()).collect(),
        ))
    });
    over_time(r, "ts_of_max_over_time", true, |s| {
        ts_of(s, |p, b| p.v >= b.v || b.v.is_nan())
    });
    over_time(r, "ts_of_min_over_time", true, |s| {
        ts_of(s, |p, b| p.v <= b.v || b.v.is_nan())
    });
    over_time(r, "ts_of_last_over_time", true, |s| {
        s.last().map(|p| p.t as f64 / 1000.0)
    });
    over_time(r, "ts_of_first_over_time", true, |s| {
        s.first().map(|p| p.t as f64 / 1000.0)
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
            let m = take_mat(&mut a, 1);
            let mut out = vec![];
            for w in m.series {
                let s = w.samples();
                if s.is_empty() {
                    continue;
                }
                let v = quantile(q, s.iter().map(|p| p.v).collect());
                out.push(elem(w.labels.clone(), ctx.ts, v, true));
            }
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
            let mut out = vec![];
            for w in m.series {
                let s = w.samples();
                if s.len() < 2 {
                    continue;
                }
                let (slope, icpt) = linear_regression(s, ctx.ts);
                out.push(elem(w.labels.clone(), ctx.ts, slope * d + icpt, true));
            }
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
                let mut out = vec![];
                for w in m.series {
                    let s = w.samples();
                    if s.len() < 2 {
                        continue;
                    }
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
                    out.push(elem(w.labels.clone(), ctx.ts, s1, true));
                }
                Ok(FnOut::Vector(out))
            }),
        );
    }
}
