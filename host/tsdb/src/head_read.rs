//! A query's read of the head, in batches of series.
//!
//! Selecting half a million series under one acquisition of the head's read lock held it
//! for over 100 ms; a scrape commit queued behind it for as long, and because the lock is
//! fair (a queued writer blocks new readers), so did every query and scrape that wanted the
//! lock after it. The series are therefore copied out in batches of [`HEAD_READ_BATCH`],
//! each under its own acquisition, and their head chunk files are read with no lock held.
//!
//! A commit may land between two batches. So that a query still sees the head as of one
//! moment, every batch is cut at the head's newest sample time when the selection began
//! (`cap`): samples committed later with newer timestamps are left out of every series
//! alike, as if the selection had held the lock throughout.

use sightline_model::{Labels, Sample, TimestampMs};

use crate::db::Tsdb;
use crate::error::Result;
use crate::head::HeadInner;
use crate::store::StoredChunk;

/// Series copied out of the head per acquisition of its read lock (a few milliseconds of
/// work); small in tests so that their selections span several batches.
pub(crate) const HEAD_READ_BATCH: usize = if cfg!(test) { 8 } else { 4096 };

/// One head series as a reader sees it: chunks in memory and read from head chunk files.
pub(crate) struct HeadSeries {
    pub(crate) labels: Labels,
    /// Chunks overlapping the range; a chunk's `max_t` may be below its last sample's time
    /// (cut at the read's `cap`), and readers skip the samples past it.
    pub(crate) chunks: Vec<StoredChunk>,
    pub(crate) ooo: Vec<Sample>,
}

impl Tsdb {
    /// Head data of the series `select` picks, in `[min_t, max_t]`, with the chunks in head
    /// chunk files read in (each batch's in one pass, neighbouring records read together).
    pub(crate) fn head_data(
        &self,
        select: impl FnOnce(&HeadInner) -> Result<Vec<u64>>,
        min_t: TimestampMs,
        max_t: TimestampMs,
    ) -> Result<Vec<HeadSeries>> {
        let (ids, cap) = self.head_select(select, max_t)?;
        let mut out = Vec::with_capacity(ids.len());
        for batch in ids.chunks(HEAD_READ_BATCH) {
            out.extend(self.head_batch(batch, min_t, cap));
        }
        Ok(out)
    }

    /// The ids `select` picks and the time every batch of their read is cut at (`max_t`, or
    /// the head's newest sample time if older).
    pub(crate) fn head_select(
        &self,
        select: impl FnOnce(&HeadInner) -> Result<Vec<u64>>,
        max_t: TimestampMs,
    ) -> Result<(Vec<u64>, TimestampMs)> {
        let h = self.head.read();
        Ok((select(&h)?, max_t.min(h.max_t)))
    }

    /// One batch of a head read (at most [`HEAD_READ_BATCH`] ids, under one acquisition of the
    /// head's read lock), cut at `cap`.
    pub(crate) fn head_batch(
        &self,
        batch: &[u64],
        min_t: TimestampMs,
        cap: TimestampMs,
    ) -> Vec<HeadSeries> {
        let (data, files) = {
            let h = self.head.read();
            // Files are pinned under the head lock, with the references they hold:
            // sealing drops references under the write lock before it deletes files,
            // so every reference taken here stays readable.
            (h.series_data(batch, min_t, cap), self.head_chunks.pin())
        };
        #[cfg(test)]
        test_hooks::between_batches(self);
        let groups: Vec<&[_]> = data.iter().map(|d| &d.refs[..]).collect();
        let read = files.read_groups(&groups);
        data.into_iter()
            .zip(read)
            .map(|(d, persisted)| {
                let mut chunks: Vec<StoredChunk> = persisted.into_iter().flatten().collect();
                chunks.extend(d.chunks);
                for c in &mut chunks {
                    c.max_t = c.max_t.min(cap);
                }
                HeadSeries {
                    labels: d.labels,
                    chunks,
                    ooo: d.ooo,
                }
            })
            .collect()
    }
}

/// Test hooks of the head read (compiled into unit tests only).
#[cfg(test)]
pub(crate) mod test_hooks {
    use std::cell::RefCell;

    use crate::db::Tsdb;

    type Hook = Box<dyn FnMut(&Tsdb)>;

    thread_local! {
        /// Called on this thread between two batches, with no head lock held.
        pub(crate) static BETWEEN_BATCHES: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    pub(crate) fn between_batches(db: &Tsdb) {
        BETWEEN_BATCHES.with(|h| {
            if let Some(f) = h.borrow_mut().as_mut() {
                f(db);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use sightline_model::{Labels, Matcher};
    use sightline_storage_api::{Appendable, Queryable};

    use super::test_hooks::BETWEEN_BATCHES;
    use super::HEAD_READ_BATCH;
    use crate::db::{Tsdb, TsdbOptions};
    use crate::wal::FsyncPolicy;

    const SERIES: usize = HEAD_READ_BATCH * 4 + 3;

    fn labels(i: usize) -> Labels {
        Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())])
    }

    /// A database with `SERIES` series of samples at 0, 1000, ..., 9000.
    fn filled(dir: &std::path::Path) -> Tsdb {
        let db = Tsdb::open(TsdbOptions {
            checkpoint_interval: Duration::ZERO,
            wal_fsync: FsyncPolicy::Never,
            ..TsdbOptions::new(dir)
        })
        .unwrap();
        for k in 0..10i64 {
            let mut a = db.appender();
            for i in 0..SERIES {
                a.append(None, &labels(i), k * 1000, k as f64).unwrap();
            }
            a.commit().unwrap();
        }
        db
    }

    fn sample_counts(db: &Tsdb, max_t: i64) -> Vec<usize> {
        let q = db.querier(0, max_t).unwrap();
        q.select(false, None, &[Matcher::equal("__name__", "m")])
            .unwrap()
            .into_iter()
            .map(|mut s| s.samples.collect_all().len())
            .collect()
    }

    /// A large selection releases the head's lock between batches: a commit waiting for
    /// the write lock gets it (and readers queued behind that commit get theirs) without
    /// waiting for the whole selection.
    #[test]
    fn writers_get_the_head_lock_between_batches() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path());
        let free = Rc::new(Cell::new(0usize));
        let f = free.clone();
        BETWEEN_BATCHES.with(|h| {
            *h.borrow_mut() = Some(Box::new(move |db: &Tsdb| {
                if db.head.try_write().is_some() {
                    f.set(f.get() + 1);
                }
            }))
        });
        let counts = sample_counts(&db, 100_000);
        BETWEEN_BATCHES.with(|h| h.borrow_mut().take());
        assert_eq!(counts, vec![10; SERIES]);
        assert_eq!(free.get(), SERIES.div_ceil(HEAD_READ_BATCH));
    }

    /// A commit landing between two batches is seen in no series (its samples are newer
    /// than the head when the read began), so a query still sees one moment of the head.
    #[test]
    fn commits_between_batches_are_seen_in_no_series() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path());
        let committed = Rc::new(Cell::new(false));
        let c = committed.clone();
        BETWEEN_BATCHES.with(|h| {
            *h.borrow_mut() = Some(Box::new(move |db: &Tsdb| {
                if !c.replace(true) {
                    let mut a = db.appender();
                    for i in 0..SERIES {
                        a.append(None, &labels(i), 10_000, 10.0).unwrap();
                    }
                    a.commit().unwrap();
                }
            }))
        });
        let during = sample_counts(&db, 100_000);
        BETWEEN_BATCHES.with(|h| h.borrow_mut().take());
        assert!(committed.get());
        assert_eq!(during, vec![10; SERIES]);
        // The commit is there for the next query.
        assert_eq!(sample_counts(&db, 100_000), vec![11; SERIES]);
    }

    /// `select_batches` hands over what `select(false, ..)` returns, in the same order, a head
    /// read batch at a time, and holds sealing off until the batches are dropped; during a
    /// seal it hands the selection over whole.
    #[test]
    fn batched_selection_equals_select_and_holds_sealing_off() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path());
        let q = db.querier(2_000, 8_000).unwrap();
        let m = [Matcher::equal("__name__", "m")];
        let whole: Vec<(Labels, Vec<(i64, f64)>)> = q
            .select(false, None, &m)
            .unwrap()
            .into_iter()
            .map(|mut s| {
                let v = s.samples.collect_all().iter().map(|x| (x.t, x.v)).collect();
                (s.labels, v)
            })
            .collect();
        assert_eq!(whole.len(), SERIES);
        let mut batches = q.select_batches(None, &m).unwrap();
        assert!(db.seal_gate.try_write().is_none(), "sealing must wait");
        let mut got = Vec::new();
        let mut n = 0;
        while let Some(b) = batches.next_batch().unwrap() {
            assert!(b.len() <= HEAD_READ_BATCH);
            n += 1;
            for mut s in b {
                let v: Vec<(i64, f64)> =
                    s.samples.collect_all().iter().map(|x| (x.t, x.v)).collect();
                got.push((s.labels, v));
            }
        }
        assert_eq!(n, SERIES.div_ceil(HEAD_READ_BATCH));
        assert_eq!(got, whole);
        drop(batches);
        assert!(db.seal_gate.try_write().is_some());
        // While a seal runs the selection is handed over whole instead of waiting for it.
        let sealing = db.seal_gate.write();
        let mut whole_batch = q.select_batches(None, &m).unwrap();
        let b = whole_batch.next_batch().unwrap().unwrap();
        assert_eq!(b.len(), SERIES);
        assert!(whole_batch.next_batch().unwrap().is_none());
        drop(sealing);
    }
}
