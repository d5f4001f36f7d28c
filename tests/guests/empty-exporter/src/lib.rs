//! The smallest exporter: returns nothing. Used by benches.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        Ok(Vec::new())
    }
}
sightline_sdk::export_exporter!(G);
