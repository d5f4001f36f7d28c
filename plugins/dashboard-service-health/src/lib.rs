//! A dashboard plugin: the seed's "Service Health" dashboard (request rate, error rate, p95 latency, active connections), its queries unchanged, as a Grafana dashboard model.

use sightline_sdk::Dashboard;

struct Model;

impl Dashboard for Model {
    fn dashboard() -> Result<String, String> {
        Ok(include_str!("../dashboard.json").to_string())
    }
}

sightline_sdk::export_dashboard!(Model);
