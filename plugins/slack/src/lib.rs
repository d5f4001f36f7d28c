//! The `slack` receiver: the incoming-webhook request Alertmanager 0.25's `notify/slack`
//! sends, rendering the fields it renders (title, title_link, pretext, text, fallback,
//! callback_id, image_url, thumb_url, footer, color, channel, username, icon_emoji,
//! icon_url, and every field's and action's text).
//!
//! Settings: a `slack_configs` entry with Alertmanager's defaults filled in by the host:
//! `api_url` (from `global.slack_api_url`; the host reads `api_url_file`), `channel`,
//! `username`, `icon_emoji`, `icon_url`, `link_names`, `title`, `title_link`, `pretext`,
//! `text`, `fallback`, `callback_id`, `image_url`, `thumb_url`, `footer`, `color`,
//! `mrkdwn_in`, `short_fields`, `fields`, `actions`.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, Notification, NotifyError, Receiver, Setting, Settings};

/// Alertmanager's `maxTitleLenRunes`.
const MAX_TITLE_RUNES: usize = 1024;

struct Slack;

fn field_json(f: &Setting, short_fields: bool, t: &Renderer) -> Result<String, NotifyError> {
    // `short` falls back to `short_fields` and is always written (a non-nil pointer).
    let short = f.opt_bool("short")?.unwrap_or(short_fields);
    let mut o = Object::new();
    o.str_omitempty("title", &t.text(&f.text("title")?))
        .str_omitempty("value", &t.text(&f.text("value")?))
        .bool("short", short);
    Ok(o.finish())
}

fn action_json(a: &Setting, t: &Renderer) -> Result<String, NotifyError> {
    let mut o = Object::new();
    for k in ["type", "text", "url", "style", "name", "value"] {
        o.str_omitempty(k, &t.text(&a.text(k)?));
    }
    if let Some(c) = a.get("confirm").filter(|c| !c.is_null()) {
        let mut co = Object::new();
        for k in ["text", "title", "ok_text", "dismiss_text"] {
            co.str_omitempty(k, &t.text(&c.text(k)?));
        }
        o.raw("confirm", &co.finish());
    }
    Ok(o.finish())
}

/// The request body and the rendered channel.
pub fn body(s: &Settings, t: &Renderer) -> Result<(String, String), NotifyError> {
    let mut mrkdwn_in = s.strings("mrkdwn_in")?;
    if mrkdwn_in.is_empty() {
        mrkdwn_in = vec!["fallback".into(), "pretext".into(), "text".into()];
    }
    let title = sightline_sdk::truncate_runes(&t.text(&s.text("title")?), MAX_TITLE_RUNES);
    let mut att = Object::new();
    att.str_omitempty("title", &title)
        .str_omitempty("title_link", &t.text(&s.text("title_link")?))
        .str_omitempty("pretext", &t.text(&s.text("pretext")?))
        .str("text", &t.text(&s.text("text")?))
        .str("fallback", &t.text(&s.text("fallback")?))
        .str("callback_id", &t.text(&s.text("callback_id")?));
    let short_fields = s.bool("short_fields")?;
    let fields = s
        .list("fields")?
        .iter()
        .map(|f| field_json(f, short_fields, t))
        .collect::<Result<Vec<_>, _>>()?;
    if !fields.is_empty() {
        att.raw("fields", &json::raw_list(&fields));
    }
    let actions = s
        .list("actions")?
        .iter()
        .map(|a| action_json(a, t))
        .collect::<Result<Vec<_>, _>>()?;
    if !actions.is_empty() {
        att.raw("actions", &json::raw_list(&actions));
    }
    att.str_omitempty("image_url", &t.text(&s.text("image_url")?))
        .str_omitempty("thumb_url", &t.text(&s.text("thumb_url")?))
        .str("footer", &t.text(&s.text("footer")?))
        .str_omitempty("color", &t.text(&s.text("color")?))
        .raw("mrkdwn_in", &json::string_list(&mrkdwn_in));
    let channel = t.text(&s.text("channel")?);
    let mut req = Object::new();
    req.str_omitempty("channel", &channel)
        .str_omitempty("username", &t.text(&s.text("username")?))
        .str_omitempty("icon_emoji", &t.text(&s.text("icon_emoji")?))
        .str_omitempty("icon_url", &t.text(&s.text("icon_url")?));
    if s.bool("link_names")? {
        req.bool("link_names", true);
    }
    req.raw("attachments", &format!("[{}]", att.finish()));
    t.finish()?;
    Ok((json::encoded(req), channel))
}

impl Receiver for Slack {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let url = s.require_text("api_url")?;
        let (body, channel) = body(s, &Renderer::host())?;
        let context = format!("channel {channel:?}");
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])
            .map_err(|e| NotifyError::from(e).context(&context))?;
        Retrier::ALERTMANAGER
            .check(resp)
            .map_err(|e| e.context(&context))?;
        log::debug(&format!("sent {} to {channel:?}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Slack);

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_sdk::settings::Tree;

    fn text(s: &str) -> Tree {
        Tree::Text(s.into())
    }

    #[test]
    fn body_is_alertmanagers() {
        let s = Settings::new(Tree::Map(vec![
            ("channel".into(), text("#alerts <ops> & co")),
            ("title".into(), text("{{ T }}")),
            ("text".into(), text("body")),
            ("footer".into(), text("")),
            (
                "fields".into(),
                Tree::List(vec![Tree::Map(vec![
                    ("title".into(), text("Instance")),
                    ("value".into(), text("{{ V }}")),
                ])]),
            ),
        ]));
        let t =
            Renderer::new(|s: &str| Ok(s.replace("{{ T }}", "Title").replace("{{ V }}", "db-1")));
        let (got, channel) = body(&s, &t).unwrap();
        assert_eq!(channel, "#alerts <ops> & co");
        assert_eq!(
            got,
            "{\"channel\":\"#alerts \\u003cops\\u003e \\u0026 co\",\"attachments\":[{\"title\":\"Title\",\"text\":\"body\",\"fallback\":\"\",\"callback_id\":\"\",\"fields\":[{\"title\":\"Instance\",\"value\":\"db-1\",\"short\":false}],\"footer\":\"\",\"mrkdwn_in\":[\"fallback\",\"pretext\",\"text\"]}]}\n"
        );
        let bad = Renderer::new(|_: &str| Err("template: x".to_string()));
        assert!(!body(&s, &bad).unwrap_err().is_retryable());
    }
}

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn bodies_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"api_url": "http://sink/slack", "channel": "#alerts <ops> & co", "send_resolved": true,
            "fields": [{"title": "Instance", "value": "{{ .CommonLabels.instance }}"}],
            "actions": [{"type": "button", "text": "Runbook", "url": "http://runbooks/{{ .GroupLabels.alertname }}"}],
            "color": "{{ if eq .Status \"firing\" }}danger{{ else }}good{{ end }}",
            "username": "{{ template \"slack.default.username\" . }}",
            "title": "{{ template \"slack.default.title\" . }}",
            "title_link": "{{ template \"slack.default.titlelink\" . }}",
            "icon_emoji": "{{ template \"slack.default.iconemoji\" . }}",
            "icon_url": "{{ template \"slack.default.iconurl\" . }}",
            "pretext": "{{ template \"slack.default.pretext\" . }}",
            "text": "{{ template \"slack.default.text\" . }}",
            "fallback": "{{ template \"slack.default.fallback\" . }}",
            "callback_id": "{{ template \"slack.default.callbackid\" . }}",
            "footer": "{{ template \"slack.default.footer\" . }}"}"##,
        );
        let want = am_render::recorded("/slack");
        assert_eq!(want.len(), 2);
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "slack",
                "{}",
                &[
                    ("alertname", "HighLoad"),
                    ("severity", "warning"),
                    ("instance", "web-1"),
                ],
                &[("summary", "load > 4")],
                "http://prometheus/graph?g0.expr=load",
                firing,
            );
            let (got, _) = body(&s, &g.renderer()).unwrap();
            assert_eq!(got, w.body);
            assert_eq!(w.user_agent, ALERTMANAGER_USER_AGENT);
        }
    }
}
