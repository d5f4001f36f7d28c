//! The `victorops` receiver (Splunk On-Call): the REST endpoint request Alertmanager 0.25's
//! `notify/victorops` sends, to `<api_url><api_key>/<routing_key>`, with the entity id
//! Alertmanager derives (the SHA-256 of the group key) so a recovery closes the incident.
//!
//! The host fills in Alertmanager's defaults (`message_type: CRITICAL`, the default state
//! message, entity display name and monitoring tool) and renders every template before the
//! call. Settings: `api_url` (inherited from `global.victorops_api_url`), `api_key` (the host
//! reads `api_key_file`), `routing_key`, `message_type`, `state_message`,
//! `entity_display_name`, `monitoring_tool`, `custom_fields.<name>`.

use sha2::{Digest, Sha256};
use sightline_sdk::json;
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's `maxMessageLenRunes` for the state message.
const MAX_STATE_MESSAGE_RUNES: usize = 20480;

struct VictorOps;

impl Receiver for VictorOps {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let api_url = config::require("api_url")?;
        let url = format!(
            "{api_url}{}/{}",
            config::text("api_key"),
            config::text("routing_key")
        );
        let entity_id: String = Sha256::digest(group.group_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut message_type = config::text("message_type");
        if group.status == "resolved" {
            message_type = "RECOVERY".into();
        } else if !matches!(message_type.as_str(), "INFO" | "WARNING" | "CRITICAL") {
            message_type = "CRITICAL".into();
        }
        let state_message =
            sightline_sdk::truncate_runes(&config::text("state_message"), MAX_STATE_MESSAGE_RUNES);
        // One Go `map[string]string`: the fixed fields, then the custom fields over them.
        let mut fields: Vec<(String, String)> = vec![
            ("message_type".into(), message_type),
            ("entity_id".into(), entity_id),
            (
                "entity_display_name".into(),
                config::text("entity_display_name"),
            ),
            ("state_message".into(), state_message),
            ("monitoring_tool".into(), config::text("monitoring_tool")),
        ];
        fields.extend(
            config::all()
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix("custom_fields.").map(|n| (n.to_string(), v))),
        );
        let mut body = json::string_map(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        body.push('\n');
        let resp = http::post_json(&url, &body, &[("User-Agent", "Alertmanager/0.25.0")])
            .map_err(|e| format!("POST to VictorOps: {e}"))?;
        http::success(resp)?;
        log::debug(&format!("sent {}", group.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(VictorOps);
