//! The `webhook` receiver: POSTs Alertmanager's webhook JSON (version 4) to
//! the `url` setting of an alertmanager.yml `webhook_configs` entry.
//!
//! Settings: `url` (required), `authorization` (optional value of the
//! `Authorization` header, e.g. `Bearer $TOKEN`), `max_alerts` (optional;
//! alerts beyond it are dropped and counted in `truncatedAlerts`).

use sightline_sdk::{config, http, log, AlertGroup, Receiver};

struct Webhook;

impl Receiver for Webhook {
    fn notify(mut group: AlertGroup) -> Result<(), String> {
        let url = config::require("url")?;
        if let Some(max) = config::get("max_alerts") {
            let max: usize = max
                .parse()
                .map_err(|_| format!("max_alerts {max:?} is not a number"))?;
            if max > 0 && group.alerts.len() > max {
                group.truncated_alerts += (group.alerts.len() - max) as u32;
                group.alerts.truncate(max);
            }
        }
        let body = group.to_webhook_json();
        let auth = config::get("authorization");
        let mut headers: Vec<(&str, &str)> = vec![("User-Agent", "Sightline/0.1")];
        if let Some(a) = auth.as_deref() {
            headers.push(("Authorization", a));
        }
        let resp =
            http::post_json(&url, &body, &headers).map_err(|e| format!("POST {url}: {e}"))?;
        http::success(resp).map_err(|e| format!("POST {url}: {e}"))?;
        log::debug(&format!("notified {url} ({} alerts)", group.alerts.len()));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Webhook);
