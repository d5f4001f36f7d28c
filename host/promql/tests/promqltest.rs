//! Runs every Prometheus promqltest script in `tests/conformance/promql` against the engine
//! over `MemStorage`, printing per-file and total pass counts. Native-histogram evals (those
//! reading a histogram series or expecting histograms) are counted separately. Histograms are
//! loaded with the counter reset hints Prometheus' TSDB head would give them (see
//! [`sightline_promql::HeadHints`]), and `load_with_nhcb` adds custom-bucket histograms for classic ones.
//!
//! `PROMQLTEST_FILE=<substring>` restricts the files; `PROMQLTEST_VERBOSE=1` prints failures
//! (`PROMQLTEST_NATIVE=1` includes the native-histogram ones).

#![allow(clippy::expect_used)]

use std::path::PathBuf;

use std::sync::Arc;

use sightline_model::{is_stale_nan, FloatHistogram, Labels, Span};
use sightline_promql::{
    AtModifier, DurExpr, Engine, EngineOptions, Expr, QueryResult, RangeSeries, SeriesValue, Value,
};
use sightline_storage_api::{Appendable, MemStorage};

/// The pass count this runner must not drop below (raise it as the engine improves).
const FLOOR: usize = 2214;

fn suite_dir() -> PathBuf {
    sightline_tests::vendored("conformance/promql")
}

fn parse_time(s: &str) -> Option<i64> {
    if let Ok(d) = sightline_model::parse_duration(s) {
        return Some(d.as_millis() as i64);
    }
    s.parse::<f64>().ok().map(|v| (v * 1000.0) as i64)
}

/// A signed duration offset (`-30s`, `+1m`, `0`, `1ms`).
fn parse_signed_dur(s: &str) -> Option<i64> {
    match s.as_bytes().first()? {
        b'-' => parse_time(&s[1..]).map(|v| -v),
        b'+' => parse_time(&s[1..]),
        _ => parse_time(s),
    }
}

/// Expands the items of a start-timestamp (`@st`) line into per-position offsets from each
/// sample's own time (`None` for `_`): `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN`.
fn expand_start_offsets(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out = Vec::new();
    for tok in s.split_whitespace() {
        if tok == "_" {
            out.push(None);
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| format!("bad @st item {tok}"))?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        let (head, reps) = match tok.rfind('x') {
            Some(i) if tok[i + 1..].bytes().all(|b| b.is_ascii_digit()) && i + 1 < tok.len() => {
                let n: usize = tok[i + 1..]
                    .parse()
                    .map_err(|_| format!("bad @st item {tok}"))?;
                (&tok[..i], Some(n))
            }
            _ => (tok, None),
        };
        let split = head
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map(|(i, _)| i);
        let bad = || format!("bad @st item {tok:?}");
        match (split, reps) {
            (Some(i), Some(n)) => {
                let a = parse_signed_dur(&head[..i]).ok_or_else(bad)?;
                let b = parse_signed_dur(&head[i..]).ok_or_else(bad)?;
                for k in 0..=n as i64 {
                    out.push(Some(a + b * k));
                }
            }
            (None, Some(n)) => {
                let a = parse_signed_dur(head).ok_or_else(bad)?;
                out.extend(std::iter::repeat_n(Some(a), n + 1));
            }
            (None, None) => out.push(Some(parse_signed_dur(head).ok_or_else(bad)?)),
            (Some(_), None) => return Err(bad()),
        }
    }
    Ok(out)
}

fn split_series(line: &str) -> (String, String) {
    sightline_promql::split_series_desc(line)
}

fn parse_labels(sel: &str) -> Result<Labels, String> {
    sightline_promql::parse_series_labels(sel)
        .map_err(|e| format!("bad series {:?}: {e}", sel.trim()))
}

/// One expanded value: a float, a native histogram (with whether its counter reset hint was
/// written out, which is when the test language compares it) or `_`.
#[derive(Debug, Clone)]
enum Item {
    Val(f64),
    Hist(Arc<FloatHistogram>, bool),
    Skip,
}

use sightline_promql::scan_float;

/// The steps of a series description's values (the library's expanding notation), with
/// whether there are native-histogram values.
fn expand_values(s: &str) -> Result<(Vec<Item>, bool), String> {
    let steps = sightline_promql::expand_series(s)?;
    let mut hist = false;
    let items = steps
        .into_iter()
        .map(|v| match v {
            None => Item::Skip,
            Some(SeriesValue::Float(f)) => Item::Val(f),
            Some(SeriesValue::Histogram { h, hint_set }) => {
                hist = true;
                Item::Hist(h, hint_set)
            }
        })
        .collect();
    Ok((items, hist))
}

/// Bucket `(index, count)` pairs without empty buckets: the layout `Compact(0)` leaves, which
/// is what Prometheus' test compares.
use sightline_promql::compact_buckets;

/// Prometheus' `compareNativeHistogram` (after compacting both).
fn hist_eq(exp: &FloatHistogram, got: &FloatHistogram, hint_set: bool) -> bool {
    let buckets_eq = |a: Vec<(i32, f64)>, b: Vec<(i32, f64)>| {
        a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x.0 == y.0 && float_eq(x.1, y.1))
    };
    exp.schema == got.schema
        && float_eq(exp.count, got.count)
        && float_eq(exp.sum, got.sum)
        && (exp.schema != -53 || exp.custom_values[..] == got.custom_values[..])
        && exp.zero_threshold == got.zero_threshold
        && float_eq(exp.zero_count, got.zero_count)
        && buckets_eq(
            compact_buckets(&exp.negative_spans, &exp.negative_buckets),
            compact_buckets(&got.negative_spans, &got.negative_buckets),
        )
        && buckets_eq(
            compact_buckets(&exp.positive_spans, &exp.positive_buckets),
            compact_buckets(&got.positive_spans, &got.positive_buckets),
        )
        && (!hint_set || exp.counter_reset_hint == got.counter_reset_hint)
}

/// Compares one expected series (items at `start + i*step`) with a result series.
fn compare_series(
    l: &Labels,
    items: &[Item],
    start: i64,
    step: i64,
    got: &RangeSeries,
) -> Result<(), String> {
    let mut floats = Vec::new();
    let mut hists = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let t = start + i as i64 * step;
        match it {
            Item::Val(v) => floats.push((t, *v)),
            Item::Hist(h, set) => hists.push((t, h.clone(), *set)),
            Item::Skip => {}
        }
    }
    let show = || format!("{:?} and {} histograms", got.samples, got.histograms.len());
    if floats.len() != got.samples.len() || hists.len() != got.histograms.len() {
        return Err(format!(
            "series {l}: expected {} floats and {} histograms, got {}",
            floats.len(),
            hists.len(),
            show()
        ));
    }
    for ((t, v), g) in floats.iter().zip(&got.samples) {
        if *t != g.t || !float_eq(*v, g.v) {
            return Err(format!("series {l}: want {v}@{t}, got {}", show()));
        }
    }
    for ((t, h, set), g) in hists.iter().zip(&got.histograms) {
        if *t != g.t || !hist_eq(h, &g.h, *set) {
            return Err(format!("series {l}: want {h:?}@{t}, got {:?}@{}", g.h, g.t));
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Expect {
    fail: Option<(Option<String>, Option<String>)>,
    warn: Vec<(Option<String>, Option<String>)>,
    info: Vec<(Option<String>, Option<String>)>,
    no_warn: bool,
    no_info: bool,
    ordered: bool,
    range_vector: Option<(i64, i64, i64)>,
    string: Option<String>,
    scalar: Option<f64>,
    series: Vec<(Labels, Vec<Item>)>,
    has_hist_output: bool,
}

fn parse_msg(rest: &str) -> (Option<String>, Option<String>) {
    let rest = rest.trim();
    if let Some(m) = rest.strip_prefix("msg:") {
        (Some(m.trim().to_string()), None)
    } else if let Some(r) = rest.strip_prefix("regex:") {
        (None, Some(r.trim().to_string()))
    } else {
        (None, None)
    }
}

fn go_unquote(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(x) = s.strip_prefix('`').and_then(|x| x.strip_suffix('`')) {
        return Some(x.to_string());
    }
    let x = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = x.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                o => out.push(o),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn float_eq(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    ((a - b).abs() / (a.abs() + b.abs())) < 1e-6
}

struct EvalCase {
    line: usize,
    expr: String,
    range: Option<(i64, i64, i64)>,
    at: i64,
    exp: Expect,
    native: bool,
}

fn check_annotations(
    kind: &str,
    got: &[String],
    want: &[(Option<String>, Option<String>)],
    no: bool,
) -> Result<(), String> {
    if no && !got.is_empty() {
        return Err(format!("unexpected {kind}: {got:?}"));
    }
    if want.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(format!("expected {kind} but got none"));
    }
    let matches = |g: &str, w: &(Option<String>, Option<String>)| -> bool {
        match w {
            (Some(m), _) => g == m,
            (None, Some(r)) => regex::Regex::new(r)
                .map(|re| re.is_match(g))
                .unwrap_or(false),
            _ => true,
        }
    };
    for g in got {
        if !want.iter().any(|w| matches(g, w)) {
            return Err(format!("unexpected {kind} {g:?}, want {want:?}"));
        }
    }
    for w in want {
        if !got.iter().any(|g| matches(g, w)) {
            return Err(format!("missing {kind} {w:?}, got {got:?}"));
        }
    }
    Ok(())
}

fn compare_instant(res: &QueryResult, exp: &Expect, t: i64) -> Result<(), String> {
    if let Some(s) = &exp.string {
        return match &res.value {
            Value::String { s: g, .. } if g == s => Ok(()),
            other => Err(format!("expected string {s:?}, got {other:?}")),
        };
    }
    if let Some(want) = exp.scalar {
        return match &res.value {
            Value::Scalar { v, .. } if float_eq(*v, want) => Ok(()),
            other => Err(format!("expected scalar {want}, got {other:?}")),
        };
    }
    if let Some((from, _to, step)) = exp.range_vector {
        let m = match &res.value {
            Value::Matrix(m) => m,
            other => return Err(format!("expected matrix, got {other:?}")),
        };
        if m.len() != exp.series.len() {
            return Err(format!(
                "expected {} series, got {}: {m:?}",
                exp.series.len(),
                m.len()
            ));
        }
        for (l, items) in &exp.series {
            let s = m
                .iter()
                .find(|s| &s.labels == l)
                .ok_or_else(|| format!("missing series {l}: got {m:?}"))?;
            compare_series(l, items, from, step, s)?;
        }
        return Ok(());
    }
    let v = match &res.value {
        Value::Vector(v) => v,
        Value::Matrix(m) if m.is_empty() && exp.series.is_empty() => return Ok(()),
        other => return Err(format!("expected vector, got {other:?}")),
    };
    let _ = t;
    if v.len() != exp.series.len() {
        return Err(format!(
            "expected {} samples, got {}: {v:?}",
            exp.series.len(),
            v.len()
        ));
    }
    for (i, (l, items)) in exp.series.iter().enumerate() {
        let want = match items.first() {
            Some(it @ (Item::Val(_) | Item::Hist(..))) => it.clone(),
            _ => return Err("bad expected value".into()),
        };
        let got = if exp.ordered {
            let g = &v[i];
            if &g.labels != l {
                return Err(format!("ordered: position {i}: want {l}, got {}", g.labels));
            }
            g
        } else {
            v.iter()
                .find(|s| &s.labels == l)
                .ok_or_else(|| format!("missing {l}; got {v:?}"))?
        };
        match (&want, &got.h) {
            (Item::Val(w), None) if float_eq(got.v, *w) => {}
            (Item::Hist(w, set), Some(g)) if hist_eq(w, g, *set) => {}
            _ => {
                return Err(format!(
                    "{l}: want {want:?}, got {}",
                    match &got.h {
                        Some(h) => format!("{h:?}"),
                        None => got.v.to_string(),
                    }
                ))
            }
        }
    }
    Ok(())
}

fn compare_range(res: &QueryResult, exp: &Expect, start: i64, step: i64) -> Result<(), String> {
    let m = match &res.value {
        Value::Matrix(m) => m,
        other => return Err(format!("expected matrix, got {other:?}")),
    };
    for w in m.windows(2) {
        if w[0].labels >= w[1].labels {
            return Err("matrix not sorted by labels".into());
        }
    }
    let want_series: Vec<&(Labels, Vec<Item>)> = exp
        .series
        .iter()
        .filter(|(_, it)| it.iter().any(|x| !matches!(x, Item::Skip)))
        .collect();
    if let Some(sv) = exp.scalar {
        // A scalar expected from a range eval: one series with no labels.
        if m.len() != 1 || m[0].samples.iter().any(|s| !float_eq(s.v, sv)) {
            return Err(format!("expected scalar {sv}, got {m:?}"));
        }
        return Ok(());
    }
    if m.len() != want_series.len() {
        return Err(format!(
            "expected {} series, got {}: {m:?}",
            want_series.len(),
            m.len()
        ));
    }
    for (l, items) in want_series {
        let s = m
            .iter()
            .find(|s| &s.labels == l)
            .ok_or_else(|| format!("missing series {l}; got {m:?}"))?;
        compare_series(l, items, start, step, s)?;
    }
    Ok(())
}

fn check_result(
    r: &Result<QueryResult, sightline_promql::Error>,
    exp: &Expect,
    check: impl Fn(&QueryResult) -> Result<(), String>,
) -> Result<(), String> {
    match (r, &exp.fail) {
        (Err(e), Some((msg, re))) => {
            let s = e.to_string();
            if let Some(m) = msg {
                if &s != m {
                    return Err(format!("error {s:?}, want {m:?}"));
                }
            }
            if let Some(rx) = re {
                if !regex::Regex::new(rx)
                    .map(|x| x.is_match(&s))
                    .unwrap_or(false)
                {
                    return Err(format!("error {s:?} does not match {rx:?}"));
                }
            }
            Ok(())
        }
        (Err(e), None) => Err(format!("unexpected error: {e}")),
        (Ok(_), Some(_)) => Err("expected failure, query succeeded".into()),
        (Ok(res), None) => {
            check_annotations("warning", &res.warnings, &exp.warn, exp.no_warn)?;
            check_annotations("info", &res.infos, &exp.info, exp.no_info)?;
            check(res)
        }
    }
}

fn set_at(e: &mut Expr, t: i64) {
    match e {
        Expr::Vector(vs) => {
            if vs.at.is_none() {
                vs.at = Some(AtModifier::Time(t));
            }
        }
        Expr::Matrix { vs, .. } => {
            if vs.at.is_none() {
                vs.at = Some(AtModifier::Time(t));
            }
        }
        Expr::Subquery { expr, at, .. } => {
            if at.is_none() {
                *at = Some(AtModifier::Time(t));
            }
            let _ = expr;
        }
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => set_at(expr, t),
        Expr::Binary { lhs, rhs, .. } => {
            set_at(lhs, t);
            set_at(rhs, t);
        }
        Expr::Aggregate(a) => {
            set_at(&mut a.expr, t);
            if let Some(p) = &mut a.param {
                set_at(p, t);
            }
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(|a| set_at(a, t)),
        Expr::Number { .. } | Expr::Str { .. } => {}
    }
}

fn dur_has_step_range(d: &DurExpr) -> bool {
    match d {
        DurExpr::Step | DurExpr::Range => true,
        DurExpr::Lit(_) | DurExpr::Num(_) => false,
        DurExpr::Neg(x) | DurExpr::Paren(x) => dur_has_step_range(x),
        DurExpr::Bin(_, a, b) | DurExpr::MinMax(_, a, b) => {
            dur_has_step_range(a) || dur_has_step_range(b)
        }
    }
}

/// (uses time-dependent functions, uses start/end/range/step)
fn scan_expr(e: &Expr, acc: &mut (bool, bool)) {
    let durs = |acc: &mut (bool, bool), ds: &[Option<&DurExpr>]| {
        for d in ds.iter().flatten() {
            if dur_has_step_range(d) {
                acc.0 = true;
                acc.1 = true;
            }
        }
    };
    match e {
        Expr::Vector(vs) => {
            durs(acc, &[vs.offset.as_ref()]);
            if matches!(vs.at, Some(AtModifier::Start | AtModifier::End)) {
                acc.1 = true;
            }
        }
        Expr::Matrix { vs, range, .. } => {
            durs(acc, &[vs.offset.as_ref(), Some(range)]);
            if matches!(vs.at, Some(AtModifier::Start | AtModifier::End)) {
                acc.1 = true;
            }
        }
        Expr::Subquery {
            expr,
            range,
            step,
            offset,
            at,
            ..
        } => {
            durs(acc, &[Some(range), step.as_ref(), offset.as_ref()]);
            if matches!(at, Some(AtModifier::Start | AtModifier::End)) {
                acc.1 = true;
            }
            scan_expr(expr, acc);
        }
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => scan_expr(expr, acc),
        Expr::Binary { lhs, rhs, .. } => {
            scan_expr(lhs, acc);
            scan_expr(rhs, acc);
        }
        Expr::Aggregate(a) => {
            scan_expr(&a.expr, acc);
            if let Some(p) = &a.param {
                scan_expr(p, acc);
            }
        }
        Expr::Call { func, args, .. } => {
            if matches!(
                func.as_str(),
                "time"
                    | "timestamp"
                    | "predict_linear"
                    | "start"
                    | "end"
                    | "step"
                    | "range"
                    | "day_of_month"
                    | "day_of_week"
                    | "day_of_year"
                    | "days_in_month"
                    | "hour"
                    | "minute"
                    | "month"
                    | "year"
            ) {
                acc.0 = true;
            }
            if matches!(func.as_str(), "start" | "end" | "step" | "range") {
                acc.1 = true;
            }
            args.iter().for_each(|a| scan_expr(a, acc));
        }
        Expr::Number { .. } | Expr::Str { .. } => {}
    }
}

fn selectors(e: &Expr, out: &mut Vec<Vec<sightline_model::Matcher>>) {
    match e {
        Expr::Vector(vs) | Expr::Matrix { vs, .. } => out.push(vs.matchers.clone()),
        Expr::Subquery { expr, .. } | Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
            selectors(expr, out)
        }
        Expr::Binary { lhs, rhs, .. } => {
            selectors(lhs, out);
            selectors(rhs, out);
        }
        Expr::Aggregate(a) => {
            selectors(&a.expr, out);
            if let Some(p) = &a.param {
                selectors(p, out);
            }
        }
        Expr::Call { args, .. } => args.iter().for_each(|a| selectors(a, out)),
        _ => {}
    }
}

fn run_eval(engine: &Engine, st: &MemStorage, c: &EvalCase) -> Result<(), String> {
    if let Some((start, end, step)) = c.range {
        let r = engine.range_query(st, &c.expr, start, end, step);
        return check_result(&r, &c.exp, |res| compare_range(res, &c.exp, start, step));
    }
    let at = c.exp.range_vector.map(|(_, to, _)| to).unwrap_or(c.at);
    let r = engine.instant_query(st, &c.expr, at);
    check_result(&r, &c.exp, |res| compare_instant(res, &c.exp, at))?;
    let parsed = engine.parse(&c.expr).map_err(|e| e.to_string())?;
    let mut flags = (false, false);
    scan_expr(&parsed, &mut flags);
    let range_check =
        !c.exp.ordered && c.exp.range_vector.is_none() && c.exp.string.is_none() && !flags.1;
    let mut variants: Vec<(String, i64)> = vec![(c.expr.clone(), at)];
    if !flags.0 && c.exp.range_vector.is_none() {
        let mut e2 = parsed.clone();
        set_at(&mut e2, at);
        let s = e2.to_string();
        let times = if at == 0 {
            vec![-1000, 0, 1000]
        } else {
            vec![-10 * at, 0, at / 5, at, 10 * at]
        };
        for t in times {
            variants.push((s.clone(), t));
        }
    }
    for (i, (expr, t)) in variants.iter().enumerate() {
        if i > 0 {
            let r = engine.instant_query(st, expr, *t);
            check_result(&r, &c.exp, |res| compare_instant(res, &c.exp, *t))
                .map_err(|e| format!("@ re-run of {expr} at {t}: {e}"))?;
        }
        if range_check {
            let r = engine.range_query(st, expr, t - 60_000, t + 60_000, 60_000);
            let mid = *t;
            // As Prometheus' test, the range re-run compares values, not annotations.
            let values_only = Expect {
                fail: c.exp.fail.clone(),
                ordered: c.exp.ordered,
                scalar: c.exp.scalar,
                series: c.exp.series.clone(),
                ..Default::default()
            };
            check_result(&r, &values_only, |res| {
                // Take the middle step as an instant result.
                let m = match &res.value {
                    Value::Matrix(m) => m,
                    other => return Err(format!("range re-run: expected matrix, got {other:?}")),
                };
                let value = if c.exp.scalar.is_some() {
                    match m
                        .first()
                        .and_then(|s| s.samples.iter().find(|p| p.t == mid))
                    {
                        Some(p) => Value::Scalar { t_ms: mid, v: p.v },
                        None => Value::Vector(vec![]),
                    }
                } else {
                    Value::Vector(
                        m.iter()
                            .filter_map(|s| {
                                let f = s.samples.iter().find(|p| p.t == mid).map(|p| {
                                    sightline_promql::VectorSample {
                                        labels: s.labels.clone(),
                                        t_ms: mid,
                                        v: p.v,
                                        h: None,
                                    }
                                });
                                f.or_else(|| {
                                    s.histograms.iter().find(|p| p.t == mid).map(|p| {
                                        sightline_promql::VectorSample {
                                            labels: s.labels.clone(),
                                            t_ms: mid,
                                            v: 0.0,
                                            h: Some(p.h.clone()),
                                        }
                                    })
                                })
                            })
                            .collect(),
                    )
                };
                let inst = QueryResult {
                    value,
                    warnings: vec![],
                    infos: vec![],
                    stats: Default::default(),
                };
                compare_instant(&inst, &c.exp, mid)
            })
            .map_err(|e| format!("range re-run of {expr} around {t}: {e}"))?;
        }
    }
    Ok(())
}

/// A classic histogram at one time being collected for conversion (Prometheus'
/// `convertnhcb.TempHistogram`).
#[derive(Default, Clone)]
struct TempHistogram {
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
    err: bool,
}

impl TempHistogram {
    fn set_bucket_count(&mut self, le: f64, count: f64) {
        if self.err || le.is_nan() || count < 0.0 {
            self.err = true;
            return;
        }
        let i = self.buckets.partition_point(|(b, _)| *b < le);
        if self.buckets.get(i).is_some_and(|(b, _)| *b == le) {
            return;
        }
        let below = i.checked_sub(1).map(|j| self.buckets[j].1);
        let above = self.buckets.get(i).map(|x| x.1);
        if below.is_some_and(|b| count < b) || above.is_some_and(|a| count > a) {
            self.err = true;
            return;
        }
        self.buckets.insert(i, (le, count));
    }

    /// `TempHistogram.Convert`: custom bounds from the `le`s, bucket counts de-cumulated.
    fn convert(mut self) -> Option<FloatHistogram> {
        if self.err {
            return None;
        }
        let count = match self.count {
            Some(c) => c,
            None => self.buckets.last().map_or(0.0, |b| b.1),
        };
        if self.buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
            self.buckets.push((f64::INFINITY, count));
        }
        if self.buckets.last().map(|b| b.1) != Some(count) {
            return None;
        }
        let mut prev = 0.0;
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for (_, c) in &self.buckets {
            buckets.push(c - prev);
            prev = *c;
        }
        let bounds: Vec<f64> = self.buckets[..self.buckets.len() - 1]
            .iter()
            .map(|b| b.0)
            .collect();
        let mut h = FloatHistogram {
            schema: -53,
            count,
            sum: self.sum,
            positive_spans: vec![Span::new(0, buckets.len() as u32)],
            positive_buckets: buckets,
            custom_values: Arc::from(bounds),
            ..FloatHistogram::default()
        };
        h.compact(0);
        Some(h)
    }
}

/// The native histograms with custom buckets `load_with_nhcb` adds for the classic
/// histograms of a load block (`_bucket`/`_count`/`_sum` series), as Prometheus' test does.
#[allow(clippy::type_complexity)]
fn classic_to_nhcb(
    pending: &[(Labels, std::collections::BTreeMap<i64, (Item, i64)>)],
) -> Vec<(Labels, Vec<(i64, FloatHistogram)>)> {
    let mut out: Vec<(Labels, std::collections::BTreeMap<i64, TempHistogram>)> = Vec::new();
    for (labels, samples) in pending {
        let Some(name) = labels.metric_name() else {
            continue;
        };
        let (kind, base) = if let Some(b) = name.strip_suffix("_bucket") {
            (0, b)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (1, b)
        } else if let Some(b) = name.strip_suffix("_count") {
            (2, b)
        } else {
            continue;
        };
        let le = if kind == 0 {
            match labels.get("le").and_then(|v| v.parse::<f64>().ok()) {
                Some(le) if !le.is_nan() => le,
                _ => continue,
            }
        } else {
            0.0
        };
        let mut b = labels.builder();
        b.set("__name__", base.to_string());
        b.del("le");
        let base_labels = b.build();
        let idx = match out.iter().position(|(l, _)| *l == base_labels) {
            Some(i) => i,
            None => {
                out.push((base_labels, Default::default()));
                out.len() - 1
            }
        };
        for (t, (it, _)) in samples {
            let Item::Val(v) = it else {
                continue;
            };
            let th = out[idx].1.entry(*t).or_default();
            match kind {
                0 => th.set_bucket_count(le, *v),
                1 => th.sum = *v,
                _ => {
                    if *v < 0.0 {
                        th.err = true;
                    }
                    th.count = Some(*v);
                }
            }
        }
    }
    out.into_iter()
        .map(|(l, by_t)| {
            let hs = by_t
                .into_iter()
                .filter_map(|(t, th)| th.convert().map(|h| (t, h)))
                .collect();
            (l, hs)
        })
        .collect()
}

struct FileStats {
    name: String,
    pass: usize,
    total: usize,
    fo_pass: usize,
    fo_total: usize,
}

fn run_file(path: &std::path::Path, verbose: bool) -> Result<FileStats, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect();
    let mut opts = EngineOptions {
        max_samples: 10_000,
        timeout: std::time::Duration::from_secs(100),
        ..Default::default()
    };
    // `SIGHTLINE_PROMQLTEST_PARALLELISM=n` runs every query's per-series work on n threads,
    // however few series it has (the parallel path must give the same answers).
    if let Some(n) = std::env::var("SIGHTLINE_PROMQLTEST_PARALLELISM")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.parallelism = n;
        opts.parallel_min_series = 1;
    }
    let engine = Engine::new(opts);
    let mut st = MemStorage::new();
    let mut hist_series: Vec<Labels> = Vec::new();
    let mut chunks: std::collections::HashMap<Labels, sightline_promql::HeadHints> =
        Default::default();
    let mut stats = FileStats {
        name: name.clone(),
        pass: 0,
        total: 0,
        fo_pass: 0,
        fo_total: 0,
    };
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let start_line = i + 1;
        let mut block = vec![l.clone()];
        i += 1;
        let is_clear = l
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("clear"));
        while !is_clear && i < lines.len() && !lines[i].is_empty() {
            block.push(lines[i].clone());
            i += 1;
        }
        let cmd = block[0]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if cmd == "clear" {
            st = MemStorage::new();
            hist_series.clear();
            chunks.clear();
        } else if cmd.starts_with("load") {
            let nhcb = cmd == "load_with_nhcb";
            let step = block[0]
                .split_whitespace()
                .nth(1)
                .and_then(parse_time)
                .ok_or("bad load step")?;
            let mut app = st.appender();
            type Points = std::collections::BTreeMap<i64, (Item, i64)>;
            let mut pending: Vec<(Labels, Points)> = Vec::new();
            // Start-timestamp offsets for the next line's series.
            let mut starts: Option<(Labels, Vec<Option<i64>>)> = None;
            for line in &block[1..] {
                let (sel, vals) = split_series(line);
                if sel.ends_with("@st") || vals.starts_with("@st") {
                    let sel = sel.strip_suffix("@st").unwrap_or(&sel);
                    let vals = vals.strip_prefix("@st").unwrap_or(&vals);
                    let labels =
                        parse_labels(sel).map_err(|e| format!("line {start_line}: {e}"))?;
                    let offs = expand_start_offsets(vals)
                        .map_err(|e| format!("line {start_line}: {e}"))?;
                    starts = Some((labels, offs));
                    continue;
                }
                let labels = parse_labels(&sel).map_err(|e| format!("line {start_line}: {e}"))?;
                let offs = match starts.take() {
                    Some((l, o)) if l == labels => o,
                    Some(_) => {
                        return Err(format!(
                            "line {start_line}: @st line not followed by the same series"
                        ))
                    }
                    None => Vec::new(),
                };
                let (items, hist) =
                    expand_values(&vals).map_err(|e| format!("line {start_line}: {e}"))?;
                if hist {
                    hist_series.push(labels.clone());
                }
                if nhcb {
                    if let Some(n) = labels.metric_name() {
                        for suf in ["_bucket", "_count", "_sum"] {
                            if let Some(base) = n.strip_suffix(suf) {
                                let mut b = labels.builder();
                                b.set("__name__", base.to_string());
                                b.del("le");
                                hist_series.push(b.build());
                            }
                        }
                    }
                }
                let idx = match pending.iter().position(|(l, _)| *l == labels) {
                    Some(i) => i,
                    None => {
                        pending.push((labels.clone(), Default::default()));
                        pending.len() - 1
                    }
                };
                for (k, it) in items.iter().enumerate() {
                    if !matches!(it, Item::Skip) {
                        let t = k as i64 * step;
                        let st = offs.get(k).copied().flatten().map(|o| t + o).unwrap_or(0);
                        pending[idx].1.insert(t, (it.clone(), st));
                    }
                }
            }
            for (labels, samples) in &pending {
                let chunk = chunks.entry(labels.clone()).or_default();
                for (t, (it, st)) in samples {
                    let _ = match it {
                        Item::Val(v) => {
                            chunk.float(*v);
                            app.append_with_start(None, labels, *st, *t, *v)
                        }
                        Item::Hist(h, _) => {
                            let h = chunk.histogram(h);
                            app.append_float_histogram_with_start(None, labels, *st, *t, &h)
                        }
                        Item::Skip => continue,
                    };
                }
            }
            if nhcb {
                for (labels, samples) in classic_to_nhcb(&pending) {
                    let chunk = chunks.entry(labels.clone()).or_default();
                    for (t, h) in samples {
                        let h = chunk.histogram(&Arc::new(h));
                        let _ = app.append_float_histogram(None, &labels, t, &h);
                    }
                }
            }
            app.commit().map_err(|e| e.to_string())?;
        } else if cmd.starts_with("eval") {
            let head = &block[0];
            let mut words = head.split_whitespace();
            let first = words.next().unwrap_or("").to_ascii_lowercase();
            let mut exp = Expect::default();
            match first.as_str() {
                "eval_fail" => exp.fail = Some((None, None)),
                "eval_warn" => exp.warn.push((None, None)),
                "eval_info" => exp.info.push((None, None)),
                "eval_ordered" => exp.ordered = true,
                _ => {}
            }
            let kind = words.next().unwrap_or("");
            let (range, at, expr) = if kind == "instant" {
                let _at_word = words.next();
                let t = words
                    .next()
                    .and_then(parse_time)
                    .ok_or_else(|| format!("line {start_line}: bad time"))?;
                let rest: Vec<&str> = words.collect();
                (None, t, rest.join(" "))
            } else if kind == "range" {
                let _ = words.next();
                let a = words.next().and_then(parse_time).ok_or("bad from")?;
                let _ = words.next();
                let b = words.next().and_then(parse_time).ok_or("bad to")?;
                let _ = words.next();
                let s = words.next().and_then(parse_time).ok_or("bad step")?;
                let rest: Vec<&str> = words.collect();
                (Some((a, b, s)), 0, rest.join(" "))
            } else {
                return Err(format!("line {start_line}: bad eval {head}"));
            };
            // Keep the expression text exactly as written after the header words.
            let expr = {
                let idx = head
                    .find(expr.split_whitespace().next().unwrap_or(""))
                    .unwrap_or(0);
                let prefix_words = if range.is_some() { 8 } else { 4 };
                let mut pos = 0;
                let mut count = 0;
                let hb = head.as_bytes();
                while count < prefix_words && pos < hb.len() {
                    while pos < hb.len() && hb[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    while pos < hb.len() && !hb[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    count += 1;
                }
                let _ = idx;
                head[pos..].trim().to_string()
            };
            for line in &block[1..] {
                if let Some(rest) = line.strip_prefix("expect ") {
                    let rest = rest.trim();
                    let (k, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                    match k {
                        "fail" => exp.fail = Some(parse_msg(tail)),
                        "warn" => exp.warn.push(parse_msg(tail)),
                        "info" => exp.info.push(parse_msg(tail)),
                        "no_warn" => exp.no_warn = true,
                        "no_info" => exp.no_info = true,
                        "ordered" => exp.ordered = true,
                        "string" => exp.string = go_unquote(tail),
                        "range" => {
                            let w: Vec<&str> = tail.split_whitespace().collect();
                            // range vector from A to B step C
                            if w.len() >= 7 {
                                let a = parse_time(w[2]).ok_or("bad range from")?;
                                let b = parse_time(w[4]).ok_or("bad range to")?;
                                let c = parse_time(w[6]).ok_or("bad range step")?;
                                exp.range_vector = Some((a, b, c));
                            }
                        }
                        _ => return Err(format!("line {start_line}: unknown expect {k}")),
                    }
                } else if let Some(m) = line.strip_prefix("expected_fail_message") {
                    exp.fail = Some((Some(m.trim().to_string()), None));
                } else if let Some(m) = line.strip_prefix("expected_fail_regexp") {
                    exp.fail = Some((None, Some(m.trim().to_string())));
                } else if let Some((v, _)) = scan_float(line).filter(|(_, n)| *n == line.len()) {
                    exp.scalar = Some(v);
                } else {
                    let (sel, vals) = split_series(line);
                    let labels =
                        parse_labels(&sel).map_err(|e| format!("line {start_line}: {e}"))?;
                    let (items, hist) =
                        expand_values(&vals).map_err(|e| format!("line {start_line}: {e}"))?;
                    if hist {
                        exp.has_hist_output = true;
                    }
                    exp.series.push((labels, items));
                }
            }
            // Classify: does the eval touch native histogram data?
            let mut native = exp.has_hist_output;
            if let Ok(p) = engine.parse(&expr) {
                let mut sels = Vec::new();
                selectors(&p, &mut sels);
                if sels.iter().any(|ms| {
                    hist_series
                        .iter()
                        .any(|l| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
                }) {
                    native = true;
                }
            } else {
                // The expression does not parse (e.g. native-histogram-only operators): fall
                // back to looking for a histogram series name among its words.
                let words: Vec<&str> = expr
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .collect();
                if hist_series
                    .iter()
                    .any(|l| l.metric_name().is_some_and(|n| words.contains(&n)))
                {
                    native = true;
                }
            }
            let case = EvalCase {
                line: start_line,
                expr,
                range,
                at,
                exp,
                native,
            };
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_eval(&engine, &st, &case)
            }))
            .unwrap_or_else(|_| Err("PANIC".to_string()));
            stats.total += 1;
            if !case.native {
                stats.fo_total += 1;
            }
            match res {
                Ok(()) => {
                    stats.pass += 1;
                    if !case.native {
                        stats.fo_pass += 1;
                    }
                }
                Err(e) => {
                    if verbose && (!case.native || std::env::var("PROMQLTEST_NATIVE").is_ok()) {
                        println!("FAIL {name}:{} {}\n    {e}", case.line, case.expr);
                    }
                }
            }
        } else {
            return Err(format!("{name}:{start_line}: invalid command {cmd}"));
        }
    }
    Ok(stats)
}

#[test]
fn conformance_promqltest() {
    let dir = suite_dir();
    assert!(
        dir.is_dir(),
        "promqltest suite missing at {} (vendored in tests/conformance/promql)",
        dir.display()
    );
    let filter = std::env::var("PROMQLTEST_FILE").ok();
    let verbose = std::env::var("PROMQLTEST_VERBOSE").is_ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("suite dir is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .filter(|p| {
            filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let (mut p, mut n, mut fp, mut fnn) = (0, 0, 0, 0);
    for f in &files {
        match run_file(f, verbose) {
            Ok(s) => {
                println!(
                    "{:<28} {:>4}/{:<4} evals passed (float-only {:>4}/{:<4}, native-histogram {:>3}/{:<3})",
                    s.name,
                    s.pass,
                    s.total,
                    s.fo_pass,
                    s.fo_total,
                    s.pass - s.fo_pass,
                    s.total - s.fo_total
                );
                p += s.pass;
                n += s.total;
                fp += s.fo_pass;
                fnn += s.fo_total;
            }
            Err(e) => println!("{}: could not run: {e}", f.display()),
        }
    }
    println!(
        "promqltest: {p}/{n} evals passed (float-only: {fp}/{fnn}, native-histogram: {}/{})",
        p - fp,
        n - fnn
    );
    if filter.is_none() {
        assert!(
            p >= FLOOR,
            "pass count {p} dropped below the recorded floor {FLOOR}"
        );
        assert_eq!(
            fp, fnn,
            "every eval without native histograms must pass ({fp}/{fnn})"
        );
    }
}
