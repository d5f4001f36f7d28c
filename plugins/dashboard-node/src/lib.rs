//! A dashboard plugin: a node dashboard over the node-exporter plugin's metrics (CPU, memory, load, disk, network, OOM kills), as a Grafana dashboard model.

use sightline_sdk::Dashboard;

struct Model;

impl Dashboard for Model {
    fn dashboard() -> Result<String, String> {
        Ok(include_str!("../dashboard.json").to_string())
    }
}

sightline_sdk::export_dashboard!(Model);
