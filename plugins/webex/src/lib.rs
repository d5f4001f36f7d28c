//! The `webex` receiver: the message Alertmanager 0.25's `notify/webex` posts to a Webex
//! room (`{"markdown": ..., "roomId": ...}`), authorised by the entry's
//! `http_config.authorization` (`Bearer` unless its `type` says otherwise).
//!
//! The host fills in Alertmanager's default message (`webex.default.message`) and renders it
//! before the call. Settings: `api_url` (inherited from `global.webex_api_url`), `room_id`,
//! `message`, `http_config.authorization.type|credentials`.

use sightline_sdk::json::Object;
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's `maxMessageSize`: Webex's limit on a message, in bytes.
const MAX_MESSAGE_BYTES: usize = 7439;

struct Webex;

/// `notify.TruncateInBytes`: at most `n` bytes, cut on a character boundary and marked with
/// an ellipsis.
fn truncate_bytes(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    if n <= 3 {
        return if n == 3 { "…".into() } else { ".".repeat(n) };
    }
    let mut end = n - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl Receiver for Webex {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let url = config::require("api_url")?;
        let message = truncate_bytes(&config::text("message"), MAX_MESSAGE_BYTES);
        let mut o = Object::new();
        o.str("markdown", &message)
            .str_omitempty("roomId", &config::text("room_id"));
        let mut body = o.finish();
        body.push('\n');
        let mut headers = vec![("User-Agent", "Alertmanager/0.25.0".to_string())];
        let credentials = config::text("http_config.authorization.credentials");
        if !credentials.is_empty() {
            let kind = match config::text("http_config.authorization.type") {
                t if t.is_empty() => "Bearer".to_string(),
                t => t,
            };
            headers.push(("Authorization", format!("{kind} {credentials}")));
        }
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = http::post_json(&url, &body, &refs).map_err(|e| format!("POST {url}: {e}"))?;
        http::success(resp)?;
        log::debug(&format!("sent {}", group.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Webex);
