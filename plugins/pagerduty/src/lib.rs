//! The `pagerduty` receiver: what Alertmanager 0.25's `notify/pagerduty` sends, for Events
//! API v1 (`service_key`, the seed's form) and v2 (`routing_key`), rendering the fields it
//! renders (the keys, description, client, client_url, details, and for v2 source,
//! severity, class, component, group, images and links).
//!
//! Settings: a `pagerduty_configs` entry with Alertmanager's defaults filled in by the host
//! (description, client, client_url, the default `details`, `source` from `client`): `url`
//! (from `global.pagerduty_url`), `service_key` or `routing_key` (the host reads their
//! `*_file`), `description`, `client`, `client_url`, `source`, `severity`, `class`,
//! `component`, `group`, `details` (a map), `images`, `links`.
//!
//! Alertmanager 0.25 posts v1 events to PagerDuty's fixed v1 URL whatever `url` says; here v1
//! events go to `url` too, so they can be pointed at a proxy or a test sink, except when
//! `url` is the default (`global.pagerduty_url`'s v2 endpoint), which becomes the v1 one.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, truncate_runes, Notification, NotifyError, Receiver, Settings};

/// `global.pagerduty_url`'s default, the Events API v2 endpoint.
const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// Where Alertmanager 0.25 posts every v1 event.
const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";

/// Alertmanager's `maxEventSize`.
const MAX_EVENT_SIZE: usize = 512_000;
/// PagerDuty's limit on a v1 description and a v2 summary, in characters.
const MAX_SUMMARY_RUNES: usize = 1024;

struct PagerDuty;

/// The message with `details` in place, re-encoded without them when too large.
fn encode(build: &dyn Fn(&str) -> String, details: &str) -> String {
    let body = build(details);
    if body.len() <= MAX_EVENT_SIZE {
        return body;
    }
    log::warn(&format!(
        "Truncated Details because message of size {} exceeds limit {MAX_EVENT_SIZE}",
        body.len()
    ));
    let err = json::string_map([(
        "error",
        "Custom details have been removed because the original event exceeds the maximum size of 512KB",
    )]);
    build(&err)
}

fn v1(n: &Notification, s: &Settings, t: &Renderer, details: &str) -> Result<String, NotifyError> {
    let trigger = n.is_firing();
    let description = truncate_runes(&t.text(&s.text("description")?), MAX_SUMMARY_RUNES);
    let service_key = t.text(&s.text("service_key")?);
    let (client, client_url) = if trigger {
        (t.text(&s.text("client")?), t.text(&s.text("client_url")?))
    } else {
        (String::new(), String::new())
    };
    t.finish()
        .map_err(|e| e.context("failed to template PagerDuty v1 message"))?;
    let key = n.key_hash();
    let build = |details: &str| {
        let mut o = Object::new();
        o.str_omitempty("service_key", &service_key)
            .str_omitempty("incident_key", &key)
            .str_omitempty("event_type", if trigger { "trigger" } else { "resolve" })
            .str_omitempty("description", &description)
            .str("event_action", "")
            .raw("payload", "null")
            .str_omitempty("client", &client)
            .str_omitempty("client_url", &client_url);
        if details != "{}" {
            o.raw("details", details);
        }
        json::encoded(o)
    };
    Ok(encode(&build, details))
}

fn v2(n: &Notification, s: &Settings, t: &Renderer, details: &str) -> Result<String, NotifyError> {
    let summary = truncate_runes(&t.text(&s.text("description")?), MAX_SUMMARY_RUNES);
    let severity = match s.text("severity")? {
        v if v.is_empty() => "error".to_string(),
        v => v,
    };
    let (client, client_url) = (t.text(&s.text("client")?), t.text(&s.text("client_url")?));
    let routing_key = t.text(&s.text("routing_key")?);
    let source = t.text(&s.text("source")?);
    let severity = t.text(&severity);
    let class = t.text(&s.text("class")?);
    let component = t.text(&s.text("component")?);
    let group = t.text(&s.text("group")?);
    let mut images = Vec::new();
    for i in s.list("images")? {
        let (src, alt, href) = (
            t.text(&i.text("src")?),
            t.text(&i.text("alt")?),
            t.text(&i.text("href")?),
        );
        if !src.is_empty() {
            let mut o = Object::new();
            o.str("src", &src).str("alt", &alt).str("href", &href);
            images.push(o.finish());
        }
    }
    let mut links = Vec::new();
    for l in s.list("links")? {
        let (href, text) = (t.text(&l.text("href")?), t.text(&l.text("text")?));
        if !href.is_empty() {
            let mut o = Object::new();
            o.str("href", &href).str("text", &text);
            links.push(o.finish());
        }
    }
    t.finish()
        .map_err(|e| e.context("failed to template PagerDuty v2 message"))?;
    if routing_key.is_empty() {
        return Err(NotifyError::permanent("routing key cannot be empty"));
    }
    let key = n.key_hash();
    let action = if n.is_firing() { "trigger" } else { "resolve" };
    let build = |details: &str| {
        let mut p = Object::new();
        p.str("summary", &summary)
            .str("source", &source)
            .str("severity", &severity)
            .str_omitempty("class", &class)
            .str_omitempty("component", &component)
            .str_omitempty("group", &group);
        if details != "{}" {
            p.raw("custom_details", details);
        }
        let mut o = Object::new();
        o.str_omitempty("routing_key", &routing_key)
            .str_omitempty("dedup_key", &key)
            .str("event_action", action)
            .raw("payload", &p.finish())
            .str_omitempty("client", &client)
            .str_omitempty("client_url", &client_url);
        if !images.is_empty() {
            o.raw("images", &json::raw_list(&images));
        }
        if !links.is_empty() {
            o.raw("links", &json::raw_list(&links));
        }
        json::encoded(o)
    };
    Ok(encode(&build, details))
}

/// The request body, and whether it is a v1 event.
pub fn body(n: &Notification, s: &Settings, t: &Renderer) -> Result<(String, bool), NotifyError> {
    // Each detail rendered on its own (`ExecuteTextString`); a Go map encodes sorted.
    let mut details = Vec::new();
    for (k, v) in s.string_map("details")? {
        let rendered = t
            .try_text(&v)
            .map_err(|e| NotifyError::permanent(format!("{k:?}: failed to template {v:?}: {e}")))?;
        details.push((k, rendered));
    }
    let details = json::string_map(details.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if !s.text("service_key")?.is_empty() {
        Ok((v1(n, s, t, &details)?, true))
    } else {
        Ok((v2(n, s, t, &details)?, false))
    }
}

impl Receiver for PagerDuty {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let (body, is_v1) = body(n, s, &Renderer::host())?;
        let mut url = s.require_text("url")?;
        if is_v1 && url == DEFAULT_URL {
            url = V1_URL.to_string();
        }
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])
            .map_err(|e| NotifyError::from(e).context("failed to post message to PagerDuty"))?;
        // v1 retries 403 (its rate limit), v2 429.
        let retrier = if is_v1 {
            Retrier::with_codes(&[403])
        } else {
            Retrier::with_codes(&[429])
        };
        retrier.check(resp)?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(PagerDuty);

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_sdk::settings::Tree;
    use sightline_sdk::AlertStatus;

    fn text(s: &str) -> Tree {
        Tree::Text(s.into())
    }

    /// Events v1 against the golden bodies derived from Alertmanager 0.25's source, with the
    /// templates' renderings (what `default.tmpl` gives for that group) standing in for the
    /// host.
    #[test]
    fn v1_events_are_the_golden_ones() {
        let golden = include_str!("../../../tests/alertmanager/pagerduty-v1.golden");
        let want: Vec<&str> = golden.split_inclusive('\n').collect();
        let instances = "Labels:\n - alertname = DiskFull\n - instance = db-1\n - severity = page\nAnnotations:\n - summary = Disk < 10% free\nSource: http://prometheus/graph?g0.expr=disk\n";
        let s = Settings::new(Tree::Map(vec![
            ("service_key".into(), text("the-service-key")),
            ("url".into(), text("http://sink/pd")),
            ("description".into(), text("{{ description }}")),
            ("client".into(), text("{{ client }}")),
            ("client_url".into(), text("{{ client_url }}")),
            (
                "details".into(),
                Tree::Map(vec![
                    ("firing".into(), text("{{ firing }}")),
                    ("resolved".into(), text("{{ resolved }}")),
                    ("num_firing".into(), text("{{ num_firing }}")),
                    ("num_resolved".into(), text("{{ num_resolved }}")),
                ]),
            ),
        ]));
        for (i, status) in [AlertStatus::Firing, AlertStatus::Resolved]
            .into_iter()
            .enumerate()
        {
            let firing = status == AlertStatus::Firing;
            let t = Renderer::new(move |tmpl: &str| {
                Ok(match tmpl {
                    "{{ description }}" if firing => "[FIRING:1] DiskFull (db-1 page)",
                    "{{ description }}" => "[RESOLVED] DiskFull (db-1 page)",
                    "{{ client }}" => "Alertmanager",
                    "{{ client_url }}" => "http://h:1/#/alerts?receiver=pd",
                    "{{ firing }}" if firing => instances,
                    "{{ resolved }}" if !firing => instances,
                    "{{ num_firing }}" => {
                        if firing {
                            "1"
                        } else {
                            "0"
                        }
                    }
                    "{{ num_resolved }}" => {
                        if firing {
                            "0"
                        } else {
                            "1"
                        }
                    }
                    _ => "",
                }
                .to_string())
            });
            let n = Notification {
                receiver: "pd".into(),
                status,
                group_key: "{}:{alertname=\"DiskFull\"}".into(),
                group_labels: vec![],
                common_labels: vec![],
                common_annotations: vec![],
                external_url: "http://h:1".into(),
                alerts: vec![],
                truncated_alerts: 0,
            };
            let (got, is_v1) = body(&n, &s, &t).unwrap();
            assert!(is_v1);
            assert_eq!(got.replace("http://h:1", "<external>"), want[i]);
        }
    }
}

/// The requests the real Alertmanager 0.25 sent (recorded) for `receivers.rs`'s config.
#[cfg(test)]
mod recorded {
    use super::*;

    #[test]
    fn v2_events_are_alertmanager_025s() {
        let s = am_render::settings(
            r##"{"routing_key": "the-routing-key", "url": "http://sink/pd", "severity": "critical",
            "links": [{"href": "http://dash/{{ .GroupLabels.alertname }}", "text": "dashboard"}],
            "description": "{{ template \"pagerduty.default.description\" .}}",
            "client": "{{ template \"pagerduty.default.client\" . }}",
            "client_url": "{{ template \"pagerduty.default.clientURL\" . }}",
            "source": "{{ template \"pagerduty.default.client\" . }}",
            "details": {
                "firing": "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}",
                "resolved": "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}",
                "num_firing": "{{ .Alerts.Firing | len }}",
                "num_resolved": "{{ .Alerts.Resolved | len }}"}}"##,
        );
        let want = am_render::recorded("/pd");
        assert_eq!(want.len(), 2);
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "pd",
                "{}/{severity=\"page\"}",
                &[
                    ("alertname", "DiskFull"),
                    ("severity", "page"),
                    ("instance", "db-1"),
                ],
                &[
                    ("summary", "Disk < 10% free"),
                    ("description", "<b>root</b> & more"),
                ],
                "http://prometheus/graph?g0.expr=disk",
                firing,
            );
            let (got, is_v1) = body(&g.notification, &s, &g.renderer()).unwrap();
            assert!(!is_v1);
            assert_eq!(got, w.body);
        }
    }
}
