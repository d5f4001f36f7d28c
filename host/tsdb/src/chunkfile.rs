//! Chunk files: the chunk bytes of a sealed partition, written once, read by offset.
//!
//! sled is a fine index but a poor home for hundreds of millions of small immutable values:
//! its log-structured pages stored chunk data at about 2.5× its size. A sealed partition
//! (compaction, import, snapshot) therefore keeps its series, postings and a per-series
//! chunk index in its sled tree and the chunk bytes in `chunks/<gen>`, one flat file per
//! partition, as Prometheus keeps a block's chunks beside its index. The layout is in
//! `docs/format.md`.
//!
//! Crash ordering: the file is written as `<gen>.tmp`, fsynced, renamed and the directory
//! fsynced before the partition is published in sled; a file no published partition names
//! is a leftover and is deleted on open.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use sightline_model::TimestampMs;

use crate::enc::{put_uvarint, put_varint, Dec};
use crate::error::{Error, Result};
use crate::wal::crc32c;

/// First bytes of every chunk file.
pub(crate) const MAGIC: &[u8; 8] = b"SLCHUNK1";
/// Bytes of the CRC-32C after each chunk.
const CRC: usize = 4;

/// The file name of partition generation `gen`.
pub(crate) fn file_name(gen: u64) -> String {
    format!("{gen:016x}")
}

/// The generation a chunk file name stands for (`None` for other names).
pub(crate) fn gen_of(name: &str) -> Option<u64> {
    (name.len() == 16)
        .then(|| u64::from_str_radix(name, 16).ok())
        .flatten()
}

/// An open, immutable chunk file.
#[derive(Debug)]
pub(crate) struct ChunkFile {
    pub(crate) path: PathBuf,
    file: File,
    pub(crate) len: u64,
}

impl ChunkFile {
    /// Opens and checks the magic of an existing chunk file.
    pub(crate) fn open(path: PathBuf) -> Result<ChunkFile> {
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        let cf = ChunkFile { path, file, len };
        let mut magic = [0u8; 8];
        if len < MAGIC.len() as u64 {
            return Err(Error::Corrupt(format!(
                "{}: shorter than its header",
                cf.path.display()
            )));
        }
        cf.read_exact_at(&mut magic, 0)?;
        if &magic != MAGIC {
            return Err(Error::Corrupt(format!(
                "{}: not a chunk file (bad magic)",
                cf.path.display()
            )));
        }
        Ok(cf)
    }

    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> Result<()> {
        read_exact_at(&self.file, buf, off).map_err(|e| Error::io(&self.path, e))
    }

    /// Reads the chunks `refs` (consecutive in the file) with one read; a chunk whose
    /// checksum does not match is reported with its offset and left out.
    pub(crate) fn read_run(&self, refs: &[ChunkRef]) -> Result<Vec<(ChunkRef, Vec<u8>)>> {
        let (Some(first), Some(last)) = (refs.first(), refs.last()) else {
            return Ok(Vec::new());
        };
        let end = last.offset.saturating_add(u64::from(last.len) + CRC as u64);
        if end > self.len || first.offset > end {
            return Err(Error::Corrupt(format!(
                "{}: chunk index points past the end of the file ({end} > {})",
                self.path.display(),
                self.len
            )));
        }
        let mut buf = vec![0u8; (end - first.offset) as usize];
        self.read_exact_at(&mut buf, first.offset)?;
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

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
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

/// Where one chunk lives in a chunk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) min_t: TimestampMs,
    pub(crate) max_t: TimestampMs,
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

/// Encodes the chunk index of one series: `uvarint(offset of its first chunk)`,
/// `uvarint(n)`, then per chunk `varint(min_t − previous)` (previous: the partition's
/// min_t, then the last chunk's max_t), `uvarint(max_t − min_t)`, `uvarint(len)`. The
/// series' chunks are consecutive in the file, each followed by its CRC-32C.
pub(crate) fn encode_index(part_min_t: TimestampMs, refs: &[ChunkRef]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + refs.len() * 6);
    put_uvarint(&mut v, refs.first().map_or(0, |r| r.offset));
    put_uvarint(&mut v, refs.len() as u64);
    let mut prev = part_min_t;
    for r in refs {
        put_varint(&mut v, r.min_t.wrapping_sub(prev));
        put_uvarint(&mut v, r.max_t.wrapping_sub(r.min_t) as u64);
        put_uvarint(&mut v, u64::from(r.len));
        prev = r.max_t;
    }
    v
}

/// Decodes [`encode_index`].
pub(crate) fn decode_index(part_min_t: TimestampMs, b: &[u8]) -> Result<Vec<ChunkRef>> {
    let mut d = Dec::new(b);
    let mut offset = d.uvarint()?;
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
            offset,
            len,
        });
        offset += u64::from(len) + CRC as u64;
        prev = max_t;
    }
    Ok(out)
}

/// Writes a chunk file as `<dir>/<gen>.tmp`, then fsyncs, renames and fsyncs `dir`.
pub(crate) struct ChunkFileWriter {
    dir: PathBuf,
    tmp: PathBuf,
    final_path: PathBuf,
    out: std::io::BufWriter<File>,
    offset: u64,
}

impl ChunkFileWriter {
    pub(crate) fn create(dir: &Path, gen: u64) -> Result<ChunkFileWriter> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let final_path = dir.join(file_name(gen));
        let tmp = dir.join(format!("{}.tmp", file_name(gen)));
        let f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = ChunkFileWriter {
            dir: dir.to_path_buf(),
            tmp,
            final_path,
            out: std::io::BufWriter::with_capacity(1 << 20, f),
            offset: 0,
        };
        w.write(MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b).map_err(|e| Error::io(&self.tmp, e))?;
        self.offset += b.len() as u64;
        Ok(())
    }

    /// Appends one chunk; returns its offset.
    pub(crate) fn add(&mut self, chunk: &[u8]) -> Result<u64> {
        let at = self.offset;
        self.write(chunk)?;
        self.write(&crc32c(chunk).to_le_bytes())?;
        Ok(at)
    }

    /// Makes the file durable under its final name and opens it for reading.
    pub(crate) fn finish(self) -> Result<ChunkFile> {
        let ChunkFileWriter {
            dir,
            tmp,
            final_path,
            out,
            ..
        } = self;
        let f = out
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &final_path).map_err(|e| Error::io(&final_path, e))?;
        sync_dir(&dir)?;
        ChunkFile::open(final_path)
    }

    /// Removes the unfinished file (on error).
    pub(crate) fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
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

    #[test]
    fn index_roundtrips() {
        let refs = vec![
            ChunkRef {
                min_t: -5,
                max_t: 100,
                offset: 8,
                len: 30,
            },
            ChunkRef {
                min_t: 115,
                max_t: 1_000_000,
                offset: 42,
                len: 1,
            },
        ];
        assert_eq!(decode_index(-10, &encode_index(-10, &refs)).unwrap(), refs);
        assert!(decode_index(0, &[]).is_err());
        assert_eq!(gen_of(&file_name(0xabc)), Some(0xabc));
        assert_eq!(gen_of("0000000000000abc.tmp"), None);
    }

    #[test]
    fn written_chunks_read_back_and_corruption_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkFileWriter::create(dir.path(), 7).unwrap();
        let a = w.add(b"first chunk").unwrap();
        let b = w.add(b"second").unwrap();
        let f = w.finish().unwrap();
        let refs = [
            ChunkRef {
                min_t: 0,
                max_t: 1,
                offset: a,
                len: 11,
            },
            ChunkRef {
                min_t: 2,
                max_t: 3,
                offset: b,
                len: 6,
            },
        ];
        let got = f.read_run(&refs).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, b"second");
        // Flip a byte of the first chunk: it is skipped, the second still reads.
        let path = dir.path().join(file_name(7));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[a as usize] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let f = ChunkFile::open(path.clone()).unwrap();
        let got = f.read_run(&refs).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, refs[1]);
        // An index pointing past the end is an error, not a panic.
        let far = [ChunkRef {
            offset: 1 << 40,
            ..refs[0]
        }];
        assert!(f.read_run(&far).is_err());
        std::fs::write(&path, b"garbage!").unwrap();
        assert!(ChunkFile::open(path).is_err());
    }
}
