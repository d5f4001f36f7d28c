//! A regex matcher with Prometheus' `FastRegexMatcher` fast paths (model/labels/regexp.go):
//! alternations of literals become a set of values to look up, `.*` and `.+` need no regex,
//! and literal prefix, suffix and inner literals are checked before the regex runs (when the
//! pattern is only literals separated by `.*`, those checks decide alone).
//!
//! Semantics stay exactly those of the matcher's compiled regex `^(?s:<pattern>)$`: the
//! analysis parses that same string, and every shortcut either is exact or only rejects
//! values the regex would reject too.

use regex_syntax::hir::{literal::Extractor, Class, Hir, HirKind, Look};

/// The most values an alternation may expand to before the matcher scans instead
/// (Prometheus' `maxSetMatches`).
const MAX_SET: usize = 256;

/// What a regex accepts, as far as the analysis can tell without running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `.*`: every value.
    Any,
    /// `.+`: every non-empty value.
    NonEmpty,
    /// Exactly these values (sorted, deduplicated; may contain `""`).
    Set(Vec<String>),
    /// Values that start with `prefix`, end with `suffix` and hold `contains` in order in
    /// between; when `exact`, those checks decide alone, else the regex has the last word.
    Literals {
        prefix: String,
        suffix: String,
        contains: Vec<String>,
        exact: bool,
    },
    /// Nothing known: only the regex decides.
    Opaque,
}

/// A compiled regex matcher with its fast paths.
pub(crate) struct FastRegex<'a> {
    re: &'a regex::Regex,
    pub(crate) shape: Shape,
}

impl<'a> FastRegex<'a> {
    /// Analyses `pattern` (as compiled into `re`, which must be `^(?s:<pattern>)$`).
    pub(crate) fn new(pattern: &str, re: &'a regex::Regex) -> Self {
        FastRegex {
            re,
            shape: analyse(pattern).unwrap_or(Shape::Opaque),
        }
    }

    /// The literal prefix every accepted value starts with (`""` when none is known).
    pub(crate) fn prefix(&self) -> &str {
        match &self.shape {
            Shape::Literals { prefix, .. } => prefix,
            _ => "",
        }
    }

    /// Whether the (fully anchored) regex accepts `v`.
    ///
    /// The literal checks compare bytes: `str::ends_with` and `str::find` with a pattern
    /// known only at run time set up a substring searcher on every call, which cost more
    /// than the regex they are meant to spare (measured: 80–150 ns a value).
    pub(crate) fn matches(&self, v: &str) -> bool {
        match &self.shape {
            Shape::Any => true,
            Shape::NonEmpty => !v.is_empty(),
            Shape::Set(set) => {
                if set.len() <= SMALL_SET {
                    set.iter()
                        .any(|s| s.len() == v.len() && s.as_bytes() == v.as_bytes())
                } else {
                    set.binary_search_by(|s| s.as_str().cmp(v)).is_ok()
                }
            }
            Shape::Literals {
                prefix,
                suffix,
                contains,
                exact,
            } => {
                let b = v.as_bytes();
                // Empty literals are skipped, not compared: comparing an empty slice went
                // through `memcmp` and cost ≈ 75 ns a value (measured).
                if b.len() < prefix.len() + suffix.len()
                    || (!prefix.is_empty() && !b.starts_with(prefix.as_bytes()))
                    || (!suffix.is_empty() && !b.ends_with(suffix.as_bytes()))
                {
                    return false;
                }
                // Inner literals in order, leftmost each: if they fit at all they fit so.
                let mut rest = &b[prefix.len()..b.len() - suffix.len()];
                for c in contains {
                    match find(rest, c.as_bytes()) {
                        Some(i) => rest = &rest[i + c.len()..],
                        None => return false,
                    }
                }
                *exact || self.re.is_match(v)
            }
            Shape::Opaque => self.re.is_match(v),
        }
    }
}

/// Sets up to this size are compared one by one (lengths first); larger ones are searched.
const SMALL_SET: usize = 16;

/// The first position of `needle` in `hay`: a scan for its first byte, then a comparison.
/// Label values are short, so this beats setting up a substring searcher per value.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last_start {
        let p = hay[i..=last_start].iter().position(|&c| c == first)?;
        i += p;
        if &hay[i + 1..i + needle.len()] == rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Parses `^(?s:<pattern>)$` exactly as the matcher compiled it and works out its shape.
fn analyse(pattern: &str) -> Option<Shape> {
    let full = format!("^(?s:{pattern})$");
    let hir = regex_syntax::Parser::new().parse(&full).ok()?;
    // The parser flattens concatenations, so the anchors are the outer concatenation's
    // first and last items; a pattern such as `a)|(b` escapes the group and is left alone.
    let HirKind::Concat(items) = hir.kind() else {
        return None;
    };
    let (first, rest) = items.split_first()?;
    let (last, body) = rest.split_last()?;
    if !is_look(first, Look::Start) || !is_look(last, Look::End) {
        return None;
    }
    let mut body: Vec<&Hir> = body.iter().collect();
    // A single capture group around everything changes nothing.
    while body.len() == 1 {
        match body[0].kind() {
            HirKind::Capture(c) => body = vec![&*c.sub],
            HirKind::Concat(items) => body = items.iter().collect(),
            _ => break,
        }
    }
    if body.is_empty() {
        return Some(Shape::Set(vec![String::new()]));
    }
    if body.len() == 1 {
        match dot_repeat(body[0]) {
            Some(0) => return Some(Shape::Any),
            Some(1) => return Some(Shape::NonEmpty),
            _ => {}
        }
    }
    if let Some(set) = finite_set(&body) {
        return Some(Shape::Set(set));
    }
    literals(&body)
}

fn is_look(h: &Hir, want: Look) -> bool {
    matches!(h.kind(), HirKind::Look(l) if *l == want)
}

/// `Some(min)` when `h` is `.*` (0) or `.+` (1), the dot matching any character.
fn dot_repeat(h: &Hir) -> Option<u32> {
    let HirKind::Repetition(r) = h.kind() else {
        return None;
    };
    if r.max.is_some() || r.min > 1 {
        return None;
    }
    match r.sub.kind() {
        HirKind::Class(Class::Unicode(c))
            if c.ranges().len() == 1
                && c.ranges()[0].start() == '\0'
                && c.ranges()[0].end() == char::MAX =>
        {
            Some(r.min)
        }
        _ => None,
    }
}

/// Every value the body accepts, when that is a small finite set of exact literals.
fn finite_set(body: &[&Hir]) -> Option<Vec<String>> {
    let hir = Hir::concat(body.iter().map(|h| (*h).clone()).collect());
    // The extractor reads look-around assertions as the empty string, which is not exact.
    if !hir.properties().look_set().is_empty() {
        return None;
    }
    let seq = Extractor::new().extract(&hir);
    let lits = seq.literals()?;
    if lits.len() > MAX_SET || lits.iter().any(|l| !l.is_exact()) {
        return None;
    }
    let mut out = Vec::with_capacity(lits.len());
    for l in lits {
        out.push(String::from_utf8(l.as_bytes().to_vec()).ok()?);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Prefix, suffix and inner literals of a concatenation, and whether they decide alone
/// (only literals separated by `.*`).
fn literals(body: &[&Hir]) -> Option<Shape> {
    let lit = |h: &Hir| match h.kind() {
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok().map(str::to_string),
        _ => None,
    };
    let mut items = body;
    let mut prefix = String::new();
    let mut suffix = String::new();
    if let Some((first, rest)) = items.split_first() {
        if let Some(p) = lit(first) {
            prefix = p;
            items = rest;
        }
    }
    if let Some((last, rest)) = items.split_last() {
        if let Some(s) = lit(last) {
            suffix = s;
            items = rest;
        }
    }
    let mut contains = Vec::new();
    let mut exact = true;
    // Whether the previous item consumed was a `.*` (a literal may follow it exactly).
    let mut prev_star = prefix.is_empty();
    for h in items {
        if let Some(c) = lit(h) {
            if !prev_star {
                exact = false;
            }
            contains.push(c);
            prev_star = false;
        } else if dot_repeat(h) == Some(0) {
            prev_star = true;
        } else {
            exact = false;
            prev_star = false;
        }
    }
    // A suffix needs a `.*` (or nothing at all) before it to be decided by `ends_with`.
    if !suffix.is_empty() && !prev_star {
        exact = false;
    }
    // Literals alone (`foo` with a suffix only) would be a set; `.*` alone is `Any`. Between
    // a prefix and a suffix there must be a `.*` for the checks to be exact.
    if items.is_empty() && !prefix.is_empty() && !suffix.is_empty() {
        exact = false;
    }
    if prefix.is_empty() && suffix.is_empty() && contains.is_empty() {
        return None;
    }
    Some(Shape::Literals {
        prefix,
        suffix,
        contains,
        exact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> regex::Regex {
        regex::Regex::new(&format!("^(?s:{p})$")).unwrap()
    }

    #[test]
    fn find_bytes() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..5000 {
            let h: Vec<u8> = (0..rng.usize(0..12))
                .map(|_| b"ab-"[rng.usize(..3)])
                .collect();
            let n: Vec<u8> = (0..rng.usize(0..4))
                .map(|_| b"ab-"[rng.usize(..3)])
                .collect();
            let want = (0..=h.len()).find(|&i| h[i..].starts_with(&n));
            assert_eq!(find(&h, &n), want, "{h:?} {n:?}");
        }
    }

    #[test]
    fn shapes() {
        let shape = |p: &str| analyse(p).unwrap_or(Shape::Opaque);
        assert_eq!(shape(".*"), Shape::Any);
        assert_eq!(shape("(.*)"), Shape::Any);
        assert_eq!(shape(".+"), Shape::NonEmpty);
        assert_eq!(
            shape("a|b|c"),
            Shape::Set(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            shape("job_(1|2)"),
            Shape::Set(vec!["job_1".into(), "job_2".into()])
        );
        assert_eq!(shape("api|"), Shape::Set(vec!["".into(), "api".into()]));
        assert_eq!(shape(""), Shape::Set(vec!["".into()]));
        assert_eq!(
            shape("foo.*"),
            Shape::Literals {
                prefix: "foo".into(),
                suffix: String::new(),
                contains: vec![],
                exact: true
            }
        );
        assert_eq!(
            shape(".*-1[0-9]3:.*"),
            Shape::Literals {
                prefix: String::new(),
                suffix: String::new(),
                contains: vec!["-1".into(), "3:".into()],
                exact: false
            }
        );
        assert_eq!(shape("a)|(b"), Shape::Opaque);
    }

    /// Patterns built from pieces that exercise every shape, matched against random values
    /// over a small alphabet: the fast path must agree with the plain regex every time.
    #[test]
    fn fast_paths_agree_with_the_regex() {
        let pieces = [
            "a", "b", "ab", "ba", ".*", ".+", ".", "[ab]", "(a|b)", "a?", "b*", "|", "x", "\\n",
            "(?i)a", "^", "$", "\\b", "a{2}", ".*?", "(a|.*)", "[^a]", "é",
        ];
        let alphabet = ['a', 'b', 'x', '\n', 'A', 'é'];
        let mut rng = fastrand::Rng::with_seed(21);
        for _ in 0..3000 {
            let n = rng.usize(1..5);
            let pattern: String = (0..n).map(|_| pieces[rng.usize(..pieces.len())]).collect();
            let Ok(r) = regex::Regex::new(&format!("^(?s:{pattern})$")) else {
                continue;
            };
            let fast = FastRegex::new(&pattern, &r);
            for _ in 0..40 {
                let len = rng.usize(0..7);
                let v: String = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                assert_eq!(
                    fast.matches(&v),
                    r.is_match(&v),
                    "pattern {pattern:?} ({:?}) value {v:?}",
                    fast.shape
                );
            }
            // Every member of a set must match, or the lookup would return extra series.
            if let Shape::Set(set) = &fast.shape {
                for v in set {
                    assert!(r.is_match(v), "pattern {pattern:?} set member {v:?}");
                }
            }
        }
        let _ = re("a");
    }
}
