//! The `discord` receiver: the webhook request Alertmanager 0.25's `notify/discord` sends (one
//! embed with the title, the message as its description, and red, green or grey by the
//! group's status).
//!
//! The host fills in Alertmanager's defaults (`discord.default.title`,
//! `discord.default.message`) and renders them before the call. Settings: `webhook_url`,
//! `title`, `message`.

use sightline_sdk::json::Object;
use sightline_sdk::{config, http, log, AlertGroup, Receiver};

/// Alertmanager's embed colours.
const RED: u32 = 0x992D22;
const GREEN: u32 = 0x2ECC71;
const GREY: u32 = 0x95A5A6;

struct Discord;

impl Receiver for Discord {
    fn notify(group: AlertGroup) -> Result<(), String> {
        let url = config::require("webhook_url")?;
        let color = match group.status.as_str() {
            "firing" => RED,
            "resolved" => GREEN,
            _ => GREY,
        };
        let mut embed = Object::new();
        embed
            .str("title", &config::text("title"))
            .str("description", &config::text("message"))
            .raw("color", &color.to_string());
        let mut body = Object::new();
        body.str("content", "")
            .raw("embeds", &format!("[{}]", embed.finish()));
        let mut body = body.finish();
        body.push('\n');
        let resp = http::post_json(&url, &body, &[("User-Agent", "Alertmanager/0.25.0")])
            .map_err(|e| format!("POST to the Discord webhook: {e}"))?;
        http::success(resp)?;
        log::debug(&format!("sent {}", group.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Discord);
