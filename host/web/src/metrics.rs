//! The web crate's own metrics, registered in the daemon's registry as other subsystems do.

use std::sync::Arc;

use sightline_telemetry::{CounterVec, Gauge, Registry};

/// `sightline_web_ui_requests_total{class,code}`: UI requests by asset class and status.
pub const UI_REQUESTS: &str = "sightline_web_ui_requests";
/// `sightline_web_dashboards`: dashboards in the store (plugin dashboards not counted).
pub const DASHBOARDS: &str = "sightline_web_dashboards";
/// `sightline_web_dashboard_writes_total{op,outcome}`: saves and deletes through the API.
pub const DASHBOARD_WRITES: &str = "sightline_web_dashboard_writes";

/// Handles to the metrics; cheap to clone.
#[derive(Clone)]
pub struct WebMetrics {
    pub(crate) ui_requests: Arc<CounterVec>,
    pub(crate) dashboards: Arc<Gauge>,
    pub(crate) dashboard_writes: Arc<CounterVec>,
}

impl WebMetrics {
    /// Registers the metrics in `registry`.
    pub fn new(registry: &Registry) -> Self {
        WebMetrics {
            ui_requests: registry.counter_vec(
                UI_REQUESTS,
                "Requests for the web UI's files by asset class and status code.",
                &["class", "code"],
            ),
            dashboards: registry.gauge(DASHBOARDS, "Dashboards stored through the Grafana API."),
            dashboard_writes: registry.counter_vec(
                DASHBOARD_WRITES,
                "Dashboard saves and deletes through the Grafana API by outcome.",
                &["op", "outcome"],
            ),
        }
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        WebMetrics::new(&Registry::new())
    }
}
