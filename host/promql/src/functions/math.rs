//! Element-wise math, clamping, rounding, scalar/vector conversion, time and date functions.

use super::*;

fn math_fn(r: &mut FunctionRegistry, name: &str, f: fn(f64) -> f64) {
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
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, f(e.v), true))
                    .collect(),
            ))
        }),
    );
}

fn time_fn(r: &mut FunctionRegistry, name: &str, f: fn(chrono::DateTime<chrono::Utc>) -> f64) {
    reg(
        r,
        name,
        &[V],
        1,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let conv = |secs: f64| -> f64 {
                if !secs.is_finite() {
                    return f64::NAN;
                }
                let ms = (secs * 1000.0) as i64;
                match chrono::Utc.timestamp_millis_opt(ms) {
                    chrono::LocalResult::Single(dt) => f(dt),
                    _ => f64::NAN,
                }
            };
            if a.is_empty() {
                return Ok(FnOut::Vector(vec![elem(
                    Arc::new(Labels::empty()),
                    ctx.ts,
                    conv(ctx.ts as f64 / 1000.0),
                    false,
                )]));
            }
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, conv(e.v), true))
                    .collect(),
            ))
        }),
    );
}

fn unwrap_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren { expr, .. } = e {
        e = expr;
    }
    e
}

/// Registers the math, time and date functions.
pub(super) fn register(r: &mut FunctionRegistry) {
    // Plain math.
    math_fn(r, "abs", f64::abs);
    math_fn(r, "ceil", f64::ceil);
    math_fn(r, "floor", f64::floor);
    math_fn(r, "exp", f64::exp);
    math_fn(r, "sqrt", f64::sqrt);
    math_fn(r, "ln", f64::ln);
    math_fn(r, "log2", f64::log2);
    math_fn(r, "log10", f64::log10);
    math_fn(r, "sin", f64::sin);
    math_fn(r, "cos", f64::cos);
    math_fn(r, "tan", f64::tan);
    math_fn(r, "asin", f64::asin);
    math_fn(r, "acos", f64::acos);
    math_fn(r, "atan", f64::atan);
    math_fn(r, "sinh", f64::sinh);
    math_fn(r, "cosh", f64::cosh);
    math_fn(r, "tanh", f64::tanh);
    math_fn(r, "asinh", f64::asinh);
    math_fn(r, "acosh", f64::acosh);
    math_fn(r, "atanh", f64::atanh);
    math_fn(r, "rad", |v| v * std::f64::consts::PI / 180.0);
    math_fn(r, "deg", |v| v * 180.0 / std::f64::consts::PI);
    math_fn(r, "sgn", |v| {
        if v < 0.0 {
            -1.0
        } else if v > 0.0 {
            1.0
        } else {
            v
        }
    });
    reg(
        r,
        "pi",
        &[],
        0,
        false,
        S,
        Arc::new(|_, _| Ok(FnOut::Scalar(std::f64::consts::PI))),
    );
    reg(
        r,
        "time",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.ts as f64 / 1000.0))),
    );
    reg(
        r,
        "start",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.start as f64 / 1000.0))),
    );
    reg(
        r,
        "end",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.end as f64 / 1000.0))),
    );
    reg(
        r,
        "step",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar(ctx.step as f64 / 1000.0))),
    );
    reg(
        r,
        "range",
        &[],
        0,
        false,
        S,
        Arc::new(|ctx, _| Ok(FnOut::Scalar((ctx.end - ctx.start) as f64 / 1000.0))),
    );
    reg(
        r,
        "min_of",
        &[S, S],
        0,
        false,
        S,
        Arc::new(|_, a| {
            let (x, y) = (a[0].scalar(), a[1].scalar());
            Ok(FnOut::Scalar(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            }))
        }),
    );
    reg(
        r,
        "max_of",
        &[S, S],
        0,
        false,
        S,
        Arc::new(|_, a| {
            let (x, y) = (a[0].scalar(), a[1].scalar());
            Ok(FnOut::Scalar(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }))
        }),
    );
    reg(
        r,
        "round",
        &[V, S],
        1,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let to = if a.len() > 1 { a[1].scalar() } else { 1.0 };
            let inv = 1.0 / to;
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, (e.v * inv + 0.5).floor() / inv, true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp",
        &[V, S, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let (lo, hi) = (a[1].scalar(), a[2].scalar());
            let v = take_vec(&mut a, 0);
            if hi < lo {
                return Ok(FnOut::Vector(vec![]));
            }
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, go_max(lo, go_min(hi, e.v)), true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp_min",
        &[V, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let lo = a[1].scalar();
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, go_max(lo, e.v), true))
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "clamp_max",
        &[V, S],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let hi = a[1].scalar();
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .filter(|e| e.h.is_none())
                    .map(|e| elem(e.labels, ctx.ts, go_min(hi, e.v), true))
                    .collect(),
            ))
        }),
    );
    // Evaluated by the engine, which alone sees the selector's stored start timestamps.
    reg(
        r,
        "start_timestamp",
        &[V],
        0,
        false,
        V,
        Arc::new(|_ctx, _a| Ok(FnOut::Vector(Vec::new()))),
    );
    reg(
        r,
        "timestamp",
        &[V],
        0,
        false,
        V,
        Arc::new(|ctx, mut a| {
            let direct = ctx
                .args
                .first()
                .map(|e| matches!(unwrap_parens(e), Expr::Vector(_)))
                .unwrap_or(false);
            let v = take_vec(&mut a, 0);
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|e| {
                        let t = if direct { e.t } else { ctx.ts };
                        elem(e.labels, ctx.ts, t as f64 / 1000.0, true)
                    })
                    .collect(),
            ))
        }),
    );
    reg(
        r,
        "vector",
        &[S],
        0,
        false,
        V,
        Arc::new(|ctx, a| {
            Ok(FnOut::Vector(vec![elem(
                Arc::new(Labels::empty()),
                ctx.ts,
                a[0].scalar(),
                false,
            )]))
        }),
    );
    reg(
        r,
        "scalar",
        &[V],
        0,
        false,
        S,
        Arc::new(|_, a| {
            Ok(FnOut::Scalar(match &a[0] {
                // Histograms are ignored: the one float, if there is exactly one.
                Arg::Vector(v) => {
                    let mut floats = v.iter().filter(|e| e.h.is_none());
                    match (floats.next(), floats.next()) {
                        (Some(e), None) => e.v,
                        _ => f64::NAN,
                    }
                }
                _ => f64::NAN,
            }))
        }),
    );
    // Time and date.
    time_fn(r, "day_of_month", |d| d.day() as f64);
    time_fn(r, "day_of_week", |d| {
        d.weekday().num_days_from_sunday() as f64
    });
    time_fn(r, "day_of_year", |d| d.ordinal() as f64);
    time_fn(r, "days_in_month", |d| {
        let (y, m) = (d.year(), d.month());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        match (
            chrono::NaiveDate::from_ymd_opt(y, m, 1),
            chrono::NaiveDate::from_ymd_opt(ny, nm, 1),
        ) {
            (Some(a), Some(b)) => (b - a).num_days() as f64,
            _ => f64::NAN,
        }
    });
    time_fn(r, "hour", |d| d.hour() as f64);
    time_fn(r, "minute", |d| d.minute() as f64);
    time_fn(r, "month", |d| d.month() as f64);
    time_fn(r, "year", |d| d.year() as f64);
}

/// Go's `math.Max`: an infinity wins over NaN, NaN over everything else.
fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        // +0 wins over -0.
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: an infinity wins over NaN, NaN over everything else.
fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        // -0 wins over +0.
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else {
        a.min(b)
    }
}
