//! The template defaults Alertmanager fills into each integration's settings
//! (`config/notifiers.go`'s `Default<Kind>Config`), and the rendering of templated settings
//! before a receiver plugin sees them.
//!
//! The host, not the plugin, renders Alertmanager templates: a receiver plugin gets its
//! settings with `{{ template "slack.default.title" . }}` already executed over the group
//! being notified, so no plugin reimplements Go templates (contract 0.1 has no template
//! import). Every string setting holding `{{` is rendered, recursively through lists and
//! maps; Alertmanager renders a fixed set of fields per integration, and a setting it does
//! not render (URLs, keys) holds no template text in practice.

use serde_yaml::{Mapping, Value};

/// The settings Alertmanager fills in when a `<kind>_configs` entry leaves them out.
pub fn template_defaults(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "slack" => &[
            (
                "color",
                r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#,
            ),
            ("username", r#"{{ template "slack.default.username" . }}"#),
            ("title", r#"{{ template "slack.default.title" . }}"#),
            (
                "title_link",
                r#"{{ template "slack.default.titlelink" . }}"#,
            ),
            (
                "icon_emoji",
                r#"{{ template "slack.default.iconemoji" . }}"#,
            ),
            ("icon_url", r#"{{ template "slack.default.iconurl" . }}"#),
            ("pretext", r#"{{ template "slack.default.pretext" . }}"#),
            ("text", r#"{{ template "slack.default.text" . }}"#),
            ("fallback", r#"{{ template "slack.default.fallback" . }}"#),
            (
                "callback_id",
                r#"{{ template "slack.default.callbackid" . }}"#,
            ),
            ("footer", r#"{{ template "slack.default.footer" . }}"#),
        ],
        "pagerduty" => &[
            (
                "description",
                r#"{{ template "pagerduty.default.description" .}}"#,
            ),
            ("client", r#"{{ template "pagerduty.default.client" . }}"#),
            (
                "client_url",
                r#"{{ template "pagerduty.default.clientURL" . }}"#,
            ),
        ],
        "email" => &[("html", r#"{{ template "email.default.html" . }}"#)],
        "opsgenie" => &[
            ("message", r#"{{ template "opsgenie.default.message" . }}"#),
            (
                "description",
                r#"{{ template "opsgenie.default.description" . }}"#,
            ),
            ("source", r#"{{ template "opsgenie.default.source" . }}"#),
        ],
        "wechat" => &[
            ("message", r#"{{ template "wechat.default.message" . }}"#),
            ("to_user", r#"{{ template "wechat.default.to_user" . }}"#),
            ("to_party", r#"{{ template "wechat.default.to_party" . }}"#),
            ("to_tag", r#"{{ template "wechat.default.to_tag" . }}"#),
            ("agent_id", r#"{{ template "wechat.default.agent_id" . }}"#),
        ],
        "victorops" => &[
            ("message_type", "CRITICAL"),
            (
                "state_message",
                r#"{{ template "victorops.default.state_message" . }}"#,
            ),
            (
                "entity_display_name",
                r#"{{ template "victorops.default.entity_display_name" . }}"#,
            ),
            (
                "monitoring_tool",
                r#"{{ template "victorops.default.monitoring_tool" . }}"#,
            ),
        ],
        "pushover" => &[
            ("title", r#"{{ template "pushover.default.title" . }}"#),
            ("message", r#"{{ template "pushover.default.message" . }}"#),
            ("url", r#"{{ template "pushover.default.url" . }}"#),
            (
                "priority",
                r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#,
            ),
        ],
        "sns" => &[
            ("subject", r#"{{ template "sns.default.subject" . }}"#),
            ("message", r#"{{ template "sns.default.message" . }}"#),
        ],
        "telegram" => &[
            ("message", r#"{{ template "telegram.default.message" . }}"#),
            ("parse_mode", "HTML"),
        ],
        "webex" => &[("message", r#"{{ template "webex.default.message" . }}"#)],
        "discord" => &[
            ("title", r#"{{ template "discord.default.title" . }}"#),
            ("message", r#"{{ template "discord.default.message" . }}"#),
        ],
        "msteams" => &[
            ("title", r#"{{ template "msteams.default.title" . }}"#),
            ("summary", r#"{{ template "msteams.default.summary" . }}"#),
            ("text", r#"{{ template "msteams.default.text" . }}"#),
        ],
        _ => &[],
    }
}

/// PagerDuty's default `details` (`DefaultPagerdutyDetails`), merged under the configured
/// ones.
const PAGERDUTY_DETAILS: [(&str, &str); 4] = [
    (
        "firing",
        r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#,
    ),
    (
        "resolved",
        r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#,
    ),
    ("num_firing", "{{ .Alerts.Firing | len }}"),
    ("num_resolved", "{{ .Alerts.Resolved | len }}"),
];

/// `settings` with Alertmanager's defaults filled in for `kind` (a key written as `null`
/// or left out gets the default; an explicit empty string stays empty, as in Go).
pub fn with_defaults(kind: &str, settings: &Mapping) -> Mapping {
    let mut out = settings.clone();
    for (k, v) in template_defaults(kind) {
        let key = Value::String((*k).to_string());
        if matches!(out.get(&key), None | Some(Value::Null)) {
            out.insert(key, Value::String((*v).to_string()));
        }
    }
    if kind == "pagerduty" {
        let key = Value::String("details".into());
        let mut details = match out.get(&key) {
            Some(Value::Mapping(m)) => m.clone(),
            _ => Mapping::new(),
        };
        for (k, v) in PAGERDUTY_DETAILS {
            let dk = Value::String(k.into());
            if !details.contains_key(&dk) {
                details.insert(dk, Value::String(v.into()));
            }
        }
        out.insert(key, Value::Mapping(details));
        // `if c.Source == "" { c.Source = c.Client }`, after the defaults.
        let source = Value::String("source".into());
        let empty = match out.get(&source) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if empty {
            if let Some(client) = out.get(Value::String("client".into())).cloned() {
                out.insert(source, client);
            }
        }
    }
    out
}

/// Renders every string holding template text (`{{`), recursively; the error names the
/// setting's path.
pub fn render_settings(
    settings: &Mapping,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Mapping, String> {
    let mut out = Mapping::new();
    for (k, v) in settings {
        let name = match k {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        out.insert(k.clone(), render_value(v, &name, render)?);
    }
    Ok(out)
}

fn render_value(
    v: &Value,
    path: &str,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) if s.contains("{{") => {
            Value::String(render(s).map_err(|e| format!("{path}: failed to template {s:?}: {e}"))?)
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| render_value(item, &format!("{path}[{i}]"), render))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, item) in m {
                let key = match k {
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                out.insert(
                    k.clone(),
                    render_value(item, &format!("{path}.{key}"), render)?,
                );
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(yaml: &str) -> Mapping {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn pagerduty_gets_alertmanagers_defaults() {
        let m = with_defaults(
            "pagerduty",
            &map("service_key: k\ndetails:\n  firing: mine\n"),
        );
        let d = m.get("details").unwrap().as_mapping().unwrap();
        assert_eq!(d.get("firing").unwrap().as_str(), Some("mine"));
        assert_eq!(
            d.get("num_firing").unwrap().as_str(),
            Some("{{ .Alerts.Firing | len }}")
        );
        assert_eq!(
            m.get("source").unwrap().as_str(),
            Some(r#"{{ template "pagerduty.default.client" . }}"#)
        );
        let explicit = with_defaults("slack", &map("title: ''\n"));
        assert_eq!(explicit.get("title").unwrap().as_str(), Some(""));
        assert!(explicit.get("footer").is_some());
    }

    #[test]
    fn renders_template_text_only_and_names_the_failing_setting() {
        let m = map("a: plain\nb: '{{ x }}'\nc:\n  - title: '{{ y }}'\n");
        let r = render_settings(&m, &|s| Ok(s.replace("{{ ", "<").replace(" }}", ">"))).unwrap();
        assert_eq!(r.get("a").unwrap().as_str(), Some("plain"));
        assert_eq!(r.get("b").unwrap().as_str(), Some("<x>"));
        let e = render_settings(&m, &|_| Err("boom".into())).unwrap_err();
        assert!(e.starts_with("b: failed to template"), "{e}");
    }
}
