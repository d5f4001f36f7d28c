//! A simple in-memory store for tests of other crates and for the spine before the TSDB.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use sightline_model::{
    stale_nan, FloatHistogram, Histogram, Labels, Matcher, Metadata, Sample, SeriesRef, TimestampMs,
};

use crate::{
    labels_match, Appendable, Appender, Error, Querier, Queryable, Result, SelectHints, Series,
    VecSampleIterator,
};

/// One stored series: samples, and start timestamps parallel to them once any was non-zero.
#[derive(Default, Clone)]
struct MemSeries {
    samples: Vec<Sample>,
    starts: Option<Vec<TimestampMs>>,
    /// Histograms parallel to `samples` once any sample was a histogram.
    hists: Option<Vec<Option<Arc<FloatHistogram>>>>,
}

impl MemSeries {
    fn push(&mut self, s: Sample, st: TimestampMs, h: Option<Arc<FloatHistogram>>) {
        if st != 0 && self.starts.is_none() {
            self.starts = Some(vec![0; self.samples.len()]);
        }
        if let Some(v) = &mut self.starts {
            v.push(st);
        }
        if h.is_some() && self.hists.is_none() {
            self.hists = Some(vec![None; self.samples.len()]);
        }
        if let Some(v) = &mut self.hists {
            v.push(h);
        }
        self.samples.push(s);
    }
}

/// What was last appended to a series: to tell repeats from duplicates.
#[derive(Clone)]
struct Last {
    s: Sample,
    h: Option<Arc<FloatHistogram>>,
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
    pending: Vec<(Labels, Sample, TimestampMs, Option<Arc<FloatHistogram>>)>,
    meta: Vec<(String, Metadata)>,
    /// Newest sample per series in this batch, to apply in-order rules within the batch.
    batch_last: HashMap<Labels, Last>,
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

impl MemAppender<'_> {
    fn push_hist(
        &mut self,
        labels: &Labels,
        st: TimestampMs,
        t: TimestampMs,
        stale: bool,
        f: impl FnOnce() -> FloatHistogram,
    ) -> Result<SeriesRef> {
        if stale {
            // Read back as a float stale marker (see `SampleIterator::histogram`).
            return self.push(labels, st, Sample { t, v: stale_nan() }, None);
        }
        self.push(labels, st, Sample { t, v: 0.0 }, Some(Arc::new(f())))
    }

    fn push(
        &mut self,
        labels: &Labels,
        st: TimestampMs,
        s: Sample,
        h: Option<Arc<FloatHistogram>>,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return Err(Error::InvalidSeries(labels.to_string()));
        }
        let last = match self.batch_last.get(labels) {
            Some(l) => Some(l.clone()),
            None => {
                let g = self.store.inner.read();
                g.by_labels
                    .get(labels)
                    .and_then(|r| g.series.get(r))
                    .and_then(|(_, ms)| {
                        let s = *ms.samples.last()?;
                        let h = ms.hists.as_ref().and_then(|v| v.last().cloned().flatten());
                        Some(Last { s, h })
                    })
            }
        };
        if let Some(last) = last {
            if s.t < last.s.t {
                return Err(Error::OutOfOrderSample);
            }
            if s.t == last.s.t {
                // As the TSDB (and Prometheus' head): only the identical value is a harmless
                // repeat; anything else at the same time, a stale marker included, is a
                // duplicate.
                let same = match (&last.h, &h) {
                    (None, None) => last.s.v.to_bits() == s.v.to_bits(),
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                };
                if !same {
                    return Err(Error::DuplicateSampleForTimestamp);
                }
                // Same sample again: accepted and ignored, as Prometheus does.
                return Ok(SeriesRef(labels.stable_hash() | 1));
            }
        }
        self.batch_last
            .insert(labels.clone(), Last { s, h: h.clone() });
        self.pending.push((labels.clone(), s, st, h));
        Ok(SeriesRef(labels.stable_hash() | 1))
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
        self.push(labels, st, Sample { t, v }, None)
    }

    fn append_histogram(
        &mut self,
        _r: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        h: &Histogram,
    ) -> Result<SeriesRef> {
        self.push_hist(labels, 0, t, h.is_stale(), || h.to_float())
    }

    fn append_float_histogram(
        &mut self,
        _r: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        fh: &FloatHistogram,
    ) -> Result<SeriesRef> {
        self.push_hist(labels, 0, t, fh.is_stale(), || fh.clone())
    }

    fn append_float_histogram_with_start(
        &mut self,
        _r: Option<SeriesRef>,
        labels: &Labels,
        st: TimestampMs,
        t: TimestampMs,
        fh: &FloatHistogram,
    ) -> Result<SeriesRef> {
        self.push_hist(labels, st, t, fh.is_stale(), || fh.clone())
    }

    fn update_metadata(&mut self, _r: SeriesRef, labels: &Labels, meta: &Metadata) -> Result<()> {
        if let Some(name) = labels.metric_name() {
            self.meta.push((name.to_string(), meta.clone()));
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut g = self.store.inner.write();
        for (labels, s, st, h) in self.pending {
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
                    v.push(s, st, h);
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
                        hists: s.hists.as_ref().map(|h| h[lo..hi].to_vec()),
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
            .map(|(labels, s)| {
                let it = match s.starts {
                    Some(st) => VecSampleIterator::with_start_timestamps(s.samples, st),
                    None => VecSampleIterator::new(s.samples),
                };
                let it = match s.hists {
                    Some(h) => it.with_histograms(h),
                    None => it,
                };
                Series {
                    labels,
                    samples: Box::new(it),
                }
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
            .flat_map(|(l, _)| l.into_vec().into_iter().map(|l| l.name.to_string()))
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
    fn histogram_start_timestamps_round_trip() {
        let s = MemStorage::new();
        let lbl = l(&[("__name__", "h")]);
        let mut a = s.appender();
        let fh = FloatHistogram {
            count: 1.0,
            ..FloatHistogram::default()
        };
        a.append_float_histogram_with_start(None, &lbl, 500, 1000, &fh)
            .unwrap();
        a.commit().unwrap();
        let q = s.querier(0, 5000).unwrap();
        let mut res = q
            .select(false, None, &[Matcher::equal("__name__", "h")])
            .unwrap();
        let it = &mut res[0].samples;
        assert!(it.has_start_timestamps() && it.has_histograms());
        assert_eq!(it.next_sample().map(|x| x.t), Some(1000));
        assert_eq!(it.start_timestamp(), 500);
        assert_eq!(it.histogram().map(|h| h.count), Some(1.0));
    }

    #[test]
    fn histograms_round_trip_and_stale_markers_read_as_floats() {
        use sightline_model::{Histogram, Span};
        let s = MemStorage::new();
        let lbl = l(&[("__name__", "h")]);
        let h = Histogram {
            count: 3,
            sum: 2.5,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![1, 1],
            ..Histogram::default()
        };
        let mut a = s.appender();
        a.append(None, &lbl, 1000, 1.0).unwrap();
        a.append_histogram(None, &lbl, 2000, &h).unwrap();
        assert!(a.append_histogram(None, &lbl, 2000, &h).is_ok(), "a repeat");
        assert!(matches!(
            a.append(None, &lbl, 2000, 1.0),
            Err(Error::DuplicateSampleForTimestamp)
        ));
        let stale = Histogram {
            sum: stale_nan(),
            ..Histogram::default()
        };
        a.append_histogram(None, &lbl, 3000, &stale).unwrap();
        a.commit().unwrap();
        let q = s.querier(0, 5000).unwrap();
        let mut res = q
            .select(false, None, &[Matcher::equal("__name__", "h")])
            .unwrap();
        let it = &mut res[0].samples;
        assert!(it.has_histograms());
        assert_eq!(it.next_sample().map(|x| x.v), Some(1.0));
        assert!(it.histogram().is_none());
        assert_eq!(it.next_sample().map(|x| x.t), Some(2000));
        assert_eq!(
            it.histogram().map(|h| h.positive_buckets.clone()),
            Some(vec![1.0, 2.0])
        );
        let st = it.next_sample().map(|x| x.v);
        assert!(st.is_some_and(sightline_model::is_stale_nan));
        assert!(it.histogram().is_none());
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
