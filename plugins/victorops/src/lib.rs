//! The `victorops` receiver (Splunk On-Call): the REST endpoint request Alertmanager 0.25's
//! `notify/victorops` sends, to `<api_url><api_key>/<routing_key>`, with the entity id
//! Alertmanager derives (the SHA-256 of the group key) so a recovery closes the incident.
//! Renders the fields Alertmanager renders (routing key, message type, state message,
//! entity display name, monitoring tool, custom fields).
//!
//! Settings: a `victorops_configs` entry with Alertmanager's defaults (`message_type:
//! CRITICAL`, the default state message, entity display name and monitoring tool) filled in
//! by the host: `api_url` (from `global.victorops_api_url`), `api_key` (the host reads
//! `api_key_file`), `routing_key`, `message_type`, `state_message`, `entity_display_name`,
//! `monitoring_tool`, `custom_fields` (a map).

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json;
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, truncate_runes, Notification, NotifyError, Receiver, Settings};

/// Alertmanager's `maxMessageLenRunes` for the state message.
const MAX_STATE_MESSAGE_RUNES: usize = 20480;

struct VictorOps;

/// The URL and the body.
pub fn request(
    n: &Notification,
    s: &Settings,
    t: &Renderer,
) -> Result<(String, String), NotifyError> {
    let url = format!(
        "{}{}/{}",
        s.require_text("api_url")?,
        s.text("api_key")?,
        t.text(&s.text("routing_key")?)
    );
    let mut message_type = t.text(&s.text("message_type")?);
    if !n.is_firing() {
        message_type = "RECOVERY".into();
    } else if !matches!(message_type.as_str(), "INFO" | "WARNING" | "CRITICAL") {
        message_type = "CRITICAL".into();
    }
    let state_message = truncate_runes(&t.text(&s.text("state_message")?), MAX_STATE_MESSAGE_RUNES);
    // One Go `map[string]string`: the fixed fields, then the custom fields over them.
    let mut fields: Vec<(String, String)> = vec![
        ("message_type".into(), message_type),
        ("entity_id".into(), n.key_hash()),
        (
            "entity_display_name".into(),
            t.text(&s.text("entity_display_name")?),
        ),
        ("state_message".into(), state_message),
        (
            "monitoring_tool".into(),
            t.text(&s.text("monitoring_tool")?),
        ),
    ];
    for (k, v) in s.string_map("custom_fields")? {
        fields.push((k, t.text(&v)));
    }
    t.finish().map_err(|e| e.context("templating error"))?;
    let mut body = json::string_map(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    body.push('\n');
    Ok((url, body))
}

impl Receiver for VictorOps {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let (url, body) = request(n, s, &Renderer::host())?;
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])?;
        Retrier::ALERTMANAGER.check(resp)?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(VictorOps);

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn requests_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"api_key": "vo-key", "api_url": "http://sink/vo/",
            "routing_key": "db-{{ .GroupLabels.alertname }}",
            "custom_fields": {"runbook": "http://runbooks/{{ .GroupLabels.alertname }}"},
            "message_type": "CRITICAL",
            "state_message": "{{ template \"victorops.default.state_message\" . }}",
            "entity_display_name": "{{ template \"victorops.default.entity_display_name\" . }}",
            "monitoring_tool": "{{ template \"victorops.default.monitoring_tool\" . }}"}"##,
        );
        let want = am_render::recorded("/vo");
        assert_eq!(want.len(), 2);
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "vo",
                "{}/{team=\"vo\"}",
                &[
                    ("alertname", "BackupLate"),
                    ("team", "vo"),
                    ("instance", "db-3"),
                ],
                &[("summary", "backup 2h late")],
                "http://prometheus/graph?g0.expr=backup",
                firing,
            );
            let (url, body) = request(&g.notification, &s, &g.renderer()).unwrap();
            assert_eq!(body, w.body);
            assert_eq!(url.trim_start_matches("http://sink"), w.path);
        }
    }
}
