//! Hostile guest: returns far more output than allowed. Expect an output
//! size error.
use sightline_sdk::{Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mut f = MetricFamily::new("huge", "", MetricType::Gauge);
        let pad = "x".repeat(64);
        for i in 0..60_000 {
            let id = i.to_string();
            f.push(&[("id", &id), ("pad", &pad)], i as f64);
        }
        Ok(vec![f])
    }
}
sightline_sdk::export_exporter!(G);
