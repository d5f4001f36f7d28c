//! Turning one scrape body into appends: label handling, limits, the series cache and
//! staleness markers. Pure with respect to IO, so it is tested without a network.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;

use sightline_exposition::{Entry, Format};
use sightline_model::{
    stale_nan, FloatHistogram, Histogram, Labels, LabelsBuilder, Metadata, MetricType, SeriesRef,
    METRIC_NAME,
};
use sightline_storage_api::Appender;

use crate::{Error, Result};

mod formats;
mod strings;
pub(crate) use formats::BodyFormat;

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
    /// How histograms are scraped.
    pub(crate) histograms: HistogramOptions,
}

/// The job's native-histogram settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HistogramOptions {
    /// `scrape_native_histograms`: read the native parts of protobuf histograms.
    pub(crate) native: bool,
    /// `always_scrape_classic_histograms`: keep the classic series too.
    pub(crate) always_classic: bool,
    /// `convert_classic_histograms_to_nhcb`.
    pub(crate) nhcb: bool,
    /// `native_histogram_bucket_limit` (0 = none).
    pub(crate) bucket_limit: usize,
    /// The schema `native_histogram_min_bucket_factor` allows at most (8 = no limit).
    pub(crate) max_schema: i32,
}

impl Default for HistogramOptions {
    fn default() -> Self {
        HistogramOptions {
            native: false,
            always_classic: false,
            nhcb: false,
            bucket_limit: 0,
            max_schema: sightline_model::histogram::EXPONENTIAL_SCHEMA_MAX,
        }
    }
}

/// The value of one scraped sample.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SampleValue<'h> {
    Float(f64),
    Histogram(&'h Histogram),
    FloatHistogram(&'h FloatHistogram),
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
            histograms: HistogramOptions::default(),
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
    /// Native histograms rejected as invalid.
    pub invalid_histograms: usize,
    /// Exemplars read (parsed and counted; storage keeps none).
    pub exemplars: usize,
}

struct CacheEntry {
    /// Final labels; `None` when relabelling dropped the series.
    labels: Option<Labels>,
    hash: u64,
    series_ref: Option<SeriesRef>,
    /// Iteration in which the entry was last seen in a body (0: never).
    seen_iter: u64,
    /// Whether its last sample had no explicit timestamp (only those get stale markers).
    tracked: bool,
    /// Where its raw series bytes are in [`RawArena`].
    raw_at: u32,
    raw_len: u32,
}

/// The raw series bytes of every entry, back to back, in the order they were first seen
/// (a target's body order), each stored once: the index and the body order refer to them by
/// slot.
#[derive(Default)]
struct RawArena {
    bytes: Vec<u8>,
    /// Bytes of evicted entries, reclaimed by [`ScrapeCache::compact`].
    garbage: usize,
}

/// The raw bytes of `slot`.
fn raw_of<'a>(slots: &[CacheEntry], arena: &'a RawArena, slot: u32) -> &'a [u8] {
    let e = &slots[slot as usize];
    let at = e.raw_at as usize;
    arena.bytes.get(at..at + e.raw_len as usize).unwrap_or(&[])
}

/// The slots of one scrape's series in body order.
#[derive(Default)]
struct Order {
    slots: Vec<u32>,
    /// The format of the body they came from, which accepted every one of them.
    format: Option<Format>,
}

impl Order {
    fn clear(&mut self) {
        self.slots.clear();
        self.format = None;
    }
}

/// Per-target state kept between scrapes: raw series bytes → labels and storage reference,
/// the series of the previous scrape (for staleness) and the latest metadata.
///
/// Keying by the raw series bytes means a series seen before costs no label decoding,
/// relabelling or allocation. A target's body lists its series in the same order scrape
/// after scrape, so the cache first compares each series with the one at the same position
/// in the previous body (bytes stored back to back in the arena: a sequential comparison)
/// and only on a mismatch looks it up by hash. The hash lookup, whose key and entry are
/// cache misses, was the largest item of the ingest profile. The raw bytes are stored once,
/// in the arena; the index holds only slots (issue 21: they were stored three times, ≈ 400
/// bytes a series).
#[derive(Default)]
pub struct ScrapeCache {
    slots: Vec<CacheEntry>,
    free: Vec<u32>,
    raw: RawArena,
    /// Slots by the hash of their raw bytes, compared against the arena on lookup.
    index: hashbrown::HashTable<u32>,
    /// foldhash (seeded per process) instead of SipHash.
    hasher: foldhash::fast::RandomState,
    /// The previous successful body's order, and this one's as it is read.
    last: Order,
    next: Order,
    iter: u64,
    /// Live slots seen in this iteration.
    seen: usize,
    /// Whether this scrape added a series or changed one's `tracked` flag.
    churn: bool,
    /// Iteration of the last pass that reached `finish`.
    completed: u64,
    /// Entries created (label sets built), for tests of the lookup paths.
    #[cfg(test)]
    created: usize,
    /// Hashes of the final label sets appended (without explicit timestamps) in the previous
    /// scrape. Their labels stay in the cache until a stale marker has been written.
    prev: HashSet<u64, foldhash::fast::RandomState>,
    cur: HashSet<u64, foldhash::fast::RandomState>,
    metadata: HashMap<String, Metadata>,
    /// Bumped whenever `metadata` changes.
    metadata_version: u64,
    /// Whether `metadata` went to storage in a batch that was not rolled back.
    metadata_stored: bool,
    builder: LabelsBuilder,
    /// The label strings of the cached label sets, one copy each.
    strings: strings::Strings,
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

    /// Changes whenever [`ScrapeCache::metadata`] does, so readers copy it only then.
    pub fn metadata_version(&self) -> u64 {
        self.metadata_version
    }

    /// The slot of `raw`, created (labels built by `fill`, relabelled, checked) if it is new.
    fn slot(
        &mut self,
        pos: usize,
        raw: &[u8],
        fill: impl FnOnce(&mut LabelsBuilder),
        opts: &AppendOptions,
    ) -> Result<u32> {
        if let Some(&slot) = self.last.slots.get(pos) {
            if raw_of(&self.slots, &self.raw, slot) == raw {
                return Ok(slot);
            }
        }
        let h = self.hasher.hash_one(raw);
        let (slots, arena) = (&self.slots, &self.raw);
        if let Some(&slot) = self.index.find(h, |&s| raw_of(slots, arena, s) == raw) {
            return Ok(slot);
        }
        let (raw_at, raw_len) = match (
            u32::try_from(self.raw.bytes.len()),
            u32::try_from(raw.len()),
        ) {
            (Ok(at), Ok(len)) if at.checked_add(len).is_some() => (at, len),
            _ => {
                return Err(Error::Parse(
                    "scrape cache full: the target's series text exceeds 4 GiB".to_string(),
                ))
            }
        };
        self.builder.clear();
        fill(&mut self.builder);
        let sample_labels = self.builder.build();
        let labels = final_labels(&sample_labels, opts);
        if let Some(l) = &labels {
            check_label_limits(l, opts)?;
        }
        let labels = labels.map(|l| self.strings.intern_labels(&l));
        let hash = labels.as_ref().map(|l| l.stable_hash()).unwrap_or(0);
        let entry = CacheEntry {
            labels,
            hash,
            series_ref: None,
            seen_iter: 0,
            tracked: false,
            raw_at,
            raw_len,
        };
        self.raw.bytes.extend_from_slice(raw);
        #[cfg(test)]
        {
            self.created += 1;
        }
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = entry;
                i
            }
            None => {
                self.slots.push(entry);
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, arena, hasher) = (&self.slots, &self.raw, &self.hasher);
        self.index
            .insert_unique(h, slot, |&s| hasher.hash_one(raw_of(slots, arena, s)));
        Ok(slot)
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
        self.begin();
        self.next.format = Some(format);
        let mut out = AppendOutcome::default();
        let mut new_meta: HashMap<String, Metadata> = HashMap::new();
        let mut parser = sightline_exposition::parse(body, format);
        // The previous body's series, all accepted in this format, spare the parser from
        // validating label blocks it has seen before at the same position.
        let expect = self.last.format == Some(format);
        loop {
            let known = if expect {
                self.last
                    .slots
                    .get(out.scraped)
                    .map(|&slot| raw_of(&self.slots, &self.raw, slot))
            } else {
                None
            };
            let Some(entry) = parser.next_expecting(known) else {
                break;
            };
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
            let (raw, ts_opt, value) = (s.raw, s.timestamp_ms, s.value);
            self.add_sample(
                app,
                &mut out,
                raw,
                |b| s.labels_into(b),
                ts_opt,
                0,
                SampleValue::Float(value),
                ts,
                opts,
            )?;
        }
        self.end_body(app, new_meta, format == Format::OpenMetrics, ts)?;
        Ok(out)
    }

    /// After the body: metadata to storage when it changed, stale markers, cache settled.
    /// `authoritative`: the format always states every family's metadata (OpenMetrics,
    /// protobuf), so an empty set replaces a non-empty one.
    pub(crate) fn end_body(
        &mut self,
        app: &mut dyn Appender,
        new_meta: HashMap<String, Metadata>,
        authoritative: bool,
        ts: i64,
    ) -> Result<()> {
        // Metadata goes to storage when it changes (and on the first scrape), not every time.
        if (authoritative || !new_meta.is_empty()) && new_meta != self.metadata {
            self.metadata = new_meta;
            self.metadata_version += 1;
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
        self.finish(app, ts)
    }

    /// Appends one sample: finds or creates its cache slot (`raw` is its identity, `fill`
    /// builds its labels on a miss), applies the sample and histogram limits, appends, and
    /// counts. `ts_opt` is the sample's own timestamp, `st` its start timestamp (0 = none),
    /// `ts` the scrape's.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_sample(
        &mut self,
        app: &mut dyn Appender,
        out: &mut AppendOutcome,
        raw: &[u8],
        fill: impl FnOnce(&mut LabelsBuilder),
        ts_opt: Option<i64>,
        st: i64,
        value: SampleValue<'_>,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<()> {
        let pos = out.scraped;
        out.scraped += 1;
        let explicit_ts = opts.honor_timestamps && ts_opt.is_some();
        let t = if opts.honor_timestamps {
            ts_opt.unwrap_or(ts)
        } else {
            ts
        };
        let iter = self.iter;
        let slot = self.slot(pos, raw, fill, opts)?;
        self.next.slots.push(slot);
        let ce = &mut self.slots[slot as usize];
        // Not seen in the last completed pass (nor earlier in this one). A pass that
        // ended early without `append_failed` does not count as completed.
        let is_new = ce.seen_iter == 0 || (ce.seen_iter != iter && ce.seen_iter != self.completed);
        if ce.seen_iter != iter {
            self.seen += 1;
        }
        ce.seen_iter = iter;
        let Some(labels) = &ce.labels else {
            return Ok(());
        };
        out.post_relabel += 1;
        // A histogram counts as one sample, as in Prometheus.
        if opts.sample_limit > 0 && out.post_relabel > opts.sample_limit {
            return Err(Error::SampleLimit);
        }
        let res = match value {
            SampleValue::Float(v) if st != 0 => {
                app.append_with_start(ce.series_ref, labels, st, t, v)
            }
            SampleValue::Float(v) => app.append(ce.series_ref, labels, t, v),
            SampleValue::Histogram(h) => {
                let h = crate::histograms::limit_int(h, &opts.histograms)?;
                app.append_histogram(ce.series_ref, labels, t, &h)
            }
            SampleValue::FloatHistogram(h) => {
                let h = crate::histograms::limit_float(h, &opts.histograms)?;
                app.append_float_histogram(ce.series_ref, labels, t, &h)
            }
        };
        match res {
            Ok(r) => {
                ce.series_ref = Some(r);
                if is_new && !self.prev.contains(&ce.hash) {
                    out.series_added += 1;
                }
            }
            Err(sightline_storage_api::Error::OutOfOrderSample) => out.out_of_order += 1,
            Err(sightline_storage_api::Error::DuplicateSampleForTimestamp) => out.duplicate += 1,
            Err(sightline_storage_api::Error::OutOfBounds) => out.out_of_bounds += 1,
            Err(sightline_storage_api::Error::InvalidHistogram(_)) => out.invalid_histograms += 1,
            Err(e) => return Err(e.into()),
        }
        if is_new || ce.tracked == explicit_ts {
            self.churn = true;
        }
        ce.tracked = !explicit_ts;
        Ok(())
    }

    pub(crate) fn begin(&mut self) {
        self.iter += 1;
        self.seen = 0;
        self.churn = false;
        self.next.clear();
    }

    /// Records a failed scrape: every series of the previous successful scrape gets a stale
    /// marker at `ts`, exactly as an empty body would.
    pub(crate) fn append_failed(&mut self, app: &mut dyn Appender, ts: i64) -> Result<()> {
        self.metadata_stored = false;
        self.begin();
        self.finish(app, ts)
    }

    /// Stale markers for series in `prev` but not in this scrape; this scrape's series
    /// become `prev`; entries not seen in this scrape are evicted.
    ///
    /// Entries not seen in this scrape were all seen in the previous one (older ones were
    /// evicted then), so they carry the labels a stale marker needs: nothing is cloned per
    /// scrape. When the body held exactly the previous series (the steady state) there is
    /// nothing to mark, evict or recompute.
    fn finish(&mut self, app: &mut dyn Appender, ts: i64) -> Result<()> {
        let iter = self.iter;
        self.completed = iter;
        let live = self.slots.len() - self.free.len();
        if !self.churn && self.seen == live {
            std::mem::swap(&mut self.last, &mut self.next);
            return Ok(());
        }
        let mut res = Ok(());
        self.cur.clear();
        for e in &self.slots {
            if e.seen_iter == iter && e.tracked && e.labels.is_some() {
                self.cur.insert(e.hash);
            }
        }
        for e in &self.slots {
            // Free slots have no labels and are skipped below.
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
                Err(e) => {
                    // The batch fails; the cache still settles below.
                    res = Err(e.into());
                    break;
                }
            }
        }
        let slots = &mut self.slots;
        let free = &mut self.free;
        let garbage = &mut self.raw.garbage;
        self.index.retain(|&mut i| {
            let e = &mut slots[i as usize];
            let keep = e.seen_iter == iter;
            if !keep {
                e.labels = None;
                *garbage += e.raw_len as usize;
                e.raw_len = 0;
                free.push(i);
            }
            keep
        });
        self.strings.sweep();
        std::mem::swap(&mut self.prev, &mut self.cur);
        // Every slot in this scrape's order was seen in it, so none of them was freed.
        std::mem::swap(&mut self.last, &mut self.next);
        self.compact();
        res
    }

    /// Rewrites the arena without the bytes of evicted entries once they are half of it,
    /// in the last body's order (so the next scrape compares sequentially again), and
    /// gives back growth slack.
    fn compact(&mut self) {
        let len = self.raw.bytes.len();
        if self.raw.garbage > 4096 && self.raw.garbage * 2 > len {
            let mut bytes = Vec::with_capacity(len - self.raw.garbage);
            let mut moved = vec![false; self.slots.len()];
            // After `finish`, the live entries are exactly those of the last body.
            for &slot in &self.last.slots {
                let Some(m) = moved.get_mut(slot as usize) else {
                    continue;
                };
                if std::mem::replace(m, true) {
                    continue;
                }
                let e = &mut self.slots[slot as usize];
                let at = e.raw_at as usize;
                let src = self
                    .raw
                    .bytes
                    .get(at..at + e.raw_len as usize)
                    .unwrap_or(&[]);
                // The new arena is no larger than the old one, whose offsets fit in u32.
                e.raw_at = bytes.len() as u32;
                bytes.extend_from_slice(src);
            }
            self.raw.bytes = bytes;
            self.raw.garbage = 0;
        } else if self.raw.bytes.capacity() > len + len / 4 + 4096 {
            self.raw.bytes.shrink_to(len + len / 8);
        }
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

    /// Under churn the arena of raw series bytes is compacted, and series found after a
    /// compaction (in body order and, reordered, through the hash index) are the same ones.
    #[test]
    fn raw_arena_is_compacted_under_churn_and_lookups_stay_right() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let opts = AppendOptions::for_test(target());
        for round in 0..20i64 {
            let mut stay: Vec<String> = (0..200)
                .map(|i| format!("stay_metric_with_a_long_name{{i=\"{i}\"}} {round}\n"))
                .collect();
            if round % 2 == 1 {
                stay.reverse();
            }
            let mut body = stay.concat();
            for i in 0..200 {
                body += &format!("churn_metric_with_a_long_name{{r=\"{round}\",i=\"{i}\"}} 1\n");
            }
            let out = scrape(&mut c, &st, &body, 1000 * (round + 1), &opts).unwrap();
            assert_eq!(out.scraped, 400);
            let added = if round == 0 { 400 } else { 200 };
            assert_eq!(out.series_added, added, "round {round}");
        }
        assert_eq!(c.created, 200 + 200 * 20);
        // Live: 400 series of about 50 bytes; without compaction it would be 4,200 of them.
        assert!(c.raw.bytes.len() < 800 * 60, "{} bytes", c.raw.bytes.len());
        let v = values(&st, "stay_metric_with_a_long_name");
        assert_eq!(v.len(), 200);
        for (_, samples) in &v {
            let want: Vec<(i64, f64)> = (0..20).map(|r| (1000 * (r + 1), r as f64)).collect();
            assert_eq!(samples, &want);
        }
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

    /// Random bodies (subsets of a pool of series in random order, some repeated, some with
    /// explicit timestamps, some failing) against a model of Prometheus' staleness rules:
    /// the positional fast path must never change what is stored.
    #[test]
    fn cache_matches_staleness_model_under_reordering_and_churn() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let opts = AppendOptions::for_test(target());
        let mut rng = fastrand::Rng::with_seed(99);
        let pool: Vec<String> = (0..12).map(|i| format!("m{{k=\"{i}\"}}")).collect();
        // series index -> expected (t, value or stale)
        let mut want: Vec<Vec<(i64, Option<f64>)>> = vec![Vec::new(); pool.len()];
        let mut prev: Vec<usize> = Vec::new();
        let mut order: Vec<usize> = (0..pool.len()).collect();
        let mut aborted = false;
        for step in 1..400i64 {
            let ts = step * 1000;
            match rng.u8(0..10) {
                0 => rng.shuffle(&mut order),
                1 => {
                    let i = rng.usize(0..order.len());
                    let j = rng.usize(0..order.len());
                    order.swap(i, j);
                }
                _ => {}
            }
            let present: Vec<usize> = order
                .iter()
                .copied()
                .filter(|_| rng.u8(0..10) < 8 || step % 5 != 0)
                .collect();
            if rng.u8(0..30) == 0 {
                // A body that fails half-way and is only rolled back (no `append_failed`):
                // the cache must forget the pass, as if it never happened.
                let mut body = String::new();
                for p in &pool {
                    body.push_str(&format!("{p} 1\n"));
                }
                body.push_str("m{\n");
                let mut app = st.appender();
                let r = c.append(app.as_mut(), body.as_bytes(), Format::PromText, ts, &opts);
                assert!(r.is_err());
                app.rollback().unwrap();
                aborted = true;
                continue;
            }
            if rng.u8(0..25) == 0 {
                // A failed scrape: everything of the last good one goes stale.
                assert!(scrape(&mut c, &st, "m{\n", ts, &opts).is_err());
                for &i in &prev {
                    want[i].push((ts, None));
                }
                prev.clear();
                continue;
            }
            let mut body = String::new();
            for &i in &present {
                body.push_str(&format!("{} {}\n", pool[i], step * 10 + i as i64));
                if rng.u8(0..40) == 0 {
                    // A repeated line (same value): stored once, added once.
                    body.push_str(&format!("{} {}\n", pool[i], step * 10 + i as i64));
                }
            }
            let created = c.created;
            let o = scrape(&mut c, &st, &body, ts, &opts).unwrap();
            let added = present.iter().filter(|i| !prev.contains(i)).count();
            assert_eq!(o.series_added, added, "step {step}");
            // A series of the last good scrape is found again, wherever it moved to; only
            // new ones build labels (fewer if an aborted pass already built them).
            if aborted {
                assert!(c.created - created <= added, "step {step}");
            } else {
                assert_eq!(c.created - created, added, "step {step}");
            }
            aborted = false;
            for &i in &present {
                want[i].push((ts, Some((step * 10 + i as i64) as f64)));
            }
            for &i in &prev {
                if !present.contains(&i) {
                    want[i].push((ts, None));
                }
            }
            prev = present;
            assert_eq!(c.active_series(), prev.len());
        }
        let got = values(&st, "m");
        for (labels, samples) in got {
            let i: usize = labels.get("k").unwrap().parse().unwrap();
            let exp = &want[i];
            assert_eq!(samples.len(), exp.len(), "series {i}");
            for (g, w) in samples.iter().zip(exp) {
                assert_eq!(g.0, w.0, "series {i}");
                match w.1 {
                    Some(v) => assert_eq!(g.1, v, "series {i} at {}", w.0),
                    None => assert!(is_stale_nan(g.1), "series {i} at {}", w.0),
                }
            }
        }
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
