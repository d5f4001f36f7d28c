//! Hostile guest: reads /etc/passwd without a grant. Expect the read to fail
//! and the plugin to report it; if the read succeeds the content leaks into a
//! metric, which the test detects.
use sightline_sdk::{Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => {
                let mut f = MetricFamily::new("leaked_passwd_bytes", "", MetricType::Gauge);
                f.push(&[], text.len() as f64);
                Ok(vec![f])
            }
            Err(e) => Err(format!("reading /etc/passwd: {e}")),
        }
    }
}
sightline_sdk::export_exporter!(G);
