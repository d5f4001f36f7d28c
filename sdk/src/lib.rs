//! sightline-sdk: write Sightline plugins in Rust.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` that implements one world
//! of Sightline's plugin contract `sightline:plugin@0.2.0` (`wit/v0.2/plugin.wit` at the
//! repository root). This crate binds that WIT with `wit-bindgen` and offers one trait and
//! one export macro per kind:
//!
//! | kind | trait | macro |
//! | --- | --- | --- |
//! | exporter | [`Exporter`] | [`export_exporter!`] |
//! | receiver | [`Receiver`] | [`export_receiver!`] |
//! | query function | [`QueryFunction`] | [`export_query_function!`] |
//! | dashboard | [`Dashboard`] | [`export_dashboard!`] |
//!
//! An exporter:
//!
//! ```no_run
//! use sightline_sdk::{Exporter, MetricFamily, MetricType, Target};
//!
//! struct Hello;
//!
//! impl Exporter for Hello {
//!     fn collect(target: &Target) -> Result<Vec<MetricFamily>, String> {
//!         let mut f = MetricFamily::new("hello_answer", "The answer.", MetricType::Gauge);
//!         f.push(&[("planet", target.param("planet").unwrap_or("earth"))], 42.0);
//!         Ok(vec![f])
//!     }
//! }
//!
//! sightline_sdk::export_exporter!(Hello);
//! ```
//!
//! A receiver renders the fields Alertmanager renders through the host's [`template`]
//! import, reads its alertmanager.yml entry through [`Settings`], and says whether a failure
//! is worth retrying ([`NotifyError`], [`http::Retrier`]):
//!
//! ```no_run
//! use sightline_sdk::{http, json, template, Notification, NotifyError, Receiver, Settings};
//!
//! struct Chat;
//!
//! impl Receiver for Chat {
//!     fn notify(_n: &Notification, settings: &Settings) -> Result<(), NotifyError> {
//!         let url = settings.require_text("url")?;
//!         let t = template::Renderer::host();
//!         let text = t.text(&settings.text("text")?);
//!         t.finish()?;
//!         let mut body = json::Object::new();
//!         body.str("text", &text);
//!         let resp = http::post_json(&url, &json::encoded(body), &[])?;
//!         http::Retrier::ALERTMANAGER.check(resp)?;
//!         Ok(())
//!     }
//! }
//!
//! sightline_sdk::export_receiver!(Chat);
//! ```
//!
//! A query function:
//!
//! ```no_run
//! use sightline_sdk::{CallMode, QueryFunction, Signature, Value, ValueType};
//!
//! struct Double;
//!
//! impl QueryFunction for Double {
//!     fn describe() -> Signature {
//!         Signature {
//!             name: "double".into(),
//!             arg_types: vec![ValueType::Scalar],
//!             optional_args: 0,
//!             return_type: ValueType::Scalar,
//!             mode: CallMode::PerVector,
//!         }
//!     }
//!
//!     fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
//!         match args.first() {
//!             Some(Value::Scalar(x)) => Ok(Value::Scalar(2.0 * x)),
//!             _ => Err("double expects a scalar".into()),
//!         }
//!     }
//! }
//!
//! sightline_sdk::export_query_function!(Double);
//! ```
//!
//! A dashboard:
//!
//! ```no_run
//! struct Board;
//!
//! impl sightline_sdk::Dashboard for Board {
//!     fn dashboard() -> Result<String, String> {
//!         Ok(r#"{"uid": "my-board", "title": "My board", "panels": []}"#.into())
//!     }
//! }
//!
//! sightline_sdk::export_dashboard!(Board);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` (a `cdylib` crate), and drop the
//! `.wasm` with its `<name>.toml` manifest into the plugins directory; `sightline plugin new
//! KIND NAME` writes such a crate. Host capabilities are in the modules [`log`], [`config`],
//! [`clock`], [`template`], [`http`], [`smtp`] and [`fs`]; everything beyond logging,
//! config, the clock and templates must be granted in `<name>.toml`.
//!
//! **Contract 0.1.0.** This crate speaks only 0.2.0. Plugins built with the SDK for 0.1.0
//! (`wit/plugin.wit`) keep loading and running in the host unchanged; to rebuild one, either
//! move it to the traits above or bind `wit/plugin.wit` with `wit-bindgen` directly (as
//! `examples/raw-uptime-exporter` does). The 0.1.0 SDK is kept, frozen, only for the test
//! guests (`tests/guests/sdk-v0.1`).
//!
//! This crate knows nothing of the host's internals; the WIT file is the whole contract. It
//! also compiles for native targets (so `cargo test` covers its pure parts and plugins can
//! unit-test their payloads natively), where calling a host function panics.

#![deny(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs, unreachable_pub, unsafe_code, clippy::all)]
pub mod bindings {
    /// Every import of the contract; the four worlds below share these types.
    pub mod host {
        wit_bindgen::generate!({
            path: "../wit/v0.2",
            world: "host",
            generate_all,
            additional_derives: [PartialEq],
        });
    }

    macro_rules! world {
        ($module:ident, $world:literal, $path:literal) => {
            pub mod $module {
                wit_bindgen::generate!({
                    path: "../wit/v0.2",
                    world: $world,
                    with: {
                        "sightline:plugin/types@0.2.0": super::host::sightline::plugin::types,
                        "sightline:plugin/metrics@0.2.0": super::host::sightline::plugin::metrics,
                        "sightline:plugin/alerts@0.2.0": super::host::sightline::plugin::alerts,
                        "sightline:plugin/promql@0.2.0": super::host::sightline::plugin::promql,
                        "sightline:plugin/log@0.2.0": super::host::sightline::plugin::log,
                        "sightline:plugin/config@0.2.0": super::host::sightline::plugin::config,
                        "sightline:plugin/clock@0.2.0": super::host::sightline::plugin::clock,
                        "sightline:plugin/http@0.2.0": super::host::sightline::plugin::http,
                        "sightline:plugin/host-fs@0.2.0": super::host::sightline::plugin::host_fs,
                        "sightline:plugin/template@0.2.0": super::host::sightline::plugin::template,
                        "sightline:plugin/smtp@0.2.0": super::host::sightline::plugin::smtp,
                    },
                    pub_export_macro: true,
                    default_bindings_module: $path,
                });
            }
        };
    }

    world!(
        exporter,
        "exporter-plugin",
        "sightline_sdk::bindings::exporter"
    );
    world!(
        receiver,
        "receiver-plugin",
        "sightline_sdk::bindings::receiver"
    );
    world!(
        query_function,
        "query-function-plugin",
        "sightline_sdk::bindings::query_function"
    );
    world!(
        dashboard,
        "dashboard-plugin",
        "sightline_sdk::bindings::dashboard"
    );
}

use bindings::host::sightline::plugin as wit;

pub use wit::alerts::{Alert, AlertStatus, Notification, NotifyError, Retryable};
pub use wit::metrics::{
    Bucket, HistogramValue, MetricFamily, MetricType, Quantile, Sample, SummaryValue, Target,
};
pub use wit::promql::{CallMode, Point, Series, Signature, Value, ValueType};
pub use wit::types::{Document, Label, Node};

mod families;
pub mod http;
pub mod json;
mod notify;
pub mod settings;
pub mod smtp;
pub mod template;
mod time;

pub use notify::{truncate_bytes, truncate_runes};
pub use settings::{Setting, Settings, SettingsError};
pub use time::{rfc1123z, rfc3339_nano};

/// An exporter plugin: called on every scrape, once per target of its scrape job.
pub trait Exporter {
    /// Collects the current samples for `target` (its address, URL parameters, labels and
    /// scrape timeout); an error fails the scrape (`up == 0`).
    fn collect(target: &Target) -> Result<Vec<MetricFamily>, String>;
}

/// A receiver plugin: delivers alert notifications, what an alertmanager.yml
/// `<name>_configs` entry resolves to.
pub trait Receiver {
    /// Delivers one notification. `settings` is the receiver's alertmanager.yml entry with
    /// Alertmanager's defaults and `global` values filled in and `*_file` secrets read;
    /// template text in it is not rendered yet (see [`template`]). Return
    /// [`NotifyError::Retryable`] when another attempt may succeed, else
    /// [`NotifyError::Permanent`].
    fn notify(notification: &Notification, settings: &Settings) -> Result<(), NotifyError>;
}

/// A PromQL function plugin.
pub trait QueryFunction {
    /// The function's signature; called once when the plugin loads.
    fn describe() -> Signature;
    /// Evaluates the function at `eval_time_ms`.
    fn call(args: Vec<Value>, eval_time_ms: i64) -> Result<Value, String>;
}

/// A dashboard plugin.
pub trait Dashboard {
    /// The dashboard as a Grafana dashboard JSON model (an object with at least `uid` and
    /// `title`).
    fn dashboard() -> Result<String, String>;
}

#[doc(hidden)]
pub mod __private {
    pub use std::string::String;
    pub use std::vec::Vec;

    /// The receiver export's body: the settings document as a tree, then the plugin.
    pub fn notify<R: crate::Receiver>(
        notification: crate::Notification,
        settings: crate::Document,
    ) -> Result<(), crate::NotifyError> {
        let settings = crate::Settings::from_document(&settings)?;
        R::notify(&notification, &settings)
    }
}

/// Exports a type implementing [`Exporter`] as the plugin's `exporter-plugin` world.
#[macro_export]
macro_rules! export_exporter {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::exporter::exports::sightline::plugin::exporter::Guest
                for __SightlineExport
            {
                fn collect(
                    target: $crate::Target,
                ) -> ::core::result::Result<
                    $crate::__private::Vec<$crate::MetricFamily>,
                    $crate::__private::String,
                > {
                    <$t as $crate::Exporter>::collect(&target)
                }
            }
            $crate::bindings::exporter::export!(__SightlineExport with_types_in $crate::bindings::exporter);
        };
    };
}

/// Exports a type implementing [`Receiver`] as the plugin's `receiver-plugin` world.
#[macro_export]
macro_rules! export_receiver {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::receiver::exports::sightline::plugin::receiver::Guest
                for __SightlineExport
            {
                fn notify(
                    notification: $crate::Notification,
                    settings: $crate::Document,
                ) -> ::core::result::Result<(), $crate::NotifyError> {
                    $crate::__private::notify::<$t>(notification, settings)
                }
            }
            $crate::bindings::receiver::export!(__SightlineExport with_types_in $crate::bindings::receiver);
        };
    };
}

/// Exports a type implementing [`QueryFunction`] as the plugin's `query-function-plugin`
/// world.
#[macro_export]
macro_rules! export_query_function {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::query_function::exports::sightline::plugin::query_function::Guest
                for __SightlineExport
            {
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

/// Exports a type implementing [`Dashboard`] as the plugin's `dashboard-plugin` world.
#[macro_export]
macro_rules! export_dashboard {
    ($t:ty) => {
        const _: () = {
            struct __SightlineExport;
            impl $crate::bindings::dashboard::exports::sightline::plugin::dashboard::Guest
                for __SightlineExport
            {
                fn dashboard(
                ) -> ::core::result::Result<$crate::__private::String, $crate::__private::String>
                {
                    <$t as $crate::Dashboard>::dashboard()
                }
            }
            $crate::bindings::dashboard::export!(__SightlineExport with_types_in $crate::bindings::dashboard);
        };
    };
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

/// The plugin's own configuration: the `[config]` table of `<name>.toml` (after `$VAR`
/// expansion), overlaid under `sightline plugin test` with its `--config KEY=VALUE` flags.
/// A receiver's alertmanager.yml settings and an exporter's target are not here: they are
/// the arguments of [`Receiver::notify`] and [`Exporter::collect`].
pub mod config {
    /// The value of `key`, if set.
    pub fn get(key: &str) -> Option<String> {
        super::wit::config::get(key)
    }

    /// The value of `key`, or the empty string when it is not set.
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

/// Filesystem statistics of granted mount points.
pub mod fs {
    pub use super::wit::host_fs::FsStats;

    /// statvfs of the filesystem mounted at `mount_point`.
    pub fn statfs(mount_point: &str) -> Result<FsStats, String> {
        super::wit::host_fs::statfs(mount_point)
    }
}
