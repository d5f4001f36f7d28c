//! The `opsgenie` receiver: the Alert API v2 requests Alertmanager 0.25's `notify/opsgenie`
//! sends — create (`POST v2/alerts`, plus the message and description updates with
//! `update_alerts`), or close by alias (`POST v2/alerts/<alias>/close`) when the group has
//! resolved. The alias is Alertmanager's: the SHA-256 of the group key.
//!
//! The host fills in Alertmanager's defaults (`opsgenie.default.message`, `.description`,
//! `.source`) and renders every template before the call. Settings: `api_url` (inherited
//! from `global.opsgenie_api_url`; ends in `/`), `api_key` (the host reads `api_key_file`),
//! `message`, `description`, `source`, `details.<name>`, `responders` (a JSON list), `tags`,
//! `note`, `priority`, `entity`, `actions`, `update_alerts`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sightline_sdk::json::{self, Object};
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's `maxMessageLenRunes`: Opsgenie's limit on a message.
const MAX_MESSAGE_RUNES: usize = 130;

struct Opsgenie;

/// `safeSplit`: the non-empty parts of `s` (trimmed) split at `,`.
fn safe_split(s: &str) -> Vec<String> {
    s.trim()
        .split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn string_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| json::quote(s)).collect();
    format!("[{}]", q.join(","))
}

fn text(o: &Map<String, Value>, k: &str) -> String {
    o.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The `responders`, with a `teams` entry expanded into one `team` per name.
fn responders() -> Result<Vec<String>, String> {
    let Some(raw) = config::get("responders") else {
        return Ok(Vec::new());
    };
    let items: Vec<Value> =
        serde_json::from_str(&raw).map_err(|e| format!("responders: not a list: {e}"))?;
    let mut out = Vec::new();
    let one = |id: &str, name: &str, username: &str, kind: &str| {
        let mut o = Object::new();
        o.str_omitempty("id", id)
            .str_omitempty("name", name)
            .str_omitempty("username", username)
            .str("type", kind);
        o.finish()
    };
    for item in items.iter().filter_map(Value::as_object) {
        let (id, name, username, kind) = (
            text(item, "id"),
            text(item, "name"),
            text(item, "username"),
            text(item, "type"),
        );
        if id.is_empty() && name.is_empty() && username.is_empty() && kind.is_empty() {
            continue;
        }
        if kind == "teams" {
            for team in safe_split(&name) {
                out.push(one("", &team, "", "team"));
            }
            continue;
        }
        out.push(one(&id, &name, &username, &kind));
    }
    Ok(out)
}

fn send(method: &str, url: &str, body: &str, api_key: &str) -> Result<(), String> {
    let auth = format!("GenieKey {api_key}");
    let resp = http::send(&http::Request {
        method: method.to_string(),
        url: url.to_string(),
        headers: vec![
            ("User-Agent".to_string(), "Alertmanager/0.25.0".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Authorization".to_string(), auth),
        ],
        body: body.as_bytes().to_vec(),
    })
    .map_err(|e| format!("{method} {url}: {e}"))?;
    http::success(resp).map(|_| ())
}

fn encoded(o: Object) -> String {
    let mut s = o.finish();
    s.push('\n');
    s
}

impl Receiver for Opsgenie {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let api_url = config::require("api_url")?;
        let api_key = config::text("api_key");
        let alias: String = Sha256::digest(group.group_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if group.status == "resolved" {
            let url = format!("{api_url}v2/alerts/{alias}/close?identifierType=alias");
            let mut o = Object::new();
            o.str("source", &config::text("source"));
            send("POST", &url, &encoded(o), &api_key)?;
            log::debug(&format!("closed {alias}"));
            return Ok(());
        }
        // The group's common labels, then the configured details over them.
        let mut details: Vec<(String, String)> = group
            .common_labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        details.extend(
            config::all()
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix("details.").map(|n| (n.to_string(), v))),
        );
        let message = sightline_sdk::truncate_runes(&config::text("message"), MAX_MESSAGE_RUNES);
        let description = config::text("description");
        let responders = responders()?;
        let tags = safe_split(&config::text("tags"));
        let actions = safe_split(&config::text("actions"));
        let mut o = Object::new();
        o.str("alias", &alias)
            .str("message", &message)
            .str_omitempty("description", &description)
            .raw(
                "details",
                &json::string_map(details.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            )
            .str("source", &config::text("source"));
        if !responders.is_empty() {
            o.raw("responders", &format!("[{}]", responders.join(",")));
        }
        if !tags.is_empty() {
            o.raw("tags", &string_list(&tags));
        }
        o.str_omitempty("note", &config::text("note"))
            .str_omitempty("priority", &config::text("priority"))
            .str_omitempty("entity", &config::text("entity"));
        if !actions.is_empty() {
            o.raw("actions", &string_list(&actions));
        }
        send(
            "POST",
            &format!("{api_url}v2/alerts"),
            &encoded(o),
            &api_key,
        )?;
        if config::text("update_alerts") == "true" {
            let mut m = Object::new();
            m.str_omitempty("message", &message);
            send(
                "PUT",
                &format!("{api_url}v2/alerts/{alias}/message?identifierType=alias"),
                &encoded(m),
                &api_key,
            )?;
            let mut d = Object::new();
            d.str_omitempty("description", &description);
            send(
                "PUT",
                &format!("{api_url}v2/alerts/{alias}/description?identifierType=alias"),
                &encoded(d),
                &api_key,
            )?;
        }
        log::debug(&format!("created {alias}"));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Opsgenie);
