//! Reading the WAL while it is written: the remote-write queues tail it, as Prometheus'
//! WAL watcher does, instead of keeping their own copy of every sample.
//!
//! A [`WalTail`] reads complete records from a [`WalPosition`] (a record boundary) onwards,
//! segment after segment. It never writes, never truncates and never takes the WAL's lock:
//! records are framed and checksummed, so a record that is still being written is simply
//! not complete yet. A segment is finished once a later one exists (the writer only ever
//! appends to the newest), and a torn tail of a finished segment (a crash) is skipped and
//! reported. A segment deleted under the reader by a checkpoint is reported as a gap, and
//! reading goes on with the next segment that exists.
//!
//! Series ids are never reused (the next id is persisted with every checkpoint and replay
//! raises it past every id it sees), so a reader may learn labels from the checkpoint and
//! from any segment, in any order: [`WalTail::load_series`].
//!
//! [`Tsdb::set_wal_hold`](crate::Tsdb::set_wal_hold) keeps the segments a reader still
//! needs from being deleted by checkpoints (within `TsdbOptions::wal_hold_max_age`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sightline_model::{Labels, TimestampMs};

use crate::error::{Error, Result};
use crate::wal::{self, Record};

/// A record boundary in the WAL: a segment number and a byte offset in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalPosition {
    /// Segment number.
    pub segment: u64,
    /// Byte offset of a record boundary in the segment.
    pub offset: u64,
}

/// A record as a WAL reader sees it.
#[derive(Debug)]
pub enum WalRecord {
    /// New series: id and labels.
    Series(Vec<(u64, Labels)>),
    /// Float samples: series id, timestamp, value (stale markers included).
    Samples(Vec<(u64, TimestampMs, f64)>),
    /// Native-histogram samples: series id, timestamp, histogram (stale markers are
    /// histograms whose sum is the stale NaN).
    Histograms(Vec<(u64, TimestampMs, crate::HistValue)>),
}

/// What one [`WalTail::read`] call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TailProgress {
    /// Records handed to the callback.
    pub records: u64,
    /// Bytes consumed.
    pub bytes: u64,
    /// Segments that were deleted before they could be read (their samples are lost to
    /// this reader).
    pub segments_lost: u64,
    /// Torn or corrupt tails skipped (bytes).
    pub bytes_skipped: u64,
}

/// Reads the WAL from a position onwards; see the module documentation.
pub struct WalTail {
    dir: PathBuf,
    pos: WalPosition,
    file: Option<File>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for WalTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalTail")
            .field("dir", &self.dir)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl WalTail {
    /// A reader of the WAL under `data_dir` (the store's directory) starting at `pos`, or at
    /// the current end of the WAL when `pos` is `None`.
    pub fn open(data_dir: &Path, pos: Option<WalPosition>) -> Result<WalTail> {
        let dir = data_dir.join("wal");
        let pos = match pos {
            Some(p) => p,
            None => end_of(&dir)?,
        };
        Ok(WalTail {
            dir,
            pos,
            file: None,
            buf: Vec::new(),
        })
    }

    /// A reader starting at the oldest segment still on disk.
    pub fn open_oldest(data_dir: &Path) -> Result<WalTail> {
        let dir = data_dir.join("wal");
        let first = wal::list_segments(&dir)?.first().copied().unwrap_or(0);
        WalTail::open(
            data_dir,
            Some(WalPosition {
                segment: first,
                offset: 0,
            }),
        )
    }

    /// The position of the next record to read.
    pub fn position(&self) -> WalPosition {
        self.pos
    }

    /// Calls `f` with every series the WAL knows: those of the newest checkpoint, then the
    /// series records of every segment (all of them, before and after the reader's position;
    /// ids are never reused, so order does not matter).
    pub fn load_series(&self, mut f: impl FnMut(u64, Labels)) -> Result<()> {
        wal::load_checkpoint(&self.dir, |rec| {
            if let Record::State(s) = rec {
                f(s.id, s.labels);
            }
            Ok(())
        })?;
        for seg in wal::list_segments(&self.dir)? {
            let path = self.dir.join(format!("{seg:08}"));
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                // Deleted by a checkpoint meanwhile: its series are in that checkpoint,
                // which the caller's reading will report as a gap if it mattered.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            wal::parse_records(&data, &mut |rec| {
                if let Record::Series(v) = rec {
                    for (id, l) in v {
                        f(id, l);
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Reads the complete records available now, up to about `max_bytes`, calling `f` with
    /// each and the position just after it. Returns what was read; zero records means the
    /// reader is at the end of the WAL (call again later).
    pub fn read(
        &mut self,
        max_bytes: usize,
        mut f: impl FnMut(WalRecord, WalPosition),
    ) -> Result<TailProgress> {
        let mut prog = TailProgress::default();
        loop {
            if self.file.is_none() && !self.open_segment(&mut prog)? {
                return Ok(prog);
            }
            let budget = max_bytes.saturating_sub(prog.bytes as usize).max(1);
            let (n, stop) = self.read_segment(budget, &mut f)?;
            prog.records += n.0;
            prog.bytes += n.1;
            match stop {
                Stop::Budget => return Ok(prog),
                Stop::End => {
                    // The segment is finished only when a later one exists; then its last
                    // bytes are final too and one more read drains them.
                    if !self.later_segment_exists()? {
                        return Ok(prog);
                    }
                    let (n, stop) = self.read_segment(usize::MAX, &mut f)?;
                    prog.records += n.0;
                    prog.bytes += n.1;
                    if let Stop::Torn(len) = stop {
                        prog.bytes_skipped += len;
                        self.report_torn(len);
                    }
                    self.next_segment();
                }
                Stop::Torn(len) => {
                    if self.later_segment_exists()? {
                        prog.bytes_skipped += len;
                        self.report_torn(len);
                        self.next_segment();
                    } else {
                        // Still being written.
                        return Ok(prog);
                    }
                }
            }
            if prog.bytes as usize >= max_bytes {
                return Ok(prog);
            }
        }
    }

    fn report_torn(&self, len: u64) {
        tracing::warn!(
            segment = self.pos.segment,
            offset = self.pos.offset,
            bytes = len,
            "WAL reader skipped a torn or corrupt segment tail"
        );
    }

    fn next_segment(&mut self) {
        self.pos = WalPosition {
            segment: self.pos.segment + 1,
            offset: 0,
        };
        self.file = None;
    }

    fn later_segment_exists(&self) -> Result<bool> {
        Ok(wal::list_segments(&self.dir)?
            .last()
            .is_some_and(|&s| s > self.pos.segment))
    }

    /// Opens the reader's segment, or the next one that exists when it was deleted.
    /// Returns false when there is nothing to read yet.
    fn open_segment(&mut self, prog: &mut TailProgress) -> Result<bool> {
        let path = self.dir.join(format!("{:08}", self.pos.segment));
        match File::open(&path) {
            Ok(mut f) => {
                let len = f.metadata().map_err(|e| Error::io(&path, e))?.len();
                // A position past the end (a segment cut by crash repair) is its end.
                let off = self.pos.offset.min(len);
                f.seek(SeekFrom::Start(off))
                    .map_err(|e| Error::io(&path, e))?;
                self.pos.offset = off;
                self.file = Some(f);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let segs = wal::list_segments(&self.dir)?;
                match segs.iter().find(|&&s| s > self.pos.segment) {
                    Some(&next) => {
                        // Segments before the first one on disk were deleted unread.
                        let lost = if segs.first().is_some_and(|&f| f > self.pos.segment) {
                            next - self.pos.segment
                        } else {
                            0
                        };
                        if lost > 0 {
                            tracing::warn!(
                                from = self.pos.segment,
                                to = next,
                                "WAL segments were deleted before this reader got to them"
                            );
                        }
                        prog.segments_lost += lost;
                        self.pos = WalPosition {
                            segment: next,
                            offset: 0,
                        };
                        self.open_segment(prog)
                    }
                    None => Ok(false),
                }
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Reads records of the open segment from the position, up to `budget` bytes.
    fn read_segment(
        &mut self,
        budget: usize,
        f: &mut impl FnMut(WalRecord, WalPosition),
    ) -> Result<((u64, u64), Stop)> {
        let Some(file) = self.file.as_mut() else {
            return Ok(((0, 0), Stop::End));
        };
        let path = self.dir.join(format!("{:08}", self.pos.segment));
        self.buf.clear();
        let want = budget.min(64 << 20) as u64;
        file.by_ref()
            .take(want)
            .read_to_end(&mut self.buf)
            .map_err(|e| Error::io(&path, e))?;
        let read_all = (self.buf.len() as u64) < want;
        let mut off = 0usize;
        let mut records = 0u64;
        let stop = loop {
            match wal::next_record(&self.buf[off..]) {
                wal::Next::Record(rec, len) => {
                    off += len;
                    records += 1;
                    let at = WalPosition {
                        segment: self.pos.segment,
                        offset: self.pos.offset + off as u64,
                    };
                    match rec {
                        Record::Series(v) => f(WalRecord::Series(v), at),
                        Record::Samples(v) => f(WalRecord::Samples(v), at),
                        Record::Histograms(v) => f(WalRecord::Histograms(v), at),
                        // Tombstones and checkpoint-only records mean nothing to readers,
                        // but their end is still a position.
                        _ => {}
                    }
                }
                wal::Next::End => break Stop::End,
                wal::Next::Incomplete(need) => {
                    if read_all {
                        break Stop::Torn((self.buf.len() - off) as u64);
                    }
                    if off == 0 {
                        // A record larger than the budget: read the rest of it now, or the
                        // reader would never get past it.
                        let more = (need.saturating_sub(self.buf.len())) as u64;
                        let got = file
                            .by_ref()
                            .take(more)
                            .read_to_end(&mut self.buf)
                            .map_err(|e| Error::io(&path, e))?;
                        if (got as u64) < more {
                            break Stop::Torn(self.buf.len() as u64);
                        }
                        continue;
                    }
                    // The budget cut a record: the caller reads again.
                    break Stop::Budget;
                }
                wal::Next::Corrupt => break Stop::Torn((self.buf.len() - off) as u64),
            }
        };
        self.pos.offset += off as u64;
        // Leave the file where the next record starts.
        file.seek(SeekFrom::Start(self.pos.offset))
            .map_err(|e| Error::io(&path, e))?;
        let stop = match stop {
            Stop::End if !read_all => Stop::Budget,
            s => s,
        };
        Ok(((records, off as u64), stop))
    }
}

enum Stop {
    /// The byte budget ran out (more may be there).
    Budget,
    /// At the end of what the segment holds now.
    End,
    /// Bytes after the last complete record that are not (yet) a record.
    Torn(u64),
}

/// The position just after the last complete record of the newest segment.
fn end_of(dir: &Path) -> Result<WalPosition> {
    let Some(&seg) = wal::list_segments(dir)?.last() else {
        // No segment yet: the writer's first will be number 1 or higher.
        return Ok(WalPosition {
            segment: 0,
            offset: 0,
        });
    };
    let path = dir.join(format!("{seg:08}"));
    let data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let mut off = 0;
    while let wal::Next::Record(_, len) = wal::next_record(&data[off..]) {
        off += len;
    }
    Ok(WalPosition {
        segment: seg,
        offset: off as u64,
    })
}
