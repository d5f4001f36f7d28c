//! Number formatting exactly as Prometheus writes it in JSON and expositions.

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`, switching to `'e'` when
/// `|v| < 1e-6` or `|v| >= 1e21` (Prometheus' `jsonutil` rule): shortest round-trip digits,
/// `NaN`, `+Inf`, `-Inf`, and a two-digit signed exponent (`1e-07`, `1e+21`).
pub fn format_go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        // Rust's `{:e}` gives the shortest round-trip mantissa with an unpadded exponent.
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        if digits.len() < 2 {
            format!("{mant}e{sign}0{digits}")
        } else {
            format!("{mant}e{sign}{digits}")
        }
    } else {
        // Rust's Display for f64 is the shortest round-trip decimal without exponent.
        format!("{v}")
    }
}

/// Formats a millisecond timestamp as Prometheus' JSON number of seconds: the integer part,
/// then `.` and exactly three digits only when the millisecond part is non-zero.
pub fn format_timestamp_secs(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let ms = t_ms.rem_euclid(1000);
    if ms == 0 {
        secs.to_string()
    } else if t_ms < 0 && secs < 0 {
        // Go renders negative times as -(|t|/1000).|t|%1000.
        let a = t_ms.unsigned_abs();
        let (s, m) = (a / 1000, a % 1000);
        if m == 0 {
            format!("-{s}")
        } else {
            format!("-{s}.{m:03}")
        }
    } else {
        format!("{secs}.{ms:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_cases() {
        let cases: &[(f64, &str)] = &[
            (0.5, "0.5"),
            (144320.0, "144320"),
            (-3.0, "-3"),
            (1e-7, "1e-07"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1e20, "100000000000000000000"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-10, "-2.5e-10"),
        ];
        for (v, want) in cases {
            assert_eq!(format_go_float(*v), *want, "for {v:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp_secs(1_435_781_451_781), "1435781451.781");
        assert_eq!(format_timestamp_secs(1_435_781_451_050), "1435781451.050");
        assert_eq!(format_timestamp_secs(1_435_781_451_000), "1435781451");
        assert_eq!(format_timestamp_secs(0), "0");
        assert_eq!(format_timestamp_secs(-1500), "-1.500");
    }
}
