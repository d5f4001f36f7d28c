//! Series descriptions in the expanding notation of Prometheus' test language and of
//! promtool's `input_series`: `metric{a="b"} 1+2x3 _ stale 5x2 _x3`, as Prometheus'
//! `parser.ParseSeriesDesc`.
//!
//! - `a` is one value; `_` is one missing value; `stale` is a stale marker;
//! - `axN` is `a` repeated N+1 times; `_xN` is N missing values;
//! - `a+bxN` / `a-bxN` is `a, a±b, …, a±N·b` (N+1 values).
//! - `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:1
//!   n_buckets:[..] n_offset:.. custom_values:[..] counter_reset_hint:gauge}}` is a native
//!   histogram; `{{…}}xN` repeats it, `{{a}}+{{b}}xN` / `{{a}}-{{b}}xN` adds or subtracts `b`
//!   N times (Prometheus' `buildHistogramFromMap` and `histogramsIncreaseSeries`).

use std::sync::Arc;

use sightline_model::{stale_nan, CounterResetHint, FloatHistogram, Labels, Span};

/// One value of an expanded series description.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValue {
    /// A float (or a stale marker).
    Float(f64),
    /// A native histogram, with whether its `counter_reset_hint` was written out (the test
    /// language compares hints only then).
    Histogram {
        /// The histogram.
        h: Arc<FloatHistogram>,
        /// Whether the description set `counter_reset_hint`.
        hint_set: bool,
    },
}

/// One step of an expanded series: a value, or nothing at that step.
pub type SeriesStep = Option<f64>;

/// Parses a series description: its labels (the metric name as `__name__`) and its values,
/// one per step. Native-histogram values (`{{…}}`) are refused with a clear error.
pub fn parse_series_desc(line: &str) -> Result<(Labels, Vec<SeriesStep>), String> {
    let (selector, values) = split_series_desc(line.trim());
    let labels = parse_series_labels(&selector)?;
    let (steps, _) = expand_series_values(&values, Histograms::Refuse)?;
    Ok((labels, steps))
}

/// What [`expand_series_values`] does with a native-histogram value (`{{…}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Histograms {
    /// An error naming it.
    Refuse,
    /// Left out (no step), reported by the returned flag (the PromQL test runner skips the
    /// evaluations that need them).
    Skip,
}

/// Splits a series description into its selector text and its values.
pub fn split_series_desc(line: &str) -> (String, String) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'{' {
        i += 1;
    }
    if i < b.len() && b[i] == b'{' {
        let mut in_str = false;
        while i < b.len() {
            let c = b[i];
            if in_str {
                if c == b'\\' {
                    i += 1;
                } else if c == b'"' {
                    in_str = false;
                }
            } else if c == b'"' {
                in_str = true;
            } else if c == b'}' {
                i += 1;
                break;
            }
            i += 1;
        }
    }
    let i = i.min(line.len());
    (line[..i].to_string(), line[i..].trim().to_string())
}

/// The labels of a series selector such as `up{job="x"}`, `{__name__="up"}` or `{}`.
pub fn parse_series_labels(sel: &str) -> Result<Labels, String> {
    let s = sel.trim();
    if s.is_empty() {
        return Err("missing series selector".to_string());
    }
    if s == "{}" {
        return Ok(Labels::empty());
    }
    let s2 = s.strip_suffix("{}").unwrap_or(s);
    let ms = crate::parse_selector(s2).map_err(|e| e.to_string())?;
    Ok(Labels::from_pairs(
        ms.into_iter().map(|m| (m.name, m.value)),
    ))
}

/// A float at the start of `s` (with sign, `Inf`, `NaN`, exponent) and its length.
pub fn scan_float(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let lower = s[i..].to_ascii_lowercase();
    if lower.starts_with("inf") || lower.starts_with("nan") {
        let v = if lower.starts_with("inf") {
            f64::INFINITY
        } else {
            f64::NAN
        };
        let v = if s.starts_with('-') { -v } else { v };
        return Some((v, i + 3));
    }
    let st = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i == st {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            i = k;
        }
    }
    s[..i].parse::<f64>().ok().map(|v| (v, i))
}

fn repeat_count(tok: &str, n: &str) -> Result<usize, String> {
    n.parse()
        .map_err(|_| format!("invalid repetition in series values {tok:?}"))
}

/// Splits values on whitespace, keeping `{{…}}` groups (native histograms) whole.
fn tokenize_values(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in s.chars() {
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
        }
        if c.is_whitespace() && depth <= 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Expands the values of a series description, one step each; the flag says whether
/// native-histogram values were skipped.
pub fn expand_series_values(
    s: &str,
    histograms: Histograms,
) -> Result<(Vec<SeriesStep>, bool), String> {
    let mut out = Vec::new();
    let mut skipped = false;
    for tok in tokenize_values(s) {
        if tok.contains("{{") {
            if histograms == Histograms::Skip {
                skipped = true;
                continue;
            }
            return Err(format!(
                "native histogram values are not supported in series values: {tok:?}"
            ));
        }
        expand_float_token(&tok, &mut out)?;
    }
    Ok((out, skipped))
}

/// Expands the values of a series description with native histograms, one step each
/// (`None` for `_`).
pub fn expand_series(s: &str) -> Result<Vec<Option<SeriesValue>>, String> {
    let mut out = Vec::new();
    for tok in tokenize_values(s) {
        if tok.starts_with("{{") {
            expand_histogram_token(&tok, &mut out)?;
            continue;
        }
        let mut steps = Vec::new();
        expand_float_token(&tok, &mut steps)?;
        out.extend(steps.into_iter().map(|v| v.map(SeriesValue::Float)));
    }
    Ok(out)
}

/// `{{…}}`, `{{…}}xN`, `{{…}}+{{…}}xN` or `{{…}}-{{…}}xN`.
fn expand_histogram_token(tok: &str, out: &mut Vec<Option<SeriesValue>>) -> Result<(), String> {
    let bad = || format!("invalid histogram series value {tok:?}");
    let end = tok.find("}}").ok_or_else(bad)?;
    let (base, base_hint) = parse_histogram(&tok[2..end])?;
    let rest = &tok[end + 2..];
    if rest.is_empty() {
        out.push(Some(SeriesValue::Histogram {
            h: Arc::new(base),
            hint_set: base_hint,
        }));
        return Ok(());
    }
    if let Some(n) = rest.strip_prefix('x') {
        let n = repeat_count(tok, n)?;
        let h = Arc::new(base);
        for _ in 0..=n {
            out.push(Some(SeriesValue::Histogram {
                h: h.clone(),
                hint_set: base_hint,
            }));
        }
        return Ok(());
    }
    let sign = match rest.as_bytes().first() {
        Some(b'+') => 1.0,
        Some(b'-') => -1.0,
        _ => return Err(bad()),
    };
    let inc_text = rest[1..].strip_prefix("{{").ok_or_else(bad)?;
    let inc_end = inc_text.find("}}").ok_or_else(bad)?;
    let (inc, inc_hint) = parse_histogram(&inc_text[..inc_end])?;
    let n = inc_text[inc_end + 2..]
        .strip_prefix('x')
        .ok_or_else(bad)
        .and_then(|n| repeat_count(tok, n))?;
    // As Prometheus, the whole sequence carries the increment's hint flag.
    let mut cur = base;
    out.push(Some(SeriesValue::Histogram {
        h: Arc::new(cur.clone()),
        hint_set: inc_hint,
    }));
    for _ in 0..n {
        if cur.schema > inc.schema {
            return Err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.schema, cur.schema
            ));
        }
        let r = if sign > 0.0 {
            cur.add(&inc)
        } else {
            cur.sub(&inc)
        };
        r.map_err(|_| "error combining histograms: incompatible schemas".to_string())?;
        out.push(Some(SeriesValue::Histogram {
            h: Arc::new(cur.clone()),
            hint_set: inc_hint,
        }));
    }
    Ok(())
}

/// Splits the inside of `{{…}}` into `key:value` items, keeping `[…]` lists whole.
fn histogram_items(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_number(v: &str) -> Result<f64, String> {
    match scan_float(v) {
        Some((f, n)) if n == v.len() => Ok(f),
        _ => Err(format!("error parsing number: {v:?}")),
    }
}

fn parse_int(v: &str) -> Result<i64, String> {
    v.parse::<i64>()
        .map_err(|_| format!("error parsing integer: {v:?}"))
}

fn parse_list(v: &str) -> Result<Vec<f64>, String> {
    let inner = v
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .ok_or_else(|| format!("error parsing bucket list: {v:?}"))?;
    inner.split_whitespace().map(parse_number).collect()
}

/// Prometheus' `buildHistogramFromMap`: the histogram and whether `counter_reset_hint` was
/// given.
fn parse_histogram(s: &str) -> Result<(FloatHistogram, bool), String> {
    let mut h = FloatHistogram::default();
    let mut seen: Vec<String> = Vec::new();
    let (mut buckets, mut offset, mut n_buckets, mut n_offset) = (None, 0i32, None, 0i32);
    let mut hint_set = false;
    for item in histogram_items(s) {
        let (k, v) = item
            .split_once(':')
            .ok_or_else(|| format!("unexpected {item:?} in histogram description"))?;
        if seen.iter().any(|x| x == k) {
            return Err(format!("duplicate key \"{k}\" in histogram"));
        }
        seen.push(k.to_string());
        match k {
            "schema" => h.schema = parse_int(v)? as i32,
            "sum" => h.sum = parse_number(v)?,
            "count" => h.count = parse_number(v)?,
            "z_bucket" => h.zero_count = parse_number(v)?,
            "z_bucket_w" => h.zero_threshold = parse_number(v)?,
            "custom_values" => h.custom_values = Arc::from(parse_list(v)?),
            "buckets" => buckets = Some(parse_list(v)?),
            "offset" => offset = parse_int(v)? as i32,
            "n_buckets" => n_buckets = Some(parse_list(v)?),
            "n_offset" => n_offset = parse_int(v)? as i32,
            "counter_reset_hint" => {
                hint_set = true;
                h.counter_reset_hint = match v {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return Err(format!("error parsing counter_reset_hint: {v:?}")),
                };
            }
            _ => return Err(format!("unknown histogram description key {k:?}")),
        }
    }
    if let Some(b) = buckets.filter(|b| !b.is_empty()) {
        h.positive_spans = vec![Span::new(offset, b.len() as u32)];
        h.positive_buckets = b;
    }
    if let Some(b) = n_buckets.filter(|b| !b.is_empty()) {
        h.negative_spans = vec![Span::new(n_offset, b.len() as u32)];
        h.negative_buckets = b;
    }
    Ok((h, hint_set))
}

/// Expands one float token (`1`, `_`, `stale`, `_xN`, `axN`, `a+bxN`, `a-bxN`).
fn expand_float_token(tok: &str, out: &mut Vec<SeriesStep>) -> Result<(), String> {
    {
        if tok == "_" {
            out.push(None);
            return Ok(());
        }
        if tok == "stale" {
            out.push(Some(stale_nan()));
            return Ok(());
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n = repeat_count(tok, n)?;
            out.extend(std::iter::repeat_n(None, n));
            return Ok(());
        }
        let bad = || format!("invalid series value {tok:?}");
        let (a, len) = scan_float(tok).ok_or_else(bad)?;
        let rest = &tok[len..];
        if rest.is_empty() {
            out.push(Some(a));
            return Ok(());
        }
        if let Some(n) = rest.strip_prefix('x') {
            let n = repeat_count(tok, n)?;
            out.extend(std::iter::repeat_n(Some(a), n + 1));
            return Ok(());
        }
        let neg = rest.starts_with('-');
        if !neg && !rest.starts_with('+') {
            return Err(bad());
        }
        let (b, len2) = scan_float(&rest[1..]).ok_or_else(bad)?;
        let n = rest[1 + len2..]
            .strip_prefix('x')
            .ok_or_else(bad)
            .and_then(|n| repeat_count(tok, n))?;
        let b = if neg { -b } else { b };
        for k in 0..=n {
            out.push(Some(a + b * k as f64));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<Option<f64>> {
        parse_series_desc(s).map(|(_, v)| v).unwrap_or_default()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(
            vals("up 1+2x3"),
            [Some(1.0), Some(3.0), Some(5.0), Some(7.0)]
        );
        assert_eq!(vals("up 5-1x2"), [Some(5.0), Some(4.0), Some(3.0)]);
        assert_eq!(
            vals("up 0x2 _ 1"),
            [Some(0.0), Some(0.0), Some(0.0), None, Some(1.0)]
        );
        assert_eq!(vals("up _x3"), [None, None, None]);
        assert_eq!(vals("up -2+-1x1"), [Some(-2.0), Some(-3.0)]);
        let s = vals("up stale");
        assert!(s[0].is_some_and(sightline_model::is_stale_nan));
    }

    #[test]
    fn histogram_notation() {
        let v = expand_series(
            "{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 n_buckets:[3] counter_reset_hint:gauge}} _ {{count:1 buckets:[1]}}+{{count:2 buckets:[1 1]}}x2 stale",
        )
        .unwrap();
        assert_eq!(v.len(), 6);
        let Some(SeriesValue::Histogram { h, hint_set }) = &v[0] else {
            panic!("{v:?}")
        };
        assert!(*hint_set);
        assert_eq!((h.schema, h.sum, h.count, h.zero_count), (1, 5.0, 4.0, 1.0));
        assert_eq!(h.zero_threshold, 0.001);
        assert_eq!(h.positive_spans, [Span::new(-1, 2)]);
        assert_eq!(h.negative_buckets, [3.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert!(v[1].is_none());
        let Some(SeriesValue::Histogram { h, hint_set }) = &v[4] else {
            panic!("{v:?}")
        };
        assert!(!*hint_set);
        assert_eq!(h.count, 5.0);
        assert!(matches!(v[5], Some(SeriesValue::Float(f)) if sightline_model::is_stale_nan(f)));
        assert!(expand_series("{{sum:1 sum:2}}").is_err());
        assert!(expand_series("{{bogus:1}}").is_err());
    }

    #[test]
    fn labels_and_errors() {
        let (l, _) = parse_series_desc(r#"http_requests{job="api", code="500"} 1"#).unwrap();
        assert_eq!(l.get("__name__"), Some("http_requests"));
        assert_eq!(l.get("code"), Some("500"));
        assert!(parse_series_desc("up 1+x").is_err());
        assert!(parse_series_desc("up{a=0} 1").is_err());
        assert!(parse_series_desc("up {{schema:0}}").is_err());
    }
}
