//! Prometheus duration strings (`1h30m`, `5m`, `250ms`, `2w`, `1y`) and the wall clock.

use std::time::Duration;

/// A duration string that is not of Prometheus' grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid duration string: {0:?}")]
pub struct DurationParseError(pub String);

const UNITS: &[(&str, u64)] = &[
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses Prometheus' duration grammar: one or more `<int><unit>` with units `y w d h m s ms`,
/// each at most once and in that order; `0` alone is accepted.
pub fn parse_duration(s: &str) -> Result<Duration, DurationParseError> {
    let err = || DurationParseError(s.to_string());
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err());
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut total_ms: u64 = 0;
    let mut last_unit: Option<usize> = None;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(err());
        }
        let n: u64 = s[start..i].parse().map_err(|_| err())?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let idx = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(err)?;
        if last_unit.is_some_and(|l| idx <= l) {
            return Err(err());
        }
        last_unit = Some(idx);
        total_ms = n
            .checked_mul(UNITS[idx].1)
            .and_then(|v| total_ms.checked_add(v))
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or_else(err)?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration as Prometheus does (`1h30m`, `15s`, `0s`, `2w`, `1y`).
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (u, f) in UNITS {
        if ms >= *f {
            let n = ms / f;
            // Prometheus only uses weeks and years when they divide exactly.
            if (*u == "y" || *u == "w") && !ms.is_multiple_of(*f) {
                continue;
            }
            out.push_str(&n.to_string());
            out.push_str(u);
            ms -= n * f;
        }
    }
    out
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ok() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_duration("1y").unwrap(),
            Duration::from_secs(365 * 86400)
        );
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
    }

    #[test]
    fn parse_bad() {
        for s in ["", "1", "1.5s", "1m1h", "1x", "s", "1s1s", "-1s"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }

    #[test]
    fn format() {
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(15)), "15s");
        assert_eq!(format_duration(Duration::from_secs(15 * 86400)), "15d");
        assert_eq!(format_duration(Duration::from_secs(14 * 86400)), "2w");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
