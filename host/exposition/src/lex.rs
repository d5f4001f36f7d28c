//! Byte-level helpers shared by both formats: character classes, numbers, timestamps,
//! unescaping and the cheap label hash the OpenMetrics validator uses.

use std::borrow::Cow;

const NAME_START: u8 = 1;
const NAME_CHAR: u8 = 2;
const LNAME_START: u8 = 4;
const LNAME_CHAR: u8 = 8;

/// Character classes for metric names (`[a-zA-Z_:][a-zA-Z0-9_:]*`) and label names
/// (`[a-zA-Z_][a-zA-Z0-9_]*`).
static CLASS: [u8; 256] = build_class();

const fn build_class() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut v = 0;
        if alpha || c == b':' {
            v |= NAME_START | NAME_CHAR;
        }
        if digit {
            v |= NAME_CHAR | LNAME_CHAR;
        }
        if alpha {
            v |= LNAME_START | LNAME_CHAR;
        }
        t[i] = v;
        i += 1;
    }
    t
}

/// Length of the metric name at the start of `b` (0 if none).
#[inline]
pub(crate) fn metric_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(&c) if CLASS[c as usize] & NAME_START != 0 => {}
        _ => return 0,
    }
    let mut i = 1;
    while i < b.len() && CLASS[b[i] as usize] & NAME_CHAR != 0 {
        i += 1;
    }
    i
}

/// Length of the label name at the start of `b` (0 if none).
#[inline]
pub(crate) fn label_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(&c) if CLASS[c as usize] & LNAME_START != 0 => {}
        _ => return 0,
    }
    let mut i = 1;
    while i < b.len() && CLASS[b[i] as usize] & LNAME_CHAR != 0 {
        i += 1;
    }
    i
}

/// Whether every byte of `b` may appear in a metric name (the UNIT grammar).
pub(crate) fn all_name_chars(b: &[u8]) -> bool {
    b.iter().all(|&c| CLASS[c as usize] & NAME_CHAR != 0)
}

/// `b` as `&str`; callers only pass bytes already checked to be ASCII or UTF-8, and an
/// impossible failure degrades to an empty string rather than a panic.
#[inline]
pub(crate) fn as_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

fn eq_ignore_case(a: &[u8], lower: &[u8]) -> bool {
    a.len() == lower.len()
        && a.iter()
            .zip(lower)
            .all(|(x, y)| x.to_ascii_lowercase() == *y)
}

/// Parses a sample value as both formats allow it: a decimal real number (optional sign,
/// digits with an optional fraction, optional exponent), `[+-]Inf`/`[+-]Infinity` and `NaN`
/// in any case. Hexadecimal, underscores, and surrounding whitespace are rejected.
pub(crate) fn parse_number(tok: &[u8]) -> Option<f64> {
    let (signed, neg, body) = match tok.first()? {
        b'-' => (true, true, &tok[1..]),
        b'+' => (true, false, &tok[1..]),
        _ => (false, false, tok),
    };
    let first = *body.first()?;
    if first.is_ascii_digit() && body.len() <= 15 && body.iter().all(u8::is_ascii_digit) {
        // Exact: at most 15 digits fit in an f64 mantissa.
        let mut v: u64 = 0;
        for &c in body {
            v = v * 10 + u64::from(c - b'0');
        }
        let f = v as f64;
        return Some(if neg { -f } else { f });
    }
    match first | 0x20 {
        b'i' => {
            if eq_ignore_case(body, b"inf") || eq_ignore_case(body, b"infinity") {
                return Some(if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                });
            }
            return None;
        }
        b'n' => {
            if !signed && eq_ignore_case(body, b"nan") {
                return Some(f64::NAN);
            }
            return None;
        }
        _ => {}
    }
    if !is_real_number(body) {
        return None;
    }
    as_str(tok).parse::<f64>().ok()
}

/// Whether `b` (without sign) is `digits [. digits] [e [sign] digits]` with at least one
/// mantissa digit.
fn is_real_number(b: &[u8]) -> bool {
    let mut i = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// An OpenMetrics timestamp (a real number of seconds, never `Inf` or `NaN`): returns the
/// truncated milliseconds (saturating at the `i64` range) and the seconds as `f64` for
/// ordering checks.
pub(crate) fn parse_om_timestamp(tok: &[u8]) -> Option<(i64, f64)> {
    let (neg, body) = match tok.first()? {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    if !is_real_number(body) {
        return None;
    }
    let secs = as_str(tok).parse::<f64>().ok()?;
    if !secs.is_finite() {
        return None;
    }
    let ms = if body.iter().any(|&c| c == b'e' || c == b'E') {
        // Saturating, truncating toward zero, as Prometheus' `int64(ts * 1000)`.
        (secs * 1000.0) as i64
    } else {
        exact_decimal_ms(body, neg)
    };
    Some((ms, secs))
}

/// `int.frac` seconds to milliseconds without float rounding: the fraction is truncated to
/// three digits; overflow saturates.
fn exact_decimal_ms(body: &[u8], neg: bool) -> i64 {
    let (int, frac) = match memchr::memchr(b'.', body) {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, &body[..0]),
    };
    let mut v: i64 = 0;
    for &c in int {
        v = match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
        {
            Some(v) => v,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
    }
    let mut ms = match v.checked_mul(1000) {
        Some(v) => v,
        None => return if neg { i64::MIN } else { i64::MAX },
    };
    let mut scale = 100;
    for &c in frac.iter().take(3) {
        ms = ms.saturating_add(i64::from(c - b'0') * scale);
        scale /= 10;
    }
    if neg {
        -ms
    } else {
        ms
    }
}

/// A text-format timestamp: an optional `-` and decimal digits of milliseconds.
pub(crate) fn parse_text_timestamp(tok: &[u8]) -> Option<i64> {
    let (neg, body) = match tok.first()? {
        b'-' => (true, &tok[1..]),
        _ => (false, tok),
    };
    if body.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in body {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// Unescapes a label value (`\\`, `\"`, `\n`; any other escape stays as written, as
/// Prometheus does). Borrows when there is nothing to unescape.
pub(crate) fn unescape_label_value(raw: &[u8]) -> Cow<'_, str> {
    unescape(raw, true)
}

/// Unescapes HELP text: `\\` and `\n`, plus `\"` when `quote` (OpenMetrics).
pub(crate) fn unescape(raw: &[u8], quote: bool) -> Cow<'_, str> {
    if memchr::memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(as_str(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    unescape_into(raw, quote, &mut out);
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// Appends the unescaped form of `raw` to `out`.
pub(crate) fn unescape_into(raw: &[u8], quote: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\\', &raw[i..]) {
        let p = i + p;
        out.extend_from_slice(&raw[i..p]);
        match raw.get(p + 1) {
            Some(b'\\') => out.push(b'\\'),
            Some(b'n') => out.push(b'\n'),
            Some(b'"') if quote => out.push(b'"'),
            Some(&c) => {
                out.push(b'\\');
                out.push(c);
            }
            None => {
                out.push(b'\\');
                return;
            }
        }
        i = p + 2;
    }
    out.extend_from_slice(&raw[i..]);
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast non-cryptographic hash of `b` (FxHash-style over 8-byte words).
#[inline]
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    (h ^ b.len() as u64).wrapping_mul(K)
}

/// Hash of one label pair; pairs are combined by wrapping addition so the set hash does not
/// depend on the order labels were written in.
#[inline]
pub(crate) fn hash_pair(name: &[u8], value: &[u8]) -> u64 {
    let h = hash_bytes(name).rotate_left(17) ^ hash_bytes(value);
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1", -1.0),
            ("+1", 1.0),
            ("1.5", 1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("1e3", 1000.0),
            ("1.5E-3", 0.0015),
            ("2.478268416e+09", 2.478268416e9),
            ("9223372036854775808", 9223372036854775808.0),
            ("0000000000000000000000000000000000000000001.2e-1", 0.12),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
        ];
        for (s, want) in ok {
            assert_eq!(parse_number(s.as_bytes()), Some(*want), "{s}");
        }
        assert!(parse_number(b"NaN").is_some_and(f64::is_nan));
        assert!(parse_number(b"nan").is_some_and(f64::is_nan));
        for bad in [
            "", "+", "-", ".", "e1", "1e", "1_2", "0x1", "0x1p-3", "1 ", " 1", "+NaN", "Inf1",
            "1.1.1", "a",
        ] {
            assert_eq!(parse_number(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn om_timestamps() {
        assert_eq!(parse_om_timestamp(b"1.5").map(|t| t.0), Some(1500));
        assert_eq!(parse_om_timestamp(b"1.005").map(|t| t.0), Some(1005));
        assert_eq!(parse_om_timestamp(b"-1.0015").map(|t| t.0), Some(-1001));
        assert_eq!(parse_om_timestamp(b"1.5e3").map(|t| t.0), Some(1_500_000));
        assert_eq!(parse_om_timestamp(b"000").map(|t| t.0), Some(0));
        assert_eq!(
            parse_om_timestamp(b"12345678901234567890.1").map(|t| t.0),
            Some(i64::MAX)
        );
        for bad in ["NaN", "Inf", "-Inf", "0x1p-3", "1_2", "z", ""] {
            assert_eq!(parse_om_timestamp(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn text_timestamps() {
        assert_eq!(parse_text_timestamp(b"123"), Some(123));
        assert_eq!(parse_text_timestamp(b"-5"), Some(-5));
        assert_eq!(
            parse_text_timestamp(b"-9223372036854775808"),
            Some(i64::MIN)
        );
        assert_eq!(parse_text_timestamp(b"9223372036854775808"), None);
        assert_eq!(parse_text_timestamp(b"1.5"), None);
        assert_eq!(parse_text_timestamp(b"-"), None);
    }

    #[test]
    fn unescaping() {
        assert_eq!(unescape_label_value(br#"a\"b\\c\nd\z"#), "a\"b\\c\nd\\z");
        assert_eq!(unescape(br#"a\"b"#, false), "a\\\"b");
        assert!(matches!(
            unescape_label_value(b"plain"),
            Cow::Borrowed("plain")
        ));
    }
}
