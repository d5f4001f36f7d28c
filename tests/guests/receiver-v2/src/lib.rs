//! Receiver version 2 for the hot-reload test: POSTs "v2" and the group key
//! to the configured url.
use sightline_sdk::{config, http, AlertGroup, Receiver};
struct G;
impl Receiver for G {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let url = config::require("url")?;
        let body = format!(
            "{{\"version\":\"v2\",\"groupKey\":\"{}\"}}",
            group.group_key
        );
        http::post_json(&url, &body, &[]).map_err(|e| e.to_string())?;
        Ok(())
    }
}
sightline_sdk::export_receiver!(G);
