//! The `webex` receiver: the message Alertmanager 0.25's `notify/webex` posts to a Webex
//! room (`{"markdown": ..., "roomId": ...}`), the message rendered and cut to Webex's limit.
//! The entry's `http_config.authorization` (the bot's token, `Bearer` by default) is applied
//! by the host, as Alertmanager's HTTP client applies it.
//!
//! Settings: a `webex_configs` entry with Alertmanager's default message
//! (`webex.default.message`) filled in by the host: `api_url` (from
//! `global.webex_api_url`), `room_id`, `message`.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, truncate_bytes, Notification, NotifyError, Receiver, Settings};

/// Alertmanager's `maxMessageSize`: Webex's limit on a message, in bytes.
const MAX_MESSAGE_BYTES: usize = 7439;

struct Webex;

/// The request body.
pub fn body(s: &Settings, t: &Renderer) -> Result<String, NotifyError> {
    let message = t.text(&s.text("message")?);
    t.finish()?;
    let mut o = Object::new();
    o.str("markdown", &truncate_bytes(&message, MAX_MESSAGE_BYTES))
        .str_omitempty("roomId", &s.text("room_id")?);
    Ok(json::encoded(o))
}

impl Receiver for Webex {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let url = s.require_text("api_url")?;
        let body = body(s, &Renderer::host())?;
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])?;
        Retrier::ALERTMANAGER.check(resp)?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Webex);
