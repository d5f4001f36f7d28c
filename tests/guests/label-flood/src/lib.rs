//! Hostile guest: one sample with 300,000 distinct labels (config `labels` changes the
//! count). A host that checks each label against all earlier ones does 4.5 × 10^10
//! comparisons; expect a prompt invalid-output error (too many labels), charged to the
//! plugin, while the host stays responsive.
use sightline_sdk::{config, Exporter, Label, MetricFamily, MetricType, Sample};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let n: usize = config::get("labels")
            .and_then(|v| v.parse().ok())
            .unwrap_or(300_000);
        let labels = (0..n).map(|i| Label::new(format!("l{i}"), "v")).collect();
        let mut f = MetricFamily::new("flood", "", MetricType::Gauge);
        f.samples.push(Sample {
            labels,
            value: 1.0,
            timestamp_ms: None,
            histogram: None,
            summary: None,
        });
        Ok(vec![f])
    }
}
sightline_sdk::export_exporter!(G);
