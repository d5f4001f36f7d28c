//! Partition files: a sealed partition (compaction, import, snapshot) as one immutable file
//! holding its chunks and its index, as a Prometheus block holds chunks and index.
//!
//! Why not sled: sled is a fine home for data that changes (the partition registry, head
//! partitions that grow while they are written) but a poor one for immutable bulk data.
//! Measured on the benchmark workload, sled stored chunk bytes at ≈ 2.5× their size, and
//! the index of 2 hours of 10,000 series took 8.9 MB of sled against 0.9 MB in this format,
//! which stores chunks as they are and deduplicates label strings into a symbol table.
//!
//! On open only the symbol table and two offset tables are read into memory (checksummed);
//! series records, postings lists and chunks are read by offset when a query needs them,
//! each checked against its own CRC-32C. The byte layout is in `docs/format.md`.
//!
//! Crash ordering: the file is written as `<gen>.tmp`, fsynced, renamed and its directory
//! fsynced before the partition is published in sled; a file no published partition names
//! is a leftover and is deleted on open.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use sightline_model::{ArcStr, Label, Labels, TimestampMs};

use crate::chunk::ChunkTuple;
use crate::enc::{put_str, put_uvarint, put_varint, Dec};
use crate::error::{Error, Result};
use crate::postings::{List, PostingsSource};
use crate::wal::crc32c;

/// First bytes of every partition file.
pub(crate) const MAGIC: &[u8; 8] = b"SLPART01";
/// Bytes of a CRC-32C.
const CRC: usize = 4;
/// Footer: five u64 section offsets, the series count (u64), three CRC-32Cs (symbols,
/// tables, footer), all little-endian.
const FOOTER: usize = 6 * 8 + 3 * 4;
/// Series records spanning at most this many bytes are read with one read.
const SPAN_READ: u64 = 8 << 20;

/// The file name of partition generation `gen`.
pub(crate) fn file_name(gen: u64) -> String {
    format!("{gen:016x}")
}

/// The generation a partition file name stands for (`None` for other names).
pub(crate) fn gen_of(name: &str) -> Option<u64> {
    (name.len() == 16)
        .then(|| u64::from_str_radix(name, 16).ok())
        .flatten()
}

/// Where one chunk lives in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

/// One series record: its labels and chunk references.
pub(crate) struct SeriesRecord {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<ChunkRef>,
}

/// An open partition file with its symbol table and offset tables in memory.
#[derive(Debug)]
pub(crate) struct PartFile {
    pub(crate) path: PathBuf,
    file: File,
    pub(crate) len: u64,
    min_t: TimestampMs,
    /// Decoded once when the file is opened; series records' labels share these strings.
    symbols: Vec<ArcStr>,
    /// (name symbol, value symbol, offset of the postings list), in label order.
    pairs: Vec<(u32, u32, u64)>,
    /// Offset of series record `id` at `series[id - 1]`; the last entry is the end.
    series: Vec<u64>,
    /// End of the last postings list.
    postings_end: u64,
}

impl PartFile {
    /// Opens a partition file whose partition starts at `min_t`, reading and checking its
    /// footer, symbol table and offset tables.
    pub(crate) fn open(path: PathBuf, min_t: TimestampMs) -> Result<PartFile> {
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        let corrupt = |what: &str| Error::Corrupt(format!("{}: {what}", path.display()));
        if len < (MAGIC.len() + FOOTER) as u64 {
            return Err(corrupt("shorter than header and footer"));
        }
        let mut magic = [0u8; 8];
        read_exact_at(&file, &mut magic, 0).map_err(|e| Error::io(&path, e))?;
        if &magic != MAGIC {
            return Err(corrupt("not a partition file (bad magic)"));
        }
        let mut footer = [0u8; FOOTER];
        read_exact_at(&file, &mut footer, len - FOOTER as u64).map_err(|e| Error::io(&path, e))?;
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&footer[i * 8..i * 8 + 8]);
            u64::from_le_bytes(a)
        };
        let u32_at = |at: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&footer[at..at + 4]);
            u32::from_le_bytes(a)
        };
        if crc32c(&footer[..FOOTER - CRC]) != u32_at(FOOTER - CRC) {
            return Err(corrupt("footer checksum mismatch"));
        }
        let [sym_off, series_off, post_off, ptable_off, stable_off, n_series] =
            [0, 1, 2, 3, 4, 5].map(u64_at);
        let end = len - FOOTER as u64;
        if !(MAGIC.len() as u64 <= sym_off
            && sym_off <= series_off
            && series_off <= post_off
            && post_off <= ptable_off
            && ptable_off <= stable_off
            && stable_off <= end)
        {
            return Err(corrupt("footer offsets out of order"));
        }
        let read = |from: u64, to: u64| -> Result<Vec<u8>> {
            let mut b = vec![0u8; (to - from) as usize];
            read_exact_at(&file, &mut b, from).map_err(|e| Error::io(&path, e))?;
            Ok(b)
        };
        let sym_bytes = read(sym_off, series_off)?;
        if crc32c(&sym_bytes) != u32_at(48) {
            return Err(corrupt("symbol table checksum mismatch"));
        }
        let tables = read(ptable_off, end)?;
        if crc32c(&tables) != u32_at(52) {
            return Err(corrupt("offset tables checksum mismatch"));
        }
        let at = |e: Error, section: u64| corrupt(&format!("{e} (section at byte {section})"));
        let mut d = Dec::new(&sym_bytes);
        let n = d.uvarint().map_err(|e| at(e, sym_off))? as usize;
        let mut symbols: Vec<ArcStr> = Vec::with_capacity(n.min(sym_bytes.len()));
        for _ in 0..n {
            symbols.push(ArcStr::from(d.str().map_err(|e| at(e, sym_off))?));
        }
        let mut d = Dec::new(&tables);
        let n = d.uvarint().map_err(|e| at(e, ptable_off))? as usize;
        let mut pairs = Vec::with_capacity(n.min(tables.len()));
        let mut off = post_off;
        for _ in 0..n {
            let name = d.uvarint().map_err(|e| at(e, ptable_off))?;
            let value = d.uvarint().map_err(|e| at(e, ptable_off))?;
            off = off.saturating_add(d.uvarint().map_err(|e| at(e, ptable_off))?);
            if name >= symbols.len() as u64 || value >= symbols.len() as u64 || off > ptable_off {
                return Err(corrupt("postings table entry out of range"));
            }
            pairs.push((name as u32, value as u32, off));
        }
        let mut series = Vec::with_capacity((n_series as usize).min(tables.len()) + 1);
        let mut off = series_off;
        for _ in 0..n_series {
            off = off.saturating_add(d.uvarint().map_err(|e| at(e, stable_off))?);
            if off > post_off {
                return Err(corrupt("series table entry out of range"));
            }
            series.push(off);
        }
        series.push(post_off);
        Ok(PartFile {
            path,
            file,
            len,
            min_t,
            symbols,
            pairs,
            series,
            postings_end: ptable_off,
        })
    }

    fn read_at(&self, from: u64, to: u64) -> Result<Vec<u8>> {
        if to < from || to > self.len {
            return Err(Error::Corrupt(format!(
                "{}: read [{from}, {to}) outside the file",
                self.path.display()
            )));
        }
        let mut b = vec![0u8; (to - from) as usize];
        read_exact_at(&self.file, &mut b, from).map_err(|e| Error::io(&self.path, e))?;
        Ok(b)
    }

    /// Number of series.
    pub(crate) fn num_series(&self) -> u64 {
        self.series.len() as u64 - 1
    }

    fn symbol(&self, s: u64) -> Result<&ArcStr> {
        self.symbols.get(s as usize).ok_or_else(|| {
            Error::Corrupt(format!("{}: symbol {s} out of range", self.path.display()))
        })
    }

    fn find_symbol(&self, s: &str) -> Option<u32> {
        self.symbols
            .binary_search_by(|x| (**x).cmp(s))
            .ok()
            .map(|i| i as u32)
    }

    /// Range of `pairs` whose name is `name`.
    fn name_range(&self, name: &str) -> std::ops::Range<usize> {
        let Some(n) = self.find_symbol(name) else {
            return 0..0;
        };
        let lo = self.pairs.partition_point(|p| p.0 < n);
        let hi = lo + self.pairs[lo..].partition_point(|p| p.0 == n);
        lo..hi
    }

    /// Label names, sorted.
    pub(crate) fn label_names(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let mut last = u32::MAX;
        for p in &self.pairs {
            if p.0 != last {
                out.push(self.symbol(u64::from(p.0))?.to_string());
                last = p.0;
            }
        }
        Ok(out)
    }

    /// Reads the checksummed record in `[from, to)` (payload then CRC-32C).
    fn record(&self, from: u64, to: u64) -> Result<Vec<u8>> {
        let mut b = self.read_at(from, to)?;
        self.check_record(&mut b, from)?;
        Ok(b)
    }

    fn check_record(&self, b: &mut Vec<u8>, at: u64) -> Result<()> {
        if b.len() < CRC {
            return Err(Error::Corrupt(format!(
                "{}: record at byte {at} shorter than its checksum",
                self.path.display()
            )));
        }
        let body = b.len() - CRC;
        if crc32c(&b[..body]).to_le_bytes() != b[body..] {
            return Err(Error::Corrupt(format!(
                "{}: record at byte {at}: checksum mismatch",
                self.path.display()
            )));
        }
        b.truncate(body);
        Ok(())
    }

    fn decode_series(&self, b: &[u8]) -> Result<SeriesRecord> {
        let mut d = Dec::new(b);
        let n = d.uvarint()? as usize;
        if n > 10_000 {
            return Err(Error::Corrupt("implausible label count".into()));
        }
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.symbol(d.uvarint()?)?;
            let value = self.symbol(d.uvarint()?)?;
            // The same invariants the WAL decoder checks: names sorted and unique, values set.
            if value.is_empty() || labels.last().is_some_and(|l: &Label| *l.name >= **name) {
                return Err(Error::Corrupt("labels not sorted or empty value".into()));
            }
            labels.push(Label {
                name: name.clone(),
                value: value.clone(),
            });
        }
        let chunks = decode_index(self.min_t, &mut d)?;
        Ok(SeriesRecord {
            labels: Labels::from_sorted_unchecked(labels),
            chunks,
        })
    }

    /// Series records of `ids` (sorted), read in one go when they lie close together. A
    /// damaged record is reported and left out.
    pub(crate) fn series(&self, ids: &[u64]) -> Result<Vec<(u64, SeriesRecord)>> {
        let bounds = |id: u64| -> Option<(u64, u64)> {
            let i = usize::try_from(id.checked_sub(1)?).ok()?;
            Some((*self.series.get(i)?, *self.series.get(i + 1)?))
        };
        let valid: Vec<(u64, u64, u64)> = ids
            .iter()
            .filter_map(|&id| bounds(id).map(|(a, b)| (id, a, b)))
            .collect();
        let (Some(first), Some(last)) = (valid.first(), valid.last()) else {
            return Ok(Vec::new());
        };
        let span = if last.2.saturating_sub(first.1) <= SPAN_READ {
            Some((first.1, self.read_at(first.1, last.2)?))
        } else {
            None
        };
        let mut out = Vec::with_capacity(valid.len());
        for (id, from, to) in valid {
            let res = match &span {
                Some((base, bytes)) => {
                    let mut b = bytes[(from - base) as usize..(to - base) as usize].to_vec();
                    self.check_record(&mut b, from).map(|()| b)
                }
                None => self.record(from, to),
            }
            .and_then(|b| self.decode_series(&b));
            match res {
                Ok(r) => out.push((id, r)),
                Err(e) => {
                    tracing::warn!(series = id, error = %e, "skipping damaged series record");
                }
            }
        }
        Ok(out)
    }

    /// Reads chunks (consecutive in the file) with one read; a chunk whose checksum does
    /// not match is reported with its offset and left out.
    pub(crate) fn chunks(&self, refs: &[ChunkRef]) -> Result<Vec<(ChunkRef, Vec<u8>)>> {
        let (Some(first), Some(last)) = (refs.first(), refs.last()) else {
            return Ok(Vec::new());
        };
        let end = last.offset.saturating_add(u64::from(last.len) + CRC as u64);
        let buf = self.read_at(first.offset, end)?;
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let at = (r.offset - first.offset) as usize;
            let data = &buf[at..at + r.len as usize];
            let crc = &buf[at + r.len as usize..at + r.len as usize + CRC];
            if crc32c(data).to_le_bytes() != crc {
                tracing::warn!(
                    file = %self.path.display(),
                    offset = r.offset,
                    "skipping chunk with a checksum mismatch"
                );
                continue;
            }
            out.push((*r, data.to_vec()));
        }
        Ok(out)
    }
}

impl PostingsSource for PartFile {
    fn postings(&self, name: &str, value: &str) -> Result<List<'_>> {
        let r = self.name_range(name);
        let Some(v) = self.find_symbol(value) else {
            return Ok(Cow::Owned(Vec::new()));
        };
        let Ok(i) = self.pairs[r.clone()].binary_search_by(|p| p.1.cmp(&v)) else {
            return Ok(Cow::Owned(Vec::new()));
        };
        // Lists are stored in table order: one ends where the next starts.
        let i = r.start + i;
        let from = self.pairs[i].2;
        let to = self.pairs.get(i + 1).map_or(self.postings_end, |p| p.2);
        let b = self.record(from, to)?;
        let mut d = Dec::new(&b);
        let n = d.uvarint()? as usize;
        let mut out = Vec::with_capacity(n.min(b.len()));
        let mut prev = 0u64;
        for _ in 0..n {
            prev = prev.wrapping_add(d.uvarint()?);
            out.push(prev);
        }
        Ok(Cow::Owned(out))
    }

    fn values_with_prefix(&self, name: &str, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for p in &self.pairs[self.name_range(name)] {
            let v = self.symbol(u64::from(p.1))?;
            if v.starts_with(prefix) {
                out.push(v.to_string());
            }
        }
        Ok(out)
    }

    fn all(&self) -> Result<List<'_>> {
        Ok(Cow::Owned((1..=self.num_series()).collect()))
    }
}

#[cfg(unix)]
pub(crate) fn read_exact_at(f: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(f: &File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, off)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                off += n as u64;
            }
        }
    }
    Ok(())
}

/// Encodes a series' chunk references: `uvarint(n)`, then per chunk `varint(min_t −
/// previous)` (previous: the partition's min_t, then the last chunk's max_t),
/// `uvarint(max_t − min_t)`, `uvarint(len)`; the first chunk's offset follows as
/// `uvarint` when n > 0 (the chunks are consecutive, each followed by its CRC-32C).
fn encode_index(buf: &mut Vec<u8>, part_min_t: TimestampMs, refs: &[ChunkRef]) {
    put_uvarint(buf, refs.len() as u64);
    let mut prev = part_min_t;
    for r in refs {
        put_varint(buf, r.min_t.wrapping_sub(prev));
        put_uvarint(buf, r.max_t.wrapping_sub(r.min_t) as u64);
        put_uvarint(buf, u64::from(r.len));
        prev = r.max_t;
    }
    if let Some(r) = refs.first() {
        put_uvarint(buf, r.offset);
    }
}

fn decode_index(part_min_t: TimestampMs, d: &mut Dec<'_>) -> Result<Vec<ChunkRef>> {
    let n = d.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let mut prev = part_min_t;
    for _ in 0..n {
        let min_t = prev.wrapping_add(d.varint()?);
        let max_t = min_t.wrapping_add(d.uvarint()? as i64);
        let len = u32::try_from(d.uvarint()?)
            .map_err(|_| Error::Corrupt("chunk length over 4 GiB".into()))?;
        out.push(ChunkRef {
            min_t,
            max_t,
            offset: 0,
            len,
        });
        prev = max_t;
    }
    if n > 0 {
        let mut offset = d.uvarint()?;
        for r in &mut out {
            r.offset = offset;
            offset = offset.saturating_add(u64::from(r.len) + CRC as u64);
        }
    }
    Ok(out)
}

/// A series to write: labels and chunks `(min_t, max_t, bytes)` in time order.
pub(crate) struct SeriesWrite<'a> {
    pub(crate) labels: &'a Labels,
    pub(crate) chunks: &'a [ChunkTuple],
}

/// Writes a partition file for `[min_t, ..)` with `series` (ids 1..=n in the given order)
/// as `<dir>/<gen>.tmp`, fsyncs it, renames it to `<dir>/<gen>`, fsyncs `dir` and opens it.
pub(crate) fn write(
    dir: &Path,
    gen: u64,
    min_t: TimestampMs,
    series: &[SeriesWrite<'_>],
) -> Result<PartFile> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let final_path = dir.join(file_name(gen));
    let tmp = dir.join(format!("{}.tmp", file_name(gen)));
    let res = write_tmp(&tmp, min_t, series).and_then(|()| {
        std::fs::rename(&tmp, &final_path).map_err(|e| Error::io(&final_path, e))?;
        sync_dir(dir)
    });
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    PartFile::open(final_path, min_t)
}

struct Out {
    w: std::io::BufWriter<File>,
    path: PathBuf,
    at: u64,
}

impl Out {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(|e| Error::io(&self.path, e))?;
        self.at += b.len() as u64;
        Ok(())
    }

    /// Writes `b` followed by its CRC-32C.
    fn record(&mut self, b: &[u8]) -> Result<()> {
        self.put(b)?;
        self.put(&crc32c(b).to_le_bytes())
    }
}

fn write_tmp(tmp: &Path, min_t: TimestampMs, series: &[SeriesWrite<'_>]) -> Result<()> {
    let f = File::create(tmp).map_err(|e| Error::io(tmp, e))?;
    let mut o = Out {
        w: std::io::BufWriter::with_capacity(1 << 20, f),
        path: tmp.to_path_buf(),
        at: 0,
    };
    o.put(MAGIC)?;
    // Chunks.
    let mut refs: Vec<Vec<ChunkRef>> = Vec::with_capacity(series.len());
    for s in series {
        let mut r = Vec::with_capacity(s.chunks.len());
        for (c_min, c_max, data) in s.chunks {
            let len = u32::try_from(data.len())
                .map_err(|_| Error::InvalidArgument("chunk over 4 GiB".into()))?;
            r.push(ChunkRef {
                min_t: *c_min,
                max_t: *c_max,
                offset: o.at,
                len,
            });
            o.record(data)?;
        }
        refs.push(r);
    }
    // Symbols: every label name and value, sorted, deduplicated.
    let mut set: BTreeSet<&str> = BTreeSet::new();
    for s in series {
        for l in s.labels {
            set.insert(&l.name);
            set.insert(&l.value);
        }
    }
    let sym: HashMap<&str, u64> = set
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u64))
        .collect();
    let sym_off = o.at;
    let mut b = Vec::new();
    put_uvarint(&mut b, set.len() as u64);
    for s in &set {
        put_str(&mut b, s);
    }
    let crc_symbols = crc32c(&b);
    o.put(&b)?;
    // Series records.
    let series_off = o.at;
    let mut series_offsets = Vec::with_capacity(series.len());
    let mut postings: BTreeMap<(&str, &str), Vec<u64>> = BTreeMap::new();
    for (i, (s, r)) in series.iter().zip(&refs).enumerate() {
        let id = i as u64 + 1;
        series_offsets.push(o.at);
        b.clear();
        put_uvarint(&mut b, s.labels.len() as u64);
        for l in s.labels {
            put_uvarint(&mut b, sym[l.name.as_str()]);
            put_uvarint(&mut b, sym[l.value.as_str()]);
            postings
                .entry((l.name.as_str(), l.value.as_str()))
                .or_default()
                .push(id);
        }
        encode_index(&mut b, min_t, r);
        o.record(&b)?;
    }
    // Postings lists, in label order.
    let post_off = o.at;
    let mut table = Vec::with_capacity(postings.len());
    for ((name, value), ids) in &postings {
        table.push((sym[name], sym[value], o.at));
        b.clear();
        put_uvarint(&mut b, ids.len() as u64);
        let mut prev = 0;
        for &id in ids {
            put_uvarint(&mut b, id - prev);
            prev = id;
        }
        o.record(&b)?;
    }
    // Offset tables.
    let ptable_off = o.at;
    b.clear();
    put_uvarint(&mut b, table.len() as u64);
    let mut prev = post_off;
    for (n, v, off) in &table {
        put_uvarint(&mut b, *n);
        put_uvarint(&mut b, *v);
        put_uvarint(&mut b, off - prev);
        prev = *off;
    }
    let stable_off = ptable_off + b.len() as u64;
    let mut prev = series_off;
    for off in &series_offsets {
        put_uvarint(&mut b, off - prev);
        prev = *off;
    }
    let crc_tables = crc32c(&b);
    o.put(&b)?;
    let mut footer = Vec::with_capacity(FOOTER);
    for v in [
        sym_off,
        series_off,
        post_off,
        ptable_off,
        stable_off,
        series.len() as u64,
    ] {
        footer.extend_from_slice(&v.to_le_bytes());
    }
    footer.extend_from_slice(&crc_symbols.to_le_bytes());
    footer.extend_from_slice(&crc_tables.to_le_bytes());
    footer.extend_from_slice(&crc32c(&footer).to_le_bytes());
    o.put(&footer)?;
    let f =
        o.w.into_inner()
            .map_err(|e| Error::io(tmp, e.into_error()))?;
    f.sync_all().map_err(|e| Error::io(tmp, e))?;
    Ok(())
}

/// fsyncs a directory so a rename or unlink in it is durable (no-op where unsupported).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn write_open_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let labels = [
            l(&[("__name__", "up"), ("job", "a")]),
            l(&[("__name__", "up"), ("job", "b")]),
            l(&[("__name__", "x"), ("job", "a"), ("le", "0.5")]),
        ];
        let c = |a: i64, b: i64, s: &str| (a, b, Arc::<[u8]>::from(s.as_bytes()));
        let chunks = [
            vec![c(1000, 2000, "one"), c(2500, 9000, "two")],
            vec![c(1000, 1000, "three")],
            vec![],
        ];
        let series: Vec<SeriesWrite<'_>> = labels
            .iter()
            .zip(&chunks)
            .map(|(labels, chunks)| SeriesWrite { labels, chunks })
            .collect();
        let f = write(dir.path(), 3, 1000, &series).unwrap();
        assert_eq!(f.num_series(), 3);
        assert_eq!(f.postings("job", "a").unwrap(), vec![1, 3]);
        assert_eq!(f.postings("__name__", "up").unwrap(), vec![1, 2]);
        assert_eq!(f.postings("job", "c").unwrap(), Vec::<u64>::new());
        assert_eq!(f.postings("nope", "a").unwrap(), Vec::<u64>::new());
        assert_eq!(f.values_with_prefix("job", "").unwrap(), ["a", "b"]);
        assert_eq!(f.values_with_prefix("__name__", "u").unwrap(), ["up"]);
        assert_eq!(f.label_names().unwrap(), ["__name__", "job", "le"]);
        let got = f.series(&[1, 3, 4]).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.labels, labels[0]);
        assert_eq!(got[1].1.labels, labels[2]);
        let refs = &got[0].1.chunks;
        assert_eq!((refs[0].min_t, refs[0].max_t), (1000, 2000));
        assert_eq!((refs[1].min_t, refs[1].max_t), (2500, 9000));
        let data = f.chunks(refs).unwrap();
        assert_eq!(data[0].1, b"one");
        assert_eq!(data[1].1, b"two");
        // Reopen: the same view.
        let g = PartFile::open(f.path.clone(), 1000).unwrap();
        assert_eq!(g.postings("job", "b").unwrap(), vec![2]);
        assert_eq!(gen_of(&file_name(3)), Some(3));
        assert_eq!(gen_of("0000000000000003.tmp"), None);
    }

    #[test]
    fn damage_is_detected_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<Labels> = (0..50)
            .map(|i| l(&[("__name__", "m"), ("i", &i.to_string())]))
            .collect();
        let chunks: Vec<Vec<ChunkTuple>> = (0..50)
            .map(|i| vec![(i, i + 1, Arc::from(vec![i as u8; 20]))])
            .collect();
        let series: Vec<SeriesWrite<'_>> = labels
            .iter()
            .zip(&chunks)
            .map(|(labels, chunks)| SeriesWrite { labels, chunks })
            .collect();
        let f = write(dir.path(), 1, 0, &series).unwrap();
        let path = f.path.clone();
        let good = std::fs::read(&path).unwrap();
        // Every single-byte flip either fails open with an error or yields reads that
        // return errors or skip the damaged part; none panics.
        for at in (0..good.len()).step_by(7) {
            let mut b = good.clone();
            b[at] ^= 0x41;
            std::fs::write(&path, &b).unwrap();
            let Ok(f) = PartFile::open(path.clone(), 0) else {
                continue;
            };
            let ids = f.all().unwrap();
            if let Ok(recs) = f.series(&ids) {
                for (_, r) in recs {
                    let _ = f.chunks(&r.chunks);
                }
            }
            let _ = f.postings("i", "7");
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(PartFile::open(path, 0).is_err());
    }
}
