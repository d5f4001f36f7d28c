//! Sample values and timestamps appended straight to a JSON buffer as Prometheus writes them,
//! without the `String` that `sightline_model::format_go_float` and `format_timestamp_secs`
//! allocate for each: a large range answer writes two numbers a point, hundreds of thousands
//! of them.
//!
//! Values: integers below 1e15 go through `itoa`; other finite values take `ryu`'s shortest
//! round-trip digits and lay them out as Go does, switching to the exponent form when
//! `|v| < 1e-6` or `|v| >= 1e21` (Prometheus' `jsonutil` rule) except for scalar results.
//! `ryu` and Go break a tie between two shortest candidates the same way (to even: Prometheus
//! 2.42 answers `-1731515539177925.25` with `"-1731515539177925.2"`); Rust's `Display`, which
//! `format_go_float` uses, rounds it up (`.3`), so on such values these bytes differ from the
//! model's formatter and match Prometheus.

/// Appends a sample value as Prometheus' `jsonutil.MarshalValue` writes it: Go's
/// `strconv.AppendFloat(v, 'f', -1, 64)`, or `'e'` when `|v| < 1e-6` or `|v| >= 1e21`.
pub(crate) fn push_go_float(out: &mut Vec<u8>, v: f64) {
    push_float_as_go(out, v, true);
}

/// Appends a scalar result's value as Prometheus' `Scalar.MarshalJSON` writes it: Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)` without the switch to `'e'` (`1e-07` is
/// `0.0000001`, `1e21` is `1000000000000000000000`).
pub(crate) fn push_go_float_plain(out: &mut Vec<u8>, v: f64) {
    push_float_as_go(out, v, false);
}

/// Writes `NaN`, `+Inf` or `-Inf` as Go does and returns true, or nothing for a finite `v`.
pub(crate) fn push_non_finite(out: &mut Vec<u8>, v: f64) -> bool {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        return false;
    }
    true
}

fn push_float_as_go(out: &mut Vec<u8>, v: f64, exp_switch: bool) {
    if push_non_finite(out, v) {
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    let a = v.abs();
    if a < 1e15 && v.fract() == 0.0 {
        // Exact in an i64, and Go writes integers of this size without an exponent.
        out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
        return;
    }
    let mut rb = ryu::Buffer::new();
    if (1e-5..1e16).contains(&a) {
        // Here `ryu` writes Go's layout already (`12.34`, `0.001234`), but for the `.0` it
        // puts after integers; the exponent form it keeps for the ranges outside.
        let s = rb.format_finite(v).as_bytes();
        out.extend_from_slice(s.strip_suffix(b".0").unwrap_or(s));
        return;
    }
    let s = rb.format_finite(a).as_bytes();
    // `ryu` writes `123.45`, `0.00012`, `1e21`, `1.5e-7` or `1234.0`: collect the digits and
    // where the decimal point goes (the value is 0.DIGITS x 10^point).
    let (mant, exp) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut int_len = 0i32;
    let mut seen_point = false;
    for &c in mant {
        if c == b'.' {
            seen_point = true;
            continue;
        }
        if n < digits.len() {
            digits[n] = c;
            n += 1;
        }
        if !seen_point {
            int_len += 1;
        }
    }
    let mut point = int_len + exp;
    let mut lead = 0;
    while lead < n && digits[lead] == b'0' {
        lead += 1;
        point -= 1;
    }
    while n > lead && digits[n - 1] == b'0' {
        n -= 1;
    }
    let d = &digits[lead..n];
    if d.is_empty() {
        // Not reached for a non-zero value; the slow path keeps the output right regardless.
        out.extend_from_slice(sightline_model::format_go_float(v).as_bytes());
        return;
    }
    if v < 0.0 {
        out.push(b'-');
    }
    if exp_switch && !(1e-6..1e21).contains(&a) {
        out.push(d[0]);
        if d.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        let x = point - 1;
        out.extend_from_slice(if x < 0 { b"e-" } else { b"e+" });
        if x.unsigned_abs() < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(x.unsigned_abs()).as_bytes());
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + point.unsigned_abs() as usize, b'0');
        out.extend_from_slice(d);
    } else if point as usize >= d.len() {
        out.extend_from_slice(d);
        out.resize(out.len() + (point as usize - d.len()), b'0');
    } else {
        out.extend_from_slice(&d[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&d[point as usize..]);
    }
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mut x = 0i32;
    for &c in digits {
        x = x * 10 + i32::from(c.wrapping_sub(b'0'));
    }
    if neg {
        -x
    } else {
        x
    }
}

/// Appends a millisecond timestamp as [`sightline_model::format_timestamp_secs`] formats it:
/// seconds, then `.` and three digits when the millisecond part is not zero.
pub(crate) fn push_timestamp_secs(out: &mut Vec<u8>, t_ms: i64) {
    let ms = t_ms.rem_euclid(1000);
    if ms == 0 {
        out.extend_from_slice(itoa::Buffer::new().format(t_ms.div_euclid(1000)).as_bytes());
        return;
    }
    // Go renders negative times as -(|t|/1000).|t|%1000.
    let a = t_ms.unsigned_abs();
    let (secs, frac) = if t_ms < 0 {
        out.push(b'-');
        (a / 1000, a % 1000)
    } else {
        (a / 1000, ms as u64)
    };
    out.extend_from_slice(itoa::Buffer::new().format(secs).as_bytes());
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::{format_go_float, format_timestamp_secs};

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        push_go_float(&mut out, v);
        String::from_utf8(out).unwrap_or_default()
    }

    fn ts(t: i64) -> String {
        let mut out = Vec::new();
        push_timestamp_secs(&mut out, t);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn edge_values_format_as_go_does() {
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e21, "1e+21"),
            (-1e21, "-1e+21"),
            (1e20, "100000000000000000000"),
            (5e-324, "5e-324"),
            (-5e-324, "-5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (1e-6, "0.000001"),
            (9.99e-7, "9.99e-07"),
            (1e-7, "1e-07"),
            (1.0, "1"),
            (-3.0, "-3"),
            (144320.0, "144320"),
            (999_999_999_999_999.0, "999999999999999"),
            (1e15, "1000000000000000"),
            (9007199254740993.0, "9007199254740992"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.5, "0.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-10, "-2.5e-10"),
            (1.5e300, "1.5e+300"),
            (123.456, "123.456"),
            (0.000123, "0.000123"),
            (1234567.125, "1234567.125"),
        ];
        for &(v, want) in cases {
            assert_eq!(float(v), want, "{v:?}");
            assert_eq!(float(v), format_go_float(v), "{v:?}");
        }
    }

    /// What Prometheus 2.42 answered for these values (queried as `vector(v)` and as the
    /// scalar `v`): a tie between two shortest digit strings goes to the even one.
    #[test]
    fn ties_and_scalars_format_as_prometheus_does() {
        // -1731515539177925.25, exactly.
        let tie = f64::from_bits(0xc318_9b37_828b_0715);
        assert_eq!(float(tie), "-1731515539177925.2");
        assert_eq!(float(-tie), "1731515539177925.2");
        let plain = |v: f64| {
            let mut out = Vec::new();
            push_go_float_plain(&mut out, v);
            String::from_utf8(out).unwrap_or_default()
        };
        assert_eq!(plain(1e21), "1000000000000000000000");
        assert_eq!(plain(1e-7), "0.0000001");
        assert_eq!(plain(-2.5), "-2.5");
        assert_eq!(plain(5e-324), format!("0.{}5", "0".repeat(323)));
        assert_eq!(plain(f64::NAN), "NaN");
    }

    /// The model's formatter's bytes, but for ties between two shortest digit strings, where
    /// these are Go's: the same exponent, the last mantissa digit one apart and even here.
    fn check(v: f64) {
        let (got, model) = (float(v), format_go_float(v));
        if got == model {
            return;
        }
        let (gm, ge) = got.split_once('e').unwrap_or((&got, ""));
        let (mm, me) = model.split_once('e').unwrap_or((&model, ""));
        let (g, m) = (gm.as_bytes(), mm.as_bytes());
        let n = g.len();
        assert!(
            ge == me
                && n == m.len()
                && g[..n - 1] == m[..n - 1]
                && g[n - 1].abs_diff(m[n - 1]) == 1
                && (g[n - 1] - b'0').is_multiple_of(2),
            "{v:?} ({:#x}): {got} against {model}",
            v.to_bits()
        );
        let back: f64 = got.parse().unwrap_or(f64::NAN);
        assert_eq!(back.to_bits(), v.to_bits(), "{got}");
    }

    #[test]
    fn random_values_format_as_the_model_does() {
        let mut rng = fastrand::Rng::with_seed(21);
        for _ in 0..300_000 {
            // Every exponent.
            check(f64::from_bits(rng.u64(..)));
        }
        for _ in 0..300_000 {
            // Log-uniform over the ranges where the layouts change (1e-6, 1e-5, 1e15, 1e16,
            // 1e21).
            let v = 10f64.powf(rng.f64() * 30.0 - 8.0);
            check(v);
            check(-v);
        }
        for _ in 0..100_000 {
            // Rates, ratios and counters as queries produce them.
            let v = rng.u64(..1_000_000) as f64 / [1.0, 3.0, 7.0, 60.0, 1e3, 1e9][rng.usize(..6)];
            check(v);
            check(-v);
        }
    }

    #[test]
    fn timestamps_format_as_the_model_does() {
        for t in [
            0,
            1,
            999,
            1000,
            1500,
            -1,
            -999,
            -1000,
            -1001,
            -1500,
            1_700_000_000_123,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            assert_eq!(ts(t), format_timestamp_secs(t), "{t}");
        }
        let mut rng = fastrand::Rng::with_seed(15);
        for _ in 0..100_000 {
            let t = rng.i64(..);
            assert_eq!(ts(t), format_timestamp_secs(t), "{t}");
            let t = rng.i64(-10_000_000..10_000_000);
            assert_eq!(ts(t), format_timestamp_secs(t), "{t}");
        }
    }
}
