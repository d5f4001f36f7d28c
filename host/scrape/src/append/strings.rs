//! One copy of each label string a target's cached label sets use.
//!
//! A scrape cache keeps the final label set of every series it has seen (stale markers and
//! series that storage no longer knows by reference need them). Built from the parser's text,
//! every label set would own its strings: the same metric names, label names and values
//! (`method="GET"`, `le="0.5"`, the target labels) allocated again for each series, about
//! 440 bytes a series in a heap profile of the 100-target benchmark (issue 21). Interned here,
//! a cached label set is one vector of shared strings and a repeated string costs nothing.

use std::hash::BuildHasher;

use sightline_model::{ArcStr, Label, Labels};

/// A set of shared strings, looked up by content.
#[derive(Default)]
pub(crate) struct Strings {
    set: hashbrown::HashTable<ArcStr>,
    hasher: foldhash::fast::RandomState,
    /// Set size after the last sweep: the next sweep waits until the set has grown by half.
    swept_at: usize,
}

impl Strings {
    /// The shared copy of `s` (`s` itself the first time it is seen).
    fn intern(&mut self, s: &ArcStr) -> ArcStr {
        // Literals (`__name__`, target label names) need no sharing.
        if ArcStr::is_static(s) || s.is_empty() {
            return s.clone();
        }
        let h = self.hasher.hash_one(s.as_str());
        if let Some(found) = self.set.find(h, |x| x.as_str() == s.as_str()) {
            return found.clone();
        }
        let hasher = &self.hasher;
        self.set
            .insert_unique(h, s.clone(), |x| hasher.hash_one(x.as_str()));
        s.clone()
    }

    /// `labels` with every name and value replaced by its shared copy, in a vector of
    /// exactly the set's size.
    pub(crate) fn intern_labels(&mut self, labels: &Labels) -> Labels {
        let v: Vec<Label> = labels
            .iter()
            .map(|l| Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            })
            .collect();
        Labels::from_sorted_unchecked(v)
    }

    /// Forgets strings no cached label set uses any more (only the set holds them), once the
    /// set has grown by half since the last sweep: under churn (pods replaced, each with new
    /// label values) the set would otherwise grow without bound.
    pub(crate) fn sweep(&mut self) {
        if self.set.len() < 1024 || self.set.len() < self.swept_at + self.swept_at / 2 {
            return;
        }
        self.set
            .retain(|s| ArcStr::strong_count(s).is_none_or(|n| n > 1));
        let hasher = &self.hasher;
        self.set.shrink_to_fit(|x| hasher.hash_one(x.as_str()));
        self.swept_at = self.set.len();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_are_shared_and_unused_ones_swept() {
        let mut s = Strings::default();
        let a = Labels::from_pairs([("method", "GET"), ("series", "1")]);
        let b = Labels::from_pairs([("method", "GET".to_string()), ("series", "2".to_string())]);
        let (ia, ib) = (s.intern_labels(&a), s.intern_labels(&b));
        assert_eq!((&ia, &ib), (&a, &b));
        assert!(ArcStr::ptr_eq(
            &ia.as_slice()[0].value,
            &ib.as_slice()[0].value
        ));
        // Strings of label sets that are gone are swept once the set has grown enough.
        drop((a, b, ia));
        let mut keep = Vec::new();
        for i in 0..2000 {
            keep.push(s.intern_labels(&Labels::from_pairs([("pod", format!("p{i}"))])));
        }
        keep.truncate(10);
        s.sweep();
        // Kept: "GET", "method", "series", "2" (still in `ib`), "pod" and ten pod values.
        assert_eq!(s.len(), 15);
        assert_eq!(ib.get("series"), Some("2"));
    }
}
