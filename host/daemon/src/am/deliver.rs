//! Delivery through receiver plugins: an alertmanager.yml `<kind>_configs` entry is served
//! by the receiver plugin named `<kind>` (`plugins/slack.wasm` for `slack_configs`).
//!
//! The host prepares everything Alertmanager's built-in notifier would compute before its
//! HTTP request: the integration's defaults (`{{ template "slack.default.title" . }}`, ...),
//! every template rendered over the group's data with `default.tmpl` and the config's
//! `templates:`, and `*_file` secrets read. The plugin gets the result as its `config` and
//! the group as webhook-shaped data, and only builds and sends the request.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_yaml::{Mapping, Value};
use sightline_alerts::TemplateData;
use sightline_model::Labels;
use sightline_plugin_runtime::{Alert as PluginAlert, AlertGroup, PluginHost};

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
        let value = data.to_value();
        let rendered = sightline_alerts::render_settings(&settings, &|text| {
            sightline_template::alertmanager::execute_text_string(&self.templates, text, &value)
                .map_err(|e| e.to_string())
        })?;
        let mut flat = sightline_alerts::flatten_settings(&rendered);
        flat.insert("send_resolved".into(), self.send_resolved.to_string());
        Ok((plugin_group(data), flat))
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
