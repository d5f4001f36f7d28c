//! Label matchers as Alertmanager parses, prints and evaluates them (`pkg/labels`,
//! `matcher/parse`, `matcher/compat`).
//!
//! Two syntaxes exist. The classic one (`foo=bar`, `foo=~"b.*"`, `{a="1", b!="2"}`) takes
//! Prometheus label names and tolerates unquoted values with spaces; the UTF-8 one takes any
//! label name, quoted with Go's escapes when it holds reserved characters (`"foo bar"="baz"`).
//! Alertmanager's default (no feature flag) is the fallback mode: the UTF-8 parser first, the
//! classic one when that fails or when both succeed with different results, which is what
//! [`parse_matchers`] and [`parse_matcher`] do.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, Result};

/// A label set: names to values.
pub type LabelSet = BTreeMap<String, String>;

/// `=`, `!=`, `=~`, `!~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regexp,
    /// `!~`
    NotRegexp,
}

impl MatchType {
    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }
}

/// One matcher. Regular expressions are anchored (`^(?:...)$`) as Alertmanager's are.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The operator.
    pub kind: MatchType,
    /// The label name.
    pub name: String,
    /// The value (the regular expression's source for `=~`/`!~`).
    pub value: String,
    re: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind && self.name == o.name && self.value == o.value
    }
}
impl Eq for Matcher {}

impl Matcher {
    /// Builds a matcher, compiling the anchored regular expression for `=~` and `!~`.
    pub fn new(kind: MatchType, name: &str, value: &str) -> Result<Matcher> {
        let re = match kind {
            MatchType::Regexp | MatchType::NotRegexp => Some(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| Error::Matcher(format!("error parsing regexp: {e}")))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            kind,
            name: name.to_string(),
            value: value.to_string(),
            re,
        })
    }

    /// Whether `s` (the label's value, empty when absent) satisfies the matcher.
    pub fn matches(&self, s: &str) -> bool {
        match (self.kind, &self.re) {
            (MatchType::Equal, _) => s == self.value,
            (MatchType::NotEqual, _) => s != self.value,
            (MatchType::Regexp, Some(re)) => re.is_match(s),
            (MatchType::NotRegexp, Some(re)) => !re.is_match(s),
            // `new` always compiles a regex for the regex kinds.
            (MatchType::Regexp | MatchType::NotRegexp, None) => false,
        }
    }

    /// Whether the label set satisfies the matcher (an absent label reads as empty).
    pub fn matches_labels(&self, ls: &LabelSet) -> bool {
        self.matches(ls.get(&self.name).map(String::as_str).unwrap_or(""))
    }
}

/// Reserved characters of the UTF-8 syntax: a name holding one is printed quoted.
fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.chars().any(is_reserved) {
            write!(
                f,
                "{}{}{}",
                go_quote(&self.name),
                self.kind.as_str(),
                go_quote(&self.value)
            )
        } else {
            let v = self
                .value
                .replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('"', "\\\"");
            write!(f, "{}{}\"{}\"", self.name, self.kind.as_str(), v)
        }
    }
}

/// A list of matchers, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Whether every matcher holds on `ls`.
    pub fn matches(&self, ls: &LabelSet) -> bool {
        self.0.iter().all(|m| m.matches_labels(ls))
    }

    /// Sorts as Go's `labels.Matchers` sorts: by name, then value, then operator.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.kind.cmp(&b.kind))
        });
    }

    /// Whether there are no matchers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many matchers.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

/// Parses one or more matchers in Alertmanager's default (fallback) mode.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>> {
    let utf8 = parse_utf8(input);
    let classic = parse_classic(input);
    match (utf8, classic) {
        (Err(_), Err(c)) => Err(c),
        (Err(_), Ok(c)) => Ok(c),
        (Ok(n), Ok(c)) if n != c => Ok(c),
        (Ok(n), _) => Ok(n),
    }
}

/// Parses exactly one matcher in Alertmanager's default (fallback) mode (as `amtool` parses
/// its label arguments).
pub fn parse_matcher(input: &str) -> Result<Matcher> {
    if input.starts_with('{') || input.ends_with('}') {
        return Err(Error::Matcher(format!(
            "unexpected open or close brace: {input}"
        )));
    }
    let utf8 = parse_utf8(input).and_then(|mut v| match v.len() {
        1 => Ok(v.remove(0)),
        0 => Err(Error::Matcher("no matchers".into())),
        n => Err(Error::Matcher(format!("expected 1 matcher, found {n}"))),
    });
    let classic = parse_classic_one(input);
    match (utf8, classic) {
        (Err(_), Err(c)) => Err(c),
        (Err(_), Ok(c)) => Ok(c),
        (Ok(n), Ok(c)) if n != c => Ok(c),
        (Ok(n), _) => Ok(n),
    }
}

/// Parses API filter parameters as Alertmanager 0.25's API does: each entry is one matcher
/// in the classic syntax (`labels.ParseMatcher`, no braces, no fallback to the UTF-8 parser).
pub fn parse_filter_matchers(filters: &[String]) -> Result<Vec<Matcher>> {
    filters.iter().map(|f| parse_classic_one(f)).collect()
}

/// The classic parser (`pkg/labels.ParseMatchers`): optional braces, commas outside double
/// quotes separate matchers, a trailing comma is allowed.
pub fn parse_classic(s: &str) -> Result<Vec<Matcher>> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let (mut inside, mut escaped) = (false, false);
    let mut token = String::new();
    let mut tokens = Vec::new();
    for c in s.chars() {
        match c {
            ',' if !inside => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if !escaped {
                    inside = !inside;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|t| parse_classic_one(t)).collect()
}

fn classic_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        // The same expression as Alertmanager's; it is a constant, so it compiles.
        #[allow(clippy::expect_used)]
        regex::Regex::new(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$")
            .expect("constant regex")
    })
}

/// One classic matcher (`pkg/labels.ParseMatcher`).
fn parse_classic_one(s: &str) -> Result<Matcher> {
    let caps = classic_re()
        .captures(s)
        .ok_or_else(|| Error::Matcher(format!("bad matcher format: {s}")))?;
    let (name, op, raw3) = (&caps[1], &caps[2], &caps[3]);
    let kind = match op {
        "=" => MatchType::Equal,
        "!=" => MatchType::NotEqual,
        "=~" => MatchType::Regexp,
        _ => MatchType::NotRegexp,
    };
    let (raw, mut expect_quote) = match raw3.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw3, false),
    };
    let unescaped_quote = || {
        Error::Matcher(format!(
            "matcher value contains unescaped double quote: {raw3}"
        ))
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for &(i, c) in &chars {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' => {
                if i < raw.len() - 1 {
                    escaped = true;
                    continue;
                }
                value.push('\\');
            }
            '"' => {
                if !expect_quote || i < raw.len() - 1 {
                    return Err(unescaped_quote());
                }
                expect_quote = false;
            }
            _ => value.push(c),
        }
    }
    if expect_quote {
        return Err(unescaped_quote());
    }
    Matcher::new(kind, name, &value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    Comma,
    Eq,
    Ne,
    Re,
    Nre,
    Quoted,
    Unquoted,
    Eof,
}

struct Token {
    kind: Tok,
    text: String,
    col_start: usize,
    col_end: usize,
}

/// The UTF-8 matcher lexer (`matcher/parse/lexer.go`), tokenizing the whole input up front.
fn lex(input: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let tok = |kind, from: usize, to: usize, chars: &[char]| Token {
        kind,
        text: chars[from..to].iter().collect(),
        col_start: from,
        col_end: to,
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' | '}' | ',' => {
                let k = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    _ => Tok::Comma,
                };
                out.push(tok(k, i, i + 1, &chars));
                i += 1;
            }
            '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let (k, len) = match (c, next) {
                    ('!', Some('=')) => (Tok::Ne, 2),
                    ('!', Some('~')) => (Tok::Nre, 2),
                    ('!', _) => {
                        return Err(Error::Matcher(lex_expected(&chars, i, i + 1, "=~")));
                    }
                    ('=', Some('~')) => (Tok::Re, 2),
                    _ => (Tok::Eq, 1),
                };
                out.push(tok(k, i, i + len, &chars));
                i += len;
            }
            '"' => {
                let start = i;
                i += 1;
                let mut escaped = false;
                let mut closed = false;
                while i < chars.len() {
                    let c = chars[i];
                    i += 1;
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    let text: String = chars[start..i].iter().collect();
                    return Err(Error::Matcher(format!(
                        "{start}:{i}: {text}: missing end \""
                    )));
                }
                out.push(tok(Tok::Quoted, start, i, &chars));
            }
            c if c.is_whitespace() => i += 1,
            c if !is_reserved(c) => {
                let start = i;
                while i < chars.len() && !is_reserved(chars[i]) {
                    i += 1;
                }
                out.push(tok(Tok::Unquoted, start, i, &chars));
            }
            _ => {
                return Err(Error::Matcher(format!("{i}:{}: {c}: invalid input", i + 1)));
            }
        }
    }
    out.push(Token {
        kind: Tok::Eof,
        text: String::new(),
        col_start: chars.len(),
        col_end: chars.len(),
    });
    Ok(out)
}

fn lex_expected(chars: &[char], from: usize, to: usize, expected: &str) -> String {
    if to >= chars.len() {
        format!("{from}:{to}: unexpected end of input, expected one of '{expected}'")
    } else {
        let text: String = chars[from..=to].iter().collect();
        format!("{from}:{}: {text}: expected one of '{expected}'", to + 1)
    }
}

/// The UTF-8 matchers parser (`matcher/parse.Matchers`).
pub fn parse_utf8(input: &str) -> Result<Vec<Matcher>> {
    let toks = lex(input)?;
    let err = |m: String| Err(Error::Matcher(m));
    let unexpected = |t: &Token| format!("{}:{}: unexpected {}", t.col_start, t.col_end, t.text);
    let mut p = 0;
    let mut out = Vec::new();
    let has_open = toks[0].kind == Tok::Open;
    if has_open {
        p += 1;
    }
    loop {
        let t = &toks[p];
        match t.kind {
            Tok::Eof => {
                if has_open {
                    return err(format!(
                        "{}:{}: end of input: expected close brace",
                        t.col_start, t.col_end
                    ));
                }
                return Ok(out);
            }
            Tok::Close => {
                if !has_open {
                    return err(format!(
                        "{}:{}: }}: expected opening brace",
                        t.col_end - 1,
                        t.col_end
                    ));
                }
                let next = &toks[p + 1];
                if next.kind != Tok::Eof {
                    return err(format!(
                        "{}:{}: {}: expected end of input",
                        next.col_start, next.col_end, next.text
                    ));
                }
                return Ok(out);
            }
            Tok::Quoted | Tok::Unquoted => {}
            _ => return err(format!("{}: expected label name", unexpected(t))),
        }
        let name = unquote_token(t)?;
        p += 1;
        let op = &toks[p];
        let kind = match op.kind {
            Tok::Eq => MatchType::Equal,
            Tok::Ne => MatchType::NotEqual,
            Tok::Re => MatchType::Regexp,
            Tok::Nre => MatchType::NotRegexp,
            Tok::Eof => {
                return err(
                    "end of input: expected an operator such as '=', '!=', '=~' or '!~'".into(),
                )
            }
            _ => {
                return err(format!(
                    "{}: expected an operator such as '=', '!=', '=~' or '!~'",
                    unexpected(op)
                ))
            }
        };
        p += 1;
        let vt = &toks[p];
        match vt.kind {
            Tok::Quoted | Tok::Unquoted => {}
            Tok::Eof => return err("end of input: expected label value".into()),
            _ => return err(format!("{}: expected label value", unexpected(vt))),
        }
        let value = unquote_token(vt)?;
        out.push(
            Matcher::new(kind, &name, &value)
                .map_err(|e| Error::Matcher(format!("failed to create matcher: {e}")))?,
        );
        p += 1;
        let t = &toks[p];
        match t.kind {
            Tok::Comma => {
                p += 1;
                match toks[p].kind {
                    Tok::Close | Tok::Quoted | Tok::Unquoted | Tok::Eof => {}
                    _ => {
                        return err(format!(
                            "{}: expected a matcher or close brace after comma",
                            unexpected(&toks[p])
                        ))
                    }
                }
            }
            Tok::Close | Tok::Eof => {}
            _ => {
                return err(format!(
                    "{}: expected a comma or close brace",
                    unexpected(t)
                ))
            }
        }
    }
}

fn unquote_token(t: &Token) -> Result<String> {
    if t.kind == Tok::Quoted {
        go_unquote(&t.text).ok_or_else(|| {
            Error::Matcher(format!(
                "{}:{}: {}: invalid input",
                t.col_start, t.col_end, t.text
            ))
        })
    } else {
        Ok(t.text.clone())
    }
}

/// Go's `strconv.Unquote` for a double-quoted string.
pub(crate) fn go_unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => {
                let e = it.next()?;
                match e {
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\x0b'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n).filter_map(|_| it.next()).collect();
                        if hex.len() != n {
                            return None;
                        }
                        let v = u32::from_str_radix(&hex, 16).ok()?;
                        if e == 'x' {
                            // A \x byte must form valid UTF-8 on its own to be accepted here.
                            if v >= 0x80 {
                                return None;
                            }
                        }
                        out.push(char::from_u32(v)?);
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8)?;
                        for _ in 0..2 {
                            v = v * 8 + it.next()?.to_digit(8)?;
                        }
                        if v >= 0x80 {
                            return None;
                        }
                        out.push(char::from_u32(v)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// Go's `strconv.Quote` for printable text (non-printable characters are escaped).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(v: &[Matcher]) -> String {
        Matchers(v.to_vec()).to_string()
    }

    #[test]
    fn both_syntaxes_parse_as_alertmanager_does() {
        for (input, want) in [
            (r#"foo="bar""#, r#"{foo="bar"}"#),
            ("foo=bar", r#"{foo="bar"}"#),
            (r#"foo=~"b.*""#, r#"{foo=~"b.*"}"#),
            (r#"foo!="x""#, r#"{foo!="x"}"#),
            (
                r#"{foo="bar", dings!="bums", }"#,
                r#"{foo="bar",dings!="bums"}"#,
            ),
            ("foo=bar,dings!=bums", r#"{foo="bar",dings!="bums"}"#),
            // The classic parser keeps spaces inside an unquoted value.
            ("foo=bar baz", r#"{foo="bar baz"}"#),
            (r#""foo bar"="baz""#, r#"{"foo bar"="baz"}"#),
            (r#"service="ünïcode""#, r#"{service="ünïcode"}"#),
            (r#"foo!~"[0-9]+""#, r#"{foo!~"[0-9]+"}"#),
            (
                r#"quote="She said: \"Hi\"""#,
                r#"{quote="She said: \"Hi\""}"#,
            ),
            ("", "{}"),
        ] {
            let got = parse_matchers(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(show(&got), want, "{input}");
        }
    }

    #[test]
    fn bad_matchers_are_errors() {
        for input in [r#"foo=~"(""#, "=bar", r#"foo="bar"#, "foo"] {
            assert!(parse_matchers(input).is_err(), "{input}");
        }
        assert!(parse_matcher("{foo=bar}").is_err());
        // Two UTF-8 matchers are one classic matcher with a comma in its value, as in Go.
        assert_eq!(parse_matcher("a=1,b=2").unwrap().value, "1,b=2");
    }

    #[test]
    fn regexes_are_anchored() {
        let m = Matcher::new(MatchType::Regexp, "a", "b.*").unwrap();
        assert!(m.matches("bcd"));
        assert!(!m.matches("abc"));
        let m = Matcher::new(MatchType::NotRegexp, "a", "x|y").unwrap();
        assert!(m.matches("xy"));
        assert!(!m.matches("x"));
        // An absent label is the empty string.
        let m = Matcher::new(MatchType::Regexp, "a", ".*").unwrap();
        assert!(m.matches_labels(&LabelSet::new()));
    }
}
