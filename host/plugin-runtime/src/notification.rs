//! Plain values of plugin contract 0.2's receivers: the typed notification, the settings
//! document, the template scope of a call, and the contract version itself.

use std::sync::{Arc, OnceLock};

use sightline_model::Labels;

/// The plugin contract a component implements, told by its exports: 0.2.0 exports the
/// versioned interfaces (`sightline:plugin/exporter@0.2.0`, ...), 0.1.0 bare functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `sightline:plugin@0.1.0` (`wit/plugin.wit`).
    V0_1,
    /// `sightline:plugin@0.2.0` (`wit/v0.2/plugin.wit`).
    V0_2,
}

impl Contract {
    /// The version as written in WIT and shown to users: `0.1.0` or `0.2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }
}

/// Whether an alert (or a group) is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    /// Firing.
    Firing,
    /// Resolved.
    Resolved,
}

impl AlertStatus {
    /// `firing` for "firing", `resolved` for anything else (Alertmanager's two statuses).
    pub fn parse(s: &str) -> AlertStatus {
        if s == "firing" {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        }
    }
}

/// One alert of a [`Notification`].
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationAlert {
    /// Firing or resolved.
    pub status: AlertStatus,
    /// Labels.
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// Start, nanoseconds since the Unix epoch.
    pub starts_at_ns: i64,
    /// End, nanoseconds since the Unix epoch; `None` for Go's zero time.
    pub ends_at_ns: Option<i64>,
    /// Link to the expression.
    pub generator_url: String,
    /// Fingerprint, 16 hex digits.
    pub fingerprint: String,
}

/// One alert group being notified, typed (contract 0.2's `notification`).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The alertmanager.yml receiver's name.
    pub receiver: String,
    /// Firing if any alert fires.
    pub status: AlertStatus,
    /// The aggregation group's key.
    pub group_key: String,
    /// The group's labels.
    pub group_labels: Labels,
    /// Labels common to all alerts.
    pub common_labels: Labels,
    /// Annotations common to all alerts.
    pub common_annotations: Labels,
    /// The sender's external URL.
    pub external_url: String,
    /// The alerts (after `max_alerts`).
    pub alerts: Vec<NotificationAlert>,
    /// Alerts left out because of `max_alerts`.
    pub truncated_alerts: u32,
}

/// A settings value: what a YAML or JSON document holds. Maps keep the source's order.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsValue {
    /// `null` (or `~`).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A non-integer number.
    Number(f64),
    /// A string.
    Text(String),
    /// A sequence.
    List(Vec<SettingsValue>),
    /// A mapping, in the source's order.
    Map(Vec<(String, SettingsValue)>),
}

impl SettingsValue {
    /// The value of `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&SettingsValue> {
        match self {
            SettingsValue::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The settings of a JSON value (object keys in their order).
    pub fn from_json(v: &serde_json::Value) -> SettingsValue {
        use serde_json::Value as J;
        match v {
            J::Null => SettingsValue::Null,
            J::Bool(b) => SettingsValue::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => SettingsValue::Integer(i),
                None => SettingsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => SettingsValue::Text(s.clone()),
            J::Array(a) => SettingsValue::List(a.iter().map(SettingsValue::from_json).collect()),
            J::Object(m) => SettingsValue::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), SettingsValue::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// What a call's `template` import renders with: the template set (Alertmanager's
/// `default.tmpl` and the alertmanager.yml's `templates:`) and the data of the notification
/// being delivered (`None` outside a receiver's `notify`: `.` is then Go's zero
/// `template.Data`).
#[derive(Clone)]
pub struct TemplateScope {
    /// The template set.
    pub templates: Arc<sightline_template::Template>,
    /// The notification's data.
    pub data: Option<sightline_template::alertmanager::Data>,
}

impl std::fmt::Debug for TemplateScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateScope")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl TemplateScope {
    /// `default.tmpl` alone with no data: the scope of every call but a receiver's `notify`.
    pub fn default_only() -> TemplateScope {
        TemplateScope {
            templates: default_templates(),
            data: None,
        }
    }
}

/// Alertmanager's `default.tmpl` with no `templates:` files, parsed once.
pub fn default_templates() -> Arc<sightline_template::Template> {
    static DEFAULT: OnceLock<Arc<sightline_template::Template>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let set = sightline_template::alertmanager::from_texts(
                &[],
                sightline_template::Options::default(),
            )
            // The vendored default.tmpl is parsed by the template crate's own tests; an
            // empty set still renders plain text if it ever failed.
            .unwrap_or_else(|_| {
                sightline_template::Template::new("", sightline_template::alertmanager::funcs())
            });
            Arc::new(set)
        })
        .clone()
}
