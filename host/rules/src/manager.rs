//! The rule manager: one task per group, evaluating on the group's own schedule; reload that
//! keeps the state of unchanged rules; restoration of `for` state after a restart; and, beyond
//! Prometheus, catch-up: iterations a group missed (the daemon was down, or the group was
//! slower than its interval) are evaluated afterwards, within a bounded window, so recording
//! rules have no holes and `for` clocks stay right.
//!
//! Each group runs in its own task, and its evaluation runs on a blocking thread (PromQL is
//! synchronous), so a slow group never delays another. The HTTP API reads a status snapshot
//! each group publishes after every evaluation, never the group itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use sightline_model::Labels;
use sightline_storage_api::{Appendable, Queryable};
use sightline_telemetry::{names, CounterVec, GaugeVec, HistogramVec, Registry};
use tokio::sync::watch;

use crate::backfill::{
    backfill_group, BackfillRequest, BackfillWriter, RangeQueryFn, RuleBackfill,
};
use crate::error::{Error, Result};
use crate::file::RuleSpec;
use crate::file::{self, TemplateCheck};
use crate::group::{Deps, Group, Notifier};
use crate::rule::{duration_ms, Alert, EvalInfo, Expander, QueryFn};

/// What the manager is handed once.
pub struct ManagerOptions {
    /// Evaluates PromQL.
    pub query: QueryFn,
    /// Where rule results go.
    pub appendable: Arc<dyn Appendable>,
    /// Where `for` state is restored from.
    pub queryable: Arc<dyn Queryable>,
    /// Expands templates.
    pub expander: Arc<dyn Expander>,
    /// Where alerts go.
    pub notifier: Arc<dyn Notifier>,
    /// `--rules.alert.resend-delay`.
    pub resend_delay: Duration,
    /// `--rules.alert.for-outage-tolerance`.
    pub outage_tolerance: Duration,
    /// `--rules.alert.for-grace-period`.
    pub for_grace_period: Duration,
    /// `--rules.catch-up-window`: how far back missed iterations are evaluated (zero: never,
    /// as Prometheus).
    pub catch_up_window: Duration,
    /// Where the last evaluation time of each group is kept across restarts (for catch-up).
    pub state_file: Option<PathBuf>,
    /// Range queries, for backfilling recording rules (`None`: no backfill).
    pub range_query: Option<RangeQueryFn>,
    /// Where backfilled samples go (`None`: no backfill).
    pub backfill_writer: Option<Arc<dyn BackfillWriter>>,
    /// `--rules.backfill-new-rules`: how much history a recording rule added by a reload is
    /// backfilled over (zero: none).
    pub backfill_new_rules: Duration,
}

/// What a configuration (re)load hands the manager.
#[derive(Debug, Clone, Default)]
pub struct RulesConfig {
    /// Rule files, already expanded from `rule_files` globs.
    pub files: Vec<PathBuf>,
    /// Rule files given as text (`(name, YAML)`), such as the embedded default rules.
    pub inline: Vec<(String, String)>,
    /// `global.evaluation_interval`.
    pub evaluation_interval: Duration,
    /// `global.rule_query_offset`.
    pub query_offset: Duration,
    /// `global.external_labels`.
    pub external_labels: Labels,
    /// `--web.external-url`.
    pub external_url: String,
    /// The functions rule expressions may call beyond PromQL's built-ins (the daemon's
    /// query-function plugins at the time of loading); `None`: built-ins only. Expressions are
    /// checked against them when the files load, as Prometheus checks its own functions.
    pub functions: Option<Arc<sightline_promql::FunctionRegistry>>,
}

/// The status of a group, as the rules API shows it.
#[derive(Debug, Clone)]
pub struct GroupStatus {
    /// File.
    pub file: String,
    /// Name.
    pub name: String,
    /// Interval.
    pub interval: Duration,
    /// Limit.
    pub limit: usize,
    /// Rules with their last evaluation and alerts.
    pub rules: Vec<RuleStatus>,
    /// The last evaluation (Unix ms).
    pub last_evaluation: Option<i64>,
    /// How long it took.
    pub evaluation_time: Duration,
}

/// The status of a rule.
#[derive(Debug, Clone)]
pub struct RuleStatus {
    /// The rule as written.
    pub spec: RuleSpec,
    /// Its last evaluation.
    pub info: EvalInfo,
    /// Its alerts (alerting rules).
    pub alerts: Vec<Alert>,
}

impl GroupStatus {
    fn of(g: &Group) -> Self {
        GroupStatus {
            file: g.file.clone(),
            name: g.name.clone(),
            interval: g.interval,
            limit: g.limit,
            rules: g
                .rules
                .iter()
                .map(|r| RuleStatus {
                    spec: r.spec.clone(),
                    info: r.info.clone(),
                    alerts: r.alerts().into_iter().cloned().collect(),
                })
                .collect(),
            last_evaluation: g.last_evaluation,
            evaluation_time: g.evaluation_time,
        }
    }
}

struct Metrics {
    evaluations: Arc<CounterVec>,
    failures: Arc<CounterVec>,
    iterations: Arc<CounterVec>,
    missed: Arc<CounterVec>,
    caught_up: Arc<CounterVec>,
    interval: Arc<GaugeVec>,
    last_duration: Arc<GaugeVec>,
    last_evaluation: Arc<GaugeVec>,
    last_samples: Arc<GaugeVec>,
    rules: Arc<GaugeVec>,
    duration: Arc<HistogramVec>,
}

impl Metrics {
    fn new(r: &Registry) -> Self {
        let g = &["rule_group"];
        Metrics {
            evaluations: r.counter_vec(names::RULE_EVALUATIONS, "The total number of rule evaluations.", g),
            failures: r.counter_vec(names::RULE_EVALUATION_FAILURES, "The total number of rule evaluation failures.", g),
            iterations: r.counter_vec(names::RULE_GROUP_ITERATIONS, "The total number of scheduled rule group evaluations, whether executed or missed.", g),
            missed: r.counter_vec(names::RULE_GROUP_ITERATIONS_MISSED, "The total number of rule group evaluations missed due to slow rule group evaluation or downtime.", g),
            caught_up: r.counter_vec(names::RULE_GROUP_ITERATIONS_CAUGHT_UP, "The total number of missed rule group evaluations evaluated afterwards (--rules.catch-up-window).", g),
            interval: r.gauge_vec(names::RULE_GROUP_INTERVAL_SECONDS, "The interval of a rule group.", g),
            last_duration: r.gauge_vec(names::RULE_GROUP_LAST_DURATION_SECONDS, "The duration of the last rule group evaluation.", g),
            last_evaluation: r.gauge_vec(names::RULE_GROUP_LAST_EVALUATION_TIMESTAMP_SECONDS, "The timestamp of the last rule group evaluation in seconds.", g),
            last_samples: r.gauge_vec(names::RULE_GROUP_LAST_EVALUATION_SAMPLES, "The number of samples returned during the last rule group evaluation.", g),
            rules: r.gauge_vec(names::RULE_GROUP_RULES, "The number of rules.", g),
            duration: r.histogram_vec(
                names::RULE_GROUP_DURATION_SECONDS,
                "The duration of rule group evaluations.",
                g,
                &[0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0],
            ),
        }
    }

    fn forget(&self, key: &str) {
        for v in [
            &self.evaluations,
            &self.failures,
            &self.iterations,
            &self.missed,
            &self.caught_up,
        ] {
            v.remove(&[key]);
        }
        for v in [
            &self.interval,
            &self.last_duration,
            &self.last_evaluation,
            &self.last_samples,
            &self.rules,
        ] {
            v.remove(&[key]);
        }
    }
}

struct Settings {
    external_labels: Labels,
    external_url: String,
}

struct Running {
    group: Arc<Mutex<Group>>,
    status: Arc<RwLock<Arc<GroupStatus>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

struct Inner {
    opts: ManagerOptions,
    metrics: Metrics,
    settings: RwLock<Arc<Settings>>,
    groups: tokio::sync::Mutex<BTreeMap<String, Running>>,
    /// Status snapshots of the running groups, in file then name order.
    statuses: RwLock<Vec<Arc<RwLock<Arc<GroupStatus>>>>>,
    /// Last evaluation per group key, persisted for catch-up.
    last_evals: Mutex<BTreeMap<String, i64>>,
    /// Whether a configuration has been applied (the first one restores `for` state).
    started: std::sync::atomic::AtomicBool,
}

/// Runs rule groups. Cheap to clone.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

impl Manager {
    /// A manager with no groups; its metrics are registered in `registry`.
    pub fn new(opts: ManagerOptions, registry: &Registry) -> Self {
        let last_evals = opts
            .state_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Manager {
            inner: Arc::new(Inner {
                metrics: Metrics::new(registry),
                opts,
                settings: RwLock::new(Arc::new(Settings {
                    external_labels: Labels::empty(),
                    external_url: String::new(),
                })),
                groups: tokio::sync::Mutex::new(BTreeMap::new()),
                statuses: RwLock::new(Vec::new()),
                last_evals: Mutex::new(last_evals),
                started: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Loads `cfg`'s rule files and applies them (reading files is blocking: call it where a
    /// short block is acceptable, such as a reload): unchanged groups keep running untouched,
    /// changed groups restart with their rules' state carried over, removed groups stop and
    /// their series are marked stale. Nothing changes when a file is invalid.
    pub async fn apply(&self, cfg: &RulesConfig, templates: TemplateCheck<'_>) -> Result<()> {
        let functions = cfg.functions.as_deref();
        let mut files = file::load_all_with_functions(&cfg.files, templates, false, functions)?;
        for (name, text) in &cfg.inline {
            let f = file::parse_with_functions(name, text, templates, false, functions).map_err(
                |ps| {
                    Error::RuleFile(
                        ps.into_iter()
                            .map(|p| p.message)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    )
                },
            )?;
            files.push(f);
        }
        let mut new_groups: Vec<Group> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in &files {
            for spec in &f.groups {
                let g = Group::new(&f.path, spec, cfg.evaluation_interval, cfg.query_offset);
                if !seen.insert(g.key()) {
                    return Err(Error::RuleFile(format!(
                        "{}: group {:?} is defined twice",
                        f.path, spec.name
                    )));
                }
                new_groups.push(g);
            }
        }
        *self.inner.settings.write() = Arc::new(Settings {
            external_labels: cfg.external_labels.clone(),
            external_url: cfg.external_url.clone(),
        });
        let first = !self
            .inner
            .started
            .swap(true, std::sync::atomic::Ordering::SeqCst);
        let mut groups = self.inner.groups.lock().await;
        let mut old: BTreeMap<String, Running> = std::mem::take(&mut *groups);
        let known: std::collections::HashSet<(String, String)> = old
            .values()
            .flat_map(|r| {
                let g = r.group.lock();
                g.rules
                    .iter()
                    .map(|rule| (g.name.clone(), rule.name().to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut added: Vec<(String, String)> = Vec::new();
        for mut g in new_groups {
            let key = g.key();
            if !first {
                for r in &g.rules {
                    if r.kind() == crate::file::RuleKind::Recording
                        && !known.contains(&(g.name.clone(), r.name().to_string()))
                    {
                        added.push((g.name.clone(), r.name().to_string()));
                    }
                }
            }
            if let Some(running) = old.remove(&key) {
                let unchanged = running.group.lock().same_definition(&g);
                if unchanged {
                    groups.insert(key, running);
                    continue;
                }
                // Stop the old task (it finishes an evaluation in progress), then take over.
                let _ = running.stop.send(true);
                let _ = running.task.await;
                g.copy_state(&running.group.lock());
            } else if !first {
                // A group added by a reload has no earlier `for` state to restore.
                for r in &mut g.rules {
                    r.set_restored(true);
                }
            }
            let catch_up_from = if first {
                self.inner.last_evals.lock().get(&key).copied()
            } else {
                None
            };
            groups.insert(key, self.start(g, first, catch_up_from));
        }
        // Groups that are gone: stop them and mark their series stale.
        for (key, running) in old {
            let _ = running.stop.send(true);
            let _ = running.task.await;
            let g = running.group.lock().clone();
            self.mark_stale(&g).await;
            self.inner.metrics.forget(&key);
            self.inner.last_evals.lock().remove(&key);
        }
        let statuses = groups.values().map(|r| r.status.clone()).collect();
        *self.inner.statuses.write() = statuses;
        drop(groups);
        let window = duration_ms(self.inner.opts.backfill_new_rules);
        if window > 0 && !added.is_empty() {
            // Recording rules the reload added get their history, up to now (their first
            // live evaluation comes after).
            let now = sightline_model::now_ms();
            let req = BackfillRequest {
                groups: added.iter().map(|(g, _)| g.clone()).collect(),
                rules: added.iter().map(|(_, r)| r.clone()).collect(),
                start: now - window,
                end: now,
            };
            let this = self.clone();
            tokio::spawn(async move {
                match this.backfill(&req).await {
                    Ok(reports) => {
                        for r in reports {
                            match &r.error {
                                None => {
                                    tracing::info!(group = %r.group, rule = %r.rule, series = r.series, samples = r.samples, "backfilled a new recording rule")
                                }
                                Some(e) => {
                                    tracing::warn!(group = %r.group, rule = %r.rule, "backfilling a new recording rule failed: {e}")
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!("backfilling new recording rules failed: {e}"),
                }
            });
        }
        Ok(())
    }

    /// Backfills recording rules over `[req.start, req.end)` (each up to its first live
    /// evaluation), in group and rule order. Fails when the manager was built without a range
    /// query or writer.
    pub async fn backfill(&self, req: &BackfillRequest) -> Result<Vec<RuleBackfill>> {
        let (Some(rq), Some(writer)) = (
            self.inner.opts.range_query.clone(),
            self.inner.opts.backfill_writer.clone(),
        ) else {
            return Err(Error::Eval(
                "backfill is not available on this storage".to_string(),
            ));
        };
        if req.end <= req.start {
            return Err(Error::Eval("backfill: end must be after start".to_string()));
        }
        let groups: Vec<Group> = {
            let running = self.inner.groups.lock().await;
            running
                .values()
                .map(|r| r.group.lock().clone())
                .filter(|g| req.groups.is_empty() || req.groups.contains(&g.name))
                .collect()
        };
        let req = req.clone();
        tokio::task::spawn_blocking(move || {
            groups
                .iter()
                .flat_map(|g| backfill_group(g, &req, &rq, &*writer))
                .collect()
        })
        .await
        .map_err(|e| Error::Eval(format!("backfill task failed: {e}")))
    }

    /// Every group's status, in file then name order.
    pub fn groups(&self) -> Vec<Arc<GroupStatus>> {
        self.inner
            .statuses
            .read()
            .iter()
            .map(|s| s.read().clone())
            .collect()
    }

    /// The query function the groups evaluate with (the SLO API reads recorded SLO series
    /// through it).
    pub fn query_fn(&self) -> QueryFn {
        self.inner.opts.query.clone()
    }

    /// Stops every group (for shutdown) and persists the last evaluation times.
    pub async fn stop(&self) {
        let mut groups = self.inner.groups.lock().await;
        for (_, running) in std::mem::take(&mut *groups) {
            let _ = running.stop.send(true);
            let _ = running.task.await;
        }
        persist(&self.inner);
    }

    fn start(&self, g: Group, restore: bool, catch_up_from: Option<i64>) -> Running {
        let key = g.key();
        let m = &self.inner.metrics;
        m.interval.with(&[&key]).set(g.interval.as_secs_f64());
        m.rules.with(&[&key]).set(g.rules.len() as f64);
        let status = Arc::new(RwLock::new(Arc::new(GroupStatus::of(&g))));
        let group = Arc::new(Mutex::new(g));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_group(
            Arc::downgrade(&self.inner),
            group.clone(),
            status.clone(),
            stop_rx,
            restore,
            catch_up_from,
        ));
        Running {
            group,
            status,
            stop,
            task,
        }
    }

    async fn mark_stale(&self, g: &Group) {
        let series: Vec<Labels> = g
            .rules
            .iter()
            .flat_map(|r| r.previous_series.iter().cloned())
            .collect();
        if series.is_empty() {
            return;
        }
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let ts = sightline_model::now_ms();
            let mut app = inner.opts.appendable.appender();
            for s in &series {
                let _ = app.append(None, s, ts, sightline_model::stale_nan());
            }
            if let Err(e) = app.commit() {
                tracing::warn!("marking the series of removed rule groups stale failed: {e}");
            }
        })
        .await;
    }
}

/// How an evaluation runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A scheduled evaluation: alerts are sent.
    Scheduled,
    /// A missed iteration evaluated afterwards: results are written, nothing is sent (the
    /// next scheduled evaluation sends the current state).
    CatchUp,
}

async fn run_group(
    inner: std::sync::Weak<Inner>,
    group: Arc<Mutex<Group>>,
    status: Arc<RwLock<Arc<GroupStatus>>>,
    mut stop: watch::Receiver<bool>,
    restore: bool,
    catch_up_from: Option<i64>,
) {
    let (interval, key, first_ts) = {
        let g = group.lock();
        let interval = duration_ms(g.interval).max(1);
        (
            interval,
            g.key(),
            g.eval_timestamp(sightline_model::now_ms()) + interval,
        )
    };
    let Some(window) = inner.upgrade().map(|i| duration_ms(i.opts.catch_up_window)) else {
        return;
    };
    // Catch up on the iterations missed while the daemon was down.
    let mut caught_up_restore = false;
    if let Some(last) = catch_up_from.filter(|_| window > 0) {
        let mut ts = (last + interval).max(first_ts - window);
        // Keep the phase of the schedule.
        ts += (first_ts - ts).rem_euclid(interval);
        while ts < first_ts && !*stop.borrow() {
            if !evaluate(&inner, &group, &status, ts, Mode::CatchUp).await {
                return;
            }
            if let Some(i) = inner.upgrade() {
                i.metrics.caught_up.with(&[&key]).inc();
            }
            ts += interval;
            caught_up_restore = true;
        }
        if caught_up_restore && restore {
            // The gap was evaluated, so `for` clocks continue from where they were rather
            // than being shifted by the downtime.
            restore_for_state(&inner, &group, last + interval, true).await;
        }
    }
    let mut eval_ts = first_ts;
    if !sleep_until(eval_ts, &mut stop).await {
        return;
    }
    if !evaluate(&inner, &group, &status, eval_ts, Mode::Scheduled).await {
        return;
    }
    let mut restore_pending = restore && !caught_up_restore;
    loop {
        let next = eval_ts + interval;
        if !sleep_until(next, &mut stop).await {
            return;
        }
        let now = sightline_model::now_ms();
        let missed = ((now - eval_ts) / interval - 1).max(0);
        let Some(i) = inner.upgrade() else { return };
        if missed > 0 {
            i.metrics.missed.with(&[&key]).inc_by(missed as f64);
            i.metrics.iterations.with(&[&key]).inc_by(missed as f64);
        }
        drop(i);
        // Missed iterations (the group was slower than its interval) are evaluated
        // afterwards when they fall in the catch-up window.
        for k in 1..=missed {
            let ts = eval_ts + k * interval;
            if window > 0 && now - ts <= window {
                if !evaluate(&inner, &group, &status, ts, Mode::CatchUp).await {
                    return;
                }
                if let Some(i) = inner.upgrade() {
                    i.metrics.caught_up.with(&[&key]).inc();
                }
            }
        }
        eval_ts += (missed + 1) * interval;
        if !evaluate(&inner, &group, &status, eval_ts, Mode::Scheduled).await {
            return;
        }
        if restore_pending {
            // As Prometheus: restore after the second evaluation, when recording rules the
            // alerts depend on have caught up.
            restore_for_state(&inner, &group, sightline_model::now_ms(), false).await;
            restore_pending = false;
        }
    }
}

/// Sleeps until `ts` (Unix ms); false when told to stop.
async fn sleep_until(ts: i64, stop: &mut watch::Receiver<bool>) -> bool {
    let wait = (ts - sightline_model::now_ms()).max(0);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

/// Evaluates the group at `ts` on a blocking thread and publishes its status; false when the
/// manager is gone.
async fn evaluate(
    inner: &std::sync::Weak<Inner>,
    group: &Arc<Mutex<Group>>,
    status: &Arc<RwLock<Arc<GroupStatus>>>,
    ts: i64,
    mode: Mode,
) -> bool {
    let Some(i) = inner.upgrade() else {
        return false;
    };
    let group = group.clone();
    let status = status.clone();
    let done = tokio::task::spawn_blocking(move || {
        let settings = i.settings.read().clone();
        let mut g = group.lock();
        let key = g.key();
        let notifier: &dyn Notifier = match mode {
            Mode::Scheduled => &*i.opts.notifier,
            Mode::CatchUp => &crate::group::NoNotifier,
        };
        let deps = Deps {
            query: &i.opts.query,
            appendable: &*i.opts.appendable,
            expander: &*i.opts.expander,
            notifier,
            external_labels: &settings.external_labels,
            external_url: &settings.external_url,
            resend_delay: i.opts.resend_delay,
        };
        let samples = g.eval(ts, &deps);
        let m = &i.metrics;
        m.iterations.with(&[&key]).inc();
        m.evaluations.with(&[&key]).inc_by(g.rules.len() as f64);
        let failed = g
            .rules
            .iter()
            .filter(|r| r.info.last_error.is_some() && r.info.last_evaluation == Some(ts))
            .count();
        if failed > 0 {
            m.failures.with(&[&key]).inc_by(failed as f64);
        }
        let secs = g.evaluation_time.as_secs_f64();
        m.last_duration.with(&[&key]).set(secs);
        m.duration.with(&[&key]).observe(secs);
        m.last_evaluation.with(&[&key]).set(ts as f64 / 1000.0);
        m.last_samples.with(&[&key]).set(samples as f64);
        *status.write() = Arc::new(GroupStatus::of(&g));
        drop(g);
        i.last_evals.lock().insert(key, ts);
        persist(&i);
    })
    .await;
    if let Err(e) = done {
        tracing::error!("rule group evaluation panicked: {e}");
    }
    true
}

async fn restore_for_state(
    inner: &std::sync::Weak<Inner>,
    group: &Arc<Mutex<Group>>,
    ts: i64,
    no_shift: bool,
) {
    let Some(i) = inner.upgrade() else { return };
    let group = group.clone();
    let _ = tokio::task::spawn_blocking(move || {
        let mut g = group.lock();
        g.restore_for_state(
            ts,
            &*i.opts.queryable,
            i.opts.outage_tolerance,
            i.opts.for_grace_period,
            no_shift,
        );
    })
    .await;
}

/// Writes the last evaluation times (tmp file and rename; losing the last write only means
/// catching up a little less).
fn persist(inner: &Inner) {
    let Some(path) = &inner.opts.state_file else {
        return;
    };
    let bytes = match serde_json::to_vec(&*inner.last_evals.lock()) {
        Ok(b) => b,
        Err(_) => return,
    };
    let tmp = path.with_extension("tmp");
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), "could not persist rule evaluation times: {e}");
    }
}
