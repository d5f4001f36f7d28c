//! The PromQL lexer: turns a query into tokens with byte positions.

use crate::error::ParseError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Number(f64),
    /// A duration literal in milliseconds.
    Duration(i64),
    Str(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    EqlC,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `</` (trim the buckets above a bound).
    TrimUpper,
    /// `>/` (trim the buckets below a bound).
    TrimLower,
    Assign,
    EqlRegex,
    NeqRegex,
    Eof,
}

impl Tok {
    /// How Prometheus names the token in "unexpected ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Number(_) => "number".to_string(),
            Tok::Duration(_) => "duration".to_string(),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::LParen => "\"(\"".to_string(),
            Tok::RParen => "\")\"".to_string(),
            Tok::LBrace => "\"{\"".to_string(),
            Tok::RBrace => "\"}\"".to_string(),
            Tok::LBracket => "\"[\"".to_string(),
            Tok::RBracket => "\"]\"".to_string(),
            Tok::Comma => "\",\"".to_string(),
            Tok::Colon => "\":\"".to_string(),
            Tok::At => "<@>".to_string(),
            Tok::Add => "<op:+>".to_string(),
            Tok::Sub => "<op:->".to_string(),
            Tok::Mul => "<op:*>".to_string(),
            Tok::Div => "<op:/>".to_string(),
            Tok::Mod => "<op:%>".to_string(),
            Tok::Pow => "<op:^>".to_string(),
            Tok::EqlC => "<op:==>".to_string(),
            Tok::Neq => "<op:!=>".to_string(),
            Tok::Lt => "<op:<>".to_string(),
            Tok::Lte => "<op:<=>".to_string(),
            Tok::Gt => "<op:>>".to_string(),
            Tok::Gte => "<op:>=>".to_string(),
            Tok::TrimUpper => "<op:</>".to_string(),
            Tok::TrimLower => "<op:>/>".to_string(),
            Tok::Assign => "\"=\"".to_string(),
            Tok::EqlRegex => "\"=~\"".to_string(),
            Tok::NeqRegex => "\"!~\"".to_string(),
            Tok::Eof => "end of input".to_string(),
        }
    }
}

/// A token with its byte range.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Builds a parse error at a byte offset of `input`.
pub(crate) fn error_at(
    input: &str,
    start: usize,
    end: usize,
    msg: impl Into<String>,
) -> ParseError {
    let start = start.min(input.len());
    let before = &input[..start];
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(i) => start - i,
        None => start + 1,
    };
    ParseError {
        line,
        col,
        start,
        end,
        msg: msg.into(),
    }
}

const UNITS: &[(&str, i64)] = &[
    ("ms", 1),
    ("s", 1000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
    ("y", 31_536_000_000),
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8, colon_ok: bool) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || (colon_ok && c == b':')
}

/// Tokenizes `input`.
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let b = input.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut bracket_depth = 0i32;
    let mut brace_depth = 0i32;
    let mut paren_depth = 0i32;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let two = if i + 1 < b.len() {
            &b[i..i + 2]
        } else {
            &b[i..i + 1]
        };
        let (tok, len) = match c {
            b'(' => {
                paren_depth += 1;
                (Tok::LParen, 1)
            }
            b')' => {
                paren_depth -= 1;
                if paren_depth < 0 {
                    return Err(error_at(
                        input,
                        i,
                        i + 1,
                        "unexpected right parenthesis ')'",
                    ));
                }
                (Tok::RParen, 1)
            }
            b'{' => {
                if brace_depth > 0 {
                    return Err(error_at(input, i, i + 1, "unexpected left brace '{'"));
                }
                brace_depth += 1;
                (Tok::LBrace, 1)
            }
            b'}' => {
                brace_depth -= 1;
                if brace_depth < 0 {
                    // Prometheus' lexer (2.42 and 3.x) has no case for a `}` outside braces.
                    return Err(error_at(input, i, i + 1, "unexpected character: '}'"));
                }
                (Tok::RBrace, 1)
            }
            b'[' => {
                if bracket_depth > 0 {
                    return Err(error_at(input, i, i + 1, "unexpected left bracket '['"));
                }
                bracket_depth += 1;
                (Tok::LBracket, 1)
            }
            b']' => {
                bracket_depth -= 1;
                if bracket_depth < 0 {
                    return Err(error_at(input, i, i + 1, "unexpected right bracket ']'"));
                }
                (Tok::RBracket, 1)
            }
            b',' => (Tok::Comma, 1),
            b':' if bracket_depth > 0 => (Tok::Colon, 1),
            b'@' => (Tok::At, 1),
            b'+' => (Tok::Add, 1),
            b'-' => (Tok::Sub, 1),
            b'*' => (Tok::Mul, 1),
            b'/' => (Tok::Div, 1),
            b'%' => (Tok::Mod, 1),
            b'^' => (Tok::Pow, 1),
            b'=' if two == b"==" => (Tok::EqlC, 2),
            b'=' if two == b"=~" => (Tok::EqlRegex, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if two == b"!=" => (Tok::Neq, 2),
            b'!' if two == b"!~" => (Tok::NeqRegex, 2),
            b'!' => {
                return Err(error_at(
                    input,
                    i,
                    i + 1,
                    "unexpected character after '!': ".to_string()
                        + &input[i + 1..]
                            .chars()
                            .next()
                            .map(|c| c.to_string())
                            .unwrap_or_default(),
                ))
            }
            b'<' if two == b"<=" => (Tok::Lte, 2),
            b'<' if two == b"</" => (Tok::TrimUpper, 2),
            b'>' if two == b">/" => (Tok::TrimLower, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two == b">=" => (Tok::Gte, 2),
            b'>' => (Tok::Gt, 1),
            b'"' | b'\'' | b'`' => {
                let (s, len) = lex_string(input, i)?;
                (Tok::Str(s), len)
            }
            b'0'..=b'9' | b'.' => {
                let (t, len) = lex_number_or_duration(input, i)?;
                (t, len)
            }
            c if is_ident_start(c) || (c == b':' && bracket_depth == 0) => {
                let colon_ok = bracket_depth == 0 && brace_depth == 0;
                let mut j = i;
                while j < b.len()
                    && is_ident_char(b[j], colon_ok || (bracket_depth == 0 && b[j] == b':'))
                {
                    j += 1;
                }
                let word = &input[i..j];
                let lw = word.to_ascii_lowercase();
                if brace_depth == 0 && (lw == "inf" || lw == "nan") {
                    (
                        Tok::Number(if lw == "inf" { f64::INFINITY } else { f64::NAN }),
                        j - i,
                    )
                } else {
                    (Tok::Ident(word.to_string()), j - i)
                }
            }
            _ => {
                let ch = input[i..].chars().next().unwrap_or(' ');
                return Err(error_at(
                    input,
                    i,
                    i + ch.len_utf8(),
                    format!("unexpected character: {ch:?}"),
                ));
            }
        };
        i += len;
        out.push(Token { tok, start, end: i });
    }
    if brace_depth > 0 {
        return Err(error_at(
            input,
            input.len(),
            input.len(),
            "unexpected end of input inside braces",
        ));
    }
    if paren_depth > 0 {
        return Err(error_at(
            input,
            input.len(),
            input.len(),
            "unclosed left parenthesis",
        ));
    }
    if bracket_depth > 0 {
        return Err(error_at(
            input,
            input.len(),
            input.len(),
            "unclosed left bracket",
        ));
    }
    out.push(Token {
        tok: Tok::Eof,
        start: input.len(),
        end: input.len(),
    });
    Ok(out)
}

fn lex_number_or_duration(input: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = input.as_bytes();
    // Hexadecimal integers.
    if b[i] == b'0' && i + 1 < b.len() && (b[i + 1] == b'x' || b[i + 1] == b'X') {
        let mut j = i + 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        let v = i64::from_str_radix(&input[i + 2..j], 16).map_err(|_| {
            error_at(
                input,
                i,
                j,
                format!("bad number or duration syntax: \"{}\"", &input[i..j]),
            )
        })?;
        return Ok((Tok::Number(v as f64), j - i));
    }
    // A duration: one or more <digits><unit>.
    if let Some((ms, len)) = scan_duration(&input[i..]) {
        return Ok((Tok::Duration(ms), len));
    }
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
        j += 1;
    }
    if j < b.len() && b[j] == b'.' {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let mut k = j + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = &input[i..j];
    if j < b.len() && is_ident_char(b[j], false) {
        let mut k = j;
        while k < b.len() && is_ident_char(b[k], false) {
            k += 1;
        }
        return Err(error_at(
            input,
            i,
            k,
            format!("bad number or duration syntax: \"{}\"", &input[i..k]),
        ));
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let v: f64 = clean.parse().map_err(|_| {
        error_at(
            input,
            i,
            j,
            format!("bad number or duration syntax: \"{text}\""),
        )
    })?;
    Ok((Tok::Number(v), j - i))
}

/// Scans a duration like `1h30m` at the start of `s`; returns milliseconds and length.
pub(crate) fn scan_duration(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let mut j = 0;
    let mut total: i64 = 0;
    let mut any = false;
    let mut last_unit = usize::MAX;
    loop {
        let ds = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if ds == j {
            break;
        }
        let n: i64 = s[ds..j].parse().ok()?;
        let rest = &s[j..];
        let mut found = None;
        for (idx, (u, f)) in UNITS.iter().enumerate() {
            if rest.starts_with(u) {
                let after = rest.as_bytes().get(u.len()).copied();
                // `ms` must win over `m`.
                if *u == "m" && rest.starts_with("ms") {
                    continue;
                }
                if after.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
                    continue;
                }
                found = Some((idx, u.len(), *f));
                break;
            }
        }
        let (idx, ulen, f) = match found {
            Some(x) => x,
            None => {
                if any {
                    return None;
                }
                return None;
            }
        };
        // Units must be strictly decreasing in size.
        if last_unit != usize::MAX && idx >= last_unit {
            return None;
        }
        last_unit = idx;
        total = total.checked_add(n.checked_mul(f)?)?;
        j += ulen;
        any = true;
    }
    if any {
        Some((total, j))
    } else {
        None
    }
}

fn lex_string(input: &str, i: usize) -> Result<(String, usize), ParseError> {
    let b = input.as_bytes();
    let q = b[i];
    let mut j = i + 1;
    if q == b'`' {
        while j < b.len() && b[j] != b'`' {
            j += 1;
        }
        if j >= b.len() {
            return Err(error_at(input, i, j, "unterminated raw string"));
        }
        return Ok((input[i + 1..j].to_string(), j + 1 - i));
    }
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' {
            j += 1;
        }
        if j < b.len() && b[j] == b'\n' {
            return Err(error_at(input, i, j, "unterminated quoted string"));
        }
        j += 1;
    }
    if j >= b.len() {
        return Err(error_at(input, i, j, "unterminated quoted string"));
    }
    let s = unquote(&input[i + 1..j], q as char).map_err(|m| error_at(input, i, j + 1, m))?;
    Ok((s, j + 1 - i))
}

/// Where bytes of a string literal that are not UTF-8 (`"a\xc5z"`) go: each becomes the
/// private-use character `RAW_BYTE_BASE + byte`, so that printing the expression or an error
/// can spell the byte again as Go does (`\xc5`) instead of losing it to U+FFFD.
pub(crate) const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// The byte a character of [`RAW_BYTE_BASE`]'s range stands for.
pub(crate) fn raw_byte(c: char) -> Option<u8> {
    (c as u32)
        .checked_sub(RAW_BYTE_BASE)
        .and_then(|b| u8::try_from(b).ok())
}

/// Decodes Go string escapes.
pub(crate) fn unquote(s: &str, quote: char) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut it = s.chars().peekable();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        for chunk in bytes.utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.extend(char::from_u32(RAW_BYTE_BASE + u32::from(*b)));
            }
        }
        bytes.clear();
    };
    while let Some(c) = it.next() {
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = it.next().ok_or("invalid syntax")?;
        if !(e == 'x' || ('0'..='7').contains(&e)) {
            flush(&mut bytes, &mut out);
        }
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' | '\'' if e == quote => out.push(e),
            'x' => {
                let h: String = (0..2).filter_map(|_| it.next()).collect();
                let v = u8::from_str_radix(&h, 16).map_err(|_| "invalid syntax".to_string())?;
                bytes.push(v);
                continue;
            }
            '0'..='7' => {
                let mut o = String::from(e);
                for _ in 0..2 {
                    if let Some(c) = it.next() {
                        o.push(c);
                    }
                }
                let v = u8::from_str_radix(&o, 8).map_err(|_| "invalid syntax".to_string())?;
                bytes.push(v);
                continue;
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let h: String = (0..n).filter_map(|_| it.next()).collect();
                let v = u32::from_str_radix(&h, 16).map_err(|_| "invalid syntax".to_string())?;
                out.push(char::from_u32(v).ok_or("invalid syntax")?);
            }
            _ => return Err(format!("unknown escape sequence U+{:04X} '{e}'", e as u32)),
        }
        flush(&mut bytes, &mut out);
    }
    flush(&mut bytes, &mut out);
    Ok(out)
}

#[cfg(test)]
mod raw_byte_tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_survive_unquoting() {
        let s = unquote(r"a\xc5z\xc3\xa9", '"').expect("valid escapes");
        let chars: Vec<char> = s.chars().collect();
        assert_eq!(chars[0], 'a');
        assert_eq!(raw_byte(chars[1]), Some(0xc5));
        assert_eq!(
            &s[s.len() - 3..],
            "zé",
            "valid UTF-8 from escapes stays text"
        );
        assert_eq!(raw_byte('a'), None);
    }
}
