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

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn bodies_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"api_url": "http://sink/wx", "room_id": "room-1",
            "message": "{{ template \"webex.default.message\" . }}"}"##,
        );
        let want = am_render::recorded("/wx");
        assert_eq!(want.len(), 2);
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "wx",
                "{}/{team=\"wx\"}",
                &[
                    ("alertname", "CertExpiry"),
                    ("team", "wx"),
                    ("instance", "lb-1"),
                ],
                &[
                    ("summary", "cert expires in 3d"),
                    ("description", "renew *now*"),
                ],
                "http://prometheus/graph?g0.expr=cert",
                firing,
            );
            assert_eq!(body(&s, &g.renderer()).unwrap(), w.body);
        }
    }
}
