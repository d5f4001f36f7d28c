//! `scrape_configs` entries and file SD settings; `global` is applied in [`PartialScrape::finish`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use sightline_model::Labels;

use super::*;
use crate::de::{map_with, scalar_with, ByteSize, Dur, Seg, Str};
use crate::http::{build_http, with_http_client, HttpClientConfig};
use crate::relabel::{NameValidation, RelabelConfig};
use crate::target::{check_target_address, TargetGroup};

/// A `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSdConfig {
    /// File patterns (`*` only in the last path element), relative to the config file's directory.
    pub files: Vec<String>,
    /// Re-read interval (default 5m).
    #[serde(serialize_with = "crate::ser::dur")]
    pub refresh_interval: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileSd {
    files: Option<Vec<FileSdPattern>>,
    refresh_interval: Option<Dur>,
}

struct FileSdPattern(String);

impl<'de> Deserialize<'de> for FileSdPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a file pattern", |s| {
            if is_file_sd_pattern(s) {
                Ok(FileSdPattern(s.to_string()))
            } else {
                Err(format!("path name {s:?} is not valid for file discovery"))
            }
        })
    }
}

/// `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
fn is_file_sd_pattern(s: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|e| s.strip_suffix(e).is_some_and(|p| p.ends_with('.')));
    ext_ok && is_rule_path(s)
}

impl<'de> Deserialize<'de> for FileSdConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawFileSd| {
            let files: Vec<String> = r
                .files
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.0)
                .collect();
            if files.is_empty() {
                return Err(
                    "file service discovery config must contain at least one path name".into(),
                );
            }
            Ok(FileSdConfig {
                files,
                refresh_interval: nz(r.refresh_interval).unwrap_or(Duration::from_secs(300)),
            })
        })
    }
}

/// A `scrape_configs` entry with defaults and `global` inheritance applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScrapeConfig {
    /// Unique job name, the default `job` label.
    pub job_name: String,
    /// Sightline extension: the exporter plugin that produces this job's samples (see the crate
    /// docs). `None` for ordinary HTTP jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// Keep the scraped labels on conflict (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub honor_labels: bool,
    /// Keep scraped timestamps (default true).
    pub honor_timestamps: bool,
    /// Track staleness of explicit timestamps (default false).
    pub track_timestamps_staleness: bool,
    /// URL query parameters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    /// Scrape interval (inherited from `global`).
    #[serde(serialize_with = "crate::ser::dur")]
    pub scrape_interval: Duration,
    /// Scrape timeout (inherited from `global`, at most the interval).
    #[serde(serialize_with = "crate::ser::dur")]
    pub scrape_timeout: Duration,
    /// Protocols offered in `Accept`, most preferred first.
    pub scrape_protocols: Vec<ScrapeProtocol>,
    /// Format used when the target's `Content-Type` is missing or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    /// Scrape native histograms.
    pub scrape_native_histograms: bool,
    /// Keep classic histograms when native ones exist.
    pub always_scrape_classic_histograms: bool,
    /// Convert classic histograms to NHCB.
    pub convert_classic_histograms_to_nhcb: bool,
    /// Store the extra scrape metrics.
    pub extra_scrape_metrics: bool,
    /// Scrape failure log file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// HTTP path (default `/metrics`).
    pub metrics_path: String,
    /// `http` (default) or `https`.
    pub scheme: Scheme,
    /// Ask for compressed responses (default true).
    pub enable_compression: bool,
    /// Uncompressed body size limit in bytes (0 = none).
    #[serde(
        skip_serializing_if = "crate::ser::is_zero",
        serialize_with = "crate::ser::bytes"
    )]
    pub body_size_limit: u64,
    /// Samples per scrape after metric relabeling (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub sample_limit: u64,
    /// Targets per job after relabeling (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub target_limit: u64,
    /// Labels per series (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_limit: u64,
    /// Label name length (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_name_length_limit: u64,
    /// Label value length (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_value_length_limit: u64,
    /// Native histogram bucket limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub native_histogram_bucket_limit: u64,
    /// Native histogram minimum bucket growth factor (0 = none).
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub native_histogram_min_bucket_factor: f64,
    /// Dropped targets kept for the API (0 = all).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub keep_dropped_targets: u64,
    /// `utf8` or `legacy`.
    pub metric_name_validation_scheme: String,
    /// Escaping scheme requested from targets (`allow-utf-8`, `underscores`, `dots`, `values`).
    pub metric_name_escaping_scheme: String,
    /// HTTP client settings (auth, TLS, proxy, redirects).
    #[serde(flatten)]
    pub http: HttpClientConfig,
    /// Target relabeling.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Metric relabeling.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Static target groups; their `source` is their index.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<TargetGroup>,
    /// File service discovery.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_sd_configs: Vec<FileSdConfig>,
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// Where a bare `plugin:` job's single implicit target points: `__address__` is the plugin name.
impl ScrapeConfig {
    /// The static target groups to scrape. A plugin job without `static_configs` and
    /// `file_sd_configs` gets one implicit target whose `__address__` is the plugin name.
    pub fn static_target_groups(&self) -> Vec<TargetGroup> {
        if let Some(p) = &self.plugin {
            if self.static_configs.is_empty() && self.file_sd_configs.is_empty() {
                let t = Labels::from_pairs([(crate::target::ADDRESS_LABEL, p.as_str())]);
                return vec![TargetGroup {
                    targets: vec![t],
                    labels: Labels::empty(),
                    source: "0".into(),
                }];
            }
        }
        self.static_configs.clone()
    }

    /// The `Accept` header Prometheus sends for this job (scrape.go `acceptHeader`): the
    /// protocols in order with decreasing `q`, the escaping scheme on the 1.0.0 text formats,
    /// then `*/*`.
    pub fn accept_header(&self) -> String {
        let mut weight = 6; // len(ScrapeProtocolsHeaders) + 1
        let mut vals = Vec::with_capacity(self.scrape_protocols.len() + 1);
        for p in &self.scrape_protocols {
            let mut v = p.header_value().to_string();
            if matches!(
                p,
                ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0
            ) {
                v.push_str(";escaping=");
                v.push_str(&self.metric_name_escaping_scheme);
            }
            v.push_str(&format!(";q=0.{weight}"));
            vals.push(v);
            weight -= 1;
        }
        vals.push(format!("*/*;q=0.{weight}"));
        vals.join(",")
    }

    /// The `Accept-Encoding` header: `gzip` unless `enable_compression: false`.
    pub fn accept_encoding_header(&self) -> &'static str {
        if self.enable_compression {
            "gzip"
        } else {
            "identity"
        }
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.http.set_directory(dir);
        for f in &mut self.file_sd_configs {
            for p in &mut f.files {
                *p = join_dir(dir, p);
            }
        }
        if let Some(f) = &mut self.scrape_failure_log_file {
            *f = join_dir(dir, f);
        }
    }
}

with_http_client! {
    struct RawScrape {
        job_name: Option<Str>,
        plugin: Option<PluginName>,
        honor_labels: Option<bool>,
        honor_timestamps: Option<bool>,
        track_timestamps_staleness: Option<bool>,
        params: Option<BTreeMap<String, Vec<Str>>>,
        scrape_interval: Option<Dur>,
        scrape_timeout: Option<Dur>,
        scrape_protocols: Option<Vec<ScrapeProtocol>>,
        fallback_scrape_protocol: Option<FallbackProtocol>,
        scrape_native_histograms: Option<bool>,
        always_scrape_classic_histograms: Option<bool>,
        convert_classic_histograms_to_nhcb: Option<bool>,
        extra_scrape_metrics: Option<bool>,
        scrape_failure_log_file: Option<Str>,
        metrics_path: Option<Str>,
        scheme: Option<Scheme>,
        enable_compression: Option<bool>,
        body_size_limit: Option<ByteSize>,
        sample_limit: Option<u64>,
        target_limit: Option<u64>,
        label_limit: Option<u64>,
        label_name_length_limit: Option<u64>,
        label_value_length_limit: Option<u64>,
        native_histogram_bucket_limit: Option<u64>,
        native_histogram_min_bucket_factor: Option<f64>,
        keep_dropped_targets: Option<u64>,
        metric_name_validation_scheme: Option<SchemeName>,
        metric_name_escaping_scheme: Option<Str>,
        relabel_configs: Option<Vec<Option<RelabelConfig>>>,
        metric_relabel_configs: Option<Vec<Option<RelabelConfig>>>,
        static_configs: Option<Vec<Option<TargetGroup>>>,
        file_sd_configs: Option<Vec<FileSdConfig>>,
    }
}

/// A plugin name: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
struct PluginName(String);

impl<'de> Deserialize<'de> for PluginName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a plugin name", |s| {
            let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if ok {
                Ok(PluginName(s.to_string()))
            } else {
                Err(format!("{s:?} is not a valid plugin name"))
            }
        })
    }
}

/// A scrape config before `global` is applied: what was left unset stays `None`.
pub(crate) struct PartialScrape {
    cfg: ScrapeConfig,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    protocols: Option<Vec<ScrapeProtocol>>,
    body_size_limit: Option<u64>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    keep_dropped_targets: Option<u64>,
    native_histograms: Option<bool>,
    always_classic: Option<bool>,
    nhcb: Option<bool>,
    extra_metrics: Option<bool>,
    validation_scheme: Option<String>,
    escaping_scheme: Option<String>,
}

impl<'de> Deserialize<'de> for PartialScrape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |mut r: RawScrape| {
            let job_name = r.job_name.take().map(|s| s.0).unwrap_or_default();
            if job_name.is_empty() {
                return Err("job_name is empty".to_string());
            }
            let http = build_http(r.take_http(), true)?;
            let relabel_configs = relabel_list(
                r.relabel_configs,
                "empty or null target relabeling rule in scrape config",
            )?;
            let metric_relabel_configs = relabel_list(
                r.metric_relabel_configs,
                "empty or null metric relabeling rule in scrape config",
            )?;
            let static_configs = static_groups(r.static_configs)?;
            let cfg = ScrapeConfig {
                job_name,
                plugin: r.plugin.map(|p| p.0),
                honor_labels: r.honor_labels.unwrap_or(false),
                honor_timestamps: r.honor_timestamps.unwrap_or(true),
                track_timestamps_staleness: r.track_timestamps_staleness.unwrap_or(false),
                params: r
                    .params
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.into_iter().map(|s| s.0).collect()))
                    .collect(),
                scrape_interval: Duration::ZERO,
                scrape_timeout: Duration::ZERO,
                scrape_protocols: Vec::new(),
                fallback_scrape_protocol: r.fallback_scrape_protocol.map(|p| p.0),
                scrape_native_histograms: false,
                always_scrape_classic_histograms: false,
                convert_classic_histograms_to_nhcb: false,
                extra_scrape_metrics: false,
                scrape_failure_log_file: nonempty(r.scrape_failure_log_file),
                metrics_path: r
                    .metrics_path
                    .map(|s| s.0)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "/metrics".into()),
                scheme: r.scheme.unwrap_or_default(),
                enable_compression: r.enable_compression.unwrap_or(true),
                body_size_limit: 0,
                sample_limit: 0,
                target_limit: 0,
                label_limit: 0,
                label_name_length_limit: 0,
                label_value_length_limit: 0,
                native_histogram_bucket_limit: r.native_histogram_bucket_limit.unwrap_or(0),
                native_histogram_min_bucket_factor: r
                    .native_histogram_min_bucket_factor
                    .unwrap_or(0.0),
                keep_dropped_targets: 0,
                metric_name_validation_scheme: String::new(),
                metric_name_escaping_scheme: String::new(),
                http,
                relabel_configs,
                metric_relabel_configs,
                static_configs,
                file_sd_configs: r.file_sd_configs.unwrap_or_default(),
            };
            Ok(PartialScrape {
                cfg,
                interval: nz(r.scrape_interval),
                timeout: nz(r.scrape_timeout),
                protocols: r.scrape_protocols,
                body_size_limit: nz_u64(r.body_size_limit.map(|b| b.0)),
                sample_limit: nz_u64(r.sample_limit),
                target_limit: nz_u64(r.target_limit),
                label_limit: nz_u64(r.label_limit),
                label_name_length_limit: nz_u64(r.label_name_length_limit),
                label_value_length_limit: nz_u64(r.label_value_length_limit),
                keep_dropped_targets: nz_u64(r.keep_dropped_targets),
                native_histograms: r.scrape_native_histograms,
                always_classic: r.always_scrape_classic_histograms,
                nhcb: r.convert_classic_histograms_to_nhcb,
                extra_metrics: r.extra_scrape_metrics,
                validation_scheme: r
                    .metric_name_validation_scheme
                    .map(|s| s.0)
                    .filter(|s| !s.is_empty()),
                escaping_scheme: nonempty(r.metric_name_escaping_scheme),
            })
        })
    }
}

impl PartialScrape {
    /// Prometheus' `ScrapeConfig.Validate(global)`; errors carry the path of the culprit.
    pub(super) fn finish(self, g: &GlobalConfig) -> Result<ScrapeConfig, (Vec<Seg>, String)> {
        let mut c = self.cfg;
        c.scrape_interval = self.interval.unwrap_or(g.scrape_interval);
        if let Some(t) = self.timeout {
            if t > c.scrape_interval {
                return Err((
                    vec!["scrape_timeout".into()],
                    format!("scrape timeout greater than scrape interval for scrape config with job name {:?}", c.job_name),
                ));
            }
        }
        c.scrape_timeout = self
            .timeout
            .unwrap_or(g.scrape_timeout.min(c.scrape_interval));
        c.body_size_limit = self.body_size_limit.unwrap_or(g.body_size_limit);
        c.sample_limit = self.sample_limit.unwrap_or(g.sample_limit);
        c.target_limit = self.target_limit.unwrap_or(g.target_limit);
        c.label_limit = self.label_limit.unwrap_or(g.label_limit);
        c.label_name_length_limit = self
            .label_name_length_limit
            .unwrap_or(g.label_name_length_limit);
        c.label_value_length_limit = self
            .label_value_length_limit
            .unwrap_or(g.label_value_length_limit);
        c.keep_dropped_targets = self.keep_dropped_targets.unwrap_or(g.keep_dropped_targets);
        c.scrape_native_histograms = self.native_histograms.unwrap_or(g.scrape_native_histograms);
        c.always_scrape_classic_histograms = self
            .always_classic
            .unwrap_or(g.always_scrape_classic_histograms);
        c.convert_classic_histograms_to_nhcb =
            self.nhcb.unwrap_or(g.convert_classic_histograms_to_nhcb);
        c.extra_scrape_metrics = self.extra_metrics.unwrap_or(g.extra_scrape_metrics);
        // Prometheus' name validation and escaping inheritance (config.go ScrapeConfig.Validate).
        let local_unset = self.validation_scheme.is_none();
        c.metric_name_validation_scheme = self
            .validation_scheme
            .unwrap_or_else(|| g.metric_name_validation_scheme.clone());
        let global_escaping = match g.metric_name_escaping_scheme.as_deref() {
            None if g.metric_name_validation_scheme == "legacy" => "underscores".to_string(),
            None => "allow-utf-8".to_string(),
            Some(e) if ESCAPING_SCHEMES.contains(&e) => e.to_string(),
            Some(e) => {
                return Err((
                    vec!["metric_name_escaping_scheme".into()],
                    format!("unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {e:?}"),
                ))
            }
        };
        let escaping = match self.escaping_scheme {
            Some(e) => e,
            None if local_unset => global_escaping,
            None if c.metric_name_validation_scheme == "legacy" => "underscores".to_string(),
            None => "allow-utf-8".to_string(),
        };
        if escaping == "allow-utf-8" && c.metric_name_validation_scheme != "utf8" {
            return Err((
                vec![],
                "utf8 metric names requested but validation scheme is not set to UTF8".to_string(),
            ));
        }
        if !ESCAPING_SCHEMES.contains(&escaping.as_str()) {
            return Err((
                vec!["metric_name_escaping_scheme".into()],
                format!("unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {escaping:?}"),
            ));
        }
        c.metric_name_escaping_scheme = escaping;
        let scheme = NameValidation::from_scheme(&c.metric_name_validation_scheme);
        apply_name_validation(&mut c.relabel_configs, scheme, "relabel_configs")?;
        apply_name_validation(
            &mut c.metric_relabel_configs,
            scheme,
            "metric_relabel_configs",
        )?;
        let (protocols, explicit) = match (self.protocols, &g.scrape_protocols) {
            (Some(p), _) => (p, true),
            (None, Some(p)) => (p.clone(), false),
            (None, None) if c.scrape_native_histograms => {
                let mut v = vec![ScrapeProtocol::PrometheusProto];
                v.extend(ScrapeProtocol::DEFAULT);
                (v, false)
            }
            (None, None) => (ScrapeProtocol::DEFAULT.to_vec(), false),
        };
        if explicit {
            validate_protocols(&protocols).map_err(|e| {
                (
                    vec!["scrape_protocols".into()],
                    format!("{e} for scrape config with job name {:?}", c.job_name),
                )
            })?;
        }
        c.scrape_protocols = protocols;
        // Prometheus' checkStaticTargets: URLs are not targets unless relabeling rewrites them.
        if c.relabel_configs.is_empty() {
            for (gi, g) in c.static_configs.iter().enumerate() {
                for (ti, t) in g.addresses().enumerate() {
                    check_target_address(t).map_err(|e| {
                        (
                            vec![
                                "static_configs".into(),
                                gi.into(),
                                "targets".into(),
                                ti.into(),
                            ],
                            e,
                        )
                    })?;
                }
            }
        }
        Ok(c)
    }
}
