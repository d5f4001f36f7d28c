//! The read path: a querier over `[min_t, max_t]` that merges head and persisted chunks per
//! label set, applies tombstones, and iterates samples lazily when chunks do not overlap.

use std::collections::hash_map::Entry;
use std::collections::BTreeSet;
use std::sync::Arc;

use sightline_model::{is_stale_nan, FloatHistogram, Labels, Matcher, Sample, TimestampMs};
use sightline_storage_api::{
    labels_match, next_until_by_sample, OneBatch, Querier, SampleIterator, SelectHints, Series,
    SeriesBatches,
};

use crate::anychunk::{self, ReadSample};
use crate::chunk::ChunkIter;
use crate::db::Tsdb;
use crate::error::Result;
use crate::head::IdMap;
use crate::head_read::HEAD_READ_BATCH;
use crate::postings;
use crate::store::{Partition, Store, StoredChunk};
use crate::wal::Tombstone;

pub(crate) struct TsdbQuerier<'a> {
    pub(crate) db: &'a Tsdb,
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) tombstones: Vec<Tombstone>,
}

/// The head's series of a selection, read a batch at a time ([`Querier::select_batches`]).
struct HeadBatches<'q> {
    q: &'q TsdbQuerier<'q>,
    ids: Vec<u64>,
    next: usize,
    cap: TimestampMs,
    /// Holds sealing off until the last batch is read.
    _gate: parking_lot::RwLockReadGuard<'q, ()>,
}

impl SeriesBatches for HeadBatches<'_> {
    fn next_batch(&mut self) -> sightline_storage_api::Result<Option<Vec<Series>>> {
        if self.next >= self.ids.len() {
            return Ok(None);
        }
        let end = (self.next + HEAD_READ_BATCH).min(self.ids.len());
        let batch = &self.ids[self.next..end];
        self.next = end;
        let data = self.q.db.head_batch(batch, self.q.min_t, self.cap);
        Ok(Some(
            data.into_iter()
                .filter_map(|d| {
                    let c = Collected {
                        chunks: d.chunks,
                        extra: d.ooo,
                    };
                    self.q.series(d.labels, c)
                })
                .collect(),
        ))
    }
}

/// Iterates one series' samples inside a time range, skipping deleted intervals.
pub(crate) struct SeriesIter {
    /// Chunks by time; a sample past its chunk's `max_t` is not returned (a head chunk is
    /// cut at the time the query's head read began, see `head_read`).
    chunks: Vec<StoredChunk>,
    next_chunk: usize,
    cur: Option<ChunkIter<Arc<[u8]>>>,
    /// The `max_t` of the chunk `cur` iterates.
    cur_max_t: TimestampMs,
    /// The decoded samples of the current histogram chunk (at most a chunk's worth).
    hcur: Option<(Vec<ReadSample>, usize)>,
    /// The histogram of the sample last returned.
    hist: Option<Arc<FloatHistogram>>,
    has_hist: bool,
    /// Used instead of `chunks` when chunks overlap or out-of-order samples exist.
    eager: Option<(Vec<ReadSample>, usize)>,
    min_t: TimestampMs,
    max_t: TimestampMs,
    deleted: Vec<(TimestampMs, TimestampMs)>,
}

impl SeriesIter {
    pub(crate) fn new(
        mut chunks: Vec<StoredChunk>,
        extra: Vec<Sample>,
        min_t: TimestampMs,
        max_t: TimestampMs,
        deleted: Vec<(TimestampMs, TimestampMs)>,
    ) -> Self {
        chunks.sort_by_key(|c| (c.min_t, c.max_t));
        let has_hist = chunks.iter().any(|c| anychunk::is_histogram_chunk(&c.data));
        let overlapping = chunks.windows(2).any(|w| w[1].min_t <= w[0].max_t);
        let eager = if overlapping || !extra.is_empty() {
            let mut all: Vec<ReadSample> = extra.into_iter().map(|s| (s, None)).collect();
            for c in &chunks {
                match anychunk::decode_read(&c.data) {
                    Ok(v) => all.extend(v.into_iter().filter(|s| s.0.t <= c.max_t)),
                    Err(e) => tracing::warn!(error = %e, "skipping undecodable chunk"),
                }
            }
            // Stable sort keeps the first source for equal timestamps.
            all.sort_by_key(|s| s.0.t);
            all.dedup_by_key(|s| s.0.t);
            all.retain(|(s, _)| {
                s.t >= min_t && s.t <= max_t && !deleted.iter().any(|(a, b)| s.t >= *a && s.t <= *b)
            });
            Some((all, 0))
        } else {
            None
        };
        SeriesIter {
            chunks,
            next_chunk: 0,
            cur: None,
            cur_max_t: TimestampMs::MAX,
            hcur: None,
            hist: None,
            has_hist,
            eager,
            min_t,
            max_t,
            deleted,
        }
    }

    fn is_deleted(&self, t: TimestampMs) -> bool {
        self.deleted.iter().any(|(a, b)| t >= *a && t <= *b)
    }

    fn raw_next(&mut self) -> Option<ReadSample> {
        loop {
            if let Some((v, pos)) = self.hcur.as_mut() {
                if let Some(s) = v.get(*pos) {
                    *pos += 1;
                    return Some(s.clone());
                }
                self.hcur = None;
            }
            if let Some(it) = self.cur.as_mut() {
                match it.next_sample() {
                    Some(s) if s.t <= self.cur_max_t => return Some((s, None)),
                    // Past the chunk's cut: the rest of it is too.
                    Some(_) => {
                        self.cur = None;
                        continue;
                    }
                    None => {}
                }
                if let Some(e) = it.error() {
                    tracing::warn!(error = %e, "chunk ended early");
                }
                self.cur = None;
            }
            if !self.open_next_chunk() {
                return None;
            }
        }
    }

    /// Opens the next chunk as `cur` (floats) or `hcur` (histograms, decoded whole); false
    /// when no chunk is left. An undecodable chunk is logged and leaves both empty.
    fn open_next_chunk(&mut self) -> bool {
        let Some(c) = self.chunks.get(self.next_chunk) else {
            return false;
        };
        self.next_chunk += 1;
        if anychunk::is_histogram_chunk(&c.data) {
            match anychunk::decode_read(&c.data) {
                Ok(mut v) => {
                    v.retain(|s| s.0.t <= c.max_t);
                    self.hcur = Some((v, 0));
                }
                Err(e) => tracing::warn!(error = %e, "skipping undecodable chunk"),
            }
            return true;
        }
        match ChunkIter::new(c.data.clone()) {
            Ok(it) => {
                self.cur = Some(it);
                self.cur_max_t = c.max_t;
            }
            Err(e) => tracing::warn!(error = %e, "skipping undecodable chunk"),
        }
        true
    }

    /// Ends the iteration: a sample past `max_t` was read.
    fn finish(&mut self) {
        self.chunks.clear();
        self.cur = None;
        self.hcur = None;
    }
}

impl SampleIterator for SeriesIter {
    fn next_sample(&mut self) -> Option<Sample> {
        self.hist = None;
        if let Some((v, pos)) = self.eager.as_mut() {
            let s = v.get(*pos).cloned();
            *pos += 1;
            let (s, h) = s?;
            self.hist = h;
            return Some(s);
        }
        loop {
            let (s, h) = self.raw_next()?;
            if s.t < self.min_t || self.is_deleted(s.t) {
                continue;
            }
            if s.t > self.max_t {
                self.finish();
                return None;
            }
            self.hist = h;
            return Some(s);
        }
    }

    /// The loop of `next_sample` with the chunk iterator's decoding inlined, for series of
    /// float chunks in time order with nothing deleted (the rest take the per-sample path).
    fn next_until(
        &mut self,
        until: TimestampMs,
        out: &mut Vec<Sample>,
        drop_stale: bool,
    ) -> (Option<Sample>, usize) {
        if self.eager.is_some() || self.has_hist || !self.deleted.is_empty() {
            return next_until_by_sample(self, until, out, drop_stale);
        }
        self.hist = None;
        let (min_t, max_t) = (self.min_t, self.max_t);
        let mut n = 0;
        loop {
            if let Some(it) = self.cur.as_mut() {
                let cut = self.cur_max_t;
                // Leaves the loop at the chunk's end or cut (the rest of it is past the cut too).
                while let Some(s) = it.next_sample() {
                    if s.t > cut {
                        break;
                    }
                    if s.t < min_t {
                        continue;
                    }
                    if s.t > max_t {
                        self.finish();
                        return (None, n);
                    }
                    if s.t > until {
                        return (Some(s), n);
                    }
                    n += 1;
                    if !(drop_stale && is_stale_nan(s.v)) {
                        out.push(s);
                    }
                }
                if let Some(e) = it.error() {
                    tracing::warn!(error = %e, "chunk ended early");
                }
                self.cur = None;
            }
            if !self.open_next_chunk() {
                return (None, n);
            }
        }
    }

    fn histogram(&self) -> Option<&Arc<FloatHistogram>> {
        self.hist.as_ref()
    }

    fn has_histograms(&self) -> bool {
        self.has_hist
    }

    fn seek(&mut self, t: TimestampMs) -> Option<Sample> {
        if let Some((v, pos)) = self.eager.as_mut() {
            *pos += v[(*pos).min(v.len())..].partition_point(|s| s.0.t < t);
            return self.next_sample();
        }
        // Skip whole chunks that end before `t`.
        if self.cur.is_none()
            || self
                .chunks
                .get(self.next_chunk.wrapping_sub(1))
                .is_some_and(|c| c.max_t < t)
        {
            self.cur = None;
            self.hcur = None;
            while self
                .chunks
                .get(self.next_chunk)
                .is_some_and(|c| c.max_t < t)
            {
                self.next_chunk += 1;
            }
        }
        loop {
            let s = self.next_sample()?;
            if s.t >= t {
                return Some(s);
            }
        }
    }
}

struct Collected {
    chunks: Vec<StoredChunk>,
    extra: Vec<Sample>,
}

impl TsdbQuerier<'_> {
    fn deleted_for(&self, labels: &Labels) -> Vec<(TimestampMs, TimestampMs)> {
        self.tombstones
            .iter()
            .filter(|t| labels_match(labels, &t.matchers))
            .map(|t| (t.min_t, t.max_t))
            .collect()
    }

    /// A selected series over the querier's range, or `None` when every sample in it is
    /// deleted or out of range.
    fn series(&self, labels: Labels, c: Collected) -> Option<Series> {
        let deleted = self.deleted_for(&labels);
        let it = SeriesIter::new(c.chunks, c.extra, self.min_t, self.max_t, deleted);
        if let Some((v, _)) = &it.eager {
            if v.is_empty() {
                return None;
            }
        } else if !it.deleted.is_empty() {
            let mut probe = SeriesIter {
                chunks: it.chunks.clone(),
                next_chunk: 0,
                cur: None,
                cur_max_t: TimestampMs::MAX,
                hcur: None,
                hist: None,
                has_hist: it.has_hist,
                eager: None,
                min_t: it.min_t,
                max_t: it.max_t,
                deleted: it.deleted.clone(),
            };
            probe.next_sample()?;
        }
        Some(Series {
            labels,
            samples: Box::new(it),
        })
    }

    /// The persisted partitions holding data inside the querier's range.
    fn overlapping_partitions(&self) -> Vec<Partition> {
        let mut parts = self.db.store.partitions();
        parts.retain(|p| !(p.max_t <= self.min_t || p.min_t > self.max_t));
        parts
    }

    /// The head's series, with chunks from memory and from head chunk files. Label sets are
    /// unique in the head, so no merge map is built when no partition overlaps.
    fn collect_head(&self, matchers: &[Matcher]) -> Result<Vec<(Labels, Collected)>> {
        Ok(self
            .db
            .head_data(|h| postings::select(h, matchers), self.min_t, self.max_t)?
            .into_iter()
            .map(|d| {
                (
                    d.labels,
                    Collected {
                        chunks: d.chunks,
                        extra: d.ooo,
                    },
                )
            })
            .collect())
    }

    /// Head and partitions, merged by label set. Label sets are matched by their 64-bit hash
    /// (then compared), not by hashing whole label sets in a `HashMap<Labels, _>`.
    fn collect(
        &self,
        mut out: Vec<(Labels, Collected)>,
        matchers: &[Matcher],
        parts: &[Partition],
    ) -> Result<Vec<(Labels, Collected)>> {
        let mut first: IdMap<usize> = IdMap::default();
        // Indices whose hash was already taken by another label set (hash collisions).
        let mut collided: Vec<usize> = Vec::new();
        first.reserve(out.len());
        for (i, (l, _)) in out.iter().enumerate() {
            match first.entry(l.stable_hash()) {
                Entry::Vacant(v) => {
                    v.insert(i);
                }
                Entry::Occupied(_) => collided.push(i),
            }
        }
        for p in parts {
            for s in Store::select(p, matchers, self.min_t, self.max_t)? {
                let h = s.labels.stable_hash();
                let found = match first.get(&h) {
                    Some(&i) if out[i].0 == s.labels => Some(i),
                    Some(_) => collided.iter().copied().find(|&i| out[i].0 == s.labels),
                    None => None,
                };
                match found {
                    Some(i) => out[i].1.chunks.extend(s.chunks),
                    None => {
                        let i = out.len();
                        match first.entry(h) {
                            Entry::Vacant(v) => {
                                v.insert(i);
                            }
                            Entry::Occupied(_) => collided.push(i),
                        }
                        out.push((
                            s.labels,
                            Collected {
                                chunks: s.chunks,
                                extra: Vec::new(),
                            },
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    fn label_sets(&self, matchers: &[Matcher]) -> Result<Vec<Labels>> {
        let mut out = Vec::new();
        {
            let head = self.db.head.read();
            let ids = postings::select(&*head, matchers)?;
            out.extend(head.labels_for(&ids));
        }
        for p in self.db.store.partitions() {
            if p.max_t <= self.min_t || p.min_t > self.max_t {
                continue;
            }
            out.extend(Store::select_labels(&p, matchers)?);
        }
        Ok(out)
    }
}

impl Querier for TsdbQuerier<'_> {
    fn select(
        &self,
        sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> sightline_storage_api::Result<Vec<Series>> {
        // The head first, then the partition list: sealing publishes a partition before it
        // drops the head's references to the same chunks, so in this order a partition
        // sealed meanwhile is seen in one place or the other (or both, merged), never in
        // neither.
        let head = self.collect_head(matchers)?;
        #[cfg(test)]
        test_hooks::pause_between_reads();
        let parts = self.overlapping_partitions();
        let collected = if parts.is_empty() {
            head
        } else {
            self.collect(head, matchers, &parts)?
        };
        let mut out: Vec<Series> = Vec::with_capacity(collected.len());
        out.extend(
            collected
                .into_iter()
                .filter_map(|(labels, c)| self.series(labels, c)),
        );
        if sorted {
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        Ok(out)
    }

    /// The head's series a batch at a time, when no persisted partition overlaps the range
    /// (otherwise head and partitions are merged by label set first, as `select` does, and
    /// handed over as one batch, as also while a seal runs). Sealing, which moves head data
    /// into a new partition, is held off while the batches are read (`Tsdb::seal_gate`), so
    /// every batch sees the head's data of the whole range, as `select` would.
    fn select_batches<'s>(
        &'s self,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> sightline_storage_api::Result<Box<dyn SeriesBatches + 's>> {
        // While a seal runs (or overlapping partitions exist) the head and the partitions are
        // read whole and merged, as `select` does, rather than waiting for the seal.
        let gate = match self.db.seal_gate.try_read() {
            Some(g) if self.overlapping_partitions().is_empty() => g,
            _ => {
                let all = self.select(false, hints, matchers)?;
                return Ok(Box::new(OneBatch(Some(all))));
            }
        };
        let (ids, cap) = self
            .db
            .head_select(|h| postings::select(h, matchers), self.max_t)?;
        Ok(Box::new(HeadBatches {
            q: self,
            ids,
            next: 0,
            cap,
            _gate: gate,
        }))
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
    ) -> sightline_storage_api::Result<Vec<String>> {
        let mut set = BTreeSet::new();
        if matchers.is_empty() {
            let head = self.db.head.read();
            set.extend(postings::PostingsSource::values_with_prefix(
                &*head, name, "",
            )?);
            drop(head);
            for p in self.db.store.partitions() {
                if p.max_t <= self.min_t || p.min_t > self.max_t {
                    continue;
                }
                set.extend(Store::label_values(&p, name)?);
            }
        } else {
            for l in self.label_sets(matchers)? {
                if let Some(v) = l.get(name) {
                    set.insert(v.to_string());
                }
            }
        }
        Ok(set.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> sightline_storage_api::Result<Vec<String>> {
        let mut set = BTreeSet::new();
        if matchers.is_empty() {
            set.extend(self.db.head.read().label_names());
            for p in self.db.store.partitions() {
                if p.max_t <= self.min_t || p.min_t > self.max_t {
                    continue;
                }
                set.extend(Store::label_names(&p)?);
            }
        } else {
            for l in self.label_sets(matchers)? {
                for x in &l {
                    set.insert(x.name.to_string());
                }
            }
        }
        Ok(set.into_iter().collect())
    }
}

/// Test hooks of the read path (compiled into unit tests only).
#[cfg(test)]
pub(crate) mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        /// A pause between reading the head and reading the partition list, on this thread:
        /// it widens the window a concurrent seal has to fall into.
        pub(crate) static PAUSE_US: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn pause_between_reads() {
        let us = PAUSE_US.with(Cell::get);
        if us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::XorAppender;

    /// A float chunk of `samples`, stored with its own bounds or a cut `max_t`.
    fn chunk(samples: &[(i64, f64)], max_t: Option<i64>) -> StoredChunk {
        let mut a = XorAppender::new();
        for &(t, v) in samples {
            a.append(t, v);
        }
        StoredChunk {
            min_t: samples[0].0,
            max_t: max_t.unwrap_or(samples[samples.len() - 1].0),
            data: Arc::from(a.into_bytes()),
        }
    }

    fn series(min_t: i64, max_t: i64, deleted: Vec<(i64, i64)>) -> SeriesIter {
        let stale = sightline_model::stale_nan();
        let a: Vec<(i64, f64)> = (0..120).map(|i| (i * 10, i as f64)).collect();
        let mut b: Vec<(i64, f64)> = (120..250).map(|i| (i * 10, i as f64 * 0.5)).collect();
        b[7].1 = stale;
        b[8].1 = stale;
        // The third chunk is cut at 2,600: the samples after it are not the query's.
        let c: Vec<(i64, f64)> = (250..280).map(|i| (i * 10, -(i as f64))).collect();
        let chunks = vec![chunk(&a, None), chunk(&b, None), chunk(&c, Some(2_600))];
        SeriesIter::new(chunks, Vec::new(), min_t, max_t, deleted)
    }

    /// Reads a whole series with `next_until` at the given limits (each limit's leftover
    /// sample pushed first, as the engine does), with its sample counts.
    fn by_batches(mut it: SeriesIter, limits: &[i64], drop_stale: bool) -> (Vec<Sample>, usize) {
        let (mut out, mut read) = (Vec::new(), 0);
        let mut pending = it.next_sample();
        for &limit in limits {
            let Some(p) = pending.filter(|p| p.t <= limit) else {
                continue;
            };
            read += 1;
            if !(drop_stale && is_stale_nan(p.v)) {
                out.push(p);
            }
            let (next, n) = it.next_until(limit, &mut out, drop_stale);
            read += n;
            pending = next;
        }
        (out, read)
    }

    fn one_by_one(mut it: SeriesIter, drop_stale: bool) -> (Vec<Sample>, usize) {
        let (mut out, mut read) = (Vec::new(), 0);
        while let Some(s) = it.next_sample() {
            read += 1;
            if !(drop_stale && is_stale_nan(s.v)) {
                out.push(s);
            }
        }
        (out, read)
    }

    fn bits(v: &[Sample]) -> Vec<(i64, u64)> {
        v.iter().map(|s| (s.t, s.v.to_bits())).collect()
    }

    #[test]
    fn next_until_returns_what_next_sample_does() {
        let limits: Vec<i64> = (0..40).map(|i| i * 75 - 3).chain([i64::MAX]).collect();
        for (min_t, max_t) in [(0, i64::MAX), (555, 2_345), (1_195, 1_205), (3_000, 4_000)] {
            for deleted in [vec![], vec![(1_000, 1_500)]] {
                for drop_stale in [false, true] {
                    let want = one_by_one(series(min_t, max_t, deleted.clone()), drop_stale);
                    let got =
                        by_batches(series(min_t, max_t, deleted.clone()), &limits, drop_stale);
                    assert_eq!(bits(&got.0), bits(&want.0), "{min_t}..{max_t} {deleted:?}");
                    assert_eq!(got.1, want.1, "samples read, {min_t}..{max_t} {deleted:?}");
                }
            }
        }
        // The cut chunk ends the series at 2,600, and the stale markers are read but dropped.
        let (all, read) = one_by_one(series(0, i64::MAX, vec![]), true);
        assert_eq!(all.last().map(|s| s.t), Some(2_600));
        assert_eq!(read, all.len() + 2);
    }

    #[test]
    fn next_until_stops_at_the_limit_and_hands_back_the_next_sample() {
        let mut it = series(0, i64::MAX, vec![]);
        let mut out = Vec::new();
        let (next, n) = it.next_until(1_195, &mut out, false);
        assert_eq!(
            (out.len(), n),
            (120, 120),
            "0..=1,190 are the first chunk's"
        );
        assert_eq!(next.map(|s| s.t), Some(1_200));
        // After a sample past `max_t` the series is over.
        let mut it = series(0, 1_000, vec![]);
        let (next, n) = it.next_until(5_000, &mut out, false);
        assert_eq!((next, n), (None, 101));
        assert!(it.next_sample().is_none());
    }
}
