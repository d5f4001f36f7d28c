//! `receivers:` with every Alertmanager integration, validated as `UnmarshalYAML` of each
//! integration and `Config.UnmarshalYAML` (global inheritance) do.
//!
//! Setting values (outside `{{ ... }}` template text) expand `$VAR`/`${VAR}` from the
//! environment, Sightline's extension that lets the seed's `api_url: '$SLACK_WEBHOOK'` run
//! unchanged; Alertmanager itself would reject such a URL.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};
use sightline_config::yaml::Seg;

use crate::global::{check_host_port, GlobalConfig};
use crate::schema::{self, Kind, KINDS};
use crate::yamlx::{self, entries, Node, Src, R};

/// One receiver.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Its `name`.
    pub name: String,
    /// Its `labels` (with `name` added, as Alertmanager does).
    pub labels: BTreeMap<String, String>,
    /// Its integrations, in Alertmanager's order of kinds, then file order.
    pub integrations: Vec<IntegrationConfig>,
}

/// One entry of a `<kind>_configs` list after validation and global inheritance. `Debug`
/// prints setting names only: values hold URLs, keys and tokens.
#[derive(Clone)]
pub struct IntegrationConfig {
    /// The integration kind (`slack`, `pagerduty`, ...), which is also the receiver plugin
    /// that serves it; for an extension (`<plugin>_configs`) the plugin's name.
    pub kind: String,
    /// Index in its `<kind>_configs` list.
    pub index: usize,
    /// `send_resolved`, defaulted per kind as Alertmanager does.
    pub send_resolved: bool,
    /// The settings as written, `$VAR`-expanded, with inherited global values filled in.
    pub settings: Mapping,
}

impl std::fmt::Debug for IntegrationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .settings
            .keys()
            .filter_map(yamlx::scalar_text)
            .collect();
        f.debug_struct("IntegrationConfig")
            .field("kind", &self.kind)
            .field("index", &self.index)
            .field("send_resolved", &self.send_resolved)
            .field("settings", &keys)
            .finish()
    }
}

impl IntegrationConfig {
    /// Whether this entry is Sightline's extension (`<plugin>_configs` for a receiver
    /// plugin that is not one of Alertmanager's kinds), which Alertmanager and amtool refuse.
    pub fn is_extension(&self) -> bool {
        !is_alertmanager_kind(&self.kind)
    }

    /// The settings flattened for a receiver plugin, as `sightline_config::load_receivers_*`
    /// flattens them: dotted keys, lists as JSON text.
    pub fn flat_settings(&self) -> BTreeMap<String, String> {
        let mut out = flatten_settings(&self.settings);
        out.insert("send_resolved".into(), self.send_resolved.to_string());
        out
    }
}

/// Settings flattened for a receiver plugin's `config`: nested maps as dotted keys
/// (`details.firing`), lists as JSON text, nulls left out.
pub fn flatten_settings(settings: &Mapping) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten(settings, "", &mut out);
    out
}

fn flatten(m: &Mapping, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (k, v) in m {
        let key = yamlx::scalar_text(k).unwrap_or_default();
        let full = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match v {
            Value::Mapping(inner) => flatten(inner, &full, out),
            Value::Null => {}
            Value::Sequence(_) | Value::Tagged(_) => {
                out.insert(full, serde_json::to_string(v).unwrap_or_default());
            }
            other => {
                out.insert(full, yamlx::scalar_text(other).unwrap_or_default());
            }
        }
    }
}

/// Copies `v` with every string expanded outside template text; the error is the path and
/// the unset variable.
fn expand(
    v: &Value,
    path: &mut Vec<Seg>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, (Vec<Seg>, String)> {
    Ok(match v {
        Value::String(s) => Value::String(
            sightline_config::expand_vars_outside_templates(s, env)
                .map_err(|var| (path.clone(), var))?,
        ),
        Value::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(expand(item, path, env)?);
                path.pop();
            }
            Value::Sequence(out)
        }
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, item) in m {
                path.push(Seg::Key(yamlx::scalar_text(k).unwrap_or_default()));
                out.insert(k.clone(), expand(item, path, env)?);
                path.pop();
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    })
}

/// Integrations read but not yet resolved: order key (the kind's position in [`KINDS`],
/// extensions after them), kind, list index, path, entry.
pub(crate) type Pending = Vec<(usize, String, usize, Vec<Seg>, Option<Mapping>)>;

/// The receiver plugin named by an extension key: `<name>_configs` where `<name>` is a valid
/// plugin name and not one of Alertmanager's kinds (those stay strict, as Alertmanager's).
pub(crate) fn extension_kind(key: &str) -> Option<&str> {
    key.strip_suffix("_configs")
        .filter(|k| sightline_config::valid_plugin_name(k) && !is_alertmanager_kind(k))
}

/// Whether `kind` is one of Alertmanager's own integrations.
pub fn is_alertmanager_kind(kind: &str) -> bool {
    KINDS.iter().any(|k| k.name == kind)
}

/// Reads one receiver (its own checks; global inheritance is [`resolve`]'s).
pub(crate) fn parse_receiver(
    src: Src<'_>,
    n: &Node<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> R<(Receiver, Pending)> {
    let mut allowed = vec!["name", "labels"];
    let keys: Vec<String> = KINDS
        .iter()
        .map(|k| format!("{}_configs", k.name))
        .collect();
    allowed.extend(keys.iter().map(String::as_str));
    // Sightline's extension: `<plugin>_configs` for any receiver plugin; whether the plugin
    // is loaded is the daemon's check, since only it knows the plugins directory.
    let extensions: Vec<String> =
        n.v.as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(yamlx::scalar_text)
                    .filter(|k| extension_kind(k).is_some())
                    .collect()
            })
            .unwrap_or_default();
    allowed.extend(extensions.iter().map(String::as_str));
    let mut name = String::new();
    let mut labels = BTreeMap::new();
    let mut pending = Vec::new();
    for (key, child) in entries(src, n, "config.plain", &allowed)? {
        match key.as_str() {
            "name" => name = yamlx::string(src, &child)?,
            "labels" => {
                for (k, v, _) in yamlx::string_map(src, &child)? {
                    labels.insert(k, v);
                }
            }
            _ => {
                let (order, kind) = match KINDS
                    .iter()
                    .position(|k| key.strip_suffix("_configs") == Some(k.name))
                {
                    Some(i) => (i, Some(&KINDS[i])),
                    None => (KINDS.len(), None),
                };
                let kind_name = match kind {
                    Some(k) => k.name.to_string(),
                    None => extension_kind(&key).unwrap_or_default().to_string(),
                };
                let type_name = kind.map_or("config.plugin", |k| k.type_name);
                for (i, item) in yamlx::list(src, &child, type_name)?.into_iter().enumerate() {
                    let entry = if item.is_null() {
                        None
                    } else {
                        let mut path = item.path.clone();
                        let expanded = expand(item.v, &mut path, env).map_err(|(p, var)| {
                            src.err(&p, format!("environment variable {var:?} is not set"))
                        })?;
                        let en = Node {
                            v: &expanded,
                            path: item.path.clone(),
                        };
                        match kind {
                            Some(kind) => check_entry(src, &en, kind)?,
                            None => check_extension_entry(src, &en)?,
                        }
                        match expanded {
                            Value::Mapping(m) => Some(m),
                            _ => Some(Mapping::new()),
                        }
                    };
                    pending.push((order, kind_name.clone(), i, item.path.clone(), entry));
                }
            }
        }
    }
    if name.is_empty() {
        return Err(src.err(&n.path, "missing name in receiver"));
    }
    if let Some(v) = labels.get("name") {
        if *v != name {
            return Err(src.err(
                &n.path,
                format!("receiver label \"name\" must match receiver name {name:?}, got {v:?}"),
            ));
        }
    }
    labels.insert("name".into(), name.clone());
    // Alertmanager keeps kinds in `config.Receiver`'s field order.
    // Extensions follow, in file order.
    pending.sort_by_key(|(k, _, _, _, _)| *k);
    Ok((
        Receiver {
            name,
            labels,
            integrations: Vec::new(),
        },
        pending,
    ))
}

fn get<'a>(m: &'a Mapping, k: &str) -> Option<&'a Value> {
    m.get(k).filter(|v| !v.is_null())
}

/// Set and, for a scalar, non-empty (Go's non-zero value).
fn has(m: &Mapping, k: &str) -> bool {
    get(m, k).is_some_and(|v| yamlx::scalar_text(v).is_none_or(|s| !s.is_empty()))
}

fn text(m: &Mapping, k: &str) -> String {
    get(m, k).and_then(yamlx::scalar_text).unwrap_or_default()
}

/// The keys of one entry and the checks of its kind's `UnmarshalYAML`.
fn check_entry(src: Src<'_>, n: &Node<'_>, kind: &Kind) -> R<()> {
    let mut names: Vec<&str> = kind.fields.iter().map(|(k, _)| *k).collect();
    names.push("send_resolved");
    for (key, child) in entries(src, n, kind.type_name, &names)? {
        if key == "send_resolved" {
            yamlx::boolean(src, &child)?;
        } else if let Some((_, ty)) = kind.fields.iter().find(|(k, _)| *k == key) {
            schema::check(src, &child, *ty)?;
        }
    }
    let empty = Mapping::new();
    let m = n.v.as_mapping().unwrap_or(&empty);
    validate_kind(kind.name, m).map_err(|e| src.err(&n.path, e))
}

/// An extension entry: a free-form mapping for the plugin, except the keys the host
/// handles as it does for Alertmanager's kinds (`send_resolved`, `http_config`).
fn check_extension_entry(src: Src<'_>, n: &Node<'_>) -> R<()> {
    let Some(m) = n.v.as_mapping() else {
        return Err(src.err(
            &n.path,
            format!(
                "cannot unmarshal {} into config.plugin (a mapping of the plugin's settings)",
                yamlx::kind_name(n.v)
            ),
        ));
    };
    for (k, v) in m {
        let key = yamlx::scalar_text(k).unwrap_or_default();
        let child = n.child(key.as_str(), v);
        match key.as_str() {
            "send_resolved" => {
                yamlx::boolean(src, &child)?;
            }
            "http_config" => schema::check(src, &child, schema::Ty::Http)?,
            _ => {}
        }
    }
    Ok(())
}

fn at_most_one(m: &Mapping, a: &str, b: &str) -> Result<(), String> {
    if has(m, a) && has(m, b) {
        return Err(format!("at most one of {a} & {b} must be configured"));
    }
    Ok(())
}

/// The checks each integration's `UnmarshalYAML` makes.
fn validate_kind(kind: &str, m: &Mapping) -> Result<(), String> {
    let one_of = |a: &str, b: &str| -> Result<(), String> {
        if !has(m, a) && !has(m, b) {
            return Err(format!("one of {a} or {b} must be configured"));
        }
        at_most_one(m, a, b)
    };
    match kind {
        "discord" | "msteams" | "msteamsv2" => one_of("webhook_url", "webhook_url_file"),
        "email" => {
            if !has(m, "to") {
                return Err("missing to address in email config".into());
            }
            let mut seen = std::collections::HashSet::new();
            let mut canon = std::collections::HashSet::new();
            if let Some(Value::Mapping(h)) = get(m, "headers") {
                for k in h.keys() {
                    let c = canonical_mime_key(&yamlx::scalar_text(k).unwrap_or_default());
                    if !seen.insert(c.clone()) {
                        return Err(format!("duplicate header {c:?} in email config"));
                    }
                    canon.insert(c);
                }
            }
            if let Some(Value::Mapping(t)) = get(m, "threading") {
                if matches!(get(t, "enabled"), Some(Value::Bool(true))) {
                    if canon.contains("References") {
                        return Err("conflicting configuration: threading.enabled conflicts with custom References header".into());
                    }
                    if canon.contains("In-Reply-To") {
                        return Err("conflicting configuration: threading.enabled conflicts with custom In-Reply-To header".into());
                    }
                    let by = text(t, "thread_by_date");
                    if by != "none" && by != "daily" {
                        return Err(
                            "threading.thread_by_date must be either 'none' or 'daily'".into()
                        );
                    }
                }
            }
            if has(m, "smarthost") {
                check_host_port(&text(m, "smarthost"))?;
            }
            Ok(())
        }
        "incidentio" => {
            one_of("url", "url_file")?;
            at_most_one(m, "alert_source_token", "alert_source_token_file")?;
            let token = has(m, "alert_source_token") || has(m, "alert_source_token_file");
            let http = get(m, "http_config").and_then(Value::as_mapping);
            let auth = http.is_some_and(|h| get(h, "authorization").is_some());
            if auth && token {
                return Err("cannot specify alert_source_token or alert_source_token_file when using http_config.authorization".into());
            }
            if http.is_some() && !auth && !token {
                return Err("at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured".into());
            }
            Ok(())
        }
        "pagerduty" => {
            if ![
                "routing_key",
                "service_key",
                "routing_key_file",
                "service_key_file",
            ]
            .iter()
            .any(|k| has(m, k))
            {
                return Err("missing service or routing key in PagerDuty config".into());
            }
            at_most_one(m, "routing_key", "routing_key_file")?;
            at_most_one(m, "service_key", "service_key_file")
        }
        "slack" => {
            at_most_one(m, "api_url", "api_url_file")?;
            at_most_one(m, "app_token", "app_token_file")?;
            if (has(m, "api_url") || has(m, "api_url_file"))
                && (has(m, "app_token") || has(m, "app_token_file"))
            {
                return Err("at most one of api_url/api_url_file & app_token/app_token_file must be configured".into());
            }
            if matches!(get(m, "update_message"), Some(Value::Bool(true)))
                && text(m, "api_url") != "https://slack.com/api/chat.postMessage"
            {
                return Err("update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage".into());
            }
            Ok(())
        }
        "webhook" => one_of("url", "url_file"),
        "opsgenie" => {
            at_most_one(m, "api_key", "api_key_file")?;
            if let Some(Value::Sequence(rs)) = get(m, "responders") {
                for r in rs {
                    let Some(r) = r.as_mapping() else { continue };
                    if !has(r, "id") && !has(r, "username") && !has(r, "name") {
                        return Err("opsGenieConfig responder has to have at least one of id, username or name specified".into());
                    }
                    let ty = text(r, "type");
                    if !ty.contains("{{") {
                        let lower = ty.to_lowercase();
                        if !["team", "teams", "user", "escalation", "schedule"]
                            .contains(&lower.as_str())
                        {
                            return Err("opsGenieConfig responder type does not match valid options ^(team|teams|user|escalation|schedule)$".into());
                        }
                    }
                }
            }
            Ok(())
        }
        "wechat" => {
            let ty = text(m, "message_type");
            if !ty.is_empty() && ty != "text" && ty != "markdown" {
                return Err(format!(
                    "weChat message type {ty:?} does not match valid options ^(text|markdown)$"
                ));
            }
            at_most_one(m, "api_secret", "api_secret_file")
        }
        "pushover" => {
            one_of("user_key", "user_key_file")?;
            one_of("token", "token_file")?;
            if matches!(get(m, "html"), Some(Value::Bool(true)))
                && matches!(get(m, "monospace"), Some(Value::Bool(true)))
            {
                return Err("at most one of monospace & html must be configured".into());
            }
            Ok(())
        }
        "victorops" => {
            if !has(m, "routing_key") {
                return Err("missing Routing key in VictorOps config".into());
            }
            at_most_one(m, "api_key", "api_key_file")?;
            if let Some(Value::Mapping(cf)) = get(m, "custom_fields") {
                for f in [
                    "routing_key",
                    "message_type",
                    "state_message",
                    "entity_display_name",
                    "monitoring_tool",
                    "entity_id",
                    "entity_state",
                ] {
                    if cf.contains_key(f) {
                        return Err(format!("victorOps config contains custom field {f} which cannot be used as it conflicts with the fixed/static fields"));
                    }
                }
            }
            Ok(())
        }
        "sns" => {
            let (t, p, a) = (
                !has(m, "target_arn"),
                !has(m, "topic_arn"),
                !has(m, "phone_number"),
            );
            // Go's `(a == "") != (b == "") != (c == "")`, evaluated left to right.
            if (t != p) != a {
                return Err(
                    "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                        .into(),
                );
            }
            Ok(())
        }
        "telegram" => {
            at_most_one(m, "bot_token", "bot_token_file")?;
            let chat = get(m, "chat_id").and_then(Value::as_i64).unwrap_or(0) != 0;
            if !chat && !has(m, "chat_id_file") {
                return Err("missing chat_id or chat_id_file on telegram_config".into());
            }
            if chat && has(m, "chat_id_file") {
                return Err("at most one of chat_id & chat_id_file must be configured".into());
            }
            let pm = get(m, "parse_mode").map(|v| yamlx::scalar_text(v).unwrap_or_default());
            if let Some(pm) = pm {
                if !["", "Markdown", "MarkdownV2", "HTML"].contains(&pm.as_str()) {
                    return Err("unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string".into());
                }
            }
            Ok(())
        }
        "webex" => {
            if !has(m, "room_id") {
                return Err("missing room_id on webex_config".into());
            }
            let auth = get(m, "http_config")
                .and_then(Value::as_mapping)
                .is_some_and(|h| get(h, "authorization").is_some());
            if !auth {
                return Err("missing webex_configs.http_config.authorization".into());
            }
            Ok(())
        }
        "jira" => {
            if !has(m, "project") {
                return Err("missing project in jira_config".into());
            }
            if !has(m, "issue_type") {
                return Err("missing issue_type in jira_config".into());
            }
            let t = get(m, "api_type").map(|v| yamlx::scalar_text(v).unwrap_or_default());
            if let Some(t) = t {
                if !["auto", "cloud", "datacenter"].contains(&t.as_str()) {
                    return Err(
                        "unknown api_type on jira_config, must be auto, cloud or datacenter".into(),
                    );
                }
            }
            Ok(())
        }
        "rocketchat" => {
            at_most_one(m, "token", "token_file")?;
            at_most_one(m, "token_id", "token_id_file")
        }
        "mattermost" => at_most_one(m, "webhook_url", "webhook_url_file"),
        _ => Ok(()),
    }
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for ASCII token keys.
fn canonical_mime_key(k: &str) -> String {
    let valid = k
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return k.to_string();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Fills `key` from the global setting when the entry does not set it (Go's `cmp.Or`).
fn inherit(m: &mut Mapping, key: &str, g: &GlobalConfig, gkey: &str) {
    if !has(m, key) {
        if let Some(v) = g.value(gkey) {
            m.insert(Value::from(key), v.clone());
        }
    }
}

fn ensure_slash(m: &mut Mapping, key: &str) {
    if let Some(Value::String(s)) = m.get_mut(key) {
        if let Ok(mut u) = url::Url::parse(s) {
            if !u.path().ends_with('/') {
                let p = format!("{}/", u.path());
                u.set_path(&p);
                *s = u.to_string();
            }
        }
    }
}

/// `Config.UnmarshalYAML`'s per-integration step: global values inherited, requirements that
/// depend on them checked.
pub(crate) fn resolve(
    kind: &str,
    entry: Option<Mapping>,
    g: &GlobalConfig,
) -> Result<Mapping, String> {
    let missing = |what: &str| Err(format!("missing {what} config"));
    let mut m = match entry {
        Some(m) => m,
        None => match kind {
            "slack" | "opsgenie" | "wechat" | "rocketchat" => Mapping::new(),
            "discord" | "email" | "incidentio" | "pagerduty" | "webhook" | "pushover"
            | "victorops" | "sns" | "telegram" | "webex" | "msteams" | "msteamsv2" | "jira"
            | "mattermost" => return missing(kind),
            _ => Mapping::new(),
        },
    };
    let http_key = "http_config";
    match kind {
        "email" => {
            inherit(&mut m, "tls_config", g, "smtp_tls_config");
            inherit(&mut m, "smarthost", g, "smtp_smarthost");
            if !has(&m, "smarthost") {
                return Err("no global SMTP smarthost set".into());
            }
            inherit(&mut m, "from", g, "smtp_from");
            if !has(&m, "from") {
                return Err("no global SMTP from set".into());
            }
            inherit(&mut m, "hello", g, "smtp_hello");
            inherit(&mut m, "auth_username", g, "smtp_auth_username");
            if !has(&m, "auth_password") && !has(&m, "auth_password_file") {
                inherit(&mut m, "auth_password", g, "smtp_auth_password");
                inherit(&mut m, "auth_password_file", g, "smtp_auth_password_file");
            }
            if !has(&m, "auth_secret") && !has(&m, "auth_secret_file") {
                inherit(&mut m, "auth_secret", g, "smtp_auth_secret");
                inherit(&mut m, "auth_secret_file", g, "smtp_auth_secret_file");
            }
            inherit(&mut m, "auth_identity", g, "smtp_auth_identity");
            if get(&m, "require_tls").is_none() {
                m.insert("require_tls".into(), Value::Bool(g.smtp_require_tls));
            }
            inherit(&mut m, "force_implicit_tls", g, "smtp_force_implicit_tls");
        }
        "slack" => {
            inherit(&mut m, "app_url", g, "slack_app_url");
            if !has(&m, "app_url") {
                return Err("no global Slack App URL set".into());
            }
            let local_auth = get(&m, http_key)
                .and_then(Value::as_mapping)
                .is_some_and(|h| get(h, "authorization").is_some());
            if !has(&m, "app_token")
                && !has(&m, "app_token_file")
                && !local_auth
                && !has(&m, "api_url")
            {
                inherit(&mut m, "app_token", g, "slack_app_token");
                inherit(&mut m, "app_token_file", g, "slack_app_token_file");
            }
            if !has(&m, "api_url") && !has(&m, "api_url_file") {
                inherit(&mut m, "api_url", g, "slack_api_url");
                inherit(&mut m, "api_url_file", g, "slack_api_url_file");
            }
            if !has(&m, "api_url")
                && !has(&m, "api_url_file")
                && !has(&m, "app_token")
                && !has(&m, "app_token_file")
            {
                return Err("no Slack API URL nor App token set either inline or in a file".into());
            }
            inherit(&mut m, http_key, g, http_key);
            if has(&m, "app_token") || has(&m, "app_token_file") {
                let http = get(&m, http_key).and_then(Value::as_mapping);
                if http.is_some_and(|h| get(h, "authorization").is_some()) {
                    return Err(
                        "http authorization can't be set when using Slack App tokens".into(),
                    );
                }
                let mut auth = Mapping::new();
                auth.insert("type".into(), "Bearer".into());
                if has(&m, "app_token") {
                    auth.insert("credentials".into(), Value::String(text(&m, "app_token")));
                }
                if has(&m, "app_token_file") {
                    auth.insert(
                        "credentials_file".into(),
                        Value::String(text(&m, "app_token_file")),
                    );
                }
                let mut h = http.cloned().unwrap_or_default();
                h.insert("authorization".into(), Value::Mapping(auth));
                m.insert(http_key.into(), Value::Mapping(h));
                let app_url = text(&m, "app_url");
                m.insert("api_url".into(), Value::String(app_url));
            }
        }
        "pagerduty" => {
            inherit(&mut m, "url", g, "pagerduty_url");
            if !has(&m, "url") {
                return Err("no global PagerDuty URL set".into());
            }
        }
        "opsgenie" => {
            inherit(&mut m, "api_url", g, "opsgenie_api_url");
            if !has(&m, "api_url") {
                return Err("no global OpsGenie URL set".into());
            }
            ensure_slash(&mut m, "api_url");
            inherit(&mut m, "api_key", g, "opsgenie_api_key");
            inherit(&mut m, "api_key_file", g, "opsgenie_api_key_file");
            if !has(&m, "api_key") && !has(&m, "api_key_file") {
                return Err("no global OpsGenie API Key set either inline or in a file".into());
            }
        }
        "wechat" => {
            inherit(&mut m, "api_url", g, "wechat_api_url");
            if !has(&m, "api_url") {
                return Err("no global Wechat URL set".into());
            }
            if !has(&m, "api_secret") && !has(&m, "api_secret_file") {
                if g.str("wechat_api_secret").is_none() && g.str("wechat_api_secret_file").is_none()
                {
                    return Err("no global Wechat Api Secret set either inline or in a file".into());
                }
                inherit(&mut m, "api_secret", g, "wechat_api_secret");
                inherit(&mut m, "api_secret_file", g, "wechat_api_secret_file");
            }
            inherit(&mut m, "corp_id", g, "wechat_api_corp_id");
            if !has(&m, "corp_id") {
                return Err("no global Wechat CorpID set".into());
            }
            ensure_slash(&mut m, "api_url");
            if !has(&m, "message_type") {
                m.insert("message_type".into(), "text".into());
            }
        }
        "victorops" => {
            inherit(&mut m, "api_url", g, "victorops_api_url");
            if !has(&m, "api_url") {
                return Err("no global VictorOps URL set".into());
            }
            ensure_slash(&mut m, "api_url");
            inherit(&mut m, "api_key", g, "victorops_api_key");
            inherit(&mut m, "api_key_file", g, "victorops_api_key_file");
            if !has(&m, "api_key") && !has(&m, "api_key_file") {
                return Err("no global VictorOps API Key set".into());
            }
        }
        "telegram" => {
            inherit(&mut m, "api_url", g, "telegram_api_url");
            if !has(&m, "bot_token") && !has(&m, "bot_token_file") {
                if g.str("telegram_bot_token").is_none()
                    && g.str("telegram_bot_token_file").is_none()
                {
                    return Err("missing bot_token or bot_token_file on telegram_config".into());
                }
                inherit(&mut m, "bot_token", g, "telegram_bot_token");
                inherit(&mut m, "bot_token_file", g, "telegram_bot_token_file");
            }
        }
        "discord" if !has(&m, "webhook_url") && !has(&m, "webhook_url_file") => {
            return Err("no discord webhook URL or URLFile provided".into());
        }
        "webex" => {
            inherit(&mut m, "api_url", g, "webex_api_url");
            if !has(&m, "api_url") {
                return Err("no global Webex URL set".into());
            }
        }
        "msteams" | "msteamsv2" if !has(&m, "webhook_url") && !has(&m, "webhook_url_file") => {
            return Err(format!("no {kind} webhook URL or URLFile provided"));
        }
        "jira" => {
            inherit(&mut m, "api_url", g, "jira_api_url");
            if !has(&m, "api_url") {
                return Err("no global Jira Cloud URL set".into());
            }
        }
        "rocketchat" => {
            inherit(&mut m, "api_url", g, "rocketchat_api_url");
            inherit(&mut m, "token_id", g, "rocketchat_token_id");
            inherit(&mut m, "token_id_file", g, "rocketchat_token_id_file");
            if !has(&m, "token_id") && !has(&m, "token_id_file") {
                return Err("no global Rocketchat TokenID set either inline or in a file".into());
            }
            inherit(&mut m, "token", g, "rocketchat_token");
            inherit(&mut m, "token_file", g, "rocketchat_token_file");
            if !has(&m, "token") && !has(&m, "token_file") {
                return Err("no global Rocketchat Token set either inline or in a file".into());
            }
        }
        "mattermost" if !has(&m, "webhook_url") && !has(&m, "webhook_url_file") => {
            if g.str("mattermost_webhook_url").is_none()
                && g.str("mattermost_webhook_url_file").is_none()
            {
                return Err("missing webhook_url or webhook_url_file on mattermost_config".into());
            }
            inherit(&mut m, "webhook_url", g, "mattermost_webhook_url");
            inherit(&mut m, "webhook_url_file", g, "mattermost_webhook_url_file");
        }
        _ => {}
    }
    if kind != "email" {
        inherit(&mut m, http_key, g, http_key);
    }
    Ok(m)
}

/// The default of `send_resolved` for a kind; a plugin's own kind (an extension) defaults
/// to `true`, as Alertmanager's webhook does.
pub(crate) fn default_send_resolved(kind: &str) -> bool {
    KINDS
        .iter()
        .find(|k| k.name == kind)
        .is_none_or(|k| k.send_resolved)
}

/// The kinds Alertmanager knows, in `config.Receiver`'s order.
pub fn integration_kinds() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.name)
}
