//! Scraping: turns a validated scrape configuration into one task per target that fetches
//! the target's exposition on Prometheus' schedule, parses it, applies target labels and
//! metric relabelling, appends to storage and writes staleness markers.
//!
//! Data flow: [`ScrapeManager::apply_config`] → one pool per job (targets from static and
//! file-based discovery, relabelled) → one [`loop`](scrape_loop) task per target →
//! [`sightline_storage_api::Appendable`].
//!
//! Invariant: this crate never names a storage engine or wasmtime. Exporter plugins reach it
//! through the [`PluginCollector`] trait, which the daemon implements.
//! Invariant: a scrape failure of any kind is reported in the target's status and as
//! `up == 0`; it never ends the loop or the process.

mod append;
mod error;
mod fetch;
mod manager;
mod scrape_loop;
mod target;

pub use append::{AppendOutcome, ScrapeCache};
pub use error::{Error, Result};
pub use manager::{ScrapeManager, ScrapeMetrics};
pub use target::{DroppedTarget, TargetHealth, TargetSnapshot};

use std::future::Future;
use std::pin::Pin;

/// Collects metrics from an exporter plugin, returning an exposition in the Prometheus text
/// format. The daemon implements it over the plugin runtime; scrape needs nothing else.
pub trait PluginCollector: Send + Sync {
    /// Runs the named exporter plugin once. The future must finish by `timeout`.
    fn collect<'a>(
        &'a self,
        plugin: &'a str,
        timeout: std::time::Duration,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<Vec<u8>, String>> + Send + 'a>>;
}
