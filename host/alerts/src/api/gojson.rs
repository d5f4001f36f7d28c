//! The syntax errors Go's `encoding/json` decoder reports (`scanner.go`), so a malformed body
//! gets Alertmanager's words: `invalid character 'o' in literal null (expecting 'u')`.

/// Go's `quoteChar`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_string(),
        b'"' => "'\"'".to_string(),
        b'\n' => r"'\n'".to_string(),
        b'\r' => r"'\r'".to_string(),
        b'\t' => r"'\t'".to_string(),
        0x07 => r"'\a'".to_string(),
        0x08 => r"'\b'".to_string(),
        0x0c => r"'\f'".to_string(),
        0x0b => r"'\v'".to_string(),
        b'\\' => r"'\\'".to_string(),
        c if c < 0x20 || c == 0x7f => format!(r"'\x{c:02x}'"),
        c if c < 0x80 => format!("'{}'", c as char),
        // `string(byte)` is the code point U+0080..U+00FF.
        c if c < 0xa0 => format!(r"'\u{:04x}'", c),
        c => format!("'{}'", char::from(c)),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    ObjectKey,
    ObjectValue,
    Array,
}

fn err(c: u8, ctx: &str) -> String {
    format!("invalid character {} {ctx}", quote_char(c))
}

/// The error Go's `json.Decoder` gives for the first value of `body`, if it is malformed;
/// `None` when the first value is well-formed (Go then reads no further).
pub(crate) fn syntax_error(body: &[u8]) -> Option<String> {
    let mut stack: Vec<Ctx> = Vec::new();
    let mut i = 0;
    let n = body.len();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let eof = || Some("unexpected EOF".to_string());
    // Each iteration parses one value, then what follows it within its container.
    'value: loop {
        while i < n && ws(body[i]) {
            i += 1;
        }
        let Some(&c) = body.get(i) else { return eof() };
        match c {
            b'{' => {
                i += 1;
                while i < n && ws(body[i]) {
                    i += 1;
                }
                match body.get(i) {
                    None => return eof(),
                    Some(b'}') => {
                        i += 1;
                    }
                    Some(b'"') => {
                        stack.push(Ctx::ObjectKey);
                        continue 'value;
                    }
                    Some(&c) => return Some(err(c, "looking for beginning of object key string")),
                }
            }
            b'[' => {
                i += 1;
                while i < n && ws(body[i]) {
                    i += 1;
                }
                match body.get(i) {
                    None => return eof(),
                    Some(b']') => {
                        i += 1;
                    }
                    Some(_) => {
                        stack.push(Ctx::Array);
                        continue 'value;
                    }
                }
            }
            b'"' => {
                i += 1;
                loop {
                    let Some(&c) = body.get(i) else { return eof() };
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let Some(&e) = body.get(i) else { return eof() };
                            i += 1;
                            match e {
                                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {}
                                b'u' => {
                                    for _ in 0..4 {
                                        let Some(&h) = body.get(i) else { return eof() };
                                        if !h.is_ascii_hexdigit() {
                                            return Some(err(
                                                h,
                                                r"in \u hexadecimal character escape",
                                            ));
                                        }
                                        i += 1;
                                    }
                                }
                                e => return Some(err(e, "in string escape code")),
                            }
                        }
                        c if c < 0x20 => return Some(err(c, "in string literal")),
                        _ => {}
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                if c == b'-' {
                    i += 1;
                    match body.get(i) {
                        None => return eof(),
                        Some(b'0'..=b'9') => {}
                        Some(&d) => return Some(err(d, "in numeric literal")),
                    }
                }
                if body[i] == b'0' {
                    i += 1;
                } else {
                    while i < n && body[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if body.get(i) == Some(&b'.') {
                    i += 1;
                    match body.get(i) {
                        None => return eof(),
                        Some(b'0'..=b'9') => {}
                        Some(&d) => return Some(err(d, "after decimal point in numeric literal")),
                    }
                    while i < n && body[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if matches!(body.get(i), Some(b'e' | b'E')) {
                    i += 1;
                    if matches!(body.get(i), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    match body.get(i) {
                        None => return eof(),
                        Some(b'0'..=b'9') => {}
                        Some(&d) => return Some(err(d, "in exponent of numeric literal")),
                    }
                    while i < n && body[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                let name = std::str::from_utf8(word).unwrap_or_default();
                for (k, &want) in word.iter().enumerate().skip(1) {
                    let Some(&got) = body.get(i + k) else {
                        return eof();
                    };
                    if got != want {
                        return Some(err(
                            got,
                            &format!("in literal {name} (expecting {})", quote_char(want)),
                        ));
                    }
                }
                i += word.len();
            }
            c => return Some(err(c, "looking for beginning of value")),
        }
        // After a value: what its container allows next.
        loop {
            let ctx = stack.last().copied()?;
            while i < n && ws(body[i]) {
                i += 1;
            }
            let Some(&c) = body.get(i) else { return eof() };
            i += 1;
            match (ctx, c) {
                (Ctx::ObjectKey, b':') => {
                    if let Some(top) = stack.last_mut() {
                        *top = Ctx::ObjectValue;
                    }
                    continue 'value;
                }
                (Ctx::ObjectKey, c) => return Some(err(c, "after object key")),
                (Ctx::ObjectValue, b',') => {
                    if let Some(top) = stack.last_mut() {
                        *top = Ctx::ObjectKey;
                    }
                    while i < n && ws(body[i]) {
                        i += 1;
                    }
                    match body.get(i) {
                        None => return eof(),
                        Some(b'"') => continue 'value,
                        Some(&c) => {
                            return Some(err(c, "looking for beginning of object key string"))
                        }
                    }
                }
                (Ctx::ObjectValue, b'}') | (Ctx::Array, b']') => {
                    stack.pop();
                }
                (Ctx::ObjectValue, c) => return Some(err(c, "after object key:value pair")),
                (Ctx::Array, b',') => continue 'value,
                (Ctx::Array, c) => return Some(err(c, "after array element")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::syntax_error;

    #[test]
    fn messages_are_gos() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "not json",
                Some("invalid character 'o' in literal null (expecting 'u')"),
            ),
            (
                "x",
                Some("invalid character 'x' looking for beginning of value"),
            ),
            ("{\"a\" 1}", Some("invalid character '1' after object key")),
            (
                "{\"a\":1 2}",
                Some("invalid character '2' after object key:value pair"),
            ),
            ("[1 2]", Some("invalid character '2' after array element")),
            (
                "{1}",
                Some("invalid character '1' looking for beginning of object key string"),
            ),
            (
                "[1.x]",
                Some("invalid character 'x' after decimal point in numeric literal"),
            ),
            ("[-x]", Some("invalid character 'x' in numeric literal")),
            (
                "[1e]",
                Some("invalid character ']' in exponent of numeric literal"),
            ),
            (
                "\"a\\x\"",
                Some("invalid character 'x' in string escape code"),
            ),
            ("\"a\n\"", Some("invalid character '\\n' in string literal")),
            ("[tru", Some("unexpected EOF")),
            ("[{\"a\":[1,{\"b\":null}]}] trailing", None),
            ("[]", None),
            ("{}", None),
            ("-0.5e+3", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                syntax_error(input.as_bytes()).as_deref(),
                *want,
                "{input:?}"
            );
        }
    }
}
