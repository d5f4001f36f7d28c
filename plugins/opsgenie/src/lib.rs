//! The `opsgenie` receiver: the Alert API v2 requests Alertmanager 0.25's `notify/opsgenie`
//! sends — create (`POST v2/alerts`, plus the message and description updates with
//! `update_alerts`), or close by alias (`POST v2/alerts/<alias>/close`) when the group has
//! resolved. The alias is Alertmanager's: the SHA-256 of the group key. Renders the fields
//! Alertmanager renders (message, description, source, details, responders, tags, note,
//! priority, entity, actions, the API key).
//!
//! Settings: an `opsgenie_configs` entry with Alertmanager's defaults
//! (`opsgenie.default.message`, `.description`, `.source`) filled in by the host: `api_url`
//! (from `global.opsgenie_api_url`; ends in `/`), `api_key` (from `global.opsgenie_api_key`;
//! the host reads `api_key_file`), `message`, `description`, `source`, `details` (a map),
//! `responders` (a list), `tags`, `note`, `priority`, `entity`, `actions`, `update_alerts`.

use sightline_sdk::http::{self, Request, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, truncate_runes, Notification, NotifyError, Receiver, Settings};

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

/// The `responders`, with a `teams` entry expanded into one `team` per name.
fn responders(s: &Settings, t: &Renderer) -> Result<Vec<String>, NotifyError> {
    let one = |id: &str, name: &str, username: &str, kind: &str| {
        let mut o = Object::new();
        o.str_omitempty("id", id)
            .str_omitempty("name", name)
            .str_omitempty("username", username)
            .str("type", kind);
        o.finish()
    };
    let mut out = Vec::new();
    for r in s.list("responders")? {
        let (id, name, username, kind) = (
            t.text(&r.text("id")?),
            t.text(&r.text("name")?),
            t.text(&r.text("username")?),
            t.text(&r.text("type")?),
        );
        if id.is_empty() && name.is_empty() && username.is_empty() && kind.is_empty() {
            continue;
        }
        if kind == "teams" {
            // Each team name is rendered once more, as Alertmanager does.
            for team in safe_split(&name) {
                out.push(one("", &t.text(&team), "", "team"));
            }
            continue;
        }
        out.push(one(&id, &name, &username, &kind));
    }
    Ok(out)
}

/// One request: method, URL, body.
pub type Call = (&'static str, String, String);

/// The requests, in the order Alertmanager sends them, and the API key.
pub fn requests(
    n: &Notification,
    s: &Settings,
    t: &Renderer,
) -> Result<(Vec<Call>, String), NotifyError> {
    let api_url = s.require_text("api_url")?;
    let alias = n.key_hash();
    let mut out = Vec::new();
    if !n.is_firing() {
        let mut o = Object::new();
        o.str("source", &t.text(&s.text("source")?));
        out.push((
            "POST",
            format!("{api_url}v2/alerts/{alias}/close?identifierType=alias"),
            json::encoded(o),
        ));
    } else {
        // The group's common labels, then the configured details over them (a Go map).
        let mut details: Vec<(String, String)> = n
            .common_labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        for (k, v) in s.string_map("details")? {
            details.push((k, t.text(&v)));
        }
        let message = truncate_runes(&t.text(&s.text("message")?), MAX_MESSAGE_RUNES);
        let description = t.text(&s.text("description")?);
        let responders = responders(s, t)?;
        let mut o = Object::new();
        o.str("alias", &alias)
            .str("message", &message)
            .str_omitempty("description", &description)
            .raw(
                "details",
                &json::string_map(details.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            )
            .str("source", &t.text(&s.text("source")?));
        if !responders.is_empty() {
            o.raw("responders", &json::raw_list(&responders));
        }
        let tags = safe_split(&t.text(&s.text("tags")?));
        if !tags.is_empty() {
            o.raw("tags", &json::string_list(&tags));
        }
        o.str_omitempty("note", &t.text(&s.text("note")?))
            .str_omitempty("priority", &t.text(&s.text("priority")?))
            .str_omitempty("entity", &t.text(&s.text("entity")?));
        let actions = safe_split(&t.text(&s.text("actions")?));
        if !actions.is_empty() {
            o.raw("actions", &json::string_list(&actions));
        }
        out.push(("POST", format!("{api_url}v2/alerts"), json::encoded(o)));
        if s.bool("update_alerts")? {
            let mut m = Object::new();
            m.str_omitempty("message", &message);
            out.push((
                "PUT",
                format!("{api_url}v2/alerts/{alias}/message?identifierType=alias"),
                json::encoded(m),
            ));
            let mut d = Object::new();
            d.str_omitempty("description", &description);
            out.push((
                "PUT",
                format!("{api_url}v2/alerts/{alias}/description?identifierType=alias"),
                json::encoded(d),
            ));
        }
    }
    let api_key = t.text(&s.text("api_key")?);
    t.finish().map_err(|e| e.context("templating error"))?;
    Ok((out, api_key))
}

impl Receiver for Opsgenie {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let (requests, api_key) = requests(n, s, &Renderer::host())?;
        let auth = format!("GenieKey {api_key}");
        for (method, url, body) in requests {
            let resp = http::send(&Request {
                method: method.to_string(),
                url,
                headers: vec![
                    (
                        "User-Agent".to_string(),
                        ALERTMANAGER_USER_AGENT.to_string(),
                    ),
                    ("Content-Type".to_string(), "application/json".to_string()),
                    ("Authorization".to_string(), auth.clone()),
                ],
                body: body.into_bytes(),
            })?;
            Retrier::with_codes(&[429]).check(resp)?;
        }
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Opsgenie);

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn requests_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"api_key": "the-genie-key", "api_url": "http://sink/og/", "priority": "P1",
            "tags": "db, {{ .GroupLabels.alertname }},", "update_alerts": true,
            "details": {"runbook": "http://runbooks/{{ .GroupLabels.alertname }}"},
            "responders": [{"name": "dba,oncall", "type": "teams"}, {"username": "bob", "type": "user"}],
            "message": "{{ template \"opsgenie.default.message\" . }}",
            "description": "{{ template \"opsgenie.default.description\" . }}",
            "source": "{{ template \"opsgenie.default.source\" . }}"}"##,
        );
        let want = am_render::recorded("/og");
        assert_eq!(want.len(), 4);
        let mut got = Vec::new();
        for firing in [true, false] {
            let g = am_render::Group::new(
                "og",
                "{}/{team=\"ops\"}",
                &[
                    ("alertname", "ReplicaLag"),
                    ("team", "ops"),
                    ("instance", "db-2"),
                ],
                &[
                    ("summary", "lag > 30s"),
                    ("description", "replica <db-2> behind"),
                ],
                "http://prometheus/graph?g0.expr=lag",
                firing,
            );
            let (calls, key) = requests(&g.notification, &s, &g.renderer()).unwrap();
            assert_eq!(key, "the-genie-key");
            got.extend(calls);
        }
        assert_eq!(got.len(), 4);
        for ((method, url, body), w) in got.iter().zip(&want) {
            assert_eq!(*method, w.method);
            assert_eq!(url.trim_start_matches("http://sink"), w.path);
            assert_eq!(*body, w.body);
        }
    }
}
