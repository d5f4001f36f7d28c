//! The `storage` and `tracing` blocks.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::*;
use crate::de::{self, map_with, Dur, Str};

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
pub(super) struct RawStorage {
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

impl RawStorage {
    /// The typed block with Prometheus' defaults for what is unset.
    pub(super) fn into_config(self) -> StorageConfig {
        let mut out = StorageConfig::default();
        if let Some(TsdbPart(t)) = self.tsdb {
            out.out_of_order_time_window = t.out_of_order_time_window;
            out.stale_series_compaction_threshold = t.stale_series_compaction_threshold;
            out.float_chunk_encoding = t.float_chunk_encoding;
            if let Some(r) = t.retention {
                out.retention_time = r.time;
                out.retention_size = r.size;
                out.retention_percentage = r.percentage;
            }
        }
        if let Some(m) = self.exemplars.and_then(|e| e.max_exemplars) {
            out.max_exemplars = m;
        }
        out
    }
}
