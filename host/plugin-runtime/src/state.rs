//! Per-call host state: the WASI context, the limiter and the host side of
//! the `sightline:plugin` interfaces.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::wit;
use crate::fs_guard::CallGuard;
use crate::http::{HttpMode, Outbound, RecordedRequest, SendError};
use crate::manifest::Capabilities;
use crate::words::{sanitize, LogGate, MAX_LOG_MESSAGE};

/// Most log messages kept per call (the plugin's [`LogGate`] limits them across calls too).
const MAX_LOG_MESSAGES: u32 = 1000;

/// Linear memory of every live plugin instance together, against the daemon-wide ceiling
/// (`--plugins.memory-ceiling`). Each store's [`Limiter`] reserves its growth here and
/// releases it when the store drops.
pub(crate) struct MemoryBudget {
    used: AtomicU64,
    ceiling: u64,
}

impl MemoryBudget {
    pub(crate) fn new(ceiling: u64) -> Self {
        MemoryBudget {
            used: AtomicU64::new(0),
            ceiling,
        }
    }

    /// Takes `n` bytes if that stays within the ceiling.
    fn reserve(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= self.ceiling)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// Bytes reserved by live instances.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    pub(crate) fn ceiling(&self) -> u64 {
        self.ceiling
    }
}

/// The memory limiter of one store. It records the high-water mark and
/// whether the limit (or the shared ceiling) was hit, so a resulting trap can be reported as
/// a memory-limit error.
pub(crate) struct Limiter {
    pub(crate) limit_bytes: usize,
    pub(crate) high_water_bytes: usize,
    pub(crate) hit: bool,
    /// The growth failed because all instances together were at the ceiling.
    pub(crate) ceiling_hit: bool,
    pub(crate) budget: Arc<MemoryBudget>,
    /// What this store holds of `budget`, given back on drop.
    reserved: u64,
}

impl Limiter {
    pub(crate) fn new(limit_bytes: usize, budget: Arc<MemoryBudget>) -> Self {
        Limiter {
            limit_bytes,
            high_water_bytes: 0,
            hit: false,
            ceiling_hit: false,
            budget,
            reserved: 0,
        }
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        self.budget.release(self.reserved);
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            self.hit = true;
            return Ok(false);
        }
        // Instantiation reports each memory's initial size as a growth from zero, so every
        // byte of every memory of the store is reserved here.
        let growth = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
        if !self.budget.reserve(growth) {
            self.hit = true;
            self.ceiling_hit = true;
            return Ok(false);
        }
        self.reserved = self.reserved.saturating_add(growth);
        self.high_water_bytes = self.high_water_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Everything one call's store holds.
pub(crate) struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) caps: Arc<Capabilities>,
    /// Config of this call: the manifest's config overlaid with call settings.
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) http: HttpMode,
    pub(crate) deadline: Instant,
    pub(crate) n_logs: u32,
    /// The filesystem guard of this call (`fs_guard.rs`).
    pub(crate) fs_guard: CallGuard,
    /// The plugin's log rate limit, shared by all its calls (set by `invoke`).
    pub(crate) log_gate: Arc<LogGate>,
    /// Outbound network of this call: the `http_config` profile, the in-flight limit,
    /// `wasi:http`'s context (`http.rs`, `wasi_http.rs`).
    pub(crate) net: crate::http::CallNet,
    /// What contract 0.2's `template` import renders with (a receiver's `notify` sets the
    /// notification's data; every other call has `default.tmpl` and no data).
    pub(crate) template: crate::notification::TemplateScope,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::types::Host for HostState {}
impl wit::metrics::Host for HostState {}
impl wit::alerts::Host for HostState {}
impl wit::promql::Host for HostState {}

impl wit::log::Host for HostState {
    async fn log(&mut self, level: wit::log::Level, message: String) {
        self.n_logs = self.n_logs.saturating_add(1);
        if self.n_logs > MAX_LOG_MESSAGES {
            self.log_gate.refuse();
            return;
        }
        use wit::log::Level;
        // A line the log level drops costs nothing and does not count against the rate
        // limit (a receiver's debug line per notification is no flood).
        let enabled = match level {
            Level::Trace => tracing::enabled!(tracing::Level::TRACE),
            Level::Debug => tracing::enabled!(tracing::Level::DEBUG),
            Level::Info => tracing::enabled!(tracing::Level::INFO),
            Level::Warn => tracing::enabled!(tracing::Level::WARN),
            Level::Error => tracing::enabled!(tracing::Level::ERROR),
        };
        if !enabled {
            return;
        }
        let plugin = &*self.plugin;
        if !self.log_gate.admit(plugin) {
            return;
        }
        let message = sanitize(&message, MAX_LOG_MESSAGE);
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl wit::config::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    async fn get_all(&mut self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl wit::clock::Host for HostState {
    async fn now_ms(&mut self) -> i64 {
        sightline_model::now_ms()
    }

    async fn monotonic_ns(&mut self) -> u64 {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(Instant::now);
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl wit::http::Host for HostState {
    async fn send(
        &mut self,
        request: wit::http::Request,
    ) -> Result<wit::http::Response, wit::http::Error> {
        let req = RecordedRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body_len: request.body.len(),
            body: request.body,
        };
        match self.outbound().send(req).await {
            Ok(r) => Ok(wit::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(SendError::Denied(m)) => Err(wit::http::Error::Denied(m)),
            Err(SendError::Invalid(m)) => Err(wit::http::Error::InvalidRequest(m)),
            Err(SendError::Timeout) => Err(wit::http::Error::Timeout),
            Err(SendError::TooLarge) => {
                Err(wit::http::Error::Transport(SendError::too_large_message()))
            }
            Err(SendError::Transport(m)) => Err(wit::http::Error::Transport(m)),
        }
    }
}

impl HostState {
    /// The outbound side of this call, detached from the store: the grant (with the hosts
    /// of the `http.allow_config_url_keys` config values), the mode, the deadline, the
    /// profile.
    pub(crate) fn outbound(&self) -> Outbound {
        let mut allowed = self.caps.http_allowed_hosts.clone();
        for key in &self.caps.http_allow_config_url_keys {
            if let Some(host) = self
                .config
                .get(key)
                .and_then(|v| url::Url::parse(v).ok())
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            {
                allowed.push(host);
            }
        }
        Outbound {
            plugin: self.plugin.clone(),
            allowed: Arc::new(allowed),
            mode: self.http.clone(),
            deadline: self.deadline,
            profile: self.net.profile.clone(),
            log_gate: self.log_gate.clone(),
            in_flight: self.net.in_flight.clone(),
        }
    }
}

impl wit::host_fs::Host for HostState {
    async fn statfs(&mut self, mount_point: String) -> Result<wit::host_fs::FsStats, String> {
        let granted = self
            .caps
            .statfs
            .iter()
            .any(|m| m == "*" || *m == mount_point);
        if !granted {
            return Err(format!(
                "statfs of {mount_point:?} is not granted to plugin {:?}; add it to fs.statfs in {}.toml",
                self.plugin, self.plugin
            ));
        }
        let path = mount_point.clone();
        let stats = tokio::task::spawn_blocking(move || rustix::fs::statvfs(path.as_str()))
            .await
            .map_err(|e| format!("statfs {mount_point:?}: {e}"))?
            .map_err(|e| format!("statfs {mount_point:?}: {e}"))?;
        let frsize = stats.f_frsize;
        Ok(wit::host_fs::FsStats {
            size_bytes: stats.f_blocks.saturating_mul(frsize),
            free_bytes: stats.f_bfree.saturating_mul(frsize),
            avail_bytes: stats.f_bavail.saturating_mul(frsize),
            files: stats.f_files,
            files_free: stats.f_ffree,
            read_only: stats.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY),
        })
    }
}
