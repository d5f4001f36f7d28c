//! Query-function plugins as PromQL functions: each loaded plugin of the `query-function`
//! world becomes a [`FunctionDef`] in the engine's registry. The engine is rebuilt when the set
//! of query-function plugins changes (hot reload), and swapped in for new queries.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use sightline_model::Sample;
use sightline_plugin_runtime::{PluginHost, QuerySeries, QueryValue};
use sightline_promql::{Arg, Elem, Engine, FnOut, FunctionDef, FunctionRegistry, ValueType};
use tracing::{info, warn};

fn value_type(t: sightline_plugin_runtime::ValueType) -> ValueType {
    match t {
        sightline_plugin_runtime::ValueType::Scalar => ValueType::Scalar,
        sightline_plugin_runtime::ValueType::InstantVector => ValueType::Vector,
        sightline_plugin_runtime::ValueType::RangeVector => ValueType::Matrix,
        sightline_plugin_runtime::ValueType::String => ValueType::String,
    }
}

fn to_plugin(a: &Arg) -> QueryValue {
    match a {
        Arg::Scalar(v) => QueryValue::Scalar(*v),
        Arg::Str(s) => QueryValue::String(s.clone()),
        Arg::Vector(es) => QueryValue::Vector(
            es.iter()
                .map(|e| QuerySeries {
                    labels: (*e.labels).clone(),
                    points: vec![Sample { t: e.t, v: e.v }],
                })
                .collect(),
        ),
        Arg::Matrix(m) => QueryValue::Vector(
            m.series
                .iter()
                .map(|w| QuerySeries {
                    labels: (*w.labels).clone(),
                    points: w.data[w.lo..w.hi].to_vec(),
                })
                .collect(),
        ),
    }
}

fn from_plugin(v: QueryValue, ts: i64, plugin: &str) -> sightline_promql::Result<FnOut> {
    match v {
        QueryValue::Scalar(v) => Ok(FnOut::Scalar(v)),
        QueryValue::Vector(series) => Ok(FnOut::Vector(
            series
                .into_iter()
                .filter_map(|s| {
                    let last = s.points.last()?;
                    Some(Elem {
                        labels: Arc::new(s.labels),
                        t: ts,
                        v: last.v,
                        h: None,
                        drop_name: false,
                    })
                })
                .collect(),
        )),
        QueryValue::String(_) => Err(sightline_promql::Error::Execution(format!(
            "query function plugin {plugin:?} returned a string"
        ))),
    }
}

/// PromQL's built-in function names: no plugin may take one (the runtime refuses it, with an
/// error in the plugin's listing).
pub(crate) fn builtin_names() -> std::collections::BTreeSet<String> {
    FunctionRegistry::with_builtins()
        .names()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The built-in functions plus one per loaded query-function plugin (never shadowing a
/// built-in). A plugin call blocks the evaluating thread until the plugin answers (within its
/// time limit), whatever that thread is: the API's blocking-pool threads today, a runtime
/// worker when the rules engine evaluates there. The call itself runs on the plugin
/// runtime's executor (`call_query_function_blocking`), never through `Handle::block_on`,
/// which panics on a runtime thread.
pub(crate) fn registry(host: &PluginHost) -> FunctionRegistry {
    let mut reg = FunctionRegistry::with_builtins();
    for (plugin, sig) in host.query_functions() {
        if reg.get(&sig.name).is_some() {
            warn!(plugin = %plugin, function = %sig.name, "query function plugin would shadow a function; ignored");
            continue;
        }
        let (h, p) = (host.clone(), plugin.clone());
        let imp: sightline_promql::FnImpl = Arc::new(move |ctx, args| {
            let qargs: Vec<QueryValue> = args.iter().map(to_plugin).collect();
            let res = h
                .call_query_function_blocking(&p, &qargs, ctx.ts)
                .map_err(|e| {
                    sightline_promql::Error::Execution(format!("query function plugin {p:?}: {e}"))
                })?;
            from_plugin(res, ctx.ts, &p)
        });
        reg.register(FunctionDef {
            name: sig.name.clone(),
            arg_types: sig.arg_types.iter().map(|t| value_type(*t)).collect(),
            optional: sig.optional_args as usize,
            variadic: false,
            return_type: value_type(sig.return_type),
            imp,
        });
    }
    reg
}

/// Which query-function plugins are serving, to notice changes.
fn fingerprint(host: &PluginHost) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = host
        .list()
        .into_iter()
        .filter(|p| p.kind == Some(sightline_plugin_runtime::PluginKind::QueryFunction))
        .map(|p| (p.name, p.sha256))
        .collect();
    v.sort();
    v
}

/// Keeps `engine` in step with the plugins: checks every second, rebuilds on change.
pub(crate) async fn follow(
    host: PluginHost,
    engine: Arc<RwLock<Engine>>,
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut last = fingerprint(&host);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let now = fingerprint(&host);
        if now != last {
            let reg = registry(&host);
            let mut e = engine.write();
            *e = Engine::with_registry(e.options().clone(), reg);
            info!(plugins = ?now.iter().map(|p| &p.0).collect::<Vec<_>>(), "query functions updated");
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_plugin_runtime::PluginHostConfig;

    /// issue 14: PromQL's built-ins are reserved, so a plugin declaring `rate` is refused.
    #[test]
    fn builtin_names_are_reserved() {
        let names = builtin_names();
        assert!(names.contains("rate") && names.contains("histogram_quantile"));
    }

    /// issue 13: a query-function plugin called by PromQL running on a runtime worker (as the
    /// rules engine will) must not panic, on either kind of tokio runtime.
    #[test]
    fn query_function_plugins_work_on_runtime_worker_threads() {
        let dir = tempfile::tempdir().unwrap();
        sightline_tests::install(
            dir.path(),
            "scale",
            &sightline_tests::guest("scale-query"),
            None,
        );
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let host = multi
            .block_on(PluginHost::new(PluginHostConfig::new(dir.path())))
            .unwrap();
        let engine = Arc::new(Engine::with_registry(
            sightline_promql::EngineOptions::default(),
            registry(&host),
        ));
        let query = |engine: &Engine| {
            let storage = sightline_storage_api::MemStorage::new();
            let res = engine
                .instant_query(&storage, "scale(vector(2), 10)", 1000)
                .map_err(|e| e.to_string())?;
            Ok::<String, String>(format!("{:?}", res.value))
        };
        let expect = |out: Result<String, String>| {
            let out = out.unwrap();
            assert!(out.contains("20"), "{out}");
        };
        // A worker of a multi-thread runtime (the one the host was made in).
        let e = engine.clone();
        expect(
            multi.block_on(async move { tokio::spawn(async move { query(&e) }).await.unwrap() }),
        );
        // The thread of a current-thread runtime.
        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        expect(current.block_on(async { query(&engine) }));
        // A blocking-pool thread (where the API evaluates) and a plain thread.
        let e = engine.clone();
        expect(
            multi
                .block_on(multi.spawn_blocking(move || query(&e)))
                .unwrap(),
        );
        expect(std::thread::spawn(move || query(&engine)).join().unwrap());
    }
}
