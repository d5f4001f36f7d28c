//! Label sets: sorted by name, unique names, empty values dropped by the builder.
//!
//! Label names and values are [`ArcStr`]s: shared, immutable, reference-counted strings one
//! pointer wide. The head's and the partition files' symbol tables hand out clones of their
//! interned strings, so building a series' label set for a query bumps reference counts
//! instead of copying strings, and a label set cloned through a query shares its strings.

use std::fmt;

pub use arcstr::ArcStr;

/// `__name__`, the label holding the metric name.
pub const METRIC_NAME: &str = "__name__";
/// `job`, set from the scrape config's `job_name`.
pub const JOB_LABEL: &str = "job";
/// `instance`, set from the target address.
pub const INSTANCE_LABEL: &str = "instance";
/// `le`, the upper bound of a classic histogram bucket.
pub const BUCKET_LABEL: &str = "le";
/// `quantile`, the quantile of a summary.
pub const QUANTILE_LABEL: &str = "quantile";
/// `alertname`, the name of an alerting rule.
pub const ALERT_NAME: &str = "alertname";

/// One label pair.
///
/// Both strings are shared: cloning a label (or a whole [`Labels`]) copies two pointers and
/// bumps two reference counts. `ArcStr` compares, orders, hashes, displays and serialises
/// as the `str` it holds, and compares equal with `str`, `&str` and `String`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub name: ArcStr,
    pub value: ArcStr,
}

/// Orders by name, then value, as `str`s. Strings handed out by one symbol table are often
/// the same allocation (every series' `__name__` name, a shared `job` value), so the same
/// pointer answers `Equal` without reading the bytes: sorting a query's series then touches
/// far less memory.
impl Ord for Label {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        cmp_shared(&self.name, &o.name).then_with(|| cmp_shared(&self.value, &o.value))
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

fn cmp_shared(a: &ArcStr, b: &ArcStr) -> std::cmp::Ordering {
    if ArcStr::ptr_eq(a, b) {
        std::cmp::Ordering::Equal
    } else {
        a.as_str().cmp(b.as_str())
    }
}

impl Label {
    /// A label from anything that converts into a shared string: `&str`, `String`, `&String`
    /// (these copy once) or an `ArcStr` (a reference-count bump).
    pub fn new(name: impl Into<ArcStr>, value: impl Into<ArcStr>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A set of labels, sorted by name with unique names.
///
/// Invariant: sorted by `name`, no duplicate names, no empty values. Every constructor keeps
/// it; code that needs to break it goes through [`LabelsBuilder`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds from pairs in any order; later duplicates win, empty values are dropped.
    pub fn from_pairs<N: Into<ArcStr>, V: Into<ArcStr>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Builds from a vector already sorted by name with unique names and no empty values.
    /// Debug builds check the invariant.
    pub fn from_sorted_unchecked(v: Vec<Label>) -> Self {
        debug_assert!(
            v.windows(2).all(|w| w[0].name < w[1].name),
            "labels not sorted: {v:?}"
        );
        Labels(v)
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The value of `name`, or `""` when absent (Prometheus' convention).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Whether `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// A builder seeded with these labels.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.clone(),
        }
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// A 64-bit hash of the whole set (xxHash64 over names and values with separators), stable
    /// across processes and versions: it may be persisted.
    pub fn stable_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        for l in &self.0 {
            h.update(l.name.as_bytes());
            h.update(&[0xff]);
            h.update(l.value.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }

    /// Hash over only the named labels (`on`) or all but the named labels (`ignoring`), as
    /// PromQL's vector matching needs. `names` must be sorted.
    pub fn hash_for_labels(&self, names: &[String], include: bool) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        for l in &self.0 {
            let listed = names
                .binary_search_by(|n| n.as_str().cmp(l.name.as_str()))
                .is_ok();
            if listed == include {
                h.update(l.name.as_bytes());
                h.update(&[0xff]);
                h.update(l.value.as_bytes());
                h.update(&[0xff]);
            }
        }
        h.digest()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Formats as Prometheus does: `{a="1", b="2"}` with Go-escaped values.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}=\"", l.name)?;
            for c in l.value.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Mutable label set that restores the [`Labels`] invariant on [`LabelsBuilder::build`].
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    pub fn new() -> Self {
        LabelsBuilder::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        LabelsBuilder {
            labels: Vec::with_capacity(n),
        }
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<ArcStr>, value: impl Into<ArcStr>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.labels.iter_mut().find(|l| l.name == name) {
            Some(l) if value.is_empty() => {
                let n = l.name.clone();
                self.labels.retain(|l| l.name != n);
            }
            Some(l) => l.value = value,
            None if value.is_empty() => {}
            None => self.labels.push(Label { name, value }),
        }
        self
    }

    /// Removes `name`.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| l.name != name);
        self
    }

    /// Keeps only the labels for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(l));
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    /// Iterates the current labels in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.labels.iter()
    }

    /// Sorts, drops empty values and returns the label set. With duplicate names (only
    /// possible through `push_unchecked`) the last one wins.
    pub fn build(&self) -> Labels {
        let mut v: Vec<Label> = self
            .labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.dedup_by(|later, earlier| {
            if later.name == earlier.name {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        Labels(v)
    }

    /// Appends without checking for an existing name; fast path for parsers that have already
    /// rejected duplicates.
    pub fn push_unchecked(
        &mut self,
        name: impl Into<ArcStr>,
        value: impl Into<ArcStr>,
    ) -> &mut Self {
        self.labels.push(Label {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    pub fn clear(&mut self) {
        self.labels.clear();
    }
}

/// Whether `s` is a valid legacy label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Whether `s` is a valid legacy metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
}

impl Labels {
    /// See [`is_valid_label_name`].
    pub fn is_valid_label_name(s: &str) -> bool {
        is_valid_label_name(s)
    }
    /// See [`is_valid_metric_name`].
    pub fn is_valid_metric_name(s: &str) -> bool {
        is_valid_metric_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sorts_dedups_and_drops_empty() {
        let mut b = LabelsBuilder::new();
        b.push_unchecked("b", "1")
            .push_unchecked("a", "2")
            .push_unchecked("b", "3")
            .push_unchecked("c", "");
        let l = b.build();
        assert_eq!(l.to_string(), r#"{a="2", b="3"}"#);
    }

    #[test]
    fn set_empty_deletes() {
        let l = Labels::from_pairs([("a", "1"), ("b", "2")]);
        let mut b = l.builder();
        b.set("a", "");
        assert_eq!(b.build().to_string(), r#"{b="2"}"#);
    }

    #[test]
    fn display_escapes() {
        let l = Labels::from_pairs([("a", "x\"y\\z\n")]);
        assert_eq!(l.to_string(), r#"{a="x\"y\\z\n"}"#);
    }

    #[test]
    fn label_strings_are_shared_and_compare_as_str() {
        let owned = String::from("job");
        let a = Label::new("job", owned.clone());
        let b = Label::new(&owned, ArcStr::from("job"));
        assert_eq!(a, b);
        assert!(a.name == "job" && a.name == *"job" && a.name == owned);
        assert_eq!(a.name.to_string(), "job");
        let l = Labels::from_pairs([("b", "2"), ("a", "1")]);
        let copy = l.clone();
        assert!(ArcStr::ptr_eq(
            &l.as_slice()[0].value,
            &copy.as_slice()[0].value
        ));
        let bigger = Labels::from_pairs([("a", "1"), ("b", "3")]);
        assert!(copy < bigger);
        assert!(copy.cmp(&l).is_eq());
        let built = l.builder().build();
        assert!(ArcStr::ptr_eq(
            &l.as_slice()[1].name,
            &built.as_slice()[1].name
        ));
        assert_eq!(built.get("a"), Some("1"));
    }

    #[test]
    fn names_validate() {
        assert!(is_valid_label_name("_a1"));
        assert!(!is_valid_label_name("1a"));
        assert!(!is_valid_label_name("a:b"));
        assert!(is_valid_metric_name("a:b"));
        assert!(!is_valid_metric_name(""));
    }

    #[test]
    fn hash_is_order_independent_of_construction() {
        let a = Labels::from_pairs([("x", "1"), ("y", "2")]);
        let b = Labels::from_pairs([("y", "2"), ("x", "1")]);
        assert_eq!(a.stable_hash(), b.stable_hash());
        assert_ne!(
            a.stable_hash(),
            Labels::from_pairs([("x", "12")]).stable_hash()
        );
    }
}
