//! Hostile guest: panics. Expect a trap whose message carries the panic.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        panic!("hostile guest panicked on purpose")
    }
}
sightline_sdk::export_exporter!(G);
