//! [`Tsdb`]: opening (WAL replay), the appender, maintenance (persist, checkpoint,
//! compaction, retention), stats and metrics.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use sightline_model::{Labels, SeriesRef, TimestampMs};
use sightline_storage_api::{Appendable, Appender, Querier, Queryable};

use crate::anychunk::HistValue;
use crate::error::{Error, Result};
use crate::head::{check_order, partition_start, ApplyStats, HeadInner, LastKind, Reject, Verdict};
use crate::headchunks::{HeadChunks, Mark};
use crate::query::TsdbQuerier;
use crate::store::{self, PartWrite, Partition, Store, StoredChunk};
use crate::syncer::WalSyncer;
use crate::wal::{self, FsyncPolicy, Record, Tombstone, Wal};

const DAY: Duration = Duration::from_secs(86_400);

/// Options for [`Tsdb::open`].
#[derive(Debug, Clone)]
pub struct TsdbOptions {
    /// Data directory (`--storage.tsdb.path`); holds `wal/`, `chunks_head/`, `sled/`,
    /// `parts/` and `snapshots/`.
    pub path: PathBuf,
    /// Data older than this (relative to the newest sample) is dropped (default 15 days).
    pub retention_time: Duration,
    /// Optional bound on stored bytes (partitions plus WAL); oldest partitions go first.
    pub retention_size: Option<u64>,
    /// When the WAL is fsynced (default: at most once per second).
    pub wal_fsync: FsyncPolicy,
    /// Whether WAL series and sample records are snappy-compressed (default: true).
    pub wal_compression: bool,
    /// Accept samples up to this far behind a series' newest sample (default 0: reject).
    pub out_of_order_window: Duration,
    /// WAL segment size (default 128 MiB).
    pub wal_segment_bytes: u64,
    /// Partition length; chunks never cross a partition boundary (default 2 hours, at most
    /// 31 days).
    pub partition_duration: Duration,
    /// A head checkpoint (and WAL truncation) runs at this interval (default 30 minutes) ...
    pub checkpoint_interval: Duration,
    /// ... or once this many WAL bytes were written since the last one (default 256 MiB).
    pub checkpoint_wal_bytes: u64,
    /// sled page cache size (default 64 MiB).
    pub cache_bytes: u64,
    /// How long WAL segments a reader still needs ([`Tsdb::set_wal_hold`]) are kept past
    /// the checkpoint that would delete them (default 2 hours, about what Prometheus' WAL
    /// covers); older ones go regardless, so a receiver that never returns cannot fill the
    /// disk.
    pub wal_hold_max_age: Duration,
}

impl Default for TsdbOptions {
    fn default() -> Self {
        TsdbOptions {
            path: PathBuf::from("data"),
            retention_time: 15 * DAY,
            retention_size: None,
            wal_fsync: FsyncPolicy::default(),
            wal_compression: true,
            out_of_order_window: Duration::ZERO,
            wal_segment_bytes: 128 << 20,
            partition_duration: Duration::from_secs(2 * 3600),
            checkpoint_interval: Duration::from_secs(30 * 60),
            checkpoint_wal_bytes: 256 << 20,
            cache_bytes: 64 << 20,
            wal_hold_max_age: Duration::from_secs(2 * 3600),
        }
    }
}

impl TsdbOptions {
    /// Defaults with the given data directory.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TsdbOptions {
            path: path.into(),
            ..TsdbOptions::default()
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Monotonic counters, rendered by the daemon in `/metrics`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) samples_appended: AtomicU64,
    pub(crate) out_of_order: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) out_of_bounds: AtomicU64,
    pub(crate) ooo_accepted: AtomicU64,
    pub(crate) series_created: AtomicU64,
    pub(crate) series_removed: AtomicU64,
    pub(crate) chunks_created: AtomicU64,
    pub(crate) chunks_persisted: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) rollbacks: AtomicU64,
    pub(crate) checkpoints: AtomicU64,
    pub(crate) seals: AtomicU64,
    pub(crate) compactions: AtomicU64,
    pub(crate) compaction_failures: AtomicU64,
    pub(crate) retention_dropped: AtomicU64,
    pub(crate) size_retention_dropped: AtomicU64,
    pub(crate) wal_corruptions: AtomicU64,
}

fn inc(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// A snapshot of the TSDB's counters and gauges (`sightline_tsdb_*` in `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsdbMetrics {
    /// Samples accepted into the head (counter).
    pub samples_appended_total: u64,
    /// Samples rejected as out of order (counter).
    pub out_of_order_samples_total: u64,
    /// Samples rejected as duplicates with a different value (counter).
    pub duplicate_samples_total: u64,
    /// Samples rejected because their partition is already sealed (counter).
    pub out_of_bound_samples_total: u64,
    /// Out-of-order samples accepted inside the window (counter).
    pub out_of_order_samples_accepted_total: u64,
    /// Series created in the head (counter).
    pub head_series_created_total: u64,
    /// Series removed from the head by garbage collection (counter).
    pub head_series_removed_total: u64,
    /// Head chunks cut (counter).
    pub head_chunks_created_total: u64,
    /// Head chunks written to head chunk files (counter).
    pub chunks_persisted_total: u64,
    /// Head partitions sealed into partition files (counter).
    pub head_seals_total: u64,
    /// Appender commits (counter).
    pub commits_total: u64,
    /// Appender rollbacks (counter).
    pub rollbacks_total: u64,
    /// WAL fsyncs (counter).
    pub wal_fsyncs_total: u64,
    /// WAL bytes written (counter).
    pub wal_bytes_written_total: u64,
    /// WAL corruptions found and repaired on open (counter).
    pub wal_corruptions_total: u64,
    /// Head checkpoints with WAL truncation (counter).
    pub checkpoints_total: u64,
    /// Partition compactions (counter).
    pub compactions_total: u64,
    /// Failed compactions (counter).
    pub compaction_failures_total: u64,
    /// Partitions dropped by time retention (counter).
    pub time_retentions_total: u64,
    /// Partitions dropped by size retention (counter).
    pub size_retentions_total: u64,
    /// Series in the head (gauge).
    pub head_series: u64,
    /// Chunks in the head (gauge).
    pub head_chunks: u64,
    /// Persistent partitions (gauge).
    pub partitions: u64,
    /// Bytes of the data directory on disk: sled, partition files, head chunk files and
    /// WAL (gauge).
    pub storage_bytes: u64,
    /// Bytes of WAL segments (gauge).
    pub wal_bytes: u64,
    /// Bytes of head chunk files (gauge).
    pub head_chunk_file_bytes: u64,
}

/// Head statistics in the shape of Prometheus' `/api/v1/status/tsdb` `headStats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadStats {
    /// Series in the head.
    pub num_series: u64,
    /// Distinct label pairs in the head.
    pub num_label_pairs: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest sample in the head (ms), `i64::MAX` when empty, as Prometheus reports.
    pub min_time: TimestampMs,
    /// Newest sample in the head (ms), `i64::MIN` when empty.
    pub max_time: TimestampMs,
}

/// `/api/v1/status/tsdb` data plus disk usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsdbStats {
    /// Head statistics.
    pub head: HeadStats,
    /// Top series counts by metric name.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Top label names by number of distinct values.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Top label names by bytes of their values.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Top `name=value` pairs by series count.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
    /// Persistent partitions: `(min_t, max_t exclusive, approximate bytes)`, oldest first.
    pub partitions: Vec<(TimestampMs, TimestampMs, u64)>,
    /// Bytes on disk (sled, partition files, head chunk files and WAL).
    pub storage_bytes: u64,
    /// Bytes of WAL segments.
    pub wal_bytes: u64,
    /// Approximate heap bytes of head series data.
    pub head_bytes: u64,
}

/// What [`Tsdb::open`] found while replaying.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Series restored from the head checkpoint.
    pub checkpoint_series: u64,
    /// WAL segments read.
    pub wal_segments: u64,
    /// WAL records replayed.
    pub wal_records: u64,
    /// Samples replayed from the WAL.
    pub wal_samples: u64,
    /// Chunk references restored from head chunk files.
    pub head_chunks: u64,
    /// Corruptions found and repaired (segment, offset and reason in each message).
    pub corruptions: Vec<String>,
    /// Time spent opening.
    pub duration: Duration,
}

/// What one maintenance run did.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceReport {
    /// Chunks written to head chunk files.
    pub chunks_persisted: u64,
    /// Head partitions sealed into partition files.
    pub seals: usize,
    /// Whether a checkpoint (and WAL truncation) ran.
    pub checkpointed: bool,
    /// WAL segments deleted.
    pub wal_segments_removed: usize,
    /// Series garbage-collected from the head.
    pub series_removed: usize,
    /// Compactions run.
    pub compactions: usize,
    /// Partitions dropped by retention.
    pub partitions_dropped: usize,
}

pub(crate) struct MaintState {
    last_checkpoint: Instant,
    wal_bytes_at_checkpoint: u64,
}

/// The TSDB. Implements [`Appendable`] and [`Queryable`]; share it behind an `Arc`.
pub struct Tsdb {
    pub(crate) opts: TsdbOptions,
    pub(crate) head: RwLock<HeadInner>,
    pub(crate) wal: Arc<Mutex<Wal>>,
    /// fsyncs the WAL every interval under `FsyncPolicy::Interval`.
    _syncer: Option<WalSyncer>,
    pub(crate) head_chunks: HeadChunks,
    pub(crate) store: Store,
    pub(crate) tombstones: RwLock<Vec<Tombstone>>,
    pub(crate) counters: Counters,
    maint: Mutex<MaintState>,
    /// Held (shared) by queries reading the head in batches, which must see the head's data of
    /// their whole range in every batch; sealing skips its turn while any hold it.
    pub(crate) seal_gate: RwLock<()>,
    report: OpenReport,
    partition_ms: i64,
    /// The oldest WAL segment a reader still needs (`u64::MAX`: none).
    wal_hold: AtomicU64,
}

impl std::fmt::Debug for Tsdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tsdb")
            .field("path", &self.opts.path)
            .finish_non_exhaustive()
    }
}

impl Tsdb {
    /// Opens (or creates) the store: loads the head checkpoint and replays the WAL. May take
    /// a while on a large WAL; call it off the async threads and gate readiness on it.
    pub fn open(opts: TsdbOptions) -> Result<Tsdb> {
        let start = Instant::now();
        if opts.partition_duration < Duration::from_millis(1) || opts.partition_duration > 31 * DAY
        {
            return Err(Error::InvalidArgument(
                "partition_duration must be between 1 ms and 31 days".into(),
            ));
        }
        std::fs::create_dir_all(&opts.path).map_err(|e| Error::io(&opts.path, e))?;
        let store = Store::open(&opts.path, opts.cache_bytes)?;
        let partition_ms = ms(opts.partition_duration);
        let mut head = HeadInner::new(partition_ms, ms(opts.out_of_order_window));
        head.next_id = store.next_id()?.max(1);
        let sealed_before = store.sealed_before()?;
        head.min_valid_t = sealed_before;
        let mut report = OpenReport::default();
        report
            .corruptions
            .extend(store.open_problems.iter().cloned());
        let wal_dir = opts.path.join("wal");
        let mut mark: Option<Mark> = None;
        head.begin_bulk_load();
        let (ckpt_seg, ckpt) = wal::load_checkpoint(&wal_dir, |rec| {
            match rec {
                Record::State(snap) => {
                    report.checkpoint_series += 1;
                    head.restore(snap)?;
                }
                Record::HeadChunksMark(m) => mark = Some(m),
                _ => {}
            }
            Ok(())
        })?;
        report
            .corruptions
            .extend(ckpt.corruptions.iter().map(|e| e.to_string()));
        // Head chunk files: what the checkpoint covers comes back as references; later
        // records are cut off, the WAL replay below rebuilds their chunks.
        let (head_chunks, found) =
            HeadChunks::open(&opts.path.join("chunks_head"), mark, sealed_before)?;
        report.corruptions.extend(found.problems);
        let mut orphans = 0u64;
        for (id, refs) in &found.refs {
            if head.attach_refs(*id, refs) {
                report.head_chunks += refs.len() as u64;
            } else {
                orphans += refs.len() as u64;
            }
        }
        if orphans > 0 {
            let msg = format!(
                "{orphans} chunks in head chunk files belong to no series of the checkpoint; skipped"
            );
            tracing::warn!("{msg}");
            report.corruptions.push(msg);
        }
        let mut tombstones = store.tombstones()?;
        let mut st = ApplyStats::default();
        let rep = wal::replay(&wal_dir, ckpt_seg, |rec| {
            match rec {
                Record::Series(v) => {
                    for (id, labels) in v {
                        let hash = labels.stable_hash();
                        let got = head.create(Some(id), hash, &labels);
                        head.mark_logged(got);
                    }
                }
                Record::Samples(v) => {
                    report.wal_samples += v.len() as u64;
                    for (id, t, val) in v {
                        head.apply(id, t, val, &mut st);
                    }
                }
                Record::Histograms(v) => {
                    report.wal_samples += v.len() as u64;
                    for (id, t, h) in v {
                        head.apply_hist(id, t, &h, &mut st);
                    }
                }
                Record::State(_) | Record::HeadChunksMark(_) => {}
                Record::Tombstone(t) => {
                    if !tombstones.iter().any(|x| x.seq == t.seq) {
                        store.put_tombstone(&t)?;
                        tombstones.push(t);
                    }
                }
            }
            Ok(())
        })?;
        head.end_bulk_load();
        // Data the checkpoint held for partitions sealed after it was written.
        head.drop_before(sealed_before);
        head.recompute_bounds();
        report.wal_segments = rep.segments as u64;
        report.wal_records = rep.records;
        report
            .corruptions
            .extend(rep.corruptions.iter().map(|e| e.to_string()));
        let mut wal = Wal::open(&wal_dir, opts.wal_segment_bytes, opts.wal_fsync)?;
        wal.compress = opts.wal_compression;
        report.duration = start.elapsed();
        let counters = Counters::default();
        inc(&counters.wal_corruptions, rep.corruptions.len() as u64);
        tracing::info!(
            series = head.num_series(),
            checkpoint_series = report.checkpoint_series,
            wal_samples = report.wal_samples,
            corruptions = report.corruptions.len(),
            ms = report.duration.as_millis() as u64,
            "tsdb opened"
        );
        let wal = Arc::new(Mutex::new(wal));
        let syncer = match opts.wal_fsync {
            FsyncPolicy::Interval(every) => {
                Some(WalSyncer::start(wal.clone(), every).map_err(|e| Error::io(&opts.path, e))?)
            }
            _ => None,
        };
        Ok(Tsdb {
            wal,
            _syncer: syncer,
            head_chunks,
            head: RwLock::new(head),
            store,
            tombstones: RwLock::new(tombstones),
            counters,
            seal_gate: RwLock::new(()),
            maint: Mutex::new(MaintState {
                last_checkpoint: Instant::now(),
                wal_bytes_at_checkpoint: 0,
            }),
            report,
            partition_ms,
            wal_hold: AtomicU64::new(u64::MAX),
            opts,
        })
    }

    /// Keeps WAL segments numbered `segment` or higher from being deleted by checkpoints
    /// (for at most `TsdbOptions::wal_hold_max_age`); `None` releases the hold. The
    /// remote-write queues set it to the oldest segment they have not delivered.
    pub fn set_wal_hold(&self, segment: Option<u64>) {
        self.wal_hold
            .store(segment.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The newest sample timestamp in the head, if it holds any (cheap: one read lock).
    pub fn head_max_time(&self) -> Option<TimestampMs> {
        let t = self.head.read().max_t;
        (t != i64::MIN).then_some(t)
    }

    /// Which of `ids` the head still holds (one read lock for all): a series it no longer
    /// holds was garbage-collected (idle past a partition) and no sample will name it again.
    pub fn head_has_series(&self, ids: &[u64]) -> Vec<bool> {
        let h = self.head.read();
        ids.iter().map(|&id| h.contains(id)).collect()
    }

    /// What opening found (replay counts, repaired corruptions).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The options this store was opened with.
    pub fn options(&self) -> &TsdbOptions {
        &self.opts
    }

    /// Persists everything (closed chunks, head checkpoint), truncates the WAL and syncs:
    /// a clean state from which open replays nothing.
    pub fn flush(&self) -> Result<()> {
        let mut m = self.maint.lock();
        self.persist_closed()?;
        self.checkpoint(&mut m, false)?;
        Ok(())
    }

    /// Flushes and closes (clean shutdown).
    pub fn close(self) -> Result<()> {
        self.flush()?;
        self.wal.lock().sync()?;
        Ok(())
    }

    /// One maintenance pass: persist full chunks, checkpoint the head and truncate the WAL when
    /// due, seal complete head partitions, compact, apply retention, fsync the WAL. The
    /// daemon calls this on a timer (e.g. every minute) from a blocking thread.
    pub fn run_maintenance_once(&self) -> Result<MaintenanceReport> {
        let mut m = self.maint.lock();
        let mut rep = MaintenanceReport {
            chunks_persisted: self.persist_closed()?,
            ..Default::default()
        };
        let wal_written = self.wal.lock().bytes_written;
        if m.last_checkpoint.elapsed() >= self.opts.checkpoint_interval
            || wal_written - m.wal_bytes_at_checkpoint >= self.opts.checkpoint_wal_bytes
        {
            let (removed_series, removed_segs, persisted) = self.checkpoint(&mut m, true)?;
            rep.checkpointed = true;
            rep.series_removed = removed_series;
            rep.wal_segments_removed = removed_segs;
            rep.chunks_persisted += persisted;
        }
        rep.seals = self.repeat_step("sealing a head partition", || self.seal_head());
        rep.compactions = self.repeat_step("compaction", || self.compact_once());
        rep.partitions_dropped = self.apply_retention()?;
        self.wal.lock().sync()?;
        Ok(rep)
    }

    /// Runs `step` while it has done something (at most 8 times a pass); returns how often
    /// it did. A failure is counted and logged and ends the loop: the next pass retries.
    fn repeat_step(&self, what: &str, mut step: impl FnMut() -> Result<bool>) -> usize {
        let mut n = 0;
        for _ in 0..8 {
            match step() {
                Ok(true) => n += 1,
                Ok(false) => break,
                Err(e) => {
                    inc(&self.counters.compaction_failures, 1);
                    tracing::warn!(error = %e, "{what} failed");
                    break;
                }
            }
        }
        n
    }

    /// Appends closed head chunks to the head chunk file and keeps only references to them.
    /// Runs under the maintenance lock (the only writer of head chunk files).
    fn persist_closed(&self) -> Result<u64> {
        let (closed, max_t) = {
            let h = self.head.read();
            (h.closed_chunks(), h.max_t)
        };
        if closed.is_empty() {
            return Ok(0);
        }
        if max_t != i64::MIN {
            self.head_chunks
                .roll_at(partition_start(max_t, self.partition_ms));
        }
        let refs = self
            .head_chunks
            .append(closed.iter().flat_map(|(id, chunks)| {
                chunks
                    .iter()
                    .map(move |c| (*id, c.min_t, c.max_t, &c.data[..]))
            }))?;
        let done: Vec<(u64, usize)> = closed.iter().map(|(id, c)| (*id, c.len())).collect();
        self.head.write().attach_persisted(&done, &refs);
        let n = refs.len() as u64;
        inc(&self.counters.chunks_persisted, n);
        Ok(n)
    }

    /// Seals the oldest head partition into a partition file once the head is half a
    /// partition (and the out-of-order window) past its end, as Prometheus compacts its head
    /// at 1.5 block lengths. Samples older than its end are rejected from then on.
    fn seal_head(&self) -> Result<bool> {
        // Not while a query reads the head in batches (the next pass seals instead).
        let Some(_gate) = self.seal_gate.try_write() else {
            return Ok(false);
        };
        let pms = self.partition_ms;
        let (start, end, old_valid) = {
            let mut h = self.head.write();
            if h.max_t == i64::MIN || h.min_t == i64::MAX {
                return Ok(false);
            }
            let boundary = h
                .max_t
                .saturating_sub(pms / 2)
                .min(h.max_t.saturating_sub(ms(self.opts.out_of_order_window)));
            let start = partition_start(h.min_t.max(h.min_valid_t), pms);
            let end = start.saturating_add(pms);
            if end > boundary {
                return Ok(false);
            }
            // From here on the partition takes no more samples; its open chunks close.
            let old = h.min_valid_t;
            h.min_valid_t = h.min_valid_t.max(end);
            h.close_all_chunks(Some(end));
            (start, end, old)
        };
        let res = self.seal_range(start, end);
        if res.is_err() {
            let mut h = self.head.write();
            h.min_valid_t = old_valid;
        }
        res?;
        Ok(true)
    }

    fn seal_range(&self, start: TimestampMs, end: TimestampMs) -> Result<()> {
        self.persist_closed()?;
        let (series, files) = {
            let h = self.head.read();
            (h.refs_before(end), self.head_chunks.pin())
        };
        // One read pass over all of them: a persist pass wrote every series' chunk of the
        // same minute back to back, so the reads merge into large sequential ones.
        let groups: Vec<&[_]> = series.iter().map(|(_, r)| &r[..]).collect();
        let read = files.read_groups(&groups);
        let mut writes = Vec::with_capacity(series.len());
        for ((labels, _), chunks) in series.iter().zip(read) {
            let chunks = store::merge_chunks(chunks.into_iter().flatten().collect())?;
            if !chunks.is_empty() {
                writes.push(PartWrite {
                    labels: labels.clone(),
                    id: 0,
                    chunks,
                });
            }
        }
        writes.sort_by(|a, b| a.labels.cmp(&b.labels));
        for (i, w) in writes.iter_mut().enumerate() {
            w.id = i as u64 + 1;
        }
        let built = if writes.is_empty() {
            Vec::new()
        } else {
            vec![self.store.build_sealed(start, end, &writes)?]
        };
        self.store.publish_sealing(built, &[], Some(end))?;
        {
            let mut h = self.head.write();
            h.drop_refs_before(end);
            h.recompute_bounds();
        }
        self.head_chunks.cut();
        let removed = self.head_chunks.remove_sealed(end);
        inc(&self.counters.seals, 1);
        tracing::info!(
            min_t = start,
            max_t = end,
            series = writes.len(),
            head_chunk_files_removed = removed,
            "sealed a head partition into a file"
        );
        Ok(())
    }

    /// Rotates the WAL, persists idle chunks, garbage-collects idle series, writes the head
    /// checkpoint, syncs sled, then deletes the WAL segments the checkpoint covers.
    fn checkpoint(&self, m: &mut MaintState, gc: bool) -> Result<(usize, usize, u64)> {
        let seg = self.wal.lock().rotate()?;
        let mut removed = Vec::new();
        let mut persisted = 0;
        if gc {
            {
                let mut h = self.head.write();
                if h.max_t != i64::MIN {
                    let cur = partition_start(h.max_t, self.partition_ms);
                    h.close_all_chunks(Some(cur));
                }
            }
            persisted = self.persist_closed()?;
            let mut h = self.head.write();
            if h.max_t != i64::MIN {
                let cutoff = h.max_t.saturating_sub(self.partition_ms);
                removed = h.gc(cutoff);
                h.recompute_bounds();
                h.trim_postings();
            }
        }
        inc(&self.counters.series_removed, removed.len() as u64);
        // The checkpoint holds every head series; it is written in batches so commits only
        // wait for one batch's copy under the read lock.
        let ids = self.head.read().series_ids();
        let mut w = wal::CheckpointWriter::create(&self.opts.path.join("wal"), seg)?;
        // Nothing appends to head chunk files while the maintenance lock is held: the
        // records before this mark hold exactly the persisted chunks the snapshots below
        // leave out.
        w.add_mark(self.head_chunks.mark());
        for batch in ids.chunks(10_000) {
            let snaps = self.head.read().snapshot(batch);
            for s in &snaps {
                w.add(s)?;
            }
        }
        // Head chunks must be durable before the WAL that also holds them goes away.
        self.head_chunks.sync()?;
        self.store.flush()?;
        w.finish()?;
        let next_id = self.head.read().next_id;
        self.store.set_next_id(next_id)?;
        let wal = self.wal.lock();
        let hold = self.wal_hold.load(Ordering::Relaxed);
        let n = wal.remove_before(seg, hold, self.opts.wal_hold_max_age)?;
        m.wal_bytes_at_checkpoint = wal.bytes_written;
        m.last_checkpoint = Instant::now();
        inc(&self.counters.checkpoints, 1);
        Ok((removed.len(), n, persisted))
    }

    /// The newest timestamp known (head or partitions).
    fn newest(&self) -> TimestampMs {
        let h = self.head.read().max_t;
        if h != i64::MIN {
            return h;
        }
        let p = self
            .store
            .partitions()
            .iter()
            .map(|p| p.max_t.saturating_sub(1))
            .max()
            .unwrap_or(i64::MIN);
        h.max(p)
    }

    /// Merges the partitions of one compaction window, if any window is due.
    fn compact_once(&self) -> Result<bool> {
        let parts = self.store.partitions();
        if parts.is_empty() {
            return Ok(false);
        }
        let head_max = self.head.read().max_t;
        let boundary = if head_max == i64::MIN {
            i64::MAX
        } else {
            let b = partition_start(head_max, self.partition_ms).saturating_sub(self.partition_ms);
            b.min(head_max.saturating_sub(ms(self.opts.out_of_order_window)))
        };
        // A partition an older version's head wrote into sled becomes a file as soon as no
        // more data is due for it: sled stores its chunks at several times their size and
        // does not give the space back, so the sooner the better.
        if let Some(p) = parts
            .iter()
            .find(|p| !p.is_file() && p.max_t <= boundary && p.max_t - p.min_t <= self.partition_ms)
        {
            self.rewrite(std::slice::from_ref(p), p.min_t, p.max_t)?;
            return Ok(true);
        }
        let max_range = ms(self.opts.retention_time / 10).clamp(self.partition_ms, ms(31 * DAY));
        let mut w = self.partition_ms;
        loop {
            w = w.saturating_mul(3);
            if w > max_range {
                return Ok(false);
            }
            let mut windows: std::collections::BTreeMap<i64, Vec<Partition>> =
                std::collections::BTreeMap::new();
            for p in &parts {
                let k = p.min_t.div_euclid(w);
                let end = (k + 1).saturating_mul(w);
                if p.max_t <= end && p.max_t <= boundary && end <= boundary && p.max_t - p.min_t < w
                {
                    windows.entry(k).or_default().push(p.clone());
                }
            }
            // Also merge partitions that are already window-sized but overlap each other.
            for p in &parts {
                if p.max_t - p.min_t == w && p.max_t <= boundary {
                    let k = p.min_t.div_euclid(w);
                    if let Some(v) = windows.get_mut(&k) {
                        v.push(p.clone());
                    }
                }
            }
            // A window is due when it has several partitions, or one whose chunks still
            // live in sled (a head partition, or one sealed before partition files): rewriting
            // it moves them to a partition file.
            if let Some((k, group)) = windows
                .into_iter()
                .find(|(_, g)| g.len() >= 2 || g.iter().any(|p| !p.is_file()))
            {
                self.rewrite(&group, k * w, (k + 1) * w)?;
                return Ok(true);
            }
        }
    }

    /// Merges `group` into one partition file for `[min_t, max_t)` and swaps it in.
    fn rewrite(&self, group: &[Partition], min_t: TimestampMs, max_t: TimestampMs) -> Result<()> {
        let writes = store::merge_partitions(group)?;
        let built = self.store.build_sealed(min_t, max_t, &writes)?;
        self.store.publish(vec![built], group)?;
        inc(&self.counters.compactions, 1);
        tracing::info!(
            min_t,
            max_t,
            sources = group.len(),
            series = writes.len(),
            "compacted partitions into a file"
        );
        Ok(())
    }

    /// Drops partitions past the time retention, then oldest ones while over the size limit.
    fn apply_retention(&self) -> Result<usize> {
        let parts = self.store.partitions();
        if parts.is_empty() {
            return Ok(0);
        }
        let cutoff = self.newest().saturating_sub(ms(self.opts.retention_time));
        let mut victims: Vec<Partition> = parts
            .iter()
            .filter(|p| p.max_t <= cutoff)
            .cloned()
            .collect();
        let n_time = victims.len();
        if let Some(limit) = self.opts.retention_size {
            let mut rest: Vec<&Partition> = parts.iter().filter(|p| p.max_t > cutoff).collect();
            rest.sort_by_key(|p| (p.max_t, p.min_t));
            let wal = self.wal_disk_bytes() + self.head_chunks.disk_bytes();
            let mut total: u64 = wal + rest.iter().map(|p| p.bytes).sum::<u64>();
            for p in rest {
                if total <= limit {
                    break;
                }
                total = total.saturating_sub(p.bytes);
                victims.push(p.clone());
            }
        }
        if victims.is_empty() {
            return Ok(0);
        }
        inc(&self.counters.retention_dropped, n_time as u64);
        inc(
            &self.counters.size_retention_dropped,
            (victims.len() - n_time) as u64,
        );
        tracing::info!(
            partitions = victims.len(),
            cutoff,
            "retention dropping partitions"
        );
        self.store.drop_partitions(&victims)?;
        Ok(victims.len())
    }

    /// Counters and gauges for `/metrics`.
    pub fn metrics(&self) -> TsdbMetrics {
        let c = &self.counters;
        let (fsyncs, wal_written) = {
            let w = self.wal.lock();
            (w.fsyncs, w.bytes_written)
        };
        // The directory walk runs without the WAL's lock, which commits take.
        let wal_bytes = self.wal_disk_bytes();
        let head_chunk_file_bytes = self.head_chunks.disk_bytes();
        let (head_series, head_chunks) = {
            let h = self.head.read();
            (h.num_series() as u64, h.num_chunks() as u64)
        };
        TsdbMetrics {
            samples_appended_total: get(&c.samples_appended),
            out_of_order_samples_total: get(&c.out_of_order),
            duplicate_samples_total: get(&c.duplicates),
            out_of_bound_samples_total: get(&c.out_of_bounds),
            out_of_order_samples_accepted_total: get(&c.ooo_accepted),
            head_series_created_total: get(&c.series_created),
            head_series_removed_total: get(&c.series_removed),
            head_chunks_created_total: get(&c.chunks_created),
            chunks_persisted_total: get(&c.chunks_persisted),
            head_seals_total: get(&c.seals),
            commits_total: get(&c.commits),
            rollbacks_total: get(&c.rollbacks),
            wal_fsyncs_total: fsyncs,
            wal_bytes_written_total: wal_written,
            wal_corruptions_total: get(&c.wal_corruptions),
            checkpoints_total: get(&c.checkpoints),
            compactions_total: get(&c.compactions),
            compaction_failures_total: get(&c.compaction_failures),
            time_retentions_total: get(&c.retention_dropped),
            size_retentions_total: get(&c.size_retention_dropped),
            head_series,
            head_chunks,
            partitions: self.store.partitions().len() as u64,
            storage_bytes: self.store.size_on_disk() + wal_bytes + head_chunk_file_bytes,
            wal_bytes,
            head_chunk_file_bytes,
        }
    }

    /// `/api/v1/status/tsdb` data (top `limit` entries per list; Prometheus uses 10).
    pub fn stats(&self, limit: usize) -> TsdbStats {
        let h = self.head.read();
        let pairs = h.postings_cardinalities();
        let mut by_metric = Vec::new();
        let mut by_pair = Vec::with_capacity(pairs.len());
        let mut values_by_name: HashMap<&str, (u64, u64)> = HashMap::new();
        for (n, v, count) in &pairs {
            if &**n == sightline_model::METRIC_NAME {
                by_metric.push((v.to_string(), *count as u64));
            }
            by_pair.push((format!("{n}={v}"), *count as u64));
            let e = values_by_name.entry(n).or_default();
            e.0 += 1;
            e.1 += (v.len() * *count) as u64;
        }
        let top = |mut v: Vec<(String, u64)>| {
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(limit);
            v
        };
        let head = HeadStats {
            num_series: h.num_series() as u64,
            num_label_pairs: pairs.len() as u64,
            chunk_count: h.num_chunks() as u64,
            min_time: h.min_t,
            max_time: h.max_t,
        };
        let head_bytes = h.approx_bytes() as u64;
        let label_value_count = values_by_name
            .iter()
            .map(|(n, (c, _))| (n.to_string(), *c))
            .collect();
        let memory_by_name = values_by_name
            .iter()
            .map(|(n, (_, b))| (n.to_string(), *b))
            .collect();
        drop(h);
        let wal_bytes = self.wal_disk_bytes();
        let head_chunk_file_bytes = self.head_chunks.disk_bytes();
        TsdbStats {
            head,
            series_count_by_metric_name: top(by_metric),
            label_value_count_by_label_name: top(label_value_count),
            memory_in_bytes_by_label_name: top(memory_by_name),
            series_count_by_label_value_pair: top(by_pair),
            partitions: self
                .store
                .partitions()
                .iter()
                .map(|p| (p.min_t, p.max_t, p.bytes))
                .collect(),
            storage_bytes: self.store.size_on_disk() + wal_bytes + head_chunk_file_bytes,
            wal_bytes,
            head_bytes,
        }
    }

    /// Bytes of the WAL's segments and checkpoints (a directory walk, without the WAL's lock).
    fn wal_disk_bytes(&self) -> u64 {
        wal::dir_size(&self.opts.path.join("wal"))
    }

    pub(crate) fn partition_ms(&self) -> i64 {
        self.partition_ms
    }

    pub(crate) fn maint_lock(&self) -> parking_lot::MutexGuard<'_, MaintState> {
        self.maint.lock()
    }

    pub(crate) fn persist_closed_pub(&self) -> Result<u64> {
        self.persist_closed()
    }

    /// The chunks of series `ids` that are in head chunk files, read in. An unreadable
    /// chunk is an error here: the caller rewrites the series from what it gets.
    pub(crate) fn head_refs_data(&self, ids: &[u64]) -> Result<Vec<(u64, Vec<StoredChunk>)>> {
        let (refs, files) = {
            let h = self.head.read();
            (h.refs_of(ids), self.head_chunks.pin())
        };
        let groups: Vec<&[_]> = refs.iter().map(|(_, r)| &r[..]).collect();
        let read = files.read_groups(&groups);
        refs.iter()
            .zip(read)
            .map(|((id, _), chunks)| {
                let chunks = chunks.into_iter().collect::<Option<Vec<_>>>();
                let chunks = chunks.ok_or_else(|| {
                    Error::Corrupt(format!("a head chunk of series {id} is unreadable"))
                })?;
                Ok((*id, chunks))
            })
            .collect()
    }

    pub(crate) fn full_checkpoint_locked(&self) -> Result<()> {
        let mut m = MaintState {
            last_checkpoint: Instant::now(),
            wal_bytes_at_checkpoint: 0,
        };
        self.checkpoint(&mut m, false)?;
        Ok(())
    }
}

/// The appender: buffers a batch, writes it to the WAL and applies it to the head on commit.
struct TsdbAppender<'a> {
    db: &'a Tsdb,
    /// Series whose WAL series record may still be missing (checked again at commit).
    unlogged: Vec<u64>,
    /// The head's GC epoch when the batch started.
    epoch: Option<u64>,
    /// As Prometheus' head appender, `append` checks a sample against the series' committed
    /// state only; a series appended twice in one batch is ordered (and a late or duplicate
    /// sample counted and dropped) when the batch is applied at commit.
    samples: Vec<(u64, TimestampMs, u64)>,
    /// Histogram samples of the batch, applied after the floats (as Prometheus' head commits
    /// floats, then histograms).
    hists: Vec<crate::wal_hist::HistSample>,
}

impl Appendable for Tsdb {
    fn commit_may_block(&self) -> bool {
        matches!(self.opts.wal_fsync, FsyncPolicy::Always)
    }

    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(TsdbAppender {
            db: self,
            unlogged: Vec::new(),
            epoch: None,
            samples: Vec::new(),
            hists: Vec::new(),
        })
    }
}

impl TsdbAppender<'_> {
    /// Resolves (or creates) the series: id, newest sample, OOO bound, min valid time, and
    /// the kind of the newest sample.
    #[allow(clippy::type_complexity)]
    fn resolve(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
    ) -> sightline_storage_api::Result<(
        u64,
        Option<(TimestampMs, u64)>,
        Option<TimestampMs>,
        TimestampMs,
        crate::head::LastKind,
    )> {
        let db = self.db;
        let res = {
            let h = db.head.read();
            if self.epoch.is_none() {
                self.epoch = Some(h.gc_epoch);
            }
            // The fast path: a valid reference costs one hash lookup and no label hashing.
            // Otherwise the labels are hashed once, for the lookup and a creation.
            let mut hash = None;
            let found = match series_ref.and_then(|r| h.append_info(r.0).map(|i| (r.0, i))) {
                Some(x) => Some(x),
                None => {
                    if labels.is_empty() {
                        return Err(sightline_storage_api::Error::InvalidSeries(
                            labels.to_string(),
                        ));
                    }
                    let hv = *hash.insert(labels.stable_hash());
                    h.lookup(hv, labels)
                        .and_then(|id| h.append_info(id).map(|i| (id, i)))
                }
            };
            match found {
                Some((id, (last, logged, kind))) => {
                    if !logged {
                        self.unlogged.push(id);
                    }
                    (id, last, h.ooo_min_t(), h.min_valid_t, kind)
                }
                None => {
                    drop(h);
                    let mut h = db.head.write();
                    let before = h.num_series();
                    let hash = hash.unwrap_or_else(|| labels.stable_hash());
                    let id = h.create(None, hash, labels);
                    if h.num_series() > before {
                        inc(&db.counters.series_created, 1);
                    }
                    self.unlogged.push(id);
                    let kind = h.last_kind(id);
                    (id, h.last(id).flatten(), h.ooo_min_t(), h.min_valid_t, kind)
                }
            }
        };
        Ok(res)
    }

    /// Checks and buffers a histogram sample.
    fn append_hist(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        h: HistValue,
    ) -> sightline_storage_api::Result<SeriesRef> {
        if let Err(e) = h.validate() {
            return Err(sightline_storage_api::Error::Backend(Box::new(e)));
        }
        let (id, ..) = self.resolve(series_ref, labels)?;
        let db = self.db;
        let verdict = db.head.read().check_hist(id, t, &h);
        match verdict {
            Err(r) => Err(self.reject(r)),
            Ok(Verdict::Identical) => Ok(SeriesRef(id)),
            Ok(_) => {
                self.hists.push((id, t, h));
                Ok(SeriesRef(id))
            }
        }
    }

    /// Counts a rejection and names it.
    fn reject(&self, r: Reject) -> sightline_storage_api::Error {
        let db = self.db;
        match r {
            Reject::OutOfBounds => {
                inc(&db.counters.out_of_bounds, 1);
                sightline_storage_api::Error::OutOfBounds
            }
            Reject::OutOfOrder => {
                inc(&db.counters.out_of_order, 1);
                sightline_storage_api::Error::OutOfOrderSample
            }
            Reject::Duplicate => {
                inc(&db.counters.duplicates, 1);
                sightline_storage_api::Error::DuplicateSampleForTimestamp
            }
        }
    }
}

impl Appender for TsdbAppender<'_> {
    fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        v: f64,
    ) -> sightline_storage_api::Result<SeriesRef> {
        let db = self.db;
        let (id, head_last, ooo_min, min_valid, kind) = self.resolve(series_ref, labels)?;
        match kind {
            LastKind::Float => {}
            // As Prometheus' head appender: a stale marker for a series whose newest sample
            // is a histogram becomes a stale histogram.
            k if sightline_model::is_stale_nan(v) => {
                return self.append_hist(
                    Some(SeriesRef(id)),
                    labels,
                    t,
                    crate::head::stale_hist(k == LastKind::FloatHist),
                );
            }
            _ if head_last.is_some_and(|(lt, _)| lt == t) => {
                return Err(self.reject(Reject::Duplicate));
            }
            _ => {}
        }
        match check_order(head_last, t, v, ooo_min, min_valid) {
            Err(Reject::OutOfBounds) => {
                inc(&db.counters.out_of_bounds, 1);
                Err(sightline_storage_api::Error::OutOfBounds)
            }
            Err(Reject::OutOfOrder) => {
                inc(&db.counters.out_of_order, 1);
                Err(sightline_storage_api::Error::OutOfOrderSample)
            }
            Err(Reject::Duplicate) => {
                inc(&db.counters.duplicates, 1);
                Err(sightline_storage_api::Error::DuplicateSampleForTimestamp)
            }
            Ok(Verdict::Identical) => Ok(SeriesRef(id)),
            Ok(Verdict::InOrder | Verdict::OutOfOrderAccepted) => {
                self.samples.push((id, t, v.to_bits()));
                Ok(SeriesRef(id))
            }
        }
    }

    fn append_histogram(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        h: &sightline_model::Histogram,
    ) -> sightline_storage_api::Result<SeriesRef> {
        self.append_hist(series_ref, labels, t, HistValue::Int(h.clone()))
    }

    fn append_float_histogram(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: TimestampMs,
        fh: &sightline_model::FloatHistogram,
    ) -> sightline_storage_api::Result<SeriesRef> {
        self.append_hist(series_ref, labels, t, HistValue::Float(fh.clone()))
    }

    fn commit(self: Box<Self>) -> sightline_storage_api::Result<()> {
        let db = self.db;
        inc(&db.counters.commits, 1);
        if self.samples.is_empty() && self.hists.is_empty() {
            return Ok(());
        }
        let mut wal = db.wal.lock();
        // New series' WAL entries, encoded from the head's interned strings.
        let mut new_series: Vec<u64> = Vec::new();
        let mut entries: Vec<u8> = Vec::new();
        {
            let mut h = db.head.write();
            // A series garbage-collected since it was resolved cannot be logged by id: fail
            // the whole batch before anything is written, so nothing acknowledged is lost.
            // Only checked when a collection ran since this batch started.
            if self.epoch != Some(h.gc_epoch) {
                let ids = self.samples.iter().map(|s| s.0);
                if let Some(id) = ids
                    .chain(self.hists.iter().map(|s| s.0))
                    .find(|id| !h.contains(*id))
                {
                    return Err(Error::InvalidArgument(format!(
                        "series {id} was removed from the head during the batch; retry"
                    ))
                    .into());
                }
            }
            for id in &self.unlogged {
                if h.mark_logged(*id) && h.put_series_entry(*id, &mut entries) {
                    new_series.push(*id);
                }
            }
        }
        let mut buf = std::mem::take(&mut wal.buf);
        if !new_series.is_empty() {
            wal::encode_series_entries(&mut buf, new_series.len(), &entries, wal.compress);
        }
        if !self.samples.is_empty() {
            wal::encode_samples(&mut buf, &self.samples, wal.compress);
        }
        if !self.hists.is_empty() {
            wal::encode_histograms(&mut buf, &self.hists, wal.compress);
        }
        wal.buf = buf;
        if let Err(e) = wal.write_buf() {
            wal.buf.clear();
            let mut h = db.head.write();
            for id in &new_series {
                h.unmark_logged(*id);
            }
            return Err(e.into());
        }
        let mut st = ApplyStats::default();
        {
            let mut h = db.head.write();
            for &(id, t, v) in &self.samples {
                h.apply(id, t, f64::from_bits(v), &mut st);
            }
            for (id, t, hv) in &self.hists {
                h.apply_hist(*id, *t, hv, &mut st);
            }
        }
        drop(wal);
        let c = &db.counters;
        inc(&c.samples_appended, st.appended);
        inc(&c.out_of_order, st.out_of_order);
        inc(&c.duplicates, st.duplicates);
        inc(&c.out_of_bounds, st.out_of_bounds);
        inc(&c.ooo_accepted, st.ooo_accepted);
        inc(&c.chunks_created, st.chunks_cut);
        Ok(())
    }

    fn rollback(self: Box<Self>) -> sightline_storage_api::Result<()> {
        inc(&self.db.counters.rollbacks, 1);
        Ok(())
    }
}

impl Queryable for Tsdb {
    fn querier(
        &self,
        min_t: TimestampMs,
        max_t: TimestampMs,
    ) -> sightline_storage_api::Result<Box<dyn Querier + '_>> {
        let tombstones = self.tombstones.read().clone();
        Ok(Box::new(TsdbQuerier {
            db: self,
            min_t,
            max_t,
            tombstones,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::{Labels, Matcher};

    fn all(db: &Tsdb) -> Vec<(Labels, Vec<(i64, u64)>)> {
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        q.select(true, None, &[Matcher::equal("__name__", "m")])
            .unwrap()
            .into_iter()
            .map(|mut s| {
                let v = s
                    .samples
                    .collect_all()
                    .into_iter()
                    .map(|x| (x.t, x.v.to_bits()))
                    .collect();
                (s.labels, v)
            })
            .collect()
    }

    /// A store written before head chunk files existed has its newest data in a sled head
    /// partition: it is read as it is, and sealed into a file once the head moves on.
    #[test]
    fn a_sled_head_partition_of_an_older_store_is_read_and_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let labels = Labels::from_pairs([("__name__", "m"), ("i", "0")]);
        let samples: Vec<sightline_model::Sample> = (0..200)
            .map(|k| sightline_model::Sample {
                t: k * 15_000,
                v: k as f64,
            })
            .collect();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let chunks = crate::chunk::encode_chunks_best(&samples);
            store
                .write_head_chunks(
                    0,
                    7_200_000,
                    &[PartWrite {
                        labels: labels.clone(),
                        id: 1,
                        chunks,
                    }],
                )
                .unwrap();
            store.set_next_id(2).unwrap();
            store.flush().unwrap();
        }
        let db = Tsdb::open(TsdbOptions {
            checkpoint_interval: Duration::ZERO,
            ..TsdbOptions::new(dir.path())
        })
        .unwrap();
        let want: Vec<(i64, u64)> = samples.iter().map(|s| (s.t, s.v.to_bits())).collect();
        assert_eq!(all(&db), vec![(labels.clone(), want.clone())]);
        assert!(db.store.partitions().iter().any(|p| !p.is_file()));
        // Newer samples through the head; the tree becomes a file once the head is past it.
        let mut a = db.appender();
        for k in 0..4 {
            let t = 14_400_000 + k * 15_000;
            a.append(None, &labels, t, 1.0).unwrap();
        }
        a.commit().unwrap();
        db.run_maintenance_once().unwrap();
        assert!(db.store.partitions().iter().all(|p| p.is_file()));
        let got = all(&db);
        assert_eq!(got[0].1.len(), 204);
        assert_eq!(&got[0].1[..200], &want[..]);
    }

    /// Queries running while chunks are persisted, partitions sealed and head chunk files
    /// deleted see every committed sample exactly once: the head is read before the
    /// partition list, and files stay readable while a reader holds references into them.
    #[test]
    fn queries_during_sealing_see_every_sample_once() {
        use std::sync::atomic::{AtomicBool, AtomicI64};
        let dir = tempfile::tempdir().unwrap();
        let db = Tsdb::open(TsdbOptions {
            checkpoint_interval: Duration::ZERO,
            partition_duration: Duration::from_secs(60),
            wal_fsync: FsyncPolicy::Never,
            ..TsdbOptions::new(dir.path())
        })
        .unwrap();
        let series: Vec<Labels> = (0..20)
            .map(|i| Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]))
            .collect();
        let acked = AtomicI64::new(-1);
        let done = AtomicBool::new(false);
        let checks = std::thread::scope(|sc| {
            let reader = sc.spawn(|| {
                crate::query::test_hooks::PAUSE_US.with(|p| p.set(300));
                let mut checks = 0u32;
                while !done.load(Ordering::Acquire) {
                    let k = acked.load(Ordering::Acquire);
                    if k < 0 {
                        std::thread::yield_now();
                        continue;
                    }
                    let q = db.querier(0, k * 1000).unwrap();
                    let got = q
                        .select(false, None, &[Matcher::equal("__name__", "m")])
                        .unwrap();
                    assert_eq!(got.len(), 20, "series missing at k={k}");
                    for mut s in got {
                        let n = s.samples.collect_all().len() as i64;
                        assert_eq!(n, k + 1, "{}: {n} samples at k={k}", s.labels);
                    }
                    checks += 1;
                }
                checks
            });
            let mut refs = vec![None; series.len()];
            for k in 0..900i64 {
                let mut a = db.appender();
                for (i, l) in series.iter().enumerate() {
                    refs[i] = Some(a.append(refs[i], l, k * 1000, k as f64).unwrap());
                }
                a.commit().unwrap();
                acked.store(k, Ordering::Release);
                if k % 25 == 24 {
                    db.run_maintenance_once().unwrap();
                }
            }
            done.store(true, Ordering::Release);
            reader.join().unwrap()
        });
        let m = db.metrics();
        assert!(m.head_seals_total >= 10, "{m:?}");
        assert!(checks > 10, "only {checks} queries ran");
    }

    /// Sealing moves a partition from head chunk files into a partition file; after that
    /// the partition takes no samples (out of bounds), a restart keeps everything exactly
    /// once, and the sealed head chunk files are deleted.
    #[test]
    fn sealing_restart_and_out_of_bounds() {
        // With a checkpoint in every maintenance pass, and with none at all (the WAL
        // then replays everything and what was sealed must not come back twice).
        sealing_restart(Duration::ZERO);
        sealing_restart(Duration::from_secs(3600));
    }

    fn sealing_restart(checkpoint_interval: Duration) {
        let dir = tempfile::tempdir().unwrap();
        let opts = TsdbOptions {
            checkpoint_interval,
            wal_fsync: FsyncPolicy::Never,
            ..TsdbOptions::new(dir.path())
        };
        let db = Tsdb::open(opts.clone()).unwrap();
        let series: Vec<Labels> = (0..5)
            .map(|i| Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]))
            .collect();
        let mut refs = vec![None; series.len()];
        // 3.5 hours at 15 s, maintenance every simulated 20 minutes.
        for k in 0..840i64 {
            let mut a = db.appender();
            for (i, l) in series.iter().enumerate() {
                refs[i] = Some(
                    a.append(refs[i], l, k * 15_000, (k * 7 + i as i64) as f64)
                        .unwrap(),
                );
            }
            a.commit().unwrap();
            if k % 80 == 79 {
                db.run_maintenance_once().unwrap();
            }
        }
        db.run_maintenance_once().unwrap();
        let m = db.metrics();
        assert_eq!(m.head_seals_total, 1, "{m:?}");
        assert_eq!(
            db.store
                .partitions()
                .iter()
                .map(|p| (p.min_t, p.max_t, p.is_file()))
                .collect::<Vec<_>>(),
            vec![(0, 7_200_000, true)]
        );
        assert!(m.chunks_persisted_total > 0);
        let before = all(&db);
        assert_eq!(before.len(), 5);
        assert!(before.iter().all(|(_, s)| s.len() == 840));
        // The sealed partition takes no more samples, not even for a new series.
        let mut a = db.appender();
        let err = a
            .append(
                None,
                &Labels::from_pairs([("__name__", "m"), ("i", "new")]),
                1_000,
                1.0,
            )
            .unwrap_err();
        assert!(
            matches!(err, sightline_storage_api::Error::OutOfBounds),
            "{err}"
        );
        a.commit().unwrap();
        assert_eq!(db.metrics().out_of_bound_samples_total, 1);
        // Only files holding unsealed chunks are left.
        let files = db.head_chunks.num_files();
        assert!(files <= 2, "{files}");
        // Restart without a clean shutdown (the WAL and the checkpoint's mark decide).
        drop(db);
        let db = Tsdb::open(opts.clone()).unwrap();
        assert!(
            db.open_report().corruptions.is_empty(),
            "{:?}",
            db.open_report()
        );
        assert_eq!(all(&db), before);
        // And once more after a clean one.
        db.close().unwrap();
        let db = Tsdb::open(opts).unwrap();
        assert_eq!(all(&db), before);
    }
}
