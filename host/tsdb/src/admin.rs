//! Admin operations (Prometheus' `/api/v1/admin/tsdb/*`): delete_series, clean_tombstones,
//! snapshot.

use std::collections::HashMap;

use sightline_model::{Matcher, Sample, TimestampMs};

use crate::anychunk;
use crate::chunk;
use crate::db::Tsdb;
use crate::error::{Error, Result};
use crate::head::{partition_start, IdMap};
use crate::postings;
use crate::store::{PartWrite, Store};
use crate::wal;

impl Tsdb {
    /// Marks samples of series matching `matchers` in `[start, end]` (inclusive, ms; open
    /// ends default to all time) as deleted. Queries stop returning them at once;
    /// [`Tsdb::clean_tombstones`] removes them physically. Prometheus answers 204.
    pub fn delete_series(
        &self,
        matchers: &[Matcher],
        start: Option<TimestampMs>,
        end: Option<TimestampMs>,
    ) -> Result<()> {
        if matchers.is_empty() {
            return Err(Error::InvalidArgument(
                "delete_series needs at least one matcher".into(),
            ));
        }
        let (min_t, max_t) = (start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX));
        if min_t > max_t {
            return Err(Error::InvalidArgument("start is after end".into()));
        }
        let t = self.store.add_tombstone(min_t, max_t, matchers.to_vec())?;
        {
            let mut w = self.wal.lock();
            let mut buf = std::mem::take(&mut w.buf);
            wal::encode_tombstone(&mut buf, &t);
            w.buf = buf;
            w.write_buf()?;
            w.sync()?;
        }
        self.tombstones.write().push(t);
        Ok(())
    }

    /// Rewrites stored data without the deleted samples and forgets the tombstones.
    /// Prometheus answers 204.
    pub fn clean_tombstones(&self) -> Result<()> {
        let _m = self.maint_lock();
        let tombs = self.tombstones.read().clone();
        if tombs.is_empty() {
            return Ok(());
        }
        for p in self.store.partitions() {
            let mut intervals: HashMap<u64, Vec<(TimestampMs, TimestampMs)>> = HashMap::new();
            for t in &tombs {
                if t.max_t < p.min_t || t.min_t >= p.max_t {
                    continue;
                }
                for id in Store::select_ids(&p, &t.matchers)? {
                    intervals.entry(id).or_default().push((t.min_t, t.max_t));
                }
            }
            if intervals.is_empty() {
                continue;
            }
            let deleted = |id: u64, t: TimestampMs| {
                intervals
                    .get(&id)
                    .is_some_and(|ivs| ivs.iter().any(|(a, b)| t >= *a && t <= *b))
            };
            if p.is_file() {
                // Sealed partitions are immutable: write the partition again without the
                // deleted samples and swap it in, as Prometheus rewrites a block.
                let mut writes = Vec::new();
                for (id, labels, chunks) in Store::read_all(&p)? {
                    let mut samples = Vec::new();
                    for c in &chunks {
                        samples.extend(anychunk::decode_any(&c.data)?);
                    }
                    samples.retain(|s| !deleted(id, s.t));
                    if !samples.is_empty() {
                        writes.push(PartWrite {
                            labels,
                            id,
                            chunks: anychunk::encode_any(&samples, false)?,
                        });
                    }
                }
                let built = self.store.build_sealed(p.min_t, p.max_t, &writes)?;
                self.store.publish(vec![built], std::slice::from_ref(&p))?;
                continue;
            }
            for id in intervals.keys().copied() {
                let old = Store::series_chunks(&p, id)?;
                let mut samples: Vec<Sample> = Vec::new();
                for c in &old {
                    samples.extend(chunk::decode_all(&c.data)?);
                }
                let before = samples.len();
                samples.retain(|s| !deleted(id, s.t));
                if samples.len() != before {
                    Store::replace_chunks(&p, id, &old, &chunk::encode_chunks_best(&samples))?;
                }
            }
        }
        {
            let mut intervals: HashMap<u64, Vec<(TimestampMs, TimestampMs)>> = HashMap::new();
            {
                let h = self.head.read();
                for t in &tombs {
                    for id in postings::select(&*h, &t.matchers)? {
                        intervals.entry(id).or_default().push((t.min_t, t.max_t));
                    }
                }
            }
            let ids: Vec<u64> = intervals.keys().copied().collect();
            // The chunks of these series in head chunk files, read in first: a rewritten
            // series keeps all its data in memory until the checkpoint below persists it.
            let mut persisted: IdMap<Vec<anychunk::AnySample>> = IdMap::default();
            for (id, chunks) in self.head_refs_data(&ids)? {
                let e = persisted.entry(id).or_default();
                for c in &chunks {
                    e.extend(anychunk::decode_any(&c.data)?);
                }
            }
            let reset = self.head.write().delete_samples(
                &ids,
                &|id, t| {
                    intervals
                        .get(&id)
                        .is_some_and(|ivs| ivs.iter().any(|(a, b)| t >= *a && t <= *b))
                },
                &mut persisted,
            )?;
            // Void their old records before the checkpoint writes the new chunks.
            self.head_chunks.reset(&reset)?;
        }
        // The WAL still holds the deleted samples: a full checkpoint makes it unnecessary.
        self.full_checkpoint_locked()?;
        let seqs: Vec<u64> = tombs.iter().map(|t| t.seq).collect();
        self.store.remove_tombstones(&seqs)?;
        self.tombstones.write().retain(|t| !seqs.contains(&t.seq));
        Ok(())
    }

    /// Writes a consistent copy of the stored data (and the head unless `skip_head`) to
    /// `<data>/snapshots/<name>` and returns `name` (Prometheus' `{"name": ...}`). The copy
    /// is a data directory [`Tsdb::open`] can open.
    pub fn snapshot(&self, skip_head: bool) -> Result<String> {
        let _m = self.maint_lock();
        self.persist_closed_pub()?;
        let name = format!("{}-{:016x}", utc_stamp(), fastrand::u64(..));
        let dir = self.opts.path.join("snapshots").join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let dst = Store::open(&dir, 8 << 20)?;
        self.store.copy_partitions_to(&dst)?;
        if !skip_head {
            let data = self.head_data(
                |h| postings::PostingsSource::all(h).map(std::borrow::Cow::into_owned),
                i64::MIN,
                i64::MAX,
            )?;
            let pms = self.partition_ms();
            let mut by_part: HashMap<
                TimestampMs,
                HashMap<sightline_model::Labels, Vec<anychunk::AnySample>>,
            > = HashMap::new();
            for d in data {
                let mut samples: Vec<anychunk::AnySample> = d
                    .ooo
                    .iter()
                    .map(|s| anychunk::AnySample {
                        t: s.t,
                        v: anychunk::AnyValue::F(s.v),
                    })
                    .collect();
                for c in &d.chunks {
                    // A head chunk is cut at its `max_t` (see `head_read`).
                    samples.extend(
                        anychunk::decode_any(&c.data)?
                            .into_iter()
                            .filter(|s| s.t <= c.max_t),
                    );
                }
                for s in samples {
                    by_part
                        .entry(partition_start(s.t, pms))
                        .or_default()
                        .entry(d.labels.clone())
                        .or_default()
                        .push(s);
                }
            }
            let mut built = Vec::new();
            for (p, series) in by_part {
                let writes: Vec<PartWrite> = crate::store::writes_from_any(series)?;
                built.push(dst.build_sealed(p, p.saturating_add(pms), &writes)?);
            }
            dst.publish(built, &[])?;
        }
        dst.flush()?;
        Ok(name)
    }
}

/// `YYYYMMDDTHHMMSSZ` for now (UTC), as Prometheus names snapshots.
fn utc_stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}
