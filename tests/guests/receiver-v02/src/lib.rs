//! A contract 0.2 receiver written against the WIT alone (no SDK). It renders Slack's
//! default title and its `title` setting through the `template` import and POSTs a JSON
//! report of what it got to the URL of its settings (`url`, `webhook_url` or `api_url`).
//! The URL chooses the outcome after the POST: a path containing `/retryable` fails
//! retryably (with `?ra=<ms>` as retry-after), one containing `/permanent` permanently.
wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "receiver-plugin", generate_all });

use exports::sightline::plugin::receiver::Guest;
use sightline::plugin::alerts::{AlertStatus, Notification, NotifyError, Retryable};
use sightline::plugin::types::{Document, Node};
use sightline::plugin::{config, http, template};

struct G;

/// A JSON string literal.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The document's node as JSON.
fn json(d: &Document, i: u32) -> String {
    match &d.nodes[i as usize] {
        Node::Null => "null".to_string(),
        Node::Boolean(b) => b.to_string(),
        Node::Integer(n) => n.to_string(),
        Node::Number(f) => f.to_string(),
        Node::Text(s) => q(s),
        Node::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|c| json(d, *c))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Node::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, c)| format!("{}:{}", q(k), json(d, *c)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// The root map's text value of `key`.
fn text(d: &Document, key: &str) -> Option<String> {
    let Some(Node::Map(entries)) = d.nodes.first() else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, c)| match &d.nodes[*c as usize] {
            Node::Text(s) => Some(s.clone()),
            _ => None,
        })
}

fn status(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Firing => "firing",
        AlertStatus::Resolved => "resolved",
    }
}

impl Guest for G {
    fn notify(n: Notification, settings: Document) -> Result<(), NotifyError> {
        let render = |t: &str| template::render(t).map_err(NotifyError::Permanent);
        let fixed = render("{{ template \"slack.default.title\" . }}")?;
        let title = match text(&settings, "title") {
            Some(t) => q(&render(&t)?),
            None => "null".to_string(),
        };
        let html = template::render_html("<b>{{ .CommonLabels.alertname }}</b>")
            .map_err(NotifyError::Permanent)?;
        let url = text(&settings, "url")
            .or_else(|| text(&settings, "webhook_url"))
            .or_else(|| text(&settings, "api_url"))
            .ok_or_else(|| NotifyError::Permanent("no url in the settings".to_string()))?;
        let alerts: Vec<String> = n
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{{\"status\":{},\"starts_at_ns\":{},\"ends_at_ns\":{},\"fingerprint\":{}}}",
                    q(status(a.status)),
                    a.starts_at_ns,
                    a.ends_at_ns.map_or("null".to_string(), |t| t.to_string()),
                    q(&a.fingerprint)
                )
            })
            .collect();
        let config_keys: Vec<String> = config::get_all().into_iter().map(|(k, _)| q(&k)).collect();
        let body = format!(
            "{{\"fixed\":{},\"title\":{},\"html\":{},\"status\":{},\"receiver\":{},\"group_key\":{},\"truncated\":{},\"alerts\":[{}],\"settings\":{},\"config_keys\":[{}]}}",
            q(&fixed),
            title,
            q(&html),
            q(status(n.status)),
            q(&n.receiver),
            q(&n.group_key),
            n.truncated_alerts,
            alerts.join(","),
            if settings.nodes.is_empty() { "{}".to_string() } else { json(&settings, 0) },
            config_keys.join(","),
        );
        let r = http::send(&http::Request {
            method: "POST".to_string(),
            url: url.clone(),
            headers: vec![("Content-Type".to_string(), "application/json".to_string())],
            body: body.into_bytes(),
        })
        .map_err(|e| {
            NotifyError::Retryable(Retryable {
                message: format!("{e:?}"),
                retry_after_ms: None,
            })
        })?;
        if url.contains("/permanent") {
            return Err(NotifyError::Permanent(format!(
                "asked to fail permanently ({})",
                r.status
            )));
        }
        if url.contains("/retryable") {
            let retry_after_ms = url
                .split_once("ra=")
                .and_then(|(_, v)| v.split('&').next()?.parse().ok());
            return Err(NotifyError::Retryable(Retryable {
                message: "asked to fail retryably".to_string(),
                retry_after_ms,
            }));
        }
        Ok(())
    }
}

export!(G);
