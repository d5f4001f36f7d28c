//! The in-memory head: recent series with their open and not yet persisted chunks, interned
//! label sets and an inverted postings index.
//!
//! Memory layout is chosen for millions of series: a series is a small struct holding its
//! label set as symbol ids (`u32` pairs into one shared string table), one open chunk encoder,
//! the closed chunks that maintenance has not yet appended to a head chunk file, and 24-byte
//! references to those it has (`headchunks`), until their partition is sealed. Series are found by
//! id (the [`SeriesRef`](sightline_model::SeriesRef) handed to appenders) without hashing
//! labels, or by the labels' stable hash.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use sightline_model::{ArcStr, Label, Labels, Sample, TimestampMs};

use crate::anychunk::{HistOpen, HistValue};

mod hist;
mod table;
use crate::chunk::{XorAppender, MAX_SAMPLES};
use crate::error::Result;
use crate::headchunks::ChunkRef;
use crate::postings::{List, PostingsSource};
use crate::store::StoredChunk;
use hist::{append_hist, check_order_hist, HistState};
pub(crate) use hist::{stale_hist, LastKind};

/// A hasher for keys that are already well distributed or sequential (series ids, label hashes).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // The low bits pick the bucket: kept as they are, so series created together (one
        // target's, in body order) sit in neighbouring buckets and a scrape walks memory in
        // order. The top 7 bits are hashbrown's tag byte: taken from a Fibonacci hash so tags
        // still tell keys apart.
        const TAG: u64 = 0xFE00_0000_0000_0000;
        (self.0 & !TAG) | (self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) & TAG)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Interned strings shared by all label sets of the head.
///
/// The strings are the same [`ArcStr`]s that label sets hold: building a series' labels for
/// a query clones them (a reference-count bump each), and a new symbol keeps the string of
/// the label set that introduced it rather than copying it.
#[derive(Default)]
pub(crate) struct Symbols {
    /// foldhash instead of SipHash: every label of every new series is looked up here.
    ids: HashMap<ArcStr, u32, foldhash::fast::RandomState>,
    strs: Vec<ArcStr>,
}

impl Symbols {
    fn intern(&mut self, s: &ArcStr) -> u32 {
        if let Some(id) = self.ids.get(s.as_str()) {
            return *id;
        }
        let id = self.strs.len() as u32;
        self.strs.push(s.clone());
        self.ids.insert(s.clone(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &ArcStr {
        // Symbol ids are only created by `intern`, so they are always in range.
        &self.strs[id as usize]
    }

    fn len(&self) -> usize {
        self.strs.len()
    }
}

/// A full chunk waiting to be persisted.
///
/// Its bytes are the open chunk's own buffer, shrunk in place: closing a chunk allocates
/// nothing (`Bytes::from` a `Vec` whose length is its capacity takes the buffer as it is).
/// Every series of a scrape closes its chunk at the same sample, so a copy here was a burst
/// of new memory across the whole head (≈ 0.4 KB a series, BENCHMARKS.md session 24).
/// Clones (maintenance, checkpoints) share the buffer.
#[derive(Clone, Debug)]
pub(crate) struct ClosedChunk {
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) data: Bytes,
}

const FLAG_LOGGED: u8 = 1;
const FLAG_GC_SEEN: u8 = 4;
/// The newest sample is a histogram (`HistState::last`).
const FLAG_LAST_HIST: u8 = 8;

/// One series of the head. Kept small (the head holds millions): what most series do not
/// have most of the time is behind one pointer, `cold`.
pub(crate) struct MemSeries {
    /// (name, value) symbol ids, sorted by name.
    labels: Box<[(u32, u32)]>,
    open: XorAppender,
    /// Closed chunks in head chunk files, oldest first (exact size: one is added per chunk).
    refs: Vec<ChunkRef>,
    last_t: TimestampMs,
    last_v: u64,
    flags: u8,
    cold: Option<Box<Cold>>,
}

/// The rarely used parts of a series: closed chunks only exist between a chunk cut and the
/// next maintenance pass, out-of-order samples and histograms only for some series.
#[derive(Default)]
pub(crate) struct Cold {
    closed: Vec<ClosedChunk>,
    /// Out-of-order samples accepted inside the window, sorted by time.
    ooo: Vec<Sample>,
    /// Boxed: every series that closes a chunk gets a `Cold`, few ever hold histograms.
    hist: Option<Box<HistState>>,
}

/// Keeps a closed chunk in a series' list until maintenance persists it. The list is sized
/// exactly (most series hold one closed chunk at a time; `Vec::push` would reserve four).
fn push_closed(list: &mut Vec<ClosedChunk>, c: ClosedChunk) {
    list.reserve_exact(1);
    list.push(c);
}

impl MemSeries {
    fn closed(&self) -> &[ClosedChunk] {
        self.cold.as_ref().map_or(&[], |c| &c.closed)
    }

    fn ooo(&self) -> &[Sample] {
        self.cold.as_ref().map_or(&[], |c| &c.ooo)
    }

    fn hist(&self) -> Option<&HistState> {
        self.cold.as_ref()?.hist.as_deref()
    }

    fn hist_mut(&mut self) -> Option<&mut HistState> {
        self.cold.as_mut()?.hist.as_deref_mut()
    }

    /// The cold part, created if the series had none.
    fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Frees the cold part once it holds nothing.
    fn tidy(&mut self) {
        if self
            .cold
            .as_ref()
            .is_some_and(|c| c.closed.is_empty() && c.ooo.is_empty() && c.hist.is_none())
        {
            self.cold = None;
        }
    }
}

/// Why a sample was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    OutOfOrder,
    Duplicate,
    /// Older than the sealed watermark: its partition is already a file (Prometheus'
    /// "out of bounds").
    OutOfBounds,
}

/// The outcome of the ordering rules for one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    InOrder,
    OutOfOrderAccepted,
    /// Identical to the stored sample: accepted, nothing to store.
    Identical,
}

/// Applies Prometheus' ordering rules against the newest sample `(last_t, last_v)` and the
/// head's lower bound `min_valid_t`.
pub(crate) fn check_order(
    last: Option<(TimestampMs, u64)>,
    t: TimestampMs,
    v: f64,
    ooo_min_t: Option<TimestampMs>,
    min_valid_t: TimestampMs,
) -> std::result::Result<Verdict, Reject> {
    if t < min_valid_t {
        return Err(Reject::OutOfBounds);
    }
    let Some((lt, lv)) = last else {
        return Ok(Verdict::InOrder);
    };
    if t > lt {
        return Ok(Verdict::InOrder);
    }
    if t == lt {
        let vb = v.to_bits();
        if vb == lv {
            return Ok(Verdict::Identical);
        }
        // As Prometheus: only bit-identical values are accepted again (stale markers included).
        return Err(Reject::Duplicate);
    }
    // A stale marker older than the series' newest sample says nothing: the series went on
    // (a restarted scrape loop's end-of-run marker, written after the new loop scraped). It
    // is accepted as a no-op: never stored out of order, not counted as a rejection.
    if sightline_model::is_stale_nan(v) {
        return Ok(Verdict::Identical);
    }
    match ooo_min_t {
        Some(min) if t >= min => Ok(Verdict::OutOfOrderAccepted),
        _ => Err(Reject::OutOfOrder),
    }
}

/// Chunks and extra samples of one head series, copied out for a query.
pub(crate) struct SeriesData {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<StoredChunk>,
    /// Chunks to read from head chunk files.
    pub(crate) refs: Vec<ChunkRef>,
    pub(crate) ooo: Vec<Sample>,
}

/// A series' persistable state (the head checkpoint entry).
pub(crate) struct SeriesSnapshot {
    pub(crate) id: u64,
    pub(crate) labels: Labels,
    /// Closed chunks, then the open chunk (if any) last.
    pub(crate) chunks: Vec<Vec<u8>>,
    pub(crate) ooo: Vec<Sample>,
    pub(crate) last_t: TimestampMs,
    pub(crate) last_v: u64,
}

/// Counters the head updates while applying samples.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct ApplyStats {
    pub(crate) appended: u64,
    pub(crate) out_of_order: u64,
    pub(crate) duplicates: u64,
    pub(crate) ooo_accepted: u64,
    pub(crate) out_of_bounds: u64,
    pub(crate) chunks_cut: u64,
}

/// Head state behind one lock.
pub(crate) struct HeadInner {
    pub(crate) symbols: Symbols,
    series: table::SeriesTable,
    by_hash: IdMap<u64>,
    collisions: IdMap<Vec<u64>>,
    postings: BTreeMap<ArcStr, BTreeMap<ArcStr, Vec<u64>>>,
    all: Vec<u64>,
    pub(crate) next_id: u64,
    /// Bumped whenever garbage collection removes series (appenders compare it at commit).
    pub(crate) gc_epoch: u64,
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    /// Samples older than this are rejected: everything before it is sealed in partition
    /// files (the sealed watermark).
    pub(crate) min_valid_t: TimestampMs,
    partition_ms: i64,
    ooo_window_ms: i64,
    /// Set while the head is rebuilt from a checkpoint and the WAL ([`HeadInner::begin_bulk_load`]):
    /// ids then arrive in log order, not id order.
    bulk: Bulk,
}

/// Whether postings lists take ids as they come and are sorted once at the end.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Bulk {
    /// Lists are kept sorted on every insert (live ingestion: ids only grow).
    #[default]
    Off,
    /// Replay: ids are appended; `Unsorted` once one arrived below a list's last id.
    Sorted,
    Unsorted,
}

/// Start of the partition containing `t`.
pub(crate) fn partition_start(t: TimestampMs, partition_ms: i64) -> TimestampMs {
    t.div_euclid(partition_ms).saturating_mul(partition_ms)
}

impl HeadInner {
    pub(crate) fn new(partition_ms: i64, ooo_window_ms: i64) -> Self {
        HeadInner {
            symbols: Symbols::default(),
            series: table::SeriesTable::default(),
            by_hash: IdMap::default(),
            collisions: IdMap::default(),
            postings: BTreeMap::new(),
            all: Vec::new(),
            next_id: 1,
            gc_epoch: 0,
            min_t: i64::MAX,
            max_t: i64::MIN,
            min_valid_t: i64::MIN,
            partition_ms,
            ooo_window_ms,
            bulk: Bulk::Off,
        }
    }

    /// Starts rebuilding the head from a checkpoint and the WAL. Concurrent commits write
    /// their series records in the order they reach the log, not in the order their ids were
    /// handed out, so replayed ids are not monotonic; inserting each into its sorted postings
    /// lists would move up to the whole list per id (quadratic: a 10 M-series replay spent
    /// 94 % of its time in `memmove`). Until [`HeadInner::end_bulk_load`], ids are appended
    /// and every list is sorted once at the end. Postings must not be read meanwhile.
    pub(crate) fn begin_bulk_load(&mut self) {
        self.bulk = Bulk::Sorted;
    }

    /// Ends [`HeadInner::begin_bulk_load`]: sorts the postings lists if any id arrived out of
    /// order, and returns to keeping them sorted on insert.
    pub(crate) fn end_bulk_load(&mut self) {
        if self.bulk == Bulk::Unsorted {
            for vals in self.postings.values_mut() {
                for list in vals.values_mut() {
                    list.sort_unstable();
                    list.dedup();
                }
            }
            self.all.sort_unstable();
            self.all.dedup();
        }
        self.bulk = Bulk::Off;
    }

    /// Adds `id` to a postings list: in order (live), or appended during a bulk load.
    fn add_posting(bulk: &mut Bulk, list: &mut Vec<u64>, id: u64) {
        match *bulk {
            Bulk::Off => insert_sorted(list, id),
            Bulk::Sorted | Bulk::Unsorted => {
                if list.last().is_some_and(|&l| l >= id) {
                    *bulk = Bulk::Unsorted;
                }
                list.push(id);
            }
        }
    }

    pub(crate) fn num_series(&self) -> usize {
        self.series.len()
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.series.contains_key(&id)
    }

    fn labels_equal(&self, s: &MemSeries, labels: &Labels) -> bool {
        s.labels.len() == labels.len()
            && s.labels.iter().zip(labels.iter()).all(|(&(n, v), l)| {
                *self.symbols.get(n) == l.name && *self.symbols.get(v) == l.value
            })
    }

    /// The id of the series with exactly `labels`, given their stable hash.
    pub(crate) fn lookup(&self, hash: u64, labels: &Labels) -> Option<u64> {
        let id = *self.by_hash.get(&hash)?;
        if self
            .series
            .get(&id)
            .is_some_and(|s| self.labels_equal(s, labels))
        {
            return Some(id);
        }
        self.collisions.get(&hash)?.iter().copied().find(|id| {
            self.series
                .get(id)
                .is_some_and(|s| self.labels_equal(s, labels))
        })
    }

    /// One lookup for the append path: `None` if the series is unknown, else its newest
    /// sample (if any) and whether its series record is already in the WAL.
    #[allow(clippy::type_complexity)]
    pub(crate) fn append_info(
        &self,
        id: u64,
    ) -> Option<(Option<(TimestampMs, u64)>, bool, LastKind)> {
        let s = self.series.get(&id)?;
        s.open.prefetch_tail();
        Some((
            (s.last_t != i64::MIN).then_some((s.last_t, s.last_v)),
            s.flags & FLAG_LOGGED != 0,
            s.last_kind(),
        ))
    }

    /// The ordering rules for a histogram sample of series `id` (unknown series: in order).
    pub(crate) fn check_hist(
        &self,
        id: u64,
        t: TimestampMs,
        h: &HistValue,
    ) -> std::result::Result<Verdict, Reject> {
        match self.series.get(&id) {
            Some(s) => check_order_hist(s, t, h, self.min_valid_t),
            None if t < self.min_valid_t => Err(Reject::OutOfBounds),
            None => Ok(Verdict::InOrder),
        }
    }

    /// The kind of a series' newest sample (`Float` for an unknown or empty series).
    pub(crate) fn last_kind(&self, id: u64) -> LastKind {
        self.series
            .get(&id)
            .map_or(LastKind::Float, |s| s.last_kind())
    }

    /// The newest sample of a series (None if unknown or empty).
    pub(crate) fn last(&self, id: u64) -> Option<Option<(TimestampMs, u64)>> {
        let s = self.series.get(&id)?;
        Some((s.last_t != i64::MIN).then_some((s.last_t, s.last_v)))
    }

    /// The smallest timestamp an out-of-order sample may have, if a window is configured.
    pub(crate) fn ooo_min_t(&self) -> Option<TimestampMs> {
        (self.ooo_window_ms > 0 && self.max_t != i64::MIN)
            .then(|| self.max_t.saturating_sub(self.ooo_window_ms))
    }

    /// Creates a series with a given id (from the WAL or a checkpoint) or a fresh one.
    pub(crate) fn create(&mut self, id: Option<u64>, hash: u64, labels: &Labels) -> u64 {
        if let Some(existing) = self.lookup(hash, labels) {
            return existing;
        }
        let id = id.unwrap_or(self.next_id);
        if self.series.contains_key(&id) {
            // An id reused with different labels can only come from a corrupt log; keep the
            // first binding.
            return id;
        }
        self.next_id = self.next_id.max(id + 1);
        let mut syms = Vec::with_capacity(labels.len());
        for l in labels {
            let n = self.symbols.intern(&l.name);
            let v = self.symbols.intern(&l.value);
            syms.push((n, v));
            let name = self.symbols.get(n).clone();
            let value = self.symbols.get(v).clone();
            Self::add_posting(
                &mut self.bulk,
                self.postings
                    .entry(name)
                    .or_default()
                    .entry(value)
                    .or_default(),
                id,
            );
        }
        Self::add_posting(&mut self.bulk, &mut self.all, id);
        self.series.insert(
            id,
            MemSeries {
                labels: syms.into_boxed_slice(),
                open: XorAppender::new(),
                refs: Vec::new(),
                last_t: i64::MIN,
                last_v: 0,
                flags: 0,
                cold: None,
            },
        );
        match self.by_hash.get(&hash) {
            Some(_) => self.collisions.entry(hash).or_default().push(id),
            None => {
                self.by_hash.insert(hash, id);
            }
        }
        id
    }

    /// Marks a series as written to the WAL; returns whether it needed logging.
    pub(crate) fn mark_logged(&mut self, id: u64) -> bool {
        match self.series.get_mut(&id) {
            Some(s) if s.flags & FLAG_LOGGED == 0 => {
                s.flags |= FLAG_LOGGED;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn unmark_logged(&mut self, id: u64) {
        if let Some(s) = self.series.get_mut(&id) {
            s.flags &= !FLAG_LOGGED;
        }
    }

    /// Appends the series record entry of `id` (its id and labels, as
    /// [`crate::wal::encode_series`] writes them) from the interned strings; false if the
    /// series is unknown.
    pub(crate) fn put_series_entry(&self, id: u64, buf: &mut Vec<u8>) -> bool {
        let Some(s) = self.series.get(&id) else {
            return false;
        };
        crate::enc::put_uvarint(buf, id);
        crate::enc::put_uvarint(buf, s.labels.len() as u64);
        for &(n, v) in s.labels.iter() {
            crate::enc::put_str(buf, self.symbols.get(n));
            crate::enc::put_str(buf, self.symbols.get(v));
        }
        true
    }

    /// The label set of series `id` (tests; queries build labels in `series_data`).
    #[cfg(test)]
    pub(crate) fn labels_of(&self, id: u64) -> Option<Labels> {
        let s = self.series.get(&id)?;
        Some(self.build_labels(s))
    }

    fn build_labels(&self, s: &MemSeries) -> Labels {
        Labels::from_sorted_unchecked(
            s.labels
                .iter()
                .map(|&(n, v)| Label {
                    name: self.symbols.get(n).clone(),
                    value: self.symbols.get(v).clone(),
                })
                .collect(),
        )
    }

    /// Applies one sample with the ordering rules; rejected samples are counted.
    pub(crate) fn apply(&mut self, id: u64, t: TimestampMs, v: f64, st: &mut ApplyStats) {
        let ooo_min = self.ooo_min_t();
        let partition_ms = self.partition_ms;
        let min_valid = self.min_valid_t;
        let Some(s) = self.series.get_mut(&id) else {
            return;
        };
        match s.last_kind() {
            LastKind::Float => {}
            // As Prometheus' head: a stale marker for a series whose newest sample is a
            // histogram is stored as a stale histogram of the same kind.
            kind if sightline_model::is_stale_nan(v) => {
                let h = stale_hist(kind == LastKind::FloatHist);
                return self.apply_hist(id, t, &h, st);
            }
            // A float at the time of a histogram is a duplicate.
            _ if t == s.last_t => {
                st.duplicates += 1;
                return;
            }
            _ => {}
        }
        let last = (s.last_t != i64::MIN).then_some((s.last_t, s.last_v));
        match check_order(last, t, v, ooo_min, min_valid) {
            Err(Reject::OutOfOrder) => st.out_of_order += 1,
            Err(Reject::Duplicate) => st.duplicates += 1,
            Err(Reject::OutOfBounds) => st.out_of_bounds += 1,
            Ok(Verdict::Identical) => {}
            Ok(Verdict::OutOfOrderAccepted) => match s.ooo().binary_search_by(|x| x.t.cmp(&t)) {
                Ok(i) => {
                    if s.ooo()[i].v.to_bits() != v.to_bits() {
                        st.duplicates += 1;
                    }
                }
                Err(i) => {
                    s.cold().ooo.insert(i, Sample { t, v });
                    st.ooo_accepted += 1;
                    st.appended += 1;
                    self.min_t = self.min_t.min(t);
                }
            },
            Ok(Verdict::InOrder) => {
                // A float after histograms: the histogram chunk ends here.
                if let Some(c) = s.cold.as_deref_mut() {
                    let hs = c.hist.as_mut();
                    let taken = hs.and_then(|hs| {
                        hs.last = None;
                        hs.open.take()
                    });
                    if let Some(o) = taken.filter(|o| !o.is_empty()) {
                        push_closed(
                            &mut c.closed,
                            ClosedChunk {
                                min_t: o.min_t(),
                                max_t: o.max_t(),
                                data: Bytes::from(o.into_bytes()),
                            },
                        );
                        st.chunks_cut += 1;
                    }
                }
                s.flags &= !FLAG_LAST_HIST;
                if !s.open.is_empty()
                    && (s.open.len() >= MAX_SAMPLES
                        || partition_start(t, partition_ms)
                            != partition_start(s.open.min_t(), partition_ms))
                {
                    if let Some(c) = s.take_float() {
                        push_closed(&mut s.cold().closed, c);
                        st.chunks_cut += 1;
                    }
                }
                s.open.append(t, v);
                s.last_t = t;
                s.last_v = v.to_bits();
                s.flags &= !FLAG_GC_SEEN;
                st.appended += 1;
                self.min_t = self.min_t.min(t);
                self.max_t = self.max_t.max(t);
            }
        }
    }

    /// Copies out what a query over `[min_t, max_t]` needs for the series `ids`.
    /// Applies one histogram sample with the ordering rules (histograms have no out-of-order
    /// window: an older one is rejected, as in Prometheus 2.x without OOO native histograms).
    pub(crate) fn apply_hist(
        &mut self,
        id: u64,
        t: TimestampMs,
        h: &HistValue,
        st: &mut ApplyStats,
    ) {
        let partition_ms = self.partition_ms;
        let min_valid = self.min_valid_t;
        let Some(s) = self.series.get_mut(&id) else {
            return;
        };
        // Appenders validate; this guards the encoders against a WAL record that passed its
        // checksum yet holds buckets that do not match their spans.
        if let Err(e) = h.validate() {
            tracing::warn!(error = %e, series = id, "invalid histogram sample skipped");
            return;
        }
        match check_order_hist(s, t, h, min_valid) {
            Err(Reject::OutOfOrder) => st.out_of_order += 1,
            Err(Reject::Duplicate) => st.duplicates += 1,
            Err(Reject::OutOfBounds) => st.out_of_bounds += 1,
            Ok(Verdict::Identical | Verdict::OutOfOrderAccepted) => {}
            Ok(Verdict::InOrder) => {
                if let Err(e) = append_hist(s, t, h, partition_ms, st) {
                    tracing::warn!(error = %e, series = id, "histogram sample not stored");
                    return;
                }
                s.last_t = t;
                s.last_v = match h {
                    HistValue::Int(x) => x.sum.to_bits(),
                    HistValue::Float(x) => x.sum.to_bits(),
                };
                s.flags = (s.flags & !FLAG_GC_SEEN) | FLAG_LAST_HIST;
                st.appended += 1;
                self.min_t = self.min_t.min(t);
                self.max_t = self.max_t.max(t);
            }
        }
    }

    pub(crate) fn series_data(
        &self,
        ids: &[u64],
        min_t: TimestampMs,
        max_t: TimestampMs,
    ) -> Vec<SeriesData> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(s) = self.series.get(id) else {
                continue;
            };
            // Closed chunks are copied like the open one: they exist for at most one
            // maintenance interval, and keeping them as their own buffers (not `Arc`s) is
            // what lets closing a chunk allocate nothing.
            let mut chunks: Vec<StoredChunk> = s
                .closed()
                .iter()
                .filter(|c| c.max_t >= min_t && c.min_t <= max_t)
                .map(|c| StoredChunk {
                    min_t: c.min_t,
                    max_t: c.max_t,
                    data: Arc::from(&c.data[..]),
                })
                .collect();
            if let Some((lo, hi, bytes)) = s.open_chunk() {
                if hi >= min_t && lo <= max_t {
                    chunks.push(StoredChunk {
                        min_t: lo,
                        max_t: hi,
                        data: Arc::from(bytes),
                    });
                }
            }
            let ooo: Vec<Sample> = s
                .ooo()
                .iter()
                .filter(|x| x.t >= min_t && x.t <= max_t)
                .copied()
                .collect();
            let refs: Vec<ChunkRef> = s
                .refs
                .iter()
                .filter(|r| r.max_t() >= min_t && r.min_t <= max_t)
                .copied()
                .collect();
            if chunks.is_empty() && ooo.is_empty() && refs.is_empty() {
                continue;
            }
            out.push(SeriesData {
                labels: self.build_labels(s),
                chunks,
                refs,
                ooo,
            });
        }
        out
    }

    /// Label sets of `ids` that have any data in the head (for label name/value queries).
    pub(crate) fn labels_for(&self, ids: &[u64]) -> Vec<Labels> {
        ids.iter()
            .filter_map(|id| self.series.get(id))
            .map(|s| self.build_labels(s))
            .collect()
    }

    /// The closed chunks waiting for a head chunk file, by series (cheap clones).
    pub(crate) fn closed_chunks(&self) -> Vec<(u64, Vec<ClosedChunk>)> {
        self.series
            .iter()
            .filter(|(_, s)| !s.closed().is_empty())
            .map(|(id, s)| (id, s.closed().to_vec()))
            .collect()
    }

    /// Replaces the first closed chunks of each listed series by the references of their
    /// persisted copies (`refs` in the order [`HeadInner::closed_chunks`] listed them).
    pub(crate) fn attach_persisted(&mut self, done: &[(u64, usize)], refs: &[ChunkRef]) {
        let mut at = 0;
        for (id, n) in done {
            let mine = &refs[at..at + n];
            at += n;
            if let Some(s) = self.series.get_mut(id) {
                // Only what is still there is replaced (a deletion may have rewritten it).
                let k = s
                    .closed()
                    .iter()
                    .zip(mine)
                    .take_while(|(c, r)| c.min_t == r.min_t && c.max_t == r.max_t())
                    .count();
                if let Some(c) = s.cold.as_deref_mut() {
                    c.closed.drain(..k);
                    c.closed.shrink_to_fit();
                }
                s.tidy();
                add_refs(&mut s.refs, &mine[..k]);
            }
        }
    }

    /// Attaches references found in head chunk files on open; false if the series is
    /// unknown. (The caller recomputes the head's time bounds afterwards.)
    pub(crate) fn attach_refs(&mut self, id: u64, refs: &[ChunkRef]) -> bool {
        let Some(s) = self.series.get_mut(&id) else {
            return false;
        };
        add_refs(&mut s.refs, refs);
        true
    }

    /// Every series with persisted chunks starting before `end`, with those chunks.
    pub(crate) fn refs_before(&self, end: TimestampMs) -> Vec<(Labels, Vec<ChunkRef>)> {
        self.series
            .values()
            .filter(|s| s.refs.first().is_some_and(|r| r.min_t < end))
            .map(|s| {
                let refs = s.refs.iter().filter(|r| r.min_t < end).copied().collect();
                (self.build_labels(s), refs)
            })
            .collect()
    }

    /// The chunk references of series `ids` (those that have any).
    pub(crate) fn refs_of(&self, ids: &[u64]) -> Vec<(u64, Vec<ChunkRef>)> {
        ids.iter()
            .filter_map(|id| {
                let s = self.series.get(id)?;
                (!s.refs.is_empty()).then(|| (*id, s.refs.clone()))
            })
            .collect()
    }

    /// Forgets persisted chunks starting before `end` (their partition was sealed).
    pub(crate) fn drop_refs_before(&mut self, end: TimestampMs) {
        for s in self.series.values_mut() {
            if s.refs.first().is_some_and(|r| r.min_t < end) {
                s.refs.retain(|r| r.min_t >= end);
                s.refs.shrink_to_fit();
            }
        }
    }

    /// Drops in-memory data before `t` (on open: it was sealed after the checkpoint that
    /// restored it, or arrives again from the WAL).
    pub(crate) fn drop_before(&mut self, t: TimestampMs) {
        if t == i64::MIN {
            return;
        }
        for s in self.series.values_mut() {
            if !s.open.is_empty() && s.open.max_t() < t {
                s.open = XorAppender::new();
            }
            if let Some(c) = s.cold.as_deref_mut() {
                c.closed.retain(|c| c.max_t >= t);
                if let Some(hs) = c.hist.as_mut() {
                    if hs
                        .open
                        .as_ref()
                        .is_some_and(|o| !o.is_empty() && o.max_t() < t)
                    {
                        hs.open = None;
                    }
                }
                c.ooo.retain(|x| x.t >= t);
            }
        }
    }

    /// Ids of every head series.
    pub(crate) fn series_ids(&self) -> Vec<u64> {
        self.all.clone()
    }

    /// Checkpoint states of the series `ids` (unknown ids are skipped).
    pub(crate) fn snapshot(&self, ids: &[u64]) -> Vec<SeriesSnapshot> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(s) = self.series.get(id) else {
                continue;
            };
            let mut chunks: Vec<Vec<u8>> = s.closed().iter().map(|c| c.data.to_vec()).collect();
            if let Some((_, _, bytes)) = s.open_chunk() {
                chunks.push(bytes.to_vec());
            }
            out.push(SeriesSnapshot {
                id: *id,
                labels: self.build_labels(s),
                chunks,
                ooo: s.ooo().to_vec(),
                last_t: s.last_t,
                last_v: s.last_v,
            });
        }
        out
    }

    /// Restores a series from a checkpoint entry.
    pub(crate) fn restore(&mut self, snap: SeriesSnapshot) -> Result<()> {
        let hash = snap.labels.stable_hash();
        let id = self.create(Some(snap.id), hash, &snap.labels);
        let n = snap.chunks.len();
        let mut closed = Vec::new();
        let mut open = XorAppender::new();
        let mut hist_open: Option<HistOpen> = None;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, c) in snap.chunks.into_iter().enumerate() {
            if crate::anychunk::is_histogram_chunk(&c) {
                let a = HistOpen::resume(c)?;
                if a.is_empty() {
                    continue;
                }
                lo = lo.min(a.min_t());
                hi = hi.max(a.max_t());
                if i + 1 == n {
                    hist_open = Some(a);
                } else {
                    closed.push(ClosedChunk {
                        min_t: a.min_t(),
                        max_t: a.max_t(),
                        data: Bytes::from(a.into_bytes()),
                    });
                }
                continue;
            }
            let a = XorAppender::resume(c)?;
            if a.is_empty() {
                continue;
            }
            lo = lo.min(a.min_t());
            hi = hi.max(a.max_t());
            if i + 1 == n {
                open = a;
            } else {
                let (min_t, max_t) = (a.min_t(), a.max_t());
                closed.push(ClosedChunk {
                    min_t,
                    max_t,
                    data: Bytes::from(a.into_bytes()),
                });
            }
        }
        for x in &snap.ooo {
            lo = lo.min(x.t);
        }
        if let Some(s) = self.series.get_mut(&id) {
            s.open = open;
            s.cold = Some(Box::new(Cold {
                closed,
                ooo: snap.ooo,
                hist: None,
            }));
            s.last_t = snap.last_t;
            s.last_v = snap.last_v;
            s.flags = FLAG_LOGGED;
            s.tidy();
            if let Some(o) = hist_open {
                // The newest sample is the open histogram chunk's last one: it is what the
                // next append is compared with.
                let last = crate::anychunk::decode_any(o.bytes())?
                    .pop()
                    .filter(|x| x.t == s.last_t)
                    .and_then(|x| match x.v {
                        crate::anychunk::AnyValue::H(h) => Some(h),
                        crate::anychunk::AnyValue::F(_) => None,
                    });
                if last.is_some() {
                    s.flags |= FLAG_LAST_HIST;
                }
                let next_at =
                    partition_start(o.min_t(), self.partition_ms).saturating_add(self.partition_ms);
                s.cold().hist = Some(Box::new(HistState {
                    open: Some(o),
                    last,
                    next_at,
                    computed_end: false,
                }));
            }
        }
        if lo <= hi {
            self.min_t = self.min_t.min(lo);
            self.max_t = self.max_t.max(hi);
        }
        Ok(())
    }

    /// Moves the open chunk and out-of-order samples of every series into the closed list so
    /// they are persisted (clean shutdown, snapshots, retention of idle series).
    pub(crate) fn close_all_chunks(&mut self, only_before: Option<TimestampMs>) {
        let partition_ms = self.partition_ms;
        for s in self.series.values_mut() {
            if s.open_chunk()
                .is_some_and(|(_, hi, _)| only_before.is_none_or(|b| hi < b))
            {
                if let Some(c) = s.take_open() {
                    push_closed(&mut s.cold().closed, c);
                }
            }
            // Out-of-order samples before the bound are closed, later ones stay.
            let n = only_before.map_or(s.ooo().len(), |b| s.ooo().partition_point(|x| x.t < b));
            if n > 0 {
                let cold = s.cold();
                let ooo: Vec<Sample> = cold.ooo.drain(..n).collect();
                for c in encode_partitioned(&ooo, partition_ms) {
                    let a = XorAppender::from_chunk(&c).unwrap_or_default();
                    push_closed(
                        &mut cold.closed,
                        ClosedChunk {
                            min_t: a.min_t(),
                            max_t: a.max_t(),
                            data: Bytes::from(c),
                        },
                    );
                }
            }
        }
    }

    /// Removes series with no unpersisted data whose newest sample is older than `cutoff`.
    /// A series never appended to survives one extra pass (its appender may still commit).
    pub(crate) fn gc(&mut self, cutoff: TimestampMs) -> Vec<u64> {
        let mut victims = Vec::new();
        for (id, s) in self.series.iter_mut() {
            let idle = s.open_chunk().is_none()
                && s.closed().is_empty()
                && s.refs.is_empty()
                && s.ooo().is_empty()
                && s.last_t < cutoff;
            if !idle {
                continue;
            }
            if s.last_t == i64::MIN && s.flags & FLAG_GC_SEEN == 0 {
                s.flags |= FLAG_GC_SEEN;
                continue;
            }
            victims.push(id);
        }
        for id in &victims {
            self.remove(*id);
        }
        if !victims.is_empty() {
            self.gc_epoch += 1;
        }
        victims
    }

    fn remove(&mut self, id: u64) {
        let Some(s) = self.series.remove(&id) else {
            return;
        };
        let labels = self.build_labels(&s);
        let hash = labels.stable_hash();
        if self.by_hash.get(&hash) == Some(&id) {
            self.by_hash.remove(&hash);
            if let Some(list) = self.collisions.get_mut(&hash) {
                if let Some(next) = list.pop() {
                    self.by_hash.insert(hash, next);
                }
                if list.is_empty() {
                    self.collisions.remove(&hash);
                }
            }
        } else if let Some(list) = self.collisions.get_mut(&hash) {
            list.retain(|x| *x != id);
            if list.is_empty() {
                self.collisions.remove(&hash);
            }
        }
        for &(n, v) in s.labels.iter() {
            let name = self.symbols.get(n).clone();
            let value = self.symbols.get(v).clone();
            if let Some(vals) = self.postings.get_mut(&name) {
                if let Some(list) = vals.get_mut(&value) {
                    if let Ok(i) = list.binary_search(&id) {
                        list.remove(i);
                    }
                    if list.is_empty() {
                        vals.remove(&value);
                    }
                }
                if vals.is_empty() {
                    self.postings.remove(&name);
                }
            }
        }
        if let Ok(i) = self.all.binary_search(&id) {
            self.all.remove(i);
        }
    }

    /// Recomputes min/max time from the series (after chunks were dropped).
    pub(crate) fn recompute_bounds(&mut self) {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for s in self.series.values() {
            for c in s.closed() {
                lo = lo.min(c.min_t);
                hi = hi.max(c.max_t);
            }
            if let (Some(a), Some(b)) = (s.refs.first(), s.refs.last()) {
                lo = lo.min(a.min_t);
                hi = hi.max(b.max_t());
            }
            if let Some((a, b, _)) = s.open_chunk() {
                lo = lo.min(a);
                hi = hi.max(b);
            }
            if let (Some(a), Some(b)) = (s.ooo().first(), s.ooo().last()) {
                lo = lo.min(a.t);
                hi = hi.max(b.t);
            }
        }
        self.min_t = lo;
        // The newest timestamp ever seen keeps bounding out-of-order appends.
        self.max_t = self.max_t.max(hi);
    }

    /// Rewrites the data of series `ids`, dropping samples for which `deleted(t)` holds.
    /// `persisted` holds the samples of each series' chunk references (read by the caller);
    /// a rewritten series keeps all its data in memory and loses its references. Returns
    /// the series whose references were dropped (their file records are void now).
    pub(crate) fn delete_samples(
        &mut self,
        ids: &[u64],
        deleted: &dyn Fn(u64, TimestampMs) -> bool,
        persisted: &mut IdMap<Vec<crate::anychunk::AnySample>>,
    ) -> Result<Vec<u64>> {
        let partition_ms = self.partition_ms;
        let mut reset = Vec::new();
        for id in ids {
            let Some(s) = self.series.get_mut(id) else {
                continue;
            };
            let mut all = persisted.remove(id).unwrap_or_default();
            for c in s.closed() {
                all.extend(crate::anychunk::decode_any(&c.data)?);
            }
            if let Some((_, _, b)) = s.open_chunk() {
                all.extend(crate::anychunk::decode_any(b)?);
            }
            let before = all.len() + s.ooo().len();
            all.retain(|x| !deleted(*id, x.t));
            if let Some(c) = s.cold.as_deref_mut() {
                c.ooo.retain(|x| !deleted(*id, x.t));
            }
            if all.len() + s.ooo().len() == before {
                continue;
            }
            if !s.refs.is_empty() {
                s.refs = Vec::new();
                reset.push(*id);
            }
            all.sort_by_key(|x| x.t);
            all.dedup_by_key(|x| x.t);
            let mut chunks = encode_any_partitioned(&all, partition_ms)?;
            let open_bytes = chunks.pop();
            s.cold().closed = chunks
                .into_iter()
                .map(|(min_t, max_t, data)| ClosedChunk {
                    min_t,
                    max_t,
                    data: Bytes::from_owner(data),
                })
                .collect();
            s.open = XorAppender::new();
            if let Some(hs) = s.hist_mut() {
                hs.open = None;
            }
            match open_bytes {
                Some((_, _, b)) if crate::anychunk::is_histogram_chunk(&b) => {
                    let o = HistOpen::resume(b.to_vec())?;
                    let next_at =
                        partition_start(o.min_t(), partition_ms).saturating_add(partition_ms);
                    match s.hist_mut() {
                        Some(hs) => hs.open = Some(o),
                        None => {
                            s.cold().hist = Some(Box::new(HistState {
                                open: Some(o),
                                last: None,
                                next_at,
                                computed_end: false,
                            }))
                        }
                    }
                }
                Some((_, _, b)) => s.open = XorAppender::from_chunk(&b)?,
                None => {}
            }
            s.tidy();
        }
        Ok(reset)
    }

    /// Number of chunks held (open ones included).
    pub(crate) fn num_chunks(&self) -> usize {
        self.series
            .values()
            .map(|s| s.closed().len() + s.refs.len() + usize::from(s.open_chunk().is_some()))
            .sum()
    }

    /// Rough heap bytes used by series data (for stats).
    pub(crate) fn approx_bytes(&self) -> usize {
        let per_series = std::mem::size_of::<MemSeries>() + 16;
        self.series
            .values()
            .map(|s| {
                per_series
                    + s.labels.len() * 8
                    + s.open.heap_bytes()
                    + s.hist().map_or(0, |h| {
                        std::mem::size_of::<HistState>()
                            + h.open.as_ref().map_or(0, |o| o.bytes().len() * 2)
                    })
                    + s.cold.as_ref().map_or(0, |_| std::mem::size_of::<Cold>())
                    + s.closed()
                        .iter()
                        .map(|c| c.data.len() + std::mem::size_of::<ClosedChunk>())
                        .sum::<usize>()
                    + s.refs.capacity() * std::mem::size_of::<ChunkRef>()
                    + s.cold.as_ref().map_or(0, |c| c.ooo.capacity() * 16)
            })
            .sum::<usize>()
            + self.all.capacity() * 8
            + self.symbols.len() * 48
    }

    /// Gives back the slack of postings lists: lists grow by doubling while series are
    /// created and keep their capacity when garbage collection removes ids, so after a
    /// creation burst or churn up to half of a list is unused. Lists keep 1/16 headroom so a
    /// list still growing does not reallocate on its next id. Returns the bytes freed.
    pub(crate) fn trim_postings(&mut self) -> usize {
        fn trim(l: &mut Vec<u64>) -> usize {
            let before = l.capacity();
            if before > l.len() + l.len() / 8 + 2 {
                l.shrink_to(l.len() + l.len() / 16);
            }
            (before - l.capacity()) * 8
        }
        let mut freed = trim(&mut self.all);
        for vals in self.postings.values_mut() {
            for l in vals.values_mut() {
                freed += trim(l);
            }
        }
        freed
    }

    /// Bytes the postings index holds: lists (with their slack), list headers and the tree
    /// entries (keys are shared with the symbol table; a B-tree entry costs about its key
    /// and value plus a share of its node).
    pub(crate) fn postings_bytes(&self) -> usize {
        let entry = std::mem::size_of::<Arc<str>>() + std::mem::size_of::<Vec<u64>>() + 8;
        self.all.capacity() * 8
            + self
                .postings
                .values()
                .map(|vals| {
                    entry
                        + vals
                            .values()
                            .map(|l| entry + l.capacity() * 8)
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    /// Label names present in the head.
    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.keys().map(|k| k.to_string()).collect()
    }

    /// `(label name, value, series count)` for every pair (for stats).
    pub(crate) fn postings_cardinalities(&self) -> Vec<(ArcStr, ArcStr, usize)> {
        let mut out = Vec::new();
        for (n, vals) in &self.postings {
            for (v, list) in vals {
                out.push((n.clone(), v.clone(), list.len()));
            }
        }
        out
    }
}

/// Encodes time-sorted samples into chunks that never cross a partition boundary.
fn encode_any_partitioned(
    samples: &[crate::anychunk::AnySample],
    partition_ms: i64,
) -> Result<Vec<crate::chunk::ChunkTuple>> {
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(first) = samples.get(start) {
        let p = partition_start(first.t, partition_ms);
        let end =
            start + samples[start..].partition_point(|s| partition_start(s.t, partition_ms) == p);
        out.extend(crate::anychunk::encode_any(&samples[start..end], true)?);
        start = end;
    }
    Ok(out)
}

fn encode_partitioned(samples: &[Sample], partition_ms: i64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(first) = samples.get(start) {
        let p = partition_start(first.t, partition_ms);
        let end =
            start + samples[start..].partition_point(|s| partition_start(s.t, partition_ms) == p);
        out.extend(crate::chunk::encode_chunks(&samples[start..end]));
        start = end;
    }
    out
}

/// Adds references keeping them in time order (they nearly always come in order). The
/// vector is kept at its exact size: a reference is added once per chunk (every two hours
/// at a 1-minute interval), so the reallocation is cheaper than doubling's slack held by
/// every series.
fn add_refs(v: &mut Vec<ChunkRef>, new: &[ChunkRef]) {
    if new.is_empty() {
        return;
    }
    v.reserve_exact(new.len());
    v.extend_from_slice(new);
    if v.windows(2).any(|w| w[1].min_t < w[0].min_t) {
        v.sort_by_key(|r| r.min_t);
    }
}

fn insert_sorted(v: &mut Vec<u64>, id: u64) {
    match v.last() {
        Some(&l) if l < id => v.push(id),
        None => v.push(id),
        _ => {
            if let Err(i) = v.binary_search(&id) {
                v.insert(i, id);
            }
        }
    }
}

impl HeadInner {
    /// The values of label `name` that start with `prefix`, in order, with their lists.
    fn postings_with_prefix<'a, 'p>(
        &'a self,
        name: &str,
        prefix: &'p str,
    ) -> impl Iterator<Item = (&'a ArcStr, &'a Vec<u64>)> + use<'a, 'p> {
        self.postings.get(name).into_iter().flat_map(move |vals| {
            vals.range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(v, _)| v.starts_with(prefix))
        })
    }
}

impl PostingsSource for HeadInner {
    fn postings(&self, name: &str, value: &str) -> Result<List<'_>> {
        Ok(Cow::Borrowed(
            self.postings
                .get(name)
                .and_then(|vals| vals.get(value))
                .map_or(&[][..], |l| l.as_slice()),
        ))
    }

    fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .postings_with_prefix(name, prefix)
            .map(|(v, _)| v.to_string())
            .collect())
    }

    /// Walks the values in place: a regex that scans ten thousand values copies none of
    /// them, and lends the lists of those it accepts.
    fn matching_postings(
        &self,
        name: &str,
        prefix: &str,
        accept: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<List<'_>>> {
        Ok(self
            .postings_with_prefix(name, prefix)
            .filter(|(v, _)| accept(v))
            .map(|(_, l)| Cow::Borrowed(l.as_slice()))
            .collect())
    }

    fn all(&self) -> Result<List<'_>> {
        Ok(Cow::Borrowed(&self.all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::stale_nan;

    type OrderCase = (
        Option<(i64, u64)>,
        i64,
        f64,
        Option<i64>,
        std::result::Result<Verdict, Reject>,
    );

    /// A commit's series record, encoded from the interned strings, is the one
    /// `encode_series` writes from the label set.
    #[test]
    fn series_entries_encode_as_series_records() {
        let mut head = HeadInner::new(2 * 3600 * 1000, 0);
        let a = lbl(&[("__name__", "up"), ("job", "x")]);
        let b = lbl(&[("__name__", "up"), ("job", "y"), ("zone", "é")]);
        let ia = head.create(None, a.stable_hash(), &a);
        let ib = head.create(None, b.stable_hash(), &b);
        let mut entries = Vec::new();
        assert!(head.put_series_entry(ia, &mut entries));
        assert!(head.put_series_entry(ib, &mut entries));
        assert!(!head.put_series_entry(999, &mut entries));
        for compress in [false, true] {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            crate::wal::encode_series_entries(&mut got, 2, &entries, compress);
            crate::wal::encode_series(&mut want, &[(ia, &a), (ib, &b)], compress);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn order_rules() {
        let one = 1.0f64.to_bits();
        let cases: &[OrderCase] = &[
            (None, 5, 1.0, None, Ok(Verdict::InOrder)),
            (Some((10, one)), 11, 1.0, None, Ok(Verdict::InOrder)),
            (Some((10, one)), 10, 1.0, None, Ok(Verdict::Identical)),
            (Some((10, one)), 10, 2.0, None, Err(Reject::Duplicate)),
            (
                Some((10, one)),
                10,
                stale_nan(),
                None,
                Err(Reject::Duplicate),
            ),
            (
                Some((10, stale_nan().to_bits())),
                10,
                stale_nan(),
                None,
                Ok(Verdict::Identical),
            ),
            (Some((10, one)), 9, 1.0, None, Err(Reject::OutOfOrder)),
            (
                Some((10, one)),
                9,
                1.0,
                Some(5),
                Ok(Verdict::OutOfOrderAccepted),
            ),
            (Some((10, one)), 4, 1.0, Some(5), Err(Reject::OutOfOrder)),
        ];
        for (last, t, v, ooo, want) in cases {
            assert_eq!(
                check_order(*last, *t, *v, *ooo, i64::MIN),
                *want,
                "last={last:?} t={t}"
            );
        }
        // Below the sealed watermark nothing is accepted, not even a new series' first sample.
        assert_eq!(check_order(None, 5, 1.0, None, 6), Err(Reject::OutOfBounds));
        // An out-of-order stale marker is a no-op, with or without an out-of-order window.
        let stale = sightline_model::stale_nan();
        assert_eq!(
            check_order(Some((10, 1f64.to_bits())), 5, stale, None, 0),
            Ok(Verdict::Identical)
        );
        assert_eq!(
            check_order(Some((10, 1f64.to_bits())), 5, stale, Some(0), 0),
            Ok(Verdict::Identical)
        );
        assert_eq!(check_order(None, 6, 1.0, None, 6), Ok(Verdict::InOrder));
    }

    #[test]
    fn partitioned_encoding_never_crosses_boundaries() {
        let samples: Vec<Sample> = [-5, 0, 5, 9, 10, 11, 30]
            .iter()
            .map(|&t| Sample { t, v: t as f64 })
            .collect();
        let chunks = encode_partitioned(&samples, 10);
        let spans: Vec<(i64, i64)> = chunks
            .iter()
            .map(|c| {
                let a = XorAppender::from_chunk(c).unwrap();
                (a.min_t(), a.max_t())
            })
            .collect();
        assert_eq!(spans, vec![(-5, -5), (0, 9), (10, 11), (30, 30)]);
    }

    fn lbl(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn series_with_chunk_references_survive_gc_until_sealed() {
        let mut h = HeadInner::new(7_200_000, 0);
        let a = lbl(&[("__name__", "up")]);
        let id = h.create(None, a.stable_hash(), &a);
        let mut st = ApplyStats::default();
        for i in 0..10 {
            h.apply(id, i * 1000, i as f64, &mut st);
        }
        h.close_all_chunks(None);
        let closed = h.closed_chunks();
        let c = &closed[0].1[0];
        let r = ChunkRef {
            pos: 0,
            min_t: c.min_t,
            dur: (c.max_t - c.min_t) as u32,
            len: c.data.len() as u32,
        };
        h.attach_persisted(&[(id, 1)], &[r]);
        assert_eq!(h.num_chunks(), 1);
        assert!(h.gc(i64::MAX).is_empty(), "a series with references stays");
        assert_eq!(h.refs_before(10_000).len(), 1);
        h.drop_refs_before(10_000);
        assert_eq!(h.gc(i64::MAX), vec![id]);
    }

    #[test]
    fn bulk_load_takes_ids_in_log_order_and_sorts_postings_once() {
        // Replay order is the order commits reached the log, not id order.
        let mut h = HeadInner::new(7_200_000, 0);
        h.begin_bulk_load();
        let ids = [7u64, 3, 9, 1, 8, 2];
        for &id in &ids {
            let l = lbl(&[
                ("__name__", "up"),
                ("job", if id % 2 == 0 { "even" } else { "odd" }),
                ("n", &id.to_string()),
            ]);
            assert_eq!(h.create(Some(id), l.stable_hash(), &l), id);
        }
        h.end_bulk_load();
        let list = |h: &HeadInner, name: &str, value: &str| -> Vec<u64> {
            h.postings
                .get(name)
                .and_then(|v| v.get(value))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(list(&h, "__name__", "up"), vec![1, 2, 3, 7, 8, 9]);
        assert_eq!(list(&h, "job", "odd"), vec![1, 3, 7, 9]);
        assert_eq!(list(&h, "job", "even"), vec![2, 8]);
        assert_eq!(h.all, vec![1, 2, 3, 7, 8, 9]);
        // Back to live ingestion: new ids keep every list sorted.
        let l = lbl(&[("__name__", "up"), ("job", "odd"), ("n", "x")]);
        let id = h.create(None, l.stable_hash(), &l);
        assert_eq!(id, 10);
        assert_eq!(list(&h, "job", "odd"), vec![1, 3, 7, 9, 10]);
    }

    #[test]
    fn create_lookup_cut_and_gc() {
        let mut h = HeadInner::new(7_200_000, 0);
        let a = lbl(&[("__name__", "up"), ("job", "a")]);
        let id = h.create(None, a.stable_hash(), &a);
        assert_eq!(h.lookup(a.stable_hash(), &a), Some(id));
        assert_eq!(h.create(None, a.stable_hash(), &a), id);
        // A forced hash collision keeps both series apart.
        let b = lbl(&[("__name__", "up"), ("job", "b")]);
        let id_b = h.create(None, a.stable_hash(), &b);
        assert_ne!(id, id_b);
        assert_eq!(h.lookup(a.stable_hash(), &b), Some(id_b));
        let mut st = ApplyStats::default();
        for i in 0..250 {
            h.apply(id, i * 1000, i as f64, &mut st);
        }
        assert_eq!(st.appended, 250);
        assert_eq!(st.chunks_cut, 2);
        h.apply(id, 5, 1.0, &mut st);
        assert_eq!(st.out_of_order, 1);
        let data = h.series_data(&[id], 0, i64::MAX);
        assert_eq!(data[0].chunks.len(), 3);
        assert_eq!(data[0].labels, a);
        let closed = h.closed_chunks();
        assert_eq!(closed.len(), 1);
        let refs: Vec<ChunkRef> = closed[0]
            .1
            .iter()
            .enumerate()
            .map(|(i, c)| ChunkRef {
                pos: i as u64,
                min_t: c.min_t,
                dur: (c.max_t - c.min_t) as u32,
                len: c.data.len() as u32,
            })
            .collect();
        h.attach_persisted(&[(id, 2)], &refs);
        assert!(h.closed_chunks().is_empty());
        let data = h.series_data(&[id], 0, i64::MAX);
        assert_eq!((data[0].chunks.len(), data[0].refs.len()), (1, 2));
        h.drop_refs_before(i64::MAX);
        // Chunks cut at partition boundaries.
        h.apply(id, 7_200_000, 1.0, &mut st);
        assert_eq!(st.chunks_cut, 3);
        h.close_all_chunks(None);
        let closed = h.closed_chunks();
        let refs: Vec<ChunkRef> = closed[0]
            .1
            .iter()
            .map(|c| ChunkRef {
                pos: 0,
                min_t: c.min_t,
                dur: (c.max_t - c.min_t) as u32,
                len: c.data.len() as u32,
            })
            .collect();
        h.attach_persisted(&[(id, refs.len())], &refs);
        h.drop_refs_before(i64::MAX);
        let gone = h.gc(i64::MAX);
        assert_eq!(gone, vec![id]);
        assert_eq!(
            h.lookup(a.stable_hash(), &b),
            Some(id_b),
            "collision list promoted"
        );
        let gone = h.gc(i64::MAX);
        assert_eq!(gone, vec![id_b], "empty series survive one pass");
        assert_eq!(h.num_series(), 0);
        assert!(h.postings.is_empty());
    }

    #[test]
    fn query_labels_share_the_symbol_strings() {
        let mut h = HeadInner::new(7_200_000, 0);
        let a = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        let b = Labels::from_pairs([("__name__", "m"), ("job", "b")]);
        let id_a = h.create(None, a.stable_hash(), &a);
        let id_b = h.create(None, b.stable_hash(), &b);
        let (Some(la), Some(lb)) = (h.labels_of(id_a), h.labels_of(id_b)) else {
            panic!("series missing");
        };
        assert_eq!((&la, &lb), (&a, &b));
        // Both series' `__name__` label is the head's one interned string, which is also
        // the string of the label set that created the symbol: no copies.
        for l in [&la, &lb, &a] {
            assert!(ArcStr::ptr_eq(
                &l.as_slice()[0].name,
                &la.as_slice()[0].name
            ));
            assert!(ArcStr::ptr_eq(
                &l.as_slice()[0].value,
                &la.as_slice()[0].value
            ));
        }
        let again = h.labels_of(id_a);
        assert!(
            again.is_some_and(|x| ArcStr::ptr_eq(&x.as_slice()[1].value, &a.as_slice()[1].value))
        );
    }
}
