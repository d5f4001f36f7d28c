//! One component implementing two worlds: an exporter and a dashboard. The host must not
//! guess which one to run: refused unless its manifest names the `kind`.
use sightline_sdk::{Dashboard, Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mut g = MetricFamily::new("two_worlds", "As an exporter.", MetricType::Gauge);
        g.push(&[], 1.0);
        Ok(vec![g])
    }
}
impl Dashboard for G {
    fn dashboard() -> Result<String, String> {
        Ok(r#"{"uid":"two-worlds","title":"Two worlds"}"#.to_string())
    }
}
sightline_sdk::export_exporter!(G);
sightline_sdk::export_dashboard!(G);
