//! The built-in alert manager (`--alertmanager.config.file`): the engine of
//! `sightline-alerts` wired to the daemon — its state files in `<data>/alertmanager/`, its
//! integrations served by receiver plugins, alerts from this server's rules in-process and
//! from anyone over API v2, reloads with the rest of the configuration.

pub(crate) mod api;
mod deliver;
mod http_config;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use parking_lot::RwLock;
use sightline_alerts::{
    AlertStore, Clock, Config, Dispatcher, DispatcherDeps, DispatcherOptions, History, Integration,
    Integrations, Marker, Metrics, Notification, NotificationLog, NotifyError, PostedAlert,
    ReceiverOptions, Silences, SystemClock,
};
use sightline_plugin_runtime::{Contract, Error as PluginError, PluginHost};
use sightline_telemetry::Registry;

pub(crate) use deliver::PluginIntegration;

/// What the daemon's flags say about the alert manager.
#[derive(Debug, Clone)]
pub(crate) struct AmOptions {
    pub(crate) config_file: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) external_url: String,
    pub(crate) data_retention: Duration,
    pub(crate) history_retention: Duration,
    pub(crate) history_max_entries: usize,
    /// Receivers that get resolved notifications for silenced alerts (alertmanager#226).
    pub(crate) resolved_for_silenced: Vec<String>,
}

/// A loaded configuration with what is derived from it.
pub(crate) struct Loaded {
    pub(crate) config: Config,
    /// The file with its secrets hidden, for `GET /api/v2/status`.
    pub(crate) redacted: String,
    templates: Arc<sightline_template::Template>,
    /// Each integration's `http_config` (email: `tls_config`) compiled, by receiver name and
    /// position in its integrations.
    profiles: HashMap<(String, usize), sightline_plugin_runtime::HttpProfile>,
}

/// The running alert manager.
pub(crate) struct BuiltinAm {
    pub(crate) opts: AmOptions,
    pub(crate) loaded: RwLock<Arc<Loaded>>,
    pub(crate) store: Arc<AlertStore>,
    pub(crate) silences: Arc<Silences>,
    pub(crate) history: Arc<History>,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) started_ms: i64,
    plugins: PluginHost,
}

/// A receiver plugin as an engine integration.
struct PluginStage(Arc<PluginIntegration>);

impl Integration for PluginStage {
    fn name(&self) -> &str {
        &self.0.kind
    }
    fn index(&self) -> usize {
        self.0.index
    }
    fn send_resolved(&self) -> bool {
        self.0.send_resolved
    }
    fn notify(
        &self,
        n: Notification,
    ) -> sightline_alerts::BoxFuture<'static, Result<(), NotifyError>> {
        let p = self.0.clone();
        Box::pin(async move {
            if p.plugins.contract(&p.kind) == Some(Contract::V0_2) {
                let (typed, settings, scope) =
                    p.prepare_typed(&n.data).map_err(NotifyError::fatal)?;
                // Contract 0.2 says whether a failure is worth retrying, and how soon.
                return p
                    .plugins
                    .notify_typed_with_profile(
                        &p.kind,
                        &typed,
                        &settings,
                        scope,
                        p.profile.as_ref(),
                    )
                    .await
                    .map_err(|e| match e {
                        PluginError::Permanent { .. } => NotifyError::fatal(e.to_string()),
                        PluginError::Retryable { retry_after, .. } => NotifyError {
                            retry_after,
                            ..NotifyError::retryable(e.to_string())
                        },
                        other => NotifyError::retryable(other.to_string()),
                    });
            }
            let (group, settings) = p.prepare(&n.data).map_err(NotifyError::fatal)?;
            // Contract 0.1 cannot tell a permanent failure from a passing one, so every
            // plugin error is retried within the group's deadline, as Alertmanager retries
            // a failed request.
            p.plugins
                .notify_with_profile(&p.kind, &group, &settings, p.profile.as_ref())
                .await
                .map_err(|e| NotifyError::retryable(e.to_string()))
        })
    }
}

fn load(path: &Path, plugins: &PluginHost) -> Result<Loaded> {
    let config = sightline_alerts::load_file(path).map_err(anyhow::Error::msg)?;
    // `<plugin>_configs` beyond Alertmanager's kinds name a receiver plugin: one that is not
    // loaded is most likely a typo (`slak_configs`), refused before anything changes. A
    // plugin removed later makes its notifications fail (counted and logged) instead.
    let receivers: std::collections::HashSet<String> = plugins
        .list()
        .into_iter()
        .filter(|p| p.kind == Some(sightline_plugin_runtime::PluginKind::Receiver))
        .map(|p| p.name)
        .collect();
    sightline_alerts::check_plugin_kinds(&config, &|name| receivers.contains(name))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let templates = sightline_alerts::load_templates(&config.templates)
        .map_err(anyhow::Error::msg)
        .context("templates")?;
    // Compiled here so that a bad http_config (a CA that does not parse, an option Sightline
    // does not implement) rejects the file before anything changes.
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut profiles = HashMap::new();
    for r in &config.receivers {
        for (pos, i) in r.integrations.iter().enumerate() {
            let profile = http_config::profile(&i.kind, &i.settings, &base_dir).map_err(|e| {
                anyhow::anyhow!(
                    "receiver {:?}: {}_configs[{}]: {e}",
                    r.name,
                    i.kind,
                    i.index
                )
            })?;
            profiles.insert((r.name.clone(), pos), profile);
        }
    }
    Ok(Loaded {
        config,
        redacted: sightline_alerts::redacted_config(&text),
        templates: Arc::new(templates),
        profiles,
    })
}

impl BuiltinAm {
    /// Loads the configuration and the state, and starts dispatching. Fails (stopping
    /// startup) on an invalid file or unreadable state, naming it.
    pub(crate) async fn start(
        opts: AmOptions,
        plugins: PluginHost,
        registry: &Registry,
    ) -> Result<Arc<BuiltinAm>> {
        let flag = format!("--alertmanager.config.file={}", opts.config_file.display());
        let path = opts.config_file.clone();
        let host = plugins.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&path, &host))
            .await
            .context("loading alertmanager.yml")?
            .context(flag)?;
        let dir = opts.data_dir.join("alertmanager");
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let metrics = Metrics::new(registry);
        let marker = Arc::new(Marker::new());
        let store = Arc::new(
            AlertStore::open(
                dir.join("alerts"),
                loaded.config.global.resolve_timeout,
                marker.clone(),
                metrics.clone(),
            )
            .map_err(anyhow::Error::msg)?,
        );
        store.register_metrics(registry, clock.clone());
        let nflog = Arc::new(
            NotificationLog::open(
                Some(dir.join("nflog")),
                opts.data_retention,
                metrics.clone(),
            )
            .map_err(anyhow::Error::msg)?,
        );
        let silences = Arc::new(
            Silences::open(Some(dir.join("silences")), opts.data_retention, registry)
                .map_err(anyhow::Error::msg)?,
        );
        let history = Arc::new(
            History::open(
                Some(dir.join("history.jsonl")),
                opts.history_retention,
                opts.history_max_entries,
                registry,
            )
            .map_err(anyhow::Error::msg)?,
        );
        let integrations = integrations(&loaded, &plugins, &opts.config_file);
        let dispatcher = Dispatcher::new(
            &loaded.config,
            integrations,
            DispatcherDeps {
                store: store.clone(),
                marker: marker.clone(),
                silencer: silences.clone(),
                nflog,
                sink: history.clone(),
                clock: clock.clone(),
                metrics,
            },
            dispatcher_options(&opts),
        );
        dispatcher.start();
        let am = Arc::new(BuiltinAm {
            opts,
            loaded: RwLock::new(Arc::new(loaded)),
            store,
            silences,
            history,
            dispatcher,
            clock,
            started_ms: sightline_model::now_ms(),
            plugins,
        });
        am.warn_missing_plugins();
        Ok(am)
    }

    /// Re-reads alertmanager.yml and applies it; on error the running configuration stays.
    pub(crate) async fn reload(&self) -> Result<()> {
        let path = self.opts.config_file.clone();
        let host = self.plugins.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&path, &host))
            .await
            .context("loading alertmanager.yml")?
            .with_context(|| self.opts.config_file.display().to_string())?;
        let integrations = integrations(&loaded, &self.plugins, &self.opts.config_file);
        self.dispatcher
            .reload(&loaded.config, integrations, dispatcher_options(&self.opts))
            .await;
        *self.loaded.write() = Arc::new(loaded);
        self.warn_missing_plugins();
        Ok(())
    }

    /// Stops dispatching and writes the state.
    pub(crate) async fn stop(&self) {
        self.dispatcher.stop().await;
        if let Err(e) = self.history.sync() {
            tracing::warn!(error = %e, "notification history sync failed");
        }
    }

    /// Runs the periodic upkeep Alertmanager runs: expired silences past retention and old
    /// history go, until-resolved silences end when their alerts resolve.
    pub(crate) async fn maintain(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            n += 1;
            let now = self.clock.now_ms();
            let firing: Vec<_> = self.store.firing(now).into_iter().map(|(_, l)| l).collect();
            if let Err(e) = self.silences.expire_resolved(&firing, now) {
                tracing::warn!(error = %e, "ending until-resolved silences failed");
            }
            // Every 15 minutes, as Alertmanager's maintenance.
            if n.is_multiple_of(180) {
                if let Err(e) = self.silences.gc(now) {
                    tracing::warn!(error = %e, "silence gc failed");
                }
                self.history.gc(now);
            }
        }
    }

    /// Alerts posted to the API or sent by this server's rules.
    pub(crate) fn post(&self, alerts: Vec<PostedAlert>) -> Result<(), String> {
        self.store.post(alerts, self.clock.now_ms())
    }

    fn warn_missing_plugins(&self) {
        let loaded = self.loaded.read().clone();
        let installed: std::collections::HashSet<String> =
            self.plugins.list().into_iter().map(|p| p.name).collect();
        for r in &loaded.config.receivers {
            for i in &r.integrations {
                if !installed.contains(&i.kind) {
                    tracing::warn!(
                        receiver = %r.name,
                        integration = %format!("{}_configs", i.kind),
                        "no receiver plugin {:?} is loaded: its notifications fail until \
                         {}.wasm is installed in the plugins directory",
                        i.kind,
                        i.kind
                    );
                }
            }
        }
    }
}

fn dispatcher_options(opts: &AmOptions) -> DispatcherOptions {
    let receiver_options: HashMap<String, ReceiverOptions> = opts
        .resolved_for_silenced
        .iter()
        .map(|r| {
            (
                r.clone(),
                ReceiverOptions {
                    send_resolved_for_silenced: true,
                },
            )
        })
        .collect();
    DispatcherOptions {
        external_url: opts.external_url.clone(),
        receiver_options,
        ..DispatcherOptions::default()
    }
}

fn integrations(loaded: &Loaded, plugins: &PluginHost, config_file: &Path) -> Integrations {
    let base_dir = config_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out: Integrations = HashMap::new();
    for r in &loaded.config.receivers {
        let list: Vec<Arc<dyn Integration>> = r
            .integrations
            .iter()
            .enumerate()
            .map(|(pos, i)| {
                Arc::new(PluginStage(Arc::new(PluginIntegration {
                    profile: loaded.profiles.get(&(r.name.clone(), pos)).cloned(),
                    plugins: plugins.clone(),
                    kind: i.kind.clone(),
                    index: i.index,
                    send_resolved: i.send_resolved,
                    settings: i.settings.clone(),
                    templates: loaded.templates.clone(),
                    base_dir: base_dir.clone(),
                }))) as Arc<dyn Integration>
            })
            .collect();
        out.insert(r.name.clone(), list);
    }
    out
}

/// The `host:port` forms under which this process' listener may be named in an
/// `alertmanagers` entry (loopback names, the unspecified address and the host name, with
/// the listen port).
pub(crate) fn own_authorities(listen_address: &str) -> Vec<String> {
    let Some((host, port)) = listen_address.rsplit_once(':') else {
        return Vec::new();
    };
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "[::1]".to_string(),
        "0.0.0.0".to_string(),
        "[::]".to_string(),
    ];
    if !host.is_empty() {
        hosts.push(host.to_string());
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        hosts.push(h.trim().to_string());
    }
    hosts.sort();
    hosts.dedup();
    hosts.into_iter().map(|h| format!("{h}:{port}")).collect()
}

/// This server's rules deliver to the built-in alert manager in-process.
pub(crate) struct RulesToAm(pub(crate) Arc<BuiltinAm>);

impl sightline_rules::notifier::LocalAlertmanager for RulesToAm {
    fn post(&self, alerts: Vec<sightline_rules::NotifyAlert>) {
        let posted: Vec<PostedAlert> = alerts
            .into_iter()
            .map(|a| PostedAlert {
                labels: a
                    .labels
                    .iter()
                    .map(|l| (l.name.to_string(), l.value.to_string()))
                    .collect(),
                annotations: a
                    .annotations
                    .iter()
                    .map(|l| (l.name.to_string(), l.value.to_string()))
                    .collect(),
                starts_at: Some(a.starts_at),
                ends_at: a.ends_at,
                generator_url: a.generator_url,
            })
            .collect();
        if let Err(e) = self.0.post(posted) {
            tracing::warn!(error = %e, "the built-in alert manager refused alerts of this server's rules");
        }
    }
}
