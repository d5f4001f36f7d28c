//! The `slack` receiver: the incoming-webhook request Alertmanager 0.25's `notify/slack`
//! sends.
//!
//! The host fills in Alertmanager's defaults (title, text, fallback, color, ...) and renders
//! every template before the call, so the settings arrive as the final text. Settings:
//! `api_url` (inherited from `global.slack_api_url`; the host reads `api_url_file`),
//! `channel`, `username`, `icon_emoji`, `icon_url`, `link_names`, `title`, `title_link`,
//! `pretext`, `text`, `fallback`, `callback_id`, `image_url`, `thumb_url`, `footer`,
//! `color`, `mrkdwn_in`, `short_fields`, and `fields` and `actions` (JSON lists).

use serde_json::{Map, Value};
use sightline_sdk::json::{self, Object};
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's `maxTitleLenRunes`.
const MAX_TITLE_RUNES: usize = 1024;

struct Slack;

fn list(key: &str) -> Result<Vec<Value>, String> {
    match config::get(key) {
        None => Ok(Vec::new()),
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(Value::Null) => Ok(Vec::new()),
            Ok(_) => Err(format!("{key}: not a list")),
            Err(e) => Err(format!("{key}: {e}")),
        },
    }
}

fn text(o: &Map<String, Value>, k: &str) -> String {
    match o.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn field_json(f: &Map<String, Value>, short_default: bool) -> String {
    // `short` falls back to `short_fields` and is always written (a non-nil pointer).
    let short = match f.get("short") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => short_default,
    };
    let mut o = Object::new();
    o.str_omitempty("title", &text(f, "title"))
        .str_omitempty("value", &text(f, "value"))
        .bool("short", short);
    o.finish()
}

fn action_json(a: &Map<String, Value>) -> String {
    let mut o = Object::new();
    for k in ["type", "text", "url", "style", "name", "value"] {
        o.str_omitempty(k, &text(a, k));
    }
    if let Some(Value::Object(c)) = a.get("confirm") {
        let mut co = Object::new();
        for k in ["text", "title", "ok_text", "dismiss_text"] {
            co.str_omitempty(k, &text(c, k));
        }
        o.raw("confirm", &co.finish());
    }
    o.finish()
}

fn body() -> Result<String, String> {
    let mrkdwn_in: Vec<String> = match config::get("mrkdwn_in") {
        Some(t) => serde_json::from_str::<Vec<String>>(&t).unwrap_or_default(),
        None => Vec::new(),
    };
    let mrkdwn_in = if mrkdwn_in.is_empty() {
        vec!["fallback".into(), "pretext".into(), "text".into()]
    } else {
        mrkdwn_in
    };
    let short_fields = config::text("short_fields") == "true";
    let fields: Vec<String> = list("fields")?
        .iter()
        .filter_map(Value::as_object)
        .map(|f| field_json(f, short_fields))
        .collect();
    let actions: Vec<String> = list("actions")?
        .iter()
        .filter_map(Value::as_object)
        .map(action_json)
        .collect();
    let mut att = Object::new();
    att.str_omitempty(
        "title",
        &sightline_sdk::truncate_runes(&config::text("title"), MAX_TITLE_RUNES),
    )
    .str_omitempty("title_link", &config::text("title_link"))
    .str_omitempty("pretext", &config::text("pretext"))
    .str("text", &config::text("text"))
    .str("fallback", &config::text("fallback"))
    .str("callback_id", &config::text("callback_id"));
    if !fields.is_empty() {
        att.raw("fields", &format!("[{}]", fields.join(",")));
    }
    if !actions.is_empty() {
        att.raw("actions", &format!("[{}]", actions.join(",")));
    }
    att.str_omitempty("image_url", &config::text("image_url"))
        .str_omitempty("thumb_url", &config::text("thumb_url"))
        .str("footer", &config::text("footer"))
        .str_omitempty("color", &config::text("color"));
    let md: Vec<String> = mrkdwn_in.iter().map(|s| json::quote(s)).collect();
    att.raw("mrkdwn_in", &format!("[{}]", md.join(",")));
    let mut req = Object::new();
    req.str_omitempty("channel", &config::text("channel"))
        .str_omitempty("username", &config::text("username"))
        .str_omitempty("icon_emoji", &config::text("icon_emoji"))
        .str_omitempty("icon_url", &config::text("icon_url"));
    if config::text("link_names") == "true" {
        req.bool("link_names", true);
    }
    req.raw("attachments", &format!("[{}]", att.finish()));
    let mut s = req.finish();
    s.push('\n');
    Ok(s)
}

impl Receiver for Slack {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let url = config::require("api_url")?;
        let body = body()?;
        let channel = config::text("channel");
        let resp = http::post_json(&url, &body, &[("User-Agent", "Alertmanager/0.25.0")])
            .map_err(|e| format!("channel {channel:?}: {e}"))?;
        http::success(resp).map_err(|e| format!("channel {channel:?}: {e}"))?;
        log::debug(&format!("sent {} to {channel:?}", group.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Slack);
