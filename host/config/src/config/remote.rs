//! `remote_write` and `remote_read`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::*;
use crate::de::{map_with, Dur, LabelMap, Str, UrlValue};
use crate::http::{build_http, with_http_client, HttpClientConfig};
use crate::relabel::RelabelConfig;

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

/// `sigv4` of a `remote_write` (prometheus/common sigv4 v0.1.0's `SigV4Config`): requests are
/// signed with AWS Signature Version 4 for the service `aps`. Only static credentials are
/// implemented (these keys, else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`
/// when the queue starts); `profile` and `role_arn` need AWS's credential files and STS and
/// are rejected when the configuration loads.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SigV4Config {
    /// The AWS region (else `AWS_REGION`/`AWS_DEFAULT_REGION`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// The access key id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub access_key: String,
    /// The secret access key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<crate::Secret>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigV4 {
    region: Option<Str>,
    access_key: Option<Str>,
    secret_key: Option<Str>,
    profile: Option<Str>,
    role_arn: Option<Str>,
}

impl<'de> Deserialize<'de> for SigV4Config {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawSigV4| {
            let s = |v: Option<Str>| v.map(|v| v.0).unwrap_or_default();
            let (access_key, secret_key) = (s(r.access_key), s(r.secret_key));
            if access_key.is_empty() != secret_key.is_empty() {
                return Err("must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config".into());
            }
            for (key, v) in [("profile", r.profile), ("role_arn", r.role_arn)] {
                if !s(v).is_empty() {
                    return Err(format!(
                        "sigv4 {key} is not supported by Sightline: it signs with static credentials only (access_key and secret_key, or the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN environment variables)"
                    ));
                }
            }
            Ok(SigV4Config {
                region: s(r.region),
                access_key,
                secret_key: (!secret_key.is_empty()).then(|| crate::Secret::new(secret_key)),
            })
        })
    }
}

/// A `remote_write` entry.
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
    /// AWS Signature Version 4 signing, instead of the HTTP client's credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<SigV4Config>,
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
        sigv4: Option<SigV4Config>,
        #[serde(default, deserialize_with = "crate::http::reject_azuread")]
        #[allow(dead_code)]
        azuread: Option<()>,
        #[serde(default, deserialize_with = "crate::http::reject_google_iam")]
        #[allow(dead_code)]
        google_iam: Option<()>,
    }
}

/// Prometheus' `reservedHeaders` (lower case); `authorization` is reported on its own.
pub(super) const REMOTE_RESERVED_HEADERS: &[&str] = &[
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
            let auth_enabled =
                http.basic_auth.is_some() || http.authorization.is_some() || http.oauth2.is_some();
            if auth_enabled && r.sigv4.is_some() {
                return Err(
                    "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
                        .into(),
                );
            }
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
                sigv4: r.sigv4,
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
