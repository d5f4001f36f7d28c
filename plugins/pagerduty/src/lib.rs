//! The `pagerduty` receiver: what Alertmanager 0.25's `notify/pagerduty` sends, for Events
//! API v1 (`service_key`, the seed's form) and v2 (`routing_key`).
//!
//! The host fills in Alertmanager's defaults and renders every template (`description`,
//! `client`, `client_url`, `details`, ...) before the call, so the settings arrive as the
//! final text. Settings: `url` (inherited from `global.pagerduty_url`), `service_key` or
//! `routing_key`, `description`, `client`, `client_url`, `source`, `severity`, `class`,
//! `component`, `group`, `details.<name>`, `images` and `links` (JSON lists).
//!
//! Unlike Alertmanager 0.25, which posts v1 events to PagerDuty's fixed v1 URL whatever
//! `url` says, v1 events go to `url` too, so they can be pointed at a proxy or a test sink.

use sha2::{Digest, Sha256};
use sightline_sdk::json::{self, Object};
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's `maxEventSize`.
const MAX_EVENT_SIZE: usize = 512_000;
/// PagerDuty's limit on a v1 description and a v2 summary, in characters.
const MAX_SUMMARY_RUNES: usize = 1024;

struct PagerDuty;

/// The `details.<name>` settings as a Go `map[string]string`.
fn details() -> Vec<(String, String)> {
    config::all()
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("details.").map(|n| (n.to_string(), v)))
        .collect()
}

fn details_json(d: &[(String, String)]) -> String {
    json::string_map(d.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A JSON list setting (`images`, `links`) as a list of objects.
fn list_setting(key: &str) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let Some(text) = config::get(key) else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{key}: not a list: {e}"))?;
    Ok(v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_object().cloned())
                .collect()
        })
        .unwrap_or_default())
}

fn field(o: &serde_json::Map<String, serde_json::Value>, k: &str) -> String {
    o.get(k)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The message with `details` in place, re-encoded without them when too large.
fn encode(build: &dyn Fn(&str) -> String, details: &str) -> String {
    let body = build(details);
    if body.len() <= MAX_EVENT_SIZE {
        return body;
    }
    log::warn(&format!(
        "Truncated Details because message of size {} exceeds limit {MAX_EVENT_SIZE}",
        body.len()
    ));
    let err = json::string_map([(
        "error",
        "Custom details have been removed because the original event exceeds the maximum size of 512KB",
    )]);
    build(&err)
}

fn v1(event_type: &str, key_hash: &str, service_key: &str) -> String {
    let description =
        sightline_sdk::truncate_runes(&config::text("description"), MAX_SUMMARY_RUNES);
    let (client, client_url) = if event_type == "trigger" {
        (config::text("client"), config::text("client_url"))
    } else {
        (String::new(), String::new())
    };
    let d = details();
    let build = |details: &str| {
        let mut o = Object::new();
        o.str_omitempty("service_key", service_key)
            .str_omitempty("incident_key", key_hash)
            .str_omitempty("event_type", event_type)
            .str_omitempty("description", &description)
            .str("event_action", "")
            .raw("payload", "null")
            .str_omitempty("client", &client)
            .str_omitempty("client_url", &client_url);
        if details != "{}" {
            o.raw("details", details);
        }
        let mut s = o.finish();
        s.push('\n');
        s
    };
    encode(&build, &details_json(&d))
}

fn v2(event_action: &str, key_hash: &str, routing_key: &str) -> Result<String, String> {
    let summary = sightline_sdk::truncate_runes(&config::text("description"), MAX_SUMMARY_RUNES);
    let severity = match config::text("severity") {
        s if s.is_empty() => "error".to_string(),
        s => s,
    };
    let images: Vec<String> = list_setting("images")?
        .iter()
        .filter(|i| !field(i, "src").is_empty())
        .map(|i| {
            let mut o = Object::new();
            o.str("src", &field(i, "src"))
                .str("alt", &field(i, "alt"))
                .str("href", &field(i, "href"));
            o.finish()
        })
        .collect();
    let links: Vec<String> = list_setting("links")?
        .iter()
        .filter(|l| !field(l, "href").is_empty())
        .map(|l| {
            let mut o = Object::new();
            o.str("href", &field(l, "href"))
                .str("text", &field(l, "text"));
            o.finish()
        })
        .collect();
    let d = details();
    let build = |details: &str| {
        let mut p = Object::new();
        p.str("summary", &summary)
            .str("source", &config::text("source"))
            .str("severity", &severity)
            .str_omitempty("class", &config::text("class"))
            .str_omitempty("component", &config::text("component"))
            .str_omitempty("group", &config::text("group"));
        if details != "{}" {
            p.raw("custom_details", details);
        }
        let mut o = Object::new();
        o.str_omitempty("routing_key", routing_key)
            .str_omitempty("dedup_key", key_hash)
            .str("event_action", event_action)
            .raw("payload", &p.finish())
            .str_omitempty("client", &config::text("client"))
            .str_omitempty("client_url", &config::text("client_url"));
        if !images.is_empty() {
            o.raw("images", &format!("[{}]", images.join(",")));
        }
        if !links.is_empty() {
            o.raw("links", &format!("[{}]", links.join(",")));
        }
        let mut s = o.finish();
        s.push('\n');
        s
    };
    Ok(encode(&build, &details_json(&d)))
}

impl Receiver for PagerDuty {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let url = config::require("url")?;
        // `notify.Key.Hash`: the SHA-256 of the group key, the incident's dedup key.
        let key_hash: String = Sha256::digest(group.group_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let event = if group.status == "resolved" {
            "resolve"
        } else {
            "trigger"
        };
        let service_key = config::text("service_key");
        let body = if !service_key.is_empty() {
            v1(event, &key_hash, &service_key)
        } else {
            let routing_key = config::text("routing_key");
            if routing_key.is_empty() {
                return Err("routing key cannot be empty".into());
            }
            v2(event, &key_hash, &routing_key)?
        };
        let resp = http::post_json(&url, &body, &[("User-Agent", "Alertmanager/0.25.0")])
            .map_err(|e| format!("failed to post message to PagerDuty: {e}"))?;
        http::success(resp)?;
        log::debug(&format!("{event} sent for {}", group.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(PagerDuty);
