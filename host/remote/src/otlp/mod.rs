//! The OTLP metrics receiver, `POST /api/v1/otlp/v1/metrics` (`--web.enable-otlp-receiver`),
//! after Prometheus 3.9's `otlpWriteHandler`.
//!
//! - `model.rs`: the subset of OTLP's metrics data model the receiver uses;
//! - `codec.rs`: protobuf decoding (by hand, over `proto.rs`) and encoding;
//! - `json.rs`: OTLP/JSON decoding;
//! - `naming.rs`: metric, unit and label names as `prometheus/otlptranslator` v1.0.0;
//! - `translate.rs`: data points to samples, as Prometheus' `prometheusremotewrite` package;
//! - `delta.rs`: delta temporality accumulated into cumulative;
//! - `handler.rs` (with the `receiver` feature): HTTP, appending, the response.

pub mod codec;
#[cfg(feature = "receiver")]
pub mod delta;
#[cfg(feature = "receiver")]
pub mod handler;
pub mod json;
pub mod model;
pub mod naming;
#[cfg(feature = "receiver")]
pub mod translate;

pub use model::ExportRequest;

#[cfg(feature = "receiver")]
pub use handler::{router, Receiver};
#[cfg(feature = "receiver")]
pub use translate::Settings;

/// The OTLP receiver's metrics, registered in the daemon's registry.
#[cfg(feature = "receiver")]
#[derive(Clone)]
pub struct OtlpMetrics {
    pub(crate) requests: std::sync::Arc<sightline_telemetry::CounterVec>,
    pub(crate) points: std::sync::Arc<sightline_telemetry::Counter>,
    pub(crate) points_rejected: std::sync::Arc<sightline_telemetry::CounterVec>,
    pub(crate) written: std::sync::Arc<sightline_telemetry::Counter>,
    pub(crate) samples_rejected: std::sync::Arc<sightline_telemetry::CounterVec>,
    pub(crate) streams: std::sync::Arc<sightline_telemetry::Gauge>,
    pub(crate) evicted: std::sync::Arc<sightline_telemetry::Counter>,
    pub(crate) expired: std::sync::Arc<sightline_telemetry::Counter>,
}

#[cfg(feature = "receiver")]
impl OtlpMetrics {
    /// Registers the metrics in `registry`.
    pub fn new(registry: &sightline_telemetry::Registry) -> Self {
        OtlpMetrics {
            requests: registry.counter_vec(
                "sightline_otlp_requests",
                "OTLP metrics export requests received, by encoding (protobuf, json, unknown) and status code.",
                &["encoding", "code"],
            ),
            points: registry.counter(
                "sightline_otlp_datapoints_received",
                "OTLP data points received in well-formed requests.",
            ),
            points_rejected: registry.counter_vec(
                "sightline_otlp_datapoints_rejected",
                "OTLP data points not translated, by reason (invalid: bad temporality, scale, \
                 name or label).",
                &["reason"],
            ),
            written: registry.counter(
                "sightline_otlp_samples_written",
                "Samples translated from OTLP data points and committed to storage.",
            ),
            samples_rejected: registry.counter_vec(
                "sightline_otlp_samples_rejected",
                "Translated samples not stored, by reason (out_of_order, duplicate, out_of_bounds, \
                 too_far_in_future, delta_out_of_order, rolled_back).",
                &["reason"],
            ),
            streams: registry.gauge(
                "sightline_otlp_delta_streams",
                "Delta series held by the delta-to-cumulative accumulator.",
            ),
            evicted: registry.counter(
                "sightline_otlp_delta_streams_evicted",
                "Delta series evicted from the full accumulator (their next point restarts the cumulative sum).",
            ),
            expired: registry.counter(
                "sightline_otlp_delta_streams_expired",
                "Delta series forgotten after 5 minutes without a point.",
            ),
        }
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        OtlpMetrics::new(&sightline_telemetry::Registry::new())
    }
}
