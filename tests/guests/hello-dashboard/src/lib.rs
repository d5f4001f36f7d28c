//! A dashboard plugin returning a minimal Grafana dashboard.
use sightline_sdk::Dashboard;
struct G;
impl Dashboard for G {
    fn dashboard() -> Result<String, String> {
        Ok(r#"{"uid":"hello","title":"Hello","panels":[{"type":"timeseries","title":"up","targets":[{"expr":"up"}]}]}"#.to_string())
    }
}
sightline_sdk::export_dashboard!(G);
