//! `sightline-config`: Sightline's reading of `prometheus.yml` and of the web configuration
//! file, plus the pieces of Prometheus semantics that live next to the configuration:
//! relabeling ([`relabel`]), target label assembly ([`populate_labels`]) and file service
//! discovery parsing ([`read_file_sd`]).
//!
//! Loading is two-stage. Raw `serde` structs list every key Prometheus accepts (an unknown key
//! is an error) and validate each value while serde_yaml still knows its position; they are
//! converted into the typed structs ([`Config`], [`ScrapeConfig`], ...) with Prometheus'
//! defaults filled in. Checks that span blocks (a job inheriting `global`, duplicate job names,
//! URLs used as targets) run afterwards and are located by re-walking the document. Every error
//! reads `file:line:col: message`. An empty file is the default configuration; in a file with
//! several YAML documents only the first counts, as in Prometheus.
//!
//! Semantics follow Prometheus 3: no default port is added to targets; label names follow the
//! UTF-8 rules (any non-empty string) unless `metric_name_validation_scheme: legacy` asks for
//! `[a-zA-Z_][a-zA-Z0-9_]*`, and relabel rules inherit that scheme from their scrape config (or
//! `global`) as in Prometheus; `scrape_protocols` defaults to OpenMetrics first (protobuf first
//! when `scrape_native_histograms` is on, unless `global` lists protocols); environment
//! variables (`$VAR`, `${VAR}`) in `external_labels` values are expanded, as Prometheus 3 does. `oauth2` is implemented
//! for every HTTP client and `sigv4` for `remote_write` (static credentials only: `profile` and
//! `role_arn` are rejected); `sigv4` elsewhere, `azuread` and `google_iam` are rejected as
//! unsupported, and so is every service discovery other than `static_configs` and
//! `file_sd_configs`. `tracing` is validated and kept but not acted upon; `otlp` configures the OTLP
//! receiver (as Prometheus 3.9's `OTLPConfig`); `runtime` is accepted and ignored.
//!
//! # The `plugin` extension
//!
//! A scrape job may name an exporter plugin instead of HTTP targets:
//!
//! ```yaml
//! scrape_configs:
//!   - job_name: node
//!     plugin: node-exporter
//! ```
//!
//! Such a job's samples come from the plugin, not from HTTP. Intervals, timeouts, limits,
//! `honor_*`, relabeling and target labels keep their meaning; the HTTP client keys (`scheme`,
//! `metrics_path`, auth, TLS, proxy) are accepted and unused. `static_configs` and
//! `file_sd_configs` are allowed (for exporters that reach a remote system): each target is
//! its own plugin call, which is handed the target's `__address__`, its `params` (the job's,
//! with `__param_<name>` labels applied, as an HTTP target's URL parameters) and the scrape
//! timeout, as the config values `__address__`, `__param_<name>` and
//! `__scrape_timeout_seconds__`. Without targets, the job has one implicit target whose
//! `__address__` (and so `instance`) is the plugin name; see
//! [`ScrapeConfig::static_target_groups`]. A plugin name is letters, digits, `-`, `_` and `.`,
//! starting with a letter or digit.
//!
//! This crate knows nothing of scraping, HTTP serving, storage or plugins' runtime: it turns
//! files into validated values. Watching files for changes is the scrape crate's job.

mod check;
mod config;
mod de;
mod error;
mod file_sd;
mod http;
mod receivers;
mod relabel;
mod ser;
mod target;
pub mod web;

use std::path::Path;

pub use check::{check_config_file, CheckReport};
pub use config::{
    AlertingConfig, AlertmanagerConfig, Config, FileSdConfig, GlobalConfig, MetadataConfig,
    OtlpConfig, QueueConfig, RemoteReadConfig, RemoteWriteConfig, Scheme, ScrapeConfig,
    ScrapeProtocol, SigV4Config, StorageConfig, TracingConfig, TRANSLATION_STRATEGIES,
};
pub use de::{format_bytes, parse_bytes};
/// Positions in YAML sources, for crates that validate YAML files of their own (rule files).
pub mod yaml {
    pub use crate::de::{check_yaml_nesting, locate, Seg};
}
pub use error::{Error, Result};
pub use file_sd::{expand_file_sd_globs, parse_file_sd, read_file_sd};
pub use http::{
    redact_url_passwords, Authorization, BasicAuth, HeaderValues, HttpClientConfig, OAuth2, Secret,
    TlsConfig, TlsVersion, REDACTED_PASSWORD,
};
pub use receivers::{
    expand_vars, expand_vars_outside_templates, load_receivers_file, load_receivers_str,
    valid_plugin_name, Integration, Receiver,
};
pub use relabel::{
    expand, hashmod, relabel, relabel_builder, Action, NameValidation, Regex, RelabelConfig,
};
pub use target::{
    alertmanager_url, populate_alertmanager_labels, populate_labels, PopulatedTarget, TargetGroup,
    ADDRESS_LABEL, ALERTS_PATH_LABEL, FILEPATH_LABEL, META_LABEL_PREFIX, METRICS_PATH_LABEL,
    PARAM_LABEL_PREFIX, SCHEME_LABEL, SCRAPE_INTERVAL_LABEL, SCRAPE_TIMEOUT_LABEL,
};

/// The configuration Sightline runs when no `--config.file` is given: it scrapes its own
/// `/metrics` at 127.0.0.1:9090 and the node exporter plugin, every 15s.
pub const DEFAULT_CONFIG_YAML: &str = "\
# Sightline's embedded default configuration.
global:
  scrape_interval: 15s
  evaluation_interval: 15s

scrape_configs:
  - job_name: sightline
    static_configs:
      - targets: ['127.0.0.1:9090']

  - job_name: node
    plugin: node-exporter
";

/// The name [`default_config`] reports in errors and in `check config`.
pub const DEFAULT_CONFIG_NAME: &str = "<embedded default config>";

/// Parses [`DEFAULT_CONFIG_YAML`].
pub fn default_config() -> Result<Config> {
    load_str(DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_NAME)
}

/// Parses and validates a configuration held in memory. `source_name` prefixes error
/// positions. Relative paths stay as written (see [`Config::set_directory`]).
pub fn load_str(yaml: &str, source_name: &str) -> Result<Config> {
    config::parse(yaml, source_name)
}

/// Reads, parses and validates a configuration file. Relative paths in it (rule files, file SD
/// files, credentials and TLS files) are made relative to the file's directory, and the jobs of
/// `scrape_config_files` are loaded and appended, as Prometheus does.
pub fn load_file(path: impl AsRef<Path>) -> Result<Config> {
    let path = path.as_ref();
    let src = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut cfg = config::parse(&src, &path.display().to_string())?;
    if let Some(dir) = path.parent() {
        cfg.set_directory(dir);
    }
    cfg.load_scrape_config_files()?;
    Ok(cfg)
}
