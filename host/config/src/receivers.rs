//! The `receivers:` of an alertmanager.yml, resolved to receiver plugins.
//!
//! Contract: a receiver's `<name>_configs` entries are served by the receiver plugin
//! `<name>` (`slack_configs` → `slack`, `pagerduty_configs` → `pagerduty`, `webhook_configs`
//! → `webhook`, and any dropped-in plugin the same way, as the alert manager's
//! `<plugin>_configs` extension does). Each entry's settings become the
//! plugin's config keys: nested mappings are flattened with dots (`http_config.basic_auth.
//! username`), lists are passed as JSON text. `$VAR` and `${VAR}` (and `$$` for a dollar) in
//! setting values are expanded from the environment; an unset variable is an error naming the
//! variable and its position.
//!
//! Only `receivers:` is read here; routing, inhibition and the rest of alertmanager.yml belong
//! to the alert manager.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_yaml::Value;

use crate::de::{error_at, yaml_error, Seg};
use crate::error::{Error, Result};

/// One receiver of alertmanager.yml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// Its `name`.
    pub name: String,
    /// Its integrations, in file order.
    pub integrations: Vec<Integration>,
}

/// One entry of a receiver's `<kind>_configs` list. `Debug` prints setting values as
/// `<secret>`: they hold webhook URLs, service keys and tokens, and only the receiver plugin
/// knows which are which.
#[derive(Clone, PartialEq, Eq)]
pub struct Integration {
    /// The receiver plugin that serves it (`<kind>`).
    pub plugin: String,
    /// Index within its `<kind>_configs` list.
    pub index: usize,
    /// Flattened, `$VAR`-expanded settings.
    pub settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let settings: BTreeMap<&str, &str> = self
            .settings
            .keys()
            .map(|k| (k.as_str(), "<secret>"))
            .collect();
        f.debug_struct("Integration")
            .field("plugin", &self.plugin)
            .field("index", &self.index)
            .field("settings", &settings)
            .finish()
    }
}

/// Expands `$VAR` and `${VAR}` (and `$$` to `$`) with `env`. The error is the name of the
/// first unset variable.
pub fn expand_vars(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                out.push_str(&rest[i..]);
                return Ok(out);
            };
            let name = &tail[..end];
            out.push_str(&env(name).ok_or_else(|| name.to_string())?);
            rest = &tail[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..end];
            out.push_str(&env(name).ok_or_else(|| name.to_string())?);
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// [`expand_vars`] applied only outside `{{ ... }}` template actions: a template's own `$x`
/// variables are not environment variables. An unclosed `{{` leaves the rest as written.
pub fn expand_vars_outside_templates(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        out.push_str(&expand_vars(&rest[..open], env)?);
        match rest[open..].find("}}") {
            Some(close) => {
                out.push_str(&rest[open..open + close + 2]);
                rest = &rest[open + close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                return Ok(out);
            }
        }
    }
    out.push_str(&expand_vars(rest, env)?);
    Ok(out)
}

/// Reads the receivers of an alertmanager.yml file, expanding variables from the process
/// environment.
pub fn load_receivers_file(path: impl AsRef<Path>) -> Result<Vec<Receiver>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    load_receivers_str(&text, &path.display().to_string(), &|k| {
        std::env::var(k).ok()
    })
}

/// Parses the receivers of alertmanager.yml text; `source_name` prefixes error positions.
pub fn load_receivers_str(
    yaml: &str,
    source_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Receiver>> {
    crate::de::check_yaml_nesting(yaml, source_name)?;
    let doc: Value = serde_yaml::from_str(yaml).map_err(|e| yaml_error(source_name, &e))?;
    let at = |path: &[Seg], msg: String| error_at(source_name, yaml, path, msg);
    let list = match doc.get("receivers") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(s)) => s,
        Some(_) => return Err(at(&["receivers".into()], "receivers must be a list".into())),
    };
    let mut out = Vec::with_capacity(list.len());
    let mut names = HashSet::new();
    for (ri, r) in list.iter().enumerate() {
        let path = |rest: &[Seg]| {
            let mut p: Vec<Seg> = vec!["receivers".into(), ri.into()];
            p.extend_from_slice(rest);
            p
        };
        let Value::Mapping(m) = r else {
            return Err(at(&path(&[]), "a receiver must be a mapping".into()));
        };
        let name = match m.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(at(&path(&[]), "missing name in receiver".into())),
        };
        if !names.insert(name.clone()) {
            return Err(at(
                &path(&["name".into()]),
                format!("notification config name {name:?} is not unique"),
            ));
        }
        let mut integrations = Vec::new();
        for (k, v) in m {
            let Some(key) = k.as_str() else {
                return Err(at(&path(&[]), "receiver keys must be strings".into()));
            };
            if key == "name" {
                continue;
            }
            let Some(plugin) = key
                .strip_suffix("_configs")
                .filter(|p| valid_plugin_name(p))
            else {
                return Err(at(
                    &path(&[key.into()]),
                    format!("field {key} not found in receiver (integrations are <plugin>_configs lists)"),
                ));
            };
            let entries = match v {
                Value::Sequence(s) => s,
                Value::Null => continue,
                _ => return Err(at(&path(&[key.into()]), format!("{key} must be a list"))),
            };
            for (i, e) in entries.iter().enumerate() {
                let Value::Mapping(em) = e else {
                    return Err(at(
                        &path(&[key.into(), i.into()]),
                        format!("each {key} entry must be a mapping"),
                    ));
                };
                let mut settings = BTreeMap::new();
                let mut flat = Vec::new();
                flatten(em, "", &mut Vec::new(), &mut flat);
                for (setting, value, vpath) in flat {
                    let expanded = expand_vars_outside_templates(&value, env).map_err(|var| {
                        let mut p = path(&[key.into(), i.into()]);
                        p.extend(vpath);
                        at(
                            &p,
                            format!(
                                "{key}[{i}].{setting}: environment variable {var:?} is not set"
                            ),
                        )
                    })?;
                    settings.insert(setting, expanded);
                }
                integrations.push(Integration {
                    plugin: plugin.to_string(),
                    index: i,
                    settings,
                });
            }
        }
        out.push(Receiver { name, integrations });
    }
    Ok(out)
}

/// Plugin names as the plugins directory allows them: lowercase ASCII, digits, `-` and `_`.
/// The alert manager uses the same rule for its `<plugin>_configs` extension.
pub fn valid_plugin_name(p: &str) -> bool {
    !p.is_empty()
        && p.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Flattens a mapping into `(dotted key, text, path)`; lists become JSON text.
fn flatten(
    m: &serde_yaml::Mapping,
    prefix: &str,
    path: &mut Vec<Seg>,
    out: &mut Vec<(String, String, Vec<Seg>)>,
) {
    for (k, v) in m {
        let key = match k {
            Value::String(s) => s.clone(),
            other => scalar_text(other).unwrap_or_default(),
        };
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        path.push(Seg::Key(key));
        match v {
            Value::Mapping(inner) => flatten(inner, &full, path, out),
            Value::Null => {}
            other => {
                let text = scalar_text(other)
                    .unwrap_or_else(|| serde_json::to_string(other).unwrap_or_default());
                out.push((full, text, path.clone()));
            }
        }
        path.pop();
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "\
global:
  resolve_timeout: 5m
route:
  receiver: 'default'
receivers:
  - name: 'default'
    slack_configs:
      - api_url: '$SLACK_WEBHOOK'
        channel: '#alerts'
  - name: 'pagerduty'
    pagerduty_configs:
      - service_key: '${PAGERDUTY_KEY}'
        http_config:
          basic_auth: {username: u, password: p}
        details: [a, b]
";

    fn env(k: &str) -> Option<String> {
        match k {
            "SLACK_WEBHOOK" => Some("https://hooks.slack.test/x".into()),
            "PAGERDUTY_KEY" => Some("k3y".into()),
            _ => None,
        }
    }

    #[test]
    fn seed_receivers_resolve_to_plugins() {
        let r = load_receivers_str(SEED, "am.yml", &env).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "default");
        assert_eq!(r[0].integrations[0].plugin, "slack");
        assert_eq!(
            r[0].integrations[0].settings["api_url"],
            "https://hooks.slack.test/x"
        );
        assert_eq!(r[0].integrations[0].settings["channel"], "#alerts");
        let pd = &r[1].integrations[0];
        assert_eq!(pd.plugin, "pagerduty");
        assert_eq!(pd.settings["service_key"], "k3y");
        assert_eq!(pd.settings["http_config.basic_auth.username"], "u");
        assert_eq!(pd.settings["details"], r#"["a","b"]"#);
    }

    #[test]
    fn unset_variable_is_an_error_with_its_position() {
        let e = load_receivers_str(SEED, "am.yml", &|_| None).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("am.yml:8:"), "{s}");
        assert!(s.contains("\"SLACK_WEBHOOK\" is not set"), "{s}");
    }

    #[test]
    fn bad_receivers_are_rejected_with_positions() {
        for (yaml, want) in [
            ("receivers:\n  - name: a\n  - name: a\n", "not unique"),
            ("receivers:\n  - slack_configs: []\n", "missing name"),
            (
                "receivers:\n  - name: a\n    email: x\n",
                "field email not found",
            ),
            (
                "receivers:\n  - name: a\n    webhook_configs: {url: x}\n",
                "must be a list",
            ),
            ("receivers: 3\n", "must be a list"),
        ] {
            let e = load_receivers_str(yaml, "am.yml", &env)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{yaml:?}: {e}");
            assert!(e.starts_with("am.yml:"), "{e}");
        }
        assert_eq!(
            load_receivers_str("route: {}\n", "am.yml", &env).unwrap(),
            vec![]
        );
    }

    #[test]
    fn expansion_cases() {
        let env = |k: &str| match k {
            "TOKEN" => Some("s3cr3t".to_string()),
            "HOST" => Some("example.org".to_string()),
            _ => None,
        };
        let cases: &[(&str, std::result::Result<&str, &str>)] = &[
            ("plain", Ok("plain")),
            ("$TOKEN", Ok("s3cr3t")),
            ("Bearer ${TOKEN}!", Ok("Bearer s3cr3t!")),
            ("https://$HOST/x", Ok("https://example.org/x")),
            ("cost $$5", Ok("cost $5")),
            ("trailing $", Ok("trailing $")),
            ("$MISSING", Err("MISSING")),
            ("${ALSO_MISSING}x", Err("ALSO_MISSING")),
        ];
        // Template text keeps its own `$` variables.
        assert_eq!(
            expand_vars_outside_templates("$TOKEN {{ $x := 1 }}{{ $x }} ${HOST}", &env).as_deref(),
            Ok("s3cr3t {{ $x := 1 }}{{ $x }} example.org")
        );
        assert_eq!(
            expand_vars_outside_templates("{{ $MISSING", &env).as_deref(),
            Ok("{{ $MISSING")
        );
        for (input, want) in cases {
            let got = expand_vars(input, &env);
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                *want,
                "input {input:?}"
            );
        }
    }

    /// issue 13: webhook URLs and service keys stay out of `Debug`.
    #[test]
    fn integration_debug_hides_setting_values() {
        let r = load_receivers_str(
            "receivers:\n  - name: a\n    webhook_configs: [{url: 'http://h/s3cr3t-hook'}]\n",
            "am.yml",
            &|_| None,
        )
        .unwrap();
        let debug = format!("{r:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("\"url\": \"<secret>\""), "{debug}");
    }
}
