//! The TSDB as the daemon runs it: opened off the async threads, maintained on a timer,
//! flushed on shutdown, reported in `/metrics`, `/api/v1/status/tsdb` and the admin API.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sightline_api::{StorageAdmin, TsdbStatus};
use sightline_model::{Matcher, MetricType};
use sightline_telemetry::Family;
use sightline_tsdb::{Tsdb, TsdbOptions};
use tracing::{info, warn};

use crate::cli::ServeArgs;

/// Opens (and replays) the TSDB on a blocking thread.
pub(crate) async fn open(args: &ServeArgs) -> Result<Arc<Tsdb>> {
    let mut opts = TsdbOptions::new(args.storage_path.clone());
    opts.retention_time = args.retention_time;
    opts.retention_size = args.retention_size.filter(|b| *b > 0);
    opts.wal_compression = args.wal_compression;
    opts.wal_fsync = match args.wal_fsync.as_str() {
        "always" => sightline_tsdb::FsyncPolicy::Always,
        "never" => sightline_tsdb::FsyncPolicy::Never,
        d => sightline_tsdb::FsyncPolicy::Interval(
            sightline_model::parse_duration(d).with_context(|| {
                format!("--storage.tsdb.wal-fsync: expected always, never or a duration, got {d:?}")
            })?,
        ),
    };
    let path = args.storage_path.clone();
    let started = std::time::Instant::now();
    let db = tokio::task::spawn_blocking(move || Tsdb::open(opts))
        .await
        .context("TSDB open task failed")?
        .with_context(|| format!("opening the TSDB at {}", path.display()))?;
    let r = db.open_report();
    info!(
        path = %args.storage_path.display(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        report = ?r,
        "TSDB opened"
    );
    Ok(Arc::new(db))
}

/// The `task` label of maintenance panics.
pub(crate) const MAINTENANCE_TASK: &str = "tsdb_maintenance";

/// Runs retention, compaction, chunk persistence and WAL truncation every minute (the
/// allocator returns freed memory to the operating system by itself). A pass that panics is logged and counted
/// (`sightline_task_panics_total{task="tsdb_maintenance"}`); the next one runs a period later.
pub(crate) async fn maintenance(db: Arc<Tsdb>, cancel: tokio_util::sync::CancellationToken) {
    let pass = move || db.run_maintenance_once();
    periodically(MAINTENANCE_PERIOD, pass, cancel).await
}

/// The time between two maintenance passes.
const MAINTENANCE_PERIOD: Duration = Duration::from_secs(60);

/// Runs `pass` on a blocking thread every `period` until `cancel`.
async fn periodically<R: std::fmt::Debug + Send + 'static>(
    period: Duration,
    pass: impl Fn() -> sightline_tsdb::Result<R> + Clone + Send + 'static,
    cancel: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        match tokio::task::spawn_blocking(pass.clone()).await {
            Ok(Ok(r)) => tracing::debug!(report = ?r, "TSDB maintenance"),
            Ok(Err(e)) => warn!(error = %e, "TSDB maintenance failed"),
            // A panicking pass is counted like a supervised task's and retried next period.
            Err(e) if e.is_panic() => {
                let payload = e.into_panic();
                sightline_telemetry::supervise::record_panic(MAINTENANCE_TASK, payload.as_ref());
            }
            Err(e) => warn!(error = %e, "TSDB maintenance task failed"),
        }
    }
}

/// `sightline_tsdb_*` families.
pub(crate) fn families(db: &Tsdb) -> Vec<Family> {
    let m = db.metrics();
    let f = |name: &str, help: &str, t: MetricType, v: u64| Family::single(name, help, t, v as f64);
    use MetricType::{Counter as C, Gauge as G};
    vec![
        f(
            "sightline_tsdb_samples_appended",
            "Samples accepted into the head.",
            C,
            m.samples_appended_total,
        ),
        f(
            "sightline_tsdb_out_of_order_samples",
            "Samples rejected as out of order.",
            C,
            m.out_of_order_samples_total,
        ),
        f(
            "sightline_tsdb_duplicate_samples",
            "Samples rejected as duplicates with a different value.",
            C,
            m.duplicate_samples_total,
        ),
        f(
            "sightline_tsdb_out_of_bound_samples",
            "Samples rejected because their partition is already sealed.",
            C,
            m.out_of_bound_samples_total,
        ),
        f(
            "sightline_tsdb_out_of_order_samples_accepted",
            "Out-of-order samples accepted inside the window.",
            C,
            m.out_of_order_samples_accepted_total,
        ),
        f(
            "sightline_tsdb_head_series_created",
            "Series created in the head.",
            C,
            m.head_series_created_total,
        ),
        f(
            "sightline_tsdb_head_series_removed",
            "Series removed from the head.",
            C,
            m.head_series_removed_total,
        ),
        f(
            "sightline_tsdb_head_chunks_created",
            "Head chunks cut.",
            C,
            m.head_chunks_created_total,
        ),
        f(
            "sightline_tsdb_chunks_persisted",
            "Head chunks written to head chunk files.",
            C,
            m.chunks_persisted_total,
        ),
        f(
            "sightline_tsdb_head_seals",
            "Head partitions sealed into partition files.",
            C,
            m.head_seals_total,
        ),
        f(
            "sightline_tsdb_commits",
            "Appender commits.",
            C,
            m.commits_total,
        ),
        f(
            "sightline_tsdb_rollbacks",
            "Appender rollbacks.",
            C,
            m.rollbacks_total,
        ),
        f(
            "sightline_tsdb_wal_fsyncs",
            "WAL fsyncs.",
            C,
            m.wal_fsyncs_total,
        ),
        f(
            "sightline_tsdb_wal_written_bytes",
            "WAL bytes written.",
            C,
            m.wal_bytes_written_total,
        ),
        f(
            "sightline_tsdb_wal_corruptions",
            "WAL corruptions found and repaired on open.",
            C,
            m.wal_corruptions_total,
        ),
        f(
            "sightline_tsdb_checkpoints",
            "Head checkpoints with WAL truncation.",
            C,
            m.checkpoints_total,
        ),
        f(
            "sightline_tsdb_compactions",
            "Partition compactions.",
            C,
            m.compactions_total,
        ),
        f(
            "sightline_tsdb_compaction_failures",
            "Failed partition compactions.",
            C,
            m.compaction_failures_total,
        ),
        f(
            "sightline_tsdb_time_retentions",
            "Partitions dropped by time retention.",
            C,
            m.time_retentions_total,
        ),
        f(
            "sightline_tsdb_size_retentions",
            "Partitions dropped by size retention.",
            C,
            m.size_retentions_total,
        ),
        f(
            "sightline_tsdb_head_series",
            "Series in the head.",
            G,
            m.head_series,
        ),
        f(
            "sightline_tsdb_head_chunks",
            "Chunks in the head.",
            G,
            m.head_chunks,
        ),
        f(
            "sightline_tsdb_partitions",
            "Persistent partitions.",
            G,
            m.partitions,
        ),
        f(
            "sightline_tsdb_storage_bytes",
            "Bytes of the data directory on disk (sled, partition files, head chunk files, WAL).",
            G,
            m.storage_bytes,
        ),
        f(
            "sightline_tsdb_head_chunk_file_bytes",
            "Bytes of head chunk files.",
            G,
            m.head_chunk_file_bytes,
        ),
        f(
            "sightline_tsdb_wal_bytes",
            "Bytes of WAL segments.",
            G,
            m.wal_bytes,
        ),
    ]
}

/// The TSDB behind the API's status and admin endpoints.
pub(crate) struct TsdbAdmin(pub(crate) Arc<Tsdb>);

impl StorageAdmin for TsdbAdmin {
    fn status(&self, limit: usize) -> TsdbStatus {
        let s = self.0.stats(limit);
        TsdbStatus {
            num_series: s.head.num_series,
            num_label_pairs: s.head.num_label_pairs,
            chunk_count: s.head.chunk_count,
            min_time: s.head.min_time,
            max_time: s.head.max_time,
            series_count_by_metric_name: s.series_count_by_metric_name,
            label_value_count_by_label_name: s.label_value_count_by_label_name,
            memory_in_bytes_by_label_name: s.memory_in_bytes_by_label_name,
            series_count_by_label_value_pair: s.series_count_by_label_value_pair,
        }
    }

    fn delete_series(
        &self,
        matchers: &[Vec<Matcher>],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<(), String> {
        for ms in matchers {
            self.0
                .delete_series(ms, start, end)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn clean_tombstones(&self) -> Result<(), String> {
        self.0.clean_tombstones().map_err(|e| e.to_string())
    }

    fn snapshot(&self, skip_head: bool) -> Result<String, String> {
        self.0.snapshot(skip_head).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// issue 13: a maintenance pass that panics is counted and the next one runs a period
    /// later.
    #[tokio::test]
    async fn a_panicking_maintenance_pass_is_counted_and_retried() {
        let runs = Arc::new(AtomicU32::new(0));
        let cancel = tokio_util::sync::CancellationToken::new();
        let (r, c) = (runs.clone(), cancel.clone());
        let before = sightline_telemetry::supervise::panics(MAINTENANCE_TASK);
        let pass = move || {
            let n = r.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                panic!("injected maintenance panic");
            }
            if n == 2 {
                c.cancel();
            }
            Ok(n)
        };
        tokio::time::timeout(
            Duration::from_secs(10),
            periodically(Duration::from_millis(10), pass, cancel),
        )
        .await
        .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let after = sightline_telemetry::supervise::panics(MAINTENANCE_TASK);
        assert_eq!(after - before, 1.0);
    }
}
