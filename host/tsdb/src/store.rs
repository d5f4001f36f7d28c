//! Persistence: time partitions, each an immutable partition file (sealed from the head,
//! or written by compaction, import or a snapshot; see `partfile`) or, in stores written
//! before head chunk files existed, a sled tree holding series, postings and chunks (still
//! read, and rewritten into a file by the next compaction); a sled meta tree with the
//! partition registry, the sealed watermark and tombstones.
//! The byte layout is specified in `docs/format.md`.
//!
//! Invariant: this is the only module that names sled, and no sled type leaves the crate.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use sightline_model::{Labels, Matcher, Sample, TimestampMs};

use crate::chunk;
#[cfg(test)]
use crate::enc::put_labels;
use crate::enc::{put_uvarint, put_varint, Dec};
use crate::error::{Error, Result};
use crate::partfile::{self, PartFile, SeriesWrite};
use crate::postings::{self, List, Postings, PostingsSource};
use crate::wal::{decode_matchers, encode_matchers, Tombstone};

/// Partition the head wrote into before head chunk files existed (older stores).
#[cfg(test)]
pub(crate) const KIND_HEAD: u8 = 0;
/// Partition produced by compaction or import before partition files existed (immutable,
/// a sled tree; still read, rewritten into a file by the next compaction).
pub(crate) const KIND_SEALED: u8 = 1;
/// Partition produced by compaction, import or a snapshot: the immutable file
/// `parts/<gen>`.
pub(crate) const KIND_FILE: u8 = 2;

const META_NEXT_ID: &[u8] = b"next_id";
const META_GEN: &[u8] = b"gen_seq";
const META_TOMB_SEQ: &[u8] = b"tomb_seq";
const META_SEALED: &[u8] = b"sealed_before";
const META_PART: u8 = b'P';
const META_TOMB: u8 = b'T';

/// Maps a timestamp to 8 bytes whose byte order is the numeric order.
pub(crate) fn ts_key(t: TimestampMs) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn ts_from_key(b: &[u8]) -> Result<TimestampMs> {
    let a: [u8; 8] = b
        .try_into()
        .map_err(|_| Error::Corrupt("short timestamp key".into()))?;
    Ok((u64::from_be_bytes(a) ^ (1 << 63)) as i64)
}

fn u64_from(b: &[u8]) -> Result<u64> {
    let a: [u8; 8] = b
        .get(..8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| Error::Corrupt("short u64".into()))?;
    Ok(u64::from_be_bytes(a))
}

/// One registered partition.
#[derive(Clone)]
pub(crate) struct Partition {
    pub(crate) min_t: TimestampMs,
    /// Exclusive end of the partition's range.
    pub(crate) max_t: TimestampMs,
    pub(crate) gen: u64,
    pub(crate) kind: u8,
    /// Approximate bytes of keys and values written, or the file size (size retention).
    pub(crate) bytes: u64,
    pub(crate) data: PartData,
}

/// Where a partition's series, postings and chunks live.
#[derive(Clone)]
pub(crate) enum PartData {
    Tree(sled::Tree),
    File(Arc<PartFile>),
}

impl Partition {
    /// Whether the partition is an immutable file.
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.data, PartData::File(_))
    }
}

impl Partition {
    fn key(&self) -> Vec<u8> {
        partition_key(self.min_t, self.max_t, self.gen)
    }
}

/// A registry entry's value: kind, then approximate bytes.
fn registry_value(p: &Partition) -> Vec<u8> {
    let mut v = vec![p.kind];
    v.extend_from_slice(&p.bytes.to_be_bytes());
    v
}

fn partition_key(min_t: TimestampMs, max_t: TimestampMs, gen: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(25);
    k.push(META_PART);
    k.extend_from_slice(&ts_key(min_t));
    k.extend_from_slice(&ts_key(max_t));
    k.extend_from_slice(&gen.to_be_bytes());
    k
}

fn tree_name(min_t: TimestampMs, max_t: TimestampMs, gen: u64) -> Vec<u8> {
    let mut k = partition_key(min_t, max_t, gen);
    k[0] = b'p';
    k
}

fn series_key(id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = b'S';
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

fn postings_prefix(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 4);
    k.push(b'P');
    put_uvarint(&mut k, name.len() as u64);
    k.extend_from_slice(name.as_bytes());
    k
}

fn postings_key(name: &str, value: &str) -> Vec<u8> {
    let mut k = postings_prefix(name);
    k.extend_from_slice(value.as_bytes());
    k
}

fn chunk_key(id: u64, min_t: TimestampMs) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = b'C';
    k[1..9].copy_from_slice(&id.to_be_bytes());
    k[9..].copy_from_slice(&ts_key(min_t));
    k
}

#[cfg(test)]
fn encode_postings(ids: &[u64]) -> Vec<u8> {
    let mut b = Vec::with_capacity(ids.len() * 2 + 4);
    put_uvarint(&mut b, ids.len() as u64);
    let mut prev = 0;
    for &id in ids {
        put_uvarint(&mut b, id - prev);
        prev = id;
    }
    b
}

fn decode_postings(b: &[u8]) -> Result<Postings> {
    let mut d = Dec::new(b);
    let n = d.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 24));
    let mut prev = 0u64;
    for _ in 0..n {
        prev = prev.wrapping_add(d.uvarint()?);
        out.push(prev);
    }
    Ok(out)
}

/// A chunk read from a partition.
#[derive(Clone)]
pub(crate) struct StoredChunk {
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) data: Arc<[u8]>,
}

/// Series of one partition selected by a query.
pub(crate) struct PartSeries {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<StoredChunk>,
}

/// Postings view over one partition tree.
struct TreeSource<'a>(&'a sled::Tree);

impl PostingsSource for TreeSource<'_> {
    fn postings(&self, name: &str, value: &str) -> Result<List<'_>> {
        match self.0.get(postings_key(name, value))? {
            Some(v) => decode_postings(&v).map(Cow::Owned),
            None => Ok(Cow::Owned(Vec::new())),
        }
    }

    fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>> {
        let p = postings_prefix(name);
        let mut full = p.clone();
        full.extend_from_slice(prefix.as_bytes());
        let mut out = Vec::new();
        for kv in self.0.scan_prefix(&full) {
            let (k, _) = kv?;
            let v = std::str::from_utf8(&k[p.len()..])
                .map_err(|_| Error::Corrupt("label value not utf-8".into()))?;
            out.push(v.to_string());
        }
        Ok(out)
    }

    fn all(&self) -> Result<List<'_>> {
        let mut out = Vec::new();
        for kv in self.0.scan_prefix(b"S") {
            let (k, _) = kv?;
            out.push(u64_from(&k[1..])?);
        }
        Ok(Cow::Owned(out))
    }
}

/// The sled database, the partition files and the partition registry.
pub(crate) struct Store {
    db: sled::Db,
    meta: sled::Tree,
    parts_dir: PathBuf,
    parts: RwLock<Vec<Partition>>,
    /// Damage found by [`Store::open`] (partitions left out), for the open report.
    pub(crate) open_problems: Vec<String>,
}

pub(crate) use crate::chunk::ChunkTuple;

/// What a partition write consists of.
pub(crate) struct PartWrite {
    pub(crate) labels: Labels,
    pub(crate) id: u64,
    pub(crate) chunks: Vec<ChunkTuple>,
}

/// How long opening waits for sled's file lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens sled, waiting up to [`LOCK_WAIT`] for its file lock. A store dropped in this
/// process can keep its file (and so the lock) open a moment after the last handle is gone
/// (sled's I/O threads and deferred frees hold it); reopening right after a drop failed
/// about once in twenty test runs. Another process holding the directory still fails,
/// after the wait, with sled's error naming the lock file.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db> {
    let started = std::time::Instant::now();
    let mut retried = false;
    loop {
        let r = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::LowSpace)
            // Every write whose durability matters is followed by an explicit flush (the
            // registry on publish, and before a checkpoint lets the WAL be truncated);
            // sled's own periodic flush only bounds the rest. At its default 500 ms it
            // fsynced twice a second on an idle store.
            .flush_every_ms(Some(5_000))
            .open();
        match r {
            // sled reports a held lock as `Other`, with the OS error in the message.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                retried = true;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            r => {
                if retried {
                    let waited = started.elapsed();
                    tracing::debug!(path = %path.display(), ?waited, "waited for sled's lock");
                }
                return Ok(r?);
            }
        }
    }
}

impl Store {
    /// Opens (or creates) the store of data directory `dir`: sled in `dir/sled`, partition
    /// files in `dir/parts`.
    pub(crate) fn open(dir: &Path, cache_bytes: u64) -> Result<Self> {
        let parts_dir = dir.join("parts");
        std::fs::create_dir_all(&parts_dir).map_err(|e| Error::io(&parts_dir, e))?;
        let db = open_sled(&dir.join("sled"), cache_bytes)?;
        let meta = db.open_tree("meta")?;
        let mut parts = Vec::new();
        let mut referenced = std::collections::HashSet::new();
        let mut open_problems = Vec::new();
        for kv in meta.scan_prefix([META_PART]) {
            let (k, v) = kv?;
            if k.len() != 25 || v.len() < 9 {
                tracing::warn!(key = ?k, "skipping malformed partition registry entry");
                continue;
            }
            let min_t = ts_from_key(&k[1..9])?;
            let max_t = ts_from_key(&k[9..17])?;
            let gen = u64_from(&k[17..25])?;
            let bytes = u64_from(&v[1..9])?;
            let data = if v[0] == KIND_FILE {
                let path = parts_dir.join(partfile::file_name(gen));
                match PartFile::open(path, min_t) {
                    Ok(f) => PartData::File(Arc::new(f)),
                    Err(e) => {
                        // The partition cannot be read: report it and leave it out.
                        tracing::error!(error = %e, min_t, max_t, "dropping partition whose file is unreadable");
                        open_problems.push(format!("partition [{min_t}, {max_t}) dropped: {e}"));
                        meta.remove(&k)?;
                        continue;
                    }
                }
            } else {
                let name = tree_name(min_t, max_t, gen);
                referenced.insert(name.clone());
                PartData::Tree(db.open_tree(&name)?)
            };
            parts.push(Partition {
                min_t,
                max_t,
                gen,
                kind: v[0],
                bytes,
                data,
            });
        }
        // Files no published partition names are leftovers of an interrupted compaction,
        // import or retention run.
        let files: std::collections::HashSet<u64> = parts
            .iter()
            .filter(|p| p.is_file())
            .map(|p| p.gen)
            .collect();
        let entries = std::fs::read_dir(&parts_dir).map_err(|e| Error::io(&parts_dir, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(&parts_dir, e))?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if partfile::gen_of(&name).is_some_and(|g| files.contains(&g)) {
                continue;
            }
            tracing::info!(file = %e.path().display(), "removing unreferenced partition file");
            if let Err(err) = std::fs::remove_file(e.path()) {
                tracing::warn!(file = %e.path().display(), error = %err, "cannot remove file");
            }
        }
        // Trees not in the registry are leftovers of an interrupted compaction or import.
        for name in db.tree_names() {
            if name.first() == Some(&b'p')
                && name.len() == 25
                && !referenced.contains(name.as_ref())
            {
                tracing::info!(tree = ?name, "dropping unpublished partition");
                db.drop_tree(&name)?;
            }
        }
        parts.sort_by_key(|p| (p.min_t, p.max_t, p.gen));
        Ok(Store {
            db,
            meta,
            parts_dir,
            parts: RwLock::new(parts),
            open_problems,
        })
    }

    pub(crate) fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// sled's files plus the partition files.
    pub(crate) fn size_on_disk(&self) -> u64 {
        let files: u64 = self
            .parts
            .read()
            .iter()
            .map(|p| match &p.data {
                PartData::File(f) => f.len,
                PartData::Tree(_) => 0,
            })
            .sum();
        self.db.size_on_disk().unwrap_or(0) + files
    }

    pub(crate) fn partitions(&self) -> Vec<Partition> {
        self.parts.read().clone()
    }

    fn meta_u64(&self, key: &[u8]) -> Result<u64> {
        Ok(match self.meta.get(key)? {
            Some(v) => u64_from(&v)?,
            None => 0,
        })
    }

    pub(crate) fn next_id(&self) -> Result<u64> {
        self.meta_u64(META_NEXT_ID)
    }

    /// The sealed watermark: all head data before it is in partition files
    /// (`i64::MIN` until the first seal).
    pub(crate) fn sealed_before(&self) -> Result<TimestampMs> {
        Ok(match self.meta.get(META_SEALED)? {
            Some(v) => ts_from_key(&v)?,
            None => i64::MIN,
        })
    }

    pub(crate) fn set_next_id(&self, id: u64) -> Result<()> {
        self.meta.insert(META_NEXT_ID, &id.to_be_bytes())?;
        Ok(())
    }

    fn bump(&self, key: &[u8]) -> Result<u64> {
        let v = self.meta.update_and_fetch(key, |old| {
            let n = old.and_then(|o| u64_from(o).ok()).unwrap_or(0) + 1;
            Some(n.to_be_bytes().to_vec())
        })?;
        match v {
            Some(v) => u64_from(&v),
            None => Err(Error::Corrupt("counter vanished".into())),
        }
    }

    // ---- Partitions ----

    /// The head-writable partition for `[min_t, max_t)`, created and registered if needed
    /// (only tests still write head trees, to check that older stores are read).
    #[cfg(test)]
    fn head_partition(&self, min_t: TimestampMs, max_t: TimestampMs) -> Result<Partition> {
        if let Some(p) = self
            .parts
            .read()
            .iter()
            .find(|p| p.kind == KIND_HEAD && p.min_t == min_t && p.max_t == max_t)
        {
            return Ok(p.clone());
        }
        let mut parts = self.parts.write();
        if let Some(p) = parts
            .iter()
            .find(|p| p.kind == KIND_HEAD && p.min_t == min_t && p.max_t == max_t)
        {
            return Ok(p.clone());
        }
        let gen = self.bump(META_GEN)?;
        let tree = self.db.open_tree(tree_name(min_t, max_t, gen))?;
        let p = Partition {
            min_t,
            max_t,
            gen,
            kind: KIND_HEAD,
            bytes: 0,
            data: PartData::Tree(tree),
        };
        self.register(&p)?;
        parts.push(p.clone());
        parts.sort_by_key(|p| (p.min_t, p.max_t, p.gen));
        Ok(p)
    }

    #[cfg(test)]
    fn register(&self, p: &Partition) -> Result<()> {
        self.meta.insert(p.key(), registry_value(p))?;
        Ok(())
    }

    /// Writes series with their chunks into the head partition `[min_t, max_t)`, as
    /// stores before head chunk files did.
    #[cfg(test)]
    pub(crate) fn write_head_chunks(
        &self,
        min_t: TimestampMs,
        max_t: TimestampMs,
        writes: &[PartWrite],
    ) -> Result<u64> {
        let p = self.head_partition(min_t, max_t)?;
        let PartData::Tree(tree) = &p.data else {
            return Err(Error::Corrupt("head partition without a tree".into()));
        };
        let bytes = write_into(tree, writes)?;
        let mut parts = self.parts.write();
        if let Some(q) = parts
            .iter_mut()
            .find(|q| q.gen == p.gen && q.min_t == p.min_t && q.max_t == p.max_t)
        {
            q.bytes += bytes;
            self.register(q)?;
        }
        Ok(bytes)
    }

    /// Writes an unpublished sealed partition file; publish with [`Store::publish`]. On
    /// error nothing of it is left behind. Series get ids 1..=n in the order of `writes`.
    pub(crate) fn build_sealed(
        &self,
        min_t: TimestampMs,
        max_t: TimestampMs,
        writes: &[PartWrite],
    ) -> Result<Partition> {
        let gen = self.bump(META_GEN)?;
        let series: Vec<SeriesWrite<'_>> = writes
            .iter()
            .filter(|w| !w.chunks.is_empty())
            .map(|w| SeriesWrite {
                labels: &w.labels,
                chunks: &w.chunks,
            })
            .collect();
        let file = partfile::write(&self.parts_dir, gen, min_t, &series)?;
        Ok(Partition {
            min_t,
            max_t,
            gen,
            kind: KIND_FILE,
            bytes: file.len,
            data: PartData::File(Arc::new(file)),
        })
    }

    /// Atomically registers `new` and unregisters `old`, then drops the old trees and files.
    /// If the registry cannot be written, `new` is discarded (nothing of it stays behind);
    /// once it is written, `new` is published even if a later step fails.
    pub(crate) fn publish(&self, new: Vec<Partition>, old: &[Partition]) -> Result<()> {
        self.publish_sealing(new, old, None)
    }

    /// [`Store::publish`], also raising the sealed watermark to `sealed_before` in the same
    /// atomic registry write.
    pub(crate) fn publish_sealing(
        &self,
        new: Vec<Partition>,
        old: &[Partition],
        sealed_before: Option<TimestampMs>,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        if let Some(t) = sealed_before {
            batch.insert(META_SEALED, &ts_key(t));
        }
        for p in &new {
            batch.insert(p.key(), registry_value(p));
        }
        for p in old {
            batch.remove(p.key());
        }
        {
            let mut parts = self.parts.write();
            if let Err(e) = self.meta.apply_batch(batch) {
                drop(parts);
                self.discard(&new);
                return Err(e.into());
            }
            parts.retain(|p| {
                !old.iter()
                    .any(|o| o.gen == p.gen && o.min_t == p.min_t && o.max_t == p.max_t)
            });
            parts.extend(new);
            parts.sort_by_key(|p| (p.min_t, p.max_t, p.gen));
        }
        self.meta.flush()?;
        for p in old {
            self.remove_data(p)?;
        }
        Ok(())
    }

    /// Drops the tree or deletes the file of a partition that is not published (any more).
    /// Readers that still hold a file keep reading it; a failed delete leaves an orphan
    /// that the next open removes.
    fn remove_data(&self, p: &Partition) -> Result<()> {
        match &p.data {
            PartData::Tree(_) => {
                self.db.drop_tree(tree_name(p.min_t, p.max_t, p.gen))?;
            }
            PartData::File(f) => {
                if let Err(e) = std::fs::remove_file(&f.path) {
                    tracing::warn!(file = %f.path.display(), error = %e, "cannot remove partition file");
                }
            }
        }
        Ok(())
    }

    /// Drops unpublished partitions (a failed import or compaction).
    pub(crate) fn discard(&self, parts: &[Partition]) {
        for p in parts {
            let _ = self.remove_data(p);
        }
    }

    /// Drops published partitions (retention).
    pub(crate) fn drop_partitions(&self, victims: &[Partition]) -> Result<()> {
        self.publish(Vec::new(), victims)
    }

    // ---- Reads ----

    /// Series of partition `p` matching `matchers` with chunks overlapping `[min_t, max_t]`.
    pub(crate) fn select(
        p: &Partition,
        matchers: &[Matcher],
        min_t: TimestampMs,
        max_t: TimestampMs,
    ) -> Result<Vec<PartSeries>> {
        let ids = Store::select_ids(p, matchers)?;
        let tree = match &p.data {
            PartData::File(f) => {
                let mut out = Vec::with_capacity(ids.len());
                for (id, rec) in f.series(&ids)? {
                    let chunks = file_chunks(f, id, &rec.chunks, min_t, max_t);
                    if !chunks.is_empty() {
                        out.push(PartSeries {
                            labels: rec.labels,
                            chunks,
                        });
                    }
                }
                return Ok(out);
            }
            PartData::Tree(t) => t,
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(lv) = tree.get(series_key(id))? else {
                continue;
            };
            let labels = match Dec::new(&lv).labels() {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(partition_min_t = p.min_t, series = id, error = %e, "skipping series with corrupt labels");
                    continue;
                }
            };
            let chunks = read_tree_chunks(tree, id, min_t, max_t)?;
            if !chunks.is_empty() {
                out.push(PartSeries { labels, chunks });
            }
        }
        Ok(out)
    }

    /// Label sets of partition `p` matching `matchers` (no chunk reads).
    pub(crate) fn select_labels(p: &Partition, matchers: &[Matcher]) -> Result<Vec<Labels>> {
        let ids = Store::select_ids(p, matchers)?;
        let tree = match &p.data {
            PartData::File(f) => {
                return Ok(f.series(&ids)?.into_iter().map(|(_, r)| r.labels).collect());
            }
            PartData::Tree(t) => t,
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(lv) = tree.get(series_key(id))? {
                out.push(Dec::new(&lv).labels()?);
            }
        }
        Ok(out)
    }

    /// Every series of a partition with all its chunks.
    pub(crate) fn read_all(p: &Partition) -> Result<Vec<(u64, Labels, Vec<StoredChunk>)>> {
        let tree = match &p.data {
            PartData::File(f) => {
                let ids = f.all()?;
                let mut out = Vec::with_capacity(ids.len());
                // In slices, so a big partition is not read into memory twice.
                for ids in ids.chunks(4096) {
                    for (id, rec) in f.series(ids)? {
                        let chunks = file_chunks(f, id, &rec.chunks, i64::MIN, i64::MAX);
                        out.push((id, rec.labels, chunks));
                    }
                }
                return Ok(out);
            }
            PartData::Tree(t) => t,
        };
        let mut out = Vec::new();
        for kv in tree.scan_prefix(b"S") {
            let (k, v) = kv?;
            let id = u64_from(&k[1..])?;
            let labels = Dec::new(&v).labels()?;
            out.push((id, labels, read_tree_chunks(tree, id, i64::MIN, i64::MAX)?));
        }
        Ok(out)
    }

    /// Rewrites the chunks of series `id` in a partition whose chunks live in its tree
    /// (tombstone cleaning; partition files are rewritten whole instead).
    pub(crate) fn replace_chunks(
        p: &Partition,
        id: u64,
        old: &[StoredChunk],
        new: &[ChunkTuple],
    ) -> Result<()> {
        let PartData::Tree(tree) = &p.data else {
            return Err(Error::InvalidArgument(
                "a partition file is rewritten whole, not per series".into(),
            ));
        };
        let mut b = sled::Batch::default();
        for c in old {
            b.remove(&chunk_key(id, c.min_t)[..]);
        }
        for (min_t, max_t, c) in new {
            let mut v = ts_key(*max_t).to_vec();
            v.extend_from_slice(c);
            b.insert(&chunk_key(id, *min_t)[..], v);
        }
        tree.apply_batch(b)?;
        Ok(())
    }

    /// Values of label `name` in partition `p`.
    pub(crate) fn label_values(p: &Partition, name: &str) -> Result<Vec<String>> {
        match &p.data {
            PartData::File(f) => f.values_with_prefix(name, ""),
            PartData::Tree(t) => TreeSource(t).values_with_prefix(name, ""),
        }
    }

    /// Label names in partition `p` (a scan over the postings keys).
    pub(crate) fn label_names(p: &Partition) -> Result<Vec<String>> {
        let tree = match &p.data {
            PartData::File(f) => return f.label_names(),
            PartData::Tree(t) => t,
        };
        let mut out: Vec<String> = Vec::new();
        for kv in tree.scan_prefix(b"P") {
            let (k, _) = kv?;
            let mut d = Dec::new(&k[1..]);
            let n = d.uvarint()? as usize;
            let name = std::str::from_utf8(d.bytes(n)?)
                .map_err(|_| Error::Corrupt("label name not utf-8".into()))?;
            if out.last().is_none_or(|l| l != name) {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }

    /// Chunks of one series in a partition.
    pub(crate) fn series_chunks(p: &Partition, id: u64) -> Result<Vec<StoredChunk>> {
        match &p.data {
            PartData::File(f) => Ok(f
                .series(&[id])?
                .into_iter()
                .flat_map(|(id, r)| file_chunks(f, id, &r.chunks, i64::MIN, i64::MAX))
                .collect()),
            PartData::Tree(t) => read_tree_chunks(t, id, i64::MIN, i64::MAX),
        }
    }

    /// Ids in partition `p` matching `matchers`.
    pub(crate) fn select_ids(p: &Partition, matchers: &[Matcher]) -> Result<Postings> {
        match &p.data {
            PartData::File(f) => postings::select(&**f, matchers),
            PartData::Tree(t) => postings::select(&TreeSource(t), matchers),
        }
    }

    // ---- Tombstones ----

    pub(crate) fn add_tombstone(
        &self,
        min_t: TimestampMs,
        max_t: TimestampMs,
        matchers: Vec<Matcher>,
    ) -> Result<Tombstone> {
        let seq = self.bump(META_TOMB_SEQ)?;
        let t = Tombstone {
            seq,
            min_t,
            max_t,
            matchers,
        };
        self.put_tombstone(&t)?;
        Ok(t)
    }

    pub(crate) fn put_tombstone(&self, t: &Tombstone) -> Result<()> {
        let mut k = vec![META_TOMB];
        k.extend_from_slice(&t.seq.to_be_bytes());
        let mut v = Vec::new();
        put_varint(&mut v, t.min_t);
        put_varint(&mut v, t.max_t);
        encode_matchers(&mut v, &t.matchers);
        self.meta.insert(k, v)?;
        if self.meta_u64(META_TOMB_SEQ)? < t.seq {
            self.meta.insert(META_TOMB_SEQ, &t.seq.to_be_bytes())?;
        }
        self.meta.flush()?;
        Ok(())
    }

    pub(crate) fn tombstones(&self) -> Result<Vec<Tombstone>> {
        let mut out = Vec::new();
        for kv in self.meta.scan_prefix([META_TOMB]) {
            let (k, v) = kv?;
            let seq = u64_from(&k[1..])?;
            let mut d = Dec::new(&v);
            let min_t = d.varint()?;
            let max_t = d.varint()?;
            let matchers = decode_matchers(&mut d)?;
            out.push(Tombstone {
                seq,
                min_t,
                max_t,
                matchers,
            });
        }
        Ok(out)
    }

    pub(crate) fn remove_tombstones(&self, seqs: &[u64]) -> Result<()> {
        for s in seqs {
            let mut k = vec![META_TOMB];
            k.extend_from_slice(&s.to_be_bytes());
            self.meta.remove(k)?;
        }
        self.meta.flush()?;
        Ok(())
    }

    /// Copies every published partition into `dst` (a snapshot store): files as hard links
    /// (they are immutable; a real copy across file systems), trees entry by entry.
    pub(crate) fn copy_partitions_to(&self, dst: &Store) -> Result<()> {
        let mut new = Vec::new();
        for p in self.partitions() {
            let (kind, data) = match &p.data {
                PartData::File(f) => {
                    let to = dst.parts_dir.join(partfile::file_name(p.gen));
                    if std::fs::hard_link(&f.path, &to).is_err() {
                        std::fs::copy(&f.path, &to).map_err(|e| Error::io(&to, e))?;
                    }
                    let f = PartFile::open(to, p.min_t)?;
                    (KIND_FILE, PartData::File(Arc::new(f)))
                }
                PartData::Tree(src) => {
                    let tree = dst.db.open_tree(tree_name(p.min_t, p.max_t, p.gen))?;
                    let mut b = sled::Batch::default();
                    let mut n = 0usize;
                    for kv in src.iter() {
                        let (k, v) = kv?;
                        b.insert(k, v);
                        n += 1;
                        if n.is_multiple_of(BATCH_ENTRIES) {
                            tree.apply_batch(std::mem::take(&mut b))?;
                        }
                    }
                    tree.apply_batch(b)?;
                    (KIND_SEALED, PartData::Tree(tree))
                }
            };
            new.push(Partition {
                min_t: p.min_t,
                max_t: p.max_t,
                gen: p.gen,
                kind,
                bytes: p.bytes,
                data,
            });
        }
        let max_gen = new.iter().map(|p| p.gen).max().unwrap_or(0);
        dst.meta.insert(META_GEN, &max_gen.to_be_bytes())?;
        partfile::sync_dir(&dst.parts_dir)?;
        dst.publish(new, &[])?;
        Ok(())
    }
}

/// Chunks of a file partition's series overlapping `[min_t, max_t]`, read with one read; a
/// damaged chunk is reported and skipped.
fn file_chunks(
    f: &PartFile,
    id: u64,
    refs: &[partfile::ChunkRef],
    min_t: TimestampMs,
    max_t: TimestampMs,
) -> Vec<StoredChunk> {
    let lo = refs.partition_point(|r| r.max_t < min_t);
    let hi = lo + refs[lo..].partition_point(|r| r.min_t <= max_t);
    match f.chunks(&refs[lo..hi]) {
        Ok(chunks) => chunks
            .into_iter()
            .map(|(r, data)| StoredChunk {
                min_t: r.min_t,
                max_t: r.max_t,
                data: Arc::from(data),
            })
            .collect(),
        Err(e) => {
            tracing::warn!(series = id, error = %e, "skipping unreadable chunks");
            Vec::new()
        }
    }
}

/// Reads chunks stored as tree entries (head partitions and partitions sealed before chunk
/// files existed).
fn read_tree_chunks(
    tree: &sled::Tree,
    id: u64,
    min_t: TimestampMs,
    max_t: TimestampMs,
) -> Result<Vec<StoredChunk>> {
    let mut prefix = [0u8; 9];
    prefix[0] = b'C';
    prefix[1..].copy_from_slice(&id.to_be_bytes());
    let mut out = Vec::new();
    for kv in tree.scan_prefix(prefix) {
        let (k, v) = kv?;
        // A damaged entry is reported with its key and skipped; the rest stays readable.
        if k.len() != 17 || v.len() < 8 + 3 || crate::chunk::chunk_len(&v[8..]).is_err() {
            tracing::warn!(key = ?k, series = id, "skipping corrupt chunk entry");
            continue;
        }
        let c_min = ts_from_key(&k[9..17])?;
        if c_min > max_t {
            break;
        }
        let c_max = ts_from_key(&v[..8])?;
        if c_max < min_t {
            continue;
        }
        out.push(StoredChunk {
            min_t: c_min,
            max_t: c_max,
            data: Arc::from(&v[8..]),
        });
    }
    Ok(out)
}

/// Entries per sled batch. sled 0.34 buffers a whole batch in memory and its memory use
/// balloons with big batches (measured: 180k inserts in 20k-entry batches took 812 MiB of
/// RSS, in 500-entry batches 46 MiB), so writes are applied in small batches.
const BATCH_ENTRIES: usize = 500;

/// Writes series, postings and chunks into `tree`; returns the bytes written.
///
/// Crash ordering: postings of new series are written first (one batch), then series and
/// chunks. A crash in between leaves postings naming ids without a series key, which
/// readers skip; the next write of that series finds no series key and adds its postings
/// again (a set union, so idempotent). The reverse order could leave a series key whose
/// postings were lost, hiding the series forever.
#[cfg(test)]
fn write_into(tree: &sled::Tree, writes: &[PartWrite]) -> Result<u64> {
    let mut bytes = 0u64;
    let mut new_postings: BTreeMap<(&str, &str), Vec<u64>> = BTreeMap::new();
    let mut is_new = Vec::with_capacity(writes.len());
    for w in writes {
        let new = !tree.contains_key(series_key(w.id))?;
        if new {
            for l in &w.labels {
                new_postings
                    .entry((l.name.as_str(), l.value.as_str()))
                    .or_default()
                    .push(w.id);
            }
        }
        is_new.push(new);
    }
    let mut b = sled::Batch::default();
    let mut n_post = 0usize;
    for ((name, value), mut ids) in new_postings {
        ids.sort_unstable();
        let k = postings_key(name, value);
        let merged = match tree.get(&k)? {
            Some(old) => postings::union(&decode_postings(&old)?, &ids),
            None => ids,
        };
        let v = encode_postings(&merged);
        bytes += (k.len() + v.len()) as u64;
        b.insert(k, v);
        n_post += 1;
        if n_post.is_multiple_of(BATCH_ENTRIES) {
            tree.apply_batch(std::mem::take(&mut b))?;
        }
    }
    tree.apply_batch(b)?;
    let mut b = sled::Batch::default();
    let mut n = 0usize;
    for (w, new) in writes.iter().zip(is_new) {
        // Chunks go before the series key: a series key implies its chunks and postings.
        for (min_t, max_t, data) in &w.chunks {
            let mut v = Vec::with_capacity(8 + data.len());
            v.extend_from_slice(&ts_key(*max_t));
            v.extend_from_slice(data);
            bytes += (17 + v.len()) as u64;
            b.insert(&chunk_key(w.id, *min_t)[..], v);
            n += 1;
        }
        if new {
            let sk = series_key(w.id);
            let mut v = Vec::new();
            put_labels(&mut v, &w.labels);
            bytes += (sk.len() + v.len()) as u64;
            b.insert(&sk[..], v);
            n += 1;
        }
        if n >= BATCH_ENTRIES {
            tree.apply_batch(std::mem::take(&mut b))?;
            n = 0;
        }
    }
    tree.apply_batch(b)?;
    Ok(bytes)
}

/// Merges the chunks of one series from several sources into non-overlapping chunks.
pub(crate) fn merge_chunks(mut chunks: Vec<StoredChunk>) -> Result<Vec<ChunkTuple>> {
    chunks.sort_by_key(|c| (c.min_t, c.max_t));
    let overlapping = chunks.windows(2).any(|w| w[1].min_t <= w[0].max_t);
    if !overlapping {
        return Ok(chunks
            .into_iter()
            .map(|c| (c.min_t, c.max_t, chunk::compact(c.data)))
            .collect());
    }
    let mut all: Vec<crate::anychunk::AnySample> = Vec::new();
    for c in &chunks {
        all.extend(crate::anychunk::decode_any(&c.data)?);
    }
    all.sort_by_key(|s| s.t);
    all.dedup_by_key(|s| s.t);
    crate::anychunk::encode_any(&all, false)
}

/// Groups series from several partitions by labels and renumbers them 1..n in label order.
pub(crate) fn merge_partitions(sources: &[Partition]) -> Result<Vec<PartWrite>> {
    let mut by_labels: BTreeMap<Labels, Vec<StoredChunk>> = BTreeMap::new();
    for p in sources {
        for (_, labels, chunks) in Store::read_all(p)? {
            by_labels.entry(labels).or_default().extend(chunks);
        }
    }
    let mut out = Vec::with_capacity(by_labels.len());
    for (i, (labels, chunks)) in by_labels.into_iter().enumerate() {
        let chunks = merge_chunks(chunks)?;
        if chunks.is_empty() {
            continue;
        }
        out.push(PartWrite {
            labels,
            id: i as u64 + 1,
            chunks,
        });
    }
    Ok(out)
}

/// Builds partition writes from per-series lists of samples of any kind (snapshots of the head).
pub(crate) fn writes_from_any(
    series: HashMap<Labels, Vec<crate::anychunk::AnySample>>,
) -> Result<Vec<PartWrite>> {
    let mut sorted: Vec<(Labels, Vec<crate::anychunk::AnySample>)> = series.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(sorted.len());
    for (i, (labels, mut samples)) in sorted.into_iter().enumerate() {
        samples.sort_by_key(|s| s.t);
        samples.dedup_by_key(|s| s.t);
        let chunks = crate::anychunk::encode_any(&samples, false)?;
        if !chunks.is_empty() {
            out.push(PartWrite {
                labels,
                id: i as u64 + 1,
                chunks,
            });
        }
    }
    Ok(out)
}

/// Builds partition writes from per-series sample lists (import, snapshots of the head).
pub(crate) fn writes_from_samples(series: HashMap<Labels, Vec<Sample>>) -> Vec<PartWrite> {
    let mut sorted: Vec<(Labels, Vec<Sample>)> = series.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .into_iter()
        .enumerate()
        .filter_map(|(i, (labels, mut samples))| {
            samples.sort_by_key(|s| s.t);
            samples.dedup_by_key(|s| s.t);
            let chunks = chunk::encode_chunks_best(&samples);
            (!chunks.is_empty()).then(|| PartWrite {
                labels,
                id: i as u64 + 1,
                chunks,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_keys_sort_numerically() {
        let ts = [i64::MIN, -1_000, -1, 0, 1, 7_200_000, i64::MAX];
        for w in ts.windows(2) {
            assert!(ts_key(w[0]) < ts_key(w[1]));
            assert_eq!(ts_from_key(&ts_key(w[0])).unwrap(), w[0]);
        }
    }

    #[test]
    fn postings_encoding_roundtrips() {
        for ids in [vec![], vec![1u64], vec![1, 2, 3, 1000, u64::MAX / 2]] {
            assert_eq!(decode_postings(&encode_postings(&ids)).unwrap(), ids);
        }
    }
}
