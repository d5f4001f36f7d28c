//! Test support for the receivers' native unit tests: a [`Renderer`] over the host's template
//! engine (Alertmanager's `default.tmpl`, `missingkey=zero`) for a notification, settings
//! from JSON, and the requests the real Alertmanager 0.25 sent for
//! `host/daemon/tests/e2e/alertmanager/receivers.rs`'s alerts and config, recorded in
//! `plugins/testdata/am-0.25-receivers.jsonl` (one JSON object per request: request line,
//! headers, body).

use std::collections::BTreeMap;

use sightline_sdk::settings::{Settings, Tree};
use sightline_sdk::template::Renderer;
use sightline_sdk::{Alert, AlertStatus, Label, Notification};
use sightline_template::alertmanager::{self as am, Data};
use sightline_template::{Options, Time};

/// The external URL of the recording Alertmanager.
pub const EXTERNAL_URL: &str = "http://vm:18962";

const RECORDED: &str = include_str!("../../../testdata/am-0.25-receivers.jsonl");

/// One request Alertmanager sent.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, `PUT`.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The body as sent.
    pub body: String,
}

/// The recorded requests whose path starts with `prefix`, in the order they were sent.
pub fn recorded(prefix: &str) -> Vec<Recorded> {
    RECORDED
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let line = v["line"].as_str()?.to_string();
            let mut parts = line.split(' ');
            let method = parts.next()?.to_string();
            let path = parts.next()?.to_string();
            path.starts_with(prefix).then(|| Recorded {
                method,
                path,
                user_agent: v["headers"]["user-agent"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                body: v["body"].as_str().unwrap_or("").to_string(),
            })
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn labels(m: &BTreeMap<String, String>) -> Vec<Label> {
    m.iter()
        .map(|(k, v)| Label::new(k.clone(), v.clone()))
        .collect()
}

/// One alert group of one alert, as `receivers.rs` posts it (firing, or resolved at
/// 2026-01-01T00:00:01Z), for `receiver` on the route whose key is `route_key`.
pub struct Group {
    /// What the plugin gets.
    pub notification: Notification,
    data: Data,
}

impl Group {
    /// The group of the alert with `labels` and `annotations`, grouped by `alertname`.
    pub fn new(
        receiver: &str,
        route_key: &str,
        labels_: &[(&str, &str)],
        annotations: &[(&str, &str)],
        generator_url: &str,
        firing: bool,
    ) -> Group {
        let (labels_, annotations) = (map(labels_), map(annotations));
        let alertname = labels_.get("alertname").cloned().unwrap_or_default();
        let group_labels = map(&[("alertname", &alertname)]);
        let starts = 1_767_225_600_000_000_000;
        let ends = if firing {
            None
        } else {
            Some(starts + 1_000_000_000)
        };
        let status = if firing { "firing" } else { "resolved" };
        let tmpl_alert = am::Alert {
            status: status.into(),
            labels: labels_.clone(),
            annotations: annotations.clone(),
            starts_at: Time::from_unix_nanos(starts),
            ends_at: Time::from_unix_nanos(ends.unwrap_or(0)),
            generator_url: generator_url.into(),
            fingerprint: String::new(),
        };
        let data = Data::new(
            receiver,
            group_labels.clone(),
            vec![tmpl_alert],
            EXTERNAL_URL,
        );
        let st = if firing {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        };
        let notification = Notification {
            receiver: receiver.into(),
            status: st,
            group_key: format!("{route_key}:{{alertname=\"{alertname}\"}}"),
            group_labels: labels(&group_labels),
            common_labels: labels(&data.common_labels),
            common_annotations: labels(&data.common_annotations),
            external_url: EXTERNAL_URL.into(),
            alerts: vec![Alert {
                status: st,
                labels: labels(&labels_),
                annotations: labels(&annotations),
                starts_at_ns: starts,
                ends_at_ns: ends,
                generator_url: generator_url.into(),
                fingerprint: String::new(),
            }],
            truncated_alerts: 0,
        };
        Group { notification, data }
    }

    /// Text templates over this group, as the host renders them.
    pub fn renderer(&self) -> Renderer<'static> {
        let set = am::from_texts(&[], Options::default()).expect("default.tmpl parses");
        let value = self.data.to_value();
        Renderer::new(move |text: &str| {
            am::execute_text_string(&set, text, &value).map_err(|e| e.to_string())
        })
    }
}

/// Settings from JSON (objects, arrays, strings, booleans, integers).
pub fn settings(json: &str) -> Settings {
    fn tree(v: &serde_json::Value) -> Tree {
        match v {
            serde_json::Value::Null => Tree::Null,
            serde_json::Value::Bool(b) => Tree::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Tree::Integer(i),
                None => Tree::Number(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Tree::Text(s.clone()),
            serde_json::Value::Array(items) => Tree::List(items.iter().map(tree).collect()),
            serde_json::Value::Object(m) => {
                Tree::Map(m.iter().map(|(k, v)| (k.clone(), tree(v))).collect())
            }
        }
    }
    Settings::new(tree(&serde_json::from_str(json).expect("settings JSON")))
}
