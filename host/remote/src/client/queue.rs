//! One remote-write queue: a reader thread that tails the WAL and hands samples to shards,
//! the delivery tracker that turns acknowledgements back into a WAL position, and the
//! position file that lets a restart resume where delivery stopped.
//!
//! Order and loss: a series always goes to the same shard (its id modulo the shard count),
//! and a shard sends its batches one at a time, so each series' samples arrive in order.
//! The position saved is the end of the last WAL record whose every sample was delivered
//! (or refused for good), so after a crash the queue resends from there: duplicates are
//! possible, loss of anything committed is not (within the WAL hold's age limit).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use sightline_config::{relabel, RemoteWriteConfig};
use sightline_model::{Labels, LabelsBuilder};
use sightline_tsdb::{WalPosition, WalRecord, WalTail};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::encode::OutSeries;
use super::metrics::QueueMetrics;
use super::shard::{Pending, ShardCtx, Shards};

/// Bytes of WAL read per pass.
const READ_BYTES: usize = 4 << 20;
/// How often the delivered position is saved and the WAL hold updated.
/// Often, so that a crash leaves little to resend (each resent sample a strict receiver
/// already has costs a bisection step).
const SAVE_EVERY: Duration = Duration::from_millis(250);
/// How often the shard count is reconsidered (Prometheus: 10 s).
const RESHARD_EVERY: Duration = Duration::from_secs(10);

/// Turns per-sample acknowledgements into "everything up to this WAL position is done",
/// and keeps the position file: the delivered position, and a high-water mark written
/// *before* any sample past the previous mark is sent, so that after a crash the queue knows
/// exactly which resent samples a receiver may already have (see `shard::deliver`).
pub(crate) struct Tracker {
    inner: Mutex<TrackerInner>,
    file: Mutex<FileState>,
}

struct TrackerInner {
    /// Sequence number of `entries[0]`.
    base: u64,
    /// Per WAL record read: the position after it and its samples not yet acknowledged.
    entries: VecDeque<(WalPosition, u32)>,
    done: WalPosition,
    /// The last record handed out: its sequence number and end.
    handed: (u64, WalPosition),
}

struct FileState {
    path: Option<PathBuf>,
    /// Records up to this sequence number are covered by the saved high-water mark.
    reserved_seq: Option<u64>,
    saved: Saved,
}

impl Tracker {
    pub(crate) fn new(start: WalPosition, path: Option<PathBuf>) -> Self {
        let saved = Saved {
            done: start,
            high: start,
        };
        Tracker {
            inner: Mutex::new(TrackerInner {
                base: 0,
                entries: VecDeque::new(),
                done: start,
                handed: (0, start),
            }),
            file: Mutex::new(FileState {
                path,
                reserved_seq: None,
                saved,
            }),
        }
    }

    /// Registers a record ending at `pos` with `samples` samples in flight; returns its
    /// sequence number.
    fn push(&self, pos: WalPosition, samples: u32) -> u64 {
        let mut t = self.inner.lock();
        let seq = t.base + t.entries.len() as u64;
        t.entries.push_back((pos, samples));
        t.handed = (seq, pos);
        t.advance();
        seq
    }

    /// Acknowledges `n` samples of record `seq`.
    pub(crate) fn ack(&self, seq: u64, n: u32) {
        let mut t = self.inner.lock();
        let Some(i) = seq.checked_sub(t.base) else {
            return;
        };
        if let Some(e) = t.entries.get_mut(i as usize) {
            e.1 = e.1.saturating_sub(n);
        }
        t.advance();
    }

    /// What the file would say now.
    #[cfg(test)]
    pub(crate) fn current(&self) -> Saved {
        let t = self.inner.lock();
        let f = self.file.lock();
        Saved {
            done: t.done,
            high: f.saved.high.max(t.done),
        }
    }

    /// Before sending samples of records up to `max_seq`: makes sure the saved high-water
    /// mark covers them (one small file write when it does not yet; at most about once per
    /// batch, as each write covers everything handed out so far).
    pub(crate) fn reserve(&self, max_seq: u64) {
        let mut f = self.file.lock();
        if f.reserved_seq.is_some_and(|r| r >= max_seq) {
            return;
        }
        let (done, (hseq, hpos)) = {
            let t = self.inner.lock();
            (t.done, t.handed)
        };
        let next = Saved {
            done,
            high: hpos.max(done).max(f.saved.high),
        };
        f.reserved_seq = Some(hseq.max(max_seq));
        Self::write(&mut f, next);
    }

    /// Everything before this position is delivered.
    pub(crate) fn current_done(&self) -> WalPosition {
        self.inner.lock().done
    }

    /// Saves the delivered position (periodically); returns what the file says.
    pub(crate) fn save(&self) -> Saved {
        let done = self.inner.lock().done;
        let mut f = self.file.lock();
        let next = Saved {
            done,
            high: f.saved.high.max(done),
        };
        if next != f.saved {
            Self::write(&mut f, next);
        }
        f.saved
    }

    fn write(f: &mut FileState, next: Saved) {
        let Some(path) = &f.path else {
            f.saved = next;
            return;
        };
        match save_position(path, next) {
            Ok(()) => f.saved = next,
            Err(e) => {
                // Delivery goes on; a crash now may resend a little more than needed.
                tracing::warn!(file = %path.display(), error = %e, "cannot save the remote write position");
            }
        }
    }
}

impl TrackerInner {
    fn advance(&mut self) {
        while let Some(&(pos, 0)) = self.entries.front() {
            self.done = pos;
            self.entries.pop_front();
            self.base += 1;
        }
    }
}

/// What the position file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Saved {
    /// Every sample before it was delivered (or refused for good).
    pub(crate) done: WalPosition,
    /// No sample after it was delivered.
    pub(crate) high: WalPosition,
}

/// The position file: `<segment> <offset> <high segment> <high offset>\n`, replaced
/// atomically (the high-water pair may be missing: then it equals the first).
pub(crate) fn load_position(path: &Path) -> Result<Option<Saved>, String> {
    // Runs on the queue's own thread, never on an async worker.
    #[allow(clippy::disallowed_methods)]
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let v: Result<Vec<u64>, _> = text.split_whitespace().map(str::parse::<u64>).collect();
    let pos = |segment, offset| WalPosition { segment, offset };
    match v.as_deref() {
        Ok([s, o]) => Ok(Some(Saved {
            done: pos(*s, *o),
            high: pos(*s, *o),
        })),
        Ok([s, o, hs, ho]) => Ok(Some(Saved {
            done: pos(*s, *o),
            high: pos(*hs, *ho).max(pos(*s, *o)),
        })),
        _ => Err(format!(
            "{}: not a WAL position (\"<segment> <offset> [<segment> <offset>]\"): {text:?}",
            path.display()
        )),
    }
}

#[allow(clippy::disallowed_methods)]
fn save_position(path: &Path, p: Saved) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        format!(
            "{} {} {} {}\n",
            p.done.segment, p.done.offset, p.high.segment, p.high.offset
        ),
    )?;
    std::fs::rename(&tmp, path)
}

/// What the reader thread needs.
pub(crate) struct ReaderSetup {
    pub(crate) cfg: RemoteWriteConfig,
    pub(crate) external: Labels,
    /// The store: which series it still holds, for forgetting the others.
    pub(crate) tsdb: Arc<sightline_tsdb::Tsdb>,
    pub(crate) position_file: PathBuf,
    /// The WAL, opened where the queue starts.
    pub(crate) tail: Option<WalTail>,
    /// Records up to here may have been delivered before a crash.
    pub(crate) replay_until: WalPosition,
    pub(crate) metrics: QueueMetrics,
    pub(crate) ctx: Arc<ShardCtx>,
    pub(crate) cancel: CancellationToken,
    pub(crate) runtime: tokio::runtime::Handle,
    /// The oldest WAL segment this queue still needs (for the store's hold).
    pub(crate) hold: Arc<AtomicU64>,
    pub(crate) on_hold_change: Arc<dyn Fn() + Send + Sync>,
    /// Stop once everything the WAL holds is handed out (graceful shutdown).
    pub(crate) drain: Arc<AtomicBool>,
    /// Set when the reader has finished (its shards have sent what they held).
    pub(crate) stopped: Arc<AtomicBool>,
}

/// Where a queue starts: its saved position, or the end of the WAL for a new queue (as
/// Prometheus: no history), or the oldest segment when the position file is damaged.
/// Called when the queue is started, so samples committed after that are the queue's.
pub(crate) fn open_tail(
    name: &str,
    data_dir: &Path,
    position_file: &Path,
) -> sightline_tsdb::Result<(WalTail, WalPosition)> {
    match load_position(position_file) {
        Ok(Some(p)) => {
            tracing::info!(queue = %name, position = ?p.done, "remote write queue resumes");
            Ok((WalTail::open(data_dir, Some(p.done))?, p.high))
        }
        Ok(None) => {
            tracing::info!(queue = %name, "new remote write queue: starting at the end of the WAL");
            Ok((WalTail::open(data_dir, None)?, WalPosition::default()))
        }
        Err(e) => {
            // A damaged position file: resend everything the WAL still has rather than
            // skip what may not have been delivered.
            tracing::warn!(queue = %name, error = %e, "remote write position unreadable; resending the whole WAL");
            let t = WalTail::open_oldest(data_dir)?;
            Ok((t, WalPosition::default()))
        }
    }
}

/// The labels a series is sent with: external labels added (a series' own label wins), then
/// `write_relabel_configs`. `None`: dropped.
fn outgoing_labels(l: &Labels, external: &Labels, cfg: &RemoteWriteConfig) -> Option<OutSeries> {
    let with_ext = if external.is_empty() {
        None
    } else {
        let mut b: LabelsBuilder = l.builder();
        for e in external.iter() {
            if !l.has(&e.name) {
                b.set(e.name.clone(), e.value.clone());
            }
        }
        Some(b.build())
    };
    let base = with_ext.as_ref().unwrap_or(l);
    if cfg.write_relabel_configs.is_empty() {
        return Some(OutSeries::new(base));
    }
    relabel(base, &cfg.write_relabel_configs).map(|l| OutSeries::new(&l))
}

/// What the reader knows of a series: its index in the shards' table (`None`: dropped by
/// relabelling) and the WAL segment of the last record that named it.
#[derive(Clone, Copy)]
struct Known {
    slot: Option<u32>,
    last_segment: u64,
}

/// Series id to what the reader knows of it.
type SeriesMap = HashMap<u64, Known, foldhash::fast::RandomState>;

/// Records a series the WAL names.
fn learn(series: &mut SeriesMap, s: &ReaderSetup, id: u64, l: &Labels, segment: u64) {
    // Ids are never reused: a series seen in the checkpoint and again in a segment is one.
    if let Some(k) = series.get_mut(&id) {
        k.last_segment = k.last_segment.max(segment);
        return;
    }
    let slot = outgoing_labels(l, &s.external, &s.cfg).map(|o| s.ctx.add_series(o));
    series.insert(
        id,
        Known {
            slot,
            last_segment: segment,
        },
    );
}

/// How often a caught-up queue forgets the series the store has dropped.
const GC_EVERY: Duration = Duration::from_secs(300);

/// The series a queue may forget: those whose last record is in a segment before `done`
/// (everything they had is delivered) and that the store no longer holds (`alive` says, for
/// a list of ids). Call only when the reader has read everything the WAL holds, so that no
/// unread record names them. Returns their table slots to free.
fn forget_dropped(
    series: &mut SeriesMap,
    done: u64,
    alive: impl FnOnce(&[u64]) -> Vec<bool>,
) -> Vec<u32> {
    let old: Vec<u64> = series
        .iter()
        .filter(|(_, k)| k.last_segment < done)
        .map(|(&id, _)| id)
        .collect();
    let live = alive(&old);
    let mut slots = Vec::new();
    for (id, is_live) in old.iter().zip(live) {
        if !is_live {
            if let Some(Known { slot: Some(x), .. }) = series.remove(id) {
                slots.push(x);
            }
        }
    }
    slots
}

/// The reader thread's body. Returns when cancelled (or the shards are gone).
pub(crate) fn run_reader(mut s: ReaderSetup) {
    let name = s.ctx.name.clone();
    let replay_until = s.replay_until;
    let Some(mut tail) = s.tail.take() else {
        s.stopped.store(true, Ordering::Relaxed);
        return;
    };
    // Series id to its index in the shards' table (`None`: dropped by relabelling). foldhash,
    // not SipHash: one lookup per sample read, keys are our own ids.
    let mut series: SeriesMap = HashMap::default();
    // Series learnt before the start position are taken as named at its segment.
    let start_segment = tail.position().segment;
    if let Err(e) = tail.load_series(|id, l| learn(&mut series, &s, id, &l, start_segment)) {
        tracing::error!(queue = %name, error = %e, "remote write queue cannot read series from the WAL");
    }
    let tracker = Arc::new(Tracker::new(tail.position(), Some(s.position_file.clone())));
    s.hold.store(tail.position().segment, Ordering::Relaxed);
    (s.on_hold_change)();
    let q = &s.cfg.queue_config;
    let mut shards = Shards::start(
        q.min_shards.max(1) as usize,
        &s.ctx,
        &tracker,
        &s.runtime,
        &s.cancel,
    );
    s.metrics.shards.set(shards.len() as f64);
    s.metrics.shards_desired.set(shards.len() as f64);
    let chunk = (q.max_samples_per_send.max(1) as usize).min(10_000);
    let mut outbox: Vec<Vec<Pending>> = vec![Vec::new(); shards.len()];
    let mut last_save = Instant::now();
    let mut last_gc = Instant::now();
    let mut rates = Rates::new(&s.metrics);
    let age_limit = (!q.sample_age_limit.is_zero()).then_some(q.sample_age_limit);
    'outer: while !s.cancel.is_cancelled() {
        let min_t = age_limit.map(|a| now_ms() - a.as_millis() as i64);
        let mut gone = false;
        let res = tail.read(READ_BYTES, |rec, pos| match rec {
            WalRecord::Series(v) => {
                for (id, l) in v {
                    learn(&mut series, &s, id, &l, pos.segment);
                }
                tracker.push(pos, 0);
            }
            rec @ (WalRecord::Samples(_) | WalRecord::Histograms(_)) => {
                type Item = (u64, i64, f64, Option<Arc<sightline_tsdb::HistValue>>);
                let items: Box<dyn Iterator<Item = Item>> = match rec {
                    WalRecord::Samples(v) => {
                        s.metrics.samples_in.inc_by(v.len() as f64);
                        Box::new(v.into_iter().map(|(id, t, val)| (id, t, val, None)))
                    }
                    WalRecord::Histograms(v) => {
                        s.metrics.histograms_in.inc_by(v.len() as f64);
                        Box::new(
                            v.into_iter()
                                .map(|(id, t, h)| (id, t, 0.0, Some(Arc::new(h)))),
                        )
                    }
                    WalRecord::Series(_) => Box::new(std::iter::empty()),
                };
                let mut kept = 0u32;
                let seq = tracker.push(pos, u32::MAX);
                let replay = pos <= replay_until;
                for (id, t, val, h) in items {
                    let series = match series.get_mut(&id) {
                        Some(k) if k.slot.is_some() => {
                            k.last_segment = pos.segment;
                            k.slot.unwrap_or_default()
                        }
                        Some(_) => {
                            s.metrics.dropped_relabel.inc();
                            continue;
                        }
                        None => {
                            s.metrics.dropped_unknown.inc();
                            continue;
                        }
                    };
                    if min_t.is_some_and(|m| t < m) {
                        s.metrics.dropped_too_old.inc();
                        continue;
                    }
                    kept += 1;
                    let shard = (id % outbox.len() as u64) as usize;
                    outbox[shard].push(Pending {
                        series,
                        id,
                        t,
                        v: val,
                        h,
                        seq,
                        replay,
                    });
                    if outbox[shard].len() >= chunk {
                        let batch =
                            std::mem::replace(&mut outbox[shard], Vec::with_capacity(chunk));
                        if !shards.send(shard, batch, &s.metrics) {
                            gone = true;
                        }
                    }
                }
                // The record's real count replaces the placeholder that kept it open
                // while its samples were being handed out.
                tracker.ack(seq, u32::MAX - kept);
            }
        });
        for (i, b) in outbox.iter_mut().enumerate() {
            if !b.is_empty()
                && !shards.send(
                    i,
                    std::mem::replace(b, Vec::with_capacity(chunk)),
                    &s.metrics,
                )
            {
                gone = true;
            }
        }
        let caught_up = matches!(&res, Ok(p) if p.records == 0);
        let idle = match res {
            Ok(p) => {
                if p.segments_lost > 0 {
                    s.metrics.wal_lost.inc_by(p.segments_lost as f64);
                }
                p.records == 0
            }
            Err(e) => {
                tracing::error!(queue = %name, error = %e, "remote write queue failed to read the WAL; retrying");
                true
            }
        };
        if gone {
            break 'outer;
        }
        if last_save.elapsed() >= SAVE_EVERY {
            last_save = Instant::now();
            persist(&s, &tracker);
            if let Some(n) = rates.desired(&s, shards.len()) {
                s.metrics.shards_desired.set(n as f64);
                if n != shards.len() {
                    tracing::info!(queue = %name, from = shards.len(), to = n, "remote write resharding");
                    shards = shards.reshard(n, &s.runtime);
                    outbox = vec![Vec::new(); shards.len()];
                    s.metrics.shards.set(shards.len() as f64);
                }
            }
        }
        if caught_up && last_gc.elapsed() >= GC_EVERY {
            // Caught up: no unread record can name a series forgotten now.
            last_gc = Instant::now();
            let done = tracker.current_done().segment;
            let slots = forget_dropped(&mut series, done, |ids| s.tsdb.head_has_series(ids));
            if !slots.is_empty() {
                tracing::debug!(queue = %name, series = slots.len(), "remote write queue forgot series the store dropped");
                s.ctx.free_series(&slots);
            }
        }
        if idle && s.drain.load(Ordering::Relaxed) {
            break;
        }
        if idle {
            // Nothing new: wait a little (the loop checks for cancellation).
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    shards.close(&s.runtime);
    persist(&s, &tracker);
    s.stopped.store(true, Ordering::Relaxed);
}

fn persist(s: &ReaderSetup, tracker: &Tracker) {
    let seg = tracker.save().done.segment;
    s.metrics.wal_segment.set(seg as f64);
    if s.hold.swap(seg, Ordering::Relaxed) != seg {
        (s.on_hold_change)();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Dynamic sharding, after Prometheus' `calculateDesiredShards`: the shards needed are the
/// time one sample takes to send times the rate samples arrive at, plus a share of the
/// backlog so a queue that fell behind catches up; changes within ±30 % are ignored, and
/// nothing changes while sends are failing (more shards would not help a receiver that is
/// down).
struct Rates {
    last: Instant,
    last_in: f64,
    in_rate: Option<f64>,
}

impl Rates {
    fn new(m: &QueueMetrics) -> Self {
        Rates {
            last: Instant::now(),
            last_in: m.samples_in.get(),
            in_rate: None,
        }
    }

    fn desired(&mut self, s: &ReaderSetup, current: usize) -> Option<usize> {
        let dt = self.last.elapsed();
        if dt < RESHARD_EVERY {
            return None;
        }
        self.last = Instant::now();
        let samples_in = s.metrics.samples_in.get();
        let rate = (samples_in - self.last_in) / dt.as_secs_f64();
        self.last_in = samples_in;
        // Exponentially weighted, as Prometheus' ewmaRate (weight 0.2).
        let in_rate = match self.in_rate {
            Some(r) => r + 0.2 * (rate - r),
            None => rate,
        };
        self.in_rate = Some(in_rate);
        let (delivered, busy, failing) = s.ctx.take_send_stats();
        if failing {
            return None;
        }
        let q = &s.cfg.queue_config;
        // The backlog: what the shards hold, plus how far delivery is behind the clock at
        // the arrival rate (the WAL not yet read, which the shards cannot see).
        let sent = s.metrics.highest_sent.get();
        let lag = if sent > 0.0 {
            (now_ms() as f64 / 1000.0 - sent - q.batch_send_deadline.as_secs_f64()).max(0.0)
        } else {
            0.0
        };
        let backlog = s.metrics.pending.get().max(0.0) + lag * in_rate;
        let desired = if delivered == 0 {
            current as f64
        } else {
            let per_sample = busy.as_secs_f64() / delivered as f64;
            // A tenth of the backlog per second on top of the arrival rate.
            per_sample * (in_rate + backlog * 0.1)
        };
        let lo = current as f64 * 0.7;
        let hi = current as f64 * 1.3;
        if desired > lo && desired < hi {
            return Some(current);
        }
        let n = (desired.ceil() as u64).clamp(q.min_shards.max(1), q.max_shards.max(1));
        Some(n as usize)
    }
}

/// Shard channels carry chunks of at most `max_samples_per_send` samples; this many chunks
/// per shard fill `queue_config.capacity`.
pub(crate) fn channel_chunks(capacity: u64, max_per_send: u64) -> usize {
    (capacity / max_per_send.max(1)).clamp(1, 1024) as usize
}

/// A shard's sending end, as the reader holds it.
pub(crate) type ShardTx = mpsc::Sender<Vec<Pending>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(segment: u64, offset: u64) -> WalPosition {
        WalPosition { segment, offset }
    }

    #[test]
    fn tracker_advances_only_over_fully_acknowledged_records() {
        let t = Tracker::new(pos(1, 0), None);
        let a = t.push(pos(1, 10), 2);
        let b = t.push(pos(1, 20), 0);
        let c = t.push(pos(1, 30), 1);
        assert_eq!(t.current().done, pos(1, 0));
        // Sending c's samples first reserves everything handed out so far.
        t.reserve(c);
        assert_eq!(t.current().high, pos(1, 30));
        t.ack(c, 1);
        assert_eq!(
            t.current().done,
            pos(1, 0),
            "an earlier record is still open"
        );
        t.ack(a, 1);
        assert_eq!(t.current().done, pos(1, 0));
        t.ack(a, 1);
        assert_eq!(
            t.save().done,
            pos(1, 30),
            "a, the empty b and c are all done"
        );
        let _ = b;
        // A late or duplicate acknowledgement is ignored.
        t.ack(a, 5);
        assert_eq!(t.current().done, pos(1, 30));
        // The mark only moves forward.
        let d = t.push(pos(2, 5), 1);
        t.reserve(d);
        assert_eq!(t.current().high, pos(2, 5));
    }

    #[test]
    fn only_delivered_series_the_store_dropped_are_forgotten() {
        let mut m = SeriesMap::default();
        let k = |slot, last_segment| Known { slot, last_segment };
        m.insert(1, k(Some(0), 3)); // dropped by the store, delivered: forgotten
        m.insert(2, k(Some(1), 3)); // still in the store: kept
        m.insert(3, k(Some(2), 5)); // dropped, but its last record is not delivered yet: kept
        m.insert(4, k(None, 2)); // relabel-dropped and gone: forgotten, no slot
        let slots = forget_dropped(&mut m, 5, |ids| ids.iter().map(|&id| id == 2).collect());
        assert_eq!(slots, vec![0]);
        let mut left: Vec<u64> = m.keys().copied().collect();
        left.sort_unstable();
        assert_eq!(left, vec![2, 3]);
    }

    #[test]
    fn position_file_round_trips_and_rejects_garbage() {
        let dir = std::env::temp_dir().join(format!("sl-rw-pos-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("q.pos");
        assert_eq!(load_position(&p).unwrap(), None);
        let saved = Saved {
            done: pos(7, 1234),
            high: pos(8, 10),
        };
        save_position(&p, saved).unwrap();
        assert_eq!(load_position(&p).unwrap(), Some(saved));
        std::fs::write(&p, "7 1234\n").unwrap();
        assert_eq!(load_position(&p).unwrap().unwrap().high, pos(7, 1234));
        std::fs::write(&p, "7\n").unwrap();
        assert!(load_position(&p)
            .unwrap_err()
            .contains("not a WAL position"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
