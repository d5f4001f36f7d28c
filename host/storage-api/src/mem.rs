//! A simple in-memory store for tests of other crates and for the spine before the TSDB.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use sightline_model::{Labels, Matcher, Metadata, Sample, SeriesRef, TimestampMs};

use crate::{
    labels_match, Appendable, Appender, Error, Querier, Queryable, Result, SelectHints, Series,
    VecSampleIterator,
};

/// One stored series: samples, and start timestamps parallel to them once any was non-zero.
#[derive(Default, Clone)]
struct MemSeries {
    samples: Vec<Sample>,
    starts: Option<Vec<TimestampMs>>,
}

impl MemSeries {
    fn push(&mut self, s: Sample, st: TimestampMs) {
        if st != 0 && self.starts.is_none() {
            self.starts = Some(vec![0; self.samples.len()]);
        }
        if let Some(v) = &mut self.starts {
            v.push(st);
        }
        self.samples.push(s);
    }
}

#[derive(Default)]
struct Inner {
    by_labels: HashMap<Labels, u64>,
    series: BTreeMap<u64, (Labels, MemSeries)>,
    metadata: HashMap<String, Metadata>,
    next_ref: u64,
}

/// An in-memory [`Appendable`] + [`Queryable`] with Prometheus' in-order append rules
/// (out-of-order and duplicate samples are rejected). Not durable; for tests and tooling.
#[derive(Clone, Default)]
pub struct MemStorage {
    inner: Arc<RwLock<Inner>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// Number of series stored.
    pub fn num_series(&self) -> usize {
        self.inner.read().series.len()
    }

    /// Metadata recorded for a metric family, if any.
    pub fn metadata(&self, metric: &str) -> Option<Metadata> {
        self.inner.read().metadata.get(metric).cloned()
    }

    /// All samples of the series with exactly `labels` (test helper).
    pub fn samples_of(&self, labels: &Labels) -> Vec<Sample> {
        let g = self.inner.read();
        g.by_labels
            .get(labels)
            .and_then(|r| g.series.get(r))
            .map(|(_, s)| s.samples.clone())
            .unwrap_or_default()
    }
}

struct MemAppender<'a> {
    store: &'a MemStorage,
    pending: Vec<(Labels, Sample, TimestampMs)>,
    meta: Vec<(String, Metadata)>,
    /// Newest timestamp per series in this batch, to apply in-order rules within the batch.
    batch_last: HashMap<Labels, Sample>,
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self,
            pending: Vec::new(),
            meta: Vec::new(),
            batch_last: HashMap::new(),
        })
    }
}

impl Appender for MemAppender<'_> {
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        v: f64,
    ) -> Result<SeriesRef> {
        self.append_with_start(r, labels, 0, t, v)
    }

    fn append_with_start(
        &mut self,
        _r: Option<SeriesRef>,
        labels: &Labels,
        st: TimestampMs,
        t: TimestampMs,
        v: f64,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return Err(Error::InvalidSeries(labels.to_string()));
        }
        let last = match self.batch_last.get(labels) {
            Some(s) => Some(*s),
            None => {
                let g = self.store.inner.read();
                g.by_labels
                    .get(labels)
                    .and_then(|r| g.series.get(r))
                    .and_then(|(_, s)| s.samples.last().copied())
            }
        };
        if let Some(last) = last {
            if t < last.t {
                return Err(Error::OutOfOrderSample);
            }
            if t == last.t {
                // As the TSDB (and Prometheus' head): only the bit-identical value is a
                // harmless repeat; anything else at the same time, a stale marker
                // included, is a duplicate.
                if last.v.to_bits() != v.to_bits() {
                    return Err(Error::DuplicateSampleForTimestamp);
                }
                // Same sample again: accepted and ignored, as Prometheus does.
                return Ok(SeriesRef(labels.stable_hash() | 1));
            }
        }
        let s = Sample { t, v };
        self.batch_last.insert(labels.clone(), s);
        self.pending.push((labels.clone(), s, st));
        Ok(SeriesRef(labels.stable_hash() | 1))
    }

    fn update_metadata(&mut self, _r: SeriesRef, labels: &Labels, meta: &Metadata) -> Result<()> {
        if let Some(name) = labels.metric_name() {
            self.meta.push((name.to_string(), meta.clone()));
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut g = self.store.inner.write();
        for (labels, s, st) in self.pending {
            let r = match g.by_labels.get(&labels) {
                Some(r) => *r,
                None => {
                    g.next_ref += 1;
                    let r = g.next_ref;
                    g.by_labels.insert(labels.clone(), r);
                    g.series.insert(r, (labels, MemSeries::default()));
                    r
                }
            };
            if let Some((_, v)) = g.series.get_mut(&r) {
                if v.samples.last().is_none_or(|l| l.t < s.t) {
                    v.push(s, st);
                }
            }
        }
        for (name, m) in self.meta {
            g.metadata.insert(name, m);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

struct MemQuerier<'a> {
    store: &'a MemStorage,
    min_t: TimestampMs,
    max_t: TimestampMs,
}

impl Queryable for MemStorage {
    fn querier(&self, min_t: TimestampMs, max_t: TimestampMs) -> Result<Box<dyn Querier + '_>> {
        Ok(Box::new(MemQuerier {
            store: self,
            min_t,
            max_t,
        }))
    }
}

impl MemQuerier<'_> {
    fn matching(&self, matchers: &[Matcher]) -> Vec<(Labels, MemSeries)> {
        let g = self.store.inner.read();
        g.series
            .values()
            .filter(|(l, _)| labels_match(l, matchers))
            .filter_map(|(l, s)| {
                let lo = s.samples.partition_point(|x| x.t < self.min_t);
                let hi = s.samples.partition_point(|x| x.t <= self.max_t);
                (lo < hi).then(|| {
                    let part = MemSeries {
                        samples: s.samples[lo..hi].to_vec(),
                        starts: s.starts.as_ref().map(|st| st[lo..hi].to_vec()),
                    };
                    (l.clone(), part)
                })
            })
            .collect()
    }
}

impl Querier for MemQuerier<'_> {
    fn select(
        &self,
        sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>> {
        let mut v = self.matching(matchers);
        if sorted {
            v.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(v.into_iter()
            .map(|(labels, s)| Series {
                labels,
                samples: Box::new(match s.starts {
                    Some(st) => VecSampleIterator::with_start_timestamps(s.samples, st),
                    None => VecSampleIterator::new(s.samples),
                }),
            })
            .collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let set: BTreeSet<String> = self
            .matching(matchers)
            .into_iter()
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        Ok(set.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        let set: BTreeSet<String> = self
            .matching(matchers)
            .into_iter()
            .flat_map(|(l, _)| l.into_vec().into_iter().map(|l| l.name))
            .collect();
        Ok(set.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleIterator;
    use sightline_model::MatchOp;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn append_commit_query() {
        let s = MemStorage::new();
        let mut a = s.appender();
        a.append(None, &l(&[("__name__", "up"), ("job", "a")]), 1000, 1.0)
            .unwrap();
        a.append(None, &l(&[("__name__", "up"), ("job", "b")]), 1000, 0.0)
            .unwrap();
        a.append(None, &l(&[("__name__", "up"), ("job", "a")]), 2000, 1.0)
            .unwrap();
        assert_eq!(s.num_series(), 0, "invisible before commit");
        a.commit().unwrap();
        let q = s.querier(0, 1500).unwrap();
        let res = q
            .select(true, None, &[Matcher::equal("__name__", "up")])
            .unwrap();
        assert_eq!(res.len(), 2);
        let m = Matcher::new(MatchOp::RegexMatch, "job", "a").unwrap();
        let mut res = q.select(true, None, &[m]).unwrap();
        assert_eq!(
            res[0].samples.collect_all(),
            vec![Sample { t: 1000, v: 1.0 }]
        );
        assert_eq!(q.label_values("job", &[]).unwrap(), vec!["a", "b"]);
        assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "job"]);
    }

    #[test]
    fn rejects_out_of_order_and_duplicates() {
        let s = MemStorage::new();
        let lbl = l(&[("__name__", "x")]);
        let mut a = s.appender();
        a.append(None, &lbl, 2000, 1.0).unwrap();
        a.commit().unwrap();
        let mut a = s.appender();
        assert!(matches!(
            a.append(None, &lbl, 1000, 1.0),
            Err(Error::OutOfOrderSample)
        ));
        assert!(matches!(
            a.append(None, &lbl, 2000, 2.0),
            Err(Error::DuplicateSampleForTimestamp)
        ));
        assert!(a.append(None, &lbl, 2000, 1.0).is_ok());
        assert!(
            matches!(
                a.append(None, &lbl, 2000, sightline_model::stale_nan()),
                Err(Error::DuplicateSampleForTimestamp)
            ),
            "a stale marker at the time of a real value is a duplicate, as in the TSDB"
        );
        a.rollback().unwrap();
    }

    #[test]
    fn start_timestamps_round_trip() {
        let s = MemStorage::new();
        let lbl = l(&[("__name__", "c_total")]);
        let mut a = s.appender();
        a.append(None, &lbl, 1000, 1.0).unwrap();
        a.append_with_start(None, &lbl, 1500, 2000, 1.0).unwrap();
        a.commit().unwrap();
        let q = s.querier(0, 5000).unwrap();
        let mut res = q
            .select(false, None, &[Matcher::equal("__name__", "c_total")])
            .unwrap();
        let it = &mut res[0].samples;
        assert!(it.has_start_timestamps());
        assert_eq!(it.next_sample().map(|x| x.t), Some(1000));
        assert_eq!(it.start_timestamp(), 0);
        assert_eq!(it.next_sample().map(|x| x.t), Some(2000));
        assert_eq!(it.start_timestamp(), 1500);
    }

    #[test]
    fn seek_skips() {
        let mut it = VecSampleIterator::new(
            (0..10)
                .map(|i| Sample {
                    t: i * 10,
                    v: i as f64,
                })
                .collect(),
        );
        assert_eq!(it.seek(35), Some(Sample { t: 40, v: 4.0 }));
        assert_eq!(it.next_sample(), Some(Sample { t: 50, v: 5.0 }));
    }
}
