//! Recording and alerting rules: evaluation at one timestamp and the alert state machine,
//! exactly as Prometheus' `rules/recording.go` and `rules/alerting.go` (2.42, which has
//! `keep_firing_for`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sightline_model::{Labels, LabelsBuilder, ALERT_NAME, METRIC_NAME};

use crate::file::{RuleKind, RuleSpec};

/// The name of the series of active alerts.
pub const ALERT_METRIC_NAME: &str = "ALERTS";
/// The name of the series that keeps each alert's `for` state (its `activeAt`, in seconds).
pub const ALERT_FOR_STATE_METRIC_NAME: &str = "ALERTS_FOR_STATE";
/// The label of `ALERTS` that holds the state.
pub const ALERT_STATE_LABEL: &str = "alertstate";
/// How long a resolved alert is kept (and sent again) before it is forgotten.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// One sample of a query result or a rule's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels, with `__name__` when it has one.
    pub labels: Labels,
    /// Value (0 for a native-histogram sample).
    pub v: f64,
    /// The native histogram, when the sample is one (recording rules store it as such).
    pub h: Option<std::sync::Arc<sightline_model::FloatHistogram>>,
}

/// Evaluates PromQL at one instant: the seam through which rules read data. A scalar result
/// comes back as one sample without labels; anything else than a vector or scalar is an
/// error (`rule result is not a vector or scalar`).
pub type QueryFn = Arc<dyn Fn(&str, i64) -> Result<Vec<Sample>, String> + Send + Sync>;

/// Expands label and annotation templates of alerting rules: the seam to the template crate.
pub trait Expander: Send + Sync {
    /// Expands `text` for an alert of rule `rule` with the alert's `labels` and `value`. A
    /// template error becomes Prometheus' `<error expanding template: ...>` text (the caller
    /// logs it); it never stops the evaluation.
    fn expand(&self, rule: &str, text: &str, ctx: &ExpandContext<'_>) -> String;
}

/// What a template sees.
pub struct ExpandContext<'a> {
    /// The alert's labels (the result's labels without `__name__`, before the rule's labels).
    pub labels: &'a Labels,
    /// `$externalLabels`.
    pub external_labels: &'a Labels,
    /// `$externalURL`.
    pub external_url: &'a str,
    /// `$value`.
    pub value: f64,
    /// Evaluation time, in milliseconds.
    pub t_ms: i64,
    /// For `query` in templates.
    pub query: &'a QueryFn,
}

/// An expander that leaves text as written (for callers without templates, such as
/// recording-only tools).
pub struct NoTemplates;

impl Expander for NoTemplates {
    fn expand(&self, _: &str, text: &str, _: &ExpandContext<'_>) -> String {
        text.to_string()
    }
}

/// The state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    /// Not active (resolved, kept for [`RESOLVED_RETENTION_MS`] to be sent as resolved).
    Inactive,
    /// Active for less than the rule's `for`.
    Pending,
    /// Active for at least `for`.
    Firing,
}

impl AlertState {
    /// `inactive`, `pending`, `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule. Times are Unix milliseconds; `None` is Go's zero time.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Labels: the result's labels without `__name__`, the rule's labels, `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: Labels,
    /// State.
    pub state: AlertState,
    /// The value of the last evaluation that produced it.
    pub value: f64,
    /// When it became active (pending).
    pub active_at: i64,
    /// When it started firing.
    pub fired_at: Option<i64>,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// When it was last sent.
    pub last_sent_at: Option<i64>,
    /// `endsAt` of a firing alert as sent: evaluation time plus 4× max(interval, resend delay).
    pub valid_until: i64,
    /// Since when it has been kept firing by `keep_firing_for`.
    pub keep_firing_since: Option<i64>,
}

impl Alert {
    /// Whether it must be sent at `ts`: not pending, and resolved since the last send or not
    /// sent for `resend_delay`.
    pub fn needs_sending(&self, ts: i64, resend_delay: Duration) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if self.resolved_at.unwrap_or(i64::MIN) > self.last_sent_at.unwrap_or(i64::MIN) {
            return true;
        }
        self.last_sent_at.unwrap_or(i64::MIN / 2) + duration_ms(resend_delay) < ts
    }
}

/// What a rule's last evaluation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    Unknown,
    /// The last evaluation succeeded.
    Ok,
    /// The last evaluation failed.
    Err,
}

impl Health {
    /// `unknown`, `ok`, `err`, as the rules API names them.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// The outcome of a rule's last evaluation, for `/api/v1/rules`.
#[derive(Debug, Clone)]
pub struct EvalInfo {
    /// Health.
    pub health: Health,
    /// The error of the last evaluation.
    pub last_error: Option<String>,
    /// When it was last evaluated (Unix ms), if ever.
    pub last_evaluation: Option<i64>,
    /// When it was first evaluated (Unix ms): its series start there, and a backfill of its
    /// history stops before it.
    pub first_evaluation: Option<i64>,
    /// How long it took.
    pub evaluation_time: Duration,
}

impl Default for EvalInfo {
    fn default() -> Self {
        EvalInfo {
            health: Health::Unknown,
            last_error: None,
            last_evaluation: None,
            first_evaluation: None,
            evaluation_time: Duration::ZERO,
        }
    }
}

/// A rule with its state.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// The rule's labels with the group's labels under them, sorted.
    pub labels: Labels,
    /// Annotations, sorted.
    pub annotations: Labels,
    /// Alerts by their label set's hash (alerting rules only).
    pub(crate) active: HashMap<u64, Alert>,
    /// Whether the `for` state has been restored (alerting rules write `ALERTS` only then).
    pub(crate) restored: bool,
    /// The series the last evaluation produced, to write stale markers for those that go.
    pub(crate) previous_series: HashSet<Labels>,
    /// The last evaluation.
    pub info: EvalInfo,
}

impl Rule {
    /// A rule in its initial state. `group_labels` go under the rule's own labels.
    pub fn new(spec: RuleSpec, group_labels: &BTreeMap<String, String>) -> Self {
        let mut b = LabelsBuilder::new();
        for (k, v) in group_labels.iter().chain(spec.labels.iter()) {
            b.set(k.clone(), v.clone());
        }
        let labels = b.build();
        let annotations = Labels::from_pairs(spec.annotations.clone());
        Rule {
            spec,
            labels,
            annotations,
            active: HashMap::new(),
            restored: false,
            previous_series: HashSet::new(),
            info: EvalInfo::default(),
        }
    }

    /// The rule's name (`record` or `alert`).
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Recording or alerting.
    pub fn kind(&self) -> RuleKind {
        self.spec.kind
    }

    /// The active alerts (pending, firing, and resolved ones still retained), sorted by labels.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// The state of an alerting rule: the most severe state of its alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }

    /// Marks the `for` state as restored (or not needing restoration).
    pub fn set_restored(&mut self, restored: bool) {
        self.restored = restored;
    }

    /// Copies the state of `old` (same rule in the previous configuration): its alerts, its
    /// series and its last evaluation, as Prometheus' `Group.CopyState`.
    pub fn copy_state(&mut self, old: &Rule) {
        self.previous_series = old.previous_series.clone();
        self.info = old.info.clone();
        if self.kind() == RuleKind::Alerting && old.kind() == RuleKind::Alerting {
            self.active = old.active.clone();
            self.restored = old.restored;
        }
    }

    /// Evaluates the rule at `ts` and returns the samples to append (for an alerting rule,
    /// its `ALERTS` and `ALERTS_FOR_STATE` samples).
    pub(crate) fn eval(
        &mut self,
        ctx: &EvalContext<'_>,
        ts: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, String> {
        match self.spec.kind {
            RuleKind::Recording => self.eval_recording(ctx, ts, limit),
            RuleKind::Alerting => self.eval_alerting(ctx, ts, limit),
        }
    }

    fn eval_recording(
        &mut self,
        ctx: &EvalContext<'_>,
        ts: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, String> {
        let res = (ctx.query)(&self.spec.expr, ts - ctx.query_offset_ms)?;
        let mut out = Vec::with_capacity(res.len());
        let mut seen = HashSet::with_capacity(res.len());
        for s in res {
            let mut b = s.labels.builder();
            b.set(METRIC_NAME, self.spec.name.clone());
            for l in self.labels.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            let labels = b.build();
            if !seen.insert(labels.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .to_string(),
                );
            }
            out.push(Sample {
                labels,
                v: s.v,
                h: s.h,
            });
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok(out)
    }

    fn eval_alerting(
        &mut self,
        ctx: &EvalContext<'_>,
        ts: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, String> {
        let res = (ctx.query)(&self.spec.expr, ts - ctx.query_offset_ms)?;
        let mut fresh: HashMap<u64, Alert> = HashMap::with_capacity(res.len());
        for s in res {
            let base = s.labels.without_metric_name();
            let ectx = ExpandContext {
                labels: &base,
                external_labels: ctx.external_labels,
                external_url: ctx.external_url,
                value: s.v,
                t_ms: ts,
                query: ctx.query,
            };
            let mut b = base.builder();
            for l in self.labels.iter() {
                b.set(
                    l.name.clone(),
                    ctx.expander.expand(&self.spec.name, &l.value, &ectx),
                );
            }
            b.set(ALERT_NAME, self.spec.name.clone());
            let mut ab = LabelsBuilder::new();
            for a in self.annotations.iter() {
                ab.set(
                    a.name.clone(),
                    ctx.expander.expand(&self.spec.name, &a.value, &ectx),
                );
            }
            let labels = b.build();
            let h = labels.stable_hash();
            if fresh.contains_key(&h) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .to_string(),
                );
            }
            fresh.insert(
                h,
                Alert {
                    labels,
                    annotations: ab.build(),
                    state: AlertState::Pending,
                    value: s.v,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: 0,
                    keep_firing_since: None,
                },
            );
        }
        let result_fps: HashSet<u64> = fresh.keys().copied().collect();
        for (h, a) in fresh {
            match self.active.get_mut(&h) {
                Some(existing) if existing.state != AlertState::Inactive => {
                    existing.value = a.value;
                    existing.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(h, a);
                }
            }
        }
        let hold = duration_ms(self.spec.for_);
        let keep_firing_for = duration_ms(self.spec.keep_firing_for);
        let mut out = Vec::new();
        let mut num_active_pending = 0usize;
        let mut remove = Vec::new();
        for (fp, a) in self.active.iter_mut() {
            if !result_fps.contains(fp) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_firing_for > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    if ts - since < keep_firing_for {
                        keep_firing = true;
                    }
                }
                // A pending alert goes at once; a resolved one after the retention.
                if a.state == AlertState::Pending
                    || a.resolved_at
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(*fp);
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active_pending += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= hold {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if self.restored {
                out.push(alert_sample(&a.labels, a.state, 1.0));
                out.push(for_state_sample(&a.labels, (a.active_at / 1000) as f64));
            }
        }
        for fp in remove {
            self.active.remove(&fp);
        }
        if limit > 0 && num_active_pending > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {num_active_pending} alerts"
            ));
        }
        Ok(out)
    }

    /// Marks the alerts to send at `ts` as sent and returns them as the notifier sends
    /// them, as Prometheus' `AlertingRule.sendAlerts`.
    pub(crate) fn alerts_to_send(
        &mut self,
        ts: i64,
        resend_delay: Duration,
        interval: Duration,
        generator_url: &str,
    ) -> Vec<NotifyAlert> {
        let mut out = Vec::new();
        let delta = duration_ms(resend_delay.max(interval));
        let mut alerts: Vec<&mut Alert> = self.active.values_mut().collect();
        alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
        for a in alerts {
            if !a.needs_sending(ts, resend_delay) {
                continue;
            }
            a.last_sent_at = Some(ts);
            // Allow for two evaluation or Alertmanager send failures.
            a.valid_until = ts + 4 * delta;
            out.push(NotifyAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at.unwrap_or(a.active_at),
                ends_at: Some(a.resolved_at.unwrap_or(a.valid_until)),
                generator_url: generator_url.to_string(),
            });
        }
        out
    }
}

/// An alert as sent to an Alertmanager (Prometheus' `notifier.Alert`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyAlert {
    /// Labels (external labels are added by the notifier).
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// `startsAt`, Unix ms.
    pub starts_at: i64,
    /// `endsAt`, Unix ms.
    pub ends_at: Option<i64>,
    /// `generatorURL`.
    pub generator_url: String,
}

/// What a rule's evaluation needs besides its own state.
pub(crate) struct EvalContext<'a> {
    pub(crate) query: &'a QueryFn,
    pub(crate) expander: &'a dyn Expander,
    pub(crate) external_labels: &'a Labels,
    pub(crate) external_url: &'a str,
    pub(crate) query_offset_ms: i64,
}

fn alert_sample(labels: &Labels, state: AlertState, v: f64) -> Sample {
    let mut b = labels.builder();
    b.set(METRIC_NAME, ALERT_METRIC_NAME);
    b.set(ALERT_STATE_LABEL, state.as_str());
    Sample {
        labels: b.build(),
        v,
        h: None,
    }
}

fn for_state_sample(labels: &Labels, v: f64) -> Sample {
    let mut b = labels.builder();
    b.set(METRIC_NAME, ALERT_FOR_STATE_METRIC_NAME);
    Sample {
        labels: b.build(),
        v,
        h: None,
    }
}

/// Milliseconds of a duration, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
