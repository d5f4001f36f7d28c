//! Delivery through receiver plugins: an alertmanager.yml `<kind>_configs` entry is served
//! by the receiver plugin named `<kind>` (`plugins/slack.wasm` for `slack_configs`), for
//! Alertmanager's kinds and for Sightline's `<plugin>_configs` extension alike (an
//! extension's entry has no Alertmanager defaults to fill in; the rest is the same).
//!
//! Contract 0.1 plugins: the host prepares everything Alertmanager's built-in notifier would
//! compute before its HTTP request: the integration's defaults
//! (`{{ template "slack.default.title" . }}`, ...), every template rendered over the group's
//! data with `default.tmpl` and the config's `templates:`, and `*_file` secrets read. The
//! plugin gets the result as its `config` and the group as webhook-shaped data, and only
//! builds and sends the request.
//!
//! Contract 0.2 plugins ([`PluginIntegration::prepare_typed`]) get the typed notification
//! and the entry as a structured document: defaults filled in, global values inherited,
//! `*_file` secrets read, `http_config` removed (the host applies it to the plugin's
//! requests), `send_resolved` a boolean, and templates NOT rendered: the plugin renders the
//! fields Alertmanager renders through the `template` import, which the host binds to the
//! notification's data and the config's templates.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_yaml::{Mapping, Value};
use sightline_alerts::TemplateData;
use sightline_model::Labels;
use sightline_plugin_runtime::{
    Alert as PluginAlert, AlertGroup, AlertStatus, Notification, NotificationAlert, PluginHost,
    SettingsValue, TemplateScope,
};

/// Settings naming a file whose content is another setting's value (`api_url_file` gives
/// `api_url`). Alertmanager reads them at notification time; so does the host, since a
/// plugin has no access to the daemon's files.
const SECRET_FILES: &[(&str, &str)] = &[
    ("api_url_file", "api_url"),
    ("api_key_file", "api_key"),
    ("service_key_file", "service_key"),
    ("routing_key_file", "routing_key"),
    ("url_file", "url"),
    ("bot_token_file", "bot_token"),
    ("token_file", "token"),
    ("user_key_file", "user_key"),
    ("webhook_url_file", "webhook_url"),
    ("auth_password_file", "auth_password"),
    ("api_secret_file", "api_secret"),
];

/// One integration served by a plugin.
pub(crate) struct PluginIntegration {
    pub(crate) plugins: PluginHost,
    pub(crate) kind: String,
    pub(crate) index: usize,
    pub(crate) send_resolved: bool,
    /// The entry's settings after `$VAR` expansion and global inheritance.
    pub(crate) settings: Mapping,
    pub(crate) templates: Arc<sightline_template::Template>,
    /// Relative `*_file` paths are relative to the config file's directory.
    pub(crate) base_dir: PathBuf,
    /// The entry's `http_config` (email: `tls_config`), applied by the host to the
    /// plugin's requests; the plugin's settings leave it out.
    pub(crate) profile: Option<sightline_plugin_runtime::HttpProfile>,
}

impl PluginIntegration {
    /// The group and the plugin's settings for one notification.
    pub(crate) fn prepare(
        &self,
        data: &TemplateData,
    ) -> Result<(AlertGroup, BTreeMap<String, String>), String> {
        let settings = self.settings_with_secrets()?;
        let value = data.to_value();
        let rendered = sightline_alerts::render_settings(&settings, &|text| {
            sightline_template::alertmanager::execute_text_string(&self.templates, text, &value)
                .map_err(|e| e.to_string())
        })?;
        let mut flat = sightline_alerts::flatten_settings(&rendered);
        flat.insert("send_resolved".into(), self.send_resolved.to_string());
        Ok((plugin_group(data), flat))
    }

    /// The entry with Alertmanager's defaults filled in and its `*_file` secrets read.
    fn settings_with_secrets(&self) -> Result<Mapping, String> {
        let mut settings = sightline_alerts::with_defaults(&self.kind, &self.settings);
        // Credentials and TLS material stay with the host (see `http_config.rs`).
        for key in super::http_config::host_keys(&self.kind) {
            settings.remove(*key);
        }
        for (file_key, key) in SECRET_FILES {
            let Some(Value::String(path)) = settings.get(*file_key).cloned() else {
                continue;
            };
            let full = self.base_dir.join(&path);
            let text = std::fs::read_to_string(&full)
                .map_err(|e| format!("{file_key}: {}: {e}", full.display()))?;
            settings.insert(
                Value::String((*key).to_string()),
                Value::String(text.trim().to_string()),
            );
            settings.remove(*file_key);
        }
        Ok(settings)
    }

    /// The notification, the settings document and the template scope of one notification
    /// to a contract 0.2 plugin (see the module's comment for the settings contract).
    pub(crate) fn prepare_typed(
        &self,
        data: &TemplateData,
    ) -> Result<(Notification, SettingsValue, TemplateScope), String> {
        let mut settings = self.settings_with_secrets()?;
        settings.remove("http_config");
        settings.insert(
            Value::String("send_resolved".into()),
            Value::Bool(self.send_resolved),
        );
        let max_alerts = settings
            .get("max_alerts")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let scope = TemplateScope {
            templates: self.templates.clone(),
            data: Some(data.to_template_data()),
        };
        Ok((
            typed_notification(data, max_alerts),
            settings_value(&Value::Mapping(settings)),
            scope,
        ))
    }
}

/// A YAML value as the runtime's settings value (mapping keys in the file's order; a
/// non-string key as YAML writes it).
pub(crate) fn settings_value(v: &Value) -> SettingsValue {
    match v {
        Value::Null => SettingsValue::Null,
        Value::Bool(b) => SettingsValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SettingsValue::Integer(i),
            None => SettingsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SettingsValue::Text(s.clone()),
        Value::Sequence(items) => SettingsValue::List(items.iter().map(settings_value).collect()),
        Value::Mapping(m) => SettingsValue::Map(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other)
                            .map(|s| s.trim_end().to_string())
                            .unwrap_or_default(),
                    };
                    (key, settings_value(v))
                })
                .collect(),
        ),
        Value::Tagged(t) => settings_value(&t.value),
    }
}

/// The group typed for contract 0.2: times in nanoseconds (`None` for Go's zero end time),
/// the alerts cut to `max_alerts` (0: all) as Alertmanager's webhook cuts them.
pub(crate) fn typed_notification(data: &TemplateData, max_alerts: u64) -> Notification {
    let keep = if max_alerts == 0 {
        data.alerts.len()
    } else {
        usize::try_from(max_alerts).unwrap_or(usize::MAX)
    };
    let ns = |ms: i64| ms.saturating_mul(1_000_000);
    let alerts: Vec<NotificationAlert> = data
        .alerts
        .iter()
        .take(keep)
        .map(|a| NotificationAlert {
            status: AlertStatus::parse(&a.status),
            labels: labels(&a.labels),
            annotations: labels(&a.annotations),
            starts_at_ns: ns(a.starts_at),
            ends_at_ns: a.ends_at.map(ns),
            generator_url: a.generator_url.clone(),
            fingerprint: a.fingerprint.clone(),
        })
        .collect();
    Notification {
        receiver: data.receiver.clone(),
        status: AlertStatus::parse(&data.status),
        group_key: data.group_key.clone(),
        group_labels: labels(&data.group_labels),
        common_labels: labels(&data.common_labels),
        common_annotations: labels(&data.common_annotations),
        external_url: data.external_url.clone(),
        truncated_alerts: u32::try_from(data.alerts.len() - alerts.len()).unwrap_or(u32::MAX),
        alerts,
    }
}

fn labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(m.iter().map(|(k, v)| (k.clone(), v.clone())))
}

/// The group as the plugin contract carries it (the webhook payload's fields).
pub(crate) fn plugin_group(data: &TemplateData) -> AlertGroup {
    AlertGroup {
        version: "4".into(),
        group_key: data.group_key.clone(),
        truncated_alerts: 0,
        status: data.status.clone(),
        receiver: data.receiver.clone(),
        group_labels: labels(&data.group_labels),
        common_labels: labels(&data.common_labels),
        common_annotations: labels(&data.common_annotations),
        external_url: data.external_url.clone(),
        alerts: data
            .alerts
            .iter()
            .map(|a| PluginAlert {
                status: a.status.clone(),
                labels: labels(&a.labels),
                annotations: labels(&a.annotations),
                starts_at: sightline_alerts::rfc3339(Some(a.starts_at)),
                ends_at: sightline_alerts::rfc3339(a.ends_at),
                generator_url: a.generator_url.clone(),
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_alerts::DataAlert;

    fn alert(name: &str, ends_at: Option<i64>) -> DataAlert {
        DataAlert {
            status: if ends_at.is_some() {
                "resolved"
            } else {
                "firing"
            }
            .to_string(),
            labels: BTreeMap::from([("alertname".to_string(), name.to_string())]),
            annotations: BTreeMap::new(),
            starts_at: 1_700_000_000_123,
            ends_at,
            generator_url: String::new(),
            fingerprint: "0000000000000001".to_string(),
        }
    }

    /// Contract 0.2's notification: ns times, Go's zero end time as none, `max_alerts`
    /// cutting the alerts and counted as truncated.
    #[test]
    fn typed_notification_cuts_to_max_alerts() {
        let data = TemplateData {
            receiver: "team".to_string(),
            status: "firing".to_string(),
            alerts: vec![alert("A", None), alert("B", Some(1_700_000_001_000))],
            group_labels: BTreeMap::new(),
            common_labels: BTreeMap::new(),
            common_annotations: BTreeMap::new(),
            external_url: "http://x".to_string(),
            group_key: "{}:{}".to_string(),
        };
        let n = typed_notification(&data, 1);
        assert_eq!((n.alerts.len(), n.truncated_alerts), (1, 1));
        assert_eq!(n.alerts[0].starts_at_ns, 1_700_000_000_123_000_000);
        assert_eq!(n.alerts[0].ends_at_ns, None);
        assert_eq!(n.status, AlertStatus::Firing);
        let all = typed_notification(&data, 0);
        assert_eq!((all.alerts.len(), all.truncated_alerts), (2, 0));
        assert_eq!(all.alerts[1].ends_at_ns, Some(1_700_000_001_000_000_000));
        assert_eq!(all.alerts[1].status, AlertStatus::Resolved);
    }

    #[test]
    fn settings_keep_structure_and_order() {
        let v: Value =
            serde_yaml::from_str("z: 1\na: [x, {b: true}]\nf: 0.5\nn: ~\n").unwrap_or_default();
        assert_eq!(
            settings_value(&v),
            SettingsValue::Map(vec![
                ("z".into(), SettingsValue::Integer(1)),
                (
                    "a".into(),
                    SettingsValue::List(vec![
                        SettingsValue::Text("x".into()),
                        SettingsValue::Map(vec![("b".into(), SettingsValue::Bool(true))]),
                    ])
                ),
                ("f".into(), SettingsValue::Number(0.5)),
                ("n".into(), SettingsValue::Null),
            ])
        );
    }
}
