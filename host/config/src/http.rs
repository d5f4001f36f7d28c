//! The HTTP client settings shared by scrape configs, Alertmanagers and remote endpoints
//! (Prometheus' `common/config.HTTPClientConfig`), and [`Secret`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de::{scalar_with, Str, UrlValue};

/// A secret string. It prints and serializes as `<secret>`; use [`Secret::expose`] to read it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

/// What a URL's userinfo password becomes when printed: Go's `url.URL.Redacted`, which
/// Prometheus uses when it prints a configured URL.
pub const REDACTED_PASSWORD: &str = "xxxxx";

/// `text` with the password of every `scheme://user:password@` in it replaced by
/// [`REDACTED_PASSWORD`], as Prometheus prints configured URLs (`http://user:xxxxx@host`).
/// Works on a bare URL and on free text that quotes URLs (error messages, log fields).
pub fn redact_url_passwords(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let auth_start = from + i + 3;
        // The authority ends at the first '/', '?', '#' or whitespace (or quote in text).
        let rest = &text[auth_start..];
        let auth_len = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | ')') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        let auth = &rest[..auth_len];
        from = auth_start + auth_len;
        let Some(at) = auth.rfind('@') else { continue };
        let Some(colon) = auth[..at].find(':') else {
            continue;
        };
        let pw_start = auth_start + colon + 1;
        let pw_end = auth_start + at;
        out.push_str(&text[done..pw_start]);
        out.push_str(REDACTED_PASSWORD);
        done = pw_end;
    }
    if done == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    std::borrow::Cow::Owned(out)
}

/// HTTP basic authentication.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct BasicAuth {
    /// User name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// File holding the user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username_file: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// The `Authorization` header (`bearer_token`/`bearer_token_file` are folded into this, type
/// `Bearer`, as Prometheus does).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Authorization {
    /// The scheme, `Bearer` unless set.
    #[serde(rename = "type")]
    pub kind: String,
    /// The credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Secret>,
    /// File holding the credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `oauth2`: the OAuth 2.0 client-credentials grant (prometheus/common v0.39's `OAuth2`). The
/// token is fetched from `token_url` and sent as `Authorization: <type> <token>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OAuth2 {
    /// The client identifier.
    pub client_id: String,
    /// The client secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// File holding the client secret, re-read on every request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    /// Scopes asked for (sent space-separated as `scope`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The token endpoint, as written (Go keeps a string); printed with its password redacted.
    #[serde(serialize_with = "crate::ser::url_text")]
    pub token_url: String,
    /// Extra form parameters of the token request.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    /// Proxy for the token endpoint (printed before `tls_config`, Go's field order).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::ser::opt_url"
    )]
    pub proxy_url: Option<url::Url>,
    /// TLS settings for the token endpoint.
    #[serde(skip_serializing_if = "TlsConfig::is_default")]
    pub tls_config: TlsConfig,
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0.
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// The configuration spelling (`TLS12`).
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS10",
            TlsVersion::Tls11 => "TLS11",
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a TLS version", |s| match s {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(format!("unknown TLS version: {s}")),
        })
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Client TLS settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TlsConfig {
    /// Inline CA certificate (PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// CA certificate file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Inline client certificate (PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// Client certificate file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// Inline client key (PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,
    /// Client key file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Server name for SNI and verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// Minimum TLS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<TlsVersion>,
    /// Maximum TLS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<TlsVersion>,
}

impl TlsConfig {
    /// Whether nothing is set (Prometheus omits such a block when printing).
    pub fn is_default(&self) -> bool {
        *self == TlsConfig::default()
    }
}

impl<'de> Deserialize<'de> for TlsConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::de::map_with(d, build_tls)
    }
}

/// Values of one custom header (`http_headers`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HeaderValues {
    /// Plain values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Secret values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    /// Files whose contents are values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// HTTP client settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpClientConfig {
    /// Basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// Authorization header (includes legacy `bearer_token(_file)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// OAuth 2.0 client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    /// TLS settings.
    #[serde(skip_serializing_if = "TlsConfig::is_default")]
    pub tls_config: TlsConfig,
    /// Follow HTTP 3xx redirects (default true).
    pub follow_redirects: bool,
    /// Allow HTTP/2 (default true; false for remote write).
    pub enable_http2: bool,
    /// Proxy URL.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::ser::opt_url"
    )]
    pub proxy_url: Option<url::Url>,
    /// Hosts that bypass the proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// Use the proxy environment variables.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy_from_environment: bool,
    /// Headers sent on CONNECT to the proxy.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    /// Custom headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, HeaderValues>,
}

impl HttpClientConfig {
    /// Prometheus' defaults with the given HTTP/2 default.
    pub fn default_with_http2(enable_http2: bool) -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2,
            http_headers: BTreeMap::new(),
        }
    }

    /// Every file this client reads (credentials, TLS material), for `check config`.
    pub fn referenced_files(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if let Some(b) = &self.basic_auth {
            v.extend(b.username_file.as_deref());
            v.extend(b.password_file.as_deref());
        }
        if let Some(a) = &self.authorization {
            v.extend(a.credentials_file.as_deref());
        }
        let mut tls = vec![&self.tls_config];
        if let Some(o) = &self.oauth2 {
            v.extend(o.client_secret_file.as_deref());
            tls.push(&o.tls_config);
        }
        for t in tls {
            v.extend(t.ca_file.as_deref());
            v.extend(t.cert_file.as_deref());
            v.extend(t.key_file.as_deref());
        }
        v
    }

    pub(crate) fn set_directory(&mut self, dir: &std::path::Path) {
        let j = |p: &mut Option<String>| {
            if let Some(s) = p {
                *s = crate::config::join_dir(dir, s);
            }
        };
        if let Some(b) = &mut self.basic_auth {
            j(&mut b.username_file);
            j(&mut b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            j(&mut a.credentials_file);
        }
        if let Some(o) = &mut self.oauth2 {
            j(&mut o.client_secret_file);
            j(&mut o.tls_config.ca_file);
            j(&mut o.tls_config.cert_file);
            j(&mut o.tls_config.key_file);
        }
        j(&mut self.tls_config.ca_file);
        j(&mut self.tls_config.cert_file);
        j(&mut self.tls_config.key_file);
        for h in self.http_headers.values_mut() {
            for f in &mut h.files {
                *f = crate::config::join_dir(dir, f);
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasicAuth {
    username: Option<Str>,
    username_file: Option<Str>,
    password: Option<Str>,
    password_file: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuthorization {
    #[serde(rename = "type")]
    kind: Option<Str>,
    credentials: Option<Str>,
    credentials_file: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOAuth2 {
    client_id: Option<Str>,
    client_secret: Option<Str>,
    client_secret_file: Option<Str>,
    scopes: Option<Vec<Str>>,
    token_url: Option<Str>,
    endpoint_params: Option<BTreeMap<String, Str>>,
    tls_config: Option<TlsConfig>,
    proxy_url: Option<UrlValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: Option<Str>,
    ca_file: Option<Str>,
    cert: Option<Str>,
    cert_file: Option<Str>,
    key: Option<Str>,
    key_file: Option<Str>,
    server_name: Option<Str>,
    insecure_skip_verify: Option<bool>,
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeader {
    values: Option<Vec<Str>>,
    secrets: Option<Vec<Str>>,
    files: Option<Vec<Str>>,
}

/// The HTTP client keys, collected from the block that inlines them.
#[derive(Default)]
pub(crate) struct RawHttp {
    pub(crate) basic_auth: Option<RawBasicAuth>,
    pub(crate) authorization: Option<RawAuthorization>,
    pub(crate) oauth2: Option<RawOAuth2>,
    pub(crate) bearer_token: Option<Str>,
    pub(crate) bearer_token_file: Option<Str>,
    pub(crate) tls_config: Option<TlsConfig>,
    pub(crate) follow_redirects: Option<bool>,
    pub(crate) enable_http2: Option<bool>,
    pub(crate) proxy_url: Option<UrlValue>,
    pub(crate) no_proxy: Option<Str>,
    pub(crate) proxy_from_environment: Option<bool>,
    pub(crate) proxy_connect_header: Option<BTreeMap<String, Vec<Str>>>,
    pub(crate) http_headers: Option<BTreeMap<String, RawHeader>>,
}

/// Defines a raw `serde` struct with the given fields plus every inlined HTTP client key.
macro_rules! with_http_client {
    ($(#[$m:meta])* struct $name:ident { $($(#[$fm:meta])* $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            $($(#[$fm])* $f: $t,)*
            basic_auth: Option<$crate::http::RawBasicAuth>,
            authorization: Option<$crate::http::RawAuthorization>,
            oauth2: Option<$crate::http::RawOAuth2>,
            bearer_token: Option<$crate::de::Str>,
            bearer_token_file: Option<$crate::de::Str>,
            tls_config: Option<$crate::http::TlsConfig>,
            follow_redirects: Option<bool>,
            enable_http2: Option<bool>,
            proxy_url: Option<$crate::de::UrlValue>,
            no_proxy: Option<$crate::de::Str>,
            proxy_from_environment: Option<bool>,
            proxy_connect_header: Option<std::collections::BTreeMap<String, Vec<$crate::de::Str>>>,
            http_headers: Option<std::collections::BTreeMap<String, $crate::http::RawHeader>>,
        }
        impl $name {
            fn take_http(&mut self) -> $crate::http::RawHttp {
                $crate::http::RawHttp {
                    basic_auth: self.basic_auth.take(),
                    authorization: self.authorization.take(),
                    oauth2: self.oauth2.take(),
                    bearer_token: self.bearer_token.take(),
                    bearer_token_file: self.bearer_token_file.take(),
                    tls_config: self.tls_config.take(),
                    follow_redirects: self.follow_redirects.take(),
                    enable_http2: self.enable_http2.take(),
                    proxy_url: self.proxy_url.take(),
                    no_proxy: self.no_proxy.take(),
                    proxy_from_environment: self.proxy_from_environment.take(),
                    proxy_connect_header: self.proxy_connect_header.take(),
                    http_headers: self.http_headers.take(),
                }
            }
        }
    };
}
pub(crate) use with_http_client;

/// Rejects a key Sightline does not implement, at the key's value.
fn reject<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<Option<()>, D::Error> {
    struct V(&'static str);
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<()>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("nothing")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(serde::de::Error::custom(format!(
                "{} is not supported by Sightline",
                self.0
            )))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(serde::de::Error::custom(format!(
                "{} is not supported by Sightline",
                self.0
            )))
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "{} is not supported by Sightline",
                self.0
            )))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V(what))
}

pub(crate) fn reject_sigv4<'de, D: Deserializer<'de>>(d: D) -> Result<Option<()>, D::Error> {
    reject(d, "sigv4")
}
pub(crate) fn reject_azuread<'de, D: Deserializer<'de>>(d: D) -> Result<Option<()>, D::Error> {
    reject(d, "azuread")
}
pub(crate) fn reject_google_iam<'de, D: Deserializer<'de>>(d: D) -> Result<Option<()>, D::Error> {
    reject(d, "google_iam")
}

fn nonempty(s: Option<Str>) -> Option<String> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

/// Validates and converts as `HTTPClientConfig.Validate` and `TLSConfig.Validate` do.
pub(crate) fn build_http(raw: RawHttp, http2_default: bool) -> Result<HttpClientConfig, String> {
    let mut c = HttpClientConfig::default_with_http2(http2_default);
    let bearer = nonempty(raw.bearer_token);
    let bearer_file = nonempty(raw.bearer_token_file);
    if bearer.is_some() && bearer_file.is_some() {
        return Err("at most one of bearer_token & bearer_token_file must be configured".into());
    }
    if (raw.basic_auth.is_some() || raw.oauth2.is_some())
        && (bearer.is_some() || bearer_file.is_some())
    {
        return Err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
    }
    if let Some(b) = raw.basic_auth {
        let username = nonempty(b.username);
        let username_file = nonempty(b.username_file);
        if username.is_some() && username_file.is_some() {
            return Err("at most one of basic_auth username, username_file & username_ref must be configured".into());
        }
        let password = nonempty(b.password);
        let password_file = nonempty(b.password_file);
        if password.is_some() && password_file.is_some() {
            return Err("at most one of basic_auth password, password_file & password_ref must be configured".into());
        }
        c.basic_auth = Some(BasicAuth {
            username: username.unwrap_or_default(),
            username_file,
            password: password.map(Secret),
            password_file,
        });
    }
    if let Some(a) = raw.authorization {
        if bearer.is_some() || bearer_file.is_some() {
            return Err(
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            );
        }
        let credentials = nonempty(a.credentials);
        let credentials_file = nonempty(a.credentials_file);
        if credentials.is_some() && credentials_file.is_some() {
            return Err(
                "at most one of authorization credentials & credentials_file must be configured"
                    .into(),
            );
        }
        let mut kind = a.kind.map(|k| k.0.trim().to_string()).unwrap_or_default();
        if kind.is_empty() {
            kind = "Bearer".into();
        }
        if kind.eq_ignore_ascii_case("basic") {
            return Err(
                r#"authorization type cannot be set to "basic", use "basic_auth" instead"#.into(),
            );
        }
        if c.basic_auth.is_some() || raw.oauth2.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
        c.authorization = Some(Authorization {
            kind,
            credentials: credentials.map(Secret),
            credentials_file,
        });
    } else if let Some(t) = bearer {
        c.authorization = Some(Authorization {
            kind: "Bearer".into(),
            credentials: Some(Secret(t)),
            credentials_file: None,
        });
    } else if let Some(f) = bearer_file {
        c.authorization = Some(Authorization {
            kind: "Bearer".into(),
            credentials: None,
            credentials_file: Some(f),
        });
    }
    if let Some(o) = raw.oauth2 {
        if c.basic_auth.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
        c.oauth2 = Some(build_oauth2(o)?);
    }
    if let Some(t) = raw.tls_config {
        c.tls_config = t;
    }
    if let Some(v) = raw.follow_redirects {
        c.follow_redirects = v;
    }
    if let Some(v) = raw.enable_http2 {
        c.enable_http2 = v;
    }
    c.proxy_url = raw.proxy_url.map(|u| u.0);
    c.no_proxy = nonempty(raw.no_proxy);
    c.proxy_from_environment = raw.proxy_from_environment.unwrap_or(false);
    c.proxy_connect_header = raw
        .proxy_connect_header
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|s| Secret(s.0)).collect()))
        .collect();
    // common/config ProxyConfig.Validate, in its order.
    if !c.proxy_connect_header.is_empty() && c.proxy_url.is_none() && !c.proxy_from_environment {
        return Err("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured".into());
    }
    if c.proxy_from_environment && c.proxy_url.is_some() {
        return Err(
            "if proxy_from_environment is configured, proxy_url must not be configured".into(),
        );
    }
    if c.proxy_from_environment && c.no_proxy.is_some() {
        return Err(
            "if proxy_from_environment is configured, no_proxy must not be configured".into(),
        );
    }
    if c.no_proxy.is_some() && c.proxy_url.is_none() {
        return Err("if no_proxy is configured, proxy_url must also be configured".into());
    }
    for (name, h) in raw.http_headers.unwrap_or_default() {
        if RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(format!(
                "setting header {:?} is not allowed",
                canonical_header_key(&name)
            ));
        }
        c.http_headers.insert(
            name,
            HeaderValues {
                values: h
                    .values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
                secrets: h
                    .secrets
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| Secret(s.0))
                    .collect(),
                files: h
                    .files
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
            },
        );
    }
    Ok(c)
}

/// `OAuth2` checked as common/config v0.39's `HTTPClientConfig.Validate`, in its order.
fn build_oauth2(o: RawOAuth2) -> Result<OAuth2, String> {
    let client_id = nonempty(o.client_id).ok_or("oauth2 client_id must be configured")?;
    let client_secret = nonempty(o.client_secret);
    let client_secret_file = nonempty(o.client_secret_file);
    if client_secret.is_none() && client_secret_file.is_none() {
        return Err("either oauth2 client_secret or client_secret_file must be configured".into());
    }
    let token_url = nonempty(o.token_url).ok_or("oauth2 token_url must be configured")?;
    if client_secret.is_some() && client_secret_file.is_some() {
        return Err(
            "at most one of oauth2 client_secret & client_secret_file must be configured".into(),
        );
    }
    Ok(OAuth2 {
        client_id,
        client_secret: client_secret.map(Secret),
        client_secret_file,
        scopes: o
            .scopes
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.0)
            .collect(),
        token_url,
        endpoint_params: o
            .endpoint_params
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect(),
        tls_config: o.tls_config.unwrap_or_default(),
        proxy_url: o.proxy_url.map(|u| u.0),
    })
}

/// Go's `http.CanonicalHeaderKey` for ASCII names: `x-foo-bar` → `X-Foo-Bar`.
fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
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

/// Headers `http_headers` may not set (Prometheus' common/config list).
const RESERVED_HEADERS: &[&str] = &[
    "Authorization",
    "Host",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "User-Agent",
    "Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Www-Authenticate",
    "Accept-Encoding",
    "X-Prometheus-Remote-Write-Version",
    "X-Prometheus-Remote-Read-Version",
    "X-Prometheus-Scrape-Timeout-Seconds",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
];

fn build_tls(t: RawTls) -> Result<TlsConfig, String> {
    let c = TlsConfig {
        ca: nonempty(t.ca),
        ca_file: nonempty(t.ca_file),
        cert: nonempty(t.cert),
        cert_file: nonempty(t.cert_file),
        key: nonempty(t.key).map(Secret),
        key_file: nonempty(t.key_file),
        server_name: nonempty(t.server_name),
        insecure_skip_verify: t.insecure_skip_verify.unwrap_or(false),
        min_version: t.min_version,
        max_version: t.max_version,
    };
    if c.ca.is_some() && c.ca_file.is_some() {
        return Err("at most one of ca, ca_file & ca_ref must be configured".into());
    }
    if c.cert.is_some() && c.cert_file.is_some() {
        return Err("at most one of cert, cert_file & cert_ref must be configured".into());
    }
    if c.key.is_some() && c.key_file.is_some() {
        return Err("at most one of key, key_file & key_ref must be configured".into());
    }
    let using_cert = c.cert.is_some() || c.cert_file.is_some();
    let using_key = c.key.is_some() || c.key_file.is_some();
    if using_cert && !using_key {
        return Err("exactly one of key or key_file must be configured when a client certificate is configured".into());
    }
    if using_key && !using_cert {
        return Err(
            "exactly one of cert or cert_file must be configured when a client key is configured"
                .into(),
        );
    }
    Ok(c)
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url_passwords as r;

    #[test]
    fn url_passwords_print_as_prometheus_prints_them() {
        for (input, want) in [
            ("http://host:9/metrics", "http://host:9/metrics"),
            ("http://user@host/", "http://user@host/"),
            ("http://user:pw@host:9/metrics", "http://user:xxxxx@host:9/metrics"),
            ("https://u:p@w@h", "https://u:xxxxx@h"),
            ("http://u:@h/", "http://u:xxxxx@h/"),
            (
                "error sending request for url (http://u:pw@h/m): refused; see https://a:b@c",
                "error sending request for url (http://u:xxxxx@h/m): refused; see https://a:xxxxx@c",
            ),
            ("no url at all: a:b@c", "no url at all: a:b@c"),
            ("ftp://a:b@c?x=1", "ftp://a:xxxxx@c?x=1"),
        ] {
            assert_eq!(r(input), want, "{input}");
        }
    }
}
