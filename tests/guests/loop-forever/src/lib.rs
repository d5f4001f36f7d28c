//! Hostile guest: spins forever in wasm code. Expect a timeout.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
}
sightline_sdk::export_exporter!(G);
