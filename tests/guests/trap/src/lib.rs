//! Hostile guest: executes `unreachable`. Expect a trap.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        core::arch::wasm32::unreachable()
    }
}
sightline_sdk::export_exporter!(G);
