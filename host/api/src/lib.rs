//! The HTTP surface of the daemon: Prometheus' API v1 (same paths, envelopes, error types and
//! number encoding), `/federate`, the management endpoints (`/-/healthy`, `/-/ready`, `/-/reload`,
//! `/-/quit`) and `/metrics`.
//!
//! Invariant: this is the only crate that knows JSON wire shapes; domain types are converted
//! by hand in [`dto`]. It reads state through the narrow [`ApiState`] handles and never owns a
//! subsystem.
//! Boundary: [`shell_router`] (health, readiness, lifecycle, `/metrics`, the route prefix,
//! and the web UI's router the daemon hands it in [`ShellOptions::ui`]) around [`router`]
//! (everything else) is the whole public surface; tests drive it with
//! `oneshot`. Authentication, TLS and connection limits wrap it in the daemon.

mod admin;
pub mod costs;
mod dto;
mod error;
mod federate;
mod params;
mod query;
mod render;
mod render_num;
mod routes;
mod running;

pub use admin::{StorageAdmin, TsdbStatus};
pub use costs::QueryCosts;
pub use error::{ApiError, ErrorType};
pub use federate::{federate_router, FederateOptions};
pub use render::query_json;
pub use routes::{
    prometheus_cors, router, shell_router, ApiState, BuildInfo, MetricsRenderer, QuitFn, ReloadFn,
    Shell, ShellOptions, TargetsSource, MAX_BODY_BYTES,
};
pub use running::RunningQueries;
