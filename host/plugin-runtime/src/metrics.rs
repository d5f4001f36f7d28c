//! The plugin metrics in the Prometheus text format.

use std::fmt::Write as _;

use crate::registry::{PluginInfo, PluginState};
use crate::stats::DURATION_BUCKETS_SECONDS;

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders `sightline_plugin_*` metrics for every plugin.
pub(crate) fn render(plugins: &[PluginInfo]) -> String {
    let mut out = String::new();
    let kind = |p: &PluginInfo| p.kind.map(|k| k.as_str()).unwrap_or("unknown");
    let _ = writeln!(
        out,
        "# HELP sightline_plugin_up Whether a version of the plugin is loaded and serving."
    );
    let _ = writeln!(out, "# TYPE sightline_plugin_up gauge");
    for p in plugins {
        let v = u8::from(p.state == PluginState::Loaded);
        let _ = writeln!(
            out,
            "sightline_plugin_up{{plugin=\"{}\",kind=\"{}\"}} {v}",
            esc(&p.name),
            kind(p)
        );
    }
    let _ = writeln!(out, "# HELP sightline_plugin_last_load_failed Whether the newest file of the plugin failed to load.");
    let _ = writeln!(out, "# TYPE sightline_plugin_last_load_failed gauge");
    for p in plugins {
        let _ = writeln!(
            out,
            "sightline_plugin_last_load_failed{{plugin=\"{}\"}} {}",
            esc(&p.name),
            u8::from(p.last_error.is_some())
        );
    }
    let _ = writeln!(
        out,
        "# HELP sightline_plugin_loads_total Successful loads of the plugin."
    );
    let _ = writeln!(out, "# TYPE sightline_plugin_loads_total counter");
    for p in plugins {
        let _ = writeln!(
            out,
            "sightline_plugin_loads_total{{plugin=\"{}\"}} {}",
            esc(&p.name),
            p.stats.loads
        );
    }
    let _ = writeln!(
        out,
        "# HELP sightline_plugin_load_errors_total Failed loads of the plugin."
    );
    let _ = writeln!(out, "# TYPE sightline_plugin_load_errors_total counter");
    for p in plugins {
        let _ = writeln!(
            out,
            "sightline_plugin_load_errors_total{{plugin=\"{}\"}} {}",
            esc(&p.name),
            p.stats.load_errors
        );
    }
    let _ = writeln!(
        out,
        "# HELP sightline_plugin_calls_total Calls into the plugin."
    );
    let _ = writeln!(out, "# TYPE sightline_plugin_calls_total counter");
    for p in plugins {
        let _ = writeln!(
            out,
            "sightline_plugin_calls_total{{plugin=\"{}\",kind=\"{}\"}} {}",
            esc(&p.name),
            kind(p),
            p.stats.calls
        );
    }
    let _ = writeln!(
        out,
        "# HELP sightline_plugin_call_errors_total Failed calls into the plugin, by reason."
    );
    let _ = writeln!(out, "# TYPE sightline_plugin_call_errors_total counter");
    for p in plugins {
        for (reason, n) in &p.stats.errors_by_reason {
            let _ = writeln!(
                out,
                "sightline_plugin_call_errors_total{{plugin=\"{}\",reason=\"{reason}\"}} {n}",
                esc(&p.name)
            );
        }
    }
    let _ = writeln!(out, "# HELP sightline_plugin_call_duration_seconds Duration of calls into the plugin, instantiation included.");
    let _ = writeln!(
        out,
        "# TYPE sightline_plugin_call_duration_seconds histogram"
    );
    for p in plugins {
        let name = esc(&p.name);
        for (le, n) in DURATION_BUCKETS_SECONDS
            .iter()
            .zip(&p.stats.duration_bucket_counts)
        {
            let _ = writeln!(
                out,
                "sightline_plugin_call_duration_seconds_bucket{{plugin=\"{name}\",le=\"{}\"}} {n}",
                sightline_model::format_go_float(*le)
            );
        }
        let _ = writeln!(
            out,
            "sightline_plugin_call_duration_seconds_bucket{{plugin=\"{name}\",le=\"+Inf\"}} {}",
            p.stats.calls
        );
        let _ = writeln!(
            out,
            "sightline_plugin_call_duration_seconds_sum{{plugin=\"{name}\"}} {}",
            sightline_model::format_go_float(p.stats.duration_sum_seconds)
        );
        let _ = writeln!(
            out,
            "sightline_plugin_call_duration_seconds_count{{plugin=\"{name}\"}} {}",
            p.stats.calls
        );
    }
    let _ = writeln!(out, "# HELP sightline_plugin_memory_high_water_bytes Largest linear memory any instance of the plugin reached.");
    let _ = writeln!(out, "# TYPE sightline_plugin_memory_high_water_bytes gauge");
    for p in plugins {
        let _ = writeln!(
            out,
            "sightline_plugin_memory_high_water_bytes{{plugin=\"{}\"}} {}",
            esc(&p.name),
            p.stats.memory_high_water_bytes
        );
    }
    out
}
