//! Scraping: turns a validated scrape configuration into one task per target that fetches
//! the target's exposition on Prometheus' schedule, parses it, applies target labels and
//! metric relabelling, appends to storage and writes staleness markers.
//!
//! Data flow: [`ScrapeManager::apply_config`] → one pool per job (targets from static and
//! file-based discovery, relabelled) → one [`loop`](scrape_loop) task per target (HTTP
//! targets on the scrape shards' one-worker runtimes) →
//! [`sightline_storage_api::Appendable`].
//!
//! Invariant: this crate never names a storage engine or wasmtime. Exporter plugins reach it
//! through the [`PluginCollector`] trait, which the daemon implements.
//! Invariant: a scrape failure of any kind is reported in the target's status and as
//! `up == 0`; it never ends the loop or the process.

mod append;
pub mod client;
mod error;
mod fetch;
mod histograms;
mod manager;
mod scrape_loop;
mod shards;
mod target;

pub use append::{AppendOutcome, ScrapeCache};
pub use error::{Error, Result};
pub use manager::{ScrapeManager, ScrapeMetrics};
pub use target::{DroppedTarget, TargetHealth, TargetSnapshot};

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// The target an exporter plugin is called for: what an HTTP scrape would put in the URL.
/// Each target of a plugin job (static, file_sd, or the implicit one) gets its own calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginTarget {
    /// The target's `__address__` after relabelling; the plugin's name for the implicit
    /// target of a job without `static_configs`/`file_sd_configs`.
    pub address: String,
    /// The job's `params`, each `__param_<name>` label replacing the first value of `<name>`,
    /// exactly as for an HTTP target's URL.
    pub params: BTreeMap<String, Vec<String>>,
    /// The target's public labels after relabelling (`job`, `instance`, ..., none of the
    /// `__`-prefixed ones), which plugin contract 0.2 hands to the exporter.
    pub labels: sightline_model::Labels,
}

/// Collects metrics from an exporter plugin, returning an exposition in the Prometheus text
/// format. The daemon implements it over the plugin runtime; scrape needs nothing else.
pub trait PluginCollector: Send + Sync {
    /// Runs the named exporter plugin once for `target`. The future must finish by
    /// `timeout` (the target's scrape timeout, which the plugin is told too).
    fn collect<'a>(
        &'a self,
        plugin: &'a str,
        target: &'a PluginTarget,
        timeout: std::time::Duration,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<Vec<u8>, String>> + Send + 'a>>;
}
