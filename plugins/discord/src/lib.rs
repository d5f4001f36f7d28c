//! The `discord` receiver: the webhook request Alertmanager 0.25's `notify/discord` sends (one
//! embed with the rendered title, the rendered message as its description, and red or green
//! by the group's status).
//!
//! Settings: a `discord_configs` entry with Alertmanager's defaults (`discord.default.title`,
//! `discord.default.message`) filled in by the host: `webhook_url` (the host reads
//! `webhook_url_file`), `title`, `message`.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, Notification, NotifyError, Receiver, Settings};

/// Alertmanager's embed colours: firing, resolved.
const RED: u32 = 0x992D22;
const GREEN: u32 = 0x2ECC71;

struct Discord;

/// The request body.
pub fn body(n: &Notification, s: &Settings, t: &Renderer) -> Result<String, NotifyError> {
    let title = t.text(&s.text("title")?);
    let description = t.text(&s.text("message")?);
    t.finish()?;
    let color = if n.is_firing() { RED } else { GREEN };
    let mut embed = Object::new();
    embed
        .str("title", &title)
        .str("description", &description)
        .int("color", i64::from(color));
    let mut body = Object::new();
    body.str("content", "")
        .raw("embeds", &format!("[{}]", embed.finish()));
    Ok(json::encoded(body))
}

impl Receiver for Discord {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let url = s.require_text("webhook_url")?;
        let body = body(n, s, &Renderer::host())?;
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])?;
        Retrier::ALERTMANAGER.check(resp)?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Discord);

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn bodies_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"webhook_url": "http://sink/discord",
            "title": "{{ template \"discord.default.title\" . }}",
            "message": "{{ template \"discord.default.message\" . }}"}"##,
        );
        let want = am_render::recorded("/discord");
        assert_eq!(want.len(), 2);
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "discord",
                "{}/{team=\"chat\"}",
                &[
                    ("alertname", "QueueStuck"),
                    ("team", "chat"),
                    ("instance", "mq-1"),
                ],
                &[("summary", "queue \"jobs\" stuck")],
                "http://prometheus/graph?g0.expr=queue",
                firing,
            );
            assert_eq!(body(&g.notification, &s, &g.renderer()).unwrap(), w.body);
        }
    }
}
