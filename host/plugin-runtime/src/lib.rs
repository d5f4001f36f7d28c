//! sightline-plugin-runtime: runs Sightline's WebAssembly component plugins.
//!
//! This crate owns the wasmtime engine, the authenticated on-disk component
//! cache (native code is loaded only from files it wrote and can verify), the
//! sandbox (memory and time limits, deny-by-default capabilities granted in
//! `<name>.toml`), the host side of the `wit/` interfaces, the plugin
//! registry with hot reload, and per-plugin statistics. It is the only crate
//! that names wasmtime; no wasmtime type appears in its public API.
//!
//! It knows nothing of scraping, PromQL evaluation, alert routing or HTTP
//! serving: the daemon hands it plugin names and plain values and gets plain
//! values back.
//!
//! Invariant: a guest can not crash the host. Every trap, timeout, memory
//! limit hit and oversized output becomes an [`Error`] that is counted in the
//! plugin's [`PluginStats`].

mod bindings;
mod cache;
mod calls;
mod calls_v02;
pub mod cli;
mod convert;
mod convert_v02;
mod engine;
mod error;
mod fs_guard;
mod http;
mod http_profile;
pub mod manifest;
mod notification;
mod registry;
pub mod smtp;
mod state;
mod state_v02;
mod stats;
mod template;
mod tls;
mod types;
mod wasi_http;
pub mod words;

pub use cache::CacheStats;
pub use convert::{MAX_LABELS, MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES};
pub use error::{Error, Result};
pub use http::{
    CannedResponse, RecordedRequest, MAX_RECORDED_BODY_BYTES, MAX_RECORDED_REQUESTS,
    MAX_RECORDED_TOTAL_BYTES,
};
pub use http_profile::{
    AuthSource, HttpAuth, HttpClientSettings, HttpProfile, Secret, SharedAuthSource,
};
pub use manifest::{Capabilities, Ceilings};
pub use notification::{
    default_templates, AlertStatus, Contract, Notification, NotificationAlert, SettingsValue,
    TemplateScope,
};
pub use tls::{Pem, TlsSettings};

/// Plugin instances the runtime can hold at once (the pooling allocator's slots); a
/// plugin's concurrency ceiling is at most a quarter of them.
pub const INSTANCE_SLOTS: u32 = engine::POOL_INSTANCES;
pub use registry::{EnvLookup, PluginHost, PluginHostConfig, PluginInfo, PluginState};
pub use stats::{PluginStats, DURATION_BUCKETS_SECONDS};

pub use types::*;
