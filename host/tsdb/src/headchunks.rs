//! Head chunk files (`chunks_head/`): full head chunks are appended here once, and the head
//! keeps a 24-byte [`ChunkRef`] per chunk instead of its bytes, as Prometheus' `chunks_head`.
//!
//! Why not sled: the head partition's sled tree cost a third of ingest CPU in the minute
//! chunks were persisted (series and postings keys, sled's page cache and I/O threads) and
//! raised RSS by a third; an append needs none of that, because the head already has the
//! series and postings. Complete partitions are sealed from these chunks into partition
//! files (`partfile`), after which the files that hold only sealed chunks are deleted.
//!
//! Restart: the head checkpoint names a position (file, offset). Records before it belong
//! to chunks the checkpoint does not hold (they left memory before it was written); records
//! after it hold chunks the WAL replay rebuilds, so they are cut off. A reset record drops
//! the series' earlier records (after `clean_tombstones` rewrote its chunks). Chunks that
//! end before the sealed watermark are in partition files and are skipped.
//!
//! Invariants: a record is never modified; files are deleted oldest first, so a reset
//! record outlives every record it cancels; a [`ChunkRef`] is handed out only after its
//! record's `write(2)` returned.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use sightline_model::TimestampMs;

use crate::error::{Error, Result};
use crate::head::IdMap;
use crate::partfile::read_exact_at;
use crate::store::StoredChunk;
use crate::wal::crc32c;

/// Magic at the start of every head chunk file.
pub(crate) const MAGIC: &[u8; 8] = b"SLHEADC1";
const REC_CHUNK: u8 = 1;
const REC_RESET: u8 = 2;
/// type, series id, min_t, max_t, data length.
const HEADER: usize = 1 + 8 + 8 + 8 + 4;
/// A new file is started once a file would grow past this.
const MAX_FILE: u64 = 128 << 20;
/// Appends are written in pieces of about this size. The buffer is freed after each
/// append: kept, a 4 MiB buffer left a 10 k-series daemon 2.5 MB higher after its first
/// persist (BENCHMARKS.md, session 24).
const WRITE_PIECE: usize = 1 << 20;
/// Neighbouring chunk reads closer than this are merged into one read.
const READ_GAP: u64 = 16 << 10;
/// Largest merged read.
const READ_SPAN: u64 = 1 << 20;

/// Where a persisted head chunk is: file `pos >> 32`, byte `pos & 0xffff_ffff` (the record
/// start), `len` bytes of chunk data, samples in `[min_t, min_t + dur]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) pos: u64,
    pub(crate) min_t: TimestampMs,
    pub(crate) dur: u32,
    pub(crate) len: u32,
}

impl ChunkRef {
    pub(crate) fn max_t(&self) -> TimestampMs {
        self.min_t.saturating_add(i64::from(self.dur))
    }

    fn seq(&self) -> u32 {
        (self.pos >> 32) as u32
    }

    fn offset(&self) -> u64 {
        self.pos & 0xffff_ffff
    }

    fn record_len(&self) -> u64 {
        (HEADER + self.len as usize + 4) as u64
    }
}

/// The longest span a head chunk may cover (its duration must fit a [`ChunkRef`]).
pub(crate) const MAX_CHUNK_SPAN_MS: i64 = u32::MAX as i64;

/// Where the head checkpoint stands: records before `(seq, offset)` are covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Mark {
    pub(crate) seq: u32,
    pub(crate) offset: u64,
}

/// One file, open for reading (and appending while it is the newest).
pub(crate) struct ChunkFile {
    seq: u32,
    path: PathBuf,
    file: File,
    /// Newest chunk end in the file (`i64::MIN` while it holds none).
    max_t: AtomicI64,
}

fn file_name(seq: u32) -> String {
    format!("{seq:08}")
}

/// A set of open files, pinned by a reader (files stay readable after they are deleted).
#[derive(Clone, Default)]
pub(crate) struct FileSet(BTreeMap<u32, Arc<ChunkFile>>);

struct Writer {
    cur: Option<Arc<ChunkFile>>,
    size: u64,
    next_seq: u32,
    /// Files written since the last sync.
    unsynced: Vec<Arc<ChunkFile>>,
    new_dir_entry: bool,
    buf: Vec<u8>,
    /// The head partition the current file was started in (see [`HeadChunks::roll_at`]).
    epoch: Option<TimestampMs>,
}

/// The `chunks_head` directory.
pub(crate) struct HeadChunks {
    dir: PathBuf,
    files: RwLock<FileSet>,
    w: Mutex<Writer>,
}

/// What opening found: live chunk references by series, and damage.
#[derive(Default)]
pub(crate) struct Recovered {
    pub(crate) refs: IdMap<Vec<ChunkRef>>,
    pub(crate) problems: Vec<String>,
}

fn corrupt(path: &Path, offset: u64, reason: &str) -> String {
    format!(
        "head chunk file {} is corrupt at byte {offset}: {reason}",
        path.display()
    )
}

/// One parsed record.
enum Rec {
    Chunk {
        id: u64,
        min_t: TimestampMs,
        max_t: TimestampMs,
        len: u32,
    },
    Reset {
        id: u64,
    },
}

/// Parses the record at `data[off..]`: `Ok(None)` at the end, `Err(reason)` if damaged.
fn parse_record(data: &[u8], off: usize) -> std::result::Result<Option<(Rec, usize)>, String> {
    let rest = &data[off..];
    if rest.is_empty() {
        return Ok(None);
    }
    if rest.len() < HEADER + 4 {
        return Err("torn record header".into());
    }
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&rest[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let id = u64_at(1);
    let min_t = u64_at(9) as i64;
    let max_t = u64_at(17) as i64;
    let len = u32::from_le_bytes([rest[25], rest[26], rest[27], rest[28]]);
    let total = HEADER + len as usize + 4;
    if rest.len() < total {
        return Err("torn record".into());
    }
    let want = u32::from_le_bytes([
        rest[total - 4],
        rest[total - 3],
        rest[total - 2],
        rest[total - 1],
    ]);
    if crc32c(&rest[..total - 4]) != want {
        return Err("checksum mismatch".into());
    }
    let rec = match rest[0] {
        REC_CHUNK => {
            // (Checked: a damaged min_t far below max_t must not overflow; found by fuzzing.)
            if max_t
                .checked_sub(min_t)
                .is_none_or(|d| !(0..=MAX_CHUNK_SPAN_MS).contains(&d))
            {
                return Err(format!("chunk times {min_t}..{max_t} out of order"));
            }
            if crate::chunk::chunk_len(&rest[HEADER..HEADER + len as usize]).is_err() {
                return Err("undecodable chunk header".into());
            }
            Rec::Chunk {
                id,
                min_t,
                max_t,
                len,
            }
        }
        REC_RESET if len == 0 => Rec::Reset { id },
        t => return Err(format!("unknown record type {t}")),
    };
    Ok(Some((rec, total)))
}

/// Parses `data` (a file body after the magic) record by record, first fixing up every
/// checksum so that the decoding behind it is reached; returns the records parsed. For
/// fuzzing: errors are values, never panics.
pub(crate) fn parse_fixed_up(data: &[u8]) -> usize {
    let mut data = data.to_vec();
    let mut off = 0;
    while data.len() - off >= HEADER + 4 {
        let len = u32::from_le_bytes([
            data[off + 25],
            data[off + 26],
            data[off + 27],
            data[off + 28],
        ]) as usize;
        let Some(end) = (off + HEADER).checked_add(len) else {
            break;
        };
        if end + 4 > data.len() {
            break;
        }
        let crc = crc32c(&data[off..end]);
        data[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        off = end + 4;
    }
    let mut n = 0;
    let mut off = 0;
    while let Ok(Some((_, len))) = parse_record(&data, off) {
        n += 1;
        off += len;
    }
    n
}

fn put_record(buf: &mut Vec<u8>, typ: u8, id: u64, min_t: i64, max_t: i64, data: &[u8]) {
    let start = buf.len();
    buf.push(typ);
    buf.extend_from_slice(&id.to_le_bytes());
    buf.extend_from_slice(&min_t.to_le_bytes());
    buf.extend_from_slice(&max_t.to_le_bytes());
    buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
    buf.extend_from_slice(data);
    let crc = crc32c(&buf[start..]);
    buf.extend_from_slice(&crc.to_le_bytes());
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl HeadChunks {
    /// Opens `dir`, keeping the records before `mark` (none without a checkpoint) whose
    /// chunks end at or after `sealed_before`. Later records and files are removed: the
    /// WAL replay that follows rebuilds their chunks. Damaged records are reported, and the
    /// file is cut there.
    pub(crate) fn open(
        dir: &Path,
        mark: Option<Mark>,
        sealed_before: TimestampMs,
    ) -> Result<(Self, Recovered)> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut seqs = Vec::new();
        for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let name = e.file_name();
            match name.to_str().and_then(|n| n.parse::<u32>().ok()) {
                Some(seq) if name.len() == 8 => seqs.push(seq),
                _ => {
                    tracing::info!(file = %e.path().display(), "removing stray file from chunks_head");
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        seqs.sort_unstable();
        let mut rec = Recovered::default();
        let mut files = FileSet::default();
        let mut last_seq = 0u32;
        for seq in seqs {
            last_seq = last_seq.max(seq);
            let path = dir.join(file_name(seq));
            let keep_to = match mark {
                Some(m) if seq < m.seq => u64::MAX,
                Some(m) if seq == m.seq => m.offset,
                _ => 0,
            };
            if keep_to < MAGIC.len() as u64 {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                continue;
            }
            let mut data = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let mut end = data
                .len()
                .min(usize::try_from(keep_to).unwrap_or(usize::MAX));
            let mut cut = end < data.len();
            if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
                rec.problems.push(corrupt(&path, 0, "bad magic"));
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                continue;
            }
            data.truncate(end);
            let mut off = MAGIC.len();
            let mut max_t = i64::MIN;
            loop {
                match parse_record(&data, off) {
                    Ok(None) => break,
                    Ok(Some((r, n))) => {
                        match r {
                            Rec::Chunk {
                                id,
                                min_t,
                                max_t: mt,
                                len,
                            } => {
                                max_t = max_t.max(mt);
                                if mt >= sealed_before {
                                    rec.refs.entry(id).or_default().push(ChunkRef {
                                        pos: (u64::from(seq) << 32) | off as u64,
                                        min_t,
                                        dur: (mt - min_t) as u32,
                                        len,
                                    });
                                }
                            }
                            Rec::Reset { id } => {
                                rec.refs.remove(&id);
                            }
                        }
                        off += n;
                    }
                    Err(reason) => {
                        let msg = corrupt(&path, off as u64, &reason);
                        tracing::warn!(problem = %msg, "head chunk file damaged; cut there");
                        rec.problems.push(msg);
                        end = off;
                        cut = true;
                        break;
                    }
                }
            }
            if cut {
                crate::wal::truncate_file(&path, end as u64)?;
            }
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            files.0.insert(
                seq,
                Arc::new(ChunkFile {
                    seq,
                    path,
                    file,
                    max_t: AtomicI64::new(max_t),
                }),
            );
        }
        // Chunks of a series in time order (a reset may have been followed by older ones).
        for v in rec.refs.values_mut() {
            v.sort_by_key(|r| r.min_t);
        }
        let hc = HeadChunks {
            dir: dir.to_path_buf(),
            files: RwLock::new(files),
            w: Mutex::new(Writer {
                cur: None,
                size: 0,
                next_seq: last_seq.saturating_add(1).max(mark.map_or(1, |m| m.seq)),
                unsynced: Vec::new(),
                new_dir_entry: false,
                buf: Vec::new(),
                epoch: None,
            }),
        };
        Ok((hc, rec))
    }

    /// Appends chunks `(series id, min_t, max_t, bytes)`; returns their references in order.
    /// On error nothing of the call is referenced (the file is cut back where possible).
    pub(crate) fn append<'a>(
        &self,
        chunks: impl IntoIterator<Item = (u64, TimestampMs, TimestampMs, &'a [u8])>,
    ) -> Result<Vec<ChunkRef>> {
        let mut w = self.w.lock();
        let mut refs = Vec::new();
        let mut piece_start = self.start_piece(&mut w)?;
        for (id, min_t, max_t, data) in chunks {
            let rec_len = (HEADER + data.len() + 4) as u64;
            let at = w.size + w.buf.len() as u64;
            let at = if at + rec_len > MAX_FILE && at > MAGIC.len() as u64 {
                self.flush_piece(&mut w, piece_start)?;
                w.cur = None;
                piece_start = self.start_piece(&mut w)?;
                w.size
            } else {
                at
            };
            let Some(cur) = w.cur.clone() else {
                return Err(Error::Corrupt("head chunk writer has no file".into()));
            };
            let Ok(dur) = u32::try_from(max_t.saturating_sub(min_t)) else {
                // Cannot happen: partitions are at most 31 days and chunks never cross one.
                w.buf.clear();
                return Err(Error::InvalidArgument(format!(
                    "chunk span {min_t}..{max_t} too long for a head chunk file"
                )));
            };
            if w.buf.capacity() == 0 {
                // Room for a piece and the record that ends it, so it is not doubled.
                w.buf.reserve_exact(WRITE_PIECE + (64 << 10));
            }
            put_record(&mut w.buf, REC_CHUNK, id, min_t, max_t, data);
            cur.max_t.fetch_max(max_t, Ordering::Relaxed);
            refs.push(ChunkRef {
                pos: (u64::from(cur.seq) << 32) | at,
                min_t,
                dur,
                len: data.len() as u32,
            });
            if w.buf.len() >= WRITE_PIECE {
                self.flush_piece(&mut w, piece_start)?;
                piece_start = w.size;
            }
        }
        let res = self.flush_piece(&mut w, piece_start);
        w.buf = Vec::new();
        res?;
        Ok(refs)
    }

    /// Appends reset records: the series' earlier records are void.
    pub(crate) fn reset(&self, ids: &[u64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut w = self.w.lock();
        let start = self.start_piece(&mut w)?;
        for id in ids {
            put_record(&mut w.buf, REC_RESET, *id, 0, 0, &[]);
        }
        let res = self.flush_piece(&mut w, start);
        w.buf = Vec::new();
        res
    }

    /// Makes sure a current file exists; returns the size a failed piece is cut back to.
    fn start_piece(&self, w: &mut Writer) -> Result<u64> {
        if w.cur.is_none() {
            let seq = w.next_seq;
            w.next_seq = seq
                .checked_add(1)
                .ok_or_else(|| Error::Corrupt("head chunk file numbers exhausted".into()))?;
            let path = self.dir.join(file_name(seq));
            let mut file = OpenOptions::new()
                .create_new(true)
                .read(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            file.write_all(MAGIC).map_err(|e| Error::io(&path, e))?;
            let f = Arc::new(ChunkFile {
                seq,
                path,
                file,
                max_t: AtomicI64::new(i64::MIN),
            });
            self.files.write().0.insert(seq, f.clone());
            w.cur = Some(f.clone());
            w.unsynced.push(f);
            w.size = MAGIC.len() as u64;
            w.new_dir_entry = true;
        }
        Ok(w.size)
    }

    /// Writes the buffered records; on failure cuts the file back to `piece_start` and
    /// starts a new file next time if even that fails.
    fn flush_piece(&self, w: &mut Writer, piece_start: u64) -> Result<()> {
        if w.buf.is_empty() {
            return Ok(());
        }
        let Some(cur) = w.cur.clone() else {
            return Err(Error::Corrupt("head chunk writer has no file".into()));
        };
        let res = (&cur.file).write_all(&w.buf);
        let n = w.buf.len() as u64;
        w.buf.clear();
        match res {
            Ok(()) => {
                w.size += n;
                if !w.unsynced.iter().any(|f| f.seq == cur.seq) {
                    w.unsynced.push(cur);
                }
                Ok(())
            }
            Err(e) => {
                if cur.file.set_len(piece_start).is_err() {
                    w.cur = None;
                } else {
                    w.size = piece_start;
                }
                Err(Error::io(&cur.path, e))
            }
        }
    }

    /// fsyncs what was written since the last call (and the directory for new files).
    pub(crate) fn sync(&self) -> Result<()> {
        let (files, dir) = {
            let mut w = self.w.lock();
            (
                std::mem::take(&mut w.unsynced),
                std::mem::replace(&mut w.new_dir_entry, false),
            )
        };
        for f in &files {
            f.file.sync_data().map_err(|e| Error::io(&f.path, e))?;
        }
        if dir {
            sync_dir(&self.dir);
        }
        Ok(())
    }

    /// The position a checkpoint taken now covers.
    pub(crate) fn mark(&self) -> Mark {
        let w = self.w.lock();
        match &w.cur {
            Some(f) => Mark {
                seq: f.seq,
                offset: w.size,
            },
            None => Mark {
                seq: w.next_seq,
                offset: 0,
            },
        }
    }

    /// Pins the current files for reading references taken under the head lock.
    pub(crate) fn pin(&self) -> FileSet {
        self.files.read().clone()
    }

    /// Starts a new file when the head has moved into another partition since the current
    /// one was started: files then hold roughly one partition's chunks and can be deleted
    /// as soon as it is sealed, instead of one seal later.
    pub(crate) fn roll_at(&self, head_partition: TimestampMs) {
        let mut w = self.w.lock();
        if w.epoch != Some(head_partition) {
            if w.size > MAGIC.len() as u64 {
                w.cur = None;
            }
            w.epoch = Some(head_partition);
        }
    }

    /// Ends the current file (if it holds anything): the next append starts a new one, so
    /// the old one can be deleted once its chunks are sealed (called when sealing).
    pub(crate) fn cut(&self) {
        let mut w = self.w.lock();
        if w.size > MAGIC.len() as u64 {
            w.cur = None;
        }
    }

    /// Deletes the oldest files while every chunk in them ends before `sealed_before`
    /// (never the file being appended to). Returns the number deleted.
    pub(crate) fn remove_sealed(&self, sealed_before: TimestampMs) -> usize {
        let cur = self.w.lock().cur.as_ref().map(|f| f.seq);
        let mut n = 0;
        loop {
            let victim = {
                let mut files = self.files.write();
                let Some((&seq, f)) = files.0.iter().next() else {
                    break;
                };
                if Some(seq) == cur || f.max_t.load(Ordering::Relaxed) >= sealed_before {
                    break;
                }
                files.0.remove(&seq)
            };
            if let Some(f) = victim {
                if let Err(e) = fs::remove_file(&f.path) {
                    tracing::warn!(file = %f.path.display(), error = %e, "cannot remove head chunk file");
                }
                n += 1;
            }
        }
        if n > 0 {
            sync_dir(&self.dir);
        }
        n
    }

    /// Bytes of all head chunk files.
    pub(crate) fn disk_bytes(&self) -> u64 {
        let w = self.w.lock();
        let cur = w.cur.as_ref().map(|f| f.seq);
        self.files
            .read()
            .0
            .values()
            .map(|f| {
                if Some(f.seq) == cur {
                    w.size
                } else {
                    f.file.metadata().map_or(0, |m| m.len())
                }
            })
            .sum()
    }

    /// Number of files.
    #[cfg(test)]
    pub(crate) fn num_files(&self) -> usize {
        self.files.read().0.len()
    }
}

impl FileSet {
    /// Reads the chunks of several series (`groups`, one slice of references each) in one
    /// pass, so that records written back to back are read together; returns per series
    /// its chunks in reference order, `None` for one that is unreadable (already reported).
    pub(crate) fn read_groups(&self, groups: &[&[ChunkRef]]) -> Vec<Vec<Option<StoredChunk>>> {
        let all: Vec<ChunkRef> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let mut data = self.read(&all).into_iter();
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .zip(data.by_ref())
                    .map(|(r, d)| {
                        d.map(|data| StoredChunk {
                            min_t: r.min_t,
                            max_t: r.max_t(),
                            data,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Reads the chunks `refs` point at; neighbouring records are read together. A record
    /// that is missing or fails its checksum is reported and comes back as `None`.
    pub(crate) fn read(&self, refs: &[ChunkRef]) -> Vec<Option<Arc<[u8]>>> {
        let mut out: Vec<Option<Arc<[u8]>>> = vec![None; refs.len()];
        let mut order: Vec<usize> = (0..refs.len()).collect();
        order.sort_unstable_by_key(|&i| refs[i].pos);
        let mut i = 0;
        let mut buf = Vec::new();
        while i < order.len() {
            let first = refs[order[i]];
            let start = first.offset();
            let mut end = start + first.record_len();
            let mut j = i + 1;
            while let Some(&k) = order.get(j) {
                let r = refs[k];
                if r.seq() != first.seq()
                    || r.offset() > end + READ_GAP
                    || r.offset() + r.record_len() - start > READ_SPAN
                {
                    break;
                }
                end = end.max(r.offset() + r.record_len());
                j += 1;
            }
            let group = &order[i..j];
            i = j;
            let Some(file) = self.0.get(&first.seq()) else {
                tracing::warn!(
                    file = first.seq(),
                    "head chunk file missing; skipping its chunks"
                );
                continue;
            };
            buf.resize((end - start) as usize, 0);
            if let Err(e) = read_exact_at(&file.file, &mut buf, start) {
                tracing::warn!(file = %file.path.display(), offset = start, error = %e, "cannot read head chunks");
                continue;
            }
            for &k in group {
                let r = refs[k];
                let off = (r.offset() - start) as usize;
                match parse_record(&buf[..off + r.record_len() as usize], off) {
                    Ok(Some((Rec::Chunk { len, min_t, .. }, _)))
                        if len == r.len && min_t == r.min_t =>
                    {
                        out[k] = Some(Arc::from(&buf[off + HEADER..off + HEADER + len as usize]));
                    }
                    other => {
                        let reason = match other {
                            Err(e) => e,
                            _ => "record does not match its reference".into(),
                        };
                        tracing::warn!(
                            problem = %corrupt(&file.path, r.offset(), &reason),
                            "skipping head chunk"
                        );
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(ts: &[i64]) -> Vec<u8> {
        let mut a = crate::chunk::XorAppender::new();
        for &t in ts {
            a.append(t, t as f64);
        }
        a.into_bytes()
    }

    #[test]
    fn appended_chunks_read_back_and_survive_reopen_up_to_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        let (hc, rec) = HeadChunks::open(dir.path(), None, i64::MIN).unwrap();
        assert!(rec.refs.is_empty());
        let a = chunk(&[1, 2, 3]);
        let b = chunk(&[10, 20]);
        let refs = hc.append([(7, 1, 3, &a[..]), (8, 10, 20, &b[..])]).unwrap();
        let got = hc.pin().read(&refs);
        assert_eq!(got[0].as_deref(), Some(&a[..]));
        assert_eq!(got[1].as_deref(), Some(&b[..]));
        let mark = hc.mark();
        let c = chunk(&[30]);
        hc.append([(7, 30, 30, &c[..])]).unwrap();
        hc.sync().unwrap();
        drop(hc);
        // Only what the mark covers comes back; the rest is cut off.
        let (hc, rec) = HeadChunks::open(dir.path(), Some(mark), i64::MIN).unwrap();
        assert_eq!(rec.refs[&7], vec![refs[0]]);
        assert_eq!(rec.refs[&8], vec![refs[1]]);
        assert!(rec.problems.is_empty());
        // Sealed chunks are skipped; resets drop a series' earlier records.
        hc.reset(&[8]).unwrap();
        let mark = hc.mark();
        drop(hc);
        let (_, rec) = HeadChunks::open(dir.path(), Some(mark), 5).unwrap();
        assert!(!rec.refs.contains_key(&7));
        assert!(!rec.refs.contains_key(&8));
    }

    #[test]
    fn appends_larger_than_a_piece_are_written_in_pieces_and_hold_no_buffer_after() {
        let dir = tempfile::tempdir().unwrap();
        let (hc, _) = HeadChunks::open(dir.path(), None, i64::MIN).unwrap();
        let a = chunk(&(0..120).collect::<Vec<i64>>());
        // Three pieces' worth of records in one append.
        let n = 3 * WRITE_PIECE / (HEADER + a.len() + 4) + 1;
        let refs = hc
            .append((0..n as u64).map(|id| (id, 0, 119, &a[..])))
            .unwrap();
        assert_eq!(refs.len(), n);
        assert_eq!(hc.w.lock().buf.capacity(), 0, "the write buffer is freed");
        let got = hc.pin().read(&refs);
        assert!(got.iter().all(|c| c.as_deref() == Some(&a[..])));
        hc.reset(&[1, 2]).unwrap();
        assert_eq!(hc.w.lock().buf.capacity(), 0);
    }

    #[test]
    fn damage_is_reported_with_its_offset_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (hc, _) = HeadChunks::open(dir.path(), None, i64::MIN).unwrap();
        let a = chunk(&[1, 2, 3]);
        let refs = hc
            .append([(1, 1, 3, &a[..]), (2, 1, 3, &a[..]), (3, 1, 3, &a[..])])
            .unwrap();
        let mark = hc.mark();
        drop(hc);
        let path = dir.path().join(file_name(1));
        let mut data = fs::read(&path).unwrap();
        let bad = refs[1].offset() as usize + HEADER + 1;
        data[bad] ^= 0xff;
        fs::write(&path, &data).unwrap();
        let (hc, rec) = HeadChunks::open(dir.path(), Some(mark), i64::MIN).unwrap();
        assert_eq!(rec.refs.len(), 1);
        assert_eq!(rec.problems.len(), 1);
        assert!(
            rec.problems[0].contains(&format!("at byte {}", refs[1].offset())),
            "{:?}",
            rec.problems
        );
        // A reader of a damaged record gets None, not garbage.
        assert_eq!(hc.pin().read(&refs[1..2]), vec![None]);
        assert_eq!(fs::metadata(&path).unwrap().len(), refs[1].offset());
    }

    #[test]
    fn damaged_headers_are_errors_not_panics() {
        // Found by the `headchunks` fuzz target: min_t far below max_t overflowed the span
        // check.
        let input = [
            1u8, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 88, 0, 0, 0, 0, 128, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(parse_fixed_up(&input), 0);
        let mut rec = Vec::new();
        put_record(&mut rec, REC_CHUNK, 1, i64::MIN, i64::MAX, &chunk(&[1]));
        assert!(parse_record(&rec, 0).is_err());
        let mut rec = Vec::new();
        put_record(&mut rec, REC_CHUNK, 1, 5, 4, &chunk(&[1]));
        assert!(parse_record(&rec, 0).is_err());
    }

    #[test]
    fn files_roll_and_are_removed_oldest_first_once_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let (hc, _) = HeadChunks::open(dir.path(), None, i64::MIN).unwrap();
        let a = chunk(&[1]);
        hc.append([(1, 1, 1, &a[..])]).unwrap();
        // Force a new file.
        hc.w.lock().cur = None;
        let b = chunk(&[100]);
        hc.append([(1, 100, 100, &b[..])]).unwrap();
        assert_eq!(hc.num_files(), 2);
        assert_eq!(hc.remove_sealed(50), 1);
        assert_eq!(hc.remove_sealed(1000), 0, "the current file stays");
        assert_eq!(hc.num_files(), 1);
    }
}
