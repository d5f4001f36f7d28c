//! The web UI and the Grafana-compatible HTTP API.
//!
//! - [`ui_router`]: the single-page app's files, embedded at compile time from `ui/`
//!   (`build.rs`), gzip-compressed once at startup, served with strong ETags, `304`s and
//!   caching headers, and `index.html` (its `<base href>` rewritten) for every path that is
//!   not a file. The daemon hands it to the API crate's shell, which serves it before storage
//!   is ready, so the page can say "starting". [`UI_DIR_ENV`] serves a directory instead
//!   (development).
//! - [`grafana_router`]: `/api/health`, `/api/datasources`, `/api/dashboards/db`,
//!   `/api/dashboards/uid/<uid>` and `/api/search` over a durable [`DashboardStore`] and the
//!   plugins' read-only dashboards ([`PluginDashboards`], handed in later). It is served
//!   from the shell too ([`GRAFANA_API_PATHS`]): a setup script may post while the daemon
//!   starts.
//!
//! Boundary: this crate knows nothing of storage, rules or plugins; the daemon hands it a
//! directory, a [`DashboardSource`] and strings. The API crate does not depend on it.

mod assets;
mod error;
mod grafana;
mod metrics;

pub use assets::{normalize_base, ui_router, UiOptions, UI_DIR_ENV};
pub use error::WebError;
pub use grafana::{
    grafana_router, Dashboard, DashboardSource, DashboardStore, GrafanaOptions, PluginDashboards,
    GRAFANA_API_PATHS,
};
pub use metrics::{WebMetrics, DASHBOARDS, DASHBOARD_WRITES, UI_REQUESTS};
