//! The plugin registry: loading the plugins directory, hot reload, and the list of
//! plugins. The calls into plugins are in `calls.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use sightline_telemetry::supervise::{supervise, Backoff};

use crate::cache::CacheStats;
use crate::engine::{LazyRuntime, Loaded, Pre};
use crate::error::{Error, Result};
use crate::fs_guard::FsPolicy;
use crate::http::{CannedResponse, HttpMode, RecordedRequest};
use crate::manifest::{self, Ceilings};
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
    /// The daemon-wide ceilings of every manifest's `[limits]`, and the memory ceiling of
    /// all instances together.
    pub ceilings: Ceilings,
    /// Query-function names no plugin may take (the daemon passes PromQL's built-ins): a
    /// plugin declaring one is refused with an error in its listing.
    pub reserved_functions: BTreeSet<String>,
    /// Files and directories no filesystem grant reaches, besides `dir` and `cache_dir`
    /// (always private: other plugins' manifests hold secrets, the cache native code).
    /// The daemon adds its data directory and configuration files. A manifest granting
    /// a directory inside one is refused, and the guard denies opening anything in one
    /// through a wider grant such as `/`.
    pub private_paths: Vec<PathBuf>,
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
            ceilings: Ceilings::default(),
            reserved_functions: BTreeSet::new(),
            private_paths: Vec::new(),
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
    /// The plugin contract version of the serving version, if any.
    pub contract: Option<crate::notification::Contract>,
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

pub(crate) struct Entry {
    pub(crate) current: Option<Arc<Loaded>>,
    pub(crate) signature: Option<FunctionSignature>,
    /// The serving version's dashboard model, evaluated once when it was loaded.
    pub(crate) dashboard: Option<Arc<DashboardModel>>,
    last_error: Option<String>,
    stats: Arc<StatsCell>,
    seen: Option<FileSig>,
    /// The name or uid the newest file declared but another plugin holds: once it is free,
    /// the next scan loads the file again.
    conflict: Option<Claim>,
}

impl Entry {
    /// The query-function name or dashboard uid the serving version holds.
    fn claim(&self) -> Option<Claim> {
        self.current.as_ref()?;
        if let Some(sig) = &self.signature {
            return Some(Claim::Function(sig.name.clone()));
        }
        self.dashboard
            .as_ref()
            .map(|d| Claim::DashboardUid(d.uid.clone()))
    }
}

/// A name that only one plugin may hold at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Claim {
    Function(String),
    DashboardUid(String),
}

impl std::fmt::Display for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Claim::Function(n) => write!(f, "query function {n:?}"),
            Claim::DashboardUid(u) => write!(f, "dashboard uid {u:?}"),
        }
    }
}

/// A loaded file with what was learnt by calling it once: a query function's signature, a
/// dashboard's model.
struct Version {
    loaded: Arc<Loaded>,
    signature: Option<FunctionSignature>,
    dashboard: Option<Arc<DashboardModel>>,
}

impl Version {
    fn claim(&self) -> Option<Claim> {
        if let Some(sig) = &self.signature {
            return Some(Claim::Function(sig.name.clone()));
        }
        self.dashboard
            .as_ref()
            .map(|d| Claim::DashboardUid(d.uid.clone()))
    }
}

/// The plugin other than `except` whose serving version holds `claim`.
fn holder<'a>(
    entries: &'a BTreeMap<String, Entry>,
    claim: &Claim,
    except: &str,
) -> Option<&'a str> {
    entries
        .iter()
        .find(|(n, e)| n.as_str() != except && e.claim().as_ref() == Some(claim))
        .map(|(n, _)| n.as_str())
}

pub(crate) struct Inner {
    pub(crate) rt: LazyRuntime,
    pub(crate) cfg: PluginHostConfig,
    pub(crate) http: HttpMode,
    recorded: Option<Arc<Mutex<crate::http::RecordLog>>>,
    pub(crate) entries: RwLock<BTreeMap<String, Entry>>,
    scan_lock: tokio::sync::Mutex<()>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Directory scans so far (watcher-triggered, periodic and explicit).
    scans: std::sync::atomic::AtomicU64,
}

/// Runs the plugins of one directory. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) inner: Arc<Inner>,
}

impl PluginHost {
    /// Creates the engine and loads every plugin in `cfg.dir` (a missing
    /// directory is empty). Plugins that fail to load are listed with their
    /// error; they do not fail this call.
    pub async fn new(cfg: PluginHostConfig) -> Result<Self> {
        cfg.ceilings.validate().map_err(Error::InvalidInput)?;
        let private: Vec<PathBuf> = std::iter::once(cfg.dir.clone())
            .chain(cfg.cache_dir.clone())
            .chain(cfg.private_paths.iter().cloned())
            .collect();
        let fs_policy = tokio::task::spawn_blocking(move || FsPolicy::new(&private))
            .await
            .map_err(|e| Error::Runtime(format!("resolving private paths: {e}")))?;
        let rt = LazyRuntime::new(
            cfg.cache_dir.clone(),
            cfg.ceilings.memory_ceiling_bytes,
            Arc::new(fs_policy),
        );
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
        // In file-name order (`found` is sorted), so which of two plugins declaring the same
        // name or uid at startup gets it does not depend on the directory's order.
        let mut pending = Vec::new();
        {
            let entries = self.inner.entries.read();
            for (name, (path, sig)) in &found {
                let entry = entries.get(name);
                let changed = entry.and_then(|e| e.seen.as_ref()) != Some(sig);
                // Refused a name or uid that its holder has since given up: try again.
                let freed = entry
                    .and_then(|e| e.conflict.as_ref())
                    .is_some_and(|c| holder(&entries, c, name).is_none());
                if changed || freed {
                    pending.push((name.clone(), path.clone(), sig.clone()));
                }
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
        let stats = {
            let mut entries = self.inner.entries.write();
            let entry = entries.entry(name.to_string()).or_insert_with(|| Entry {
                current: None,
                signature: None,
                dashboard: None,
                last_error: None,
                stats: Arc::new(StatsCell::default()),
                seen: None,
                conflict: None,
            });
            entry.stats.clone()
        };
        let result = self.load_file(name, path, &stats).await;
        let mut entries = self.inner.entries.write();
        // The plugin that arrives second is refused a name or uid another plugin holds.
        let mut conflict = None;
        let result = result.and_then(|v| {
            let Some(claim) = v.claim() else { return Ok(v) };
            match holder(&entries, &claim, name) {
                None => Ok(v),
                Some(other) => {
                    let e = Error::Conflict {
                        name: name.to_string(),
                        what: claim.to_string(),
                        holder: format!("plugin {other:?}"),
                    };
                    conflict = Some(claim);
                    Err(e)
                }
            }
        });
        let Some(entry) = entries.get_mut(name) else {
            return;
        };
        entry.conflict = conflict;
        // A call refused for lack of a slot says nothing about the file: the next scan
        // tries it again.
        let transient = matches!(&result, Err(Error::Busy { .. } | Error::HostBusy { .. }));
        if !transient {
            entry.seen = Some(sig);
        }
        match result {
            Ok(v) => {
                let unchanged = entry
                    .current
                    .as_ref()
                    .is_some_and(|c| Arc::ptr_eq(c, &v.loaded));
                if !unchanged {
                    tracing::info!(
                        plugin = name,
                        kind = v.loaded.pre.kind().as_str(),
                        sha256 = %v.loaded.sha256,
                        from_cache = v.loaded.from_cache,
                        "plugin loaded"
                    );
                    entry.current = Some(v.loaded);
                    entry.signature = v.signature;
                    entry.dashboard = v.dashboard;
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

    /// Loads a file: its manifest (held to the ceilings), its compiled code, and what one
    /// call tells (a query function's signature, a dashboard's model). A file whose sha256
    /// and capabilities match the serving version is that version: it is not called again.
    async fn load_file(&self, name: &str, path: &Path, stats: &StatsCell) -> Result<Version> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Error::io(path, e))?;
        let caps = manifest::load(path, &*self.inner.cfg.env, &self.inner.cfg.ceilings)?;
        let inner = self.inner.clone();
        let name_owned = name.to_string();
        let manifest = manifest::manifest_path(path);
        let mut loaded = tokio::task::spawn_blocking(move || {
            // A grant into a process directory or a private path is refused at load.
            inner.rt.fs_policy().check_grants(&manifest, &caps)?;
            inner.rt.get()?.load_blocking(&name_owned, &bytes, caps)
        })
        .await
        .map_err(|e| Error::Runtime(format!("compile task failed: {e}")))??;
        let serving = self.inner.entries.read().get(name).and_then(|e| {
            let c = e.current.as_ref()?;
            // A new version with the same concurrency shares the serving version's permits,
            // so calls in flight across a reload still count against one cap.
            if c.caps.concurrency == loaded.caps.concurrency {
                loaded.slots = c.slots.clone();
            }
            (c.sha256 == loaded.sha256 && c.caps == loaded.caps).then(|| Version {
                loaded: c.clone(),
                signature: e.signature.clone(),
                dashboard: e.dashboard.clone(),
            })
        });
        if let Some(v) = serving {
            return Ok(v);
        }
        let (signature, dashboard) = match &loaded.pre {
            Pre::QueryFunction(_) | Pre::QueryFunctionV02(_) => {
                let sig = self.describe(&loaded).await?;
                if self.inner.cfg.reserved_functions.contains(&sig.name) {
                    return Err(Error::Conflict {
                        name: name.to_string(),
                        what: Claim::Function(sig.name).to_string(),
                        holder: "a built-in PromQL function".to_string(),
                    });
                }
                (Some(sig), None)
            }
            Pre::Dashboard(_) | Pre::DashboardV02(_) => (
                None,
                Some(Arc::new(self.evaluate_dashboard(&loaded, stats).await?)),
            ),
            _ => (None, None),
        };
        Ok(Version {
            loaded: Arc::new(loaded),
            signature,
            dashboard,
        })
    }

    pub(crate) fn get(
        &self,
        name: &str,
        kind: PluginKind,
    ) -> Result<(Arc<Loaded>, Arc<StatsCell>)> {
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

    /// The registered query functions: `(plugin name, signature)`.
    pub fn query_functions(&self) -> Vec<(String, FunctionSignature)> {
        self.inner
            .entries
            .read()
            .iter()
            .filter_map(|(name, e)| Some((name.clone(), e.signature.clone()?)))
            .collect()
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
                contract: e.current.as_ref().map(|c| c.pre.contract()),
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

    /// Linear memory all live plugin instances hold together, in bytes (at most the
    /// ceiling, `--plugins.memory-ceiling`).
    pub fn guest_memory_bytes(&self) -> u64 {
        self.inner.rt.guest_memory_bytes()
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
