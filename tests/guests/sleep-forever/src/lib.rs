//! Hostile guest: blocks forever inside a host call (a WASI clock wait).
//! Expect a timeout.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        Ok(Vec::new())
    }
}
sightline_sdk::export_exporter!(G);
