//! What a target looks like from outside: the status `/api/v1/targets` shows.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use sightline_model::{Labels, Metadata};

/// Health of a target as Prometheus reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetHealth {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// Last scrape succeeded.
    Up,
    /// Last scrape failed.
    Down,
}

impl TargetHealth {
    /// `up`, `down` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

/// The mutable part of a target's status, written by its loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetStatus {
    pub(crate) health: TargetHealth,
    pub(crate) last_error: String,
    /// Wall-clock time of the last scrape start, ms since the epoch.
    pub(crate) last_scrape_ms: Option<i64>,
    pub(crate) last_duration: Duration,
    pub(crate) last_samples: usize,
    pub(crate) metadata: Vec<(String, Metadata)>,
}

/// A target's identity plus its shared status.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) scrape_pool: String,
    /// Final labels without `__` labels (`labels` in the API).
    pub(crate) labels: Labels,
    /// Labels before relabelling (`discoveredLabels`).
    pub(crate) discovered: Labels,
    pub(crate) url: String,
    /// For a plugin job: the address and params handed to the plugin.
    pub(crate) plugin_target: Option<crate::PluginTarget>,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) status: Arc<RwLock<TargetStatus>>,
}

/// A point-in-time copy of one active target, for the API.
#[derive(Debug, Clone)]
pub struct TargetSnapshot {
    /// Job name.
    pub scrape_pool: String,
    /// Final target labels.
    pub labels: Labels,
    /// Labels before relabelling.
    pub discovered_labels: Labels,
    /// The URL scraped (or `plugin://<name>[/<address>][?<params>]` for plugin targets).
    pub scrape_url: String,
    /// Last error, empty when the last scrape succeeded.
    pub last_error: String,
    /// Start of the last scrape, ms since the epoch.
    pub last_scrape_ms: Option<i64>,
    /// Duration of the last scrape.
    pub last_scrape_duration: Duration,
    /// Health.
    pub health: TargetHealth,
    /// Scrape interval.
    pub scrape_interval: Duration,
    /// Scrape timeout.
    pub scrape_timeout: Duration,
    /// Samples in the last scrape.
    pub last_samples: usize,
    /// Metric metadata from the last scrape.
    pub metadata: Vec<(String, Metadata)>,
}

/// A target removed by relabelling, for the API's `droppedTargets`.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    /// Job name.
    pub scrape_pool: String,
    /// Labels before relabelling.
    pub discovered_labels: Labels,
}

impl Target {
    pub(crate) fn snapshot(&self) -> TargetSnapshot {
        let s = self.status.read().clone();
        TargetSnapshot {
            scrape_pool: self.scrape_pool.clone(),
            labels: self.labels.clone(),
            discovered_labels: self.discovered.clone(),
            scrape_url: sightline_config::redact_url_passwords(&self.url).into_owned(),
            last_error: s.last_error,
            last_scrape_ms: s.last_scrape_ms,
            last_scrape_duration: s.last_duration,
            health: s.health,
            scrape_interval: self.interval,
            scrape_timeout: self.timeout,
            last_samples: s.last_samples,
            metadata: s.metadata,
        }
    }
}
