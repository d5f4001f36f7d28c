//! The shapes of Alertmanager's integration configs (`notify/*/config.go`,
//! `config/notifiers.go`) and of prometheus/common's `http_config`, as data: each key an
//! integration accepts with the Go type it is read into. A key not listed is an error, as
//! `UnmarshalStrict` makes it.

use serde_yaml::Value;

use crate::yamlx::{self, entries, kind_name, Node, Src, R};

/// How a value is read.
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    Str,
    /// A `Secret` (a string, never printed).
    Secret,
    /// `config.URL`: http(s) with a host.
    Url,
    /// `config.SecretURL`: a URL, or the `<secret>` placeholder.
    SecretUrl,
    /// `SecretTemplateURL`: a URL unless it holds template text.
    TemplUrl,
    Bool,
    Int,
    /// Go `time.Duration` (`10s`, or nanoseconds).
    GoDur,
    /// Prometheus `model.Duration`.
    PromDur,
    StrMap,
    /// `map[string]any`.
    AnyMap,
    StrList,
    /// Anything (`payload`).
    Any,
    Http,
    Tls,
    Obj(&'static Schema),
    ObjList(&'static Schema),
    /// A plain string or the object form (Jira's `summary`, `description`).
    StrOrObj(&'static Schema),
}

/// A Go struct: its name in messages and its keys.
pub(crate) struct Schema {
    pub(crate) type_name: &'static str,
    pub(crate) fields: &'static [(&'static str, Ty)],
}

use Ty::*;

const fn s(type_name: &'static str, fields: &'static [(&'static str, Ty)]) -> Schema {
    Schema { type_name, fields }
}

pub(crate) const TLS: Schema = s(
    "config.TLSConfig",
    &[
        ("ca", Str),
        ("ca_file", Str),
        ("ca_ref", Str),
        ("cert", Str),
        ("cert_file", Str),
        ("cert_ref", Str),
        ("key", Secret),
        ("key_file", Str),
        ("key_ref", Str),
        ("server_name", Str),
        ("insecure_skip_verify", Bool),
        ("min_version", Str),
        ("max_version", Str),
    ],
);
const BASIC_AUTH: Schema = s(
    "config.BasicAuth",
    &[
        ("username", Str),
        ("username_file", Str),
        ("username_ref", Str),
        ("password", Secret),
        ("password_file", Str),
        ("password_ref", Str),
    ],
);
const AUTHORIZATION: Schema = s(
    "config.Authorization",
    &[
        ("type", Str),
        ("credentials", Secret),
        ("credentials_file", Str),
        ("credentials_ref", Str),
    ],
);
const OAUTH2: Schema = s(
    "config.OAuth2",
    &[
        ("client_id", Str),
        ("client_secret", Secret),
        ("client_secret_file", Str),
        ("client_secret_ref", Str),
        ("client_certificate_key_id", Str),
        ("client_certificate_key", Secret),
        ("client_certificate_key_file", Str),
        ("client_certificate_key_ref", Str),
        ("grant_type", Str),
        ("signature_algorithm", Str),
        ("iss", Str),
        ("audience", Str),
        ("claims", AnyMap),
        ("scopes", StrList),
        ("token_url", Str),
        ("endpoint_params", StrMap),
        ("tls_config", Tls),
        ("proxy_url", Str),
        ("no_proxy", Str),
        ("proxy_from_environment", Bool),
        ("proxy_connect_header", AnyMap),
    ],
);
pub(crate) const HTTP: Schema = s(
    "config.HTTPClientConfig",
    &[
        ("basic_auth", Obj(&BASIC_AUTH)),
        ("authorization", Obj(&AUTHORIZATION)),
        ("oauth2", Obj(&OAUTH2)),
        ("bearer_token", Secret),
        ("bearer_token_file", Str),
        ("tls_config", Tls),
        ("follow_redirects", Bool),
        ("enable_http2", Bool),
        ("proxy_url", Str),
        ("no_proxy", Str),
        ("proxy_from_environment", Bool),
        ("proxy_connect_header", AnyMap),
        ("http_headers", AnyMap),
    ],
);

const SLACK_CONFIRM: Schema = s(
    "config.plain",
    &[
        ("text", Str),
        ("title", Str),
        ("ok_text", Str),
        ("dismiss_text", Str),
    ],
);
const SLACK_ACTION: Schema = s(
    "config.plain",
    &[
        ("type", Str),
        ("text", Str),
        ("url", Str),
        ("style", Str),
        ("name", Str),
        ("value", Str),
        ("confirm", Obj(&SLACK_CONFIRM)),
    ],
);
const TITLE_VALUE_SHORT: Schema = s(
    "config.plain",
    &[("title", Str), ("value", Str), ("short", Bool)],
);
const PD_IMAGE: Schema = s(
    "pagerduty.PagerdutyImage",
    &[("src", Str), ("alt", Str), ("href", Str)],
);
const PD_LINK: Schema = s("pagerduty.PagerdutyLink", &[("href", Str), ("text", Str)]);
const OG_RESPONDER: Schema = s(
    "opsgenie.OpsGenieConfigResponder",
    &[("id", Str), ("name", Str), ("username", Str), ("type", Str)],
);
const THREADING: Schema = s(
    "config.ThreadingConfig",
    &[("enabled", Bool), ("thread_by_date", Str)],
);
const SIGV4: Schema = s(
    "sigv4.SigV4Config",
    &[
        ("region", Str),
        ("access_key", Str),
        ("secret_key", Secret),
        ("profile", Str),
        ("role_arn", Str),
        ("external_id", Str),
        ("use_fips_sts_endpoint", Bool),
        ("service_name", Str),
    ],
);
const JIRA_FIELD: Schema = s("jira.plain", &[("template", Str), ("enable_update", Bool)]);
const RC_FIELD: Schema = s(
    "rocketchat.RocketchatAttachmentField",
    &[("short", Bool), ("title", Str), ("value", Str)],
);
const RC_ACTION: Schema = s(
    "rocketchat.RocketchatAttachmentAction",
    &[
        ("type", Str),
        ("text", Str),
        ("url", Str),
        ("imageurl", Str),
        ("iswebview", Bool),
        ("webviewheightratio", Str),
        ("msg", Str),
        ("msginchatwindow", Bool),
        ("msgprocessingtype", Str),
    ],
);
const MM_ATTACHMENT: Schema = s(
    "mattermost.MattermostAttachment",
    &[
        ("fallback", Str),
        ("color", Str),
        ("pretext", Str),
        ("text", Str),
        ("author_name", Str),
        ("author_link", Str),
        ("author_icon", Str),
        ("title", Str),
        ("title_link", Str),
        ("fields", ObjList(&TITLE_VALUE_SHORT)),
        ("thumb_url", Str),
        ("footer", Str),
        ("footer_icon", Str),
        ("image_url", Str),
    ],
);
const MM_PROPS: Schema = s("mattermost.MattermostProps", &[("card", Str)]);
const MM_PRIORITY: Schema = s(
    "mattermost.MattermostPriority",
    &[
        ("priority", Str),
        ("requested_ack", Bool),
        ("persistent_notifications", Bool),
    ],
);

/// One integration kind: its `<kind>_configs` key, its fields (plus `send_resolved`) and
/// whether it sends resolved notifications by default.
pub(crate) struct Kind {
    pub(crate) name: &'static str,
    pub(crate) type_name: &'static str,
    pub(crate) send_resolved: bool,
    pub(crate) fields: &'static [(&'static str, Ty)],
}

/// Every integration of current Alertmanager, in `config.Receiver`'s field order.
pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "discord",
        type_name: "discord.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("webhook_url", SecretUrl),
            ("webhook_url_file", Str),
            ("content", Str),
            ("title", Str),
            ("message", Str),
            ("username", Str),
            ("avatar_url", Str),
        ],
    },
    Kind {
        name: "email",
        type_name: "config.plain",
        send_resolved: false,
        fields: &[
            ("to", Str),
            ("from", Str),
            ("hello", Str),
            ("smarthost", Str),
            ("auth_username", Str),
            ("auth_password", Secret),
            ("auth_password_file", Str),
            ("auth_secret", Secret),
            ("auth_secret_file", Str),
            ("auth_identity", Str),
            ("headers", StrMap),
            ("html", Str),
            ("text", Str),
            ("require_tls", Bool),
            ("tls_config", Tls),
            ("force_implicit_tls", Bool),
            ("threading", Obj(&THREADING)),
        ],
    },
    Kind {
        name: "incidentio",
        type_name: "incidentio.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("url", Url),
            ("url_file", Str),
            ("alert_source_token", Secret),
            ("alert_source_token_file", Str),
            ("max_alerts", Int),
            ("timeout", GoDur),
        ],
    },
    Kind {
        name: "pagerduty",
        type_name: "pagerduty.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("service_key", Secret),
            ("service_key_file", Str),
            ("routing_key", Secret),
            ("routing_key_file", Str),
            ("url", Url),
            ("client", Str),
            ("client_url", Str),
            ("description", Str),
            ("details", AnyMap),
            ("images", ObjList(&PD_IMAGE)),
            ("links", ObjList(&PD_LINK)),
            ("source", Str),
            ("severity", Str),
            ("class", Str),
            ("component", Str),
            ("group", Str),
            ("timeout", GoDur),
        ],
    },
    Kind {
        name: "slack",
        type_name: "config.plain",
        send_resolved: false,
        fields: &[
            ("http_config", Http),
            ("api_url", SecretUrl),
            ("api_url_file", Str),
            ("app_token", Secret),
            ("app_token_file", Str),
            ("app_url", Url),
            ("channel", Str),
            ("username", Str),
            ("color", Str),
            ("title", Str),
            ("title_link", Str),
            ("pretext", Str),
            ("text", Str),
            ("message_text", Str),
            ("fields", ObjList(&TITLE_VALUE_SHORT)),
            ("short_fields", Bool),
            ("footer", Str),
            ("fallback", Str),
            ("callback_id", Str),
            ("icon_emoji", Str),
            ("icon_url", Str),
            ("image_url", Str),
            ("thumb_url", Str),
            ("link_names", Bool),
            ("mrkdwn_in", StrList),
            ("actions", ObjList(&SLACK_ACTION)),
            ("update_message", Bool),
            ("timeout", GoDur),
        ],
    },
    Kind {
        name: "webhook",
        type_name: "webhook.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("url", TemplUrl),
            ("url_file", Str),
            ("max_alerts", Int),
            ("timeout", GoDur),
            ("payload", Any),
        ],
    },
    Kind {
        name: "opsgenie",
        type_name: "opsgenie.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_key", Secret),
            ("api_key_file", Str),
            ("api_url", Url),
            ("message", Str),
            ("description", Str),
            ("source", Str),
            ("details", StrMap),
            ("entity", Str),
            ("responders", ObjList(&OG_RESPONDER)),
            ("actions", Str),
            ("tags", Str),
            ("note", Str),
            ("priority", Str),
            ("update_alerts", Bool),
        ],
    },
    Kind {
        name: "wechat",
        type_name: "config.plain",
        send_resolved: false,
        fields: &[
            ("http_config", Http),
            ("api_secret", Secret),
            ("api_secret_file", Str),
            ("corp_id", Str),
            ("message", Str),
            ("api_url", Url),
            ("to_user", Str),
            ("to_party", Str),
            ("to_tag", Str),
            ("agent_id", Str),
            ("message_type", Str),
        ],
    },
    Kind {
        name: "pushover",
        type_name: "pushover.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("user_key", Secret),
            ("user_key_file", Str),
            ("token", Secret),
            ("token_file", Str),
            ("title", Str),
            ("message", Str),
            ("url", Str),
            ("url_title", Str),
            ("device", Str),
            ("sound", Str),
            ("priority", Str),
            ("retry", GoDur),
            ("expire", GoDur),
            ("ttl", GoDur),
            ("html", Bool),
            ("monospace", Bool),
        ],
    },
    Kind {
        name: "victorops",
        type_name: "config.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_key", Secret),
            ("api_key_file", Str),
            ("api_url", Url),
            ("routing_key", Str),
            ("message_type", Str),
            ("state_message", Str),
            ("entity_display_name", Str),
            ("monitoring_tool", Str),
            ("custom_fields", StrMap),
        ],
    },
    Kind {
        name: "sns",
        type_name: "sns.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_url", Str),
            ("sigv4", Obj(&SIGV4)),
            ("topic_arn", Str),
            ("phone_number", Str),
            ("target_arn", Str),
            ("subject", Str),
            ("message", Str),
            ("attributes", StrMap),
            ("use_aws_http_client", Bool),
        ],
    },
    Kind {
        name: "telegram",
        type_name: "telegram.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_url", Url),
            ("bot_token", Secret),
            ("bot_token_file", Str),
            ("chat_id", Int),
            ("chat_id_file", Str),
            ("message_thread_id", Int),
            ("message", Str),
            ("disable_notifications", Bool),
            ("parse_mode", Str),
        ],
    },
    Kind {
        name: "webex",
        type_name: "config.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_url", Url),
            ("message", Str),
            ("room_id", Str),
        ],
    },
    Kind {
        name: "msteams",
        type_name: "msteams.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("webhook_url", SecretUrl),
            ("webhook_url_file", Str),
            ("title", Str),
            ("summary", Str),
            ("text", Str),
        ],
    },
    Kind {
        name: "msteamsv2",
        type_name: "msteamsv2.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("webhook_url", SecretUrl),
            ("webhook_url_file", Str),
            ("title", Str),
            ("text", Str),
        ],
    },
    Kind {
        name: "jira",
        type_name: "jira.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("api_url", Url),
            ("api_type", Str),
            ("project", Str),
            ("summary", StrOrObj(&JIRA_FIELD)),
            ("description", StrOrObj(&JIRA_FIELD)),
            ("labels", StrList),
            ("priority", Str),
            ("issue_type", Str),
            ("reopen_transition", Str),
            ("resolve_transition", Str),
            ("wont_fix_resolution", Str),
            ("reopen_duration", PromDur),
            ("fields", AnyMap),
        ],
    },
    Kind {
        name: "rocketchat",
        type_name: "rocketchat.plain",
        send_resolved: false,
        fields: &[
            ("http_config", Http),
            ("api_url", Url),
            ("token_id", Secret),
            ("token_id_file", Str),
            ("token", Secret),
            ("token_file", Str),
            ("channel", Str),
            ("color", Str),
            ("title", Str),
            ("title_link", Str),
            ("text", Str),
            ("fields", ObjList(&RC_FIELD)),
            ("short_fields", Bool),
            ("emoji", Str),
            ("icon_url", Str),
            ("image_url", Str),
            ("thumb_url", Str),
            ("link_names", Bool),
            ("actions", ObjList(&RC_ACTION)),
        ],
    },
    Kind {
        name: "mattermost",
        type_name: "mattermost.plain",
        send_resolved: true,
        fields: &[
            ("http_config", Http),
            ("webhook_url", SecretUrl),
            ("webhook_url_file", Str),
            ("channel", Str),
            ("username", Str),
            ("text", Str),
            ("fallback", Str),
            ("color", Str),
            ("pretext", Str),
            ("author_name", Str),
            ("author_link", Str),
            ("author_icon", Str),
            ("title", Str),
            ("title_link", Str),
            ("fields", ObjList(&TITLE_VALUE_SHORT)),
            ("thumb_url", Str),
            ("footer", Str),
            ("footer_icon", Str),
            ("image_url", Str),
            ("icon_url", Str),
            ("icon_emoji", Str),
            ("attachments", ObjList(&MM_ATTACHMENT)),
            ("type", Str),
            ("props", Obj(&MM_PROPS)),
            ("priority", Obj(&MM_PRIORITY)),
        ],
    },
];

/// Checks `n` against `ty`. Validation that needs more than one key is the caller's.
pub(crate) fn check(src: Src<'_>, n: &Node<'_>, ty: Ty) -> R<()> {
    match ty {
        Str | Secret => yamlx::string(src, n).map(drop),
        Url => {
            if !n.is_null() {
                yamlx::url_value(src, n)?;
            }
            Ok(())
        }
        SecretUrl => {
            let s = yamlx::string(src, n)?;
            if !n.is_null() && s != "<secret>" {
                // The URL is a secret: the message must not quote it.
                yamlx::check_url(&s).map_err(|e| src.err(&n.path, e.replace(&s, "[REDACTED]")))?;
            }
            Ok(())
        }
        TemplUrl => {
            let s = yamlx::string(src, n)?;
            if s.is_empty() || s == "<secret>" {
                return Ok(());
            }
            if s.contains("{{") {
                let mut t = sightline_template::Template::new(
                    "",
                    sightline_template::alertmanager::funcs(),
                );
                t.parse(&s)
                    .map_err(|e| src.err(&n.path, format!("invalid template syntax: {e}")))?;
                return Ok(());
            }
            yamlx::check_url(&s).map_err(|e| {
                src.err(
                    &n.path,
                    format!("invalid URL: {}", e.replace(&s, "[REDACTED]")),
                )
            })?;
            Ok(())
        }
        Bool => yamlx::boolean(src, n).map(drop),
        Int => yamlx::integer(src, n).map(drop),
        GoDur => yamlx::go_duration(src, n).map(drop),
        PromDur => {
            if !n.is_null() {
                yamlx::prom_duration(src, n)?;
            }
            Ok(())
        }
        StrMap => yamlx::string_map(src, n).map(drop),
        StrList => yamlx::string_list(src, n).map(drop),
        AnyMap => match n.v {
            Value::Null | Value::Mapping(_) => Ok(()),
            other => Err(src.err(
                &n.path,
                format!(
                    "cannot unmarshal {} into map[string]interface {{}}",
                    kind_name(other)
                ),
            )),
        },
        Any => Ok(()),
        Http => check_http(src, n),
        Tls => check_obj(src, n, &TLS),
        Obj(schema) => check_obj(src, n, schema),
        ObjList(schema) => {
            for item in yamlx::list(src, n, schema.type_name)? {
                check_obj(src, &item, schema)?;
                check_item_rules(src, &item, schema)?;
            }
            Ok(())
        }
        StrOrObj(schema) => match n.v {
            Value::Mapping(_) => check_obj(src, n, schema),
            _ => yamlx::string(src, n).map(drop),
        },
    }
}

pub(crate) fn check_obj(src: Src<'_>, n: &Node<'_>, schema: &Schema) -> R<()> {
    let names: Vec<&str> = schema.fields.iter().map(|(k, _)| *k).collect();
    for (key, child) in entries(src, n, schema.type_name, &names)? {
        if let Some((_, ty)) = schema.fields.iter().find(|(k, _)| *k == key) {
            check(src, &child, *ty)?;
        }
    }
    Ok(())
}

fn get<'a>(n: &'a Node<'_>, key: &str) -> Option<&'a Value> {
    n.v.get(key).filter(|v| !v.is_null())
}

fn nonempty(n: &Node<'_>, key: &str) -> bool {
    get(n, key).is_some_and(|v| yamlx::scalar_text(v).is_none_or(|s| !s.is_empty()))
}

/// The per-item checks of list entries (Slack fields and actions, Mattermost fields).
fn check_item_rules(src: Src<'_>, n: &Node<'_>, schema: &Schema) -> R<()> {
    let err = |m: &str| Err(src.err(&n.path, m.to_string()));
    if std::ptr::eq(schema, &TITLE_VALUE_SHORT) {
        let what = if n.path.iter().any(
            |s| matches!(s, sightline_config::yaml::Seg::Key(k) if k.starts_with("mattermost")),
        ) {
            "Mattermost"
        } else {
            "Slack"
        };
        if !nonempty(n, "title") {
            return err(&format!("missing title in {what} field configuration"));
        }
        if !nonempty(n, "value") {
            return err(&format!("missing value in {what} field configuration"));
        }
    } else if std::ptr::eq(schema, &SLACK_ACTION) {
        if !nonempty(n, "type") {
            return err("missing type in Slack action configuration");
        }
        if !nonempty(n, "text") {
            return err("missing text in Slack action configuration");
        }
        if !nonempty(n, "url") && !nonempty(n, "name") {
            return err("missing name or url in Slack action configuration");
        }
        if let Some(c) = n.v.get("confirm").filter(|v| !v.is_null()) {
            let c = n.child("confirm", c);
            if !nonempty(&c, "text") {
                return Err(src.err(&c.path, "missing text in Slack confirmation configuration"));
            }
        }
    }
    Ok(())
}

/// prometheus/common's `HTTPClientConfig` keys and its `Validate`.
pub(crate) fn check_http(src: Src<'_>, n: &Node<'_>) -> R<()> {
    check_obj(src, n, &HTTP)?;
    let err = |m: &str| Err(src.err(&n.path, m.to_string()));
    let bearer = nonempty(n, "bearer_token");
    let bearer_file = nonempty(n, "bearer_token_file");
    let basic = get(n, "basic_auth").is_some();
    let oauth2 = get(n, "oauth2").is_some();
    let auth = get(n, "authorization").is_some();
    if bearer && bearer_file {
        return err("at most one of bearer_token & bearer_token_file must be configured");
    }
    if (basic || oauth2) && (bearer || bearer_file) {
        return err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
    }
    if let Some(b) = get(n, "basic_auth") {
        let b = n.child("basic_auth", b);
        let count = |keys: &[&str]| keys.iter().filter(|k| nonempty(&b, k)).count();
        if count(&["username", "username_file", "username_ref"]) > 1 {
            return err("at most one of basic_auth username, username_file & username_ref must be configured");
        }
        if count(&["password", "password_file", "password_ref"]) > 1 {
            return err("at most one of basic_auth password, password_file & password_ref must be configured");
        }
    }
    if let Some(a) = get(n, "authorization") {
        if bearer || bearer_file {
            return err("authorization is not compatible with bearer_token & bearer_token_file");
        }
        let a = n.child("authorization", a);
        let count = ["credentials", "credentials_file", "credentials_ref"]
            .iter()
            .filter(|k| nonempty(&a, k))
            .count();
        if count > 1 {
            return err(
                "at most one of authorization credentials & credentials_file must be configured",
            );
        }
        let ty = get(&a, "type")
            .and_then(yamlx::scalar_text)
            .unwrap_or_default();
        if ty.eq_ignore_ascii_case("basic") {
            return err(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#);
        }
    }
    if [basic, oauth2, auth].iter().filter(|b| **b).count() > 1 {
        return err("at most one of basic_auth, oauth2 & authorization must be configured");
    }
    if let Some(o) = get(n, "oauth2") {
        let o = n.child("oauth2", o);
        let (secret, secret_file) = (
            nonempty(&o, "client_secret"),
            nonempty(&o, "client_secret_file"),
        );
        if !nonempty(&o, "client_id") {
            return err("oauth2 client_id must be configured");
        }
        if !secret && !secret_file {
            return err("either oauth2 client_secret or client_secret_file must be configured");
        }
        if !nonempty(&o, "token_url") {
            return err("oauth2 token_url must be configured");
        }
        if secret && secret_file {
            return err(
                "at most one of oauth2 client_secret & client_secret_file must be configured",
            );
        }
    }
    Ok(())
}
