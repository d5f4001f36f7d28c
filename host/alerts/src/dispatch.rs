//! The dispatcher (`dispatch.Dispatcher`): routes every stored alert to aggregation groups
//! keyed by route and group labels, and runs each group on its own task with
//! Alertmanager's timers (`group_wait` before the first flush, `group_interval` between
//! flushes). A flush hands the group's alerts to the notification pipeline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::alert::{fingerprint, Alert, Fingerprint};
use crate::clock::Clock;
use crate::config::Config;
use crate::marker::{AlertStatus, Marker};
use crate::matchers::LabelSet;
use crate::metrics::Metrics;
use crate::nflog::NotificationLog;
use crate::pipeline::{
    self, FlushCtx, Integrations, OutcomeSink, ReceiverOptions, Shared, Silencer, Stages,
};
use crate::route::{RouteOpts, RouteTree};
use crate::store::AlertStore;

/// What the dispatcher is built from besides the configuration.
pub struct DispatcherDeps {
    /// The alert store it subscribes to.
    pub store: Arc<AlertStore>,
    /// The marker the inhibition and silence stages update.
    pub marker: Arc<Marker>,
    /// The silences.
    pub silencer: Arc<dyn Silencer>,
    /// The notification log.
    pub nflog: Arc<NotificationLog>,
    /// Where delivery outcomes go.
    pub sink: Arc<dyn OutcomeSink>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The engine's metrics.
    pub metrics: Arc<Metrics>,
}

/// Tunables, Alertmanager's defaults in [`Default`].
#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// `--web.external-url`, for `.ExternalURL`.
    pub external_url: String,
    /// The least time a flush gets (`notify.MinTimeout`, 10s): a group's deadline is
    /// `max(group_interval, min_timeout)`.
    pub min_timeout: Duration,
    /// How often empty aggregation groups are removed (30s).
    pub cleanup_interval: Duration,
    /// How often resolved alerts are dropped from the store (`--alerts.gc-interval`, 30m).
    pub alert_gc_interval: Duration,
    /// How often the notification log is collected and the alerts snapshotted (1m;
    /// Alertmanager's `--nflog.maintenance-interval` is 15m, but it keeps no alerts).
    pub maintenance_interval: Duration,
    /// Per-receiver extensions by receiver name.
    pub receiver_options: HashMap<String, ReceiverOptions>,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions {
            external_url: String::new(),
            min_timeout: Duration::from_secs(10),
            cleanup_interval: Duration::from_secs(30),
            alert_gc_interval: Duration::from_secs(30 * 60),
            maintenance_interval: Duration::from_secs(60),
            receiver_options: HashMap::new(),
        }
    }
}

/// One aggregation group as the API shows it (`dispatch.AlertGroup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSnapshot {
    /// The group labels.
    pub labels: LabelSet,
    /// The route's receiver.
    pub receiver: String,
    /// `Route.Key()` of its route.
    pub route_key: String,
    /// `Route.ID()` of its route.
    pub route_id: String,
    /// The group key (`{route key}:{labels}`).
    pub group_key: String,
    /// Its alerts, sorted as Alertmanager sorts them.
    pub alerts: Vec<Alert>,
}

struct AgState {
    alerts: HashMap<Fingerprint, Alert>,
    has_flushed: bool,
}

struct AggrGroup {
    labels: LabelSet,
    route: usize,
    opts: RouteOpts,
    group_key: String,
    state: Mutex<AgState>,
    flush_now: tokio::sync::Notify,
    cancel: CancellationToken,
}

struct Running {
    tree: Arc<RouteTree>,
    stages: Arc<Stages>,
    groups: HashMap<(usize, Fingerprint), Arc<AggrGroup>>,
}

struct Inner {
    shared: Arc<Shared>,
    options: Mutex<DispatcherOptions>,
    running: Mutex<Running>,
    task: Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
}

/// The dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

fn stages(config: &Config, integrations: Integrations, options: &DispatcherOptions) -> Stages {
    Stages {
        inhibit_rules: config.inhibit_rules.clone(),
        time_intervals: config
            .time_intervals
            .iter()
            .map(|t| (t.name.clone(), t.time_intervals.clone()))
            .collect(),
        integrations,
        receiver_options: options.receiver_options.clone(),
        external_url: options.external_url.clone(),
    }
}

/// Go's `model.LabelSet.String()`: `{a="1", b="2"}`.
fn labels_string(ls: &LabelSet) -> String {
    let parts: Vec<String> = ls.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// `model.LabelSet.Before`.
pub(crate) fn labels_before(a: &LabelSet, b: &LabelSet) -> bool {
    if a.len() != b.len() {
        return a.len() < b.len();
    }
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    for n in names {
        let Some(x) = a.get(n) else { return true };
        let Some(y) = b.get(n) else { return false };
        if x != y {
            return x < y;
        }
    }
    false
}

/// `types.AlertSlice.Less`: by `job`, then `instance`, then the whole label set.
pub(crate) fn alert_cmp(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    if labels_before(&a.labels, &b.labels) {
        Ordering::Less
    } else if labels_before(&b.labels, &a.labels) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

impl Dispatcher {
    /// A dispatcher for `config` delivering through `integrations` (receiver name to its
    /// integrations). Nothing runs until [`Dispatcher::start`].
    pub fn new(
        config: &Config,
        integrations: Integrations,
        deps: DispatcherDeps,
        options: DispatcherOptions,
    ) -> Dispatcher {
        let shared = Arc::new(Shared {
            store: deps.store,
            marker: deps.marker,
            silencer: deps.silencer,
            nflog: deps.nflog,
            sink: deps.sink,
            clock: deps.clock,
            metrics: deps.metrics,
        });
        let running = Running {
            tree: Arc::new(RouteTree::new(&config.route)),
            stages: Arc::new(stages(config, integrations, &options)),
            groups: HashMap::new(),
        };
        Dispatcher {
            inner: Arc::new(Inner {
                shared,
                options: Mutex::new(options),
                running: Mutex::new(running),
                task: Mutex::new(None),
            }),
        }
    }

    /// Starts routing (`Dispatcher.Run`) on the current tokio runtime: every stored alert is
    /// routed, then each new one.
    pub fn start(&self) {
        let mut task = self.inner.task.lock();
        if task.is_some() {
            return;
        }
        let cancel = CancellationToken::new();
        let rx = self.inner.shared.store.subscribe();
        let me = self.clone();
        let c = cancel.clone();
        let h = tokio::spawn(async move { me.run(rx, c).await });
        *task = Some((cancel, h));
    }

    /// Stops routing and every aggregation group (`Dispatcher.Stop`); in-flight
    /// notifications are abandoned as Alertmanager cancels them.
    pub async fn stop(&self) {
        let t = self.inner.task.lock().take();
        if let Some((cancel, h)) = t {
            cancel.cancel();
            let _ = h.await;
        }
        {
            let mut r = self.inner.running.lock();
            for ag in r.groups.values() {
                ag.cancel.cancel();
            }
            r.groups.clear();
        }
        self.inner.shared.metrics.aggregation_groups.set(0.0);
        let store = self.inner.shared.store.clone();
        match tokio::task::spawn_blocking(move || store.save()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "alerts snapshot failed"),
            Err(e) => tracing::warn!(error = %e, "alerts snapshot task failed"),
        }
    }

    /// Applies a new configuration as Alertmanager's reload does: the dispatcher stops,
    /// its groups go, and it starts again on the new routes (alerts older than their new
    /// group's `group_wait` flush at once; the notification log keeps them from re-paging).
    pub async fn reload(
        &self,
        config: &Config,
        integrations: Integrations,
        options: DispatcherOptions,
    ) {
        let was_running = self.inner.task.lock().is_some();
        self.stop().await;
        {
            let mut r = self.inner.running.lock();
            r.tree = Arc::new(RouteTree::new(&config.route));
            r.stages = Arc::new(stages(config, integrations, &options));
        }
        self.inner
            .shared
            .store
            .set_resolve_timeout(config.global.resolve_timeout);
        *self.inner.options.lock() = options;
        if was_running {
            self.start();
        }
    }

    async fn run(
        self,
        mut rx: tokio::sync::mpsc::UnboundedReceiver<Alert>,
        cancel: CancellationToken,
    ) {
        let opts = self.inner.options.lock().clone();
        let mut cleanup = tokio::time::interval(opts.cleanup_interval);
        let mut gc = tokio::time::interval(opts.alert_gc_interval);
        let mut maintenance = tokio::time::interval(opts.maintenance_interval);
        for t in [&mut cleanup, &mut gc, &mut maintenance] {
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t.reset();
        }
        loop {
            tokio::select! {
                a = rx.recv() => {
                    let Some(a) = a else { return };
                    let t = std::time::Instant::now();
                    let tree = self.inner.running.lock().tree.clone();
                    for node in tree.matches(&a.labels) {
                        self.process_alert(&tree, a.clone(), node);
                    }
                    self.inner.shared.metrics.processing_duration.observe(t.elapsed().as_secs_f64());
                }
                _ = cleanup.tick() => self.cleanup(),
                _ = gc.tick() => {
                    let now = self.inner.shared.clock.now_ms();
                    self.inner.shared.store.gc(now);
                }
                _ = maintenance.tick() => {
                    let now = self.inner.shared.clock.now_ms();
                    let (nflog, store) = (self.inner.shared.nflog.clone(), self.inner.shared.store.clone());
                    // File writes: off the async threads, and not waited for by routing.
                    tokio::task::spawn_blocking(move || {
                        nflog.gc(now);
                        if let Err(e) = store.save() {
                            tracing::warn!(error = %e, "alerts snapshot failed");
                        }
                    });
                }
                _ = cancel.cancelled() => return,
            }
        }
    }

    /// Removes the groups left without alerts (the dispatcher's cleanup tick).
    fn cleanup(&self) {
        let mut r = self.inner.running.lock();
        r.groups.retain(|_, ag| {
            let empty = ag.state.lock().alerts.is_empty();
            if empty {
                ag.cancel.cancel();
            }
            !empty
        });
        self.inner
            .shared
            .metrics
            .aggregation_groups
            .set(r.groups.len() as f64);
    }

    fn process_alert(&self, tree: &RouteTree, alert: Alert, node: usize) {
        let labels = tree.group_labels(node, &alert.labels);
        let key = (node, fingerprint(&labels));
        let now = self.inner.shared.clock.now_ms();
        let mut r = self.inner.running.lock();
        if let Some(ag) = r.groups.get(&key) {
            insert(ag, alert, now);
            return;
        }
        let opts = tree.node(node).opts.clone();
        let group_key = format!("{}:{}", tree.key(node), labels_string(&labels));
        let ag = Arc::new(AggrGroup {
            labels,
            route: node,
            opts,
            group_key,
            state: Mutex::new(AgState {
                alerts: HashMap::new(),
                has_flushed: false,
            }),
            flush_now: tokio::sync::Notify::new(),
            cancel: CancellationToken::new(),
        });
        insert(&ag, alert, now);
        r.groups.insert(key, ag.clone());
        self.inner
            .shared
            .metrics
            .aggregation_groups
            .set(r.groups.len() as f64);
        let stages = r.stages.clone();
        let shared = self.inner.shared.clone();
        let min_timeout = self.inner.options.lock().min_timeout;
        tokio::spawn(run_group(ag, shared, stages, min_timeout));
    }

    /// The aggregation groups and their alerts (`Dispatcher.Groups` without filters),
    /// sorted by labels then receiver.
    pub fn groups(&self) -> Vec<GroupSnapshot> {
        self.groups_filtered(&|_| true, &|_, _| true).0
    }

    /// `Dispatcher.Groups`: the groups whose receiver passes `receiver_filter`, each with
    /// its alerts that pass `alert_filter` (given the alert and now), groups left empty
    /// dropped; sorted by labels then receiver, alerts as Alertmanager sorts them. Also
    /// returns, per alert fingerprint, the sorted receivers of the groups it is in.
    pub fn groups_filtered(
        &self,
        receiver_filter: &dyn Fn(&str) -> bool,
        alert_filter: &dyn Fn(&Alert, i64) -> bool,
    ) -> (Vec<GroupSnapshot>, HashMap<Fingerprint, Vec<String>>) {
        let now = self.inner.shared.clock.now_ms();
        let r = self.inner.running.lock();
        let mut receivers: HashMap<Fingerprint, Vec<String>> = HashMap::new();
        let mut out = Vec::new();
        for ag in r.groups.values() {
            if !receiver_filter(&ag.opts.receiver) {
                continue;
            }
            let mut alerts: Vec<Alert> = ag
                .state
                .lock()
                .alerts
                .values()
                .filter(|a| alert_filter(a, now))
                .cloned()
                .collect();
            if alerts.is_empty() {
                continue;
            }
            for a in &alerts {
                receivers
                    .entry(a.fingerprint())
                    .or_default()
                    .push(ag.opts.receiver.clone());
            }
            alerts.sort_by(alert_cmp);
            out.push(GroupSnapshot {
                labels: ag.labels.clone(),
                receiver: ag.opts.receiver.clone(),
                route_key: r.tree.key(ag.route),
                route_id: r.tree.id(ag.route),
                group_key: ag.group_key.clone(),
                alerts,
            });
        }
        out.sort_by(|a, b| {
            if a.labels == b.labels {
                a.receiver.cmp(&b.receiver)
            } else if labels_before(&a.labels, &b.labels) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        for v in receivers.values_mut() {
            v.sort();
        }
        (out, receivers)
    }

    /// The receivers an alert with `labels` is routed to, in routing order (the API's
    /// `receivers` of an alert).
    pub fn receivers_for(&self, labels: &LabelSet) -> Vec<String> {
        let tree = self.inner.running.lock().tree.clone();
        tree.matches(labels)
            .into_iter()
            .map(|n| tree.node(n).opts.receiver.clone())
            .collect()
    }

    /// Runs the inhibitor and the silencer on `labels` and returns the marker's status, as
    /// the API does before listing an alert.
    pub fn refresh_status(&self, labels: &LabelSet) -> AlertStatus {
        self.refresh_statuses([labels])
            .pop()
            .unwrap_or_else(|| self.inner.shared.marker.status(fingerprint(labels)))
    }

    /// [`Dispatcher::refresh_status`] for many alerts: the firing alerts the inhibitor
    /// compares against are listed once (per alert, listing them made the API quadratic in
    /// the number of alerts: 0.3 s for 572), and only when there are inhibit rules.
    pub fn refresh_statuses<'a>(
        &self,
        labels: impl IntoIterator<Item = &'a LabelSet>,
    ) -> Vec<AlertStatus> {
        let s = &self.inner.shared;
        let now = s.clock.now_ms();
        let stages = self.inner.running.lock().stages.clone();
        let firing = if stages.inhibit_rules.is_empty() {
            Vec::new()
        } else {
            s.store.firing(now)
        };
        labels
            .into_iter()
            .map(|labels| {
                pipeline::inhibit(&stages.inhibit_rules, &firing, labels, &s.marker);
                let fp = fingerprint(labels);
                s.marker.set_silenced(fp, s.silencer.mutes(labels, now));
                s.marker.status(fp)
            })
            .collect()
    }
}

/// `aggrGroup.insert`: an alert older than `group_wait` makes a group that has not flushed
/// yet flush at once.
fn insert(ag: &AggrGroup, alert: Alert, now_ms: i64) {
    let mut st = ag.state.lock();
    let old_enough = alert.starts_at + (ag.opts.group_wait.as_millis() as i64) < now_ms;
    st.alerts.insert(alert.fingerprint(), alert);
    if !st.has_flushed && old_enough {
        ag.flush_now.notify_one();
    }
}

/// `aggrGroup.run`: flush after `group_wait`, then every `group_interval`.
async fn run_group(
    ag: Arc<AggrGroup>,
    shared: Arc<Shared>,
    stages: Arc<Stages>,
    min_timeout: Duration,
) {
    let mut next = Instant::now() + ag.opts.group_wait;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {
                let tick = Instant::now();
                next = tick + ag.opts.group_interval;
                ag.state.lock().has_flushed = true;
                let deadline = tick + ag.opts.group_interval.max(min_timeout);
                tokio::select! {
                    _ = flush(&ag, &shared, &stages, deadline) => {}
                    _ = ag.cancel.cancelled() => return,
                }
            }
            _ = ag.flush_now.notified() => {
                if !ag.state.lock().has_flushed {
                    next = Instant::now();
                }
            }
            _ = ag.cancel.cancelled() => return,
        }
    }
}

/// `aggrGroup.flush`: the group's alerts (firing ones without an end time), sorted, through
/// the pipeline; on success the resolved alerts that did not change meanwhile are dropped.
async fn flush(ag: &Arc<AggrGroup>, shared: &Arc<Shared>, stages: &Arc<Stages>, deadline: Instant) {
    let now = shared.clock.now_ms();
    let mut alerts: Vec<Alert> = {
        let st = ag.state.lock();
        st.alerts
            .values()
            .map(|a| {
                let mut a = a.clone();
                if !a.resolved_at(now) {
                    a.ends_at = None;
                }
                a
            })
            .collect()
    };
    if alerts.is_empty() {
        return;
    }
    alerts.sort_by(alert_cmp);
    let ctx = Arc::new(FlushCtx {
        group_key: ag.group_key.clone(),
        group_labels: ag.labels.clone(),
        receiver: ag.opts.receiver.clone(),
        repeat_interval: ag.opts.repeat_interval,
        mute_time_intervals: ag.opts.mute_time_intervals.clone(),
        active_time_intervals: ag.opts.active_time_intervals.clone(),
        deadline,
        now_ms: now,
    });
    let ok = pipeline::exec(shared.clone(), stages.clone(), ctx, alerts.clone()).await;
    if ok {
        let mut st = ag.state.lock();
        for a in alerts.iter().filter(|a| a.ends_at.is_some()) {
            let fp = a.fingerprint();
            if st
                .alerts
                .get(&fp)
                .is_some_and(|g| g.updated_at == a.updated_at)
            {
                st.alerts.remove(&fp);
            }
        }
    }
}
