//! The `alerting` block.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::*;
use crate::de::{map_with, Dur, Str};
use crate::http::{build_http, with_http_client, HttpClientConfig};
use crate::relabel::RelabelConfig;
use crate::target::{check_target_address, TargetGroup};

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
