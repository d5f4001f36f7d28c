//! The engine's metrics: Alertmanager 0.25's `alertmanager_*` families under Sightline's
//! prefix (names in `sightline_telemetry::names`).

use std::sync::Arc;

use sightline_telemetry::names::*;
use sightline_telemetry::{Counter, CounterVec, Gauge, Histogram, HistogramVec, Registry};

/// Alertmanager's notification latency buckets (`notify.NewMetrics`).
const LATENCY_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 15.0, 20.0];
const DURATION_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// Handles on every engine metric.
#[derive(Debug)]
pub struct Metrics {
    /// `notifications_total{integration}`: notification attempt series started.
    pub notifications: Arc<CounterVec>,
    /// `notifications_failed_total{integration,reason}`: series that ended in failure.
    pub notifications_failed: Arc<CounterVec>,
    /// `notification_requests_total{integration}`: single delivery attempts.
    pub notification_requests: Arc<CounterVec>,
    /// `notification_requests_failed_total{integration,reason}`: single failed attempts.
    /// `reason` is Sightline's addition (Alertmanager 0.25 has `integration` only; 0.27 put
    /// reasons on `notifications_failed_total`, where ours are Alertmanager's): `retryable`
    /// for a failure the engine retries (contract 0.2's `retryable`, every 0.1 plugin error,
    /// an attempt cut off by the group's deadline) and `permanent` for one it gives up on at
    /// once (contract 0.2's `permanent`, settings the host can not prepare).
    pub notification_requests_failed: Arc<CounterVec>,
    /// `notification_latency_seconds{integration}`.
    pub notification_latency: Arc<HistogramVec>,
    /// `alerts_received_total{status}`.
    pub alerts_received: Arc<CounterVec>,
    /// `alerts_invalid_total`.
    pub alerts_invalid: Arc<Counter>,
    /// `nflog_gc_duration_seconds`.
    pub nflog_gc_duration: Arc<Histogram>,
    /// `nflog_snapshot_duration_seconds`.
    pub nflog_snapshot_duration: Arc<Histogram>,
    /// `nflog_snapshot_size_bytes`.
    pub nflog_snapshot_size: Arc<Gauge>,
    /// `nflog_queries_total`.
    pub nflog_queries: Arc<Counter>,
    /// `nflog_query_errors_total`.
    pub nflog_query_errors: Arc<Counter>,
    /// `dispatcher_aggregation_groups`.
    pub aggregation_groups: Arc<Gauge>,
    /// `dispatcher_alert_processing_duration_seconds`.
    pub processing_duration: Arc<Histogram>,
}

impl Metrics {
    /// Registers every engine metric in `r`. The `alerts{state}` gauge is registered by
    /// [`crate::AlertStore::register_metrics`], which owns the data it counts.
    pub fn new(r: &Registry) -> Arc<Metrics> {
        Arc::new(Metrics {
            notifications: r.counter_vec(
                AM_NOTIFICATIONS,
                "The total number of attempted notifications.",
                &["integration"],
            ),
            notifications_failed: r.counter_vec(
                AM_NOTIFICATIONS_FAILED,
                "The total number of failed notifications.",
                &["integration", "reason"],
            ),
            notification_requests: r.counter_vec(
                AM_NOTIFICATION_REQUESTS,
                "The total number of attempted notification requests.",
                &["integration"],
            ),
            notification_requests_failed: r.counter_vec(
                AM_NOTIFICATION_REQUESTS_FAILED,
                "The total number of failed notification requests.",
                &["integration", "reason"],
            ),
            notification_latency: r.histogram_vec(
                AM_NOTIFICATION_LATENCY_SECONDS,
                "The latency of notifications in seconds.",
                &["integration"],
                LATENCY_BUCKETS,
            ),
            alerts_received: r.counter_vec(
                AM_ALERTS_RECEIVED,
                "The total number of received alerts.",
                &["status"],
            ),
            alerts_invalid: r.counter(
                AM_ALERTS_INVALID,
                "The total number of received alerts that were invalid.",
            ),
            nflog_gc_duration: r.histogram(
                AM_NFLOG_GC_DURATION_SECONDS,
                "Duration of the last notification log garbage collection cycle.",
                DURATION_BUCKETS,
            ),
            nflog_snapshot_duration: r.histogram(
                AM_NFLOG_SNAPSHOT_DURATION_SECONDS,
                "Duration of the last notification log snapshot.",
                DURATION_BUCKETS,
            ),
            nflog_snapshot_size: r.gauge(
                AM_NFLOG_SNAPSHOT_SIZE_BYTES,
                "Size of the last notification log snapshot in bytes.",
            ),
            nflog_queries: r.counter(
                AM_NFLOG_QUERIES,
                "Number of notification log queries were received.",
            ),
            nflog_query_errors: r.counter(
                AM_NFLOG_QUERY_ERRORS,
                "Number notification log received queries that failed.",
            ),
            aggregation_groups: r.gauge(
                AM_DISPATCHER_AGGREGATION_GROUPS,
                "Number of active aggregation groups",
            ),
            processing_duration: r.histogram(
                AM_DISPATCHER_ALERT_PROCESSING_DURATION_SECONDS,
                "Summary of latencies for the processing of alerts.",
                DURATION_BUCKETS,
            ),
        })
    }

    /// Metrics registered nowhere, for tests and tools.
    pub fn unregistered() -> Arc<Metrics> {
        Metrics::new(&Registry::new())
    }
}
