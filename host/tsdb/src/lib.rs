//! sightline-tsdb: the time-series store under scrape, PromQL, rules and remote write.
//!
//! It owns the write-ahead log, the in-memory head (interned label sets, postings, open
//! chunks), the Gorilla-compressed chunk format and their persistence in sled, retention,
//! compaction, tombstones, snapshots and backfill. Other crates reach it only through
//! `sightline_storage_api::{Appendable, Queryable}` plus the small admin surface on [`Tsdb`].
//!
//! Invariant: no sled type is public; sled could be replaced without touching any caller.
//! Invariant: this crate knows nothing of HTTP, JSON, scraping or PromQL.

mod chunk;
mod error;

pub use error::{Error, Result};
mod enc;
mod head;
mod postings;
mod wal;

pub use wal::FsyncPolicy;
mod admin;
mod db;
mod import;
mod query;
mod store;

pub use db::{HeadStats, MaintenanceReport, OpenReport, Tsdb, TsdbMetrics, TsdbOptions, TsdbStats};
pub use import::{
    import_openmetrics, ImportProgress, ImportSample, ImportSource, ImportStats, OpenMetricsSource,
};

/// Internals exposed for the criterion benches only; not a stable API.
#[doc(hidden)]
pub mod bench_support {
    use sightline_model::Sample;

    /// Encodes samples into XOR chunks.
    pub fn encode_chunks(samples: &[Sample]) -> Vec<Vec<u8>> {
        crate::chunk::encode_chunks(samples)
    }

    /// Decodes one chunk; returns the number of samples.
    pub fn decode_chunk(chunk: &[u8]) -> usize {
        crate::chunk::decode_all(chunk).map_or(0, |v| v.len())
    }

    /// Intersects two sorted postings lists.
    pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
        crate::postings::intersect(a, b)
    }
}
