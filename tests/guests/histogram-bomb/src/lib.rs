//! Hostile guest: a small output that the host would expand enormously. One histogram
//! sample with 200 labels of 4 KiB each (800 KiB of labels) and 5,000 buckets: under
//! 1 MB as returned, but every bucket, `_sum` and `_count` series carries all the labels,
//! so written out it is 5,002 × 800 KiB ≈ 4 GiB. Config `summary = "1"` returns the same
//! shape as a summary with 5,000 quantiles. Expect an output size error, charged to the
//! plugin, with bounded host memory.
use sightline_sdk::{config, Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let pad = "v".repeat(4096);
        let names: Vec<String> = (0..200).map(|i| format!("label_{i}")).collect();
        let labels: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), pad.as_str())).collect();
        let summary = config::get("summary").is_some_and(|v| v == "1");
        let f = if summary {
            let mut f = MetricFamily::new("bomb", "", MetricType::Summary);
            let q: Vec<(f64, f64)> = (0..5_000).map(|i| (i as f64 / 5_000.0, 1.0)).collect();
            f.push_summary(&labels, &q, 1.0, 1.0);
            f
        } else {
            let mut f = MetricFamily::new("bomb", "", MetricType::Histogram);
            let b: Vec<(f64, f64)> = (0..5_000).map(|i| (i as f64, i as f64)).collect();
            f.push_histogram(&labels, &b, 1.0, 5_000.0);
            f
        };
        Ok(vec![f])
    }
}
sightline_sdk::export_exporter!(G);
