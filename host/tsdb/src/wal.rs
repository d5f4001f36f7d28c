//! The write-ahead log: numbered segment files under `<data>/wal/`, each a sequence of
//! length-prefixed, CRC-32C-checksummed records (series, samples, tombstones).
//!
//! Record frame (little-endian): `len: u32` (bytes after the checksum), `crc: u32` (CRC-32C
//! of those bytes), then `type: u8` and the payload. A commit's records are written with one
//! `write(2)` before the commit returns, so they are in the OS page cache: a kill -9 of the
//! process loses nothing acknowledged. Whether they reach the disk before a power loss
//! depends on [`FsyncPolicy`].
//!
//! Replay reads segments in order. A torn or corrupt record ends its segment: the problem is
//! reported with segment number and byte offset, the segment is truncated there, and replay
//! goes on with the next segment (every segment starts on a record boundary).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sightline_model::{Labels, MatchOp, Matcher, Sample, TimestampMs};

use crate::enc::{put_labels, put_str, put_uvarint, put_varint, Dec};
use crate::error::{Error, Result};
use crate::head::SeriesSnapshot;

/// When the WAL is fsynced. Every policy writes a commit's records before the commit
/// returns (kill -9 safe); the policy only bounds what a power loss or kernel crash may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before every commit returns: nothing acknowledged is lost on power loss.
    Always,
    /// fsync once per interval on a background thread (never inside a commit, which may run
    /// on an async worker), and on maintenance: a power loss may lose up to the interval's
    /// commits.
    Interval(Duration),
    /// Never fsync explicitly (the OS writes back when it likes, typically within 30 s).
    Never,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_secs(1))
    }
}

const REC_SERIES: u8 = 1;
const REC_SAMPLES: u8 = 2;
const REC_TOMBSTONE: u8 = 3;
const REC_STATE: u8 = 4;
const REC_HEAD_CHUNKS_MARK: u8 = 5;
/// Type-byte flag: the payload is snappy-compressed (raw format), as Prometheus compresses
/// its WAL. Records without it are read as before, so older WALs stay readable.
const COMPRESSED: u8 = 0x80;
/// Payloads shorter than this are never worth compressing.
const MIN_COMPRESS: usize = 64;
const FRAME: usize = 8;
/// Largest record accepted on replay (guards against garbage lengths).
const MAX_RECORD: u32 = 256 << 20;

/// A deletion request as logged: matchers and an inclusive time range.
#[derive(Debug, Clone)]
pub(crate) struct Tombstone {
    pub(crate) seq: u64,
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) matchers: Vec<Matcher>,
}

/// A decoded record.
pub(crate) enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<(u64, TimestampMs, f64)>),
    Tombstone(Tombstone),
    /// A head series' full state (checkpoint files only).
    State(SeriesSnapshot),
    /// How far the head chunk files are covered by this checkpoint (checkpoint files only).
    HeadChunksMark(crate::headchunks::Mark),
    /// Native-histogram samples (Prometheus' record types 7 to 10).
    Histograms(Vec<crate::wal_hist::HistSample>),
}

/// Frames a record whose payload `body` writes; with `compress`, the payload is stored
/// snappy-compressed when that makes it smaller.
fn frame_maybe_compressed(
    buf: &mut Vec<u8>,
    typ: u8,
    compress: bool,
    body: impl FnOnce(&mut Vec<u8>),
) {
    if !compress {
        return frame(buf, typ, body);
    }
    let mut plain = Vec::new();
    body(&mut plain);
    if plain.len() >= MIN_COMPRESS {
        if let Ok(c) = snap::raw::Encoder::new().compress_vec(&plain) {
            if c.len() < plain.len() {
                return frame(buf, typ | COMPRESSED, |b| b.extend_from_slice(&c));
            }
        }
    }
    frame(buf, typ, |b| b.extend_from_slice(&plain))
}

fn frame(buf: &mut Vec<u8>, typ: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; FRAME]);
    buf.push(typ);
    body(buf);
    let len = (buf.len() - start - FRAME) as u32;
    let crc = crc32c(&buf[start + FRAME..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// CRC-32C (Castagnoli), with the CPU's CRC instruction where it has one: every WAL
/// record, head chunk record and partition file section is checked with it, on ingest and
/// on every read of a head chunk from disk.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// (Commits write the same bytes with [`encode_series_entries`].)
#[cfg(test)]
pub(crate) fn encode_series(buf: &mut Vec<u8>, series: &[(u64, &Labels)], compress: bool) {
    frame_maybe_compressed(buf, REC_SERIES, compress, |b| {
        put_uvarint(b, series.len() as u64);
        for (id, l) in series {
            put_uvarint(b, *id);
            put_labels(b, l);
        }
    });
}

/// A series record from entries the head encoded (`count` times an id and its labels, as
/// [`encode_series`] writes them), so a commit builds no label sets for it.
pub(crate) fn encode_series_entries(
    buf: &mut Vec<u8>,
    count: usize,
    entries: &[u8],
    compress: bool,
) {
    frame_maybe_compressed(buf, REC_SERIES, compress, |b| {
        put_uvarint(b, count as u64);
        b.extend_from_slice(entries);
    });
}

/// Samples: count, then per sample the id delta and timestamp delta to the previous sample
/// (zigzag varints; the first against 0) and the value's 8 raw bytes.
pub(crate) fn encode_samples(
    buf: &mut Vec<u8>,
    samples: &[(u64, TimestampMs, u64)],
    compress: bool,
) {
    frame_maybe_compressed(buf, REC_SAMPLES, compress, |b| {
        put_uvarint(b, samples.len() as u64);
        let (mut pid, mut pt) = (0u64, 0i64);
        for &(id, t, v) in samples {
            put_varint(b, id.wrapping_sub(pid) as i64);
            put_varint(b, t.wrapping_sub(pt));
            b.extend_from_slice(&v.to_le_bytes());
            pid = id;
            pt = t;
        }
    });
}

/// Appends the histogram sample records of a batch (one per record type used).
pub(crate) fn encode_histograms(
    buf: &mut Vec<u8>,
    samples: &[crate::wal_hist::HistSample],
    compress: bool,
) {
    for (typ, payload) in crate::wal_hist::encode(samples) {
        frame_maybe_compressed(buf, typ, compress, |b| b.extend_from_slice(&payload));
    }
}

pub(crate) fn encode_tombstone(buf: &mut Vec<u8>, t: &Tombstone) {
    frame(buf, REC_TOMBSTONE, |b| {
        put_uvarint(b, t.seq);
        put_varint(b, t.min_t);
        put_varint(b, t.max_t);
        encode_matchers(b, &t.matchers);
    });
}

/// A series' checkpoint state: id, labels, newest sample, chunks (closed ones, then the
/// open one last) and out-of-order samples.
pub(crate) fn encode_state(buf: &mut Vec<u8>, s: &SeriesSnapshot) {
    frame(buf, REC_STATE, |b| {
        put_uvarint(b, s.id);
        put_labels(b, &s.labels);
        put_varint(b, s.last_t);
        b.extend_from_slice(&s.last_v.to_le_bytes());
        put_uvarint(b, s.chunks.len() as u64);
        for c in &s.chunks {
            put_uvarint(b, c.len() as u64);
            b.extend_from_slice(c);
        }
        put_uvarint(b, s.ooo.len() as u64);
        for x in &s.ooo {
            put_varint(b, x.t);
            b.extend_from_slice(&x.v.to_bits().to_le_bytes());
        }
    });
}

pub(crate) fn encode_head_chunks_mark(buf: &mut Vec<u8>, m: crate::headchunks::Mark) {
    frame(buf, REC_HEAD_CHUNKS_MARK, |b| {
        put_uvarint(b, u64::from(m.seq));
        put_uvarint(b, m.offset);
    });
}

pub(crate) fn encode_matchers(b: &mut Vec<u8>, ms: &[Matcher]) {
    put_uvarint(b, ms.len() as u64);
    for m in ms {
        b.push(match m.op {
            MatchOp::Equal => 0,
            MatchOp::NotEqual => 1,
            MatchOp::RegexMatch => 2,
            MatchOp::RegexNoMatch => 3,
        });
        put_str(b, &m.name);
        put_str(b, &m.value);
    }
}

pub(crate) fn decode_matchers(d: &mut Dec<'_>) -> Result<Vec<Matcher>> {
    let n = d.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let op = match d.u8()? {
            0 => MatchOp::Equal,
            1 => MatchOp::NotEqual,
            2 => MatchOp::RegexMatch,
            3 => MatchOp::RegexNoMatch,
            x => return Err(Error::Corrupt(format!("unknown matcher op {x}"))),
        };
        let name = d.str()?.to_string();
        let value = d.str()?.to_string();
        out.push(Matcher::new(op, name, value).map_err(|e| Error::Corrupt(e.to_string()))?);
    }
    Ok(out)
}

fn decode_record(typ: u8, body: &[u8]) -> Result<Record> {
    if typ & COMPRESSED != 0 {
        let n = snap::raw::decompress_len(body)
            .map_err(|e| Error::Corrupt(format!("compressed record: {e}")))?;
        if n > MAX_RECORD as usize * 8 {
            return Err(Error::Corrupt(format!(
                "compressed record claims {n} bytes uncompressed"
            )));
        }
        let plain = snap::raw::Decoder::new()
            .decompress_vec(body)
            .map_err(|e| Error::Corrupt(format!("compressed record: {e}")))?;
        return decode_record(typ & !COMPRESSED, &plain);
    }
    let mut d = Dec::new(body);
    match typ {
        REC_SERIES => {
            let n = d.uvarint()? as usize;
            let mut v = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let id = d.uvarint()?;
                v.push((id, d.labels()?));
            }
            Ok(Record::Series(v))
        }
        REC_SAMPLES => {
            let n = d.uvarint()? as usize;
            let mut v = Vec::with_capacity(n.min(1 << 20));
            let (mut id, mut t) = (0u64, 0i64);
            for _ in 0..n {
                id = id.wrapping_add(d.varint()? as u64);
                t = t.wrapping_add(d.varint()?);
                v.push((id, t, f64::from_bits(d.u64_le()?)));
            }
            Ok(Record::Samples(v))
        }
        REC_TOMBSTONE => {
            let seq = d.uvarint()?;
            let min_t = d.varint()?;
            let max_t = d.varint()?;
            let matchers = decode_matchers(&mut d)?;
            Ok(Record::Tombstone(Tombstone {
                seq,
                min_t,
                max_t,
                matchers,
            }))
        }
        REC_STATE => {
            let id = d.uvarint()?;
            let labels = d.labels()?;
            let last_t = d.varint()?;
            let last_v = d.u64_le()?;
            let n = d.uvarint()? as usize;
            let mut chunks = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                let len = d.uvarint()? as usize;
                chunks.push(d.bytes(len)?.to_vec());
            }
            let n = d.uvarint()? as usize;
            let mut ooo = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let t = d.varint()?;
                ooo.push(Sample {
                    t,
                    v: f64::from_bits(d.u64_le()?),
                });
            }
            Ok(Record::State(SeriesSnapshot {
                id,
                labels,
                chunks,
                ooo,
                last_t,
                last_v,
            }))
        }
        REC_HEAD_CHUNKS_MARK => {
            let seq = u32::try_from(d.uvarint()?)
                .map_err(|_| Error::Corrupt("head chunk file number out of range".into()))?;
            Ok(Record::HeadChunksMark(crate::headchunks::Mark {
                seq,
                offset: d.uvarint()?,
            }))
        }
        crate::wal_hist::REC_HISTOGRAMS..=crate::wal_hist::REC_CUSTOM_FLOAT_HISTOGRAMS => {
            Ok(Record::Histograms(crate::wal_hist::decode(typ, body)?))
        }
        x => Err(Error::Corrupt(format!("unknown record type {x}"))),
    }
}

/// Cuts the file at `path` to `len` bytes and syncs it (repairing a damaged tail).
pub(crate) fn truncate_file(path: &Path, len: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.set_len(len).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for e in rd {
        let e = e.map_err(|e| Error::io(dir, e))?;
        if let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// What replay found.
#[derive(Debug, Default)]
pub(crate) struct ReplayReport {
    pub(crate) segments: usize,
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    /// Each corruption found (and repaired by truncation).
    pub(crate) corruptions: Vec<Error>,
}

/// The next record at the start of `data`, as a reader of a live WAL sees it.
pub(crate) enum Next {
    /// A record and its framed length.
    Record(Record, usize),
    /// Nothing left.
    End,
    /// A record that is not complete yet: this many bytes are needed in all.
    Incomplete(usize),
    /// Bytes that are not a record (bad length, checksum or contents).
    Corrupt,
}

/// Decodes the record at the start of `data`.
pub(crate) fn next_record(data: &[u8]) -> Next {
    match frame_at(data) {
        Ok(None) => Next::End,
        Ok(Some((typ, body, len))) => match decode_record(typ, body) {
            Ok(r) => Next::Record(r, len),
            Err(_) => Next::Corrupt,
        },
        Err(FrameErr::Incomplete(n)) => Next::Incomplete(n),
        Err(FrameErr::Bad(_)) => Next::Corrupt,
    }
}

enum FrameErr {
    Incomplete(usize),
    Bad(String),
}

/// A record's type byte, payload and framed length.
type Frame<'a> = (u8, &'a [u8], usize);

/// The frame at the start of `data`.
fn frame_at(data: &[u8]) -> std::result::Result<Option<Frame<'_>>, FrameErr> {
    if data.is_empty() {
        return Ok(None);
    }
    if data.len() < FRAME {
        return Err(FrameErr::Incomplete(FRAME));
    }
    let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let crc = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    if len == 0 || len > MAX_RECORD {
        return Err(FrameErr::Bad(format!("invalid record length {len}")));
    }
    let end = FRAME + len as usize;
    if end > data.len() {
        return Err(FrameErr::Incomplete(end));
    }
    let body = &data[FRAME..end];
    if crc32c(body) != crc {
        return Err(FrameErr::Bad("checksum mismatch".into()));
    }
    Ok(Some((body[0], &body[1..], end)))
}

/// Parses the records of `data`, calling `f` per record. Returns the offset of the end of
/// the last good record, the number of records, and why parsing stopped early (if it did).
pub(crate) fn parse_records(
    data: &[u8],
    f: &mut impl FnMut(Record) -> Result<()>,
) -> Result<(usize, u64, Option<String>)> {
    let mut off = 0usize;
    let mut n = 0u64;
    loop {
        let (typ, body, len) = match frame_at(&data[off..]) {
            Ok(None) => return Ok((off, n, None)),
            Ok(Some(x)) => x,
            Err(FrameErr::Incomplete(need)) => {
                let present = data.len() - off;
                let why = if present < FRAME {
                    "torn record header".to_string()
                } else {
                    format!(
                        "torn record: {} bytes announced, {} present",
                        need - FRAME,
                        present - FRAME
                    )
                };
                return Ok((off, n, Some(why)));
            }
            Err(FrameErr::Bad(why)) => return Ok((off, n, Some(why))),
        };
        match decode_record(typ, body) {
            Ok(r) => f(r)?,
            Err(e) => return Ok((off, n, Some(format!("undecodable record: {e}")))),
        }
        n += 1;
        off += len;
    }
}

/// Replays the segments numbered `min_seg` or higher in `dir`, calling `f` per record;
/// truncates torn tails.
pub(crate) fn replay(
    dir: &Path,
    min_seg: u64,
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<ReplayReport> {
    let mut rep = ReplayReport::default();
    for seg in list_segments(dir)? {
        if seg < min_seg {
            continue;
        }
        let path = segment_path(dir, seg);
        let mut data = Vec::new();
        File::open(&path)
            .and_then(|mut fh| fh.read_to_end(&mut data))
            .map_err(|e| Error::io(&path, e))?;
        rep.segments += 1;
        let (off, n, bad) = parse_records(&data, &mut f)?;
        rep.records += n;
        rep.bytes += off as u64;
        if let Some(reason) = bad {
            let err = Error::CorruptWal {
                segment: seg,
                offset: off as u64,
                reason,
            };
            tracing::warn!(error = %err, "truncating corrupt WAL tail");
            truncate_file(&path, off as u64)?;
            rep.corruptions.push(err);
        }
    }
    Ok(rep)
}

fn checkpoint_path(dir: &Path, seg: u64) -> PathBuf {
    dir.join(format!("checkpoint.{seg:08}"))
}

/// Checkpoint files (`checkpoint.<segment>`) in `dir`, ascending; stray `.tmp` files of an
/// interrupted checkpoint are deleted.
fn list_checkpoints(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix("checkpoint.") else {
            continue;
        };
        if rest.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        } else if let Ok(n) = rest.parse::<u64>() {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Loads the newest checkpoint, calling `f` per record. Returns the segment it covers up
/// to (replay starts there) and what was found. A corrupt record ends the checkpoint: the
/// records before it are kept and the problem is reported with its byte offset.
pub(crate) fn load_checkpoint(
    dir: &Path,
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<(u64, ReplayReport)> {
    let mut rep = ReplayReport::default();
    let Some(&seg) = list_checkpoints(dir)?.last() else {
        return Ok((0, rep));
    };
    let path = checkpoint_path(dir, seg);
    let data = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let (off, n, bad) = parse_records(&data, &mut f)?;
    rep.records = n;
    rep.bytes = off as u64;
    if let Some(reason) = bad {
        let err = Error::Corrupt(format!(
            "checkpoint {} is corrupt at byte {off}: {reason}",
            path.display()
        ));
        tracing::warn!(error = %err, "head checkpoint damaged; series after the damage are lost");
        rep.corruptions.push(err);
    }
    Ok((seg, rep))
}

/// Writes a checkpoint covering every segment below `seg`: records go to a temporary file
/// that is fsynced and renamed into place, after which older checkpoints are deleted.
pub(crate) struct CheckpointWriter {
    dir: PathBuf,
    seg: u64,
    tmp: PathBuf,
    file: File,
    buf: Vec<u8>,
    pub(crate) bytes: u64,
}

impl CheckpointWriter {
    pub(crate) fn create(dir: &Path, seg: u64) -> Result<Self> {
        let tmp = dir.join(format!("checkpoint.{seg:08}.tmp"));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(CheckpointWriter {
            dir: dir.to_path_buf(),
            seg,
            tmp,
            file,
            buf: Vec::with_capacity(1 << 20),
            bytes: 0,
        })
    }

    pub(crate) fn add_mark(&mut self, m: crate::headchunks::Mark) {
        encode_head_chunks_mark(&mut self.buf, m);
    }

    pub(crate) fn add(&mut self, s: &SeriesSnapshot) -> Result<()> {
        encode_state(&mut self.buf, s);
        if self.buf.len() >= 1 << 20 {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<()> {
        self.file
            .write_all(&self.buf)
            .map_err(|e| Error::io(&self.tmp, e))?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Makes the checkpoint durable and current.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.write_out()?;
        self.file.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        let path = checkpoint_path(&self.dir, self.seg);
        fs::rename(&self.tmp, &path).map_err(|e| Error::io(&path, e))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        for old in list_checkpoints(&self.dir)? {
            if old < self.seg {
                let p = checkpoint_path(&self.dir, old);
                fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
        Ok(self.bytes)
    }
}

/// The writer side.
pub(crate) struct Wal {
    dir: PathBuf,
    seg: u64,
    /// Shared with the background syncer, which fsyncs it outside the WAL's lock.
    file: Arc<File>,
    size: u64,
    max_segment_bytes: u64,
    policy: FsyncPolicy,
    dirty: bool,
    /// Segments closed by rotation whose fsync is left to the background syncer.
    unsynced: Vec<Arc<File>>,
    pub(crate) buf: Vec<u8>,
    /// Whether series and sample records are written snappy-compressed.
    pub(crate) compress: bool,
    pub(crate) fsyncs: u64,
    pub(crate) bytes_written: u64,
}

impl Wal {
    /// Opens a new segment after the existing ones.
    pub(crate) fn open(dir: &Path, max_segment_bytes: u64, policy: FsyncPolicy) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let next = list_segments(dir)?.last().map_or(1, |n| n + 1);
        let file = Arc::new(create_segment(dir, next)?);
        Ok(Wal {
            dir: dir.to_path_buf(),
            seg: next,
            file,
            size: 0,
            max_segment_bytes,
            policy,
            dirty: false,
            unsynced: Vec::new(),
            buf: Vec::with_capacity(64 << 10),
            compress: true,
            fsyncs: 0,
            bytes_written: 0,
        })
    }

    /// Writes `self.buf` (whole records) and clears it; fsyncs per policy.
    pub(crate) fn write_buf(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.size > 0 && self.size + self.buf.len() as u64 > self.max_segment_bytes {
            self.rotate()?;
        }
        let path = segment_path(&self.dir, self.seg);
        (&*self.file)
            .write_all(&self.buf)
            .map_err(|e| Error::io(&path, e))?;
        self.size += self.buf.len() as u64;
        self.bytes_written += self.buf.len() as u64;
        self.buf.clear();
        self.dirty = true;
        if self.policy == FsyncPolicy::Always {
            self.sync()?;
        }
        Ok(())
    }

    /// fsyncs the segments rotated out since the last fsync, and the current one if anything
    /// was written to it since.
    pub(crate) fn sync(&mut self) -> Result<()> {
        for f in std::mem::take(&mut self.unsynced) {
            f.sync_data().map_err(|e| Error::io(&self.dir, e))?;
            self.fsyncs += 1;
        }
        if self.dirty {
            let path = segment_path(&self.dir, self.seg);
            self.file.sync_data().map_err(|e| Error::io(&path, e))?;
            self.fsyncs += 1;
            self.dirty = false;
        }
        Ok(())
    }

    /// The files the background syncer must fsync now (counted as done); the caller fsyncs
    /// them after releasing the WAL's lock, so commits never wait for the disk.
    pub(crate) fn take_sync_job(&mut self) -> Vec<Arc<File>> {
        let mut files = std::mem::take(&mut self.unsynced);
        if self.dirty {
            files.push(self.file.clone());
            self.dirty = false;
        }
        self.fsyncs += files.len() as u64;
        files
    }

    /// Closes the current segment and starts the next; returns the new number. The closed
    /// segment is fsynced now, or by the background syncer under the interval policy.
    pub(crate) fn rotate(&mut self) -> Result<u64> {
        if matches!(self.policy, FsyncPolicy::Interval(_)) {
            if self.dirty {
                self.unsynced.push(self.file.clone());
                self.dirty = false;
            }
        } else {
            self.sync()?;
        }
        self.seg += 1;
        self.file = Arc::new(create_segment(&self.dir, self.seg)?);
        self.size = 0;
        Ok(self.seg)
    }

    /// Deletes segments numbered below `seg`, except those from `hold` on that were last
    /// written less than `max_age` ago (a reader still needs them).
    pub(crate) fn remove_before(&self, seg: u64, hold: u64, max_age: Duration) -> Result<usize> {
        let mut n = 0;
        for s in list_segments(&self.dir)? {
            if s < seg {
                if s >= hold {
                    let p = segment_path(&self.dir, s);
                    let young = fs::metadata(&p)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age < max_age);
                    if young {
                        continue;
                    }
                }
                let p = segment_path(&self.dir, s);
                fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn create_segment(dir: &Path, n: u64) -> Result<File> {
    let p = segment_path(dir, n);
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(|e| Error::io(&p, e))?;
    // Make the new directory entry durable too.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(f)
}

/// Bytes used by the files under `p` (recursively).
pub(crate) fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_value() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    fn write_some(dir: &Path, n: u64) {
        let mut w = Wal::open(dir, 1 << 20, FsyncPolicy::Never).unwrap();
        let l = Labels::from_pairs([("__name__", "x")]);
        encode_series(&mut w.buf, &[(1, &l)], true);
        w.write_buf().unwrap();
        for i in 0..n {
            encode_samples(
                &mut w.buf,
                &[
                    (1, i as i64 * 10, (i as f64).to_bits()),
                    (1, i as i64 * 10 + 1, 0),
                ],
                i % 2 == 0,
            );
            w.write_buf().unwrap();
        }
        let m = Matcher::new(MatchOp::RegexMatch, "a", "b.*").unwrap();
        encode_tombstone(
            &mut w.buf,
            &Tombstone {
                seq: 3,
                min_t: -5,
                max_t: 9,
                matchers: vec![m],
            },
        );
        w.write_buf().unwrap();
    }

    #[test]
    fn write_replay_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_some(dir.path(), 100);
        let seg = segment_path(dir.path(), 1);
        let full = fs::metadata(&seg).unwrap().len();
        let (mut series, mut samples, mut tombs) = (0, 0, 0);
        let rep = replay(dir.path(), 0, |r| {
            match r {
                Record::Series(v) => series += v.len(),
                Record::Samples(v) => samples += v.len(),
                Record::Tombstone(t) => {
                    assert_eq!((t.seq, t.min_t, t.max_t), (3, -5, 9));
                    tombs += 1
                }
                Record::State(_) | Record::HeadChunksMark(_) | Record::Histograms(_) => {
                    panic!("no checkpoint or histogram records in segments")
                }
            }
            Ok(())
        })
        .unwrap();
        assert_eq!((series, samples, tombs), (1, 200, 1));
        assert!(rep.corruptions.is_empty());
        // Tear the file in the middle of a record.
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(full - 3).unwrap();
        let mut samples = 0;
        let rep = replay(dir.path(), 0, |r| {
            if let Record::Samples(v) = r {
                samples += v.len();
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(samples, 200);
        assert_eq!(rep.corruptions.len(), 1);
        let msg = rep.corruptions[0].to_string();
        assert!(msg.contains("segment 1") && msg.contains("byte"), "{msg}");
        // Truncated to the last good record: a second replay is clean.
        let rep = replay(dir.path(), 0, |_| Ok(())).unwrap();
        assert!(rep.corruptions.is_empty());
    }

    #[test]
    fn compressed_records_round_trip_beside_plain_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Wal::open(dir.path(), 1 << 20, FsyncPolicy::Never).unwrap();
        // A scrape-like batch: consecutive ids, one timestamp, counter values.
        let batch: Vec<(u64, TimestampMs, u64)> = (0..1000u64)
            .map(|i| (i, 1_700_000_000_000, ((i * 37) as f64).to_bits()))
            .collect();
        encode_samples(&mut w.buf, &batch, false);
        let plain_len = w.buf.len();
        encode_samples(&mut w.buf, &batch, true);
        let compressed_len = w.buf.len() - plain_len;
        assert!(
            compressed_len * 2 < plain_len,
            "compressed {compressed_len} bytes vs plain {plain_len}"
        );
        w.write_buf().unwrap();
        let mut got = Vec::new();
        let rep = replay(dir.path(), 0, |r| {
            if let Record::Samples(v) = r {
                got.push(v);
            }
            Ok(())
        })
        .unwrap();
        assert!(rep.corruptions.is_empty());
        assert_eq!(got.len(), 2);
        for v in got {
            let want: Vec<(u64, TimestampMs, f64)> = batch
                .iter()
                .map(|&(id, t, b)| (id, t, f64::from_bits(b)))
                .collect();
            assert_eq!(v, want);
        }
    }

    #[test]
    fn corrupt_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        write_some(dir.path(), 10);
        let seg = segment_path(dir.path(), 1);
        let mut data = fs::read(&seg).unwrap();
        let mid = data.len() / 2;
        data[mid] ^= 0x40;
        fs::write(&seg, &data).unwrap();
        let mut samples = 0;
        let rep = replay(dir.path(), 0, |r| {
            if let Record::Samples(v) = r {
                samples += v.len();
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(rep.corruptions.len(), 1);
        assert!(
            (8..20).contains(&samples),
            "kept the records before the flipped byte: {samples}"
        );
    }

    #[test]
    fn segments_rotate_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Wal::open(dir.path(), 200, FsyncPolicy::Always).unwrap();
        for i in 0..50 {
            encode_samples(&mut w.buf, &[(7, i, 0)], i % 2 == 0);
            w.write_buf().unwrap();
        }
        let segs = list_segments(dir.path()).unwrap();
        assert!(segs.len() > 3, "{segs:?}");
        assert!(w.fsyncs > 0);
        let cur = w.rotate().unwrap();
        w.remove_before(cur, u64::MAX, Duration::ZERO).unwrap();
        assert_eq!(list_segments(dir.path()).unwrap(), vec![cur]);
    }
}
