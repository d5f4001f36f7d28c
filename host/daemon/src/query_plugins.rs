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

/// The built-in functions plus one per loaded query-function plugin (never shadowing a
/// built-in). Plugin calls block the evaluating thread, which is a blocking-pool thread.
pub(crate) fn registry(host: &PluginHost, rt: &tokio::runtime::Handle) -> FunctionRegistry {
    let mut reg = FunctionRegistry::with_builtins();
    for (plugin, sig) in host.query_functions() {
        if reg.get(&sig.name).is_some() {
            warn!(plugin = %plugin, function = %sig.name, "query function plugin would shadow a function; ignored");
            continue;
        }
        let (h, rt, p) = (host.clone(), rt.clone(), plugin.clone());
        let imp: sightline_promql::FnImpl = Arc::new(move |ctx, args| {
            let qargs: Vec<QueryValue> = args.iter().map(to_plugin).collect();
            let res = rt
                .block_on(h.call_query_function(&p, &qargs, ctx.ts))
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
    let rt = tokio::runtime::Handle::current();
    let mut last = fingerprint(&host);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let now = fingerprint(&host);
        if now != last {
            let reg = registry(&host, &rt);
            let mut e = engine.write();
            *e = Engine::with_registry(e.options().clone(), reg);
            info!(plugins = ?now.iter().map(|p| &p.0).collect::<Vec<_>>(), "query functions updated");
            last = now;
        }
    }
}
