//! Go literal syntax: `strconv.Unquote` for string literals and the number rules of
//! text/template's NumberNode.

use crate::ast::Number;

const SYNTAX: &str = "invalid syntax";

/// Go's `strconv.Unquote` for "...", `...` and '...' literals.
pub(crate) fn unquote(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(SYNTAX.into());
    }
    let q = b[0];
    if q != b[b.len() - 1] {
        return Err(SYNTAX.into());
    }
    let inner = &s[1..s.len() - 1];
    match q {
        b'`' => {
            if inner.contains('`') {
                return Err(SYNTAX.into());
            }
            // Go drops carriage returns from raw strings.
            Ok(inner.replace('\r', ""))
        }
        b'"' | b'\'' => {
            let mut out: Vec<u8> = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                let (bytes, tail) = unquote_char(rest, q)?;
                out.extend_from_slice(&bytes);
                rest = tail;
            }
            if q == b'\'' && std::str::from_utf8(&out).map(|s| s.chars().count()) != Ok(1) {
                return Err(SYNTAX.into());
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        _ => Err(SYNTAX.into()),
    }
}

/// Decodes one (possibly escaped) character; returns its bytes and the rest.
fn unquote_char(s: &str, quote: u8) -> Result<(Vec<u8>, &str), String> {
    let mut chars = s.chars();
    let Some(c) = chars.next() else {
        return Err(SYNTAX.into());
    };
    if c as u32 == quote as u32 && (quote == b'\'' || quote == b'"') {
        return Err(SYNTAX.into());
    }
    if c == '\n' {
        return Err(SYNTAX.into());
    }
    if c != '\\' {
        let mut buf = [0u8; 4];
        return Ok((c.encode_utf8(&mut buf).as_bytes().to_vec(), chars.as_str()));
    }
    let Some(e) = chars.next() else {
        return Err(SYNTAX.into());
    };
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some(7u8),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(11),
        '\\' => Some(b'\\'),
        '\'' | '"' => {
            if e as u32 != quote as u32 {
                return Err(SYNTAX.into());
            }
            Some(e as u8)
        }
        _ => None,
    };
    if let Some(b) = simple {
        return Ok((vec![b], rest));
    }
    match e {
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            if rest.len() < n || !rest.is_char_boundary(n) {
                return Err(SYNTAX.into());
            }
            let v = u32::from_str_radix(&rest[..n], 16).map_err(|_| SYNTAX.to_string())?;
            if rest[..n].starts_with(['+', '-']) {
                return Err(SYNTAX.into());
            }
            if e == 'x' {
                return Ok((vec![v as u8], &rest[n..]));
            }
            let c = char::from_u32(v).ok_or_else(|| SYNTAX.to_string())?;
            let mut buf = [0u8; 4];
            Ok((c.encode_utf8(&mut buf).as_bytes().to_vec(), &rest[n..]))
        }
        '0'..='7' => {
            let digits = format!("{e}{}", rest.get(..2).ok_or_else(|| SYNTAX.to_string())?);
            if !digits.bytes().all(|d| (b'0'..=b'7').contains(&d)) {
                return Err(SYNTAX.into());
            }
            let v = u32::from_str_radix(&digits, 8).map_err(|_| SYNTAX.to_string())?;
            if v > 255 {
                return Err(SYNTAX.into());
            }
            Ok((vec![v as u8], &rest[2..]))
        }
        _ => Err(SYNTAX.into()),
    }
}

fn parse_go_uint(text: &str) -> Option<u64> {
    let t = text.strip_prefix('+').unwrap_or(text);
    let (radix, digits) = if let Some(r) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (2, r)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    // Underscores are allowed only between digits (and after a base prefix).
    if digits.is_empty() || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    if radix == 10 && digits.starts_with('_') {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&clean, radix).ok()
}

fn parse_go_int(text: &str) -> Option<i64> {
    if let Some(r) = text.strip_prefix('-') {
        let u = parse_go_uint(r)?;
        if u <= i64::MAX as u64 + 1 {
            return Some((u as i128).wrapping_neg() as i64);
        }
        return None;
    }
    let u = parse_go_uint(text)?;
    i64::try_from(u).ok()
}

fn parse_go_float(text: &str) -> Option<f64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    if lower.contains("0x") || lower.contains("inf") || lower.contains("nan") {
        // Hex floats are rare in templates; Go's strconv accepts them, we do not.
        return None;
    }
    clean.parse::<f64>().ok()
}

/// Go's `newNumber` for a number or character-constant token.
pub(crate) fn parse_number(text: &str, is_char: bool) -> Result<Number, String> {
    if is_char {
        let s = unquote(text).map_err(|_| format!("malformed character constant: {text}"))?;
        let c = s.chars().next().ok_or_else(|| SYNTAX.to_string())?;
        return Ok(Number {
            int: Some(c as i64),
            float: Some(c as u32 as f64),
            prefer_float: false,
            uint_only: false,
        });
    }
    if text.ends_with('i') {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote(text)
        ));
    }
    let uint = parse_go_uint(text);
    let int = parse_go_int(text);
    let mut n = Number {
        int,
        float: None,
        prefer_float: false,
        uint_only: false,
    };
    if let Some(i) = int {
        n.float = Some(i as f64);
    } else if let Some(u) = uint {
        n.float = Some(u as f64);
        n.uint_only = true;
    } else if let Some(f) = parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gofmt::quote(text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            n.int = Some(f as i64);
        }
    }
    if n.int.is_none() && n.float.is_none() {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote(text)
        ));
    }
    let is_hex = text.len() > 2
        && (text.starts_with("0x") || text.starts_with("0X"))
        && !text.contains(['p', 'P']);
    n.prefer_float = !is_hex && text.contains(['.', 'e', 'E', 'p', 'P']);
    Ok(n)
}
