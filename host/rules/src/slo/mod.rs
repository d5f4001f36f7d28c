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

#[cfg(test)]
mod tests;
