//! Hostile guest: allocates without bound. Expect the memory limit.
use sightline_sdk::{Exporter, MetricFamily};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}
sightline_sdk::export_exporter!(G);
