//! The notification pipeline of one flush (`notify.PipelineBuilder.New`): inhibition, the
//! route's active and mute time intervals, silences, then for each integration of the
//! receiver concurrently: dedup against the notification log, delivery with retries until the
//! group's deadline, and the log write. The seams the daemon implements ([`Integration`],
//! [`Silencer`], [`OutcomeSink`]) live here too.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::alert::{fingerprint_hex, Alert, Fingerprint};
use crate::clock::Clock;
use crate::data::TemplateData;
use crate::inhibit::InhibitRule;
use crate::marker::Marker;
use crate::matchers::LabelSet;
use crate::metrics::Metrics;
use crate::nflog::{NflogEntry, NflogReceiver, NotificationLog};
use crate::store::AlertStore;
use crate::timeinterval::TimeInterval;

/// A boxed, sendable future (what [`Integration::notify`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Silence lookup: the ids of the active silences muting `labels`, sorted.
pub trait Silencer: Send + Sync {
    /// Ids of the silences muting `labels` at `now_ms`.
    fn mutes(&self, labels: &LabelSet, now_ms: i64) -> Vec<String>;
}

/// A silencer with no silences.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSilences;

impl Silencer for NoSilences {
    fn mutes(&self, _: &LabelSet, _: i64) -> Vec<String> {
        Vec::new()
    }
}

/// One configured integration of a receiver (`notify.Integration`).
pub trait Integration: Send + Sync {
    /// The kind (`webhook`, `slack`, ...).
    fn name(&self) -> &str;
    /// The index in its `<kind>_configs` list.
    fn index(&self) -> usize;
    /// Whether resolved alerts are sent.
    fn send_resolved(&self) -> bool;
    /// Delivers one notification. The engine bounds the call with the group's deadline.
    fn notify(&self, n: Notification) -> BoxFuture<'static, Result<(), NotifyError>>;
}

/// What an integration is asked to deliver.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The receiver's name.
    pub receiver: String,
    /// The aggregation group's key.
    pub group_key: String,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// Template data of exactly the alerts below.
    pub data: TemplateData,
    /// The alerts (resolved ones only when the integration sends resolved).
    pub alerts: Vec<Alert>,
}

/// A failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyError {
    /// What went wrong.
    pub message: String,
    /// Whether trying again may help (network errors, 5xx, 429).
    pub retryable: bool,
    /// A `Retry-After` the receiver asked for; the next attempt waits at least that long.
    pub retry_after: Option<Duration>,
}

impl NotifyError {
    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> Self {
        NotifyError {
            message: message.into(),
            retryable: true,
            retry_after: None,
        }
    }

    /// An error retrying cannot fix.
    pub fn fatal(message: impl Into<String>) -> Self {
        NotifyError {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One alert of a [`NotificationOutcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeAlert {
    /// Fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    pub labels: LabelSet,
}

/// The result of one delivery series (first attempt through success or final failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationOutcome {
    /// When the series ended (Unix ms).
    pub at_ms: i64,
    /// The receiver's name.
    pub receiver: String,
    /// The integration kind.
    pub integration: String,
    /// The integration's index.
    pub index: usize,
    /// The aggregation group's key.
    pub group_key: String,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// The alerts sent.
    pub alerts: Vec<OutcomeAlert>,
    /// `Ok` or the final error, worded as Alertmanager logs it.
    pub result: Result<(), String>,
    /// Delivery attempts made.
    pub attempts: u32,
    /// From the first attempt to the end of the series.
    pub duration: Duration,
}

/// Where outcomes go (the notification history).
pub trait OutcomeSink: Send + Sync {
    /// Records one outcome.
    fn record(&self, o: &NotificationOutcome);
}

/// An outcome sink that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOutcomes;

impl OutcomeSink for NoOutcomes {
    fn record(&self, _: &NotificationOutcome) {}
}

/// Per-receiver choices beyond Alertmanager's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverOptions {
    /// Send the resolved notification of an alert that was notified as firing and then got
    /// silenced (alertmanager#226); Alertmanager drops it (false, the default).
    pub send_resolved_for_silenced: bool,
}

/// The receivers' integrations by receiver name.
pub type Integrations = HashMap<String, Vec<Arc<dyn Integration>>>;

/// What the pipeline needs from the engine, shared by every flush.
pub(crate) struct Shared {
    pub store: Arc<AlertStore>,
    pub marker: Arc<Marker>,
    pub silencer: Arc<dyn Silencer>,
    pub nflog: Arc<NotificationLog>,
    pub sink: Arc<dyn OutcomeSink>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
}

/// The configuration-dependent part of the pipeline, replaced on reload.
pub(crate) struct Stages {
    pub inhibit_rules: Vec<InhibitRule>,
    pub time_intervals: HashMap<String, Vec<TimeInterval>>,
    pub integrations: Integrations,
    pub receiver_options: HashMap<String, ReceiverOptions>,
    pub external_url: String,
}

/// One flush's context (Alertmanager's `notify.With*` context values).
pub(crate) struct FlushCtx {
    pub group_key: String,
    pub group_labels: LabelSet,
    pub receiver: String,
    pub repeat_interval: Duration,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    /// The group's deadline (`group_interval`, at least the minimum timeout).
    pub deadline: Instant,
    /// The flush's time (Unix ms).
    pub now_ms: i64,
}

/// `Inhibitor.Mutes`: the fingerprint of the firing alert that inhibits `labels`, if any,
/// and the marker updated either way. Among several inhibiting alerts the smallest
/// fingerprint is named (Alertmanager names an arbitrary one).
pub(crate) fn inhibit(
    rules: &[InhibitRule],
    firing: &[(Fingerprint, LabelSet)],
    labels: &LabelSet,
    marker: &Marker,
) -> Option<Fingerprint> {
    let fp = crate::alert::fingerprint(labels);
    let get = |ls: &LabelSet, k: &str| ls.get(k).cloned().unwrap_or_default();
    for r in rules {
        if !r.target_matchers.matches(labels) {
            continue;
        }
        let two_sided = r.source_matchers.matches(labels);
        let by = firing.iter().find(|(_, a)| {
            r.source_matchers.matches(a)
                && r.equal.iter().all(|n| get(a, n) == get(labels, n))
                && !(two_sided && r.target_matchers.matches(a))
        });
        if let Some((src, _)) = by {
            marker.set_inhibited(fp, vec![fingerprint_hex(*src)]);
            return Some(*src);
        }
    }
    marker.set_inhibited(fp, Vec::new());
    None
}

/// `inTimeIntervals`: whether `now_ms` is inside any of the named intervals. An unknown
/// name is an error, as in Alertmanager (the configuration check prevents it).
fn in_time_intervals(
    now_ms: i64,
    intervals: &HashMap<String, Vec<TimeInterval>>,
    names: &[String],
) -> Result<bool, String> {
    for name in names {
        let Some(list) = intervals.get(name) else {
            return Err(format!("time interval {name} doesn't exist in config"));
        };
        if list.iter().any(|ti| ti.contains(now_ms)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Runs the pipeline for one flush; true when every integration succeeded or had nothing to
/// do (Alertmanager's "notify succeeded", which lets the group forget resolved alerts).
pub(crate) async fn exec(
    shared: Arc<Shared>,
    stages: Arc<Stages>,
    ctx: Arc<FlushCtx>,
    mut alerts: Vec<Alert>,
) -> bool {
    let now = ctx.now_ms;
    // Inhibition.
    if !stages.inhibit_rules.is_empty() {
        let firing = shared.store.firing(now);
        alerts.retain(|a| {
            inhibit(&stages.inhibit_rules, &firing, &a.labels, &shared.marker).is_none()
        });
    } else {
        for a in &alerts {
            shared.marker.set_inhibited(a.fingerprint(), Vec::new());
        }
    }
    if alerts.is_empty() {
        return true;
    }
    // Active, then mute time intervals.
    if !ctx.active_time_intervals.is_empty() {
        match in_time_intervals(now, &stages.time_intervals, &ctx.active_time_intervals) {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(group = %ctx.group_key, "notifications not sent, route is not within active time");
                return true;
            }
            Err(e) => {
                tracing::error!(group = %ctx.group_key, error = %e, "notify for alerts failed");
                return false;
            }
        }
    }
    if !ctx.mute_time_intervals.is_empty() {
        match in_time_intervals(now, &stages.time_intervals, &ctx.mute_time_intervals) {
            Ok(false) => {}
            Ok(true) => {
                tracing::debug!(group = %ctx.group_key, "notifications not sent, route is within mute time");
                return true;
            }
            Err(e) => {
                tracing::error!(group = %ctx.group_key, error = %e, "notify for alerts failed");
                return false;
            }
        }
    }
    // Silences.
    let opts = stages
        .receiver_options
        .get(&ctx.receiver)
        .cloned()
        .unwrap_or_default();
    let mut silenced_resolved = HashSet::new();
    alerts.retain(|a| {
        let ids = shared.silencer.mutes(&a.labels, now);
        let muted = !ids.is_empty();
        let fp = a.fingerprint();
        shared.marker.set_silenced(fp, ids);
        if muted && opts.send_resolved_for_silenced && a.resolved_at(now) {
            silenced_resolved.insert(fp);
            return true;
        }
        !muted
    });
    if alerts.is_empty() {
        return true;
    }
    // A receiver without integrations (or absent from the map) is an empty fan-out, which
    // succeeds, as in Alertmanager (the configuration check guarantees the name exists).
    let integrations = stages
        .integrations
        .get(&ctx.receiver)
        .cloned()
        .unwrap_or_default();
    let alerts = Arc::new(alerts);
    let silenced_resolved = Arc::new(silenced_resolved);
    // Fan out: each integration on its own, so one that hangs or fails delays no other.
    let runs = integrations.into_iter().map(|integ| {
        let (shared, stages, ctx) = (shared.clone(), stages.clone(), ctx.clone());
        let (alerts, sr) = (alerts.clone(), silenced_resolved.clone());
        tokio::spawn(
            async move { integration_stage(&shared, &stages, &ctx, integ, &alerts, &sr).await },
        )
    });
    let mut ok = true;
    for r in futures::future::join_all(runs).await {
        ok &= r.unwrap_or(false);
    }
    ok
}

/// `hashAlert`: xxhash64 of the sorted label names and values, each followed by 255.
pub(crate) fn hash_alert(a: &Alert) -> u64 {
    let mut b = Vec::with_capacity(64);
    for (k, v) in &a.labels {
        b.extend_from_slice(k.as_bytes());
        b.push(255);
        b.extend_from_slice(v.as_bytes());
        b.push(255);
    }
    xxhash_rust::xxh64::xxh64(&b, 0)
}

/// `DedupStage.needsUpdate`.
pub(crate) fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: bool,
    repeat: Duration,
    now_ms: i64,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !entry.is_firing_subset(firing) {
        return true;
    }
    if firing.is_empty() {
        return !entry.firing_alerts.is_empty();
    }
    if send_resolved && !entry.is_resolved_subset(resolved) {
        return true;
    }
    entry.timestamp_ms < now_ms - repeat.as_millis() as i64
}

/// The integration's wait, dedup, retry and set-notifies stages.
async fn integration_stage(
    shared: &Shared,
    stages: &Stages,
    ctx: &FlushCtx,
    integ: Arc<dyn Integration>,
    alerts: &[Alert],
    silenced_resolved: &HashSet<Fingerprint>,
) -> bool {
    let now = ctx.now_ms;
    let recv = NflogReceiver {
        group_name: ctx.receiver.clone(),
        integration: integ.name().to_string(),
        idx: integ.index() as u32,
    };
    let entry = shared.nflog.query(&ctx.group_key, &recv);
    // A silenced alert's resolution goes only where its firing went.
    let alerts: Vec<Alert> = alerts
        .iter()
        .filter(|a| {
            !silenced_resolved.contains(&a.fingerprint())
                || entry
                    .as_ref()
                    .is_some_and(|e| e.firing_alerts.contains(&hash_alert(a)))
        })
        .cloned()
        .collect();
    let (mut firing, mut resolved) = (Vec::new(), Vec::new());
    for a in &alerts {
        if a.resolved_at(now) {
            resolved.push(hash_alert(a));
        } else {
            firing.push(hash_alert(a));
        }
    }
    let (fs, rs): (HashSet<u64>, HashSet<u64>) = (
        firing.iter().copied().collect(),
        resolved.iter().copied().collect(),
    );
    if !needs_update(
        entry.as_ref(),
        &fs,
        &rs,
        integ.send_resolved(),
        ctx.repeat_interval,
        shared.clock.now_ms(),
    ) {
        return true;
    }
    let name = integ.name().to_string();
    shared.metrics.notifications.with(&[&name]).inc();
    let sent: Vec<Alert> = if integ.send_resolved() {
        alerts
    } else {
        alerts.into_iter().filter(|a| !a.resolved_at(now)).collect()
    };
    // An integration that does not send resolved alerts has nothing to send when only
    // resolved alerts are left; the log still records that they resolved.
    if !firing.is_empty() || integ.send_resolved() {
        let result = retry(shared, stages, ctx, &integ, &sent).await;
        if let Err(reason) = result {
            shared
                .metrics
                .notifications_failed
                .with(&[&name, reason])
                .inc();
            return false;
        }
    }
    let expiry = ctx.repeat_interval * 2;
    shared.nflog.record(
        &recv,
        &ctx.group_key,
        firing,
        resolved,
        expiry,
        shared.clock.now_ms(),
    );
    // Durable before the flush counts as done: a restart must not page again. Concurrent
    // flushes share one snapshot (group commit), written off the async threads.
    match shared.nflog.persist().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "notification log snapshot failed");
            false
        }
    }
}

/// Exponential backoff as `backoff.NewExponentialBackOff` (0.5s initial, ×1.5, ±50%, 60s max).
struct Backoff {
    current: Duration,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let cur = self.current.as_secs_f64();
        let d = cur * (0.5 + fastrand::f64());
        self.current = Duration::from_secs_f64((cur * 1.5).min(60.0));
        Duration::from_secs_f64(d)
    }
}

/// `RetryStage`: tries until success, an unrecoverable error or the group's deadline;
/// records the outcome. The error is the `reason` label of the failure counter.
async fn retry(
    shared: &Shared,
    stages: &Stages,
    ctx: &FlushCtx,
    integ: &Arc<dyn Integration>,
    sent: &[Alert],
) -> Result<(), &'static str> {
    let name = integ.name().to_string();
    let label = format!("{}[{}]", name, integ.index());
    let data = TemplateData::new(
        &ctx.receiver,
        &ctx.group_key,
        &ctx.group_labels,
        sent,
        &stages.external_url,
        ctx.now_ms,
    );
    let n = Notification {
        receiver: ctx.receiver.clone(),
        group_key: ctx.group_key.clone(),
        group_labels: ctx.group_labels.clone(),
        data,
        alerts: sent.to_vec(),
    };
    let started = Instant::now();
    let mut backoff = Backoff {
        current: Duration::from_millis(500),
    };
    let mut attempts = 0u32;
    let mut last: Option<String> = None;
    let outcome = loop {
        if Instant::now() >= ctx.deadline {
            let err = last
                .take()
                .unwrap_or_else(|| "context deadline exceeded".into());
            break Err((
                format!(
                    "{}/{label}: notify retry canceled after {} attempts: {err}",
                    ctx.receiver,
                    attempts + 1
                ),
                "contextDeadlineExceeded",
            ));
        }
        attempts += 1;
        let t = Instant::now();
        let r = tokio::time::timeout_at(ctx.deadline, integ.notify(n.clone())).await;
        shared
            .metrics
            .notification_latency
            .with(&[&name])
            .observe(t.elapsed().as_secs_f64());
        shared.metrics.notification_requests.with(&[&name]).inc();
        match r {
            Ok(Ok(())) => {
                if attempts > 1 {
                    tracing::info!(receiver = %ctx.receiver, integration = %label, attempts, "notify success");
                }
                break Ok(());
            }
            Ok(Err(e)) => {
                let kind = if e.retryable {
                    "retryable"
                } else {
                    "permanent"
                };
                shared
                    .metrics
                    .notification_requests_failed
                    .with(&[&name, kind])
                    .inc();
                if !e.retryable {
                    break Err((
                        format!(
                            "{}/{label}: notify retry canceled due to unrecoverable error after {attempts} attempts: {}",
                            ctx.receiver, e.message
                        ),
                        "other",
                    ));
                }
                if last.as_deref() != Some(e.message.as_str()) {
                    tracing::warn!(receiver = %ctx.receiver, integration = %label, attempts, error = %e.message, "notify attempt failed, will retry later");
                }
                last = Some(e.message.clone());
                let wait = backoff.next().max(e.retry_after.unwrap_or_default());
                tokio::time::sleep_until((Instant::now() + wait).min(ctx.deadline)).await;
            }
            Err(_) => {
                // An attempt cut off by the deadline would have been retried.
                shared
                    .metrics
                    .notification_requests_failed
                    .with(&[&name, "retryable"])
                    .inc();
                // The call itself ran into the deadline; Alertmanager counts the loop turn
                // that then finds the deadline as an attempt.
                break Err((
                    format!(
                        "{}/{label}: notify retry canceled after {} attempts: context deadline exceeded",
                        ctx.receiver,
                        attempts + 1
                    ),
                    "contextDeadlineExceeded",
                ));
            }
        }
    };
    let o = NotificationOutcome {
        at_ms: shared.clock.now_ms(),
        receiver: ctx.receiver.clone(),
        integration: name,
        index: integ.index(),
        group_key: ctx.group_key.clone(),
        group_labels: ctx.group_labels.clone(),
        alerts: sent
            .iter()
            .map(|a| OutcomeAlert {
                fingerprint: fingerprint_hex(a.fingerprint()),
                status: a.status_at(ctx.now_ms).to_string(),
                labels: a.labels.clone(),
            })
            .collect(),
        result: outcome.as_ref().map(|_| ()).map_err(|(m, _)| m.clone()),
        attempts,
        duration: started.elapsed(),
    };
    if let Err((m, _)) = &outcome {
        tracing::error!(error = %m, "notify for alerts failed");
    }
    shared.sink.record(&o);
    outcome.map_err(|(_, reason)| reason)
}
