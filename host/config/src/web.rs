//! The web configuration file (`--web.config.file`, exporter-toolkit format): TLS for the
//! server and basic-auth users with bcrypt hashes. Parsing and validation only; checking
//! passwords against the hashes is the api crate's job.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer};

use crate::config::{first_document, join_dir};
use crate::de::{map_with, scalar_with, Str};
use crate::error::{Error, Result};
use crate::http::{Secret, TlsVersion};

/// Client certificate policy (Go's `tls.ClientAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `NoClientCert` (default).
    #[default]
    NoClientCert,
    /// `RequestClientCert`.
    RequestClientCert,
    /// `RequireAnyClientCert`.
    RequireAnyClientCert,
    /// `VerifyClientCertIfGiven`.
    VerifyClientCertIfGiven,
    /// `RequireAndVerifyClientCert`.
    RequireAndVerifyClientCert,
}

impl<'de> Deserialize<'de> for ClientAuth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a client auth type", |s| {
            Ok(match s {
                "" | "NoClientCert" => ClientAuth::NoClientCert,
                "RequestClientCert" => ClientAuth::RequestClientCert,
                "RequireAnyClientCert" => ClientAuth::RequireAnyClientCert,
                "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
                "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
                _ => return Err(format!("invalid ClientAuth: {s}")),
            })
        })
    }
}

/// `tls_server_config`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsServerConfig {
    /// Server certificate file.
    pub cert_file: Option<String>,
    /// Server key file.
    pub key_file: Option<String>,
    /// Inline certificate (PEM).
    pub cert: Option<String>,
    /// Inline key (PEM).
    pub key: Option<Secret>,
    /// CA file for client certificates.
    pub client_ca_file: Option<String>,
    /// Inline client CA (PEM).
    pub client_ca: Option<String>,
    /// Client certificate policy.
    pub client_auth_type: ClientAuth,
    /// Allowed client SANs.
    pub client_allowed_sans: Vec<String>,
    /// Minimum TLS version (default TLS12).
    pub min_version: TlsVersion,
    /// Maximum TLS version (default TLS13).
    pub max_version: TlsVersion,
    /// Cipher suite names, as written.
    pub cipher_suites: Vec<String>,
    /// Curve names, as written.
    pub curve_preferences: Vec<String>,
    /// Prefer the server's cipher order.
    pub prefer_server_cipher_suites: bool,
}

/// A parsed web configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebConfig {
    /// TLS settings; `None` serves plain HTTP.
    pub tls_server_config: Option<TlsServerConfig>,
    /// Serve HTTP/2 (default true).
    pub http2: bool,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// User name → bcrypt hash.
    pub basic_auth_users: BTreeMap<String, Secret>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    tls_server_config: Option<TlsServerConfig>,
    http_server_config: Option<RawHttpServer>,
    basic_auth_users: Option<BTreeMap<String, Str>>,
    #[allow(dead_code)]
    rate_limit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpServer {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, Str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTlsServer {
    cert_file: Option<Str>,
    key_file: Option<Str>,
    cert: Option<Str>,
    key: Option<Str>,
    client_ca_file: Option<Str>,
    client_ca: Option<Str>,
    client_auth_type: Option<ClientAuth>,
    client_allowed_sans: Option<Vec<Str>>,
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
    cipher_suites: Option<Vec<Str>>,
    curve_preferences: Option<Vec<Str>>,
    prefer_server_cipher_suites: Option<bool>,
}

fn ne(s: Option<Str>) -> Option<String> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

impl<'de> Deserialize<'de> for TlsServerConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |r: RawTlsServer| {
            let c = TlsServerConfig {
                cert_file: ne(r.cert_file),
                key_file: ne(r.key_file),
                cert: ne(r.cert),
                key: ne(r.key).map(Secret::new),
                client_ca_file: ne(r.client_ca_file),
                client_ca: ne(r.client_ca),
                client_auth_type: r.client_auth_type.unwrap_or_default(),
                client_allowed_sans: r
                    .client_allowed_sans
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
                min_version: r.min_version.unwrap_or(TlsVersion::Tls12),
                max_version: r.max_version.unwrap_or(TlsVersion::Tls13),
                cipher_suites: r
                    .cipher_suites
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
                curve_preferences: r
                    .curve_preferences
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
                prefer_server_cipher_suites: r.prefer_server_cipher_suites.unwrap_or(true),
            };
            let has_cert = c.cert_file.is_some() || c.cert.is_some();
            let has_key = c.key_file.is_some() || c.key.is_some();
            if c.cert_file.is_some() && c.cert.is_some() {
                return Err("cannot specify both cert_file and cert".into());
            }
            if c.key_file.is_some() && c.key.is_some() {
                return Err("cannot specify both key_file and key".into());
            }
            if !has_cert {
                return Err("missing cert_file or cert".into());
            }
            if !has_key {
                return Err("missing key_file or key".into());
            }
            let has_ca = c.client_ca_file.is_some() || c.client_ca.is_some();
            if has_ca && c.client_auth_type == ClientAuth::NoClientCert {
                return Err("Client CA's have been configured without a Client Auth Policy".into());
            }
            if c.client_auth_type == ClientAuth::RequireAndVerifyClientCert && !has_ca {
                return Err("client_ca_file or client_ca is required when client_auth_type is RequireAndVerifyClientCert".into());
            }
            if c.min_version > c.max_version {
                return Err("min_version must be less than or equal to max_version".into());
            }
            Ok(c)
        })
    }
}

/// Parses a web configuration from memory.
pub fn parse_web_config(src: &str, source_name: &str) -> Result<WebConfig> {
    let Some(raw) = first_document::<RawWeb>(src, source_name)? else {
        return Ok(WebConfig {
            http2: true,
            ..WebConfig::default()
        });
    };
    let mut users = BTreeMap::new();
    for (user, hash) in raw.basic_auth_users.unwrap_or_default() {
        if !is_bcrypt_hash(&hash.0) {
            let path = ["basic_auth_users".into(), crate::de::Seg::Key(user.clone())];
            return Err(crate::de::error_at(
                source_name,
                src,
                &path,
                format!("basic_auth_users: the password of {user:?} is not a bcrypt hash"),
            ));
        }
        users.insert(user, Secret::new(hash.0));
    }
    let http = raw.http_server_config;
    if let Some(headers) = http.as_ref().and_then(|h| h.headers.as_ref()) {
        for (name, value) in headers {
            if let Err(msg) = check_header(name, &value.0) {
                let path = [
                    "http_server_config".into(),
                    "headers".into(),
                    crate::de::Seg::Key(name.clone()),
                ];
                return Err(crate::de::error_at(source_name, src, &path, msg));
            }
        }
    }
    Ok(WebConfig {
        tls_server_config: raw.tls_server_config,
        http2: http.as_ref().and_then(|h| h.http2).unwrap_or(true),
        headers: http
            .and_then(|h| h.headers)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect(),
        basic_auth_users: users,
    })
}

/// Reads a web configuration file; relative TLS file paths become relative to its directory.
pub fn load_web_config(path: &Path) -> Result<WebConfig> {
    let src = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut c = parse_web_config(&src, &path.display().to_string())?;
    if let (Some(t), Some(dir)) = (&mut c.tls_server_config, path.parent()) {
        for f in [&mut t.cert_file, &mut t.key_file, &mut t.client_ca_file]
            .into_iter()
            .flatten()
        {
            *f = join_dir(dir, f);
        }
    }
    Ok(c)
}

/// exporter-toolkit's rule for `http_server_config.headers`: only these security headers may
/// be set, some only to fixed values.
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

fn check_header(name: &str, value: &str) -> std::result::Result<(), String> {
    let Some((_, values)) = ALLOWED_HEADERS.iter().find(|(n, _)| *n == name) else {
        return Err(format!("HTTP header {name:?} can not be configured"));
    };
    if !values.is_empty() && !values.contains(&value) {
        // Go's `%q` of a string slice: `["deny" "sameorigin"]`.
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        return Err(format!(
            "invalid value for {name}. Expected one of: [{}], but got: {value:?}",
            quoted.join(" ")
        ));
    }
    Ok(())
}

/// A bcrypt hash: `$2a$`, `$2b$` or `$2y$`, a two-digit cost, `$`, then 53 characters.
fn is_bcrypt_hash(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 60
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'a' | b'b' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
}
