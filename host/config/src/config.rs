//! The typed configuration and its two-stage loading: raw `serde` structs (every key known,
//! values validated where they are read) → typed structs with Prometheus' defaults, then the
//! checks that span blocks (inheritance from `global`, unique job names), located with
//! [`crate::de::locate`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sightline_model::Labels;

use crate::de::{self, map_with, scalar_with, ByteSize, Dur, LabelMap, Seg, Str, UrlValue};
use crate::error::{Error, Result};
use crate::http::{build_http, with_http_client, HttpClientConfig};
use crate::relabel::{NameValidation, RelabelConfig};
use crate::target::{check_target_address, TargetGroup};

/// A scrape protocol that can be negotiated with `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// `PrometheusProto` (protobuf; Sightline's scraper may not implement it).
    PrometheusProto,
    /// `PrometheusText0.0.4`.
    PrometheusText0_0_4,
    /// `PrometheusText1.0.0`.
    PrometheusText1_0_0,
    /// `OpenMetricsText0.0.1`.
    OpenMetricsText0_0_1,
    /// `OpenMetricsText1.0.0`.
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    /// Prometheus' default order: OpenMetrics 1.0.0, OpenMetrics 0.0.1, text 1.0.0, text 0.0.4.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
        }
    }

    /// The media type with version parameter used in the `Accept` header.
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "PrometheusProto" => ScrapeProtocol::PrometheusProto,
            "PrometheusText0.0.4" => ScrapeProtocol::PrometheusText0_0_4,
            "PrometheusText1.0.0" => ScrapeProtocol::PrometheusText1_0_0,
            "OpenMetricsText0.0.1" => ScrapeProtocol::OpenMetricsText0_0_1,
            "OpenMetricsText1.0.0" => ScrapeProtocol::OpenMetricsText1_0_0,
            _ => {
                return Err(format!(
                    "unknown scrape protocol {s}, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"
                ))
            }
        })
    }
}

impl<'de> Deserialize<'de> for ScrapeProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a scrape protocol", |s| {
            ScrapeProtocol::parse(s).map_err(|e| format!("scrape_protocols: {e}"))
        })
    }
}

/// `fallback_scrape_protocol`, reported as Prometheus does.
struct FallbackProtocol(ScrapeProtocol);

impl<'de> Deserialize<'de> for FallbackProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a scrape protocol", |s| {
            ScrapeProtocol::parse(s)
                .map(FallbackProtocol)
                .map_err(|e| format!("invalid fallback_scrape_protocol: {e}"))
        })
    }
}

impl Serialize for ScrapeProtocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

fn validate_protocols(p: &[ScrapeProtocol]) -> Result<(), String> {
    if p.is_empty() {
        return Err("scrape_protocols cannot be empty".into());
    }
    for (i, a) in p.iter().enumerate() {
        if p[..i].contains(a) {
            let names: Vec<&str> = p.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                names.join(" ")
            ));
        }
    }
    Ok(())
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Plain HTTP (the default).
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl<'de> Deserialize<'de> for Scheme {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a URL scheme", |s| match s {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            _ => Err(format!("scheme must be \"http\" or \"https\", got {s:?}")),
        })
    }
}

impl Serialize for Scheme {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `metric_name_validation_scheme`: `utf8`, `legacy` or empty (unset).
fn validation_scheme(s: &str) -> Result<String, String> {
    match s {
        "" | "utf8" | "legacy" => Ok(s.to_string()),
        _ => Err(format!("unrecognized ValidationScheme: {s:?}")),
    }
}

/// The escaping schemes of `metric_name_escaping_scheme`.
const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Scheme2(String);

impl<'de> Deserialize<'de> for Scheme2 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a validation scheme", |s| {
            validation_scheme(s).map(Scheme2)
        })
    }
}

/// The `global` block, with Prometheus' defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalConfig {
    /// Default scrape interval (default 1m).
    #[serde(serialize_with = "crate::ser::dur")]
    pub scrape_interval: Duration,
    /// Default scrape timeout (default 10s, at most the interval).
    #[serde(serialize_with = "crate::ser::dur")]
    pub scrape_timeout: Duration,
    /// Explicit default scrape protocols; `None` means [`ScrapeProtocol::DEFAULT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Rule evaluation interval (default 1m).
    #[serde(serialize_with = "crate::ser::dur")]
    pub evaluation_interval: Duration,
    /// Rule query offset (default 0).
    #[serde(
        skip_serializing_if = "Duration::is_zero",
        serialize_with = "crate::ser::dur"
    )]
    pub rule_query_offset: Duration,
    /// PromQL query log file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_log_file: Option<String>,
    /// Scrape failure log file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Labels added to series and alerts leaving this server.
    #[serde(
        skip_serializing_if = "Labels::is_empty",
        serialize_with = "crate::ser::labels"
    )]
    pub external_labels: Labels,
    /// Default body size limit in bytes (0 = none).
    #[serde(
        skip_serializing_if = "crate::ser::is_zero",
        serialize_with = "crate::ser::bytes"
    )]
    pub body_size_limit: u64,
    /// Default per-scrape sample limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub sample_limit: u64,
    /// Default per-job target limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub target_limit: u64,
    /// Default per-series label count limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_limit: u64,
    /// Default label name length limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_name_length_limit: u64,
    /// Default label value length limit (0 = none).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub label_value_length_limit: u64,
    /// Default number of dropped targets kept for the API (0 = all).
    #[serde(skip_serializing_if = "crate::ser::is_zero")]
    pub keep_dropped_targets: u64,
    /// `utf8` or `legacy`.
    pub metric_name_validation_scheme: String,
    /// Escaping scheme requested from targets, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name_escaping_scheme: Option<String>,
    /// Scrape native histograms (default false).
    pub scrape_native_histograms: bool,
    /// Convert classic histograms to NHCB (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub convert_classic_histograms_to_nhcb: bool,
    /// Keep classic histograms when native ones exist (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub always_scrape_classic_histograms: bool,
    /// Store the extra scrape metrics (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub extra_scrape_metrics: bool,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: None,
            evaluation_interval: Duration::from_secs(60),
            rule_query_offset: Duration::ZERO,
            query_log_file: None,
            scrape_failure_log_file: None,
            external_labels: Labels::empty(),
            body_size_limit: 0,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: "utf8".into(),
            metric_name_escaping_scheme: None,
            scrape_native_histograms: false,
            convert_classic_histograms_to_nhcb: false,
            always_scrape_classic_histograms: false,
            extra_scrape_metrics: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    scrape_interval: Option<Dur>,
    scrape_timeout: Option<Dur>,
    scrape_protocols: Option<Vec<ScrapeProtocol>>,
    evaluation_interval: Option<Dur>,
    rule_query_offset: Option<Dur>,
    query_log_file: Option<Str>,
    scrape_failure_log_file: Option<Str>,
    external_labels: Option<LabelMap>,
    body_size_limit: Option<ByteSize>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    keep_dropped_targets: Option<u64>,
    metric_name_validation_scheme: Option<Scheme2>,
    metric_name_escaping_scheme: Option<Str>,
    scrape_native_histograms: Option<bool>,
    convert_classic_histograms_to_nhcb: Option<bool>,
    always_scrape_classic_histograms: Option<bool>,
    extra_scrape_metrics: Option<bool>,
}

fn nz(d: Option<Dur>) -> Option<Duration> {
    d.map(|d| d.0).filter(|d| !d.is_zero())
}

fn nonempty(s: Option<Str>) -> Option<String> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

impl<'de> Deserialize<'de> for GlobalConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawGlobal| {
            let def = GlobalConfig::default();
            let scrape_interval = nz(r.scrape_interval).unwrap_or(def.scrape_interval);
            let timeout = nz(r.scrape_timeout);
            if timeout.is_some_and(|t| t > scrape_interval) {
                return Err("global scrape timeout greater than scrape interval".to_string());
            }
            if let Some(p) = &r.scrape_protocols {
                validate_protocols(p).map_err(|e| format!("{e} for global config"))?;
            }
            let legacy = r
                .metric_name_validation_scheme
                .as_ref()
                .is_some_and(|s| s.0 == "legacy");
            if legacy {
                for k in r.external_labels.iter().flat_map(|m| m.keys()) {
                    if !sightline_model::is_valid_label_name(&k.0) {
                        return Err(format!("{:?} is not a valid label name", k.0));
                    }
                }
            }
            Ok(GlobalConfig {
                scrape_interval,
                scrape_timeout: timeout.unwrap_or(def.scrape_timeout.min(scrape_interval)),
                scrape_protocols: r.scrape_protocols,
                evaluation_interval: nz(r.evaluation_interval).unwrap_or(def.evaluation_interval),
                rule_query_offset: r.rule_query_offset.map(|d| d.0).unwrap_or_default(),
                query_log_file: nonempty(r.query_log_file),
                scrape_failure_log_file: nonempty(r.scrape_failure_log_file),
                external_labels: Labels::from_pairs(
                    r.external_labels
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k.0, v.0)),
                ),
                body_size_limit: r.body_size_limit.map(|b| b.0).unwrap_or(0),
                sample_limit: r.sample_limit.unwrap_or(0),
                target_limit: r.target_limit.unwrap_or(0),
                label_limit: r.label_limit.unwrap_or(0),
                label_name_length_limit: r.label_name_length_limit.unwrap_or(0),
                label_value_length_limit: r.label_value_length_limit.unwrap_or(0),
                keep_dropped_targets: r.keep_dropped_targets.unwrap_or(0),
                metric_name_validation_scheme: r
                    .metric_name_validation_scheme
                    .filter(|s| !s.0.is_empty())
                    .map(|s| s.0)
                    .unwrap_or(def.metric_name_validation_scheme),
                metric_name_escaping_scheme: nonempty(r.metric_name_escaping_scheme),
                scrape_native_histograms: r.scrape_native_histograms.unwrap_or(false),
                convert_classic_histograms_to_nhcb: r
                    .convert_classic_histograms_to_nhcb
                    .unwrap_or(false),
                always_scrape_classic_histograms: r
                    .always_scrape_classic_histograms
                    .unwrap_or(false),
                extra_scrape_metrics: r.extra_scrape_metrics.unwrap_or(false),
            })
        })
    }
}

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

/// `^[^*]*(\*[^/]*)?$`: a wildcard may appear only in the last path element, once.
fn is_rule_path(s: &str) -> bool {
    match s.find('*') {
        None => true,
        Some(i) => !s[i + 1..].contains('*') && !s[i + 1..].contains('/'),
    }
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
        metric_name_validation_scheme: Option<Scheme2>,
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

fn nz_u64(v: Option<u64>) -> Option<u64> {
    v.filter(|v| *v != 0)
}

/// Sets the name validation scheme of `list` and re-checks the names; errors carry the path of
/// the offending rule relative to the block that holds `list` under `key`.
fn apply_name_validation(
    list: &mut [RelabelConfig],
    scheme: NameValidation,
    key: &str,
) -> Result<(), (Vec<Seg>, String)> {
    for (j, r) in list.iter_mut().enumerate() {
        r.name_validation = scheme;
        r.validate_names()
            .map_err(|e| (vec![Seg::from(key), Seg::from(j)], e))?;
    }
    Ok(())
}

/// A relabel list whose null entries are an error with Prometheus' message for that list.
fn relabel_list(
    v: Option<Vec<Option<RelabelConfig>>>,
    null_msg: &str,
) -> Result<Vec<RelabelConfig>, String> {
    v.unwrap_or_default()
        .into_iter()
        .map(|r| r.ok_or_else(|| null_msg.to_string()))
        .collect()
}

/// Static target groups; a null group is an error, the others get their index as source.
fn static_groups(v: Option<Vec<Option<TargetGroup>>>) -> Result<Vec<TargetGroup>, String> {
    v.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut g = g.ok_or("empty or null section in static_configs")?;
            g.source = i.to_string();
            Ok(g)
        })
        .collect()
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
    fn finish(self, g: &GlobalConfig) -> Result<ScrapeConfig, (Vec<Seg>, String)> {
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

/// The `alerting` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AlertingConfig {
    /// Relabeling applied to every alert before it is sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// Alertmanagers to notify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerting {
    alert_relabel_configs: Option<Vec<Option<RelabelConfig>>>,
    alertmanagers: Option<Vec<Option<AlertmanagerConfig>>>,
}

impl<'de> Deserialize<'de> for AlertingConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawAlerting| {
            Ok(AlertingConfig {
                alert_relabel_configs: relabel_list(
                    r.alert_relabel_configs,
                    "empty or null alert relabeling rule",
                )?,
                alertmanagers: r
                    .alertmanagers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| a.ok_or_else(|| "empty or null alert manager config".to_string()))
                    .collect::<Result<_, _>>()?,
            })
        })
    }
}

/// One `alerting.alertmanagers` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    /// HTTP client settings.
    #[serde(flatten)]
    pub http: HttpClientConfig,
    /// `http` (default) or `https`.
    pub scheme: Scheme,
    /// Path prefix of the Alertmanager API.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    /// Push timeout (default 10s).
    #[serde(serialize_with = "crate::ser::dur")]
    pub timeout: Duration,
    /// API version; only `v2`.
    pub api_version: String,
    /// Relabeling of discovered Alertmanagers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of alerts sent to these Alertmanagers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// Static Alertmanager groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<TargetGroup>,
    /// File-discovered Alertmanagers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_sd_configs: Vec<FileSdConfig>,
}

with_http_client! {
    struct RawAlertmanager {
        scheme: Option<Scheme>,
        path_prefix: Option<Str>,
        timeout: Option<Dur>,
        api_version: Option<Str>,
        relabel_configs: Option<Vec<Option<RelabelConfig>>>,
        alert_relabel_configs: Option<Vec<Option<RelabelConfig>>>,
        static_configs: Option<Vec<Option<TargetGroup>>>,
        file_sd_configs: Option<Vec<FileSdConfig>>,
        #[serde(default, deserialize_with = "crate::http::reject_sigv4")]
        #[allow(dead_code)]
        sigv4: Option<()>,
    }
}

impl<'de> Deserialize<'de> for AlertmanagerConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |mut r: RawAlertmanager| {
            let http = build_http(r.take_http(), true)?;
            let api_version = r.api_version.map(|s| s.0).unwrap_or_else(|| "v2".into());
            if api_version != "v2" {
                return Err(format!(
                    "expected Alertmanager api version to be one of [v2] but got {api_version}"
                ));
            }
            let relabel_configs = relabel_list(
                r.relabel_configs,
                "empty or null Alertmanager target relabeling rule",
            )?;
            let alert_relabel_configs = relabel_list(
                r.alert_relabel_configs,
                "empty or null Alertmanager alert relabeling rule",
            )?;
            let static_configs = static_groups(r.static_configs)?;
            if relabel_configs.is_empty() {
                for g in &static_configs {
                    for t in g.addresses() {
                        check_target_address(t)?;
                    }
                }
            }
            Ok(AlertmanagerConfig {
                http,
                scheme: r.scheme.unwrap_or_default(),
                path_prefix: r.path_prefix.map(|s| s.0).unwrap_or_default(),
                timeout: r.timeout.map(|d| d.0).unwrap_or(Duration::from_secs(10)),
                api_version,
                relabel_configs,
                alert_relabel_configs,
                static_configs,
                file_sd_configs: r.file_sd_configs.unwrap_or_default(),
            })
        })
    }
}

/// Remote write queue tuning (Prometheus' defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueConfig {
    /// Samples buffered per shard (default 10000).
    pub capacity: u64,
    /// Maximum shards (default 50).
    pub max_shards: u64,
    /// Minimum shards (default 1).
    pub min_shards: u64,
    /// Samples per request (default 2000).
    pub max_samples_per_send: u64,
    /// Maximum wait before sending a partial batch (default 5s).
    #[serde(serialize_with = "crate::ser::dur")]
    pub batch_send_deadline: Duration,
    /// Initial retry backoff (default 30ms).
    #[serde(serialize_with = "crate::ser::dur")]
    pub min_backoff: Duration,
    /// Maximum retry backoff (default 5s).
    #[serde(serialize_with = "crate::ser::dur")]
    pub max_backoff: Duration,
    /// Retry on HTTP 429 (default false).
    pub retry_on_http_429: bool,
    /// Drop samples older than this (0 = never).
    #[serde(serialize_with = "crate::ser::dur")]
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: false,
            sample_age_limit: Duration::ZERO,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    capacity: Option<u64>,
    max_shards: Option<u64>,
    min_shards: Option<u64>,
    max_samples_per_send: Option<u64>,
    batch_send_deadline: Option<Dur>,
    min_backoff: Option<Dur>,
    max_backoff: Option<Dur>,
    retry_on_http_429: Option<bool>,
    sample_age_limit: Option<Dur>,
}

impl<'de> Deserialize<'de> for QueueConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawQueue| {
            let def = QueueConfig::default();
            let q = QueueConfig {
                capacity: r.capacity.unwrap_or(def.capacity),
                max_shards: r.max_shards.unwrap_or(def.max_shards),
                min_shards: r.min_shards.unwrap_or(def.min_shards),
                max_samples_per_send: r.max_samples_per_send.unwrap_or(def.max_samples_per_send),
                batch_send_deadline: r
                    .batch_send_deadline
                    .map(|d| d.0)
                    .unwrap_or(def.batch_send_deadline),
                min_backoff: r.min_backoff.map(|d| d.0).unwrap_or(def.min_backoff),
                max_backoff: r.max_backoff.map(|d| d.0).unwrap_or(def.max_backoff),
                retry_on_http_429: r.retry_on_http_429.unwrap_or(def.retry_on_http_429),
                sample_age_limit: r.sample_age_limit.map(|d| d.0).unwrap_or_default(),
            };
            if q.max_shards == 0 {
                return Err("remote write queue max_shards must be positive".into());
            }
            if q.min_shards == 0 {
                return Err("remote write queue min_shards must be positive".into());
            }
            if q.min_shards > q.max_shards {
                return Err(
                    "remote write queue min_shards must not be greater than max_shards".into(),
                );
            }
            if q.max_samples_per_send == 0 {
                return Err("remote write queue max_samples_per_send must be positive".into());
            }
            if q.capacity == 0 {
                return Err("remote write queue capacity must be positive".into());
            }
            if q.max_backoff < q.min_backoff {
                return Err(
                    "remote write queue max_backoff must not be less than min_backoff".into(),
                );
            }
            Ok(q)
        })
    }
}

/// Remote write metadata sending.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataConfig {
    /// Send metadata (default true).
    pub send: bool,
    /// Interval between sends (default 1m).
    #[serde(serialize_with = "crate::ser::dur")]
    pub send_interval: Duration,
    /// Metadata entries per request (default 2000).
    pub max_samples_per_send: u64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: Duration::from_secs(60),
            max_samples_per_send: 2000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    send: Option<bool>,
    send_interval: Option<Dur>,
    max_samples_per_send: Option<u64>,
}

impl<'de> Deserialize<'de> for MetadataConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawMetadata| {
            let def = MetadataConfig::default();
            Ok(MetadataConfig {
                send: r.send.unwrap_or(def.send),
                send_interval: nz(r.send_interval).unwrap_or(def.send_interval),
                max_samples_per_send: r.max_samples_per_send.unwrap_or(def.max_samples_per_send),
            })
        })
    }
}

/// A `remote_write` entry (parsed and kept; sending belongs to the remote write issue).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteWriteConfig {
    /// Endpoint URL.
    #[serde(serialize_with = "crate::ser::url")]
    pub url: url::Url,
    /// Request timeout (default 30s).
    #[serde(serialize_with = "crate::ser::dur")]
    pub remote_timeout: Duration,
    /// Extra request headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Relabeling before sending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Name (unique when set).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Send exemplars.
    pub send_exemplars: bool,
    /// Send native histograms.
    pub send_native_histograms: bool,
    /// Spread connections over DNS results.
    pub round_robin_dns: bool,
    /// `prometheus.WriteRequest` (default) or `io.prometheus.write.v2.Request`.
    pub protobuf_message: String,
    /// HTTP client settings (HTTP/2 off by default, as in Prometheus).
    #[serde(flatten)]
    pub http: HttpClientConfig,
    /// Queue tuning.
    pub queue_config: QueueConfig,
    /// Metadata sending.
    pub metadata_config: MetadataConfig,
}

with_http_client! {
    struct RawRemoteWrite {
        url: Option<UrlValue>,
        remote_timeout: Option<Dur>,
        headers: Option<BTreeMap<String, Str>>,
        write_relabel_configs: Option<Vec<Option<RelabelConfig>>>,
        name: Option<Str>,
        send_exemplars: Option<bool>,
        send_native_histograms: Option<bool>,
        round_robin_dns: Option<bool>,
        protobuf_message: Option<Str>,
        queue_config: Option<QueueConfig>,
        metadata_config: Option<MetadataConfig>,
        #[serde(default, deserialize_with = "crate::http::reject_sigv4")]
        #[allow(dead_code)]
        sigv4: Option<()>,
        #[serde(default, deserialize_with = "crate::http::reject_azuread")]
        #[allow(dead_code)]
        azuread: Option<()>,
        #[serde(default, deserialize_with = "crate::http::reject_google_iam")]
        #[allow(dead_code)]
        google_iam: Option<()>,
    }
}

/// Prometheus' `reservedHeaders` (lower case); `authorization` is reported on its own.
const REMOTE_RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn check_headers(h: &BTreeMap<String, Str>) -> Result<(), String> {
    for k in h.keys() {
        let lower = k.to_ascii_lowercase();
        if lower == "authorization" {
            return Err("authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into());
        }
        if REMOTE_RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(format!("{k} is a reserved header. It must not be changed"));
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for RemoteWriteConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |mut r: RawRemoteWrite| {
            let http = build_http(r.take_http(), false)?;
            let url = r.url.ok_or("url for remote_write is empty")?.0;
            let headers = r.headers.unwrap_or_default();
            check_headers(&headers)?;
            let protobuf_message = r
                .protobuf_message
                .map(|s| s.0)
                .unwrap_or_else(|| "prometheus.WriteRequest".into());
            if protobuf_message != "prometheus.WriteRequest"
                && protobuf_message != "io.prometheus.write.v2.Request"
            {
                return Err(format!(
                    "invalid protobuf_message value: unknown type for remote write protobuf message {protobuf_message}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"
                ));
            }
            Ok(RemoteWriteConfig {
                url,
                remote_timeout: nz(r.remote_timeout).unwrap_or(Duration::from_secs(30)),
                headers: headers.into_iter().map(|(k, v)| (k, v.0)).collect(),
                write_relabel_configs: relabel_list(
                    r.write_relabel_configs,
                    "empty or null relabeling rule in remote write config",
                )?,
                name: r.name.map(|s| s.0).unwrap_or_default(),
                send_exemplars: r.send_exemplars.unwrap_or(false),
                send_native_histograms: r.send_native_histograms.unwrap_or(false),
                round_robin_dns: r.round_robin_dns.unwrap_or(false),
                protobuf_message,
                http,
                queue_config: r.queue_config.unwrap_or_default(),
                metadata_config: r.metadata_config.unwrap_or_default(),
            })
        })
    }
}

/// A `remote_read` entry (parsed and kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteReadConfig {
    /// Endpoint URL.
    #[serde(serialize_with = "crate::ser::url")]
    pub url: url::Url,
    /// Request timeout (default 1m).
    #[serde(serialize_with = "crate::ser::dur")]
    pub remote_timeout: Duration,
    /// Extra request headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Also read ranges the local storage should have.
    pub read_recent: bool,
    /// Name (unique when set).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Equality matchers every query must contain.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub required_matchers: BTreeMap<String, String>,
    /// Add external labels as matchers (default true).
    pub filter_external_labels: bool,
    /// HTTP client settings.
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

with_http_client! {
    struct RawRemoteRead {
        url: Option<UrlValue>,
        remote_timeout: Option<Dur>,
        headers: Option<BTreeMap<String, Str>>,
        read_recent: Option<bool>,
        name: Option<Str>,
        required_matchers: Option<LabelMap>,
        filter_external_labels: Option<bool>,
    }
}

impl<'de> Deserialize<'de> for RemoteReadConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |mut r: RawRemoteRead| {
            let http = build_http(r.take_http(), true)?;
            let url = r.url.ok_or("url for remote_read is empty")?.0;
            let headers = r.headers.unwrap_or_default();
            check_headers(&headers)?;
            Ok(RemoteReadConfig {
                url,
                remote_timeout: nz(r.remote_timeout).unwrap_or(Duration::from_secs(60)),
                headers: headers.into_iter().map(|(k, v)| (k, v.0)).collect(),
                read_recent: r.read_recent.unwrap_or(false),
                name: r.name.map(|s| s.0).unwrap_or_default(),
                required_matchers: r
                    .required_matchers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.0, v.0))
                    .collect(),
                filter_external_labels: r.filter_external_labels.unwrap_or(true),
                http,
            })
        })
    }
}

/// The `storage` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageConfig {
    /// `tsdb.out_of_order_time_window` (default 0: out-of-order samples rejected).
    #[serde(serialize_with = "crate::ser::dur")]
    pub out_of_order_time_window: Duration,
    /// `tsdb.stale_series_compaction_threshold` (0 = off).
    pub stale_series_compaction_threshold: f64,
    /// `tsdb.chunk_encoding.floats`: `xor`, `xor2` or unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub float_chunk_encoding: Option<String>,
    /// `tsdb.retention.time`, when set (it overrides the command-line flag in Prometheus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_time: Option<Duration>,
    /// `tsdb.retention.size` in bytes, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_size: Option<u64>,
    /// `tsdb.retention.percentage` of the disk, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_percentage: Option<f64>,
    /// `exemplars.max_exemplars` (default 100000).
    pub max_exemplars: i64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            out_of_order_time_window: Duration::ZERO,
            stale_series_compaction_threshold: 0.0,
            float_chunk_encoding: None,
            retention_time: None,
            retention_size: None,
            retention_percentage: None,
            max_exemplars: 100_000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    tsdb: Option<TsdbPart>,
    exemplars: Option<RawExemplars>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTsdb {
    out_of_order_time_window: Option<Dur>,
    stale_series_compaction_threshold: Option<f64>,
    chunk_encoding: Option<RawChunkEncoding>,
    retention: Option<Retention>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChunkEncoding {
    floats: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    time: Option<Dur>,
    size: Option<Str>,
    percentage: Option<f64>,
}

struct Retention {
    time: Option<Duration>,
    size: Option<u64>,
    percentage: Option<f64>,
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawRetention| {
            let size = match r.size {
                None => None,
                Some(s) => {
                    let v = de::parse_bytes_signed(&s.0)?;
                    if v < 0 {
                        return Err(format!(
                            "'storage.tsdb.retention.size' must be greater than or equal to 0, got -{}",
                            de::format_bytes(v.unsigned_abs())
                        ));
                    }
                    Some(v as u64).filter(|v| *v != 0)
                }
            };
            if let Some(p) = r.percentage {
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!(
                        "'storage.tsdb.retention.percentage' must be in the range [0, 100], got {p}"
                    ));
                }
            }
            Ok(Retention {
                time: nz(r.time),
                size,
                percentage: r.percentage.filter(|p| *p != 0.0),
            })
        })
    }
}

struct TsdbPart(RawTsdbChecked);

struct RawTsdbChecked {
    out_of_order_time_window: Duration,
    stale_series_compaction_threshold: f64,
    float_chunk_encoding: Option<String>,
    retention: Option<Retention>,
}

impl<'de> Deserialize<'de> for TsdbPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawTsdb| {
            let floats = r
                .chunk_encoding
                .and_then(|c| c.floats)
                .map(|s| s.0)
                .filter(|s| !s.is_empty());
            if let Some(f) = &floats {
                if f != "xor" && f != "xor2" {
                    return Err(format!(
                        "'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got {f:?}"
                    ));
                }
            }
            Ok(TsdbPart(RawTsdbChecked {
                out_of_order_time_window: r
                    .out_of_order_time_window
                    .map(|d| d.0)
                    .unwrap_or_default(),
                stale_series_compaction_threshold: r
                    .stale_series_compaction_threshold
                    .unwrap_or(0.0),
                float_chunk_encoding: floats,
                retention: r.retention,
            }))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExemplars {
    max_exemplars: Option<i64>,
}

/// The `tracing` block: parsed and validated as Prometheus does, not acted upon (Sightline
/// exports no traces).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracingConfig {
    /// `grpc` (default) or `http`.
    pub client_type: String,
    /// Collector endpoint.
    pub endpoint: String,
    /// Fraction of traces sampled.
    pub sampling_fraction: f64,
    /// Plain-text connection.
    pub insecure: bool,
    /// TLS settings.
    pub tls_config: crate::http::TlsConfig,
    /// Extra headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// `gzip` or empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    /// Export timeout (0 = default).
    #[serde(serialize_with = "crate::ser::dur")]
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracing {
    client_type: Option<Str>,
    endpoint: Option<Str>,
    sampling_fraction: Option<f64>,
    insecure: Option<bool>,
    tls_config: Option<crate::http::TlsConfig>,
    headers: Option<BTreeMap<String, Str>>,
    compression: Option<Str>,
    timeout: Option<Dur>,
}

impl<'de> Deserialize<'de> for TracingConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawTracing| {
            let client_type = r.client_type.map(|s| s.0).unwrap_or_else(|| "grpc".into());
            if client_type != "grpc" && client_type != "http" {
                return Err(format!(
                    "expected tracing client type to be to be http or grpc, but got {client_type}"
                ));
            }
            let headers = r.headers.unwrap_or_default();
            for k in headers.keys() {
                let lower = k.to_ascii_lowercase();
                if lower == "authorization" {
                    return Err(
                        "custom authorization header configuration is not yet supported".into(),
                    );
                }
                if REMOTE_RESERVED_HEADERS.contains(&lower.as_str()) {
                    return Err(format!("{k} is a reserved header. It must not be changed"));
                }
            }
            let endpoint = r.endpoint.map(|s| s.0).unwrap_or_default();
            if endpoint.is_empty() {
                return Err("tracing endpoint must be set".into());
            }
            let compression = r.compression.map(|s| s.0).unwrap_or_default();
            if !compression.is_empty() && compression != "gzip" {
                return Err(format!(
                    "invalid compression type {compression} provided, valid options: gzip"
                ));
            }
            Ok(TracingConfig {
                client_type,
                endpoint,
                sampling_fraction: r.sampling_fraction.unwrap_or(0.0),
                insecure: r.insecure.unwrap_or(false),
                tls_config: r.tls_config.unwrap_or_default(),
                headers: headers.into_iter().map(|(k, v)| (k, v.0)).collect(),
                compression,
                timeout: r.timeout.map(|d| d.0).unwrap_or_default(),
            })
        })
    }
}

/// A rule file or scrape config file pattern (`*` only in the last path element).
struct RulePath(String);

impl<'de> Deserialize<'de> for RulePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a file path", |s| {
            if is_rule_path(s) {
                Ok(RulePath(s.to_string()))
            } else {
                Err(format!("invalid rule file path {s:?}"))
            }
        })
    }
}

struct ScrapeFilePath(String);

impl<'de> Deserialize<'de> for ScrapeFilePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a file path", |s| {
            if is_rule_path(s) {
                Ok(ScrapeFilePath(s.to_string()))
            } else {
                Err(format!("invalid scrape config file path {s:?}"))
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    global: Option<GlobalConfig>,
    alerting: Option<AlertingConfig>,
    rule_files: Option<Vec<RulePath>>,
    scrape_config_files: Option<Vec<ScrapeFilePath>>,
    scrape_configs: Option<Vec<Option<PartialScrape>>>,
    storage: Option<RawStorage>,
    remote_write: Option<Vec<Option<RemoteWriteConfig>>>,
    remote_read: Option<Vec<Option<RemoteReadConfig>>>,
    // Accepted as Prometheus accepts them, and ignored: Sightline has no OTLP receiver or Go
    // runtime to tune.
    tracing: Option<TracingConfig>,
    #[allow(dead_code)]
    otlp: Option<serde::de::IgnoredAny>,
    #[allow(dead_code)]
    runtime: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScrapeConfigFile {
    scrape_configs: Option<Vec<Option<PartialScrape>>>,
}

/// A loaded, validated `prometheus.yml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Config {
    /// The `global` block.
    pub global: GlobalConfig,
    /// The `alerting` block.
    #[serde(skip_serializing_if = "is_default_alerting")]
    pub alerting: AlertingConfig,
    /// Rule file patterns; [`crate::load_file`] makes relative ones relative to the config
    /// file's directory, as Prometheus does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    /// Patterns of files holding more `scrape_configs` (already merged into `scrape_configs` by
    /// [`crate::load_file`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    /// The scrape jobs, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// The `storage` block.
    #[serde(skip)]
    pub storage: StorageConfig,
    /// `remote_write` endpoints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    /// `remote_read` endpoints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
    /// The `tracing` block, if any (validated, not acted upon).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
}

fn is_default_alerting(a: &AlertingConfig) -> bool {
    a.alertmanagers.is_empty() && a.alert_relabel_configs.is_empty()
}

impl Config {
    /// The effective configuration as YAML, defaults filled in and every secret shown as
    /// `<secret>` (what `/api/v1/status/config` returns).
    pub fn redacted_yaml(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            cfg: &'a Config,
            #[serde(skip_serializing_if = "Option::is_none")]
            storage: Option<OutStorage<'a>>,
        }
        #[derive(Serialize)]
        struct OutStorage<'a> {
            tsdb: OutTsdb<'a>,
        }
        #[derive(Serialize)]
        struct OutTsdb<'a> {
            #[serde(serialize_with = "crate::ser::dur")]
            out_of_order_time_window: &'a Duration,
        }
        let storage = (self.storage != StorageConfig::default()).then_some(OutStorage {
            tsdb: OutTsdb {
                out_of_order_time_window: &self.storage.out_of_order_time_window,
            },
        });
        serde_yaml::to_string(&Out { cfg: self, storage })
            .unwrap_or_else(|e| format!("<error creating config string: {e}>"))
    }

    /// Joins every relative file path with `dir` (Prometheus' `SetDirectory`).
    pub fn set_directory(&mut self, dir: &Path) {
        let j = |p: &mut Option<String>| {
            if let Some(s) = p {
                *s = join_dir(dir, s);
            }
        };
        j(&mut self.global.query_log_file);
        j(&mut self.global.scrape_failure_log_file);
        for f in &mut self.rule_files {
            *f = join_dir(dir, f);
        }
        for f in &mut self.scrape_config_files {
            *f = join_dir(dir, f);
        }
        for s in &mut self.scrape_configs {
            s.set_directory(dir);
        }
        for a in &mut self.alerting.alertmanagers {
            a.http.set_directory(dir);
            for f in &mut a.file_sd_configs {
                for p in &mut f.files {
                    *p = join_dir(dir, p);
                }
            }
        }
        for r in &mut self.remote_write {
            r.http.set_directory(dir);
        }
        for r in &mut self.remote_read {
            r.http.set_directory(dir);
        }
        if let Some(t) = &mut self.tracing {
            j(&mut t.tls_config.ca_file);
            j(&mut t.tls_config.cert_file);
            j(&mut t.tls_config.key_file);
        }
    }

    /// Loads `scrape_config_files` and appends their jobs, as Prometheus' `GetScrapeConfigs`.
    pub(crate) fn load_scrape_config_files(&mut self) -> Result<()> {
        let mut names: BTreeMap<String, String> = self
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), "main config file".to_string()))
            .collect();
        for pat in self.scrape_config_files.clone() {
            let paths = glob::glob(&pat).map_err(|e| Error::Invalid {
                source_name: pat.clone(),
                message: format!("error retrieving scrape config files for {pat:?}: {e}"),
            })?;
            let mut files: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
            files.sort();
            for file in files {
                let name = file.display().to_string();
                let src = std::fs::read_to_string(&file).map_err(|e| Error::Io {
                    path: file.clone(),
                    source: e,
                })?;
                let raw: Option<RawScrapeConfigFile> = first_document(&src, &name)?;
                let list = raw.and_then(|r| r.scrape_configs).unwrap_or_default();
                for (i, p) in list.into_iter().enumerate() {
                    let at = |mut rel: Vec<Seg>, msg: String| {
                        let mut path: Vec<Seg> = vec!["scrape_configs".into(), i.into()];
                        path.append(&mut rel);
                        de::error_at(&name, &src, &path, msg)
                    };
                    let Some(p) = p else {
                        return Err(at(vec![], "empty or null scrape config section".into()));
                    };
                    let mut s = p.finish(&self.global).map_err(|(rel, msg)| at(rel, msg))?;
                    if let Some(first) = names.get(&s.job_name) {
                        return Err(at(
                            vec!["job_name".into()],
                            format!("found multiple scrape configs with job name {:?}, first found in {first}", s.job_name),
                        ));
                    }
                    names.insert(s.job_name.clone(), format!("{name:?}"));
                    if let Some(dir) = file.parent() {
                        s.set_directory(dir);
                    }
                    self.scrape_configs.push(s);
                }
            }
        }
        Ok(())
    }
}

/// Go's `os.Expand` with Prometheus' mapping: `$NAME` and `${NAME}` become the variable's value
/// (empty when unset or empty), `$$` stays `$`; malformed `${` forms are dropped as in Go.
pub(crate) fn expand_env(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let map = |name: &str| -> String {
        if name == "$" {
            return "$".to_string();
        }
        lookup(name).unwrap_or_default()
    };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let (name, w) = shell_name(&s[j + 1..]);
            if name.is_empty() && w > 0 {
                // Invalid syntax: Go eats the characters.
            } else if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&map(name));
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

fn is_shell_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

/// Go's `getShellName`: the variable name after `$` and how many bytes it spans.
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_shell_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        for i in 1..b.len() {
            if b[i] == b'}' {
                if i == 1 {
                    return ("", 2);
                }
                return (&s[1..i], i + 1);
            }
        }
        return ("", 1);
    }
    if is_shell_special(b[0]) {
        return (&s[0..1], 1);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    (&s[..n], n)
}

/// Prometheus' `config.JoinDir`: relative paths are joined with `dir`; empty stays empty.
pub(crate) fn join_dir(dir: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        return p.to_string();
    }
    dir.join(p).display().to_string()
}

/// Deserializes the first YAML document of `src` (later ones are ignored, as Go's yaml.v2
/// does); an empty source yields `None`.
pub(crate) fn first_document<T: serde::de::DeserializeOwned>(
    src: &str,
    name: &str,
) -> Result<Option<T>> {
    match serde_yaml::Deserializer::from_str(src).next() {
        None => Ok(None),
        Some(doc) => Option::<T>::deserialize(doc).map_err(|e| de::yaml_error(name, &e)),
    }
}

/// Parses and validates a configuration held in memory (no directory is applied).
pub(crate) fn parse(src: &str, name: &str) -> Result<Config> {
    let Some(raw) = first_document::<RawConfig>(src, name)? else {
        return Ok(Config::default());
    };
    let mut global = raw.global.unwrap_or_default();
    // Prometheus expands environment variables in external label values after loading.
    global.external_labels = Labels::from_pairs(global.external_labels.iter().map(|l| {
        let v = expand_env(&l.value, |name| std::env::var(name).ok());
        (l.name.clone(), v)
    }));
    let scheme = NameValidation::from_scheme(&global.metric_name_validation_scheme);
    let mut alerting = raw.alerting.unwrap_or_default();
    let alerting_err = |rel: Vec<Seg>, msg: String| {
        let mut p: Vec<Seg> = vec!["alerting".into()];
        p.extend(rel);
        de::error_at(name, src, &p, msg)
    };
    apply_name_validation(
        &mut alerting.alert_relabel_configs,
        scheme,
        "alert_relabel_configs",
    )
    .map_err(|(rel, msg)| alerting_err(rel, msg))?;
    for (k, am) in alerting.alertmanagers.iter_mut().enumerate() {
        for (list, key) in [
            (&mut am.relabel_configs, "relabel_configs"),
            (&mut am.alert_relabel_configs, "alert_relabel_configs"),
        ] {
            apply_name_validation(list, scheme, key).map_err(|(rel, msg)| {
                let mut p: Vec<Seg> = vec!["alertmanagers".into(), k.into()];
                p.extend(rel);
                alerting_err(p, msg)
            })?;
        }
    }
    let mut scrape_configs = Vec::new();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for (i, p) in raw
        .scrape_configs
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let at = |mut rel: Vec<Seg>, msg: String| {
            let mut path: Vec<Seg> = vec!["scrape_configs".into(), i.into()];
            path.append(&mut rel);
            de::error_at(name, src, &path, msg)
        };
        let Some(p) = p else {
            return Err(at(vec![], "empty or null scrape config section".into()));
        };
        let s = p.finish(&global).map_err(|(rel, msg)| at(rel, msg))?;
        if seen.insert(s.job_name.clone(), ()).is_some() {
            return Err(at(
                vec!["job_name".into()],
                format!(
                    "found multiple scrape configs with job name {:?}",
                    s.job_name
                ),
            ));
        }
        scrape_configs.push(s);
    }
    let mut remote_write = Vec::new();
    let mut rw_names: BTreeMap<String, ()> = BTreeMap::new();
    for (i, r) in raw.remote_write.unwrap_or_default().into_iter().enumerate() {
        let path: Vec<Seg> = vec!["remote_write".into(), i.into()];
        let Some(r) = r else {
            return Err(de::error_at(
                name,
                src,
                &path,
                "empty or null remote write config section".into(),
            ));
        };
        if !r.name.is_empty() && rw_names.insert(r.name.clone(), ()).is_some() {
            let mut p = path.clone();
            p.push("name".into());
            return Err(de::error_at(
                name,
                src,
                &p,
                format!(
                    "found multiple remote write configs with job name {:?}",
                    r.name
                ),
            ));
        }
        let mut r = r;
        let scheme = NameValidation::from_scheme(&global.metric_name_validation_scheme);
        apply_name_validation(
            &mut r.write_relabel_configs,
            scheme,
            "write_relabel_configs",
        )
        .map_err(|(rel, msg)| {
            let mut p = path.clone();
            p.extend(rel);
            de::error_at(name, src, &p, msg)
        })?;
        remote_write.push(r);
    }
    let mut remote_read = Vec::new();
    let mut rr_names: BTreeMap<String, ()> = BTreeMap::new();
    for (i, r) in raw.remote_read.unwrap_or_default().into_iter().enumerate() {
        let path: Vec<Seg> = vec!["remote_read".into(), i.into()];
        let Some(r) = r else {
            return Err(de::error_at(
                name,
                src,
                &path,
                "empty or null remote read config section".into(),
            ));
        };
        if !r.name.is_empty() && rr_names.insert(r.name.clone(), ()).is_some() {
            let mut p = path.clone();
            p.push("name".into());
            return Err(de::error_at(
                name,
                src,
                &p,
                format!(
                    "found multiple remote read configs with job name {:?}",
                    r.name
                ),
            ));
        }
        remote_read.push(r);
    }
    let storage = raw.storage.map(|s| {
        let mut out = StorageConfig::default();
        if let Some(TsdbPart(t)) = s.tsdb {
            out.out_of_order_time_window = t.out_of_order_time_window;
            out.stale_series_compaction_threshold = t.stale_series_compaction_threshold;
            out.float_chunk_encoding = t.float_chunk_encoding;
            if let Some(r) = t.retention {
                out.retention_time = r.time;
                out.retention_size = r.size;
                out.retention_percentage = r.percentage;
            }
        }
        if let Some(m) = s.exemplars.and_then(|e| e.max_exemplars) {
            out.max_exemplars = m;
        }
        out
    });
    Ok(Config {
        global,
        alerting,
        rule_files: raw
            .rule_files
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.0)
            .collect(),
        scrape_config_files: raw
            .scrape_config_files
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.0)
            .collect(),
        scrape_configs,
        storage: storage.unwrap_or_default(),
        remote_write,
        remote_read,
        tracing: raw.tracing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_env_matches_go_os_expand() {
        let env = |n: &str| match n {
            "HOST" => Some("h1".to_string()),
            "1" => Some("one".to_string()),
            _ => None,
        };
        for (input, want) in [
            ("plain", "plain"),
            ("$HOST", "h1"),
            ("${HOST}-x", "h1-x"),
            ("$HOST.x", "h1.x"),
            ("$MISSING", ""),
            ("a$$b", "a$b"),
            ("cost: 5$", "cost: 5$"),
            ("${}", ""),
            ("${HOST", "HOST"),
            ("$1x", "onex"),
            ("${1}", "one"),
            ("$-", ""),
            ("é$HOSTé", "éh1é"),
            ("$é", "$é"),
        ] {
            assert_eq!(expand_env(input, env), want, "{input}");
        }
    }
}
