//! The `telegram` receiver: the Bot API `sendMessage` request Alertmanager 0.25's
//! `notify/telegram` sends through its client library (telebot v3): `POST
//! <api_url>/bot<bot_token>/sendMessage` with a JSON object of strings (a Go
//! `map[string]string`, so keys sorted): `chat_id`, `disable_notification` when set,
//! `disable_web_page_preview: "true"`, `parse_mode` unless empty, and the message rendered
//! (as HTML, values escaped, when `parse_mode` is `HTML`) and cut to 4,096 characters.
//! telebot sets no `User-Agent`, so Go's default goes out.
//!
//! Settings: a `telegram_configs` entry with Alertmanager's defaults (`message:
//! {{ template "telegram.default.message" . }}`, `parse_mode: HTML`) filled in by the host:
//! `api_url` (from `global.telegram_api_url`), `bot_token` (the host reads
//! `bot_token_file`), `chat_id`, `message`, `disable_notifications`, `parse_mode`.

use sightline_sdk::http::{self, Retrier};
use sightline_sdk::json;
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, truncate_runes, Notification, NotifyError, Receiver, Settings};

/// Telegram's limit on a message (Alertmanager's `maxMessageLenRunes`).
const MAX_MESSAGE_RUNES: usize = 4096;
/// What Go's HTTP client sends when the caller sets no `User-Agent`.
const GO_USER_AGENT: &str = "Go-http-client/1.1";

struct Telegram;

/// The URL and body of the `sendMessage` call; `html` renders as html/template.
pub fn request(
    s: &Settings,
    text: &Renderer,
    html: &Renderer,
) -> Result<(String, String), NotifyError> {
    let parse_mode = s.text("parse_mode")?;
    let t = if parse_mode == "HTML" { html } else { text };
    let message = truncate_runes(&t.text(&s.text("message")?), MAX_MESSAGE_RUNES);
    t.finish()?;
    let mut params = vec![
        ("chat_id", s.text("chat_id")?),
        ("text", message),
        ("disable_web_page_preview", "true".to_string()),
    ];
    if !parse_mode.is_empty() {
        params.push(("parse_mode", parse_mode));
    }
    if s.bool("disable_notifications")? {
        params.push(("disable_notification", "true".to_string()));
    }
    let mut body = json::string_map(params.iter().map(|(k, v)| (*k, v.as_str())));
    body.push('\n');
    let url = format!(
        "{}/bot{}/sendMessage",
        s.require_text("api_url")?,
        s.text("bot_token")?
    );
    Ok((url, body))
}

impl Receiver for Telegram {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let (url, body) = request(s, &Renderer::host(), &Renderer::host_html())?;
        let resp = http::post_json(&url, &body, &[("User-Agent", GO_USER_AGENT)])?;
        let resp = Retrier::ALERTMANAGER.check(resp)?;
        // telebot fails a 2xx answer whose JSON does not say `"ok":true`; Alertmanager
        // retries every failure of the client.
        let answer = String::from_utf8_lossy(&resp.body);
        if !answer.contains("\"ok\":true") {
            return Err(NotifyError::retryable(format!(
                "telegram: unexpected answer: {}",
                answer.chars().take(200).collect::<String>()
            )));
        }
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Telegram);

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_sdk::settings::Tree;

    fn settings(pairs: &[(&str, Tree)]) -> Settings {
        Settings::new(Tree::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        ))
    }

    /// The bodies Alertmanager 0.25 sent for these settings (recorded from Debian's
    /// prometheus-alertmanager 0.25 against a local sink, the message rendered by the stand-in).
    #[test]
    fn requests_are_alertmanagers() {
        let text = Renderer::new(|s: &str| Ok(s.replace("{{ . }}", "<b>firing</b> & co")));
        let html = Renderer::new(|_: &str| Ok("&lt;b&gt;root&lt;/b&gt; &amp; more".to_string()));
        let s = settings(&[
            ("api_url", Tree::Text("http://127.0.0.1:1".into())),
            ("bot_token", Tree::Text("bot-token-1".into())),
            ("chat_id", Tree::Integer(-1001)),
            (
                "message",
                Tree::Text("{{ template \"telegram.default.message\" . }}".into()),
            ),
            ("parse_mode", Tree::Text("HTML".into())),
        ]);
        let (url, body) = request(&s, &text, &html).unwrap();
        assert_eq!(url, "http://127.0.0.1:1/botbot-token-1/sendMessage");
        assert_eq!(
            body,
            "{\"chat_id\":\"-1001\",\"disable_web_page_preview\":\"true\",\"parse_mode\":\"HTML\",\"text\":\"\\u0026lt;b\\u0026gt;root\\u0026lt;/b\\u0026gt; \\u0026amp; more\"}\n"
        );
        let s = settings(&[
            ("api_url", Tree::Text("http://127.0.0.1:1".into())),
            ("bot_token", Tree::Text("bot-token-2".into())),
            ("chat_id", Tree::Integer(42)),
            ("message", Tree::Text("DiskFull {{ . }}".into())),
            ("parse_mode", Tree::Text(String::new())),
            ("disable_notifications", Tree::Bool(true)),
        ]);
        let (_, body) = request(&s, &text, &html).unwrap();
        assert_eq!(
            body,
            "{\"chat_id\":\"42\",\"disable_notification\":\"true\",\"disable_web_page_preview\":\"true\",\"text\":\"DiskFull \\u003cb\\u003efiring\\u003c/b\\u003e \\u0026 co\"}\n"
        );
    }
}
