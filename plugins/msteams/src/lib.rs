//! The `msteams` receiver: a Microsoft Teams incoming-webhook MessageCard. Alertmanager 0.25
//! has no Teams notifier; this follows 0.26's `notify/msteams/msteams.go`: `{"@context":
//! "http://schema.org/extensions", "type": "MessageCard", "title", "text", "themeColor"}`
//! with the rendered title and text and red (`8C1A1A`) or green (`2DC72D`) by the group's
//! status, encoded as Go's `json.Encoder` does, 5xx retried. As in 0.26, `summary` (a 0.27
//! field, defaulted by the host) is not sent, and the `User-Agent` is the other receivers'
//! `Alertmanager/0.25.0`.
//!
//! Settings: an `msteams_configs` entry with the defaults (`msteams.default.title`,
//! `msteams.default.text`) filled in by the host: `webhook_url`, `title`, `text`.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::json::{self, Object};
use sightline_sdk::template::Renderer;
use sightline_sdk::{log, Notification, NotifyError, Receiver, Settings};

/// 0.26's theme colours: firing, resolved.
const RED: &str = "8C1A1A";
const GREEN: &str = "2DC72D";

struct MsTeams;

/// The request body.
pub fn body(n: &Notification, s: &Settings, t: &Renderer) -> Result<String, NotifyError> {
    let title = t.text(&s.text("title")?);
    let text = t.text(&s.text("text")?);
    t.finish()?;
    let mut o = Object::new();
    o.str("@context", "http://schema.org/extensions")
        .str("type", "MessageCard")
        .str("title", &title)
        .str("text", &text)
        .str("themeColor", if n.is_firing() { RED } else { GREEN });
    Ok(json::encoded(o))
}

impl Receiver for MsTeams {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let url = s.require_text("webhook_url")?;
        let body = body(n, s, &Renderer::host())?;
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])?;
        Retrier::ALERTMANAGER.check(resp)?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(MsTeams);

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_sdk::settings::Tree;
    use sightline_sdk::AlertStatus;

    #[test]
    fn message_card_is_alertmanager_026s() {
        let n = Notification {
            receiver: "teams".into(),
            status: AlertStatus::Resolved,
            group_key: "k".into(),
            group_labels: vec![],
            common_labels: vec![],
            common_annotations: vec![],
            external_url: String::new(),
            alerts: vec![],
            truncated_alerts: 0,
        };
        let s = Settings::new(Tree::Map(vec![
            ("title".into(), Tree::Text("{{ T }}".into())),
            ("text".into(), Tree::Text("a < b & c".into())),
        ]));
        let t = Renderer::new(|_: &str| Ok("[RESOLVED] Disk".to_string()));
        assert_eq!(
            body(&n, &s, &t).unwrap(),
            "{\"@context\":\"http://schema.org/extensions\",\"type\":\"MessageCard\",\"title\":\"[RESOLVED] Disk\",\"text\":\"a \\u003c b \\u0026 c\",\"themeColor\":\"2DC72D\"}\n"
        );
    }
}

/// The golden cards of `host/daemon/tests/e2e/alertmanager/receivers.rs` (derived from
/// Alertmanager 0.26's source, see `tests/alertmanager/README.md`), rendered here with the
/// host's template engine.
#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    fn cards_are_the_golden_ones() {
        let golden = include_str!("../../../tests/alertmanager/msteams.golden");
        let want: Vec<&str> = golden.split_inclusive('\n').collect();
        let s = am_render::settings(
            r##"{"webhook_url": "http://sink/teams",
            "title": "{{ template \"msteams.default.title\" . }}",
            "summary": "{{ template \"msteams.default.summary\" . }}",
            "text": "{{ template \"msteams.default.text\" . }}"}"##,
        );
        for (w, firing) in want.iter().zip([true, false]) {
            let g = am_render::Group::new(
                "teams",
                "{}",
                &[
                    ("alertname", "DiskFull"),
                    ("severity", "page"),
                    ("instance", "db-1"),
                ],
                &[("summary", "Disk < 10% free")],
                "http://prometheus/graph?g0.expr=disk",
                firing,
            );
            assert_eq!(body(&g.notification, &s, &g.renderer()).unwrap(), *w);
        }
    }
}
