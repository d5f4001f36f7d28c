//! sightline-rules: recording and alerting rules.
//!
//! It owns Prometheus' rule files (`file`), the evaluation of a rule group at one timestamp
//! with staleness and the alert state machine (`group`, `rule`), promtool's `check rules`
//! and `test rules` (`check`, `unittest`), and SLO specs turned into rule groups (`slo`).
//! It reads and writes data only through `sightline_storage_api` and is handed what it needs as seams: a [`QueryFn`] that evaluates
//! PromQL, an [`Expander`] for templates and a [`Notifier`] for alerts. It knows neither the
//! PromQL engine's construction, nor the TSDB, nor the alert manager.
//!
//! Invariant: a rule's failure (query error, template error, storage rejection) is recorded
//! in its health and never stops the evaluation of the other rules of its group.

pub mod api;
pub mod backfill;
pub mod check;
mod error;
pub mod file;
mod group;
mod manager;
pub mod notifier;
mod rule;
pub mod slo;
pub mod templates;
pub mod unittest;

pub use error::{Error, Result};
pub use file::{GroupSpec, RuleFile, RuleKind, RuleSpec};
pub use group::{group_key, table_link, Deps, Group, NoNotifier, Notifier};
pub use manager::{GroupStatus, Manager, ManagerOptions, RuleStatus, RulesConfig};
pub use rule::{
    Alert, AlertState, EvalInfo, ExpandContext, Expander, Health, NoTemplates, NotifyAlert,
    QueryFn, Rule, Sample, ALERT_FOR_STATE_METRIC_NAME, ALERT_METRIC_NAME, ALERT_STATE_LABEL,
    RESOLVED_RETENTION_MS,
};
