//! Go's fmt as templates use it: `Sprint`, `Sprintln`, `Sprintf` with the common verbs, and
//! strconv's float formatting (shortest `%v`, `%e`/`%f`/`%g` with precision).

use std::fmt::Write;

use crate::value::Value;

/// Go's `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\u{fffd}' => out.push_str("\\ufffd"),
            c if is_go_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space.
fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Unassigned, private-use and format characters are not printable in Go.
    !matches!(c as u32, 0xad | 0x600..=0x605 | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xe000..=0xf8ff | 0xfff9..=0xfffb)
}

/// Go's `%#U`: `U+0041 'A'`.
pub(crate) fn rune_u(c: char) -> String {
    if is_go_print(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Decimal digits and exponent of a finite, non-zero float: value = 0.d1d2d3… × 10^dp.
struct Digits {
    digits: Vec<u8>,
    /// Position of the decimal point relative to the digits (Go's `decimal.dp`).
    dp: i32,
}

/// Shortest digits that round-trip (Go's precision -1).
fn shortest(v: f64) -> Digits {
    // Rust's `{:e}` prints the shortest round-tripping digits, like Go's Ryu path.
    let s = format!("{:e}", v.abs());
    split_exp(&s)
}

/// Most significant decimal digits an f64 has: its exact decimal expansion ends within 767
/// significant digits, so further ones are zeros (the callers pad them). Rust's formatter
/// refuses precisions over 65,535, which Go's (bounded at 10^6) accepts.
const MAX_SIGNIFICANT: usize = 800;
/// Most decimal places an f64 has (its smallest subnormal needs 1,074).
const MAX_DECIMALS: usize = 1_100;

/// Digits rounded to `n` significant digits (n ≥ 1), trailing zeros trimmed as Go does.
fn significant(v: f64, n: usize) -> Digits {
    let s = format!("{:.*e}", n.saturating_sub(1).min(MAX_SIGNIFICANT), v.abs());
    split_exp(&s)
}

fn split_exp(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == [b'0'] {
        return Digits { digits, dp: 1 };
    }
    Digits {
        digits,
        dp: exp + 1,
    }
}

/// `%e` layout with `prec` digits after the point (Go's fmtE).
fn fmt_e(out: &mut String, d: &Digits, prec: usize, upper: bool) {
    out.push(d.digits[0] as char);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(*d.digits.get(i).unwrap_or(&b'0') as char);
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if d.digits == [b'0'] { 0 } else { d.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.abs());
}

/// `%f` layout with `prec` digits after the point (Go's fmtF).
fn fmt_f(out: &mut String, d: &Digits, prec: usize) {
    if d.dp > 0 {
        for i in 0..d.dp as usize {
            out.push(*d.digits.get(i).unwrap_or(&b'0') as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            let j = d.dp + i;
            let c = if j < 0 {
                b'0'
            } else {
                *d.digits.get(j as usize).unwrap_or(&b'0')
            };
            out.push(c as char);
        }
    }
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for fmt in e, E, f, g, G.
pub(crate) fn format_float(v: f64, verb: char, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    match verb {
        'e' | 'E' => {
            let d = match prec {
                Some(p) => significant(v, p + 1),
                None => shortest(v),
            };
            let p = prec.unwrap_or(d.digits.len() - 1);
            fmt_e(&mut out, &d, p, verb == 'E');
        }
        'f' | 'F' => match prec {
            Some(p) => {
                let s = format!("{:.*}", p.min(MAX_DECIMALS), v.abs());
                out.push_str(&s);
                // Beyond an f64's last decimal place every digit is zero.
                out.extend(std::iter::repeat_n('0', p.saturating_sub(MAX_DECIMALS)));
            }
            None => {
                let d = shortest(v);
                let p = (d.digits.len() as i32 - d.dp).max(0) as usize;
                fmt_f(&mut out, &d, p);
            }
        },
        _ => {
            let shortest_mode = prec.is_none();
            let d = match prec {
                Some(p) => significant(v, p.max(1)),
                None => shortest(v),
            };
            let nd = d.digits.len() as i32;
            let mut p = match prec {
                Some(p) => p.max(1) as i32,
                None => nd,
            };
            let mut eprec = p;
            if eprec > nd && nd >= d.dp {
                eprec = nd;
            }
            if shortest_mode {
                eprec = 6;
            }
            let exp = d.dp - 1;
            if v == 0.0 {
                out.push('0');
                return out;
            }
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &d, (p - 1).max(0) as usize, verb == 'G');
            } else {
                if p > d.dp {
                    p = nd;
                }
                fmt_f(&mut out, &d, (p - d.dp).max(0) as usize);
            }
        }
    }
    out
}

/// Appends `fmt.Sprint(v)` for one operand (`%v`).
pub(crate) fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::NoValue => out.push_str("<no value>"),
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f, 'g', None)),
        Value::Str(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_nested(out, e);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_nested(out, e);
            }
            out.push(']');
        }
        Value::StrMap(m) => {
            out.push_str("map[");
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                out.push_str(e);
            }
            out.push(']');
        }
        Value::Object(o) => o.format(out),
    }
}

/// Inside containers Go prints a nil interface as `<nil>`.
fn write_nested(out: &mut String, v: &Value) {
    match v {
        Value::NoValue => out.push_str("<nil>"),
        _ => write_value(out, v),
    }
}

/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub(crate) fn sprint(out: &mut String, args: &[Value]) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string_kind() && !args[i - 1].is_string_kind() {
            out.push(' ');
        }
        write_top(out, a);
    }
}

/// A top-level operand: Go's fmt prints a nil interface as `<nil>`.
fn write_top(out: &mut String, v: &Value) {
    match v {
        Value::NoValue => out.push_str("<nil>"),
        _ => write_value(out, v),
    }
}

/// `fmt.Sprintln(args...)`: always spaces, then a newline.
pub(crate) fn sprintln(out: &mut String, args: &[Value]) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_top(out, a);
    }
    out.push('\n');
}

#[derive(Default, Clone, Copy)]
struct Flags {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, f: &Flags, numeric: bool) {
    let len = s.chars().count();
    let w = f.width.unwrap_or(0);
    if len >= w {
        out.push_str(s);
        return;
    }
    let n = w - len;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', n));
    } else if f.zero && numeric {
        // Zero padding goes after the sign.
        let (sign, digits) = match s.as_bytes().first() {
            Some(b'-' | b'+' | b' ') => s.split_at(1),
            _ => ("", s),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', n));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', n));
        out.push_str(s);
    }
}

/// Go's `badVerb`: `%!verb(type=value)`, the value printed with `%v` and the same flags.
fn bad_verb(out: &mut String, verb: char, f: &Flags, v: &Value) {
    let _ = write!(out, "%!{verb}(");
    match v {
        Value::NoValue | Value::Nil => out.push_str("<nil>"),
        _ => {
            out.push_str(v.type_name());
            out.push('=');
            fmt_arg(out, 'v', f, v);
        }
    }
    out.push(')');
}

fn sign_flags(s: String, f: &Flags, negative: bool) -> String {
    if negative {
        return s;
    }
    if f.plus {
        format!("+{s}")
    } else if f.space {
        format!(" {s}")
    } else {
        s
    }
}

fn fmt_int(out: &mut String, i: i64, verb: char, f: &Flags) {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let body = match verb {
        'd' | 'v' => a.to_string(),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        'o' => format!("{a:o}"),
        'O' => format!("0o{a:o}"),
        'b' => format!("{a:b}"),
        _ => unreachable_verb(),
    };
    let mut body = match f.prec {
        Some(p) if body.len() < p => format!("{}{}", "0".repeat(p - body.len()), body),
        _ => body,
    };
    if f.sharp {
        match verb {
            'x' => body.insert_str(0, "0x"),
            'X' => body.insert_str(0, "0X"),
            'o' if !body.starts_with('0') => body.insert(0, '0'),
            _ => {}
        }
    }
    let s = if neg { format!("-{body}") } else { body };
    let s = sign_flags(s, f, neg);
    // A precision turns off zero padding, as in Go.
    let f2 = Flags {
        zero: f.zero && f.prec.is_none(),
        ..*f
    };
    pad(out, &s, &f2, true);
}

fn unreachable_verb() -> String {
    String::new()
}

fn fmt_float(out: &mut String, v: f64, verb: char, f: &Flags) {
    let (verb2, prec) = match verb {
        'v' => ('g', f.prec),
        'F' => ('f', f.prec.or(Some(6))),
        'e' | 'E' | 'f' => (verb, f.prec.or(Some(6))),
        _ => (verb, f.prec),
    };
    let s = format_float(v, verb2, prec);
    if !v.is_finite() {
        // Go pads infinities and NaN with spaces only, and always shows the sign of ±Inf.
        let f2 = Flags { zero: false, ..*f };
        let s = if v.is_nan() && f.plus {
            "+NaN".to_string()
        } else {
            s
        };
        return pad(out, &s, &f2, false);
    }
    let neg = s.starts_with('-');
    let s = sign_flags(s, f, neg);
    pad(out, &s, f, true);
}

fn fmt_str(out: &mut String, s: &str, verb: char, f: &Flags) {
    let s = match f.prec {
        Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect::<String>(),
        _ => s.to_string(),
    };
    let body = match verb {
        'q' => quote(&s),
        'x' => s.bytes().map(|b| format!("{b:02x}")).collect(),
        'X' => s.bytes().map(|b| format!("{b:02X}")).collect(),
        _ => s,
    };
    pad(out, &body, f, false);
}

/// Go's `strconv.QuoteRune`.
fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        _ => {
            let q = quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// Formats one operand for one verb.
fn fmt_arg(out: &mut String, verb: char, f: &Flags, v: &Value) {
    if verb == 'T' {
        let name = match v {
            Value::NoValue | Value::Nil => "<nil>",
            _ => v.type_name(),
        };
        return pad(out, name, f, false);
    }
    // Types with a String() method print their text for %s, %v and %q.
    if let Value::Object(o) = v {
        if matches!(verb, 's' | 'v' | 'q') && (o.is_stringer() || o.underlying().is_none()) {
            let mut s = String::new();
            o.format(&mut s);
            return fmt_str(out, &s, verb, f);
        }
        if let Some(u) = o.underlying() {
            return fmt_arg(out, verb, f, &u);
        }
    }
    match (verb, v) {
        ('v', Value::Str(s))
        | ('s', Value::Str(s))
        | ('q', Value::Str(s))
        | ('x', Value::Str(s))
        | ('X', Value::Str(s)) => fmt_str(out, s, verb, f),
        ('v' | 'd' | 'x' | 'X' | 'o' | 'O' | 'b', Value::Int(i)) => fmt_int(out, *i, verb, f),
        ('c', Value::Int(i)) => {
            let c = u32::try_from(*i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            pad(out, &c.to_string(), f, false);
        }
        ('q', Value::Int(i)) => {
            let c = u32::try_from(*i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            pad(out, &quote_rune(c), f, false);
        }
        ('v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Float(x)) => fmt_float(out, *x, verb, f),
        ('x' | 'X', Value::Float(x)) => {
            // Go's %x of a float is hexadecimal floating point; rare in templates.
            let _ = write!(out, "%!{verb}(float64=");
            write_value(out, &Value::Float(*x));
            out.push(')');
        }
        ('v' | 't', Value::Bool(b)) => pad(out, if *b { "true" } else { "false" }, f, false),
        // Containers format each key and element with the verb and flags, as Go's printValue.
        (_, Value::List(l)) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_arg(out, verb, f, e);
            }
            out.push(']');
        }
        (_, Value::Map(m)) => {
            out.push_str("map[");
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_arg(out, verb, f, &Value::from(k.as_str()));
                out.push(':');
                fmt_arg(out, verb, f, e);
            }
            out.push(']');
        }
        (_, Value::StrMap(m)) => {
            out.push_str("map[");
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_arg(out, verb, f, &Value::from(k.as_str()));
                out.push(':');
                fmt_arg(out, verb, f, &Value::from(e.as_str()));
            }
            out.push(']');
        }
        ('v', _) => {
            let mut s = String::new();
            write_value(&mut s, v);
            if matches!(v, Value::NoValue) {
                s = "<nil>".to_string();
            }
            pad(out, &s, f, false);
        }
        _ => bad_verb(out, verb, f, v),
    }
}

/// Go's `fmt.Sprintf(format, args...)`.
pub(crate) fn sprintf(out: &mut String, format: &str, args: &[Value]) {
    let mut argn = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut f = Flags::default();
        // Flags.
        while let Some(&(_, c)) = chars.peek() {
            match c {
                '-' => f.minus = true,
                '+' => f.plus = true,
                ' ' => f.space = true,
                '0' => f.zero = !f.minus,
                '#' => f.sharp = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        let mut w = None;
        while let Some(&(_, d)) = chars.peek() {
            if let Some(n) = d.to_digit(10) {
                w = Some(
                    w.unwrap_or(0usize)
                        .saturating_mul(10)
                        .saturating_add(n as usize)
                        .min(1 << 20),
                );
                chars.next();
            } else {
                break;
            }
        }
        f.width = w;
        if let Some(&(_, '.')) = chars.peek() {
            chars.next();
            let mut p = 0usize;
            while let Some(&(_, d)) = chars.peek() {
                if let Some(n) = d.to_digit(10) {
                    p = p.saturating_mul(10).saturating_add(n as usize).min(1 << 20);
                    chars.next();
                } else {
                    break;
                }
            }
            f.prec = Some(p);
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argn) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argn += 1;
        fmt_arg(out, verb, &f, arg);
    }
    if argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[argn..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match a {
                Value::NoValue | Value::Nil => out.push_str("<nil>"),
                _ => {
                    out.push_str(a.type_name());
                    out.push('=');
                    write_value(out, a);
                }
            }
        }
        out.push(')');
    }
}
