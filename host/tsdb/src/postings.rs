//! Postings: sorted lists of series ids per label pair, their set algebra, and the resolution
//! of label matchers into a postings list (Prometheus' `PostingsForMatchers`).
//!
//! Both the head (in memory) and persisted partitions implement [`PostingsSource`], so the
//! matcher logic and its regex fast paths exist once. Sources lend their lists (`Cow`): the
//! head's lists are intersected in place, and only the result is copied out.

mod fastregex;

use std::borrow::Cow;

use sightline_model::{MatchOp, Matcher};

use crate::error::Result;
use fastregex::{FastRegex, Shape};

/// Sorted, deduplicated series ids.
pub(crate) type Postings = Vec<u64>;

/// A postings list lent by a source (the head) or decoded for the caller (partitions).
pub(crate) type List<'a> = Cow<'a, [u64]>;

/// Where postings come from.
pub(crate) trait PostingsSource {
    /// Ids of series with `name="value"`.
    fn postings(&self, name: &str, value: &str) -> Result<List<'_>>;
    /// Values of `name` (sorted) that start with `prefix`.
    fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>>;
    /// The lists of the values of `name` starting with `prefix` that `accept` takes. The
    /// default looks each accepted value up; a source that can walk its values in place
    /// (the head) avoids copying them.
    fn matching_postings(
        &self,
        name: &str,
        prefix: &str,
        accept: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<List<'_>>> {
        let mut out = Vec::new();
        for v in self.values_with_prefix(name, prefix)? {
            if accept(&v) {
                out.push(self.postings(name, &v)?);
            }
        }
        Ok(out)
    }
    /// Every series id.
    fn all(&self) -> Result<List<'_>>;
}

/// The first index at or after `from` whose id is `>= x` (`list.len()` when none): an
/// exponential probe then a binary search, so long runs are skipped, not walked.
fn seek(list: &[u64], from: usize, x: u64) -> usize {
    let mut lo = from;
    let mut step = 1;
    let mut hi = from;
    while hi < list.len() && list[hi] < x {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    let hi = hi.min(list.len());
    lo + list[lo..hi].partition_point(|&y| y < x)
}

/// `a ∩ b`: walks the smaller list and seeks in the larger.
pub(crate) fn intersect(a: &[u64], b: &[u64]) -> Postings {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    let mut j = 0;
    for &x in small {
        j = seek(large, j, x);
        match large.get(j) {
            Some(&y) if y == x => {
                out.push(x);
                j += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    out
}

/// Sets `mark[i] = to` for every `acc[i]` that is in `list`, walking the smaller of the two
/// and seeking in the other.
fn mark(acc: &[u64], list: &[u64], mark: &mut [bool], to: bool) {
    if list.len() < acc.len() {
        let mut i = 0;
        for &x in list {
            i = seek(acc, i, x);
            match acc.get(i) {
                Some(&y) if y == x => {
                    mark[i] = to;
                    i += 1;
                }
                Some(_) => {}
                None => break,
            }
        }
    } else {
        let mut j = 0;
        for (i, &x) in acc.iter().enumerate() {
            j = seek(list, j, x);
            match list.get(j) {
                Some(&y) if y == x => {
                    mark[i] = to;
                    j += 1;
                }
                Some(_) => {}
                None => break,
            }
        }
    }
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

/// Union of many lists, merged pairwise (each id is copied `log2(lists)` times).
pub(crate) fn union_all(lists: Vec<List<'_>>) -> Postings {
    let mut lists = lists;
    while lists.len() > 1 {
        let mut next = Vec::with_capacity(lists.len() / 2 + 1);
        let mut it = lists.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(Cow::Owned(union(&a, &b))),
                None => next.push(a),
            }
        }
        lists = next;
    }
    lists.pop().map(Cow::into_owned).unwrap_or_default()
}

/// `a \ b`: walks `a` and seeks in `b`.
#[cfg(test)]
pub(crate) fn subtract(a: &[u64], b: &[u64]) -> Postings {
    let mut keep = vec![true; a.len()];
    mark(a, b, &mut keep, false);
    a.iter()
        .zip(keep)
        .filter_map(|(&x, k)| k.then_some(x))
        .collect()
}

/// Which values of a label a matcher (or its complement) selects.
enum Values<'m> {
    /// One value.
    Eq(&'m str),
    /// Every value the label has.
    All,
    /// Values the regex accepts (`negate`: rejects).
    Re(&'m FastRegex<'m>, bool),
}

/// One matcher, resolved to the label values whose series it keeps or removes.
struct Plan<'m> {
    name: &'m str,
    values: Values<'m>,
    /// Series holding one of the values are removed (rather than kept).
    negative: bool,
}

impl Plan<'_> {
    /// Cheap plans are lookups; the others walk the label's values.
    fn cheap(&self) -> bool {
        match &self.values {
            Values::Eq(_) => true,
            Values::All => false,
            Values::Re(r, negate) => !negate && matches!(r.shape, Shape::Set(_)),
        }
    }

    /// The lists whose union the plan selects.
    fn lists<'s, S: PostingsSource + ?Sized>(&self, src: &'s S) -> Result<Vec<List<'s>>> {
        match &self.values {
            Values::Eq(v) => Ok(vec![src.postings(self.name, v)?]),
            Values::All => src.matching_postings(self.name, "", &mut |_| true),
            Values::Re(r, false) => match &r.shape {
                Shape::Set(set) => {
                    let mut out = Vec::with_capacity(set.len());
                    // Series never hold an empty value: "" selects nothing by lookup.
                    for v in set.iter().filter(|v| !v.is_empty()) {
                        let l = src.postings(self.name, v)?;
                        if !l.is_empty() {
                            out.push(l);
                        }
                    }
                    Ok(out)
                }
                _ => src.matching_postings(self.name, r.prefix(), &mut |v| r.matches(v)),
            },
            Values::Re(r, true) => src.matching_postings(self.name, "", &mut |v| !r.matches(v)),
        }
    }
}

/// Plans `m`; `None` when it keeps every series (`=~".*"`).
fn plan<'m>(m: &'m Matcher, re: Option<&'m FastRegex<'m>>) -> Option<Plan<'m>> {
    let (values, negative) = match (m.op, re) {
        // `l=""` keeps series without the label: remove those that have it.
        (MatchOp::Equal, _) if m.value.is_empty() => (Values::All, true),
        (MatchOp::Equal, _) => (Values::Eq(&m.value), false),
        (MatchOp::NotEqual, _) if m.value.is_empty() => (Values::All, false),
        (MatchOp::NotEqual, _) => (Values::Eq(&m.value), true),
        (MatchOp::RegexMatch | MatchOp::RegexNoMatch, Some(r)) => {
            let positive = m.op == MatchOp::RegexMatch;
            // A matcher accepting "" also keeps series lacking the label, so it is resolved
            // as the removal of the series whose value it rejects.
            let accepts_empty = r.matches("") == positive;
            match (&r.shape, positive, accepts_empty) {
                (Shape::Any, true, _) => return None,
                (Shape::NonEmpty, true, _) | (Shape::Any, false, _) => (Values::All, !positive),
                (Shape::NonEmpty, false, _) => (Values::All, true),
                (_, true, false) => (Values::Re(r, false), false),
                (_, true, true) => (Values::Re(r, true), true),
                (_, false, true) => (Values::Re(r, false), true),
                (_, false, false) => (Values::Re(r, true), false),
            }
        }
        // A regex matcher always carries its regex.
        (MatchOp::RegexMatch | MatchOp::RegexNoMatch, None) => (Values::All, false),
    };
    Some(Plan {
        name: &m.name,
        values,
        negative,
    })
}

/// Intersects `acc` with the union of `lists` without building the union: each list marks
/// the ids of `acc` it holds.
fn keep_in_union(acc: &[u64], lists: &[List<'_>]) -> Postings {
    if let [one] = lists {
        return intersect(acc, one);
    }
    let mut keep = vec![false; acc.len()];
    for l in lists {
        mark(acc, l, &mut keep, true);
    }
    acc.iter()
        .zip(keep)
        .filter_map(|(&x, k)| k.then_some(x))
        .collect()
}

/// Counts the `values` the regex matcher `m` accepts through the fast paths, `rounds`
/// times over with one analysis (for benches: `rounds == 0` times the analysis alone).
pub(crate) fn fast_regex_count(m: &Matcher, values: &[&str], rounds: usize) -> usize {
    let Some(re) = m.regex() else {
        return 0;
    };
    let r = FastRegex::new(&m.value, re);
    let mut n = 0;
    for _ in 0..rounds {
        n += values.iter().filter(|v| r.matches(v)).count();
    }
    n
}

/// Resolves `matchers` (ANDed) into sorted series ids.
///
/// Like Prometheus: matchers that match the empty string also select series lacking the
/// label; negative matchers are subtracted from the positive set (or from all series when no
/// positive matcher selects anything on its own). Lookups run first and the smallest list
/// leads; matchers that walk a label's values run only while the result is non-empty; lists
/// are intersected by seeking and only the result is copied.
pub(crate) fn select<S: PostingsSource + ?Sized>(
    src: &S,
    matchers: &[Matcher],
) -> Result<Postings> {
    // The commonest selector, a lone `__name__="…"`, needs no planning.
    if let [m] = matchers {
        if m.op == MatchOp::Equal && !m.value.is_empty() {
            return Ok(src.postings(&m.name, &m.value)?.into_owned());
        }
    }
    let regexes: Vec<Option<FastRegex<'_>>> = matchers
        .iter()
        .map(|m| m.regex().map(|re| FastRegex::new(&m.value, re)))
        .collect();
    let mut plans = Vec::with_capacity(matchers.len());
    for (m, re) in matchers.iter().zip(&regexes) {
        if let Some(p) = plan(m, re.as_ref()) {
            // `l!~".*"` and the like keep nothing at all.
            if p.negative && matches!(p.values, Values::All) && re.is_some() {
                if let Some(r) = re {
                    if r.shape == Shape::Any {
                        return Ok(Vec::new());
                    }
                }
            }
            plans.push(p);
        }
    }
    // Positive lookups first, smallest first; then positive walks; then removals.
    let mut cheap: Vec<Vec<List<'_>>> = Vec::new();
    for p in plans.iter().filter(|p| !p.negative && p.cheap()) {
        let lists = p.lists(src)?;
        if lists.is_empty() {
            return Ok(Vec::new());
        }
        cheap.push(lists);
    }
    cheap.sort_by_key(|ls| ls.iter().map(|l| l.len()).sum::<usize>());
    let mut acc: Option<List<'_>> = None;
    for lists in cheap {
        acc = Some(match acc {
            None if lists.len() == 1 => lists.into_iter().next().unwrap_or_default(),
            None => Cow::Owned(union_all(lists)),
            Some(a) => Cow::Owned(keep_in_union(&a, &lists)),
        });
        if acc.as_ref().is_some_and(|a| a.is_empty()) {
            return Ok(Vec::new());
        }
    }
    for p in plans.iter().filter(|p| !p.negative && !p.cheap()) {
        let lists = p.lists(src)?;
        acc = Some(match acc {
            None => Cow::Owned(union_all(lists)),
            Some(a) => Cow::Owned(keep_in_union(&a, &lists)),
        });
        if acc.as_ref().is_some_and(|a| a.is_empty()) {
            return Ok(Vec::new());
        }
    }
    let acc = match acc {
        Some(a) => a,
        None => src.all()?,
    };
    let mut keep: Option<Vec<bool>> = None;
    for p in plans.iter().filter(|p| p.negative) {
        for l in p.lists(src)? {
            mark(
                &acc,
                &l,
                keep.get_or_insert_with(|| vec![true; acc.len()]),
                false,
            );
        }
    }
    Ok(match keep {
        None => acc.into_owned(),
        Some(keep) => acc
            .iter()
            .zip(keep)
            .filter_map(|(&x, k)| k.then_some(x))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A brute-force source over explicit label sets.
    struct Brute(Vec<Vec<(&'static str, &'static str)>>);

    impl Brute {
        /// Ids (positions) of the label sets every matcher accepts, checked one by one.
        fn matching(&self, ms: &[Matcher]) -> Vec<u64> {
            self.0
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
                .collect()
        }
    }

    impl PostingsSource for Brute {
        fn postings(&self, name: &str, value: &str) -> Result<List<'_>> {
            Ok(Cow::Owned(
                self.0
                    .iter()
                    .enumerate()
                    .filter(|(_, ls)| ls.iter().any(|(n, v)| *n == name && *v == value))
                    .map(|(i, _)| i as u64)
                    .collect(),
            ))
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
        fn all(&self) -> Result<List<'_>> {
            Ok(Cow::Owned((0..self.0.len() as u64).collect()))
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
            union_all(vec![
                Cow::Owned(vec![5]),
                Cow::Borrowed(&[1, 3][..]),
                Cow::Owned(vec![2, 3]),
                Cow::Owned(vec![])
            ]),
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
            let want = src.matching(&ms);
            assert_eq!(got, want, "matchers {ms:?}");
        }
    }

    /// Random label sets and random matchers (all four operators, empty values, labels a
    /// series lacks, regexes of every shape): `select` over the head and over a plain source
    /// must both agree with testing every series against every matcher.
    #[test]
    fn random_matchers_agree_with_brute_force() {
        use sightline_model::Labels;
        let names = ["__name__", "job", "env", "code", "pod"];
        let values = [
            "", "a", "b", "ab", "api", "api2", "db", "x:1", "x\ny", "5xx", "é",
        ];
        let patterns = [
            ".*", ".+", "", "a", "a|b", "a|", "ap.*", ".*b", ".*p.*", "a.+", "(api|db)", "[ab]",
            "a.*|b", ".*:1", "x.*y", "(?i)A.*", "5..|", "api2?", "a\\b", ".*a.*b.*", "db|.*2",
        ];
        let ops = [
            MatchOp::Equal,
            MatchOp::NotEqual,
            MatchOp::RegexMatch,
            MatchOp::RegexNoMatch,
        ];
        let mut rng = fastrand::Rng::with_seed(13);
        for round in 0..60 {
            let sets: Vec<Vec<(&'static str, &'static str)>> = (0..rng.usize(1..80))
                .map(|i| {
                    let mut ls: Vec<(&'static str, &'static str)> = Vec::new();
                    for n in names {
                        if rng.bool() {
                            ls.push((n, values[rng.usize(1..values.len())]));
                        }
                    }
                    // A unique label keeps label sets distinct (the head merges duplicates).
                    ls.push(("uid", Box::leak(i.to_string().into_boxed_str())));
                    ls
                })
                .collect();
            let mut head = crate::head::HeadInner::new(3_600_000, 0);
            for ls in &sets {
                let l = Labels::from_pairs(ls.iter().map(|(n, v)| (*n, v.to_string())));
                head.create(None, l.stable_hash(), &l);
            }
            // Trimmed lists must read the same.
            head.trim_postings();
            let brute = Brute(sets);
            for _ in 0..100 {
                let ms: Vec<Matcher> = (0..rng.usize(1..4))
                    .map(|_| {
                        let op = ops[rng.usize(..ops.len())];
                        let v = match op {
                            MatchOp::Equal | MatchOp::NotEqual => values[rng.usize(..values.len())],
                            _ => patterns[rng.usize(..patterns.len())],
                        };
                        Matcher::new(op, names[rng.usize(..names.len())], v).unwrap()
                    })
                    .collect();
                let want = brute.matching(&ms);
                assert_eq!(select(&brute, &ms).unwrap(), want, "round {round} {ms:?}");
                let from_head: Vec<u64> = select(&head, &ms)
                    .unwrap()
                    .into_iter()
                    .map(|id| id - 1)
                    .collect();
                assert_eq!(from_head, want, "head, round {round} {ms:?}");
            }
        }
    }
}
