//! Series descriptions in the expanding notation of Prometheus' test language and of
//! promtool's `input_series`: `metric{a="b"} 1+2x3 _ stale 5x2 _x3`, as Prometheus'
//! `parser.ParseSeriesDesc`.
//!
//! - `a` is one value; `_` is one missing value; `stale` is a stale marker;
//! - `axN` is `a` repeated N+1 times; `_xN` is N missing values;
//! - `a+bxN` / `a-bxN` is `a, a±b, …, a±N·b` (N+1 values).

use sightline_model::{stale_nan, Labels};

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
        let tok = tok.as_str();
        if tok.contains("{{") {
            if histograms == Histograms::Skip {
                skipped = true;
                continue;
            }
            return Err(format!(
                "native histogram values are not supported in series values: {tok:?}"
            ));
        }
        if tok == "_" {
            out.push(None);
            continue;
        }
        if tok == "stale" {
            out.push(Some(stale_nan()));
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n = repeat_count(tok, n)?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        let bad = || format!("invalid series value {tok:?}");
        let (a, len) = scan_float(tok).ok_or_else(bad)?;
        let rest = &tok[len..];
        if rest.is_empty() {
            out.push(Some(a));
            continue;
        }
        if let Some(n) = rest.strip_prefix('x') {
            let n = repeat_count(tok, n)?;
            out.extend(std::iter::repeat_n(Some(a), n + 1));
            continue;
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
    Ok((out, skipped))
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
    fn labels_and_errors() {
        let (l, _) = parse_series_desc(r#"http_requests{job="api", code="500"} 1"#).unwrap();
        assert_eq!(l.get("__name__"), Some("http_requests"));
        assert_eq!(l.get("code"), Some("500"));
        assert!(parse_series_desc("up 1+x").is_err());
        assert!(parse_series_desc("up{a=0} 1").is_err());
        assert!(parse_series_desc("up {{schema:0}}").is_err());
    }
}
