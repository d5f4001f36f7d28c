//! Backfill (`sightline import openmetrics`, like `promtool tsdb create-blocks-from
//! openmetrics`): samples from a parser are grouped per series and partition, written into
//! unpublished partitions, and published in one atomic registry update at the end. On any
//! error the unpublished partitions are dropped: nothing half-written becomes visible.
//!
//! Input comes through [`ImportSource`]; [`OpenMetricsSource`] adapts
//! `sightline-exposition`'s OpenMetrics parser (the only parsing this crate borrows).

use std::collections::HashMap;
use std::path::Path;

use sightline_model::{Labels, Sample, TimestampMs};

use crate::db::{Tsdb, TsdbOptions};
use crate::error::{Error, Result};
use crate::head::partition_start;
use crate::store::{writes_from_samples, Partition};

/// One sample to import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSample {
    /// The series (with `__name__`).
    pub labels: Labels,
    /// Milliseconds since the epoch.
    pub t: TimestampMs,
    /// The value.
    pub v: f64,
}

/// A stream of samples to import, typically an OpenMetrics parser over a file.
pub trait ImportSource {
    /// The next sample; `Ok(None)` at the end. Bad input should be reported as
    /// [`Error::Parse`] with its line number.
    fn next_sample(&mut self) -> Result<Option<ImportSample>>;
    /// Input bytes consumed so far (for progress).
    fn bytes_read(&self) -> u64 {
        0
    }
}

impl<I: Iterator<Item = Result<ImportSample>>> ImportSource for I {
    fn next_sample(&mut self) -> Result<Option<ImportSample>> {
        self.next().transpose()
    }
}

/// Progress reported while importing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// Input bytes consumed.
    pub bytes_read: u64,
    /// Samples read.
    pub samples: u64,
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Samples written (after dropping duplicates within a series).
    pub samples: u64,
    /// Distinct series.
    pub series: u64,
    /// Partitions published.
    pub partitions: u64,
    /// Oldest and newest timestamp (ms); `(0, 0)` when nothing was imported.
    pub min_t: TimestampMs,
    /// Newest timestamp (ms).
    pub max_t: TimestampMs,
}

/// Samples buffered before they are written out to unpublished partitions.
const FLUSH_SAMPLES: usize = 4_000_000;

/// Reads the OpenMetrics file `input`, opens the store at `data_dir` (it must not be open
/// elsewhere), imports every sample and closes the store. Like `promtool tsdb
/// create-blocks-from openmetrics`: every sample needs a timestamp, the file must end with
/// `# EOF`, and a parse error (reported with its line) leaves the store unchanged.
/// `progress` is called about every 100k samples and at the end.
pub fn import_openmetrics(
    input: &Path,
    data_dir: &Path,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportStats> {
    let buf = std::fs::read(input).map_err(|e| Error::io(input, e))?;
    let db = Tsdb::open(TsdbOptions::new(data_dir))?;
    let stats = db.import(&mut OpenMetricsSource::new(&buf), progress)?;
    db.close()?;
    Ok(stats)
}

/// An [`ImportSource`] over an OpenMetrics text buffer.
pub struct OpenMetricsSource<'a> {
    buf: &'a [u8],
    parser: sightline_exposition::Parser<'a>,
    builder: sightline_model::LabelsBuilder,
    /// Byte offset and 1-based line of the last sample line seen.
    offset: usize,
    line: u64,
    done: bool,
}

impl<'a> OpenMetricsSource<'a> {
    /// Parses `buf` as OpenMetrics 1.0 text.
    pub fn new(buf: &'a [u8]) -> Self {
        OpenMetricsSource {
            buf,
            parser: sightline_exposition::parse(buf, sightline_exposition::Format::OpenMetrics),
            builder: sightline_model::LabelsBuilder::new(),
            offset: 0,
            line: 1,
            done: false,
        }
    }

    /// Advances the line counter to the byte offset of `raw` inside the buffer.
    fn locate(&mut self, raw: &[u8]) {
        let off = (raw.as_ptr() as usize)
            .saturating_sub(self.buf.as_ptr() as usize)
            .min(self.buf.len());
        if off > self.offset {
            self.line += self.buf[self.offset..off]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = off;
        }
    }
}

impl ImportSource for OpenMetricsSource<'_> {
    fn next_sample(&mut self) -> Result<Option<ImportSample>> {
        use sightline_exposition::Entry;
        if self.done {
            return Ok(None);
        }
        loop {
            match self.parser.next() {
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(Error::Parse {
                        line: e.line as u64,
                        message: format!("column {}: {}", e.column, e.message),
                    });
                }
                Some(Ok(Entry::Series(s))) => {
                    self.locate(s.raw);
                    let Some(t) = s.timestamp_ms else {
                        self.done = true;
                        return Err(Error::Parse {
                            line: self.line,
                            message: "sample without a timestamp".into(),
                        });
                    };
                    self.builder.clear();
                    s.labels_into(&mut self.builder);
                    return Ok(Some(ImportSample {
                        labels: self.builder.build(),
                        t,
                        v: s.value,
                    }));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.offset as u64
    }
}

impl Tsdb {
    /// Imports `source` into this store (see [`import_openmetrics`]).
    pub fn import(
        &self,
        source: &mut dyn ImportSource,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportStats> {
        let _m = self.maint_lock();
        let mut built: Vec<Partition> = Vec::new();
        let res = self.import_inner(source, progress, &mut built);
        match res {
            Ok(mut stats) => {
                stats.partitions = built.len() as u64;
                self.store.publish(built, &[])?;
                Ok(stats)
            }
            Err(e) => {
                self.store.discard(&built);
                Err(e)
            }
        }
    }

    fn import_inner(
        &self,
        source: &mut dyn ImportSource,
        progress: &mut dyn FnMut(ImportProgress),
        built: &mut Vec<Partition>,
    ) -> Result<ImportStats> {
        let pms = self.partition_ms();
        let mut buf: HashMap<TimestampMs, HashMap<Labels, Vec<Sample>>> = HashMap::new();
        let mut buffered = 0usize;
        let mut stats = ImportStats {
            min_t: i64::MAX,
            max_t: i64::MIN,
            ..Default::default()
        };
        let mut seen: std::collections::HashSet<u64> = std::collections::HashSet::new();
        let mut read = 0u64;
        while let Some(s) = source.next_sample()? {
            if s.labels.is_empty() {
                return Err(Error::InvalidArgument("sample without labels".into()));
            }
            read += 1;
            seen.insert(s.labels.stable_hash());
            stats.min_t = stats.min_t.min(s.t);
            stats.max_t = stats.max_t.max(s.t);
            buf.entry(partition_start(s.t, pms))
                .or_default()
                .entry(s.labels)
                .or_default()
                .push(Sample { t: s.t, v: s.v });
            buffered += 1;
            if buffered >= FLUSH_SAMPLES {
                stats.samples += self.write_import_buffer(&mut buf, built)?;
                buffered = 0;
            }
            if read.is_multiple_of(100_000) {
                progress(ImportProgress {
                    bytes_read: source.bytes_read(),
                    samples: read,
                });
            }
        }
        stats.samples += self.write_import_buffer(&mut buf, built)?;
        stats.series = seen.len() as u64;
        if stats.samples == 0 {
            stats.min_t = 0;
            stats.max_t = 0;
        }
        progress(ImportProgress {
            bytes_read: source.bytes_read(),
            samples: read,
        });
        Ok(stats)
    }

    fn write_import_buffer(
        &self,
        buf: &mut HashMap<TimestampMs, HashMap<Labels, Vec<Sample>>>,
        built: &mut Vec<Partition>,
    ) -> Result<u64> {
        let pms = self.partition_ms();
        let mut n = 0u64;
        for (p, series) in buf.drain() {
            let writes = writes_from_samples(series);
            for w in &writes {
                for (_, _, c) in &w.chunks {
                    n += u64::from(crate::chunk::chunk_len(c)?);
                }
            }
            built.push(self.store.build_sealed(p, p.saturating_add(pms), &writes)?);
        }
        Ok(n)
    }
}
