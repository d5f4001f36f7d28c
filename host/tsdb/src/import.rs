//! Backfill (`sightline import openmetrics`, like `promtool tsdb create-blocks-from
//! openmetrics`): samples from a parser are grouped per series and partition, written into
//! unpublished partitions, and published in one atomic registry update at the end. On any
//! error the unpublished partitions are dropped: nothing half-written becomes visible.
//!
//! The parser is not this crate's business: callers adapt one (e.g. `sightline-exposition`'s
//! OpenMetrics parser) to [`ImportSource`].

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

/// Opens the store at `data_dir` (it must not be open elsewhere), imports every sample of
/// `source` and closes it. `progress` is called about every 100k samples and at the end.
pub fn import_openmetrics(
    data_dir: &Path,
    source: &mut dyn ImportSource,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportStats> {
    let db = Tsdb::open(TsdbOptions::new(data_dir))?;
    let stats = db.import(source, progress)?;
    db.close()?;
    Ok(stats)
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
                if let Err(e) = self.store.publish(built.clone(), &[]) {
                    self.store.discard(&built);
                    return Err(e);
                }
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
