//! The plugin registry: loading the plugins directory, hot reload, and the
//! public calls.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, RwLock};
use sightline_telemetry::supervise::{supervise, Backoff};
use wasmtime::Store;

use crate::cache::CacheStats;
use crate::convert;
use crate::engine::{classify, Loaded, Pre, Runtime};
use crate::error::{Error, Result};
use crate::http::{CannedResponse, HttpMode, RecordedRequest};
use crate::manifest;
use crate::state::HostState;
use crate::stats::{PluginStats, StatsCell};
use crate::types::*;

/// Looks up environment variables for `$VAR` expansion.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How to run a [`PluginHost`].
#[derive(Clone)]
pub struct PluginHostConfig {
    /// The plugins directory: `<name>.wasm` plus optional `<name>.toml`.
    pub dir: PathBuf,
    /// Where compiled components are cached; `None` (the default) disables the
    /// cache. Native code is loaded from it, so it must be a directory only
    /// Sightline writes, never one a plugin author can (such as `dir`): the
    /// daemon uses `<storage.tsdb.path>/plugin-cache`, CLI commands the user's
    /// cache directory. It is created owner-only and its files are
    /// authenticated (see [`CacheStats`]).
    pub cache_dir: Option<PathBuf>,
    /// `Some` runs in test mode: outbound HTTP is recorded (see
    /// [`PluginHost::recorded_requests`]) and answered with these canned
    /// responses instead of touching the network.
    pub record_http: Option<Vec<CannedResponse>>,
    /// Quiet period after a file event before the directory is rescanned.
    pub debounce: Duration,
    /// Environment lookup for `$VAR` expansion in `<name>.toml`.
    pub env: EnvLookup,
    /// Load only the plugin of this name (used by `sightline plugin test`).
    pub only: Option<String>,
    /// Config values overlaid on every plugin's `[config]` and the call's
    /// settings for every call (used by `sightline plugin test --config
    /// KEY=VALUE`).
    pub extra_config: BTreeMap<String, String>,
}

impl PluginHostConfig {
    /// Defaults: no compile cache, live HTTP, 200 ms debounce, the process
    /// environment for `$VAR`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PluginHostConfig {
            cache_dir: None,
            dir: dir.into(),
            record_http: None,
            debounce: Duration::from_millis(200),
            env: Arc::new(|k| std::env::var(k).ok()),
            only: None,
            extra_config: BTreeMap::new(),
        }
    }
}

/// Whether a plugin is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginState {
    /// A version is loaded and serving (a newer file may have failed; see
    /// `last_error`).
    Loaded,
    /// No version could be loaded.
    Failed,
}

impl PluginState {
    /// `loaded` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginState::Loaded => "loaded",
            PluginState::Failed => "failed",
        }
    }
}

/// What `GET /api/v1/plugins` and `sightline plugin list` show of a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// File stem of the `.wasm`.
    pub name: String,
    /// The world of the serving version, if any.
    pub kind: Option<PluginKind>,
    /// sha256 of the serving version (hex), empty when none.
    pub sha256: String,
    /// When the serving version was loaded.
    pub loaded_at: Option<SystemTime>,
    /// Serving or not.
    pub state: PluginState,
    /// The error of the last failed load, cleared by a successful one.
    pub last_error: Option<String>,
    /// Capabilities of the serving version, summarised.
    pub capabilities: String,
    /// The signature, for query functions.
    pub signature: Option<FunctionSignature>,
    /// Call statistics.
    pub stats: PluginStats,
}

/// Modification signature of a plugin's files, to notice changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileSig {
    wasm: (u64, Option<SystemTime>),
    toml: Option<(u64, Option<SystemTime>)>,
}

fn stat(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    let m = std::fs::metadata(path).ok()?;
    m.is_file().then(|| (m.len(), m.modified().ok()))
}

struct Entry {
    current: Option<Arc<Loaded>>,
    signature: Option<FunctionSignature>,
    last_error: Option<String>,
    stats: Arc<StatsCell>,
    seen: Option<FileSig>,
}

struct Inner {
    rt: Runtime,
    cfg: PluginHostConfig,
    http: HttpMode,
    recorded: Option<Arc<Mutex<crate::http::RecordLog>>>,
    entries: RwLock<BTreeMap<String, Entry>>,
    scan_lock: tokio::sync::Mutex<()>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Directory scans so far (watcher-triggered, periodic and explicit).
    scans: std::sync::atomic::AtomicU64,
}

/// Runs the plugins of one directory. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<Inner>,
}

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, CallError>> + Send + 'a>>;

/// An error inside a call, before classification.
pub(crate) enum CallError {
    Wasm(wasmtime::Error),
    Host(Error),
}

impl From<wasmtime::Error> for CallError {
    fn from(e: wasmtime::Error) -> Self {
        CallError::Wasm(e)
    }
}

impl CallError {
    /// A guest's own error (the `err` of its WIT result), escaped and bounded at once.
    fn guest(plugin: &str, message: String) -> Self {
        CallError::Host(Error::Plugin {
            name: plugin.to_string(),
            message: crate::words::sanitize(&message, crate::words::MAX_GUEST_ERROR),
        })
    }
}

impl PluginHost {
    /// Creates the engine and loads every plugin in `cfg.dir` (a missing
    /// directory is empty). Plugins that fail to load are listed with their
    /// error; they do not fail this call.
    pub async fn new(cfg: PluginHostConfig) -> Result<Self> {
        let rt = Runtime::new(cfg.cache_dir.clone())?;
        let (http, recorded) = match &cfg.record_http {
            Some(canned) => {
                let log = Arc::new(Mutex::new(crate::http::RecordLog::default()));
                (
                    HttpMode::Record {
                        log: log.clone(),
                        canned: Arc::new(canned.clone()),
                    },
                    Some(log),
                )
            }
            None => (HttpMode::live()?, None),
        };
        let host = PluginHost {
            inner: Arc::new(Inner {
                rt,
                cfg,
                http,
                recorded,
                entries: RwLock::new(BTreeMap::new()),
                scan_lock: tokio::sync::Mutex::new(()),
                watcher: Mutex::new(None),
                scans: std::sync::atomic::AtomicU64::new(0),
            }),
        };
        host.rescan().await;
        Ok(host)
    }

    /// The plugins directory.
    pub fn dir(&self) -> &Path {
        &self.inner.cfg.dir
    }

    /// Watches the plugins directory and applies changes (debounced) until
    /// the host is dropped. Must be called within a tokio runtime.
    pub fn start_watching(&self) -> Result<()> {
        use notify::Watcher;
        let dir = self.inner.cfg.dir.clone();
        let wake = Arc::new(tokio::sync::Notify::new());
        let wake_tx = wake.clone();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok_and(|ev| is_change(&ev.kind)) {
                wake_tx.notify_one();
            }
        })
        .map_err(|e| Error::Watch {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        watcher
            .watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| Error::Watch {
                path: dir.clone(),
                message: e.to_string(),
            })?;
        *self.inner.watcher.lock() = Some(watcher);
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let debounce = self.inner.cfg.debounce;
        // Supervised: a panic in a rescan (a bug) is logged, counted and the watcher restarts
        // after a backoff; the scan lock is a tokio mutex, released while unwinding.
        let body = move || {
            let (wake, weak) = (wake.clone(), weak.clone());
            async move {
                loop {
                    // A periodic rescan backs up the watcher (events can be lost,
                    // and an unstable file needs another look).
                    let _ = tokio::time::timeout(Duration::from_secs(2), wake.notified()).await;
                    // Debounce: wait until events stop for `debounce`.
                    while tokio::time::timeout(debounce, wake.notified())
                        .await
                        .is_ok()
                    {}
                    let Some(inner) = weak.upgrade() else { break };
                    PluginHost { inner }.rescan().await;
                }
            }
        };
        tokio::spawn(
            async move { supervise("plugin_watcher", None, Backoff::default(), body).await },
        );
        Ok(())
    }

    /// Rescans the directory now: loads new and changed plugins, drops
    /// deleted ones. Returns the names whose state changed.
    pub async fn rescan(&self) -> Vec<String> {
        let _guard = self.inner.scan_lock.lock().await;
        self.inner
            .scans
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self.inner.cfg.dir.clone();
        let mut found = tokio::task::spawn_blocking(move || list_plugins(&dir))
            .await
            .unwrap_or_default();
        if let Some(only) = &self.inner.cfg.only {
            found.retain(|name, _| name == only);
        }
        let mut changed = Vec::new();
        {
            let mut entries = self.inner.entries.write();
            let before = entries.len();
            entries.retain(|name, _| found.contains_key(name));
            if entries.len() != before {
                changed.push(String::new());
            }
        }
        let mut pending = Vec::new();
        for (name, (path, sig)) in &found {
            let seen = self
                .inner
                .entries
                .read()
                .get(name)
                .and_then(|e| e.seen.clone());
            if seen.as_ref() != Some(sig) {
                pending.push((name.clone(), path.clone(), sig.clone()));
            }
        }
        if pending.is_empty() {
            changed.retain(|n| !n.is_empty());
            return changed;
        }
        // Writes in progress: only load files whose size and mtime stay the
        // same over a short interval; others are picked up by the next scan.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for (name, path, sig) in pending {
            let now = FileSig {
                wasm: stat(&path).unwrap_or((0, None)),
                toml: stat(&manifest::manifest_path(&path)),
            };
            if now != sig {
                continue;
            }
            self.load_one(&name, &path, sig).await;
            changed.push(name);
        }
        changed.retain(|n| !n.is_empty());
        changed
    }

    /// Loads `<dir>/<name>.wasm` now, without waiting for the watcher: reads
    /// the file and its manifest, takes the compiled code from the cache (or
    /// compiles it) and links it. On failure the previous version keeps
    /// serving and the error is returned (and recorded as `last_error`).
    pub async fn reload(&self, name: &str) -> Result<()> {
        let _guard = self.inner.scan_lock.lock().await;
        let path = self.inner.cfg.dir.join(format!("{name}.wasm"));
        let Some(wasm) = stat(&path) else {
            return Err(Error::NotFound(name.to_string()));
        };
        let sig = FileSig {
            wasm,
            toml: stat(&manifest::manifest_path(&path)),
        };
        self.load_one(name, &path, sig).await;
        match self
            .inner
            .entries
            .read()
            .get(name)
            .and_then(|e| e.last_error.clone())
        {
            Some(message) => Err(Error::LoadFailed {
                name: name.to_string(),
                message,
            }),
            None => Ok(()),
        }
    }

    async fn load_one(&self, name: &str, path: &Path, sig: FileSig) {
        let result = self.load_file(name, path).await;
        let mut entries = self.inner.entries.write();
        let entry = entries.entry(name.to_string()).or_insert_with(|| Entry {
            current: None,
            signature: None,
            last_error: None,
            stats: Arc::new(StatsCell::default()),
            seen: None,
        });
        entry.seen = Some(sig);
        match result {
            Ok((loaded, signature)) => {
                let unchanged = entry
                    .current
                    .as_ref()
                    .is_some_and(|c| c.sha256 == loaded.sha256 && c.caps == loaded.caps);
                if !unchanged {
                    tracing::info!(
                        plugin = name,
                        kind = loaded.pre.kind().as_str(),
                        sha256 = %loaded.sha256,
                        from_cache = loaded.from_cache,
                        "plugin loaded"
                    );
                    entry.current = Some(Arc::new(loaded));
                    entry.signature = signature;
                    entry.stats.record_load(true);
                }
                entry.last_error = None;
            }
            Err(e) => {
                let e = crate::words::bound_error(e);
                let serving = if entry.current.is_some() {
                    "; the previous version keeps serving"
                } else {
                    ""
                };
                if entry.stats.log_gate().admit(name) {
                    tracing::warn!(plugin = name, "plugin failed to load{serving}: {e}");
                }
                entry.last_error = Some(e.to_string());
                entry.stats.record_load(false);
            }
        }
    }

    async fn load_file(
        &self,
        name: &str,
        path: &Path,
    ) -> Result<(Loaded, Option<FunctionSignature>)> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Error::io(path, e))?;
        let caps = manifest::load(path, &*self.inner.cfg.env)?;
        let inner = self.inner.clone();
        let name_owned = name.to_string();
        let loaded =
            tokio::task::spawn_blocking(move || inner.rt.load_blocking(&name_owned, &bytes, caps))
                .await
                .map_err(|e| Error::Runtime(format!("compile task failed: {e}")))??;
        let signature = match &loaded.pre {
            Pre::QueryFunction(_) => Some(self.describe(&loaded).await?),
            _ => None,
        };
        Ok((loaded, signature))
    }

    async fn describe(&self, loaded: &Loaded) -> Result<FunctionSignature> {
        let Pre::QueryFunction(pre) = &loaded.pre else {
            return Err(Error::Runtime(
                "describe on a non-query-function plugin".to_string(),
            ));
        };
        let pre = pre.clone();
        let stats = StatsCell::default();
        let sig = invoke(
            &self.inner,
            loaded,
            &stats,
            &BTreeMap::new(),
            move |store| {
                Box::pin(async move {
                    let inst = pre.instantiate_async(&mut *store).await?;
                    Ok(inst.call_describe(&mut *store).await?)
                })
            },
        )
        .await?;
        Ok(convert::signature_from_wit(sig))
    }

    fn get(&self, name: &str, kind: PluginKind) -> Result<(Arc<Loaded>, Arc<StatsCell>)> {
        let entries = self.inner.entries.read();
        let entry = entries
            .get(name)
            .ok_or_else(|| Error::NotFound(name.to_string()))?;
        let Some(current) = &entry.current else {
            return Err(Error::NotFound(format!(
                "{name} (failed to load: {})",
                entry.last_error.as_deref().unwrap_or("unknown error")
            )));
        };
        let actual = current.pre.kind();
        if actual != kind {
            return Err(Error::WrongKind {
                name: name.to_string(),
                expected: kind.as_str(),
                actual: actual.as_str(),
            });
        }
        Ok((current.clone(), entry.stats.clone()))
    }

    /// Calls an exporter's `collect` for its implicit target: `__address__` is the plugin's
    /// name, no params, the plugin's own time limit as scrape timeout (what `plugin test`
    /// and a job without targets use).
    pub async fn collect(&self, name: &str) -> Result<Vec<MetricFamily>> {
        self.collect_inner(name, None).await
    }

    /// Calls an exporter's `collect` for one scrape target: the plugin reads the target's
    /// address, params and scrape timeout as config values (see [`ExporterTarget`]).
    pub async fn collect_target(
        &self,
        name: &str,
        target: &ExporterTarget,
    ) -> Result<Vec<MetricFamily>> {
        self.collect_inner(name, Some(target)).await
    }

    async fn collect_inner(
        &self,
        name: &str,
        target: Option<&ExporterTarget>,
    ) -> Result<Vec<MetricFamily>> {
        let (loaded, stats) = self.get(name, PluginKind::Exporter)?;
        let Pre::Exporter(pre) = loaded.pre.clone() else {
            unreachable!("kind checked by get")
        };
        let settings = match target {
            Some(t) => t.config_values(),
            None => ExporterTarget {
                address: name.to_string(),
                params: BTreeMap::new(),
                scrape_timeout: loaded.caps.timeout,
            }
            .config_values(),
        };
        let limit = loaded.caps.max_output_bytes;
        let plugin = loaded.name.to_string();
        invoke(&self.inner, &loaded, &stats, &settings, move |store| {
            Box::pin(async move {
                let inst = pre.instantiate_async(&mut *store).await?;
                let families = inst
                    .call_collect(&mut *store)
                    .await?
                    .map_err(|message| CallError::guest(&plugin, message))?;
                convert::families_converted(plugin, families, limit)
                    .await
                    .map_err(CallError::Host)
            })
        })
        .await
    }

    /// Calls a receiver's `notify`. `settings` (the receiver's settings from
    /// alertmanager.yml, already `$VAR`-expanded) overlay the plugin's config.
    pub async fn notify(
        &self,
        name: &str,
        group: &AlertGroup,
        settings: &BTreeMap<String, String>,
    ) -> Result<()> {
        let (loaded, stats) = self.get(name, PluginKind::Receiver)?;
        let Pre::Receiver(pre) = loaded.pre.clone() else {
            unreachable!("kind checked by get")
        };
        let group = convert::alert_group_to_wit(group);
        let plugin = loaded.name.to_string();
        invoke(&self.inner, &loaded, &stats, settings, move |store| {
            Box::pin(async move {
                let inst = pre.instantiate_async(&mut *store).await?;
                inst.call_notify(&mut *store, &group)
                    .await?
                    .map_err(|message| CallError::guest(&plugin, message))
            })
        })
        .await
    }

    /// The registered query functions: `(plugin name, signature)`.
    pub fn query_functions(&self) -> Vec<(String, FunctionSignature)> {
        self.inner
            .entries
            .read()
            .iter()
            .filter_map(|(name, e)| Some((name.clone(), e.signature.clone()?)))
            .collect()
    }

    /// Calls a query function. For `per-series` functions the first vector
    /// argument is split into one call per series and the results are
    /// concatenated (one fresh instance serves all series of one call).
    pub async fn call_query_function(
        &self,
        name: &str,
        args: &[QueryValue],
        eval_time_ms: i64,
    ) -> Result<QueryValue> {
        let (loaded, stats) = self.get(name, PluginKind::QueryFunction)?;
        let Pre::QueryFunction(pre) = loaded.pre.clone() else {
            unreachable!("kind checked by get")
        };
        let mode = self
            .inner
            .entries
            .read()
            .get(name)
            .and_then(|e| e.signature.as_ref().map(|s| s.mode));
        let plugin = loaded.name.to_string();
        let limit = loaded.caps.max_output_bytes;
        let per_series_idx = match mode {
            Some(CallMode::PerSeries) => {
                args.iter().position(|a| matches!(a, QueryValue::Vector(_)))
            }
            _ => None,
        };
        let calls: Vec<Vec<crate::bindings::wit::promql::Value>> = match per_series_idx {
            None => vec![args.iter().map(convert::value_to_wit).collect()],
            Some(idx) => {
                let QueryValue::Vector(series) = &args[idx] else {
                    unreachable!("position matched a vector")
                };
                series
                    .iter()
                    .map(|s| {
                        args.iter()
                            .enumerate()
                            .map(|(i, a)| {
                                if i == idx {
                                    crate::bindings::wit::promql::Value::Vector(vec![
                                        convert::series_to_wit(s),
                                    ])
                                } else {
                                    convert::value_to_wit(a)
                                }
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        let per_series = per_series_idx.is_some();
        invoke(
            &self.inner,
            &loaded,
            &stats,
            &BTreeMap::new(),
            move |store| {
                Box::pin(async move {
                    let inst = pre.instantiate_async(&mut *store).await?;
                    let mut out_series = Vec::new();
                    let mut size = 0usize;
                    let mut last = None;
                    for call_args in calls {
                        let v = inst
                            .call_call(&mut *store, &call_args, eval_time_ms)
                            .await?
                            .map_err(|message| CallError::guest(&plugin, message))?;
                        let (v, total) = convert::value_converted(plugin.clone(), v, size, limit)
                            .await
                            .map_err(CallError::Host)?;
                        size = total;
                        if per_series {
                            match v {
                                QueryValue::Vector(s) => out_series.extend(s),
                                other => {
                                    return Err(CallError::Host(Error::InvalidOutput {
                                        name: plugin.clone(),
                                        message: format!(
                                        "a per-series function must return a vector, got {other:?}"
                                    ),
                                    }))
                                }
                            }
                        } else {
                            last = Some(v);
                        }
                    }
                    Ok(if per_series {
                        QueryValue::Vector(out_series)
                    } else {
                        last.unwrap_or(QueryValue::Vector(Vec::new()))
                    })
                })
            },
        )
        .await
    }

    /// [`call_query_function`](Self::call_query_function) for synchronous callers, such
    /// as PromQL's function table, on any thread: a plain thread, a blocking-pool thread, or
    /// a worker of a current-thread or multi-thread tokio runtime. It never calls
    /// `Handle::block_on` (which panics inside a runtime): the call runs on the runtime's own
    /// executor threads (see [`sync_executor`]) and this thread waits for its answer, inside
    /// `block_in_place` on a multi-thread runtime's worker so that the worker's other tasks
    /// move on meanwhile. The plugin's time limit bounds the wait.
    pub fn call_query_function_blocking(
        &self,
        name: &str,
        args: &[QueryValue],
        eval_time_ms: i64,
    ) -> Result<QueryValue> {
        let executor = sync_executor()?;
        let host = self.clone();
        let (name, args) = (name.to_string(), args.to_vec());
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        executor.spawn(async move {
            let result = host.call_query_function(&name, &args, eval_time_ms).await;
            // Dropped before answering, so the caller's handle is never the last one
            // waiting on this executor's thread.
            drop(host);
            let _ = tx.send(result);
        });
        let wait = move || {
            rx.recv().unwrap_or_else(|_| {
                Err(Error::Runtime(
                    "the plugin call ended without an answer".to_string(),
                ))
            })
        };
        let on_multi_thread_runtime = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_multi_thread_runtime {
            tokio::task::block_in_place(wait)
        } else {
            wait()
        }
    }

    /// Calls a dashboard plugin; the result is validated as a JSON object.
    pub async fn dashboard(&self, name: &str) -> Result<String> {
        let (loaded, stats) = self.get(name, PluginKind::Dashboard)?;
        let Pre::Dashboard(pre) = loaded.pre.clone() else {
            unreachable!("kind checked by get")
        };
        let plugin = loaded.name.to_string();
        let limit = loaded.caps.max_output_bytes;
        invoke(
            &self.inner,
            &loaded,
            &stats,
            &BTreeMap::new(),
            move |store| {
                Box::pin(async move {
                    let inst = pre.instantiate_async(&mut *store).await?;
                    let json = inst
                        .call_dashboard(&mut *store)
                        .await?
                        .map_err(|message| CallError::guest(&plugin, message))?;
                    convert::off_worker(move || convert::dashboard_checked(&plugin, json, limit))
                        .await
                        .map_err(CallError::Host)
                })
            },
        )
        .await
    }

    /// Every dashboard plugin's model: `(plugin name, JSON)`. Failing plugins
    /// are logged, counted and left out.
    pub async fn dashboards(&self) -> Vec<(String, String)> {
        let names: Vec<String> = self
            .inner
            .entries
            .read()
            .iter()
            .filter(|(_, e)| {
                e.current
                    .as_ref()
                    .is_some_and(|c| c.pre.kind() == PluginKind::Dashboard)
            })
            .map(|(n, _)| n.clone())
            .collect();
        let mut out = Vec::new();
        for name in names {
            match self.dashboard(&name).await {
                Ok(json) => out.push((name, json)),
                Err(e) => {
                    // Through the plugin's log rate limit, like every line about it.
                    let entries = self.inner.entries.read();
                    if entries
                        .get(&name)
                        .is_none_or(|en| en.stats.log_gate().admit(&name))
                    {
                        tracing::warn!(plugin = %name, "dashboard plugin failed: {e}");
                    }
                }
            }
        }
        out
    }

    /// Every plugin known, sorted by name.
    pub fn list(&self) -> Vec<PluginInfo> {
        self.inner
            .entries
            .read()
            .iter()
            .map(|(name, e)| PluginInfo {
                name: name.clone(),
                kind: e.current.as_ref().map(|c| c.pre.kind()),
                sha256: e
                    .current
                    .as_ref()
                    .map(|c| c.sha256.clone())
                    .unwrap_or_default(),
                loaded_at: e.current.as_ref().map(|c| c.loaded_at),
                state: if e.current.is_some() {
                    PluginState::Loaded
                } else {
                    PluginState::Failed
                },
                last_error: e.last_error.clone(),
                capabilities: e
                    .current
                    .as_ref()
                    .map(|c| c.caps.summary())
                    .unwrap_or_default(),
                signature: e.signature.clone(),
                stats: e.stats.snapshot(),
            })
            .collect()
    }

    /// How many times the plugins directory has been scanned.
    pub fn scans(&self) -> u64 {
        self.inner.scans.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests recorded in test mode (empty otherwise), oldest first.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.inner
            .recorded
            .as_ref()
            .map(|r| r.lock().requests.clone())
            .unwrap_or_default()
    }

    /// Requests answered in test mode but not recorded, over
    /// [`crate::MAX_RECORDED_REQUESTS`].
    pub fn recorded_requests_dropped(&self) -> u64 {
        self.inner.recorded.as_ref().map_or(0, |r| r.lock().dropped)
    }

    /// What the compile cache did so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.rt.cache_stats()
    }

    /// Whether the serving version of `name` came from the on-disk cache.
    pub fn loaded_from_cache(&self, name: &str) -> Option<bool> {
        self.inner
            .entries
            .read()
            .get(name)
            .and_then(|e| e.current.as_ref().map(|c| c.from_cache))
    }
}

/// The executor of [`PluginHost::call_query_function_blocking`]: a small multi-thread tokio
/// runtime private to this crate, built on first use and kept for the process (like the
/// engine, one per process). Synchronous callers can not use the caller's runtime: on a
/// current-thread runtime the waiting caller would be the only thread that could run the
/// call. The daemon's own runtime stays the daemon's; this one runs only plugin calls.
fn sync_executor() -> Result<&'static tokio::runtime::Handle> {
    static EXECUTOR: std::sync::OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("plugin-call")
                .enable_all()
                .build()
                .map_err(|e| format!("starting the plugin call executor: {e}"))
        })
        .as_ref()
        .map(tokio::runtime::Runtime::handle)
        .map_err(|e| Error::Runtime(e.clone()))
}

/// Runs `f` in a fresh store with the plugin's limits and records the call.
async fn invoke<R, F>(
    inner: &Inner,
    loaded: &Loaded,
    stats: &StatsCell,
    settings: &BTreeMap<String, String>,
    f: F,
) -> Result<R>
where
    F: for<'a> FnOnce(&'a mut Store<HostState>) -> CallFuture<'a, R>,
{
    let started = Instant::now();
    let merged;
    let settings = if inner.cfg.extra_config.is_empty() {
        settings
    } else {
        // The explicit `--config` flags win over the call's settings, so `plugin test`
        // can stand in for an exporter's target (`--config __address__=...`).
        merged = settings
            .iter()
            .chain(&inner.cfg.extra_config)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        &merged
    };
    let _running = inner.rt.running_call();
    let (result, high_water) = match inner.rt.new_store(loaded, settings, inner.http.clone()) {
        Err(e) => (Err(e), 0),
        Ok((mut store, stderr)) => {
            store.data_mut().log_gate = stats.log_gate();
            // The epoch callback interrupts guest code at the deadline; this
            // outer timeout also catches a guest stuck in a host call.
            let grace = Duration::from_millis(250);
            let outcome = tokio::time::timeout(loaded.caps.timeout + grace, f(&mut store)).await;
            let result = match outcome {
                Err(_elapsed) => Err(Error::Timeout {
                    name: loaded.name.to_string(),
                    limit: loaded.caps.timeout,
                }),
                Ok(Ok(v)) => Ok(v),
                Ok(Err(CallError::Host(e))) => Err(e),
                Ok(Err(CallError::Wasm(e))) => Err(classify(loaded, &store, &stderr, e)),
            }
            .map_err(crate::words::bound_error);
            (result, store.data().limiter.high_water_bytes)
        }
    };
    let reason = result.as_ref().err().map(Error::reason);
    let gate = stats.log_gate();
    if let Err(e) = &result {
        if gate.admit(&loaded.name) {
            tracing::warn!(
                plugin = &*loaded.name,
                reason = reason.unwrap_or_default(),
                "plugin call failed: {e}"
            );
        }
    }
    gate.flush(&loaded.name);
    stats.record_call(started.elapsed(), high_water, reason);
    result
}

/// Whether a watcher event can mean a plugin changed. Opening, reading and closing a file
/// unmodified are not changes, and must not count as such: the scan itself opens the
/// directory (and loading opens the files), so a watcher that reacted to them would rescan
/// every debounce period forever.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

/// The `.wasm` files of a directory with their `.toml` signatures.
fn list_plugins(dir: &Path) -> BTreeMap<String, (PathBuf, FileSig)> {
    let mut out = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wasm") {
            continue;
        }
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let Some(wasm) = stat(&path) else { continue };
        let toml = stat(&manifest::manifest_path(&path));
        out.insert(name, (path, FileSig { wasm, toml }));
    }
    out
}
