//! The calls into a loaded plugin: one fresh store per call under the plugin's limits
//! (`invoke`), and the per-world calls built on it (collect, notify, query functions,
//! dashboards).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;

use crate::convert;
use crate::convert_v02;
use crate::engine::{classify, Loaded, Pre};
use crate::error::{Error, Result};
use crate::notification::{SettingsValue, TemplateScope};
use crate::registry::{Inner, PluginHost};
use crate::state::HostState;
use crate::stats::StatsCell;
use crate::types::*;

pub(crate) type CallFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, CallError>> + Send + 'a>>;

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
    pub(crate) fn guest(plugin: &str, message: String) -> Self {
        CallError::Host(Error::Plugin {
            name: plugin.to_string(),
            message: crate::words::sanitize(&message, crate::words::MAX_GUEST_ERROR),
        })
    }
}

impl PluginHost {
    pub(crate) async fn describe(&self, loaded: &Loaded) -> Result<FunctionSignature> {
        let pre = loaded.pre.clone();
        if !matches!(pre, Pre::QueryFunction(_) | Pre::QueryFunctionV02(_)) {
            return Err(Error::Runtime(
                "describe on a non-query-function plugin".to_string(),
            ));
        }
        let stats = StatsCell::default();
        let sig = invoke(
            &self.inner,
            loaded,
            &stats,
            &BTreeMap::new(),
            move |store| {
                Box::pin(async move {
                    match pre {
                        Pre::QueryFunctionV02(pre) => {
                            let inst = pre.instantiate_async(&mut *store).await?;
                            let sig = inst
                                .sightline_plugin_query_function()
                                .call_describe(&mut *store)
                                .await?;
                            Ok(convert_v02::signature_to_v01(sig))
                        }
                        Pre::QueryFunction(pre) => {
                            let inst = pre.instantiate_async(&mut *store).await?;
                            Ok(inst.call_describe(&mut *store).await?)
                        }
                        _ => Err(CallError::Host(Error::Runtime(
                            "describe on a non-query-function plugin".to_string(),
                        ))),
                    }
                })
            },
        )
        .await?;
        Ok(convert::signature_from_wit(sig))
    }

    /// Calls an exporter's `collect` for its implicit target: `__address__` is the plugin's
    /// name, no params, the plugin's own time limit as scrape timeout (what `plugin test`
    /// and a job without targets use).
    pub async fn collect(&self, name: &str) -> Result<Vec<MetricFamily>> {
        self.collect_inner(name, None).await
    }

    /// Calls an exporter's `collect` for one scrape target: a 0.1 plugin reads the target's
    /// address, params and scrape timeout as config values (see [`ExporterTarget`]), a 0.2
    /// plugin gets the whole target as `collect`'s argument.
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
        let implicit;
        let target = match target {
            Some(t) => t,
            None => {
                implicit = self.implicit_target(name, loaded.caps.timeout);
                &implicit
            }
        };
        let limit = loaded.caps.max_output_bytes;
        let plugin = loaded.name.to_string();
        match loaded.pre.clone() {
            // 0.2: the target is the argument; `config` is the manifest's alone.
            Pre::ExporterV02(pre) => {
                let target = convert_v02::target_to_wit(target);
                invoke(
                    &self.inner,
                    &loaded,
                    &stats,
                    &BTreeMap::new(),
                    move |store| {
                        Box::pin(async move {
                            let inst = pre.instantiate_async(&mut *store).await?;
                            let families = inst
                                .sightline_plugin_exporter()
                                .call_collect(&mut *store, &target)
                                .await?
                                .map_err(|message| CallError::guest(&plugin, message))?;
                            let families = convert_v02::families_to_v01(families);
                            convert::families_converted(plugin, families, limit)
                                .await
                                .map_err(CallError::Host)
                        })
                    },
                )
                .await
            }
            Pre::Exporter(pre) => {
                let settings = target.config_values();
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
            _ => unreachable!("kind checked by get"),
        }
    }

    /// Calls a receiver's `notify`. `settings` (the receiver's settings from
    /// alertmanager.yml, already `$VAR`-expanded) overlay the plugin's config.
    pub async fn notify(
        &self,
        name: &str,
        group: &AlertGroup,
        settings: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.notify_with_profile(name, group, settings, None).await
    }

    /// [`notify`](Self::notify) with the receiver's `http_config` (or, for email, its
    /// `tls_config`) applied on the host side: every request the plugin makes during this
    /// call (`http.send` or `wasi:http`) carries the profile's credentials and goes through
    /// its TLS settings and proxy; the plugin never sees them.
    pub async fn notify_with_profile(
        &self,
        name: &str,
        group: &AlertGroup,
        settings: &BTreeMap<String, String>,
        profile: Option<&crate::HttpProfile>,
    ) -> Result<()> {
        let (loaded, stats) = self.get(name, PluginKind::Receiver)?;
        let pre = match loaded.pre.clone() {
            Pre::Receiver(pre) => pre,
            // A 0.2 receiver called the 0.1 way (`plugin test` with webhook JSON): the
            // group typed, the flat settings as a document of strings.
            Pre::ReceiverV02(_) => {
                let settings = SettingsValue::Map(
                    settings
                        .iter()
                        .map(|(k, v)| (k.clone(), SettingsValue::Text(v.clone())))
                        .collect(),
                );
                let n = crate::calls_v02::notification_from_group(group);
                let scope = crate::calls_v02::scope_of(&n, TemplateScope::default_only());
                return self
                    .notify_typed_with_profile(name, &n, &settings, scope, profile)
                    .await;
            }
            _ => unreachable!("kind checked by get"),
        };
        let group = convert::alert_group_to_wit(group);
        let plugin = loaded.name.to_string();
        let profile = profile.cloned();
        invoke(&self.inner, &loaded, &stats, settings, move |store| {
            Box::pin(async move {
                store.data_mut().net.profile = profile;
                let inst = pre.instantiate_async(&mut *store).await?;
                inst.call_notify(&mut *store, &group)
                    .await?
                    .map_err(|message| CallError::guest(&plugin, message))
            })
        })
        .await
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
        let pre = loaded.pre.clone();
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
                    let inst = QueryInstance::new(pre, &mut *store).await?;
                    let mut out_series = Vec::new();
                    let mut size = 0usize;
                    let mut last = None;
                    for call_args in calls {
                        let v = inst
                            .call(&mut *store, call_args, eval_time_ms)
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

    /// Evaluates a dashboard plugin's model: calls the guest and validates its JSON. The
    /// registry does it once per loaded version (see [`dashboard_model`](Self::dashboard_model)).
    pub(crate) async fn evaluate_dashboard(
        &self,
        loaded: &Loaded,
        stats: &StatsCell,
    ) -> Result<DashboardModel> {
        let pre = loaded.pre.clone();
        if !matches!(pre, Pre::Dashboard(_) | Pre::DashboardV02(_)) {
            return Err(Error::Runtime(
                "dashboard of a non-dashboard plugin".to_string(),
            ));
        }
        let plugin = loaded.name.to_string();
        let limit = loaded.caps.max_output_bytes;
        invoke(&self.inner, loaded, stats, &BTreeMap::new(), move |store| {
            Box::pin(async move {
                let json = match pre {
                    Pre::DashboardV02(pre) => {
                        let inst = pre.instantiate_async(&mut *store).await?;
                        inst.sightline_plugin_dashboard()
                            .call_dashboard(&mut *store)
                            .await?
                    }
                    Pre::Dashboard(pre) => {
                        let inst = pre.instantiate_async(&mut *store).await?;
                        inst.call_dashboard(&mut *store).await?
                    }
                    _ => unreachable!("kind checked above"),
                }
                .map_err(|message| CallError::guest(&plugin, message))?;
                // Checked and parsed (once per version) off the async workers.
                convert::off_worker(move || {
                    let json = convert::dashboard_checked(&plugin, json, limit)?;
                    DashboardModel::from_json(&plugin, &json).map_err(|message| {
                        Error::InvalidOutput {
                            name: plugin.clone(),
                            message: crate::words::sanitize(
                                &message,
                                crate::words::MAX_GUEST_ERROR,
                            ),
                        }
                    })
                })
                .await
                .map_err(CallError::Host)
            })
        })
        .await
    }

    /// A dashboard plugin's model, as evaluated when its serving version was loaded.
    pub fn dashboard_model(&self, name: &str) -> Result<Arc<DashboardModel>> {
        self.get(name, PluginKind::Dashboard)?;
        self.inner
            .entries
            .read()
            .get(name)
            .and_then(|e| e.dashboard.clone())
            .ok_or_else(|| Error::NotFound(name.to_string()))
    }

    /// A dashboard plugin's model as JSON text.
    pub async fn dashboard(&self, name: &str) -> Result<String> {
        let model = self.dashboard_model(name)?;
        serde_json::to_string(&*model.model).map_err(|e| Error::Runtime(e.to_string()))
    }

    /// Every serving dashboard plugin's model, by plugin name. The models were evaluated
    /// when each version was loaded, so this never runs a guest.
    pub async fn dashboards(&self) -> Vec<Arc<DashboardModel>> {
        self.inner
            .entries
            .read()
            .values()
            .filter_map(|e| e.dashboard.clone())
            .collect()
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

/// A query function's instance of either contract.
enum QueryInstance {
    V01(crate::bindings::query_function::QueryFunction),
    V02(crate::bindings::v02::query_function::QueryFunctionPlugin),
}

impl QueryInstance {
    async fn new(pre: Pre, store: &mut Store<HostState>) -> Result<Self, CallError> {
        Ok(match pre {
            Pre::QueryFunction(pre) => QueryInstance::V01(pre.instantiate_async(store).await?),
            Pre::QueryFunctionV02(pre) => QueryInstance::V02(pre.instantiate_async(store).await?),
            _ => {
                return Err(CallError::Host(Error::Runtime(
                    "query function call on another kind of plugin".to_string(),
                )))
            }
        })
    }

    /// One `call`, with 0.1's types on both sides.
    async fn call(
        &self,
        store: &mut Store<HostState>,
        args: Vec<crate::bindings::wit::promql::Value>,
        eval_time_ms: i64,
    ) -> wasmtime::Result<Result<crate::bindings::wit::promql::Value, String>> {
        match self {
            QueryInstance::V01(inst) => inst.call_call(store, &args, eval_time_ms).await,
            QueryInstance::V02(inst) => {
                let args: Vec<_> = args.into_iter().map(convert_v02::value_from_v01).collect();
                let r = inst
                    .sightline_plugin_query_function()
                    .call_call(store, &args, eval_time_ms)
                    .await?;
                Ok(r.map(convert_v02::value_to_v01))
            }
        }
    }
}

/// Runs `f` in a fresh store with the plugin's limits and records the call.
pub(crate) async fn invoke<R, F>(
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
    // Admission, first come first served, each wait bounded by the call's own time limit:
    // first one of the plugin's own `limits.concurrency` slots (waiting for it is the
    // plugin's own doing: `busy`), then one of the runtime's instance slots (waiting for that
    // is the other plugins' doing: `host_busy`, not counted as this plugin's error). With
    // every plugin capped at a quarter of the slots, one plugin never takes them all.
    let wait_until = tokio::time::Instant::from_std(started) + loaded.caps.timeout;
    // The engine compiled `loaded`, so it is built: this only reads it.
    let rt = match inner.rt.get() {
        Ok(rt) => rt,
        Err(e) => return finish(loaded, stats, started, 0, Err(e)),
    };
    let Ok(Ok(_own)) = tokio::time::timeout_at(wait_until, loaded.slots.acquire()).await else {
        return finish(
            loaded,
            stats,
            started,
            0,
            Err(Error::Busy {
                name: loaded.name.to_string(),
                concurrency: loaded.caps.concurrency,
                limit: loaded.caps.timeout,
            }),
        );
    };
    let Ok(Ok(_slot)) = tokio::time::timeout_at(wait_until, rt.admission.acquire()).await else {
        let e = Error::HostBusy {
            name: loaded.name.to_string(),
        };
        if stats.log_gate().admit(&loaded.name) {
            tracing::warn!(
                plugin = &*loaded.name,
                reason = e.reason(),
                "plugin call refused: {e}"
            );
        }
        stats.record_host_busy();
        return Err(e);
    };
    let _counted = stats.running();
    let _running = rt.running_call();
    let (result, high_water) = match rt.new_store(loaded, settings, inner.http.clone()) {
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
    finish(loaded, stats, started, high_water, result)
}

/// Logs a failed call and records it in the plugin's statistics.
fn finish<R>(
    loaded: &Loaded,
    stats: &StatsCell,
    started: Instant,
    high_water: usize,
    result: Result<R>,
) -> Result<R> {
    let reason = result.as_ref().err().map(Error::reason);
    // Through the plugin's log rate limit, like every line about it.
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
