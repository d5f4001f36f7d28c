//! The remote-read handler's metrics, registered in the daemon's registry.

use std::sync::Arc;

use sightline_telemetry::{Counter, CounterVec, Gauge, Registry};

/// Handles to the metrics; cheap to clone.
#[derive(Clone)]
pub struct ReadMetrics {
    pub(crate) requests: Arc<CounterVec>,
    pub(crate) series: Arc<Counter>,
    pub(crate) samples: Arc<Counter>,
    pub(crate) chunks: Arc<Counter>,
    pub(crate) frames: Arc<Counter>,
    pub(crate) rejected: Arc<CounterVec>,
    pub(crate) queries: Arc<Gauge>,
}

impl ReadMetrics {
    /// Registers the metrics in `registry`.
    pub fn new(registry: &Registry) -> Self {
        ReadMetrics {
            requests: registry.counter_vec(
                "sightline_remote_read_requests",
                "Remote-read requests answered, by response type (samples, streamed, or \
                 unknown when the request was refused before its type was known) and status \
                 code.",
                &["type", "code"],
            ),
            series: registry.counter(
                "sightline_remote_read_series_sent",
                "Series sent in remote-read responses (once per query they answer).",
            ),
            samples: registry.counter(
                "sightline_remote_read_samples_sent",
                "Float samples sent in remote-read responses, as samples or inside chunks.",
            ),
            chunks: registry.counter(
                "sightline_remote_read_chunks_sent",
                "XOR chunks sent in streamed remote-read responses.",
            ),
            frames: registry.counter(
                "sightline_remote_read_frames_sent",
                "Frames (ChunkedReadResponse messages) sent in streamed remote-read responses.",
            ),
            rejected: registry.counter_vec(
                "sightline_remote_read_rejected_queries",
                "Remote-read queries refused by a limit, by limit (sample_limit).",
                &["reason"],
            ),
            queries: registry.gauge(
                "sightline_remote_read_queries",
                "Remote-read requests being executed (past the concurrency limit), as \
                 Prometheus' prometheus_api_remote_read_queries.",
            ),
        }
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        ReadMetrics::new(&Registry::new())
    }
}

/// Counts a request in flight for as long as it lives (a streamed response outlives its
/// handler).
pub(crate) struct InFlight(Arc<Gauge>);

impl InFlight {
    pub(crate) fn new(g: &Arc<Gauge>) -> Self {
        g.add(1.0);
        InFlight(g.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.add(-1.0);
    }
}
