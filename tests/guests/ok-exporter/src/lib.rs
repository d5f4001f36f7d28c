//! A well-behaved exporter: one gauge, one counter and one histogram, plus
//! the value of config key `label` as a label.
use sightline_sdk::{config, Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let label = config::get("label").unwrap_or_default();
        let mut g = MetricFamily::new("guest_temperature_celsius", "A gauge.", MetricType::Gauge)
            .with_unit("celsius");
        g.push(&[("room", "lab"), ("tag", &label)], 21.5);
        let mut c = MetricFamily::new("guest_requests_total", "A counter.", MetricType::Counter);
        c.push(&[("code", "200")], 7.0);
        let mut h = MetricFamily::new(
            "guest_latency_seconds",
            "A histogram.",
            MetricType::Histogram,
        );
        h.push_histogram(&[], &[(0.1, 1.0), (1.0, 3.0)], 2.5, 4.0);
        Ok(vec![g, c, h])
    }
}
sightline_sdk::export_exporter!(G);
