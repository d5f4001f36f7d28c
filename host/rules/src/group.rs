//! A rule group: its rules evaluated in order at one timestamp, their results appended with
//! staleness, and their alerts handed to the notifier, as Prometheus' `Group.Eval`.
//!
//! Evaluation is synchronous (PromQL is): the manager runs it on a blocking thread.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sightline_model::{stale_nan, Labels};
use sightline_storage_api::{Appendable, Queryable};

use crate::file::{GroupSpec, RuleKind};
use crate::rule::{
    duration_ms, EvalContext, Expander, Health, NotifyAlert, QueryFn, Rule,
    ALERT_FOR_STATE_METRIC_NAME,
};

/// Receives the alerts rules send (the built-in alert manager, external Alertmanagers).
pub trait Notifier: Send + Sync {
    /// Queues `alerts` of the alerting rule whose expression is `expr`.
    fn send(&self, expr: &str, alerts: Vec<NotifyAlert>);
}

/// A notifier that drops everything (for tools that only evaluate).
pub struct NoNotifier;

impl Notifier for NoNotifier {
    fn send(&self, _: &str, _: Vec<NotifyAlert>) {}
}

/// Everything a group's evaluation is handed: the seams to storage, PromQL, templates and
/// the notifier, and the settings that are the same for every group.
pub struct Deps<'a> {
    /// Evaluates PromQL.
    pub query: &'a QueryFn,
    /// Where results go.
    pub appendable: &'a dyn Appendable,
    /// Expands templates.
    pub expander: &'a dyn Expander,
    /// Where alerts go.
    pub notifier: &'a dyn Notifier,
    /// `global.external_labels`.
    pub external_labels: &'a Labels,
    /// `--web.external-url`.
    pub external_url: &'a str,
    /// `--rules.alert.resend-delay`.
    pub resend_delay: Duration,
}

/// One group with the state of its rules.
#[derive(Debug, Clone)]
pub struct Group {
    /// The file it came from.
    pub file: String,
    /// Its name.
    pub name: String,
    /// Evaluation interval.
    pub interval: Duration,
    /// How far back each evaluation queries (`query_offset`).
    pub query_offset: Duration,
    /// Most series or alerts a rule may produce (0 = no limit).
    pub limit: usize,
    /// The rules in order.
    pub rules: Vec<Rule>,
    /// Series of rules that no longer exist, to mark stale at the next evaluation.
    pub(crate) stale_series: Vec<Labels>,
    /// When the group was last evaluated (Unix ms, the evaluation timestamp).
    pub last_evaluation: Option<i64>,
    /// How long the last evaluation took.
    pub evaluation_time: Duration,
    /// Samples the last evaluation produced.
    pub last_samples: usize,
}

impl Group {
    /// A group from its spec; `default_interval` and `default_offset` apply when the group
    /// sets none.
    pub fn new(
        file: &str,
        spec: &GroupSpec,
        default_interval: Duration,
        default_offset: Duration,
    ) -> Self {
        Group {
            file: file.to_string(),
            name: spec.name.clone(),
            interval: spec.interval.unwrap_or(default_interval),
            query_offset: spec.query_offset.unwrap_or(default_offset),
            limit: spec.limit,
            rules: spec
                .rules
                .iter()
                .map(|r| Rule::new(r.clone(), &spec.labels))
                .collect(),
            stale_series: Vec::new(),
            last_evaluation: None,
            evaluation_time: Duration::ZERO,
            last_samples: 0,
        }
    }

    /// The key that identifies the group across reloads: `file;name`.
    pub fn key(&self) -> String {
        group_key(&self.file, &self.name)
    }

    /// Whether `other` has the same definition (name, file, interval, offset, limit, rules).
    pub fn same_definition(&self, other: &Group) -> bool {
        self.name == other.name
            && self.file == other.file
            && self.interval == other.interval
            && self.query_offset == other.query_offset
            && self.limit == other.limit
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.spec == b.spec && a.labels == b.labels)
    }

    /// Takes over the state of the same group in the previous configuration, as Prometheus'
    /// `Group.CopyState`: rules are matched by name and labels, in order; series of rules that
    /// are gone will be marked stale at the next evaluation.
    pub fn copy_state(&mut self, from: &Group) {
        self.evaluation_time = from.evaluation_time;
        self.last_evaluation = from.last_evaluation;
        let key = |r: &Rule| format!("{}{}", r.name(), r.labels);
        let mut by_key: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, r) in from.rules.iter().enumerate() {
            by_key.entry(key(r)).or_default().push(i);
        }
        for rule in &mut self.rules {
            let Some(indexes) = by_key.get_mut(&key(rule)) else {
                continue;
            };
            if indexes.is_empty() {
                continue;
            }
            let fi = indexes.remove(0);
            rule.copy_state(&from.rules[fi]);
        }
        self.stale_series = from.stale_series.clone();
        for indexes in by_key.values() {
            for &fi in indexes {
                self.stale_series
                    .extend(from.rules[fi].previous_series.iter().cloned());
            }
        }
    }

    /// The evaluation timestamp at or before `now_ms`: the group's slot in the interval is a
    /// stable offset derived from its key, so groups spread over the interval and keep their
    /// phase across restarts, as Prometheus' `EvalTimestamp`.
    pub fn eval_timestamp(&self, now_ms: i64) -> i64 {
        let interval = duration_ms(self.interval).max(1);
        let offset = (stable_hash(&self.key()) % interval as u64) as i64;
        let adj = now_ms - offset;
        adj - adj.rem_euclid(interval) + offset
    }

    /// Evaluates every rule at `ts` in order; each rule's results are committed before the
    /// next rule runs, so later rules see them. Returns the number of samples written.
    pub fn eval(&mut self, ts: i64, deps: &Deps<'_>) -> usize {
        let started = Instant::now();
        let ctx = EvalContext {
            query: deps.query,
            expander: deps.expander,
            external_labels: deps.external_labels,
            external_url: deps.external_url,
            query_offset_ms: duration_ms(self.query_offset),
        };
        let mut samples_total = 0;
        for (i, rule) in self.rules.iter_mut().enumerate() {
            let rule_started = Instant::now();
            let result = rule.eval(&ctx, ts, self.limit);
            let vector = match result {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(
                        group = %self.name,
                        rule = rule.name(),
                        index = i,
                        "evaluating rule failed: {e}"
                    );
                    rule.info.health = Health::Err;
                    rule.info.last_error = Some(e);
                    rule.info.last_evaluation = Some(ts);
                    rule.info.first_evaluation.get_or_insert(ts);
                    rule.info.evaluation_time = rule_started.elapsed();
                    continue;
                }
            };
            rule.info.health = Health::Ok;
            rule.info.last_error = None;
            samples_total += vector.len();
            if rule.kind() == RuleKind::Alerting {
                let generator_url = table_link(deps.external_url, &rule.spec.expr);
                let alerts =
                    rule.alerts_to_send(ts, deps.resend_delay, self.interval, &generator_url);
                if !alerts.is_empty() {
                    deps.notifier.send(&rule.spec.expr, alerts);
                }
            }
            let mut app = deps.appendable.appender();
            let mut returned = HashSet::with_capacity(vector.len());
            let mut append_error = None;
            for s in vector {
                let res = match &s.h {
                    Some(h) => app.append_float_histogram(None, &s.labels, ts, h),
                    None => app.append(None, &s.labels, ts, s.v),
                };
                match res {
                    Ok(_) => {
                        returned.insert(s.labels);
                    }
                    Err(e) => {
                        if !is_expected_append_error(&e) {
                            tracing::warn!(group = %self.name, rule = rule.name(), "rule evaluation result discarded: {e}");
                        }
                        append_error = Some(e.to_string());
                    }
                }
            }
            for gone in rule.previous_series.difference(&returned) {
                if let Err(e) = app.append(None, gone, ts, stale_nan()) {
                    if !is_expected_append_error(&e) {
                        tracing::warn!(group = %self.name, rule = rule.name(), "adding stale sample failed: {e}");
                    }
                }
            }
            match app.commit() {
                Ok(()) => rule.previous_series = returned,
                Err(e) => {
                    tracing::warn!(group = %self.name, rule = rule.name(), "rule sample appending failed: {e}");
                    append_error = Some(e.to_string());
                }
            }
            if let Some(e) = append_error {
                rule.info.health = Health::Err;
                rule.info.last_error = Some(e);
            }
            rule.info.last_evaluation = Some(ts);
            rule.info.first_evaluation.get_or_insert(ts);
            rule.info.evaluation_time = rule_started.elapsed();
        }
        if !self.stale_series.is_empty() {
            let mut app = deps.appendable.appender();
            for s in &self.stale_series {
                let _ = app.append(None, s, ts, stale_nan());
            }
            match app.commit() {
                Ok(()) => self.stale_series.clear(),
                Err(e) => {
                    tracing::warn!(group = %self.name, "stale sample appending for previous configuration failed: {e}")
                }
            }
        }
        self.last_evaluation = Some(ts);
        self.evaluation_time = started.elapsed();
        self.last_samples = samples_total;
        samples_total
    }

    /// Restores the `for` state of active alerts from their `ALERTS_FOR_STATE` series, as
    /// Prometheus' `RestoreForState`: an alert that was pending before the daemon went down
    /// continues its `for` clock, shifted by the downtime, and never fires earlier than
    /// `for_grace_period` after the restart. With `no_shift` (the downtime was evaluated by
    /// catch-up, so the data shows whether the alert held throughout) the clock continues from
    /// the original `activeAt` instead.
    pub fn restore_for_state(
        &mut self,
        ts: i64,
        queryable: &dyn Queryable,
        outage_tolerance: Duration,
        for_grace_period: Duration,
        no_shift: bool,
    ) {
        let mint = ts - duration_ms(outage_tolerance);
        let querier = match queryable.querier(mint, ts) {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(group = %self.name, "failed to get querier to restore 'for' state: {e}");
                return;
            }
        };
        let grace = duration_ms(for_grace_period);
        for rule in &mut self.rules {
            if rule.kind() != RuleKind::Alerting {
                continue;
            }
            let hold = duration_ms(rule.spec.for_);
            if hold < grace {
                rule.set_restored(true);
                continue;
            }
            for a in rule.active.values_mut() {
                let mut matchers = vec![sightline_model::Matcher::equal(
                    sightline_model::METRIC_NAME,
                    ALERT_FOR_STATE_METRIC_NAME,
                )];
                matchers.extend(a.labels.iter().map(|l| {
                    sightline_model::Matcher::equal(l.name.to_string(), l.value.to_string())
                }));
                let series = match querier.select(false, None, &matchers) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(
                            alertname = rule.spec.name.as_str(),
                            "failed to restore 'for' state: {e}"
                        );
                        continue;
                    }
                };
                // The series with exactly the alert's labels (a matcher set also matches
                // series with more labels).
                let Some(mut s) = series
                    .into_iter()
                    .find(|s| s.labels.len() == a.labels.len() + 1)
                else {
                    continue;
                };
                let mut last = None;
                while let Some(smp) = s.samples.next_sample() {
                    last = Some(smp);
                }
                let Some(last) = last else { continue };
                if sightline_model::is_stale_nan(last.v) {
                    continue;
                }
                let down_at = last.t / 1000 * 1000;
                let mut restored_active_at = (last.v as i64) * 1000;
                if no_shift {
                    a.active_at = restored_active_at.min(a.active_at);
                    continue;
                }
                let spent_pending = down_at - restored_active_at;
                let remaining = hold - spent_pending;
                if remaining <= 0 {
                    // The alert would have fired already: keep the original activeAt.
                } else if remaining < grace {
                    restored_active_at = ts + grace - hold;
                } else {
                    restored_active_at += ts - down_at;
                }
                a.active_at = restored_active_at;
            }
            rule.set_restored(true);
        }
    }

    /// Whether any rule failed in the last evaluation.
    pub fn health(&self) -> Health {
        if self.rules.iter().any(|r| r.info.health == Health::Err) {
            Health::Err
        } else if self.rules.iter().all(|r| r.info.health == Health::Unknown) {
            Health::Unknown
        } else {
            Health::Ok
        }
    }
}

/// `file;name`, as Prometheus' `GroupKey`.
pub fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}

/// Prometheus' `TableLinkForExpression`: where an alert's `generatorURL` points.
pub fn table_link(external_url: &str, expr: &str) -> String {
    let mut q = String::new();
    for b in expr.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                q.push(b as char)
            }
            b' ' => q.push('+'),
            _ => q.push_str(&format!("%{b:02X}")),
        }
    }
    format!(
        "{}/graph?g0.expr={q}&g0.tab=1",
        external_url.trim_end_matches('/')
    )
}

/// Rejections Prometheus expects (another rule or a restart wrote the series already).
fn is_expected_append_error(e: &sightline_storage_api::Error) -> bool {
    e.is_sample_rejection()
}

/// FNV-1a: stable across runs and builds (the group's phase must not move on restart).
fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
