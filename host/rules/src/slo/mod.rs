//! SLOs built in: SLO specs become rule groups the manager runs like any other.
//!
//! Two spec forms are accepted, recognised by their content (see [`detect`]):
//! - Sloth's `prometheus/v1` spec, as-is (`spec`), so Sloth users move over unchanged;
//! - the seed's `slos:` block (`seed`), whose three shapes map to SLIs as documented there.
//!
//! Both parse into [`SloSet`], which `generate` turns into Sloth's rule groups (the same series
//! names and labels, so Sloth's dashboards keep working) plus, beyond Sloth, an exact period
//! ratio: event rates are recorded every evaluation and the period SLI is a ratio of their
//! sums over the period, not Sloth's average of 5-minute ratios (sloth#332, #526). `render`
//! writes the groups as a Prometheus rule file and `api` serves `/api/v1/slos`.

pub mod api;
mod generate;
mod render;
mod seed;
mod spec;

pub use generate::{
    alert_windows, generate, generate_set, AlertWindow, Severity, EVENTS_ERROR_METRIC,
    EVENTS_TOTAL_METRIC, SLI_WINDOWS,
};
pub use render::render_rule_file;
pub use spec::{
    detect, load, parse, with_window, AlertMeta, Alerting, Sli, Slo, SloSet, SpecFormat,
};

/// The SLO period when a spec does not give one (Sloth's `--default-slo-period`).
pub const DEFAULT_PERIOD: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// A duration as Sloth writes windows: in the largest of `d`, `h`, `m`, `s` that divides it
/// (`30d`, `6h`, `90m`), so series names read `ratio_rate30d` rather than `ratio_rate4w2d`.
pub fn window_string(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        return format!("{}ms", d.as_millis());
    }
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

/// What `sightline check slos` reports for a valid file.
#[derive(Debug)]
pub struct CheckReport {
    /// The report, promtool-style (`  SUCCESS: …` and one line per SLO).
    pub text: String,
    /// The generated groups.
    pub groups: Vec<crate::file::GroupSpec>,
}

/// Checks an SLO spec file as it would load through `rule_files` (the generated rules
/// checked as a rule file's); the problems are formatted `file: L:C: message`.
pub fn check_file(
    path: &std::path::Path,
    templates: crate::file::TemplateCheck<'_>,
) -> Result<CheckReport, Vec<String>> {
    use std::fmt::Write as _;
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{name}: {e}")])?;
    let format = detect(&text).ok_or_else(|| {
        vec![format!(
            "{name}: not an SLO spec (want Sloth's `version: \"prometheus/v1\"` or a `slos:` mapping)"
        )]
    })?;
    let msgs = |ps: Vec<crate::file::RuleFileProblem>| -> Vec<String> {
        ps.into_iter().map(|p| p.message).collect()
    };
    let set = parse(&name, &text).map_err(msgs)?;
    let file = crate::file::parse(&name, &text, templates, false).map_err(msgs)?;
    let rules: Vec<&crate::file::RuleSpec> = file.groups.iter().flat_map(|g| &g.rules).collect();
    let alerts = rules
        .iter()
        .filter(|r| r.kind == crate::file::RuleKind::Alerting)
        .count();
    let form = match format {
        SpecFormat::Sloth => "Sloth prometheus/v1",
        SpecFormat::Seed => "slos: block",
    };
    let mut services: Vec<&str> = set.slos.iter().map(|s| s.service.as_str()).collect();
    services.dedup();
    let mut out = format!(
        "  SUCCESS: {} SLOs ({form}, service {}): {} rules ({} recording, {alerts} alerting) in {} groups\n",
        set.slos.len(),
        services.join(", "),
        rules.len(),
        rules.len() - alerts,
        file.groups.len()
    );
    for slo in &set.slos {
        let sli = match slo.sli {
            Sli::Events { .. } => "events SLI, exact period ratio",
            Sli::Raw { .. } => "raw SLI, period ratio averaged as Sloth",
        };
        let windows: Vec<String> = alert_windows(slo.period)
            .iter()
            .filter(|w| match w.severity {
                Severity::Page => !slo.alerting.page.disable,
                Severity::Ticket => !slo.alerting.ticket.disable,
            })
            .map(|w| {
                format!(
                    "{} {}x {}/{}",
                    w.severity.as_str(),
                    w.factor,
                    window_string(w.short),
                    window_string(w.long)
                )
            })
            .collect();
        let alerts = if windows.is_empty() {
            "no alerts".to_string()
        } else {
            format!("alert {} ({})", slo.alerting.name, windows.join(", "))
        };
        let _ = writeln!(
            out,
            "    {}: objective {}% over {}, {sli}; {alerts}",
            slo.id(),
            slo.objective,
            window_string(slo.period)
        );
    }
    Ok(CheckReport {
        text: out,
        groups: file.groups,
    })
}

#[cfg(test)]
mod tests;
