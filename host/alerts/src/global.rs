//! `global:` of alertmanager.yml (`config.GlobalConfig`) with Alertmanager's defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_yaml::Value;

use crate::schema::{self, Ty};
use crate::yamlx::{self, entries, Node, Src, R};

/// The global keys and how each is read.
const FIELDS: &[(&str, Ty)] = &[
    ("resolve_timeout", Ty::PromDur),
    ("http_config", Ty::Http),
    ("jira_api_url", Ty::Url),
    ("smtp_from", Ty::Str),
    ("smtp_hello", Ty::Str),
    ("smtp_smarthost", Ty::Str),
    ("smtp_auth_username", Ty::Str),
    ("smtp_auth_password", Ty::Secret),
    ("smtp_auth_password_file", Ty::Str),
    ("smtp_auth_secret", Ty::Secret),
    ("smtp_auth_secret_file", Ty::Str),
    ("smtp_auth_identity", Ty::Str),
    ("smtp_require_tls", Ty::Bool),
    ("smtp_tls_config", Ty::Tls),
    ("smtp_force_implicit_tls", Ty::Bool),
    ("slack_api_url", Ty::SecretUrl),
    ("slack_api_url_file", Ty::Str),
    ("slack_app_token", Ty::Secret),
    ("slack_app_token_file", Ty::Str),
    ("slack_app_url", Ty::Url),
    ("pagerduty_url", Ty::Url),
    ("opsgenie_api_url", Ty::Url),
    ("opsgenie_api_key", Ty::Secret),
    ("opsgenie_api_key_file", Ty::Str),
    ("wechat_api_url", Ty::Url),
    ("wechat_api_secret", Ty::Secret),
    ("wechat_api_secret_file", Ty::Str),
    ("wechat_api_corp_id", Ty::Str),
    ("victorops_api_url", Ty::Url),
    ("victorops_api_key", Ty::Secret),
    ("victorops_api_key_file", Ty::Str),
    ("telegram_api_url", Ty::Url),
    ("telegram_bot_token", Ty::Secret),
    ("telegram_bot_token_file", Ty::Str),
    ("webex_api_url", Ty::Url),
    ("rocketchat_api_url", Ty::Url),
    ("rocketchat_token", Ty::Secret),
    ("rocketchat_token_file", Ty::Str),
    ("rocketchat_token_id", Ty::Secret),
    ("rocketchat_token_id_file", Ty::Str),
    ("mattermost_webhook_url", Ty::SecretUrl),
    ("mattermost_webhook_url_file", Ty::Str),
];

/// Alertmanager's `DefaultGlobalConfig()` URLs and SMTP settings.
const DEFAULTS: &[(&str, &str)] = &[
    ("smtp_hello", "localhost"),
    ("pagerduty_url", "https://events.pagerduty.com/v2/enqueue"),
    ("opsgenie_api_url", "https://api.opsgenie.com/"),
    ("wechat_api_url", "https://qyapi.weixin.qq.com/cgi-bin/"),
    (
        "victorops_api_url",
        "https://alert.victorops.com/integrations/generic/20131114/alert/",
    ),
    ("telegram_api_url", "https://api.telegram.org"),
    ("webex_api_url", "https://webexapis.com/v1/messages"),
    ("rocketchat_api_url", "https://open.rocket.chat/"),
    ("slack_app_url", "https://slack.com/api/chat.postMessage"),
];

/// The global settings. `Debug` hides the values: several are secrets.
#[derive(Clone)]
pub struct GlobalConfig {
    /// `resolve_timeout` (default 5m).
    pub resolve_timeout: Duration,
    /// `smtp_require_tls` (default true).
    pub smtp_require_tls: bool,
    /// Every other key that is set (or defaulted), as written.
    pub settings: BTreeMap<String, Value>,
}

impl std::fmt::Debug for GlobalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalConfig")
            .field("resolve_timeout", &self.resolve_timeout)
            .field("smtp_require_tls", &self.smtp_require_tls)
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout: Duration::from_secs(300),
            smtp_require_tls: true,
            settings: DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        }
    }
}

impl GlobalConfig {
    /// A setting's text when set and non-empty (Go's zero value otherwise).
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.settings.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// A setting as written (mappings such as `http_config`).
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.settings.get(key).filter(|v| !v.is_null())
    }
}

pub(crate) fn parse(src: Src<'_>, n: &Node<'_>) -> R<GlobalConfig> {
    let names: Vec<&str> = FIELDS.iter().map(|(k, _)| *k).collect();
    let mut g = GlobalConfig::default();
    for (key, child) in entries(src, n, "config.plain", &names)? {
        let Some((_, ty)) = FIELDS.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        schema::check(src, &child, *ty)?;
        match key.as_str() {
            "resolve_timeout" => {
                if !child.is_null() {
                    g.resolve_timeout = yamlx::prom_duration(src, &child)?;
                }
            }
            "smtp_require_tls" => g.smtp_require_tls = yamlx::boolean(src, &child)?,
            "smtp_smarthost" => {
                let s = yamlx::string(src, &child)?;
                check_host_port(&s).map_err(|e| src.err(&child.path, e))?;
                g.settings.insert(key, Value::String(s));
            }
            _ => {
                let v = match child.v {
                    Value::Mapping(_) | Value::Sequence(_) | Value::Null => child.v.clone(),
                    other => Value::String(yamlx::scalar_text(other).unwrap_or_default()),
                };
                if v.is_null() {
                    // An explicit null keeps nothing, as yaml.v2 leaves a nil pointer.
                    g.settings.remove(&key);
                } else {
                    g.settings.insert(key, v);
                }
            }
        }
    }
    Ok(g)
}

/// Go's `net.SplitHostPort` plus Alertmanager's "port cannot be empty"; empty is unset.
pub(crate) fn check_host_port(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let missing = || format!("address {s}: missing port in address");
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {s}: missing ']' in address"))?;
        let port = after.strip_prefix(':').ok_or_else(missing)?;
        (h, port)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or_else(missing)?;
        if h.contains(':') {
            return Err(format!("address {s}: too many colons in address"));
        }
        (h, p)
    };
    let _ = host;
    if port.is_empty() {
        return Err(format!("address {s:?}: port cannot be empty"));
    }
    Ok(())
}

/// The mutual exclusions `Config.UnmarshalYAML` checks on `global`, in its order.
pub(crate) fn check_exclusions(g: &GlobalConfig) -> Result<(), String> {
    let has = |k: &str| {
        g.value(k)
            .is_some_and(|v| !matches!(v, Value::String(s) if s.is_empty()))
    };
    let pairs = [
        ("slack_app_token", "slack_app_token_file"),
        ("slack_api_url", "slack_api_url_file"),
    ];
    for (a, b) in pairs {
        if has(a) && has(b) {
            return Err(format!("at most one of {a} & {b} must be configured"));
        }
    }
    if (has("slack_app_token") || has("slack_app_token_file"))
        && (has("slack_api_url") || has("slack_api_url_file"))
        && g.str("slack_api_url") != g.str("slack_app_url")
    {
        return Err("at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured".into());
    }
    for (a, b) in [
        ("opsgenie_api_key", "opsgenie_api_key_file"),
        ("victorops_api_key", "victorops_api_key_file"),
        ("telegram_bot_token", "telegram_bot_token_file"),
        ("smtp_auth_password", "smtp_auth_password_file"),
        ("rocketchat_token", "rocketchat_token_file"),
        ("rocketchat_token_id", "rocketchat_token_id_file"),
        ("smtp_auth_secret", "smtp_auth_secret_file"),
        ("wechat_api_secret", "wechat_api_secret_file"),
        ("mattermost_webhook_url", "mattermost_webhook_url_file"),
    ] {
        if has(a) && has(b) {
            return Err(format!("at most one of {a} & {b} must be configured"));
        }
    }
    Ok(())
}
