//! Glue between the plugin runtime and the rest of the daemon: exporter plugins as scrape
//! sources, plugin statistics as Sightline metrics, the `/api/v1/plugins` listing, and the
//! `sightline plugin ...` commands.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use sightline_exposition::{Encoder, Format};
use sightline_model::{Labels, MetricType};
use sightline_plugin_runtime::{
    CacheStats, Error, ExporterTarget, MetricFamily, PluginHost, PluginHostConfig, PluginInfo,
    PluginState, DURATION_BUCKETS_SECONDS,
};
use sightline_telemetry::{Family, FamilySample};

use crate::cli::PluginCommand;

/// Exporter plugins as a scrape source: a plugin's families are encoded as the text format
/// and go through the same parse → relabel → append path as an HTTP scrape, so limits,
/// relabelling and staleness behave identically. Each target of a plugin job is its own call,
/// told the target's address, params and scrape timeout (0.1: as config values, see
/// `ExporterTarget`; 0.2: as `collect`'s target argument, with the target's labels).
pub(crate) struct PluginExporters(pub(crate) PluginHost);

impl sightline_scrape::PluginCollector for PluginExporters {
    fn collect<'a>(
        &'a self,
        plugin: &'a str,
        target: &'a sightline_scrape::PluginTarget,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>> {
        // The plugin's own time limit (from its manifest) bounds the call; the scrape loop
        // bounds it again by the scrape timeout.
        Box::pin(async move {
            let target = ExporterTarget {
                address: target.address.clone(),
                params: target.params.clone(),
                scrape_timeout: timeout,
                labels: target.labels.clone(),
            };
            let fams = self
                .0
                .collect_target(plugin, &target)
                .await
                .map_err(|e| e.to_string())?;
            // Writing out every bucket with its sample's labels is work proportional to the
            // expanded output (bounded by the plugin's max_output, which counts it): off the
            // async workers.
            tokio::task::spawn_blocking(move || encode_families(&fams))
                .await
                .map_err(|e| format!("encoding plugin output: {e}"))
        })
    }
}

/// Encodes exporter output in the text format.
pub(crate) fn encode_families(fams: &[MetricFamily]) -> Vec<u8> {
    let mut e = Encoder::new(Format::PromText);
    for f in fams {
        e.family(&f.name, f.metric_type, &f.help, "");
        // One series at a time: a histogram's buckets are never all held expanded.
        f.for_each_flat(|s| {
            let name = s.labels.metric_name().unwrap_or(&f.name).to_string();
            e.sample_labels(&name, &s.labels, s.value, s.timestamp_ms);
        });
    }
    e.finish()
}

/// `sightline_plugin_*` families from the runtime's statistics; `guest_memory` is the linear
/// memory all live instances hold together.
pub(crate) fn stats_families(
    plugins: &[PluginInfo],
    cache: CacheStats,
    guest_memory: u64,
) -> Vec<Family> {
    let lab = |p: &PluginInfo| Labels::from_pairs([("plugin", p.name.as_str())]);
    let kind = |p: &PluginInfo| p.kind.map(|k| k.as_str()).unwrap_or("unknown");
    let one = |labels: Labels, value: f64| FamilySample {
        suffix: "",
        labels,
        value,
    };
    let fam = |name: &str, help: &str, t: MetricType, samples: Vec<FamilySample>| Family {
        name: name.to_string(),
        help: help.to_string(),
        metric_type: t,
        samples,
    };
    let mut out = vec![
        fam(
            "sightline_plugin_up",
            "Whether a version of the plugin is loaded and serving.",
            MetricType::Gauge,
            plugins
                .iter()
                .map(|p| {
                    let l = Labels::from_pairs([("plugin", p.name.as_str()), ("kind", kind(p))]);
                    one(l, f64::from(u8::from(p.state == PluginState::Loaded)))
                })
                .collect(),
        ),
        fam(
            "sightline_plugin_last_load_failed",
            "Whether the newest file of the plugin failed to load (the previous version keeps serving).",
            MetricType::Gauge,
            plugins.iter().map(|p| one(lab(p), f64::from(u8::from(p.last_error.is_some())))).collect(),
        ),
        fam(
            "sightline_plugin_loads",
            "Successful loads of the plugin.",
            MetricType::Counter,
            plugins.iter().map(|p| one(lab(p), p.stats.loads as f64)).collect(),
        ),
        fam(
            "sightline_plugin_load_errors",
            "Failed loads of the plugin.",
            MetricType::Counter,
            plugins.iter().map(|p| one(lab(p), p.stats.load_errors as f64)).collect(),
        ),
        fam(
            "sightline_plugin_calls",
            "Calls into the plugin.",
            MetricType::Counter,
            plugins.iter().map(|p| one(lab(p), p.stats.calls as f64)).collect(),
        ),
        fam(
            "sightline_plugin_call_errors",
            "Failed calls into the plugin, by reason.",
            MetricType::Counter,
            plugins
                .iter()
                .flat_map(|p| {
                    p.stats.errors_by_reason.iter().map(|(reason, n)| {
                        one(Labels::from_pairs([("plugin", p.name.as_str()), ("reason", *reason)]), *n as f64)
                    })
                })
                .collect(),
        ),
        fam(
            "sightline_plugin_calls_host_busy",
            "Calls of the plugin refused because other plugins held every instance slot (not the plugin's error).",
            MetricType::Counter,
            plugins.iter().map(|p| one(lab(p), p.stats.host_busy as f64)).collect(),
        ),
        fam(
            "sightline_plugin_peak_concurrent_calls",
            "Most calls of the plugin that ran at once.",
            MetricType::Gauge,
            plugins.iter().map(|p| one(lab(p), p.stats.peak_concurrency as f64)).collect(),
        ),
        fam(
            "sightline_plugin_instances_memory_bytes",
            "Linear memory all live plugin instances hold together (bounded by --plugins.memory-ceiling).",
            MetricType::Gauge,
            vec![one(Labels::empty(), guest_memory as f64)],
        ),
        fam(
            "sightline_plugin_log_lines_suppressed",
            "Log lines about the plugin (its own and the host's warnings) dropped by its rate limit.",
            MetricType::Counter,
            plugins.iter().map(|p| one(lab(p), p.stats.log_lines_suppressed as f64)).collect(),
        ),
        fam(
            "sightline_plugin_memory_high_water_bytes",
            "Highest linear-memory size any instance of the plugin reached.",
            MetricType::Gauge,
            plugins.iter().map(|p| one(lab(p), p.stats.memory_high_water_bytes as f64)).collect(),
        ),
    ];
    let mut hist = Vec::new();
    for p in plugins {
        let l = lab(p);
        for (le, n) in DURATION_BUCKETS_SECONDS
            .iter()
            .zip(&p.stats.duration_bucket_counts)
        {
            let mut b = l.builder();
            b.set("le", sightline_model::format_go_float(*le));
            hist.push(FamilySample {
                suffix: "_bucket",
                labels: b.build(),
                value: *n as f64,
            });
        }
        let mut b = l.builder();
        b.set("le", "+Inf");
        hist.push(FamilySample {
            suffix: "_bucket",
            labels: b.build(),
            value: p.stats.calls as f64,
        });
        hist.push(FamilySample {
            suffix: "_sum",
            labels: l.clone(),
            value: p.stats.duration_sum_seconds,
        });
        hist.push(FamilySample {
            suffix: "_count",
            labels: l,
            value: p.stats.calls as f64,
        });
    }
    out.push(fam(
        "sightline_plugin_call_duration_seconds",
        "Duration of calls into the plugin, instantiation included.",
        MetricType::Histogram,
        hist,
    ));
    for (name, help, value) in [
        (
            "sightline_plugin_cache_hits",
            "Plugins whose compiled code came from the compile cache.",
            cache.hits,
        ),
        (
            "sightline_plugin_cache_misses",
            "Plugins compiled because the compile cache had no usable entry.",
            cache.misses,
        ),
        (
            "sightline_plugin_cache_rejected",
            "Compile cache entries ignored because their authentication tag did not verify.",
            cache.rejected,
        ),
    ] {
        out.push(fam(
            name,
            help,
            MetricType::Counter,
            vec![one(Labels::empty(), value as f64)],
        ));
    }
    out
}

/// The dashboards of every serving dashboard plugin, for the dashboards API: the models the
/// runtime evaluated and parsed once per loaded version, shared, never parsed per request.
pub(crate) fn dashboards(host: PluginHost) -> sightline_web::DashboardSource {
    Arc::new(move || {
        let host = host.clone();
        Box::pin(async move {
            host.dashboards()
                .await
                .into_iter()
                .map(|d| sightline_web::Dashboard {
                    plugin: d.plugin.clone(),
                    uid: d.uid.clone(),
                    title: d.title.clone(),
                    tags: d.tags.clone(),
                    model: d.model.clone(),
                })
                .collect()
        })
    })
}

/// `sightline plugin list|test|new`.
pub(crate) fn run(cmd: PluginCommand) -> ExitCode {
    if let PluginCommand::New {
        kind,
        name,
        dir,
        sdk_path,
    } = cmd
    {
        return crate::scaffold::run(kind, &name, dir, sdk_path);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sightline: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let res = rt.block_on(async {
        match cmd {
            PluginCommand::List {
                plugins_dir,
                limits,
            } => {
                let mut cfg = PluginHostConfig::new(plugins_dir);
                cfg.cache_dir = user_cache_dir();
                cfg.ceilings = limits.ceilings().map_err(Error::InvalidInput)?;
                cfg.reserved_functions = crate::query_plugins::builtin_names();
                sightline_plugin_runtime::cli::plugin_list_with(cfg).await
            }
            PluginCommand::Test {
                file,
                input,
                config,
                responses,
                limits,
            } => {
                let opts = sightline_plugin_runtime::cli::PluginTestOptions {
                    wasm: file,
                    input,
                    config,
                    responses,
                    ceilings: limits.ceilings().map_err(Error::InvalidInput)?,
                };
                sightline_plugin_runtime::cli::plugin_test(&opts).await
            }
            // Handled above, without a runtime.
            PluginCommand::New { .. } => Ok(String::new()),
        }
    });
    match res {
        Ok(out) => {
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sightline: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The compile cache of CLI commands that load plugins (`plugin list`, `check alertmanager`):
/// `$XDG_CACHE_HOME/sightline/plugin-cache`, else `~/.cache/sightline/plugin-cache`; `None`
/// (compile every plugin) when neither variable gives an absolute path. Never the plugins
/// directory: native code is loaded from here, so only this user may write it (the runtime
/// creates it owner-only and authenticates its files).
pub(crate) fn user_cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })?;
    Some(base.join("sightline").join("plugin-cache"))
}

/// The `/api/v1/plugins` data.
pub(crate) fn lister(host: PluginHost) -> Arc<dyn Fn() -> serde_json::Value + Send + Sync> {
    Arc::new(move || {
        let mut v = sightline_plugin_runtime::cli::plugins_json(&host.list());
        // CONTRACT.md's shape: capabilities are a `plugin list` extra.
        if let Some(a) = v.as_array_mut() {
            for p in a {
                if let Some(o) = p.as_object_mut() {
                    o.remove("capabilities");
                }
            }
        }
        v
    })
}
