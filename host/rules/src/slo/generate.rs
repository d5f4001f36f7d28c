//! Rule groups for SLOs: Sloth's series, labels and group names, and the SRE workbook's
//! multi-window, multi-burn-rate alerts, plus an exact period ratio.
//!
//! Per SLO, three groups, named as Sloth names them:
//! - `sloth-slo-sli-recordings-<id>`: `slo:sli_error:ratio_rate<w>` for the alert windows
//!   (5m, 30m, 1h, 2h, 6h, 1d, 3d), as Sloth writes them; beyond Sloth, for events SLIs, the
//!   bad and total event rates at 5m (`slo:sli_events_error:rate5m`,
//!   `slo:sli_events_total:rate5m`) and the period ratio from them,
//!   `slo:sli_error:ratio_rate<period>` = `sum_over_time(errors[period]) /
//!   sum_over_time(total[period])`. Evaluations are evenly spaced (the manager catches up
//!   missed iterations), so each sum is the integral of a 5-minute moving average of the
//!   event rate times a constant: every event is counted with the same weight, the constants
//!   cancel in the quotient and the result is the ratio of the period's sums, not Sloth's
//!   average of ratios. It reads two recorded series per SLO (86,400 points each for 30 days at
//!   a 30 s evaluation interval), never the raw series. A raw SLI has no event counts; its
//!   period ratio stays Sloth's time average.
//! - `sloth-slo-meta-recordings-<id>`: `slo:objective:ratio`, `slo:error_budget:ratio`,
//!   `slo:time_period:days`, `slo:current_burn_rate:ratio`, `slo:period_burn_rate:ratio`,
//!   `slo:period_error_budget_remaining:ratio`, `sloth_slo_info`.
//! - `sloth-slo-alerts-<id>`: the page and ticket alerts (absent when both are disabled).

use std::collections::BTreeMap;
use std::time::Duration;

use super::spec::with_window;
use super::{window_string, Sli, Slo, SloSet};
use crate::file::{GroupSpec, RuleKind, RuleSpec};

/// The windows Sloth records the SLI error ratio over.
pub const SLI_WINDOWS: [Duration; 7] = [
    Duration::from_secs(300),
    Duration::from_secs(1_800),
    Duration::from_secs(3_600),
    Duration::from_secs(7_200),
    Duration::from_secs(21_600),
    Duration::from_secs(86_400),
    Duration::from_secs(259_200),
];

/// Bad events per second over 5 minutes, recorded every evaluation (beyond Sloth).
pub const EVENTS_ERROR_METRIC: &str = "slo:sli_events_error:rate5m";
/// All events per second over 5 minutes, recorded every evaluation (beyond Sloth).
pub const EVENTS_TOTAL_METRIC: &str = "slo:sli_events_total:rate5m";

/// `page` or `ticket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Fast burn: wake someone up.
    Page,
    /// Slow burn: a ticket.
    Ticket,
}

impl Severity {
    /// As Sloth's `sloth_severity` label writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One window pair of a multi-window, multi-burn-rate alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertWindow {
    /// Page or ticket.
    pub severity: Severity,
    /// The short window (it makes the alert reset quickly).
    pub short: Duration,
    /// The long window (it sets how much budget was consumed).
    pub long: Duration,
    /// The burn-rate factor both windows must exceed.
    pub factor: f64,
}

/// The four window pairs for `period`, as Sloth computes them from Google's table (page: 2%
/// of the budget in 1h, 5% in 6h; ticket: 10% in 1d, 10% in 3d): the factor is the speed
/// that consumes that share of the budget in the long window, `share × period / long`. For
/// 30 days: 14.4, 6, 3 and 1; for 28 days: 13.44, 5.6, 2.8, 0.933…; other periods scale the
/// same way (Sloth itself needs a custom windows file for them).
pub fn alert_windows(period: Duration) -> [AlertWindow; 4] {
    let hours = period.as_secs_f64() / 3_600.0;
    let w = |severity, pct: f64, short: u64, long: u64| AlertWindow {
        severity,
        short: Duration::from_secs(short),
        long: Duration::from_secs(long),
        // Sloth's arithmetic, in its order, so the factors are the same floats.
        factor: pct * hours / 100.0 / (long as f64 / 3_600.0),
    };
    [
        w(Severity::Page, 2.0, 300, 3_600),
        w(Severity::Page, 5.0, 1_800, 21_600),
        w(Severity::Ticket, 10.0, 7_200, 86_400),
        w(Severity::Ticket, 10.0, 21_600, 259_200),
    ]
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Sloth's identifying labels of an SLO.
fn id_labels(slo: &Slo) -> BTreeMap<String, String> {
    [
        (s("sloth_id"), slo.id()),
        (s("sloth_service"), slo.service.clone()),
        (s("sloth_slo"), slo.name.clone()),
    ]
    .into()
}

/// Sloth's selector of an SLO's series: `{sloth_id="…", sloth_service="…", sloth_slo="…"}`.
fn filter(slo: &Slo) -> String {
    let parts: Vec<String> = id_labels(slo)
        .into_iter()
        .map(|(k, v)| format!("{k}={}", quote(&v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A float as Go's `%v` writes it for the values Sloth prints (shortest round-trip form).
fn num(v: f64) -> String {
    format!("{v}")
}

fn record(name: &str, expr: String, labels: BTreeMap<String, String>) -> RuleSpec {
    RuleSpec {
        kind: RuleKind::Recording,
        name: name.to_string(),
        expr,
        for_: Duration::ZERO,
        keep_firing_for: Duration::ZERO,
        labels,
        annotations: BTreeMap::new(),
    }
}

fn group(name: String, rules: Vec<RuleSpec>) -> GroupSpec {
    GroupSpec {
        name,
        interval: None,
        query_offset: None,
        limit: 0,
        labels: BTreeMap::new(),
        rules,
    }
}

/// The SLI error ratio over `window`, as Sloth writes it.
fn ratio_expr(sli: &Sli, window: &str) -> String {
    match sli {
        Sli::Events {
            error_query,
            total_query,
        } => format!(
            "({})\n/\n({})\n",
            with_window(error_query, window),
            with_window(total_query, window)
        ),
        Sli::Raw { error_ratio_query } => format!("({})\n", with_window(error_ratio_query, window)),
    }
}

/// The rule groups of one SLO.
pub fn generate(slo: &Slo) -> Vec<GroupSpec> {
    let id = slo.id();
    let f = filter(slo);
    let mut base = slo.labels.clone();
    base.extend(id_labels(slo));
    let with_window_label = |w: &str| {
        let mut l = base.clone();
        l.insert(s("sloth_window"), s(w));
        l
    };
    let period = window_string(slo.period);
    let mut sli = Vec::new();
    for w in SLI_WINDOWS {
        let w = window_string(w);
        sli.push(record(
            &format!("slo:sli_error:ratio_rate{w}"),
            ratio_expr(&slo.sli, &w),
            with_window_label(&w),
        ));
    }
    let period_expr = match &slo.sli {
        Sli::Events {
            error_query,
            total_query,
        } => {
            let (err, total) = (with_window(error_query, "5m"), with_window(total_query, "5m"));
            // A missing error series (no failure ever happened) counts as zero errors wherever
            // there is traffic, so the period ratio is 0 rather than absent.
            sli.push(record(
                EVENTS_ERROR_METRIC,
                format!("({err})\nor\n0 * ({total})\n"),
                with_window_label("5m"),
            ));
            sli.push(record(
                EVENTS_TOTAL_METRIC,
                format!("{total}\n"),
                with_window_label("5m"),
            ));
            format!(
                "sum_over_time({EVENTS_ERROR_METRIC}{f}[{period}])\n/ ignoring (sloth_window)\nsum_over_time({EVENTS_TOTAL_METRIC}{f}[{period}])\n"
            )
        }
        Sli::Raw { .. } => format!(
            "sum_over_time(slo:sli_error:ratio_rate5m{f}[{period}])\n/ ignoring (sloth_window)\ncount_over_time(slo:sli_error:ratio_rate5m{f}[{period}])\n"
        ),
    };
    let period_metric = format!("slo:sli_error:ratio_rate{period}");
    sli.push(record(
        &period_metric,
        period_expr,
        with_window_label(&period),
    ));

    let objective = slo.objective / 100.0;
    let mut info_labels = base.clone();
    info_labels.extend([
        (s("sloth_mode"), s("sightline")),
        (s("sloth_objective"), num(slo.objective)),
        (s("sloth_spec"), s("prometheus/v1")),
        (s("sloth_version"), s(env!("CARGO_PKG_VERSION"))),
    ]);
    let on = "/ on(sloth_id, sloth_slo, sloth_service) group_left";
    let meta = vec![
        record(
            "slo:objective:ratio",
            format!("vector({})", num(objective)),
            base.clone(),
        ),
        record(
            "slo:error_budget:ratio",
            format!("vector(1-{})", num(objective)),
            base.clone(),
        ),
        record(
            "slo:time_period:days",
            format!("vector({})", num(slo.period.as_secs_f64() / 86_400.0)),
            base.clone(),
        ),
        record(
            "slo:current_burn_rate:ratio",
            format!("slo:sli_error:ratio_rate5m{f}\n{on}\nslo:error_budget:ratio{f}\n"),
            base.clone(),
        ),
        record(
            "slo:period_burn_rate:ratio",
            format!("{period_metric}{f}\n{on}\nslo:error_budget:ratio{f}\n"),
            base.clone(),
        ),
        record(
            "slo:period_error_budget_remaining:ratio",
            format!("1 - slo:period_burn_rate:ratio{f}"),
            base.clone(),
        ),
        record("sloth_slo_info", s("vector(1)"), info_labels),
    ];

    let mut alerts = Vec::new();
    let windows = alert_windows(slo.period);
    let budget = num(slo.error_budget_ratio());
    for (severity, meta_alert) in [
        (Severity::Page, &slo.alerting.page),
        (Severity::Ticket, &slo.alerting.ticket),
    ] {
        if meta_alert.disable {
            continue;
        }
        let pair: Vec<&AlertWindow> = windows.iter().filter(|w| w.severity == severity).collect();
        let cond = |w: Duration, factor: f64| {
            format!(
                "max(slo:sli_error:ratio_rate{}{f} > ({} * {budget})) without (sloth_window)",
                window_string(w),
                num(factor)
            )
        };
        let mut expr = String::new();
        for (i, w) in pair.iter().enumerate() {
            if i > 0 {
                expr.push_str("or\n");
            }
            expr.push_str(&format!(
                "(\n    {}\n    and\n    {}\n)\n",
                cond(w.short, w.factor),
                cond(w.long, w.factor)
            ));
        }
        let sev = severity.as_str();
        let mut annotations: BTreeMap<String, String> = [
            (
                s("title"),
                format!("({sev}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast."),
            ),
            (
                s("summary"),
                s("{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected."),
            ),
        ]
        .into();
        annotations.extend(slo.alerting.annotations.clone());
        annotations.extend(meta_alert.annotations.clone());
        let mut labels: BTreeMap<String, String> = [(s("sloth_severity"), s(sev))].into();
        labels.extend(slo.alerting.labels.clone());
        labels.extend(meta_alert.labels.clone());
        alerts.push(RuleSpec {
            kind: RuleKind::Alerting,
            name: slo.alerting.name.clone(),
            expr,
            for_: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            labels,
            annotations,
        });
    }
    let mut groups = vec![
        group(format!("sloth-slo-sli-recordings-{id}"), sli),
        group(format!("sloth-slo-meta-recordings-{id}"), meta),
    ];
    if !alerts.is_empty() {
        groups.push(group(format!("sloth-slo-alerts-{id}"), alerts));
    }
    groups
}

/// The rule groups of every SLO of a set, in order.
pub fn generate_set(set: &SloSet) -> Vec<GroupSpec> {
    set.slos.iter().flat_map(generate).collect()
}
