//! Plain values crossing the runtime's public API.
//!
//! These mirror the WIT records but are the host's own types, so callers never
//! see generated bindings or wasmtime.

use std::collections::BTreeMap;
use std::time::Duration;

use sightline_model::{Labels, LabelsBuilder, MetricType};

/// The kind of a plugin: the WIT world it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// `exporter`: collects samples.
    Exporter,
    /// `receiver`: delivers notifications.
    Receiver,
    /// `query-function`: a PromQL function.
    QueryFunction,
    /// `dashboard`: provides a dashboard.
    Dashboard,
}

impl PluginKind {
    /// The world's name as written in WIT.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Exporter => "exporter",
            PluginKind::Receiver => "receiver",
            PluginKind::QueryFunction => "query-function",
            PluginKind::Dashboard => "dashboard",
        }
    }

    /// Every kind, in the order worlds are listed in errors.
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Exporter,
        PluginKind::Receiver,
        PluginKind::QueryFunction,
        PluginKind::Dashboard,
    ];

    /// The kind of a world name as written in WIT (a manifest's `kind`).
    pub fn parse(s: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The scrape target an exporter plugin is called for: what an HTTP target gets in its URL
/// (address, params) and in Prometheus' `X-Prometheus-Scrape-Timeout-Seconds` header, and
/// the target's labels.
///
/// Contract 0.2's `collect(target)` gets all of it as its argument (every value of each
/// param, and the labels). `sightline:plugin@0.1.0`'s `collect` takes no argument, so the plugin reads its target
/// through the `config` interface, overlaid on its `[config]` for the call:
///
/// | key | value |
/// | --- | --- |
/// | `__address__` | [`address`](Self::address) |
/// | `__param_<name>` | the first value of param `<name>` (as Prometheus' `__param_<name>` label) |
/// | `__scrape_timeout_seconds__` | [`scrape_timeout`](Self::scrape_timeout) in seconds, e.g. `10` or `0.5` |
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExporterTarget {
    /// `__address__` of the target (the plugin's name for a job without targets).
    pub address: String,
    /// URL parameters by name (the job's `params` after `__param_<name>` relabelling).
    pub params: BTreeMap<String, Vec<String>>,
    /// The scrape timeout.
    pub scrape_timeout: Duration,
    /// The target's public labels after relabelling (no `__`-prefixed ones); only
    /// contract 0.2 plugins see them.
    pub labels: Labels,
}

impl ExporterTarget {
    /// Config key of the address.
    pub const ADDRESS_KEY: &'static str = "__address__";
    /// Config key prefix of the params.
    pub const PARAM_KEY_PREFIX: &'static str = "__param_";
    /// Config key of the scrape timeout in seconds.
    pub const SCRAPE_TIMEOUT_KEY: &'static str = "__scrape_timeout_seconds__";

    /// The config values the plugin sees for this target.
    pub fn config_values(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(Self::ADDRESS_KEY.to_string(), self.address.clone());
        for (name, values) in &self.params {
            if let Some(first) = values.first() {
                out.insert(format!("{}{name}", Self::PARAM_KEY_PREFIX), first.clone());
            }
        }
        out.insert(
            Self::SCRAPE_TIMEOUT_KEY.to_string(),
            self.scrape_timeout.as_secs_f64().to_string(),
        );
        out
    }
}

/// A metric family collected by an exporter plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// Metric name (validated).
    pub name: String,
    /// Type, help and unit.
    pub metric_type: MetricType,
    /// Help text.
    pub help: String,
    /// Unit (may be empty).
    pub unit: String,
    /// The family's series.
    pub samples: Vec<MetricSample>,
}

/// One series of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    /// Labels without `__name__`.
    pub labels: Labels,
    /// The value.
    pub value: SampleValue,
    /// Explicit timestamp, if the plugin gave one.
    pub timestamp_ms: Option<i64>,
}

/// The value of a series.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    /// A counter, gauge or untyped value.
    Float(f64),
    /// A histogram: `(upper_bound, cumulative_count)` buckets, with `+Inf`.
    Histogram {
        /// Buckets in increasing order, the last one `+Inf`.
        buckets: Vec<(f64, f64)>,
        /// Sum of observations.
        sum: f64,
        /// Number of observations.
        count: f64,
    },
    /// A summary: `(quantile, value)` pairs.
    Summary {
        /// Quantiles.
        quantiles: Vec<(f64, f64)>,
        /// Sum of observations.
        sum: f64,
        /// Number of observations.
        count: f64,
    },
}

/// One flat series as the exposition formats write it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatSample {
    /// Full labels including `__name__`.
    pub labels: Labels,
    /// The value.
    pub value: f64,
    /// Explicit timestamp, if any.
    pub timestamp_ms: Option<i64>,
}

impl MetricFamily {
    /// Expands the family into flat series (`_bucket`/`_sum`/`_count` for
    /// histograms, `{quantile=..}`/`_sum`/`_count` for summaries).
    ///
    /// Every series carries all its sample's labels, so this is the host's largest
    /// expansion of an exporter's output; the runtime checked its size against the
    /// plugin's `max_output` before handing the family out. Prefer
    /// [`for_each_flat`](Self::for_each_flat), which holds one series at a time.
    pub fn flatten(&self) -> Vec<FlatSample> {
        let mut out = Vec::with_capacity(self.samples.len());
        self.for_each_flat(|s| out.push(s));
        out
    }

    /// Hands each flat series of [`flatten`](Self::flatten) to `out`, in the same order,
    /// one at a time.
    pub fn for_each_flat(&self, mut out: impl FnMut(FlatSample)) {
        for s in &self.samples {
            let with = |name: String, extra: Option<(&str, String)>, value: f64| {
                let mut b: LabelsBuilder = s.labels.builder();
                b.set(sightline_model::METRIC_NAME, name);
                if let Some((k, v)) = extra {
                    b.set(k, v);
                }
                FlatSample {
                    labels: b.build(),
                    value,
                    timestamp_ms: s.timestamp_ms,
                }
            };
            match &s.value {
                SampleValue::Float(v) => out(with(self.name.clone(), None, *v)),
                SampleValue::Histogram {
                    buckets,
                    sum,
                    count,
                } => {
                    for (le, c) in buckets {
                        let le = sightline_model::format_go_float(*le);
                        out(with(
                            format!("{}_bucket", self.name),
                            Some((sightline_model::BUCKET_LABEL, le)),
                            *c,
                        ));
                    }
                    out(with(format!("{}_sum", self.name), None, *sum));
                    out(with(format!("{}_count", self.name), None, *count));
                }
                SampleValue::Summary {
                    quantiles,
                    sum,
                    count,
                } => {
                    for (q, v) in quantiles {
                        let q = sightline_model::format_go_float(*q);
                        out(with(
                            self.name.clone(),
                            Some((sightline_model::QUANTILE_LABEL, q)),
                            *v,
                        ));
                    }
                    out(with(format!("{}_sum", self.name), None, *sum));
                    out(with(format!("{}_count", self.name), None, *count));
                }
            }
        }
    }
}

/// One alert of a notification (Alertmanager's template data).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// The alert's labels.
    pub labels: Labels,
    /// The alert's annotations.
    pub annotations: Labels,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// Link to the expression.
    pub generator_url: String,
    /// Fingerprint of the labels.
    pub fingerprint: String,
}

/// One notification: an alert group with Alertmanager's webhook fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertGroup {
    /// Payload version, "4".
    pub version: String,
    /// Group key.
    pub group_key: String,
    /// Alerts left out by `max_alerts`.
    pub truncated_alerts: u32,
    /// `firing` or `resolved`.
    pub status: String,
    /// Receiver name.
    pub receiver: String,
    /// Labels the group is grouped by.
    pub group_labels: Labels,
    /// Labels common to all alerts.
    pub common_labels: Labels,
    /// Annotations common to all alerts.
    pub common_annotations: Labels,
    /// Sender's external URL.
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

/// A PromQL value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A float.
    Scalar,
    /// One sample per series.
    InstantVector,
    /// A range of samples per series.
    RangeVector,
    /// A string.
    String,
}

/// How a query function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// Once per series of the first vector argument.
    PerSeries,
    /// Once with whole vectors.
    PerVector,
}

/// A query function's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSignature {
    /// Name in PromQL.
    pub name: String,
    /// Argument types.
    pub arg_types: Vec<ValueType>,
    /// How many trailing arguments are optional.
    pub optional_args: u32,
    /// Result type.
    pub return_type: ValueType,
    /// Call mode.
    pub mode: CallMode,
}

/// One series of a query value.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySeries {
    /// Labels.
    pub labels: Labels,
    /// `(t_ms, value)` points.
    pub points: Vec<sightline_model::Sample>,
}

/// An argument or result of a query function.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// A scalar.
    Scalar(f64),
    /// A string.
    String(String),
    /// An instant or range vector.
    Vector(Vec<QuerySeries>),
}

/// A dashboard plugin's model, evaluated once per loaded version (sha256 and capabilities)
/// and kept: requests read it, they never run the guest.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardModel {
    /// The plugin.
    pub plugin: String,
    /// The model's `uid`, or the plugin's name when it has none; unique among plugins.
    pub uid: String,
    /// The model's `title`, or the plugin's name.
    pub title: String,
    /// The model's string `tags`.
    pub tags: Vec<String>,
    /// The model (a JSON object) with `uid` set to [`uid`](Self::uid).
    pub model: std::sync::Arc<serde_json::Value>,
}

impl DashboardModel {
    /// Validates a guest's JSON: it must be an object; `uid` and `title` default to the
    /// plugin's name.
    pub(crate) fn from_json(plugin: &str, json: &str) -> Result<Self, String> {
        let mut model = match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => return Err("dashboard is not a JSON object".to_string()),
            Err(e) => return Err(format!("dashboard is not JSON: {e}")),
        };
        let uid = model
            .get("uid")
            .and_then(serde_json::Value::as_str)
            .filter(|u| !u.is_empty())
            .unwrap_or(plugin)
            .to_string();
        let title = model
            .get("title")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(plugin)
            .to_string();
        let tags = model
            .get("tags")
            .and_then(serde_json::Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        model.insert("uid".to_string(), serde_json::Value::String(uid.clone()));
        Ok(DashboardModel {
            plugin: plugin.to_string(),
            uid,
            title,
            tags,
            model: std::sync::Arc::new(serde_json::Value::Object(model)),
        })
    }
}
