//! Echoes the scrape target it is called for (issue 13): one gauge labelled with the
//! `__address__`, `__param_module` and `__scrape_timeout_seconds__` config values.
use sightline_sdk::{config, Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let get = |k: &str| config::get(k).unwrap_or_default();
        let mut g = MetricFamily::new(
            "guest_target_info",
            "The target this call was for.",
            MetricType::Gauge,
        );
        g.push(
            &[
                ("address", get("__address__").as_str()),
                ("module", get("__param_module").as_str()),
                ("timeout", get("__scrape_timeout_seconds__").as_str()),
            ],
            1.0,
        );
        Ok(vec![g])
    }
}
sightline_sdk::export_exporter!(G);
