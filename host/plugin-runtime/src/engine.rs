//! The engine: one wasmtime `Engine` and `Linker`, the epoch ticker, loading
//! through the authenticated component cache (`cache.rs`), and running one call
//! in a fresh store.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostWallClock, WasiCtxBuilder};

use crate::bindings;
use crate::cache::{CacheStats, ComponentCache};
use crate::error::{Error, Result};
use crate::fs_guard::{self, CallGuard, FsPolicy};
use crate::http::HttpMode;
use crate::manifest::Capabilities;
use crate::notification::Contract;
use crate::state::{HostState, Limiter, MemoryBudget};
use crate::types::PluginKind;

/// Plugin instances that can be alive at once (each call makes one; it lives for the call).
/// Every call first takes one of these slots from [`Runtime::admission`], so the pool itself
/// is never exhausted.
pub(crate) const POOL_INSTANCES: u32 = 128;
/// Per-component bounds of the pool's other resources. The totals are the per-component bounds
/// times [`POOL_INSTANCES`], so the component-instance slots are always the scarce resource,
/// and that one is admitted fairly (one plugin's concurrency is capped at a quarter of them).
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 16;

/// How often the epoch advances; the granularity of time limits.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);
/// How much guest stderr is kept to explain a trap (panic messages).
const STDERR_CAPACITY: usize = 64 << 10;

/// Bumps the engine's epoch every [`EPOCH_TICK`] while a guest runs, until dropped. With no
/// call in progress the thread sleeps, so an idle daemon does not wake 100 times a second.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
    thread: std::thread::Thread,
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// Keeps the epoch ticking while alive (one per guest call).
pub(crate) struct RunningCall {
    active: Arc<AtomicUsize>,
}

impl Drop for RunningCall {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The instantiation handle of a linked plugin, per world and contract version.
#[derive(Clone)]
pub(crate) enum Pre {
    Exporter(bindings::exporter::ExporterPre<HostState>),
    Receiver(bindings::receiver::ReceiverPre<HostState>),
    QueryFunction(bindings::query_function::QueryFunctionPre<HostState>),
    Dashboard(bindings::dashboard::DashboardPre<HostState>),
    ExporterV02(bindings::v02::exporter::ExporterPluginPre<HostState>),
    ReceiverV02(bindings::v02::receiver::ReceiverPluginPre<HostState>),
    QueryFunctionV02(bindings::v02::query_function::QueryFunctionPluginPre<HostState>),
    DashboardV02(bindings::v02::dashboard::DashboardPluginPre<HostState>),
}

impl Pre {
    pub(crate) fn kind(&self) -> PluginKind {
        match self {
            Pre::Exporter(_) | Pre::ExporterV02(_) => PluginKind::Exporter,
            Pre::Receiver(_) | Pre::ReceiverV02(_) => PluginKind::Receiver,
            Pre::QueryFunction(_) | Pre::QueryFunctionV02(_) => PluginKind::QueryFunction,
            Pre::Dashboard(_) | Pre::DashboardV02(_) => PluginKind::Dashboard,
        }
    }

    pub(crate) fn contract(&self) -> Contract {
        match self {
            Pre::Exporter(_) | Pre::Receiver(_) | Pre::QueryFunction(_) | Pre::Dashboard(_) => {
                Contract::V0_1
            }
            _ => Contract::V0_2,
        }
    }
}

/// A compiled, linked plugin ready to be instantiated.
pub(crate) struct Loaded {
    pub(crate) name: Arc<str>,
    pub(crate) sha256: String,
    pub(crate) caps: Arc<Capabilities>,
    pub(crate) pre: Pre,
    pub(crate) loaded_at: SystemTime,
    /// Whether the compiled code came from the on-disk cache.
    pub(crate) from_cache: bool,
    /// The plugin's own concurrency: `caps.concurrency` permits, handed out first come,
    /// first served.
    pub(crate) slots: Arc<Semaphore>,
}

/// The engine shared by every plugin of a process.
pub(crate) struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: Option<Arc<ComponentCache>>,
    /// Hash of the engine's compatibility settings; part of every cache entry's name and tag.
    engine_key: u64,
    ticker: EpochTicker,
    /// One permit per pooled instance slot, taken (first come, first served) before a call
    /// instantiates, so the pool is never exhausted and a call that can not get a slot in
    /// time fails as the host's `host_busy`, not as a trap of the plugin.
    pub(crate) admission: Arc<Semaphore>,
    /// Linear memory of all live instances together, against `--plugins.memory-ceiling`.
    pub(crate) memory: Arc<MemoryBudget>,
    /// What no grant reaches (`fs_guard.rs`).
    fs_policy: Arc<FsPolicy>,
}

/// The engine, built when the first plugin file is loaded: a daemon without plugins pays
/// for neither the engine's memory and code nor its epoch thread (at ten thousand series
/// the wasm runtime's touched code and linker were a tenth of the process' RSS, issue 21).
/// The compile cache is opened at once and shared with the engine, so its state reads the
/// same before and after.
pub(crate) struct LazyRuntime {
    built: std::sync::OnceLock<Runtime>,
    /// Serialises building: two first loads at once build one engine (and one epoch thread).
    building: parking_lot::Mutex<()>,
    cache: Option<Arc<ComponentCache>>,
    memory_ceiling_bytes: u64,
    fs_policy: Arc<FsPolicy>,
}

impl LazyRuntime {
    /// `cache_dir` (created owner-only if missing, now) holds compiled components; it must
    /// be a directory only Sightline writes. See [`Runtime::new`] for the rest.
    pub(crate) fn new(
        cache_dir: Option<PathBuf>,
        memory_ceiling_bytes: u64,
        fs_policy: Arc<FsPolicy>,
    ) -> Self {
        LazyRuntime {
            built: std::sync::OnceLock::new(),
            building: parking_lot::Mutex::new(()),
            cache: cache_dir.map(|d| Arc::new(ComponentCache::open(d))),
            memory_ceiling_bytes,
            fs_policy,
        }
    }

    /// The engine, built on first use. A failure to build it is returned to this caller
    /// and the next one tries again.
    pub(crate) fn get(&self) -> Result<&Runtime> {
        if let Some(rt) = self.built.get() {
            return Ok(rt);
        }
        let _building = self.building.lock();
        if let Some(rt) = self.built.get() {
            return Ok(rt);
        }
        let rt = Runtime::new(
            self.cache.clone(),
            self.memory_ceiling_bytes,
            self.fs_policy.clone(),
        )?;
        Ok(self.built.get_or_init(|| rt))
    }

    /// What no grant reaches.
    pub(crate) fn fs_policy(&self) -> &FsPolicy {
        &self.fs_policy
    }

    /// What the compile cache did so far (all zero and disabled without one).
    pub(crate) fn cache_stats(&self) -> CacheStats {
        self.cache
            .as_deref()
            .map(ComponentCache::stats)
            .unwrap_or_default()
    }

    /// Linear memory all live instances hold together, in bytes.
    pub(crate) fn guest_memory_bytes(&self) -> u64 {
        self.built.get().map_or(0, |rt| rt.memory.used())
    }
}

impl Runtime {
    /// Creates the engine; `cache` holds compiled components (its directory must be one
    /// only Sightline writes, see [`ComponentCache::open`]). `fs_policy`
    /// guards every call's filesystem access; `memory_ceiling_bytes` bounds the linear
    /// memory of all live instances together.
    pub(crate) fn new(
        cache: Option<Arc<ComponentCache>>,
        memory_ceiling_bytes: u64,
        fs_policy: Arc<FsPolicy>,
    ) -> Result<Self> {
        let mut config = Config::new();
        // Instances come from a pool of pre-reserved slots instead of fresh mmaps per call:
        // a warm slot keeps its copy-on-write memory image, which makes the per-call
        // instantiation a plugin call pays several times cheaper. Memory stays bounded by
        // each plugin's limit (the ResourceLimiter); the counts bound concurrent instances.
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MEMORIES_PER_COMPONENT)
            .max_tables_per_component(TABLES_PER_COMPONENT)
            .total_core_instances(POOL_INSTANCES * CORE_INSTANCES_PER_COMPONENT)
            .total_memories(POOL_INSTANCES * MEMORIES_PER_COMPONENT)
            .total_tables(POOL_INSTANCES * TABLES_PER_COMPONENT)
            .total_stacks(POOL_INSTANCES);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.max_wasm_stack(1 << 20);
        let engine =
            Engine::new(&config).map_err(|e| Error::Runtime(format!("creating engine: {e:#}")))?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::Runtime(format!("linking WASI: {e:#}")))?;
        // wasi:http for every plugin, behind the `http` grant (`wasi_http.rs`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| Error::Runtime(format!("linking wasi:http: {e:#}")))?;
        fs_guard::add_to_linker(&mut linker)
            .map_err(|e| Error::Runtime(format!("linking the filesystem guard: {e:#}")))?;
        bindings::host_world::Host_::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| Error::Runtime(format!("linking host interfaces: {e:#}")))?;
        bindings::v02::host_world::Host_::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| Error::Runtime(format!("linking host interfaces 0.2.0: {e:#}")))?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_key = h.finish();
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let ticker_engine = engine.clone();
        let (ticker_stop, ticker_active) = (stop.clone(), active.clone());
        let handle = std::thread::Builder::new()
            .name("plugin-epoch".to_string())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    if ticker_active.load(Ordering::Acquire) == 0 {
                        // Woken by the first call (or by shutdown); the timeout is a backstop.
                        std::thread::park_timeout(Duration::from_secs(1));
                        continue;
                    }
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|e| Error::Runtime(format!("spawning epoch thread: {e}")))?;
        Ok(Runtime {
            engine,
            linker,
            cache,
            engine_key,
            ticker: EpochTicker {
                stop,
                active,
                thread: handle.thread().clone(),
            },
            admission: Arc::new(Semaphore::new(POOL_INSTANCES as usize)),
            memory: Arc::new(MemoryBudget::new(memory_ceiling_bytes)),
            fs_policy,
        })
    }

    /// Marks a guest call as running (the epoch ticks, so time limits apply) until the
    /// returned guard drops.
    pub(crate) fn running_call(&self) -> RunningCall {
        if self.ticker.active.fetch_add(1, Ordering::AcqRel) == 0 {
            self.ticker.thread.unpark();
        }
        RunningCall {
            active: self.ticker.active.clone(),
        }
    }

    /// Compiles (or loads from the cache) and links `bytes`. Blocking: call it
    /// from `spawn_blocking`.
    pub(crate) fn load_blocking(
        &self,
        name: &str,
        bytes: &[u8],
        caps: Capabilities,
    ) -> Result<Loaded> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let mut component = None;
        if let Some(cache) = &self.cache {
            if let Some(serialized) = cache.read(name, &sha256, self.engine_key) {
                match deserialize_verified(&self.engine, &serialized) {
                    Ok(c) => {
                        cache.hit();
                        component = Some(c);
                    }
                    Err(e) => {
                        // Authentic but refused: written by another wasmtime build or
                        // configuration. Compiled again and overwritten below.
                        cache.miss();
                        tracing::info!(
                            plugin = name,
                            "recompiling a cached component this engine cannot use: {}",
                            one_line(&format!("{e:#}"))
                        );
                    }
                }
            }
        }
        let from_cache = component.is_some();
        let component = match component {
            Some(c) => c,
            None => {
                let c = Component::new(&self.engine, bytes).map_err(|e| Error::Compile {
                    name: name.to_string(),
                    message: one_line(&format!("{e:#}")),
                })?;
                if let Some(cache) = &self.cache {
                    let written = c
                        .serialize()
                        .map_err(|e| std::io::Error::other(format!("{e:#}")))
                        .and_then(|bytes| cache.write(&sha256, self.engine_key, &bytes));
                    if let Err(e) = written {
                        tracing::warn!(plugin = name, "could not cache compiled component: {e}");
                    }
                }
                c
            }
        };
        let pre = self.link(name, &component, caps.kind)?;
        let slots = Arc::new(Semaphore::new(caps.concurrency.max(1) as usize));
        Ok(Loaded {
            name: Arc::from(name),
            sha256,
            caps: Arc::new(caps),
            pre,
            loaded_at: SystemTime::now(),
            from_cache,
            slots,
        })
    }

    /// Links a component and finds the world it implements. Every world of both contracts
    /// is tried (0.2's export versioned interfaces, 0.1's bare functions, so the exports
    /// tell the version): a component that implements several kinds is refused unless the
    /// manifest's `kind` names one of them (guessing could run an exporter as a dashboard).
    fn link(&self, name: &str, component: &Component, declared: Option<PluginKind>) -> Result<Pre> {
        let link_err = |message: String| Error::Link {
            name: name.to_string(),
            message,
        };
        let ipre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| link_err(one_line(&format!("{e:#}"))))?;
        let mut found = Vec::new();
        let mut reasons = Vec::new();
        let mut note = |kind: PluginKind, r: wasmtime::Result<Pre>| match r {
            Ok(p) => found.push(p),
            Err(e) => reasons.push(format!(
                "{}: {}",
                kind.as_str(),
                one_line(&format!("{e:#}"))
            )),
        };
        note(
            PluginKind::Exporter,
            bindings::exporter::ExporterPre::new(ipre.clone()).map(Pre::Exporter),
        );
        note(
            PluginKind::Receiver,
            bindings::receiver::ReceiverPre::new(ipre.clone()).map(Pre::Receiver),
        );
        note(
            PluginKind::QueryFunction,
            bindings::query_function::QueryFunctionPre::new(ipre.clone()).map(Pre::QueryFunction),
        );
        note(
            PluginKind::Dashboard,
            bindings::dashboard::DashboardPre::new(ipre.clone()).map(Pre::Dashboard),
        );
        let v01_reasons = std::mem::take(&mut reasons);
        let mut note = |kind: PluginKind, r: wasmtime::Result<Pre>| match r {
            Ok(p) => found.push(p),
            Err(e) => reasons.push(format!(
                "{}@0.2.0: {}",
                kind.as_str(),
                one_line(&format!("{e:#}"))
            )),
        };
        note(
            PluginKind::Exporter,
            bindings::v02::exporter::ExporterPluginPre::new(ipre.clone()).map(Pre::ExporterV02),
        );
        note(
            PluginKind::Receiver,
            bindings::v02::receiver::ReceiverPluginPre::new(ipre.clone()).map(Pre::ReceiverV02),
        );
        note(
            PluginKind::QueryFunction,
            bindings::v02::query_function::QueryFunctionPluginPre::new(ipre.clone())
                .map(Pre::QueryFunctionV02),
        );
        note(
            PluginKind::Dashboard,
            bindings::v02::dashboard::DashboardPluginPre::new(ipre).map(Pre::DashboardV02),
        );
        // A 0.1 and a 0.2 world of the same kind can not both match (their exports
        // differ), so the kinds found are distinct unless a component exports both
        // contracts' names; then the newer contract serves.
        found.sort_by_key(|p| std::cmp::Reverse(p.contract() == Contract::V0_2));
        let mut seen = Vec::new();
        found.retain(|p| {
            let fresh = !seen.contains(&p.kind());
            seen.push(p.kind());
            fresh
        });
        let reasons = v01_reasons.into_iter().chain(reasons).collect::<Vec<_>>();
        let worlds = || {
            found
                .iter()
                .map(|p| p.kind().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(kind) = declared {
            if let Some(i) = found.iter().position(|p| p.kind() == kind) {
                return Ok(found.swap_remove(i));
            }
            return Err(link_err(if found.is_empty() {
                format!(
                    "the manifest says kind = {:?}, but the component implements no sightline:plugin world of 0.1.0 or 0.2.0 ({})",
                    kind.as_str(),
                    reasons.join("; ")
                )
            } else {
                format!(
                    "the manifest says kind = {:?}, but the component implements {}",
                    kind.as_str(),
                    worlds()
                )
            }));
        }
        match found.len() {
            0 => Err(link_err(format!(
                "the component implements no sightline:plugin world of 0.1.0 or 0.2.0 ({})",
                reasons.join("; ")
            ))),
            1 => Ok(found.swap_remove(0)),
            _ => Err(link_err(format!(
                "the component implements several worlds ({}); name the one to run with a top-level kind = \"<world>\" in {name}.toml",
                worlds()
            ))),
        }
    }

    /// Builds the store of one call.
    pub(crate) fn new_store(
        &self,
        plugin: &Loaded,
        settings: &BTreeMap<String, String>,
        http: HttpMode,
    ) -> Result<(Store<HostState>, MemoryOutputPipe)> {
        let caps = &plugin.caps;
        let mut wasi = WasiCtxBuilder::new();
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        wasi.stderr(stderr.clone());
        if !caps.wasi_wall_clock {
            wasi.wall_clock(FrozenClock);
        }
        for dir in &caps.read_only_dirs {
            let guest = dir.to_string_lossy();
            wasi.preopened_dir(dir, guest.as_ref(), FsPerms::ReadOnly)
                .map_err(|e| Error::Io {
                    path: dir.clone(),
                    source: std::io::Error::other(format!("preopening granted directory: {e:#}")),
                })?;
        }
        let mut config = caps.config.clone();
        config.extend(settings.iter().map(|(k, v)| (k.clone(), v.clone())));
        let limit_bytes = usize::try_from(caps.memory_bytes).unwrap_or(usize::MAX);
        let state = HostState {
            plugin: plugin.name.clone(),
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(limit_bytes, self.memory.clone()),
            caps: caps.clone(),
            config,
            http,
            deadline: Instant::now() + caps.timeout,
            n_logs: 0,
            fs_guard: CallGuard::new(self.fs_policy.clone()),
            log_gate: Default::default(),
            net: Default::default(),
            template: crate::notification::TemplateScope::default_only(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Every epoch tick the guest yields to the async executor (so a busy
        // plugin never monopolises a runtime thread) and is interrupted once
        // its deadline has passed.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|store| {
            if Instant::now() >= store.data().deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok((store, stderr))
    }
}

/// Turns a wasmtime error of a call into our error, using the store's
/// bookkeeping to tell a memory-limit hit or a timeout from other traps.
pub(crate) fn classify(
    plugin: &Loaded,
    store: &Store<HostState>,
    stderr: &MemoryOutputPipe,
    err: wasmtime::Error,
) -> Error {
    let name = plugin.name.to_string();
    if store.data().limiter.ceiling_hit {
        return Error::MemoryCeiling {
            name,
            ceiling_bytes: store.data().limiter.budget.ceiling(),
        };
    }
    if store.data().limiter.hit {
        return Error::MemoryLimit {
            name,
            limit_bytes: plugin.caps.memory_bytes,
        };
    }
    if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return Error::Timeout {
            name,
            limit: plugin.caps.timeout,
        };
    }
    let mut message = one_line(&format!("{err:#}"));
    let captured = stderr.contents();
    let captured = String::from_utf8_lossy(&captured);
    let captured = captured.trim();
    if !captured.is_empty() {
        let tail: String = if captured.len() > 2048 {
            let mut start = captured.len() - 2048;
            while !captured.is_char_boundary(start) {
                start += 1;
            }
            captured[start..].to_string()
        } else {
            captured.to_string()
        };
        message = format!("{message}; guest stderr: {}", one_line(&tail));
    }
    if message.len() > 8192 {
        let mut cut = 8192;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    Error::Trapped { name, message }
}

/// Collapses whitespace runs (wasmtime's messages span lines) so errors fit
/// in a log line, a table cell and a JSON string.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A wall clock stuck at the Unix epoch: WASI's clock is not granted by
/// default.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// Loads a compiled component whose bytes the cache has authenticated.
#[allow(unsafe_code)]
fn deserialize_verified(engine: &Engine, serialized: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires that deserialized bytes come from a trusted `serialize` call,
    // since they are native code. `ComponentCache::read` returns bytes only when their
    // HMAC-SHA256 tag verifies under the cache's secret key (a 0600 file of this user in an
    // owner-only directory, never the plugins directory), and the tag covers the original
    // component's sha256 and this engine's compatibility hash: so these bytes are exactly
    // what `Component::serialize` produced in this cache for this component and engine
    // configuration. They are verified and deserialized from the same buffer, with no file
    // read in between. wasmtime additionally checks its version and engine configuration
    // recorded in the bytes and refuses a mismatch.
    unsafe { Component::deserialize(engine, serialized) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No engine until the first use, the cache opened at once; every use after the first
    /// gets the one engine.
    #[test]
    fn the_engine_is_built_on_first_use_once() {
        let dir = tempfile::tempdir().unwrap();
        let lazy = LazyRuntime::new(
            Some(dir.path().join("cache")),
            1 << 30,
            Arc::new(FsPolicy::new(&[])),
        );
        assert!(lazy.built.get().is_none());
        assert_eq!(lazy.guest_memory_bytes(), 0);
        let before = lazy.cache_stats();
        assert!(before.enabled, "the cache is opened at once");
        let first: *const Runtime = lazy.get().unwrap();
        let second: *const Runtime = lazy.get().unwrap();
        assert_eq!(first, second);
        assert!(lazy.built.get().is_some());
    }
}
