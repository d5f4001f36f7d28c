//! sightline-sdk: write Sightline plugins in Rust.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` that
//! implements one world of Sightline's WIT package (`wit/` at the repository
//! root, `sightline:plugin@0.1.0`). This crate binds that WIT with
//! `wit-bindgen` and offers one trait per world plus an export macro, so a
//! plugin is a few lines:
//!
//! ```text
//! use sightline_sdk::{Exporter, MetricFamily, MetricType};
//!
//! struct Hello;
//!
//! impl Exporter for Hello {
//!     fn collect() -> Result<Vec<MetricFamily>, String> {
//!         let mut f = MetricFamily::new("hello_answer", "The answer.", MetricType::Gauge);
//!         f.push(&[("planet", "earth")], 42.0);
//!         Ok(vec![f])
//!     }
//! }
//!
//! sightline_sdk::export_exporter!(Hello);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2` (a `cdylib` crate), and
//! drop the `.wasm` into the plugins directory. Host capabilities — logging,
//! config, clock, outbound HTTP, filesystem statistics — are in the modules
//! [`log`], [`config`], [`clock`], [`http`] and [`fs`]; everything beyond
//! logging, config and the clock must be granted in `<name>.toml`.
//!
//! This crate knows nothing of the host's internals; the WIT files are the
//! whole contract. It also compiles for native targets (so the workspace's
//! `cargo clippy` covers it), where calling a host function panics.

#![deny(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs, unreachable_pub, unsafe_code, clippy::all)]
pub mod bindings {
    pub mod host {
        wit_bindgen::generate!({
            path: "../../../wit",
            world: "host",
            generate_all,
        });
    }

    pub mod exporter {
        wit_bindgen::generate!({
            path: "../../../wit",
            world: "exporter",
            with: {
                "sightline:plugin/types@0.1.0": super::host::sightline::plugin::types,
                "sightline:plugin/metrics@0.1.0": super::host::sightline::plugin::metrics,
                "sightline:plugin/alerts@0.1.0": super::host::sightline::plugin::alerts,
                "sightline:plugin/promql@0.1.0": super::host::sightline::plugin::promql,
                "sightline:plugin/log@0.1.0": super::host::sightline::plugin::log,
                "sightline:plugin/config@0.1.0": super::host::sightline::plugin::config,
                "sightline:plugin/clock@0.1.0": super::host::sightline::plugin::clock,
                "sightline:plugin/http@0.1.0": super::host::sightline::plugin::http,
                "sightline:plugin/host-fs@0.1.0": super::host::sightline::plugin::host_fs,
            },
            pub_export_macro: true,
            default_bindings_module: "sightline_sdk::bindings::exporter",
        });
    }

    pub mod receiver {
        wit_bindgen::generate!({
            path: "../../../wit",
            world: "receiver",
            with: {
                "sightline:plugin/types@0.1.0": super::host::sightline::plugin::types,
                "sightline:plugin/metrics@0.1.0": super::host::sightline::plugin::metrics,
                "sightline:plugin/alerts@0.1.0": super::host::sightline::plugin::alerts,
                "sightline:plugin/promql@0.1.0": super::host::sightline::plugin::promql,
                "sightline:plugin/log@0.1.0": super::host::sightline::plugin::log,
                "sightline:plugin/config@0.1.0": super::host::sightline::plugin::config,
                "sightline:plugin/clock@0.1.0": super::host::sightline::plugin::clock,
                "sightline:plugin/http@0.1.0": super::host::sightline::plugin::http,
                "sightline:plugin/host-fs@0.1.0": super::host::sightline::plugin::host_fs,
            },
            pub_export_macro: true,
            default_bindings_module: "sightline_sdk::bindings::receiver",
        });
    }

    pub mod query_function {
        wit_bindgen::generate!({
            path: "../../../wit",
            world: "query-function",
            with: {
                "sightline:plugin/types@0.1.0": super::host::sightline::plugin::types,
                "sightline:plugin/metrics@0.1.0": super::host::sightline::plugin::metrics,
                "sightline:plugin/alerts@0.1.0": super::host::sightline::plugin::alerts,
                "sightline:plugin/promql@0.1.0": super::host::sightline::plugin::promql,
                "sightline:plugin/log@0.1.0": super::host::sightline::plugin::log,
                "sightline:plugin/config@0.1.0": super::host::sightline::plugin::config,
                "sightline:plugin/clock@0.1.0": super::host::sightline::plugin::clock,
                "sightline:plugin/http@0.1.0": super::host::sightline::plugin::http,
                "sightline:plugin/host-fs@0.1.0": super::host::sightline::plugin::host_fs,
            },
            pub_export_macro: true,
            default_bindings_module: "sightline_sdk::bindings::query_function",
        });
    }

    pub mod dashboard {
        wit_bindgen::generate!({
            path: "../../../wit",
            world: "dashboard",
            with: {
                "sightline:plugin/types@0.1.0": super::host::sightline::plugin::types,
                "sightline:plugin/metrics@0.1.0": super::host::sightline::plugin::metrics,
                "sightline:plugin/alerts@0.1.0": super::host::sightline::plugin::alerts,
                "sightline:plugin/promql@0.1.0": super::host::sightline::plugin::promql,
                "sightline:plugin/log@0.1.0": super::host::sightline::plugin::log,
                "sightline:plugin/config@0.1.0": super::host::sightline::plugin::config,
                "sightline:plugin/clock@0.1.0": super::host::sightline::plugin::clock,
                "sightline:plugin/http@0.1.0": super::host::sightline::plugin::http,
                "sightline:plugin/host-fs@0.1.0": super::host::sightline::plugin::host_fs,
            },
            pub_export_macro: true,
            default_bindings_module: "sightline_sdk::bindings::dashboard",
        });
    }
}

use bindings::host::sightline::plugin as wit;

pub use wit::alerts::{Alert, AlertGroup};
pub use wit::metrics::{
    Bucket, HistogramValue, MetricFamily, MetricType, Quantile, Sample, SummaryValue,
};
pub use wit::promql::{CallMode, Point, Series, Signature, Value, ValueType};
pub use wit::types::Label;

pub mod json;

/// An exporter plugin: called on every scrape, once per target of its scrape
/// job. The target is read with [`config::get`]: `__address__`,
/// `__param_<name>` (the first value of each URL parameter) and
/// `__scrape_timeout_seconds__` (e.g. `10` or `0.5`).
pub trait Exporter {
    /// Collects the current samples; an error fails the scrape (`up == 0`).
    fn collect() -> Result<Vec<MetricFamily>, String>;
}

/// A receiver plugin: delivers alert notifications. The receiver's
/// alertmanager.yml settings are read with [`config::get`].
pub trait Receiver {
    /// Delivers one notification; an error makes the host retry.
    fn notify(group: AlertGroup) -> Result<(), String>;
}

/// A PromQL function plugin.
pub trait QueryFunction {
    /// The function's signature.
    fn describe() -> Signature;
    /// Evaluates the function.
    fn call(args: Vec<Value>, eval_time_ms: i64) -> Result<Value, String>;
}

/// A dashboard plugin.
pub trait Dashboard {
    /// The dashboard as Grafana dashboard JSON.
    fn dashboard() -> Result<String, String>;
}

#[doc(hidden)]
pub mod __private {
    pub use std::string::String;
    pub use std::vec::Vec;
}

/// Exports a type implementing [`Exporter`] as the plugin's `exporter` world.
#[macro_export]
macro_rules! export_exporter {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::exporter::Guest for __SightlineExport {
                fn collect() -> ::core::result::Result<$crate::__private::Vec<$crate::MetricFamily>, $crate::__private::String> {
                    <$t as $crate::Exporter>::collect()
                }
            }
            $crate::bindings::exporter::export!(__SightlineExport with_types_in $crate::bindings::exporter);
        };
    };
}

/// Exports a type implementing [`Receiver`] as the plugin's `receiver` world.
#[macro_export]
macro_rules! export_receiver {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::receiver::Guest for __SightlineExport {
                fn notify(group: $crate::AlertGroup) -> ::core::result::Result<(), $crate::__private::String> {
                    <$t as $crate::Receiver>::notify(group)
                }
            }
            $crate::bindings::receiver::export!(__SightlineExport with_types_in $crate::bindings::receiver);
        };
    };
}

/// Exports a type implementing [`QueryFunction`] as the plugin's
/// `query-function` world.
#[macro_export]
macro_rules! export_query_function {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::query_function::Guest for __SightlineExport {
                fn describe() -> $crate::Signature {
                    <$t as $crate::QueryFunction>::describe()
                }
                fn call(
                    args: $crate::__private::Vec<$crate::Value>,
                    eval_time_ms: i64,
                ) -> ::core::result::Result<$crate::Value, $crate::__private::String> {
                    <$t as $crate::QueryFunction>::call(args, eval_time_ms)
                }
            }
            $crate::bindings::query_function::export!(__SightlineExport with_types_in $crate::bindings::query_function);
        };
    };
}

/// Exports a type implementing [`Dashboard`] as the plugin's `dashboard`
/// world.
#[macro_export]
macro_rules! export_dashboard {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::dashboard::Guest for __SightlineExport {
                fn dashboard() -> ::core::result::Result<$crate::__private::String, $crate::__private::String> {
                    <$t as $crate::Dashboard>::dashboard()
                }
            }
            $crate::bindings::dashboard::export!(__SightlineExport with_types_in $crate::bindings::dashboard);
        };
    };
}

impl Label {
    /// A label pair.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<Label> {
    pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect()
}

impl MetricFamily {
    /// An empty family.
    pub fn new(name: impl Into<String>, help: impl Into<String>, metric_type: MetricType) -> Self {
        MetricFamily {
            name: name.into(),
            help: help.into(),
            type_: metric_type,
            unit: String::new(),
            samples: Vec::new(),
        }
    }

    /// Sets the unit (e.g. `bytes`, `seconds`).
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Adds a counter, gauge or untyped sample.
    pub fn push(&mut self, labels_: &[(&str, &str)], value: f64) -> &mut Self {
        self.samples.push(Sample {
            labels: labels(labels_),
            value,
            timestamp_ms: None,
            histogram: None,
            summary: None,
        });
        self
    }

    /// Adds a histogram sample: `(upper_bound, cumulative_count)` buckets.
    pub fn push_histogram(
        &mut self,
        labels_: &[(&str, &str)],
        buckets: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) -> &mut Self {
        let buckets = buckets
            .iter()
            .map(|(le, c)| Bucket {
                upper_bound: *le,
                cumulative_count: *c,
            })
            .collect();
        self.samples.push(Sample {
            labels: labels(labels_),
            value: 0.0,
            timestamp_ms: None,
            histogram: Some(HistogramValue {
                buckets,
                sum,
                count,
            }),
            summary: None,
        });
        self
    }

    /// Adds a summary sample: `(quantile, value)` pairs.
    pub fn push_summary(
        &mut self,
        labels_: &[(&str, &str)],
        quantiles: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) -> &mut Self {
        let quantiles = quantiles
            .iter()
            .map(|(q, v)| Quantile {
                quantile: *q,
                value: *v,
            })
            .collect();
        self.samples.push(Sample {
            labels: labels(labels_),
            value: 0.0,
            timestamp_ms: None,
            histogram: None,
            summary: Some(SummaryValue {
                quantiles,
                sum,
                count,
            }),
        });
        self
    }
}

impl AlertGroup {
    /// The group as Alertmanager's webhook JSON (version 4).
    pub fn to_webhook_json(&self) -> String {
        json::webhook(self)
    }
}

/// Logging into the host's log, tagged with the plugin's name.
pub mod log {
    use super::wit::log::{log, Level};

    /// Logs at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Logs at info level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Logs at error level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// The plugin's configuration (`[config]` of `<name>.toml`, overlaid with
/// per-call settings such as a receiver's alertmanager.yml settings).
pub mod config {
    /// The value of `key`, if set.
    pub fn get(key: &str) -> Option<String> {
        super::wit::config::get(key)
    }

    /// The value of `key`, or the empty string when it is not set (Go's zero value, which
    /// is what Alertmanager's notifiers see for a setting left out).
    pub fn text(key: &str) -> String {
        get(key).unwrap_or_default()
    }

    /// The value of `key`, or an error naming it.
    pub fn require(key: &str) -> Result<String, String> {
        get(key).ok_or_else(|| format!("config key {key:?} is not set"))
    }

    /// Every key and value, sorted by key.
    pub fn all() -> Vec<(String, String)> {
        super::wit::config::get_all()
    }
}

/// `s` cut to at most `n` characters, the last one an ellipsis when cut (Alertmanager's
/// `notify.TruncateInRunes`, for titles and summaries that services limit).
pub fn truncate_runes(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    if n <= 3 {
        return s.chars().take(n).collect();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

/// The host's clocks.
pub mod clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms() -> i64 {
        super::wit::clock::now_ms()
    }

    /// A monotonic clock in nanoseconds.
    pub fn monotonic_ns() -> u64 {
        super::wit::clock::monotonic_ns()
    }
}

/// Outbound HTTP to hosts granted in `<name>.toml`.
pub mod http {
    pub use super::wit::http::{Error, Request, Response};

    /// Sends a request.
    pub fn send(request: &Request) -> Result<Response, Error> {
        super::wit::http::send(request)
    }

    /// `resp` when its status is 2xx, else an error naming the status with the start of the
    /// body (at most 200 characters): what a receiver returns so that the host retries the
    /// notification and records why.
    pub fn success(resp: Response) -> Result<Response, String> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let snippet: String = String::from_utf8_lossy(&resp.body)
            .chars()
            .take(200)
            .collect();
        Err(format!(
            "unexpected status code {}: {}",
            resp.status,
            snippet.trim_end()
        ))
    }

    /// POSTs a JSON body with `Content-Type: application/json` plus `headers`.
    pub fn post_json(url: &str, body: &str, headers: &[(&str, &str)]) -> Result<Response, Error> {
        let mut h = vec![("Content-Type".to_string(), "application/json".to_string())];
        h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        send(&Request {
            method: "POST".to_string(),
            url: url.to_string(),
            headers: h,
            body: body.as_bytes().to_vec(),
        })
    }
}

/// Filesystem statistics of granted mount points.
pub mod fs {
    pub use super::wit::host_fs::FsStats;

    /// statvfs of the filesystem mounted at `mount_point`.
    pub fn statfs(mount_point: &str) -> Result<FsStats, String> {
        super::wit::host_fs::statfs(mount_point)
    }
}
