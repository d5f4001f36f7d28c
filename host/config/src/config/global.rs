//! The `global` block, scrape protocols and URL schemes.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sightline_model::Labels;

use super::*;
use crate::de::{map_with, scalar_with, ByteSize, Dur, LabelMap, Str};

/// A scrape protocol that can be negotiated with `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// `PrometheusProto` (the delimited protobuf exposition, native histograms included).
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
pub(super) struct FallbackProtocol(pub(super) ScrapeProtocol);

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

pub(super) fn validate_protocols(p: &[ScrapeProtocol]) -> Result<(), String> {
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
pub(super) const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SchemeName(pub(super) String);

impl<'de> Deserialize<'de> for SchemeName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a validation scheme", |s| {
            validation_scheme(s).map(SchemeName)
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
    metric_name_validation_scheme: Option<SchemeName>,
    metric_name_escaping_scheme: Option<Str>,
    scrape_native_histograms: Option<bool>,
    convert_classic_histograms_to_nhcb: Option<bool>,
    always_scrape_classic_histograms: Option<bool>,
    extra_scrape_metrics: Option<bool>,
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
