//! Label matchers (`=`, `!=`, `=~`, `!~`), with Prometheus' fully anchored regex semantics.

use std::fmt;

use crate::{Error, Result};

/// The four matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    RegexMatch,
    RegexNoMatch,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

/// A label matcher. Regexes are anchored at both ends and `.` matches newlines, exactly as
/// Prometheus compiles them (`^(?s:<re>)$`).
#[derive(Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<regex::Regex>,
}

/// Regexes compiled recently, by pattern. Dashboards and rules send the same selectors again
/// and again, and compiling `5..` into the regex crate's engines was 2 % of a 10 k series
/// `rate` range query's CPU in a profile (BENCHMARKS.md, session 22). A compiled `Regex` is
/// shared by reference count and safe across threads. Bounded: patterns over
/// [`REGEX_CACHE_MAX_LEN`] bytes are not kept, and the cache starts over once it holds
/// [`REGEX_CACHE_ENTRIES`].
static REGEX_CACHE: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, regex::Regex>>,
> = std::sync::LazyLock::new(Default::default);
const REGEX_CACHE_ENTRIES: usize = 512;
const REGEX_CACHE_MAX_LEN: usize = 1024;

/// `^(?s:<pattern>)$` compiled, from the cache when it was compiled recently.
fn compiled(pattern: &str) -> Result<regex::Regex> {
    let cacheable = pattern.len() <= REGEX_CACHE_MAX_LEN;
    if cacheable {
        if let Some(re) = REGEX_CACHE
            .lock()
            .ok()
            .and_then(|c| c.get(pattern).cloned())
        {
            return Ok(re);
        }
    }
    let re = regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| Error::InvalidRegex {
        pattern: pattern.to_string(),
        message: e.to_string(),
    })?;
    if cacheable {
        if let Ok(mut c) = REGEX_CACHE.lock() {
            if c.len() >= REGEX_CACHE_ENTRIES {
                c.clear();
            }
            c.insert(pattern.to_string(), re.clone());
        }
    }
    Ok(re)
}

impl Matcher {
    /// Builds a matcher; fails only when a regex does not compile.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let value = value.into();
        let re = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(compiled(&value)?),
            _ => None,
        };
        Ok(Matcher {
            name,
            op,
            value,
            re,
        })
    }

    /// An equality matcher (never fails).
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// Whether `value` (the label's value, `""` when absent) matches.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => self.value == value,
            MatchOp::NotEqual => self.value != value,
            MatchOp::RegexMatch => self.re.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::RegexNoMatch => !self.re.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// Whether this matcher accepts the empty string (and so series that lack the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// The compiled regex for regex matchers.
    pub fn regex(&self) -> Option<&regex::Regex> {
        self.re.as_ref()
    }

    /// If this is a regex matcher whose pattern is a plain alternation of literals
    /// (`a|b|c`, no metacharacters), returns the literals: postings can then be looked up
    /// directly instead of scanning every value.
    pub fn set_matches(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::RegexMatch {
            return None;
        }
        let mut out = Vec::new();
        for alt in self.value.split('|') {
            if alt.chars().any(|c| "\\.+*?()[]{}^$".contains(c)) {
                return None;
            }
            out.push(alt.to_string());
        }
        Some(out)
    }

    /// For a regex matcher, the literal prefix every match must start with (`foo.*` → `foo`).
    pub fn literal_prefix(&self) -> Option<&str> {
        if !matches!(self.op, MatchOp::RegexMatch) {
            return None;
        }
        let end = self
            .value
            .find(|c: char| "\\.+*?()[]{}^$|".contains(c))
            .unwrap_or(self.value.len());
        if end == 0 || self.value.contains('|') {
            None
        } else {
            Some(&self.value[..end])
        }
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_regexes_are_shared_and_the_cache_stays_bounded() {
        let a = Matcher::new(MatchOp::RegexMatch, "status", "5..").unwrap();
        let b = Matcher::new(MatchOp::RegexNoMatch, "code", "5..").unwrap();
        assert!(a.matches("503") && !a.matches("5030") && !a.matches("200"));
        assert!(!b.matches("500") && b.matches("200"));
        // A bad pattern fails every time (errors are not cached).
        for _ in 0..2 {
            let e = Matcher::new(MatchOp::RegexMatch, "x", "a(").err().unwrap();
            assert!(e.to_string().contains("a("), "{e}");
        }
        for i in 0..REGEX_CACHE_ENTRIES + 10 {
            let m = Matcher::new(MatchOp::RegexMatch, "x", format!("v{i}|w")).unwrap();
            assert!(m.matches(&format!("v{i}")) && m.matches("w") && !m.matches("v"));
        }
        let len = REGEX_CACHE.lock().unwrap().len();
        assert!(len <= REGEX_CACHE_ENTRIES, "{len}");
        // Long patterns compile but are not kept.
        let long = "a".repeat(REGEX_CACHE_MAX_LEN + 1);
        let m = Matcher::new(MatchOp::RegexMatch, "x", long.clone()).unwrap();
        assert!(m.matches(&long));
        assert!(!REGEX_CACHE.lock().unwrap().contains_key(&long));
    }

    #[test]
    fn regex_is_anchored_and_dotall() {
        let m = Matcher::new(MatchOp::RegexMatch, "a", "fo+").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("foox"));
        let m = Matcher::new(MatchOp::RegexMatch, "a", ".*").unwrap();
        assert!(m.matches("a\nb"));
        assert!(m.matches_empty());
    }

    #[test]
    fn negative_ops() {
        let m = Matcher::new(MatchOp::RegexNoMatch, "a", "5..").unwrap();
        assert!(m.matches("200"));
        assert!(!m.matches("500"));
        assert!(Matcher::new(MatchOp::NotEqual, "a", "x")
            .unwrap()
            .matches(""));
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(Matcher::new(MatchOp::RegexMatch, "a", "(").is_err());
    }

    #[test]
    fn fast_paths() {
        let m = Matcher::new(MatchOp::RegexMatch, "a", "x|y|z").unwrap();
        assert_eq!(m.set_matches().unwrap(), vec!["x", "y", "z"]);
        let m = Matcher::new(MatchOp::RegexMatch, "a", "foo.*").unwrap();
        assert_eq!(m.literal_prefix(), Some("foo"));
        assert!(m.set_matches().is_none());
    }
}
