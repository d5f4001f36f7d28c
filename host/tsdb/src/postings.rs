//! Postings: sorted lists of series ids per label pair, their set algebra, and the resolution
//! of label matchers into a postings list (Prometheus' `PostingsForMatchers`).
//!
//! Both the head (in memory) and persisted partitions (sled) implement [`PostingsSource`], so
//! the matcher logic and its regex fast paths exist once.

use sightline_model::{MatchOp, Matcher};

use crate::error::Result;

/// Sorted, deduplicated series ids.
pub(crate) type Postings = Vec<u64>;

/// Where postings come from.
pub(crate) trait PostingsSource {
    /// Ids of series with `name="value"`.
    fn postings(&self, name: &str, value: &str) -> Result<Postings>;
    /// Values of `name` (sorted) that start with `prefix`.
    fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>>;
    /// Every series id.
    fn all(&self) -> Result<Postings>;
}

/// `a ∩ b`.
pub(crate) fn intersect(a: &[u64], b: &[u64]) -> Postings {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    // Galloping through the larger list when the sizes differ a lot.
    if small.len() * 16 < large.len() {
        let mut lo = 0;
        for &x in small {
            match large[lo..].binary_search(&x) {
                Ok(i) => {
                    out.push(x);
                    lo += i + 1;
                }
                Err(i) => lo += i,
            }
            if lo >= large.len() {
                break;
            }
        }
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// `a ∪ b`.
pub(crate) fn union(a: &[u64], b: &[u64]) -> Postings {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Union of many lists.
pub(crate) fn union_all(lists: Vec<Postings>) -> Postings {
    let mut lists = lists;
    while lists.len() > 1 {
        let mut next = Vec::with_capacity(lists.len() / 2 + 1);
        let mut it = lists.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(union(&a, &b)),
                None => next.push(a),
            }
        }
        lists = next;
    }
    lists.pop().unwrap_or_default()
}

/// `a \ b`.
pub(crate) fn subtract(a: &[u64], b: &[u64]) -> Postings {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

/// Whether a regex matcher is `.*` (matches everything) or `.+` (every non-empty value).
fn is_dot_star(m: &Matcher) -> bool {
    m.value == ".*"
}

fn is_dot_plus(m: &Matcher) -> bool {
    m.value == ".+"
}

/// Postings of series whose `m.name` value (non-empty) satisfies `m` used positively.
/// `m` is an `=`/`=~` matcher here, or the positive form of a negative one.
fn postings_for_positive<S: PostingsSource + ?Sized>(
    src: &S,
    name: &str,
    op: MatchOp,
    m: &Matcher,
) -> Result<Postings> {
    match op {
        MatchOp::Equal => src.postings(name, &m.value),
        _ => {
            if is_dot_plus(m) || is_dot_star(m) {
                let vals = src.values_with_prefix(name, "")?;
                return union_values(src, name, &vals);
            }
            if let Some(set) = m.set_matches() {
                let mut vals: Vec<String> = set.into_iter().filter(|v| !v.is_empty()).collect();
                vals.sort();
                vals.dedup();
                return union_values(src, name, &vals);
            }
            let prefix = m.literal_prefix().unwrap_or("");
            let vals: Vec<String> = src
                .values_with_prefix(name, prefix)?
                .into_iter()
                .filter(|v| m.matches(v))
                .collect();
            union_values(src, name, &vals)
        }
    }
}

fn union_values<S: PostingsSource + ?Sized>(
    src: &S,
    name: &str,
    vals: &[String],
) -> Result<Postings> {
    let mut lists = Vec::with_capacity(vals.len());
    for v in vals {
        lists.push(src.postings(name, v)?);
    }
    Ok(union_all(lists))
}

/// Resolves `matchers` (ANDed) into sorted series ids.
///
/// Like Prometheus: matchers that match the empty string also select series lacking the
/// label; negative matchers are subtracted from the positive set (or from all series when no
/// positive matcher selects anything on its own).
pub(crate) fn select<S: PostingsSource + ?Sized>(
    src: &S,
    matchers: &[Matcher],
) -> Result<Postings> {
    let mut its: Vec<Postings> = Vec::new();
    let mut nots: Vec<Postings> = Vec::new();
    // A matcher that is `.*` matches everything and is dropped.
    for m in matchers {
        if m.op == MatchOp::RegexMatch && is_dot_star(m) {
            continue;
        }
        let matches_empty = m.matches_empty();
        match (m.op, matches_empty) {
            // `l=""`, `l=~"|x"`...: series without the label, or with a matching value.
            (MatchOp::Equal | MatchOp::RegexMatch, true) => {
                // Everything minus series whose value does NOT match.
                let vals = src.values_with_prefix(&m.name, "")?;
                let bad: Vec<String> = vals.into_iter().filter(|v| !m.matches(v)).collect();
                nots.push(union_values(src, &m.name, &bad)?);
            }
            (MatchOp::Equal | MatchOp::RegexMatch, false) => {
                its.push(postings_for_positive(src, &m.name, m.op, m)?);
            }
            // `l!="x"`, `l!~"x"` where "" is accepted: subtract series whose value matches the
            // positive form.
            (MatchOp::NotEqual, true) => nots.push(src.postings(&m.name, &m.value)?),
            (MatchOp::RegexNoMatch, true) => {
                if is_dot_star(m) {
                    return Ok(Vec::new());
                }
                if is_dot_plus(m) {
                    let vals = src.values_with_prefix(&m.name, "")?;
                    nots.push(union_values(src, &m.name, &vals)?);
                    continue;
                }
                let vals: Vec<String> = match m.set_matches_negated() {
                    Some(set) => set,
                    None => {
                        let prefix = m.negated_literal_prefix().unwrap_or_default();
                        src.values_with_prefix(&m.name, &prefix)?
                            .into_iter()
                            .filter(|v| !m.matches(v))
                            .collect()
                    }
                };
                nots.push(union_values(src, &m.name, &vals)?);
            }
            // `l!=""`, `l!~""`, `l!~"|x"`: series that have the label with an accepted value.
            (MatchOp::NotEqual | MatchOp::RegexNoMatch, false) => {
                let vals: Vec<String> = src
                    .values_with_prefix(&m.name, "")?
                    .into_iter()
                    .filter(|v| m.matches(v))
                    .collect();
                its.push(union_values(src, &m.name, &vals)?);
            }
        }
    }
    let mut base = if its.is_empty() {
        src.all()?
    } else {
        its.sort_by_key(|p| p.len());
        let mut it = its.into_iter();
        let mut acc = it.next().unwrap_or_default();
        for p in it {
            if acc.is_empty() {
                break;
            }
            acc = intersect(&acc, &p);
        }
        acc
    };
    for n in nots {
        if base.is_empty() {
            break;
        }
        base = subtract(&base, &n);
    }
    Ok(base)
}

/// Helpers for negative regex matchers: the fast paths of the positive form.
trait NegatedFastPaths {
    fn set_matches_negated(&self) -> Option<Vec<String>>;
    fn negated_literal_prefix(&self) -> Option<String>;
}

impl NegatedFastPaths for Matcher {
    /// For `l!~"a|b"`, the literal values whose series must be removed.
    fn set_matches_negated(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::RegexNoMatch {
            return None;
        }
        let pos = Matcher::new(MatchOp::RegexMatch, self.name.clone(), self.value.clone()).ok()?;
        let mut set: Vec<String> = pos
            .set_matches()?
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect();
        set.sort();
        set.dedup();
        Some(set)
    }

    /// For `l!~"foo.*"`, the prefix every value to remove starts with.
    fn negated_literal_prefix(&self) -> Option<String> {
        let pos = Matcher::new(MatchOp::RegexMatch, self.name.clone(), self.value.clone()).ok()?;
        pos.literal_prefix().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A brute-force source over explicit label sets.
    struct Brute(Vec<Vec<(&'static str, &'static str)>>);

    impl PostingsSource for Brute {
        fn postings(&self, name: &str, value: &str) -> Result<Postings> {
            Ok(self
                .0
                .iter()
                .enumerate()
                .filter(|(_, ls)| ls.iter().any(|(n, v)| *n == name && *v == value))
                .map(|(i, _)| i as u64)
                .collect())
        }
        fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>> {
            let mut m = BTreeMap::new();
            for ls in &self.0 {
                for (n, v) in ls {
                    if *n == name && v.starts_with(prefix) {
                        m.insert(v.to_string(), ());
                    }
                }
            }
            Ok(m.into_keys().collect())
        }
        fn all(&self) -> Result<Postings> {
            Ok((0..self.0.len() as u64).collect())
        }
    }

    type AlgebraCase<'a> = (&'a [u64], &'a [u64], &'a [u64], &'a [u64], &'a [u64]);

    #[test]
    fn set_algebra() {
        let cases: &[AlgebraCase] = &[
            (&[], &[], &[], &[], &[]),
            (&[1, 2, 3], &[2, 3, 4], &[2, 3], &[1, 2, 3, 4], &[1]),
            (&[1, 5, 9], &[], &[], &[1, 5, 9], &[1, 5, 9]),
            (
                &[7],
                &[
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                    23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
                    43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
                    63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82,
                    83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101,
                    102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117,
                    118, 119, 120,
                ],
                &[7],
                &[],
                &[],
            ),
        ];
        for (a, b, i, _u, s) in cases {
            assert_eq!(&intersect(a, b), i);
            assert_eq!(&intersect(b, a), i);
            assert_eq!(&subtract(a, b), s);
        }
        assert_eq!(union(&[1, 2, 3], &[2, 3, 4]), vec![1, 2, 3, 4]);
        assert_eq!(
            union_all(vec![vec![5], vec![1, 3], vec![2, 3], vec![]]),
            vec![1, 2, 3, 5]
        );
    }

    /// Every matcher in the table is resolved both through postings and by brute force over
    /// the label sets; the two must agree.
    #[test]
    fn matchers_agree_with_brute_force() {
        let src = Brute(vec![
            vec![("__name__", "up"), ("job", "api"), ("instance", "a:1")],
            vec![("__name__", "up"), ("job", "db"), ("instance", "b:1")],
            vec![
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "200"),
            ],
            vec![
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "500"),
            ],
            vec![
                ("__name__", "http_requests_total"),
                ("job", "web"),
                ("code", "404"),
            ],
            vec![("__name__", "foo"), ("env", "prod")],
            vec![("__name__", "foobar"), ("job", "api2")],
            vec![("__name__", "fo\nx")],
        ]);
        let table: &[&[(MatchOp, &str, &str)]] = &[
            &[(MatchOp::Equal, "__name__", "up")],
            &[(MatchOp::Equal, "job", "")],
            &[(MatchOp::NotEqual, "job", "")],
            &[(MatchOp::NotEqual, "job", "api")],
            &[(MatchOp::RegexMatch, "job", "api|db")],
            &[(MatchOp::RegexMatch, "job", "api|")],
            &[(MatchOp::RegexMatch, "job", "api.*")],
            &[(MatchOp::RegexMatch, "job", "ap.+")],
            &[(MatchOp::RegexMatch, "job", ".*")],
            &[(MatchOp::RegexMatch, "job", ".+")],
            &[(MatchOp::RegexMatch, "__name__", "fo.*")],
            &[(MatchOp::RegexMatch, "__name__", "fo.x")],
            &[(MatchOp::RegexNoMatch, "job", "api|db")],
            &[(MatchOp::RegexNoMatch, "job", ".*")],
            &[(MatchOp::RegexNoMatch, "job", ".+")],
            &[(MatchOp::RegexNoMatch, "job", "")],
            &[(MatchOp::RegexNoMatch, "job", "a.*")],
            &[(MatchOp::RegexNoMatch, "code", "5..|")],
            &[
                (MatchOp::Equal, "__name__", "http_requests_total"),
                (MatchOp::RegexNoMatch, "code", "5.."),
            ],
            &[
                (MatchOp::Equal, "__name__", "http_requests_total"),
                (MatchOp::NotEqual, "job", "web"),
                (MatchOp::RegexMatch, "code", "2..|4.."),
            ],
            &[
                (MatchOp::RegexMatch, "nonexistent", ".*"),
                (MatchOp::Equal, "job", "api"),
            ],
            &[(MatchOp::RegexMatch, "nonexistent", ".+")],
            &[(MatchOp::Equal, "nonexistent", "")],
            &[(MatchOp::RegexMatch, "job", "(api|db)")],
            &[(MatchOp::RegexMatch, "instance", "[ab]:1")],
        ];
        for case in table {
            let ms: Vec<Matcher> = case
                .iter()
                .map(|(op, n, v)| Matcher::new(*op, *n, *v).unwrap())
                .collect();
            let got = select(&src, &ms).unwrap();
            let want: Vec<u64> = src
                .0
                .iter()
                .enumerate()
                .filter(|(_, ls)| {
                    ms.iter().all(|m| {
                        m.matches(
                            ls.iter()
                                .find(|(n, _)| *n == m.name)
                                .map(|(_, v)| *v)
                                .unwrap_or(""),
                        )
                    })
                })
                .map(|(i, _)| i as u64)
                .collect();
            assert_eq!(got, want, "matchers {ms:?}");
        }
    }
}
