//! The remote-write client's metrics: Prometheus' `prometheus_remote_storage_*` figures under
//! `sightline_remote_storage_*`, labelled by queue (`remote_name`, `url`) as Prometheus does.

use std::sync::Arc;

use sightline_telemetry::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, Registry,
};

/// The metric vectors, registered once; each queue takes its own children.
#[derive(Clone)]
pub struct ClientMetrics {
    samples: Arc<CounterVec>,
    failed: Arc<CounterVec>,
    retried: Arc<CounterVec>,
    dropped: Arc<CounterVec>,
    samples_in: Arc<CounterVec>,
    histograms_in: Arc<CounterVec>,
    pending: Arc<GaugeVec>,
    shards: Arc<GaugeVec>,
    shards_desired: Arc<GaugeVec>,
    shards_min: Arc<GaugeVec>,
    shards_max: Arc<GaugeVec>,
    highest_in: Arc<GaugeVec>,
    highest_sent: Arc<GaugeVec>,
    bytes: Arc<CounterVec>,
    requests: Arc<CounterVec>,
    duration: Arc<HistogramVec>,
    wal_lost: Arc<CounterVec>,
    wal_segment: Arc<GaugeVec>,
    metadata: Arc<CounterVec>,
    metadata_failed: Arc<CounterVec>,
}

/// One queue's metrics.
#[derive(Clone)]
pub(crate) struct QueueMetrics {
    labels: [String; 2],
    all: ClientMetrics,
    pub(crate) samples: Arc<Counter>,
    pub(crate) failed: Arc<Counter>,
    pub(crate) retried: Arc<Counter>,
    pub(crate) dropped_relabel: Arc<Counter>,
    pub(crate) dropped_too_old: Arc<Counter>,
    pub(crate) dropped_unknown: Arc<Counter>,
    pub(crate) already_delivered: Arc<Counter>,
    pub(crate) samples_in: Arc<Counter>,
    pub(crate) histograms_in: Arc<Counter>,
    pub(crate) pending: Arc<Gauge>,
    pub(crate) shards: Arc<Gauge>,
    pub(crate) shards_desired: Arc<Gauge>,
    pub(crate) highest_in: Arc<Gauge>,
    pub(crate) highest_sent: Arc<Gauge>,
    pub(crate) bytes: Arc<Counter>,
    pub(crate) duration: Arc<Histogram>,
    pub(crate) wal_lost: Arc<Counter>,
    pub(crate) wal_segment: Arc<Gauge>,
    pub(crate) metadata: Arc<Counter>,
    pub(crate) metadata_failed: Arc<Counter>,
}

impl ClientMetrics {
    /// Registers the metrics in `r`.
    pub fn new(r: &Registry) -> Self {
        let q = &["remote_name", "url"];
        ClientMetrics {
            samples: r.counter_vec(
                "sightline_remote_storage_samples",
                "Samples delivered to remote storage (acknowledged with 2xx).",
                q,
            ),
            failed: r.counter_vec(
                "sightline_remote_storage_samples_failed",
                "Samples the remote storage refused for good (4xx other than a retried 429); not resent.",
                q,
            ),
            retried: r.counter_vec(
                "sightline_remote_storage_samples_retried",
                "Samples resent after a recoverable error (5xx, 429 with retry_on_http_429, network).",
                q,
            ),
            dropped: r.counter_vec(
                "sightline_remote_storage_samples_dropped",
                "Samples not sent: dropped by write_relabel_configs (relabel), older than sample_age_limit (too_old), of a series whose labels the WAL no longer has (unknown_series), or resent after a crash to a receiver that already had them (already_delivered).",
                &["remote_name", "url", "reason"],
            ),
            samples_in: r.counter_vec(
                "sightline_remote_storage_samples_in",
                "Samples read from the WAL by the queue.",
                q,
            ),
            histograms_in: r.counter_vec(
                "sightline_remote_storage_histograms_in",
                "Native-histogram samples read from the WAL by the queue (they also count in \
                 the samples figures once queued).",
                q,
            ),
            pending: r.gauge_vec(
                "sightline_remote_storage_samples_pending",
                "Samples read from the WAL and not yet delivered.",
                q,
            ),
            shards: r.gauge_vec(
                "sightline_remote_storage_shards",
                "Shards sending in parallel.",
                q,
            ),
            shards_desired: r.gauge_vec(
                "sightline_remote_storage_shards_desired",
                "Shards the rates of reading and sending call for.",
                q,
            ),
            shards_min: r.gauge_vec(
                "sightline_remote_storage_shards_min",
                "queue_config.min_shards.",
                q,
            ),
            shards_max: r.gauge_vec(
                "sightline_remote_storage_shards_max",
                "queue_config.max_shards.",
                q,
            ),
            highest_in: r.gauge_vec(
                "sightline_remote_storage_highest_timestamp_in_seconds",
                "Newest sample timestamp that came into storage (as Prometheus': minus queue_highest_sent_timestamp_seconds, how far delivery is behind).",
                q,
            ),
            highest_sent: r.gauge_vec(
                "sightline_remote_storage_queue_highest_sent_timestamp_seconds",
                "Newest sample timestamp delivered.",
                q,
            ),
            bytes: r.counter_vec(
                "sightline_remote_storage_bytes",
                "Compressed request bytes sent (retries included).",
                q,
            ),
            requests: r.counter_vec(
                "sightline_remote_storage_requests",
                "Requests sent, by outcome (success, retried, failed).",
                &["remote_name", "url", "outcome"],
            ),
            duration: r.histogram_vec(
                "sightline_remote_storage_sent_batch_duration_seconds",
                "Time to send one batch (each attempt).",
                q,
                &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0],
            ),
            wal_lost: r.counter_vec(
                "sightline_remote_storage_wal_segments_lost",
                "WAL segments deleted before the queue read them (past the WAL hold's age limit).",
                q,
            ),
            metadata: r.counter_vec(
                "sightline_remote_storage_metadata",
                "Metadata entries delivered (1.0 metadata requests).",
                q,
            ),
            metadata_failed: r.counter_vec(
                "sightline_remote_storage_metadata_failed",
                "Metadata entries not delivered (resent in full at the next interval).",
                q,
            ),
            wal_segment: r.gauge_vec(
                "sightline_remote_storage_wal_segment",
                "WAL segment the queue's delivered position is in.",
                q,
            ),
        }
    }

    pub(crate) fn queue(&self, name: &str, url: &str, min: u64, max: u64) -> QueueMetrics {
        let l = [name, url];
        self.shards_min.with(&l).set(min as f64);
        self.shards_max.with(&l).set(max as f64);
        QueueMetrics {
            labels: [name.to_string(), url.to_string()],
            all: self.clone(),
            samples: self.samples.with(&l),
            failed: self.failed.with(&l),
            retried: self.retried.with(&l),
            dropped_relabel: self.dropped.with(&[name, url, "relabel"]),
            dropped_too_old: self.dropped.with(&[name, url, "too_old"]),
            dropped_unknown: self.dropped.with(&[name, url, "unknown_series"]),
            already_delivered: self.dropped.with(&[name, url, "already_delivered"]),
            samples_in: self.samples_in.with(&l),
            histograms_in: self.histograms_in.with(&l),
            pending: self.pending.with(&l),
            shards: self.shards.with(&l),
            shards_desired: self.shards_desired.with(&l),
            highest_in: self.highest_in.with(&l),
            highest_sent: self.highest_sent.with(&l),
            bytes: self.bytes.with(&l),
            duration: self.duration.with(&l),
            wal_lost: self.wal_lost.with(&l),
            wal_segment: self.wal_segment.with(&l),
            metadata: self.metadata.with(&l),
            metadata_failed: self.metadata_failed.with(&l),
        }
    }
}

impl QueueMetrics {
    pub(crate) fn request(&self, outcome: &str) {
        let [n, u] = &self.labels;
        self.all.requests.with(&[n, u, outcome]).inc();
    }

    /// Removes the queue's series (the queue was removed from the configuration).
    pub(crate) fn remove(&self) {
        let [n, u] = &self.labels;
        let l = [n.as_str(), u.as_str()];
        let a = &self.all;
        for v in [
            &a.samples,
            &a.failed,
            &a.retried,
            &a.samples_in,
            &a.histograms_in,
            &a.bytes,
            &a.wal_lost,
        ] {
            v.remove(&l);
        }
        for v in [
            &a.pending,
            &a.shards,
            &a.shards_desired,
            &a.shards_min,
            &a.shards_max,
            &a.highest_in,
            &a.highest_sent,
            &a.wal_segment,
        ] {
            v.remove(&l);
        }
        a.duration.remove(&l);
        for r in ["relabel", "too_old", "unknown_series", "already_delivered"] {
            a.dropped.remove(&[n, u, r]);
        }
        for o in ["success", "retried", "failed"] {
            a.requests.remove(&[n, u, o]);
        }
    }
}
