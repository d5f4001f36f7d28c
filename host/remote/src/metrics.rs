//! The remote-write receiver's metrics, registered in the daemon's registry.

use std::sync::Arc;

use sightline_telemetry::{Counter, CounterVec, Registry};

/// Handles to the metrics; cheap to clone.
#[derive(Clone)]
pub struct RemoteMetrics {
    pub(crate) requests: Arc<CounterVec>,
    pub(crate) series: Arc<Counter>,
    pub(crate) samples: Arc<Counter>,
    pub(crate) histograms: Arc<Counter>,
    pub(crate) exemplars: Arc<Counter>,
    pub(crate) metadata: Arc<Counter>,
    pub(crate) written: Arc<Counter>,
    pub(crate) histograms_written: Arc<Counter>,
    pub(crate) rejected: Arc<CounterVec>,
}

impl RemoteMetrics {
    /// Registers the metrics in `registry`.
    pub fn new(registry: &Registry) -> Self {
        RemoteMetrics {
            requests: registry.counter_vec(
                "sightline_remote_write_requests",
                "Remote-write requests received, by protocol version and status code.",
                &["version", "code"],
            ),
            series: registry.counter(
                "sightline_remote_write_series_received",
                "Series received in remote-write requests (one per request they appear in).",
            ),
            samples: registry.counter(
                "sightline_remote_write_samples_received",
                "Float samples received in remote-write requests.",
            ),
            histograms: registry.counter(
                "sightline_remote_write_histograms_received",
                "Native histogram samples received in remote-write requests.",
            ),
            exemplars: registry.counter(
                "sightline_remote_write_exemplars_received",
                "Exemplars received in remote-write requests.",
            ),
            metadata: registry.counter(
                "sightline_remote_write_metadata_received",
                "Metadata entries received in remote-write requests.",
            ),
            written: registry.counter(
                "sightline_remote_write_samples_written",
                "Float samples from remote-write requests committed to storage.",
            ),
            histograms_written: registry.counter(
                "sightline_remote_write_histograms_written",
                "Native histogram samples from remote-write requests committed to storage.",
            ),
            rejected: registry.counter_vec(
                "sightline_remote_write_rejected",
                "Samples, histograms and exemplars of remote-write requests not stored, by kind \
                 and reason (out_of_order, duplicate, out_of_bounds, too_far_in_future, \
                 invalid_labels, invalid_histogram, unsupported, rolled_back).",
                &["kind", "reason"],
            ),
        }
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        RemoteMetrics::new(&Registry::new())
    }

    pub(crate) fn reject(&self, kind: &str, reason: &str, n: usize) {
        if n > 0 {
            self.rejected.with(&[kind, reason]).inc_by(n as f64);
        }
    }
}
