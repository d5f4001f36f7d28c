//! Turning one scrape body into appends: label handling, limits, the series cache and
//! staleness markers. Pure with respect to IO, so it is tested without a network.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sightline_exposition::{Entry, Format};
use sightline_model::{
    stale_nan, Labels, LabelsBuilder, Metadata, MetricType, SeriesRef, METRIC_NAME,
};
use sightline_storage_api::Appender;

use crate::{Error, Result};

/// Metric relabelling, supplied by the manager (built from `metric_relabel_configs`).
/// Returns `None` when the series is dropped.
pub(crate) type Relabel = Arc<dyn Fn(&Labels) -> Option<Labels> + Send + Sync>;

/// How one target's samples are labelled and limited.
#[derive(Clone)]
pub(crate) struct AppendOptions {
    /// The target's final labels without `__`-prefixed ones (`job`, `instance`, ...).
    pub(crate) target_labels: Labels,
    pub(crate) honor_labels: bool,
    pub(crate) honor_timestamps: bool,
    pub(crate) metric_relabel: Option<Relabel>,
    pub(crate) sample_limit: usize,
    pub(crate) label_limit: usize,
    pub(crate) label_name_length_limit: usize,
    pub(crate) label_value_length_limit: usize,
}

impl AppendOptions {
    #[cfg(test)]
    pub(crate) fn for_test(target_labels: Labels) -> Self {
        AppendOptions {
            target_labels,
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel: None,
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
        }
    }
}

/// Counts of one scrape's append phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Samples in the body (`scrape_samples_scraped`).
    pub scraped: usize,
    /// Samples left after metric relabelling (`scrape_samples_post_metric_relabeling`).
    pub post_relabel: usize,
    /// Series not seen in the previous scrape (`scrape_series_added`).
    pub series_added: usize,
    /// Samples rejected as out of order.
    pub out_of_order: usize,
    /// Samples rejected as duplicates with a different value.
    pub duplicate: usize,
    /// Samples rejected as out of the appendable window.
    pub out_of_bounds: usize,
}

struct CacheEntry {
    /// Final labels; `None` when relabelling dropped the series.
    labels: Option<Labels>,
    hash: u64,
    series_ref: Option<SeriesRef>,
    /// Iteration in which the entry was last seen in a body.
    seen_iter: u64,
    /// Whether its last sample had no explicit timestamp (only those get stale markers).
    tracked: bool,
}

/// Per-target state kept between scrapes: raw series bytes → labels and storage reference,
/// the series of the previous scrape (for staleness) and the latest metadata.
///
/// Keying by the raw series bytes means a series seen before costs one hash lookup and no
/// label decoding, relabelling or allocation.
#[derive(Default)]
pub struct ScrapeCache {
    /// foldhash (seeded per process) instead of SipHash: the lookup by raw series bytes runs
    /// once per scraped sample and was the largest item of the ingest profile.
    entries: HashMap<Box<[u8]>, CacheEntry, foldhash::fast::RandomState>,
    iter: u64,
    /// Hashes of the final label sets appended (without explicit timestamps) in the previous
    /// scrape. Their labels stay in `entries` until a stale marker has been written.
    prev: HashSet<u64, foldhash::fast::RandomState>,
    cur: HashSet<u64, foldhash::fast::RandomState>,
    metadata: HashMap<String, Metadata>,
    /// Whether `metadata` went to storage in a batch that was not rolled back.
    metadata_stored: bool,
    builder: LabelsBuilder,
}

impl ScrapeCache {
    /// An empty cache.
    pub fn new() -> Self {
        ScrapeCache::default()
    }

    /// Metadata of the metric families seen in the latest scrape.
    pub fn metadata(&self) -> &HashMap<String, Metadata> {
        &self.metadata
    }

    /// Parses `body` and appends its samples at scrape time `ts`, then writes stale markers
    /// for series of the previous scrape that are gone. On `Err` the caller rolls back and
    /// calls [`ScrapeCache::append_failed`].
    pub(crate) fn append(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        format: Format,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<AppendOutcome> {
        self.iter += 1;
        self.cur.clear();
        let mut out = AppendOutcome::default();
        let mut new_meta: HashMap<String, Metadata> = HashMap::new();
        for entry in sightline_exposition::parse(body, format) {
            let entry = entry.map_err(|e| Error::Parse(e.to_string()))?;
            let s = match entry {
                Entry::Series(s) => s,
                Entry::Type { name, metric_type } => {
                    new_meta.entry(name.to_string()).or_default().metric_type = metric_type;
                    continue;
                }
                Entry::Help { name, help } => {
                    new_meta.entry(name.to_string()).or_default().help = help.into_owned();
                    continue;
                }
                Entry::Unit { name, unit } => {
                    new_meta.entry(name.to_string()).or_default().unit = unit.to_string();
                    continue;
                }
                _ => continue,
            };
            out.scraped += 1;
            let explicit_ts = opts.honor_timestamps && s.timestamp_ms.is_some();
            let t = if opts.honor_timestamps {
                s.timestamp_ms.unwrap_or(ts)
            } else {
                ts
            };
            let iter = self.iter;
            let ce = match self.entries.get_mut(s.raw) {
                Some(ce) => ce,
                None => {
                    self.builder.clear();
                    s.labels_into(&mut self.builder);
                    let sample_labels = self.builder.build();
                    let labels = final_labels(&sample_labels, opts);
                    if let Some(l) = &labels {
                        check_label_limits(l, opts)?;
                    }
                    let hash = labels.as_ref().map(|l| l.stable_hash()).unwrap_or(0);
                    self.entries.entry(s.raw.into()).or_insert(CacheEntry {
                        labels,
                        hash,
                        series_ref: None,
                        seen_iter: 0,
                        tracked: false,
                    })
                }
            };
            let is_new = ce.seen_iter + 1 < iter || ce.seen_iter == 0;
            ce.seen_iter = iter;
            let Some(labels) = &ce.labels else { continue };
            out.post_relabel += 1;
            if opts.sample_limit > 0 && out.post_relabel > opts.sample_limit {
                return Err(Error::SampleLimit);
            }
            match app.append(ce.series_ref, labels, t, s.value) {
                Ok(r) => {
                    ce.series_ref = Some(r);
                    if is_new && !self.prev.contains(&ce.hash) {
                        out.series_added += 1;
                    }
                }
                Err(sightline_storage_api::Error::OutOfOrderSample) => out.out_of_order += 1,
                Err(sightline_storage_api::Error::DuplicateSampleForTimestamp) => {
                    out.duplicate += 1
                }
                Err(sightline_storage_api::Error::OutOfBounds) => out.out_of_bounds += 1,
                Err(e) => return Err(e.into()),
            }
            ce.tracked = !explicit_ts;
            if ce.tracked {
                self.cur.insert(ce.hash);
            }
        }
        // Metadata goes to storage when it changes (and on the first scrape), not every time.
        if (format == Format::OpenMetrics || !new_meta.is_empty()) && new_meta != self.metadata {
            self.metadata = new_meta;
            self.metadata_stored = false;
        }
        if !self.metadata_stored {
            // Set before the batch commits; a failed scrape clears it again.
            self.metadata_stored = true;
            for (name, meta) in &self.metadata {
                if meta.metric_type != MetricType::Unknown || !meta.help.is_empty() {
                    let l = Labels::from_pairs([(METRIC_NAME, name.as_str())]);
                    app.update_metadata(SeriesRef(0), &l, meta)?;
                }
            }
        }
        self.finish(app, ts)?;
        Ok(out)
    }

    /// Records a failed scrape: every series of the previous successful scrape gets a stale
    /// marker at `ts`, exactly as an empty body would.
    pub(crate) fn append_failed(&mut self, app: &mut dyn Appender, ts: i64) -> Result<()> {
        self.metadata_stored = false;
        self.iter += 1;
        self.cur.clear();
        self.finish(app, ts)
    }

    /// Stale markers for series in `prev` but not in `cur`; `cur` becomes `prev`; cache
    /// entries not seen in this scrape are evicted.
    ///
    /// Entries not seen in this scrape were all seen in the previous one (older ones were
    /// evicted then), so they carry the labels a stale marker needs: nothing is cloned per
    /// scrape.
    fn finish(&mut self, app: &mut dyn Appender, ts: i64) -> Result<()> {
        let iter = self.iter;
        for e in self.entries.values() {
            if e.seen_iter == iter || !e.tracked || self.cur.contains(&e.hash) {
                continue;
            }
            let Some(labels) = &e.labels else { continue };
            if !self.prev.contains(&e.hash) {
                continue;
            }
            match app.append(e.series_ref, labels, ts, stale_nan()) {
                Ok(_) => {}
                Err(e) if e.is_sample_rejection() => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.entries.retain(|_, e| e.seen_iter == iter);
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        Ok(())
    }

    /// Stale markers for every series of the last scrape (the target went away).
    pub(crate) fn append_end_of_run(&mut self, app: &mut dyn Appender, ts: i64) -> Result<()> {
        self.append_failed(app, ts)
    }

    /// The batch holding the last scrape's appends was not committed: what it carried
    /// (metadata) must be sent again.
    pub(crate) fn batch_lost(&mut self) {
        self.metadata_stored = false;
    }

    /// Number of series appended in the last successful scrape (for tests and stats).
    pub fn active_series(&self) -> usize {
        self.prev.len()
    }
}

/// Applies target labels (`honor_labels`, `exported_` collision handling) and metric
/// relabelling, exactly as Prometheus' `mutateSampleLabels`.
pub(crate) fn final_labels(sample: &Labels, opts: &AppendOptions) -> Option<Labels> {
    let mut b = sample.builder();
    if opts.honor_labels {
        for l in opts.target_labels.iter() {
            if sample.get(&l.name).is_none_or(str::is_empty) {
                b.set(l.name.clone(), l.value.clone());
            }
        }
    } else {
        let mut conflicts = Vec::new();
        for l in opts.target_labels.iter() {
            if let Some(v) = sample.get(&l.name).filter(|v| !v.is_empty()) {
                conflicts.push((l.name.clone(), v.to_string()));
            }
            b.set(l.name.clone(), l.value.clone());
        }
        for (name, value) in conflicts {
            let mut new_name = format!("exported_{name}");
            while sample.has(&new_name) || opts.target_labels.has(&new_name) {
                new_name = format!("exported_{new_name}");
            }
            b.set(new_name, value);
        }
    }
    let labels = b.build();
    let labels = match &opts.metric_relabel {
        Some(f) => f(&labels)?,
        None => labels,
    };
    (!labels.is_empty()).then_some(labels)
}

fn check_label_limits(l: &Labels, opts: &AppendOptions) -> Result<()> {
    let metric = l.metric_name().unwrap_or("");
    let metric: String = metric.chars().take(50).collect();
    if opts.label_limit > 0 && l.len() > opts.label_limit {
        return Err(Error::LabelLimit(format!(
            "label_limit exceeded (metric: {metric}, number of labels: {}, limit: {})",
            l.len(),
            opts.label_limit
        )));
    }
    for lbl in l.iter() {
        if opts.label_name_length_limit > 0 && lbl.name.len() > opts.label_name_length_limit {
            return Err(Error::LabelLimit(format!(
                "label_name_length_limit exceeded (metric: {metric}, label name: {}, length: {}, limit: {})",
                lbl.name.chars().take(50).collect::<String>(),
                lbl.name.len(),
                opts.label_name_length_limit
            )));
        }
        if opts.label_value_length_limit > 0 && lbl.value.len() > opts.label_value_length_limit {
            return Err(Error::LabelLimit(format!(
                "label_value_length_limit exceeded (metric: {metric}, label name: {}, value: {:?}, length: {}, limit: {})",
                lbl.name.chars().take(50).collect::<String>(),
                lbl.value.chars().take(50).collect::<String>(),
                lbl.value.len(),
                opts.label_value_length_limit
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::{is_stale_nan, Matcher};
    use sightline_storage_api::{Appendable, MemStorage, Queryable};

    fn target() -> Labels {
        Labels::from_pairs([("job", "app"), ("instance", "h:1")])
    }

    fn scrape(
        cache: &mut ScrapeCache,
        st: &MemStorage,
        body: &str,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<AppendOutcome> {
        let mut app = st.appender();
        let r = cache.append(app.as_mut(), body.as_bytes(), Format::PromText, ts, opts);
        match &r {
            Ok(_) => app.commit().unwrap(),
            Err(_) => {
                app.rollback().unwrap();
                let mut app = st.appender();
                cache.append_failed(app.as_mut(), ts).unwrap();
                app.commit().unwrap();
            }
        }
        r
    }

    fn values(st: &MemStorage, name: &str) -> Vec<(Labels, Vec<(i64, f64)>)> {
        let q = st.querier(i64::MIN, i64::MAX).unwrap();
        q.select(true, None, &[Matcher::equal("__name__", name)])
            .unwrap()
            .into_iter()
            .map(|mut s| {
                (
                    s.labels,
                    s.samples
                        .collect_all()
                        .into_iter()
                        .map(|x| (x.t, x.v))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn target_labels_and_exported_collision() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let opts = AppendOptions::for_test(target());
        let o = scrape(
            &mut c,
            &st,
            "m{job=\"inner\",exported_job=\"x\",a=\"1\"} 5\n",
            1000,
            &opts,
        )
        .unwrap();
        assert_eq!(o.scraped, 1);
        assert_eq!(o.series_added, 1);
        let v = values(&st, "m");
        assert_eq!(
            v[0].0.to_string(),
            r#"{__name__="m", a="1", exported_exported_job="inner", exported_job="x", instance="h:1", job="app"}"#
        );
    }

    #[test]
    fn honor_labels_keeps_sample_labels() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let mut opts = AppendOptions::for_test(target());
        opts.honor_labels = true;
        scrape(&mut c, &st, "m{job=\"inner\"} 5\n", 1000, &opts).unwrap();
        assert_eq!(
            values(&st, "m")[0].0.to_string(),
            r#"{__name__="m", instance="h:1", job="inner"}"#
        );
    }

    #[test]
    fn staleness_when_series_disappears_and_on_failure() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let opts = AppendOptions::for_test(target());
        scrape(&mut c, &st, "a 1\nb 2\nc 3 500\n", 1000, &opts).unwrap();
        let o = scrape(&mut c, &st, "a 1\n", 2000, &opts).unwrap();
        assert_eq!(o.series_added, 0);
        let b = values(&st, "b");
        assert_eq!(b[0].1.len(), 2);
        assert!(is_stale_nan(b[0].1[1].1) && b[0].1[1].0 == 2000);
        // Explicit timestamps are not tracked for staleness.
        assert_eq!(values(&st, "c")[0].1.len(), 1);
        // A failed scrape marks everything stale, once.
        assert!(scrape(&mut c, &st, "a{\n", 3000, &opts).is_err());
        assert!(scrape(&mut c, &st, "a{\n", 4000, &opts).is_err());
        let a = values(&st, "a");
        assert_eq!(a[0].1.len(), 3);
        assert!(is_stale_nan(a[0].1[2].1));
        // Coming back counts as added again.
        let o = scrape(&mut c, &st, "a 1\n", 5000, &opts).unwrap();
        assert_eq!(o.series_added, 1);
    }

    #[test]
    fn sample_limit_fails_the_scrape() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let mut opts = AppendOptions::for_test(target());
        opts.sample_limit = 2;
        scrape(&mut c, &st, "a 1\nb 1\n", 1000, &opts).unwrap();
        let e = scrape(&mut c, &st, "a 1\nb 1\nc 1\n", 2000, &opts).unwrap_err();
        assert_eq!(e.to_string(), "sample limit exceeded");
        assert!(values(&st, "c").is_empty(), "rolled back");
        assert!(is_stale_nan(values(&st, "a")[0].1[1].1));
    }

    #[test]
    fn label_limits() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let mut opts = AppendOptions::for_test(target());
        opts.label_limit = 3;
        let e = scrape(&mut c, &st, "m{a=\"1\",b=\"2\"} 1\n", 1000, &opts).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("label_limit exceeded (metric: m, number of labels: 5, limit: 3)"),
            "{e}"
        );
    }

    #[test]
    fn metric_relabel_drops() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let mut opts = AppendOptions::for_test(target());
        opts.metric_relabel = Some(Arc::new(|l: &Labels| {
            (l.metric_name() != Some("drop_me")).then(|| l.clone())
        }));
        let o = scrape(&mut c, &st, "drop_me 1\nkeep 2\n", 1000, &opts).unwrap();
        assert_eq!((o.scraped, o.post_relabel), (2, 1));
        assert!(values(&st, "drop_me").is_empty());
    }

    #[test]
    fn out_of_order_is_counted_not_fatal() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let opts = AppendOptions::for_test(target());
        scrape(&mut c, &st, "a 1 5000\n", 1000, &opts).unwrap();
        let o = scrape(&mut c, &st, "a 1 4000\nb 1\n", 2000, &opts).unwrap();
        assert_eq!(o.out_of_order, 1);
        assert_eq!(values(&st, "b").len(), 1);
    }
}
