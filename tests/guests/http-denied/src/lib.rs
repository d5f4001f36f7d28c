//! Hostile guest: calls a host that is not granted. Expect a denial naming
//! the host.
use sightline_sdk::{config, http, AlertGroup, Receiver};
struct G;
impl Receiver for G {
    fn notify(_group: AlertGroup) -> Result<(), String> {
        let url = config::get("target")
            .unwrap_or_else(|| "http://169.254.169.254/latest/meta-data/".to_string());
        match http::post_json(&url, "{}", &[]) {
            Ok(r) => Err(format!("request went through with status {}", r.status)),
            Err(e) => Err(e.to_string()),
        }
    }
}
sightline_sdk::export_receiver!(G);
