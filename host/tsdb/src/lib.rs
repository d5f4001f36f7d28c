//! sightline-tsdb: the time-series store under scrape, PromQL, rules and remote write.
//!
//! It owns the write-ahead log, the in-memory head (interned label sets, postings, open
//! chunks), the Gorilla-compressed chunk format, head chunk files, sealed partition files,
//! the sled registry, retention, compaction, tombstones, snapshots and backfill. Other
//! crates reach it only through `sightline_storage_api::{Appendable, Queryable}` plus the
//! small admin surface on [`Tsdb`].
//!
//! Invariant: no sled type is public; sled could be replaced without touching any caller.
//! Invariant: this crate knows nothing of HTTP, JSON, scraping or PromQL; the only parser it
//! borrows is `sightline-exposition`'s, for OpenMetrics backfill.
//!
//! # Lifecycle (what the daemon does)
//!
//! 1. [`Tsdb::open`] in a blocking task (it loads the head checkpoint and replays the WAL);
//!    gate readiness on it. [`Tsdb::open_report`] tells what replay found and repaired.
//! 2. Share it as `Arc<Tsdb>`: it is the `Appendable` for scrape/rules and the `Queryable`
//!    for PromQL/API. A `SeriesRef` returned by `append` lets the next append skip label
//!    hashing.
//! 3. Call [`Tsdb::run_maintenance_once`] from a blocking task on a timer (e.g. every
//!    minute): it appends full chunks to head chunk files, checkpoints and truncates the WAL
//!    when due, seals complete partitions into files, compacts and applies retention.
//! 4. `/metrics` renders [`Tsdb::metrics`]; `/api/v1/status/tsdb` renders [`Tsdb::stats`].
//! 5. Admin API: [`Tsdb::delete_series`], [`Tsdb::clean_tombstones`], [`Tsdb::snapshot`].
//! 6. On shutdown call [`Tsdb::flush`] (or [`Tsdb::close`] with ownership).
//!
//! # Durability
//!
//! Once `Appender::commit` returns, its samples are in the WAL file (one `write(2)`), so a
//! kill -9 loses nothing acknowledged. A power loss may lose what was written since the last
//! fsync, bounded by [`FsyncPolicy`] (default: 1 s). `docs/format.md` has the details and
//! the on-disk layout byte by byte.

mod admin;
mod anychunk;
mod bench_hist;
mod bench_read;
mod chunk;
mod db;
mod enc;
mod error;
mod head;
mod head_read;
mod headchunks;
mod histchunk;
mod import;
mod partfile;
mod postings;
mod query;
mod store;
mod syncer;
mod wal;
mod wal_hist;
mod waltail;

pub use anychunk::HistValue;
pub use db::{HeadStats, MaintenanceReport, OpenReport, Tsdb, TsdbMetrics, TsdbOptions, TsdbStats};
pub use error::{Error, Result};
pub use import::{
    import_openmetrics, ImportProgress, ImportSample, ImportSource, ImportStats, OpenMetricsSource,
};
pub use wal::FsyncPolicy;
pub use waltail::{TailProgress, WalPosition, WalRecord, WalTail};

/// Internals exposed for the criterion benches only; not a stable API.
#[doc(hidden)]
pub mod bench_support {
    use sightline_model::Sample;

    pub use crate::bench_hist::{
        append_histograms, decode_any_chunk, encode_histograms, histogram_round_trip,
        latency_histograms,
    };
    pub use crate::bench_read::{
        iterate_series, regex_analyse, regex_count, seek_series, BenchHead,
    };

    /// Encodes samples into head chunks (XOR, at most 120 samples each) with their
    /// time ranges, as the head holds them.
    pub fn encode_head_chunks(samples: &[Sample]) -> Vec<(i64, i64, std::sync::Arc<[u8]>)> {
        samples
            .chunks(120)
            .zip(crate::chunk::encode_chunks(samples))
            .filter_map(|(s, c)| Some((s.first()?.t, s.last()?.t, std::sync::Arc::from(c))))
            .collect()
    }

    /// Encodes samples into persisted chunks (the smaller of XOR and decimal) with their
    /// time ranges, as partition files hold them.
    pub fn encode_persisted_chunks(samples: &[Sample]) -> Vec<(i64, i64, std::sync::Arc<[u8]>)> {
        crate::chunk::encode_chunks_best(samples)
    }

    /// Encodes samples into XOR chunks.
    pub fn encode_chunks(samples: &[Sample]) -> Vec<Vec<u8>> {
        crate::chunk::encode_chunks(samples)
    }

    /// Encodes samples as persisted chunks are (the smaller of XOR and decimal).
    pub fn encode_best(samples: &[Sample]) -> Vec<u8> {
        crate::chunk::encode_best(samples)
    }

    /// Decodes one chunk into its samples.
    pub fn decode_samples(chunk: &[u8]) -> crate::Result<Vec<Sample>> {
        crate::chunk::decode_all(chunk)
    }

    /// Decodes one chunk; returns the number of samples.
    pub fn decode_chunk(chunk: &[u8]) -> usize {
        crate::anychunk::decode_any(chunk).map_or(0, |v| v.len())
    }

    /// Opens a partition file and reads every series record, chunk and postings list of
    /// it; returns the samples decoded. Errors are values, never panics (for fuzzing).
    pub fn read_partition_file(path: &std::path::Path) -> crate::Result<usize> {
        use crate::postings::PostingsSource;
        let f = crate::partfile::PartFile::open(path.to_path_buf(), 0)?;
        let mut n = 0;
        let ids = f.all()?;
        for (_, rec) in f.series(&ids)? {
            for l in &rec.labels {
                let _ = f.postings(&l.name, &l.value);
                let _ = f.values_with_prefix(&l.name, "");
            }
            for (_, c) in f.chunks(&rec.chunks).unwrap_or_default() {
                n += crate::anychunk::decode_any(&c).map_or(0, |v| v.len());
            }
        }
        let _ = f.label_names();
        Ok(n)
    }

    /// Frames `record` (type byte then payload) with its length and CRC-32C, as the WAL
    /// writes it, and parses it like WAL replay; returns the records decoded. Errors are
    /// values, never panics (for fuzzing the record decoders behind the checksum).
    pub fn parse_wal_record(record: &[u8]) -> usize {
        let mut data = Vec::with_capacity(record.len() + 8);
        data.extend_from_slice(&(record.len() as u32).to_le_bytes());
        data.extend_from_slice(&crate::wal::crc32c(record).to_le_bytes());
        data.extend_from_slice(record);
        let mut n = 0;
        let _ = crate::wal::parse_records(&data, &mut |_| {
            n += 1;
            Ok(())
        });
        n
    }

    /// Parses a head chunk file body (after its magic) with every record checksum fixed
    /// up; returns the records decoded. Errors are values, never panics (for fuzzing).
    pub fn parse_head_chunk_records(data: &[u8]) -> usize {
        crate::headchunks::parse_fixed_up(data)
    }

    /// CRC-32C as the WAL and partition files use it.
    pub fn crc32c(data: &[u8]) -> u32 {
        crate::wal::crc32c(data)
    }

    /// Intersects two sorted postings lists.
    pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
        crate::postings::intersect(a, b)
    }
}
