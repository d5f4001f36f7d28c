//! alertmanager.yml with its secrets hidden, for `GET /api/v2/status` (Alertmanager shows its
//! configuration with every `Secret` and `SecretURL` printed as `<secret>`).

use serde_yaml::Value;

use crate::receivers::extension_kind;

/// Setting names whose values are secrets somewhere in alertmanager.yml (`Secret` and
/// `SecretURL` fields of the integrations, `global` and `http_config`).
const SECRET_KEYS: &[&str] = &[
    "alert_source_token",
    "api_key",
    "api_secret",
    "api_url",
    "app_token",
    "auth_password",
    "auth_secret",
    "bearer_token",
    "bot_token",
    "client_certificate_key",
    "client_secret",
    "credentials",
    "key",
    "opsgenie_api_key",
    "password",
    "rocketchat_token",
    "rocketchat_token_id",
    "routing_key",
    "secret_key",
    "service_key",
    "slack_api_url",
    "slack_app_token",
    "smtp_auth_password",
    "smtp_auth_secret",
    "telegram_bot_token",
    "token",
    "token_id",
    "user_key",
    "victorops_api_key",
    "webhook_url",
    "wechat_api_secret",
];

/// `text` re-written with every secret value replaced by `<secret>` and passwords in URLs by
/// `xxxxx`, and without the `<plugin>_configs` extension; text that is not YAML is not shown
/// at all.
pub fn redacted_config(text: &str) -> String {
    let Ok(mut v) = serde_yaml::from_str::<Value>(text) else {
        return String::new();
    };
    drop_extensions(&mut v);
    redact(&mut v);
    let out = serde_yaml::to_string(&v).unwrap_or_default();
    sightline_config::redact_url_passwords(&out).into_owned()
}

/// Removes every receiver's `<plugin>_configs` keys that Alertmanager does not know.
fn drop_extensions(v: &mut Value) {
    let Some(receivers) = v
        .as_mapping_mut()
        .and_then(|m| m.get_mut("receivers"))
        .and_then(Value::as_sequence_mut)
    else {
        return;
    };
    for r in receivers {
        if let Some(m) = r.as_mapping_mut() {
            m.retain(|k, _| k.as_str().is_none_or(|k| extension_kind(k).is_none()));
        }
    }
}

fn redact(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            for (k, item) in m.iter_mut() {
                let secret = k.as_str().is_some_and(|k| SECRET_KEYS.contains(&k));
                if secret && matches!(item, Value::String(s) if !s.is_empty()) {
                    *item = Value::String("<secret>".into());
                } else {
                    redact(item);
                }
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(redact),
        Value::Tagged(t) => redact(&mut t.value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_the_rest_kept() {
        let text = "global:\n  slack_api_url: https://hooks.slack.com/x\nreceivers:\n  - name: p\n    pagerduty_configs:\n      - service_key: abc\n        url: http://u:pw@h/x\n";
        let r = redacted_config(text);
        assert!(
            !r.contains("abc") && !r.contains("hooks.slack.com") && !r.contains(":pw@"),
            "{r}"
        );
        assert!(
            r.contains("service_key: <secret>") && r.contains("name: p"),
            "{r}"
        );
        assert_eq!(redacted_config("{"), "");
    }

    #[test]
    fn plugin_extensions_are_left_out_for_amtool() {
        let text = "receivers:\n  - name: p\n    my-hook_configs:\n      - url: http://h/x\n        token_x: t\n    webhook_configs:\n      - url: http://w/\n";
        let r = redacted_config(text);
        assert!(!r.contains("my-hook") && !r.contains("token_x"), "{r}");
        assert!(
            r.contains("webhook_configs") && r.contains("name: p"),
            "{r}"
        );
    }
}
