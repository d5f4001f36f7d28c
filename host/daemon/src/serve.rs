//! `sightline serve`: wiring and lifecycle. Start order: flags and configuration → HTTP
//! listener (healthy, not ready) → storage → plugins → scrape → the full API, ready; stop
//! order is the reverse, so nothing acknowledged is lost.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use parking_lot::RwLock;
use sightline_api::{ApiState, BuildInfo, TargetsSource};
use sightline_config::Config;
use sightline_plugin_runtime::{PluginHost, PluginHostConfig};
use sightline_scrape::ScrapeManager;
use sightline_telemetry::supervise::{supervise, Backoff};
use sightline_telemetry::{names, Registry};
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info, warn};

use crate::cli::ServeArgs;

/// Where the configuration comes from: a file, or the embedded default.
#[derive(Clone)]
enum ConfigSource {
    File(PathBuf),
    Embedded { listen_address: String },
}

impl ConfigSource {
    fn load(&self) -> Result<Config> {
        match self {
            ConfigSource::File(p) => sightline_config::load_file(p)
                .with_context(|| format!("loading configuration {}", p.display())),
            ConfigSource::Embedded { listen_address } => {
                let yaml =
                    sightline_config::DEFAULT_CONFIG_YAML.replace("127.0.0.1:9090", listen_address);
                sightline_config::load_str(&yaml, "<embedded default config>")
                    .context("loading the embedded default configuration")
            }
        }
    }
}

struct ReloadMetrics {
    ok: Arc<sightline_telemetry::Gauge>,
    ok_ts: Arc<sightline_telemetry::Gauge>,
    reloads: Arc<sightline_telemetry::CounterVec>,
}

/// Shared by the SIGHUP handler and `POST /-/reload`.
struct Reloader {
    source: ConfigSource,
    scrape: Arc<ScrapeManager>,
    rules: sightline_rules::Manager,
    notifier: sightline_rules::notifier::AlertmanagerNotifier,
    am: Option<Arc<crate::am::BuiltinAm>>,
    /// The query engine, whose functions (query-function plugins among them) rule
    /// expressions may call.
    engine: Arc<RwLock<sightline_promql::Engine>>,
    external_url: String,
    config_yaml: Arc<RwLock<String>>,
    /// `global.external_labels`, which `/federate` attaches.
    external_labels: Arc<RwLock<sightline_model::Labels>>,
    /// The `remote_write` queues.
    remote_write: Arc<sightline_remote::client::RemoteWrite>,
    status: Arc<RwLock<(bool, i64)>>,
    metrics: ReloadMetrics,
    /// The OTLP receiver (`--web.enable-otlp-receiver`), whose translation follows the
    /// configuration's `otlp` block.
    otlp: Option<Arc<sightline_remote::otlp::Receiver>>,
    /// `--query.lookback-delta`: `target_info`'s sample interval is half of it.
    lookback_delta: std::time::Duration,
    /// Serialises reloads.
    lock: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// Loads the configuration and applies it to every subsystem: the rule files are checked
    /// before anything changes, so an invalid rule file leaves the running configuration
    /// untouched, as Prometheus.
    async fn apply(self: &Arc<Self>) -> Result<()> {
        let this = self.clone();
        let (cfg, rules_cfg) = tokio::task::spawn_blocking(move || -> Result<_> {
            let cfg = this.source.load()?;
            let rules_cfg = crate::rules::rules_config(
                &cfg,
                matches!(this.source, ConfigSource::Embedded { .. }),
                &this.external_url,
                this.engine.read().shared_registry(),
            )?;
            Ok((cfg, rules_cfg))
        })
        .await
        .context("configuration task failed")??;
        let rules = self.rules.clone();
        // Reading and validating rule files blocks; the manager's apply does both.
        rules
            .apply(&rules_cfg, &crate::rules::check_template)
            .await
            .context("loading rules")?;
        let this = self.clone();
        let cfg = Arc::new(cfg);
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            this.scrape
                .apply_config(&c)
                .context("applying scrape configuration")?;
            this.notifier
                .apply_config(&c, std::path::Path::new(""))
                .map_err(anyhow::Error::msg)
                .context("applying alerting configuration")?;
            // Stopping a replaced queue joins its reader thread: off the async workers.
            this.remote_write
                .apply(&c.remote_write, &c.global.external_labels)
                .context("applying remote_write")?;
            Ok(())
        })
        .await
        .context("configuration task failed")??;
        *self.config_yaml.write() = cfg.redacted_yaml();
        *self.external_labels.write() = cfg.global.external_labels.clone();
        if let Some(otlp) = &self.otlp {
            otlp.set_settings(otlp_settings(&cfg.otlp, self.lookback_delta));
        }
        Ok(())
    }

    async fn reload(self: &Arc<Self>) -> Result<()> {
        let _g = self.lock.lock().await;
        // alertmanager.yml first (the alert manager loaded it at startup): when it is invalid
        // nothing changes.
        let res = match &self.am {
            Some(am) => am.reload().await.context("reloading alertmanager.yml"),
            None => Ok(()),
        };
        let res = match res {
            Ok(()) => self.apply().await,
            Err(e) => Err(e),
        };
        let now = sightline_model::now_ms();
        match &res {
            Ok(()) => {
                info!("configuration reloaded");
                *self.status.write() = (true, now);
                self.metrics.ok.set(1.0);
                self.metrics.ok_ts.set(now as f64 / 1000.0);
                self.metrics.reloads.with(&["success"]).inc();
            }
            Err(e) => {
                error!(
                    error = format!("{e:#}"),
                    "configuration reload failed; the previous configuration keeps running"
                );
                self.status.write().0 = false;
                self.metrics.ok.set(0.0);
                self.metrics.reloads.with(&["failure"]).inc();
            }
        }
        res
    }
}

struct ScrapeTargets(Arc<ScrapeManager>);

impl TargetsSource for ScrapeTargets {
    fn active(&self) -> Vec<sightline_scrape::TargetSnapshot> {
        self.0.active_targets()
    }
    fn dropped(&self) -> Vec<sightline_scrape::DroppedTarget> {
        self.0.dropped_targets()
    }
    fn pools(&self) -> Vec<String> {
        self.0.pools()
    }
}

pub(crate) async fn run(args: ServeArgs) -> Result<()> {
    let start_ms = sightline_model::now_ms();
    // Every flag either works or stops startup here, before anything binds or opens.
    if let Some(p) = &args.alertmanager_config_file {
        if let Err(e) = sightline_alerts::load_file(p) {
            bail!("--alertmanager.config.file={}: {e}", p.display());
        }
    }
    let route_prefix = args.route_prefix().map_err(anyhow::Error::msg)?;
    let plugin_ceilings = args.plugin_limits.ceilings().map_err(anyhow::Error::msg)?;
    let web = crate::web::WebConfigFile::load(args.web_config_file.as_deref())?;
    let registry = Arc::new(Registry::new());
    registry.register_callback(sightline_telemetry::supervise::families);
    let source = match &args.config_file {
        Some(p) => ConfigSource::File(p.clone()),
        None => ConfigSource::Embedded {
            listen_address: args.listen_address.clone(),
        },
    };
    let config = source.load()?;
    info!(source = %describe(&source), jobs = config.scrape_configs.len(), "configuration loaded");

    // The listener binds first: `/-/healthy` answers during WAL replay and plugin
    // compilation, `/-/ready` and the API answer 503 until the application is handed in.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let ready = Arc::new(AtomicBool::new(false));
    // The UI's base is the path the browser sees: the external URL's path when one is given
    // (a proxy may strip it before the route prefix), else the route prefix.
    let web_base = match args.external_url.as_deref() {
        Some(u) if !u.is_empty() => args
            .external_url()
            .map_err(anyhow::Error::msg)?
            .path()
            .to_string(),
        _ => route_prefix.clone(),
    };
    let web_metrics = sightline_web::WebMetrics::new(&registry);
    let external_url = args.external_url().map_err(anyhow::Error::msg)?;
    let build = build_info();
    // Grafana's API (dashboards saved beside the TSDB) answers from the first second, beside
    // the UI: a setup script may post while storage replays and plugins compile. Plugin
    // dashboards join once the plugin runtime is up.
    let dashboard_store = {
        let (dir, m) = (args.storage_path.join("dashboards"), web_metrics.clone());
        tokio::task::spawn_blocking(move || sightline_web::DashboardStore::open(dir, m))
            .await
            .context("opening the dashboard store")?
            .context("opening the dashboard store")?
    };
    let plugin_dashboards = sightline_web::PluginDashboards::new();
    let grafana = sightline_web::grafana_router(sightline_web::GrafanaOptions {
        store: Arc::new(dashboard_store),
        plugins: plugin_dashboards.clone(),
        external_url: external_url.to_string().trim_end_matches('/').to_string(),
        base_path: web_base.clone(),
        version: build.version.clone(),
        commit: build.revision.clone(),
    });
    let shell = sightline_api::Shell::new(sightline_api::ShellOptions {
        route_prefix: route_prefix.clone(),
        lifecycle_enabled: args.enable_lifecycle,
        ready: ready.clone(),
        quit: {
            let s = shutdown.clone();
            Arc::new(move || {
                info!("received termination request via web service");
                s.cancel();
            })
        },
        metrics: crate::metrics::renderer(registry.clone()),
        ui: Some(
            sightline_web::ui_router(
                sightline_web::UiOptions::from_env(&web_base),
                web_metrics.clone(),
            )
            .merge(grafana),
        ),
        ui_api_paths: sightline_web::GRAFANA_API_PATHS
            .iter()
            .map(|p| p.to_string())
            .collect(),
    });
    let listener = tokio::net::TcpListener::bind(&args.listen_address)
        .await
        .with_context(|| format!("listening on {}", args.listen_address))?;
    info!(address = %args.listen_address, tls = web.is_tls(), route_prefix = %route_prefix, "listening");
    let server = tokio::spawn(crate::web::serve(
        listener,
        sightline_api::shell_router(shell.clone()),
        web.clone(),
        crate::web::Limits {
            max_connections: args.max_connections,
            read_timeout: args.read_timeout,
        },
        shutdown.clone(),
    ));
    {
        let (w, s) = (web.clone(), shutdown.clone());
        spawn_supervised("web_config_watcher", &shutdown, move || {
            w.clone().watch(s.clone())
        });
    }
    let (hup_tx, hup_rx) = tokio::sync::mpsc::channel(1);
    {
        let s = shutdown.clone();
        spawn_supervised("signals", &shutdown, move || {
            signals(s.clone(), hup_tx.clone())
        });
    }

    // Storage: the TSDB, replayed from its WAL before anything scrapes. Everything below
    // talks to the storage-api traits only.
    let tsdb = crate::storage::open(&args).await?;
    let storage = tsdb.clone();
    {
        let d = tsdb.clone();
        registry.register_callback(move || crate::storage::families(&d));
    }

    // Plugins: compiled components are cached under the data directory, so a restart does
    // not recompile unchanged plugins.
    // The directory is created if missing, so that dropping a first plugin in later is
    // noticed by the watcher.
    if let Err(e) = std::fs::create_dir_all(&args.plugins_dir) {
        warn!(dir = %args.plugins_dir.display(), error = %e, "cannot create the plugins directory");
    }
    let mut pcfg = PluginHostConfig::new(&args.plugins_dir);
    pcfg.cache_dir = Some(args.storage_path.join("plugin-cache"));
    pcfg.ceilings = plugin_ceilings;
    pcfg.reserved_functions = crate::query_plugins::builtin_names();
    // No filesystem grant reaches the data directory or the configuration (issue 14).
    pcfg.private_paths = [
        Some(&args.storage_path),
        args.config_file.as_ref(),
        args.web_config_file.as_ref(),
        args.alertmanager_config_file.as_ref(),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    let plugin_host = PluginHost::new(pcfg)
        .await
        .context("starting the plugin runtime")?;
    plugin_dashboards.set(crate::plugins::dashboards(plugin_host.clone()));
    if let Err(e) = plugin_host.start_watching() {
        warn!(dir = %args.plugins_dir.display(), error = %e, "cannot watch the plugins directory; plugins will not hot-reload");
    }
    {
        let h = plugin_host.clone();
        registry.register_callback(move || {
            crate::plugins::stats_families(&h.list(), h.cache_stats(), h.guest_memory_bytes())
        });
    }
    let collector: Arc<dyn sightline_scrape::PluginCollector> =
        Arc::new(crate::plugins::PluginExporters(plugin_host.clone()));
    let scrape = Arc::new(ScrapeManager::new(
        storage.clone(),
        &registry,
        Some(collector),
    ));

    let reload_metrics = ReloadMetrics {
        ok: registry.gauge(
            names::CONFIG_LAST_RELOAD_SUCCESSFUL,
            "Whether the last configuration reload attempt was successful.",
        ),
        ok_ts: registry.gauge(
            names::CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
            "Timestamp of the last successful configuration reload.",
        ),
        reloads: registry.counter_vec(
            names::CONFIG_RELOADS,
            "Configuration reloads by outcome.",
            &["outcome"],
        ),
    };
    reload_metrics.ok.set(1.0);
    reload_metrics.ok_ts.set(start_ms as f64 / 1000.0);
    registry
        .gauge_vec(
            names::BUILD_INFO,
            "A metric with a constant '1' value labeled by version and toolchain.",
            &["version", "revision"],
        )
        .with(&[&build.version, &build.revision])
        .set(1.0);

    let engine = Arc::new(RwLock::new(sightline_promql::Engine::with_registry(
        sightline_promql::EngineOptions {
            timeout: args.query_timeout,
            max_samples: args.query_max_samples,
            lookback_delta: args.query_lookback_delta,
            max_concurrency: args.query_max_concurrency,
            parallelism: args.query_parallelism,
            ..sightline_promql::EngineOptions::default()
        },
        crate::query_plugins::registry(&plugin_host),
    )));

    // Rules and the notifier of external Alertmanagers. Rules read and write storage only
    // through the storage-api seam and evaluate through the engine the API uses.
    let notifier = sightline_rules::notifier::AlertmanagerNotifier::new(
        args.notification_queue_capacity,
        &format!("Sightline/{}", env!("CARGO_PKG_VERSION")),
        &registry,
    );
    {
        let (n, s) = (notifier.clone(), shutdown.clone());
        spawn_supervised("notifier", &shutdown, move || n.clone().run(s.clone()));
    }
    // The built-in alert manager: this server's rules deliver to it in-process.
    let am = match &args.alertmanager_config_file {
        None => None,
        Some(file) => {
            let am = crate::am::BuiltinAm::start(
                crate::am::AmOptions {
                    config_file: file.clone(),
                    data_dir: args.storage_path.clone(),
                    // Alertmanager trims the trailing slash (`{{ .ExternalURL }}/#/alerts`).
                    external_url: external_url.to_string().trim_end_matches('/').to_string(),
                    data_retention: args.alertmanager_data_retention,
                    history_retention: args.alertmanager_history_retention,
                    history_max_entries: args.alertmanager_history_max_entries,
                    resolved_for_silenced: args.alertmanager_resolved_for_silenced.clone(),
                },
                plugin_host.clone(),
                &registry,
            )
            .await
            .context("starting the built-in alert manager")?;
            notifier.set_local(
                Arc::new(crate::am::RulesToAm(am.clone())),
                crate::am::own_authorities(&args.listen_address),
            );
            let (a, s) = (am.clone(), shutdown.clone());
            spawn_supervised("alertmanager_maintenance", &shutdown, move || {
                a.clone().maintain(s.clone())
            });
            info!(file = %file.display(), "built-in alert manager started");
            Some(am)
        }
    };
    if let Err(e) = std::fs::create_dir_all(args.storage_path.join("rules")) {
        warn!(error = %e, "cannot create the rules state directory; missed evaluations will not be caught up after a restart");
    }
    let rules = sightline_rules::Manager::new(
        sightline_rules::ManagerOptions {
            query: crate::rules::query_fn(engine.clone(), storage.clone()),
            appendable: storage.clone(),
            queryable: storage.clone(),
            expander: crate::rules::expander(),
            notifier: Arc::new(notifier.clone()),
            resend_delay: args.resend_delay,
            outage_tolerance: args.for_outage_tolerance,
            for_grace_period: args.for_grace_period,
            catch_up_window: args.catch_up_window,
            state_file: Some(
                args.storage_path
                    .join("rules")
                    .join("last-evaluations.json"),
            ),
            range_query: Some(crate::rules::range_query_fn(
                engine.clone(),
                storage.clone(),
            )),
            backfill_writer: Some(Arc::new(crate::rules::TsdbBackfill(tsdb.clone()))),
            backfill_new_rules: args.backfill_new_rules,
        },
        &registry,
    );

    // `POST /api/v1/otlp/v1/metrics`: appends through the same storage path as scrapes; the
    // translation settings come with each configuration (re)load.
    let otlp = args.enable_otlp_receiver.then(|| {
        Arc::new(sightline_remote::otlp::Receiver::new(
            storage.clone(),
            sightline_remote::otlp::OtlpMetrics::new(&registry),
            otlp_settings(&config.otlp, args.query_lookback_delta),
        ))
    });
    let config_yaml = Arc::new(RwLock::new(config.redacted_yaml()));
    let reload_status = Arc::new(RwLock::new((true, start_ms)));
    let external_labels = Arc::new(RwLock::new(config.global.external_labels.clone()));
    let remote_write = Arc::new(
        sightline_remote::client::RemoteWrite::new(
            tsdb.clone(),
            sightline_remote::client::ClientMetrics::new(&registry),
            Some({
                let sc = scrape.clone();
                Arc::new(move || {
                    sc.active_targets()
                        .into_iter()
                        .flat_map(|t| t.metadata)
                        .collect()
                })
            }),
        )
        .context("starting remote write")?,
    );
    let reloader = Arc::new(Reloader {
        source: source.clone(),
        scrape: scrape.clone(),
        rules: rules.clone(),
        notifier: notifier.clone(),
        am: am.clone(),
        engine: engine.clone(),
        external_url: external_url.to_string(),
        config_yaml: config_yaml.clone(),
        external_labels: external_labels.clone(),
        remote_write: remote_write.clone(),
        status: reload_status.clone(),
        metrics: reload_metrics,
        otlp: otlp.clone(),
        lookback_delta: args.query_lookback_delta,
        lock: tokio::sync::Mutex::new(()),
    });
    // The first application of the configuration: a failure stops startup.
    reloader
        .apply()
        .await
        .context("applying the configuration")?;
    // The receiver outlives a panicking body, so a restarted one keeps receiving SIGHUPs.
    {
        let rx = Arc::new(tokio::sync::Mutex::new(hup_rx));
        let r = reloader.clone();
        spawn_supervised("reload_on_hup", &shutdown, move || {
            reload_on_hup(rx.clone(), r.clone())
        });
    }

    let reload_fn: sightline_api::ReloadFn = {
        let r = reloader.clone();
        Arc::new(move || {
            let r = r.clone();
            Box::pin(async move { r.reload().await.map_err(|e| format!("{e:#}")) })
        })
    };
    let running_queries = Arc::new(sightline_api::RunningQueries::default());
    let state = Arc::new(ApiState {
        storage: storage.clone(),
        targets: Arc::new(ScrapeTargets(scrape.clone())),
        config_yaml,
        flags: args.as_flag_map(),
        build,
        ready: ready.clone(),
        reload: reload_fn,
        start_time_ms: start_ms,
        reload_status,
        storage_retention: sightline_model::format_duration(args.retention_time),
        engine: engine.clone(),
        query_slots: Arc::new(tokio::sync::Semaphore::new(
            args.query_max_concurrency.max(1),
        )),
        running: running_queries.clone(),
        query_costs: Arc::new(sightline_api::QueryCosts::new(&registry)),
        plugins: crate::plugins::lister(plugin_host.clone()),
        storage_admin: Some(Arc::new(crate::storage::TsdbAdmin(tsdb.clone()))),
        admin_enabled: args.enable_admin_api,
        subsystems: vec![
            sightline_rules::api::router(rules.clone(), args.enable_admin_api),
            sightline_remote::client::api::router(remote_write.clone()),
            // `POST /api/v1/write`: appends through the same storage path as scrapes.
            sightline_remote::receiver::router(args.enable_remote_write_receiver.then(|| {
                sightline_remote::receiver::Receiver::new(
                    storage.clone(),
                    sightline_remote::RemoteMetrics::new(&registry),
                )
            })),
            sightline_remote::otlp::router(otlp),
            // `POST /api/v1/read`: always on, as in Prometheus.
            sightline_remote::read::handler::router(
                sightline_remote::read::handler::ReadHandler::new(
                    storage.clone(),
                    {
                        let ext = external_labels.clone();
                        Arc::new(move || ext.read().clone())
                    },
                    sightline_remote::read::handler::ReadOptions {
                        sample_limit: args.remote_read_sample_limit,
                        concurrent_limit: args.remote_read_concurrent_limit,
                        max_bytes_in_frame: args.remote_read_max_bytes_in_frame,
                    },
                    sightline_remote::read::metrics::ReadMetrics::new(&registry),
                ),
            ),
        ],
        root_routers: am
            .iter()
            .map(crate::am::api::router)
            .chain([sightline_api::federate_router(
                sightline_api::FederateOptions {
                    storage: storage.clone(),
                    lookback_delta: args.query_lookback_delta,
                    external_labels,
                },
            )])
            .collect(),
    });
    shell.set_app(sightline_api::router(state));
    ready.store(true, Ordering::Release);
    info!("server is ready to receive web requests");

    let maintenance = {
        let (d, s) = (tsdb.clone(), shutdown.clone());
        spawn_supervised(crate::storage::MAINTENANCE_TASK, &shutdown, move || {
            crate::storage::maintenance(d.clone(), s.clone())
        })
    };
    {
        let (h, s) = (plugin_host.clone(), shutdown.clone());
        spawn_supervised("query_plugins_follower", &shutdown, move || {
            crate::query_plugins::follow(h.clone(), engine.clone(), s.clone())
        });
    }
    shutdown.cancelled().await;

    info!("shutting down: canceling running queries, draining HTTP connections");
    ready.store(false, Ordering::Release);
    running_queries.cancel_all();
    if let Err(e) = server.await {
        error!(error = %e, "HTTP server task failed");
    }
    info!("stopping scrapes and rule evaluation");
    scrape.stop().await;
    rules.stop().await;
    if let Some(am) = &am {
        info!("stopping the alert manager");
        am.stop().await;
    }
    // Every sample is in the WAL now: the queues deliver it within the flush deadline; what
    // they have not delivered by then stays there (held), to be sent after the next start.
    info!("stopping remote write");
    let (rw, deadline) = (remote_write.clone(), args.remote_flush_deadline);
    if let Err(e) = tokio::task::spawn_blocking(move || rw.drain_and_stop(deadline)).await {
        error!(error = %e, "remote write stop task failed");
    }
    let _ = maintenance.await;
    info!("flushing storage");
    let d = tsdb.clone();
    tokio::task::spawn_blocking(move || d.flush())
        .await
        .context("storage flush task failed")?
        .context("flushing storage")?;
    info!("shutdown complete");
    Ok(())
}

/// SIGTERM/SIGINT stop the daemon; SIGHUP asks for a configuration reload (handled once the
/// reloader exists; during startup it is dropped).
async fn signals(
    shutdown: tokio_util::sync::CancellationToken,
    hup_tx: tokio::sync::mpsc::Sender<()>,
) {
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        warn!("cannot install signal handlers; stop with SIGKILL");
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { info!("received SIGTERM"); break; }
            _ = int.recv() => { info!("received SIGINT"); break; }
            _ = hup.recv() => {
                info!("received SIGHUP, reloading configuration");
                let _ = hup_tx.try_send(());
            }
            _ = shutdown.cancelled() => return,
        }
    }
    shutdown.cancel();
}

/// Spawns `body` as a supervised background task (`sightline_telemetry::supervise`): a panic
/// is logged, counted and followed by a restart, until `shutdown`.
fn spawn_supervised<F, Fut>(
    task: &'static str,
    shutdown: &tokio_util::sync::CancellationToken,
    body: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let s = shutdown.clone();
    tokio::spawn(async move { supervise(task, Some(&s), Backoff::default(), body).await })
}

async fn reload_on_hup(
    rx: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>,
    reloader: Arc<Reloader>,
) {
    let mut rx = rx.lock().await;
    while rx.recv().await.is_some() {
        let _ = reloader.reload().await;
    }
}

fn describe(s: &ConfigSource) -> String {
    match s {
        ConfigSource::File(p) => p.display().to_string(),
        ConfigSource::Embedded { .. } => "embedded default".to_string(),
    }
}

fn build_info() -> BuildInfo {
    BuildInfo {
        // Grafana gates features on the reported Prometheus version; we implement the 2.x API.
        version: format!("2.42.0-sightline.{}", env!("CARGO_PKG_VERSION")),
        revision: option_env!("SIGHTLINE_REVISION")
            .unwrap_or("unknown")
            .to_string(),
        branch: "main".to_string(),
        build_user: "sightline".to_string(),
        build_date: option_env!("SIGHTLINE_BUILD_DATE")
            .unwrap_or("unknown")
            .to_string(),
        toolchain: format!("rustc {}", option_env!("RUSTC_VERSION").unwrap_or("1.95")),
    }
}

/// The OTLP receiver's translation settings from the configuration's `otlp` block.
fn otlp_settings(
    c: &sightline_config::OtlpConfig,
    lookback_delta: std::time::Duration,
) -> sightline_remote::otlp::Settings {
    use sightline_remote::otlp::naming::Strategy;
    sightline_remote::otlp::Settings {
        // The configuration validated the name already.
        strategy: Strategy::parse(&c.translation_strategy).unwrap_or_default(),
        promote_all: c.promote_all_resource_attributes,
        attributes: if c.promote_all_resource_attributes {
            c.ignore_resource_attributes.clone()
        } else {
            c.promote_resource_attributes.clone()
        },
        keep_identifying: c.keep_identifying_resource_attributes,
        promote_scope_metadata: c.promote_scope_metadata,
        label_underscore_sanitization: c.label_name_underscore_sanitization,
        label_preserve_multiple_underscores: c.label_name_preserve_multiple_underscores,
        lookback_delta_ms: i64::try_from(lookback_delta.as_millis()).unwrap_or(i64::MAX),
        convert_histograms_to_nhcb: c.convert_histograms_to_nhcb,
    }
}
