//! Renders Sightline's own `/metrics` from the telemetry registry and `process_*` metrics.

use std::sync::Arc;

use sightline_exposition::{Encoder, Format};
use sightline_model::MetricType;
use sightline_telemetry::{Family, Registry};

/// A renderer for the API: gathers on every call (metrics are cheap atomics).
pub(crate) fn renderer(registry: Arc<Registry>) -> sightline_api::MetricsRenderer {
    Arc::new(move |openmetrics| {
        let mut fams = registry.gather();
        fams.extend(sightline_telemetry::process_families());
        fams.sort_by(|a, b| a.name.cmp(&b.name));
        encode(
            &fams,
            if openmetrics {
                Format::OpenMetrics
            } else {
                Format::PromText
            },
        )
    })
}

/// Encodes families; counter family names carry no `_total` (the encoder's contract wants it
/// on the family name, so it is added here).
pub(crate) fn encode(fams: &[Family], format: Format) -> Vec<u8> {
    let mut e = Encoder::new(format);
    for f in fams {
        if f.samples.is_empty() {
            continue;
        }
        let counter = f.metric_type == MetricType::Counter;
        let fam_name = if counter {
            format!("{}_total", f.name)
        } else {
            f.name.clone()
        };
        e.family(&fam_name, f.metric_type, &f.help, "");
        for s in &f.samples {
            let name = if counter {
                format!("{}_total", f.name)
            } else {
                format!("{}{}", f.name, s.suffix)
            };
            e.sample_labels(&name, &s.labels, s.value, None);
        }
    }
    e.finish()
}
