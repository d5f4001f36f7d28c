//! A receiver's `http_config` (and an email receiver's `tls_config`) as the plugin runtime's
//! [`HttpProfile`]: built when alertmanager.yml loads, so a CA that does not parse, a missing
//! certificate file or an option Sightline does not implement rejects the file before
//! anything changes. The alerts crate has already applied prometheus/common's `Validate`
//! (with its messages) and the `global.http_config` inheritance.
//!
//! Relative file names are relative to alertmanager.yml's directory, as Go's `SetDirectory`
//! makes them. The plugin never sees any of it: `deliver.rs` removes these keys from the
//! settings it hands over.

use std::path::Path;
use std::sync::Arc;

use serde_yaml::{Mapping, Value};
use sightline_config::OAuth2;
use sightline_plugin_runtime::{
    AuthSource, HttpAuth, HttpClientSettings, HttpProfile, Pem, Secret, SharedAuthSource,
    TlsSettings,
};
use sightline_scrape::client::OAuth2Source;

/// The keys the host applies and the plugin does not get, per integration kind.
pub(crate) fn host_keys(kind: &str) -> &'static [&'static str] {
    if kind == "email" {
        &["tls_config"]
    } else {
        &["http_config"]
    }
}

/// The profile of one integration: `http_config` (default: prometheus/common's defaults),
/// or for `email_configs` its `tls_config`.
pub(crate) fn profile(
    kind: &str,
    settings: &Mapping,
    base_dir: &Path,
) -> Result<HttpProfile, String> {
    let mut out = HttpClientSettings::default();
    if kind == "email" {
        if let Some(tls) = map(settings, "tls_config") {
            out.tls = tls_settings(tls, base_dir).map_err(|e| format!("tls_config: {e}"))?;
        }
    } else if let Some(http) = map(settings, "http_config") {
        out = http_settings(http, base_dir).map_err(|e| format!("http_config: {e}"))?;
    }
    HttpProfile::new(out)
}

fn map<'a>(m: &'a Mapping, key: &str) -> Option<&'a Mapping> {
    m.get(key).and_then(Value::as_mapping)
}

/// A string setting; absent, null and empty are all "not set", as Go's zero value.
fn text(m: &Mapping, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(m: &Mapping, key: &str) -> Option<bool> {
    m.get(key).and_then(Value::as_bool)
}

fn set(m: &Mapping, key: &str) -> bool {
    match m.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Mapping(x)) => !x.is_empty(),
        Some(Value::Sequence(x)) => !x.is_empty(),
        Some(_) => true,
    }
}

fn secret(m: &Mapping, inline: &str, file: &str, base_dir: &Path) -> Option<Secret> {
    if let Some(v) = text(m, inline) {
        return Some(Secret::Inline(v));
    }
    text(m, file).map(|f| Secret::File(base_dir.join(f)))
}

fn refuse_refs(m: &Mapping, keys: &[&str]) -> Result<(), String> {
    for k in keys {
        if set(m, k) {
            return Err(format!(
                "{k} is not supported by Sightline (there is no secret manager to resolve it); use the inline or _file form"
            ));
        }
    }
    Ok(())
}

pub(crate) fn http_settings(h: &Mapping, base_dir: &Path) -> Result<HttpClientSettings, String> {
    let mut out = HttpClientSettings::default();
    for k in ["proxy_connect_header", "http_headers"] {
        if set(h, k) {
            return Err(format!("{k} is not supported by Sightline"));
        }
    }
    if let Some(b) = map(h, "basic_auth") {
        refuse_refs(b, &["username_ref", "password_ref"])
            .map_err(|e| format!("basic_auth: {e}"))?;
        out.auth = Some(HttpAuth::Basic {
            username: secret(b, "username", "username_file", base_dir)
                .unwrap_or(Secret::Inline(String::new())),
            password: secret(b, "password", "password_file", base_dir),
        });
    } else if let Some(a) = map(h, "authorization") {
        refuse_refs(a, &["credentials_ref"]).map_err(|e| format!("authorization: {e}"))?;
        out.auth = Some(HttpAuth::Authorization {
            scheme: text(a, "type")
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Bearer".to_string()),
            credentials: secret(a, "credentials", "credentials_file", base_dir),
        });
    } else if let Some(token) = secret(h, "bearer_token", "bearer_token_file", base_dir) {
        out.auth = Some(HttpAuth::Authorization {
            scheme: "Bearer".to_string(),
            credentials: Some(token),
        });
    } else if let Some(o) = map(h, "oauth2") {
        let cfg = oauth2(o, base_dir).map_err(|e| format!("oauth2: {e}"))?;
        out.auth = Some(HttpAuth::Source(SharedAuthSource(Arc::new(OAuth2Auth(
            OAuth2Source::new(cfg),
        )))));
    }
    if let Some(t) = map(h, "tls_config") {
        out.tls = tls_settings(t, base_dir).map_err(|e| format!("tls_config: {e}"))?;
    }
    out.proxy_url = text(h, "proxy_url");
    out.no_proxy = text(h, "no_proxy");
    out.proxy_from_environment = flag(h, "proxy_from_environment").unwrap_or(false);
    if out.proxy_from_environment && (out.proxy_url.is_some() || out.no_proxy.is_some()) {
        return Err(
            "if proxy_from_environment is configured, proxy_url and no_proxy must not be configured"
                .to_string(),
        );
    }
    out.follow_redirects = flag(h, "follow_redirects").unwrap_or(true);
    out.enable_http2 = flag(h, "enable_http2").unwrap_or(true);
    Ok(out)
}

/// The keys of prometheus/common v0.39's `OAuth2`, which is what Sightline implements; the
/// newer ones Alertmanager's schema knows (JWT grants, `*_ref`, proxy options) are refused.
const OAUTH2_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_secret_file",
    "scopes",
    "token_url",
    "endpoint_params",
    "tls_config",
    "proxy_url",
];

/// A receiver's `oauth2` as the config crate's [`OAuth2`] (the alerts crate has checked
/// the required keys with prometheus/common's messages).
fn oauth2(o: &Mapping, base_dir: &Path) -> Result<OAuth2, String> {
    for (k, v) in o {
        let k = k.as_str().unwrap_or("");
        if !OAUTH2_KEYS.contains(&k) && !matches!(v, Value::Null) {
            return Err(format!("{k} is not supported by Sightline"));
        }
    }
    let file = |k: &str| text(o, k).map(|f| base_dir.join(f).display().to_string());
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut tls: sightline_config::TlsConfig = match o.get("tls_config") {
        Some(t @ Value::Mapping(_)) => {
            serde_yaml::from_value(t.clone()).map_err(|e| format!("tls_config: {e}"))?
        }
        _ => sightline_config::TlsConfig::default(),
    };
    for p in [&mut tls.ca_file, &mut tls.cert_file, &mut tls.key_file]
        .into_iter()
        .flatten()
    {
        *p = base_dir.join(&*p).display().to_string();
    }
    let proxy_url = match text(o, "proxy_url") {
        Some(p) => Some(url::Url::parse(&p).map_err(|e| format!("proxy_url: {e}"))?),
        None => None,
    };
    Ok(OAuth2 {
        client_id: text(o, "client_id").unwrap_or_default(),
        client_secret: text(o, "client_secret").map(sightline_config::Secret::new),
        client_secret_file: file("client_secret_file"),
        scopes: strings(o.get("scopes")),
        token_url: text(o, "token_url").unwrap_or_default(),
        endpoint_params: map(o, "endpoint_params")
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        tls_config: tls,
        proxy_url,
    })
}

/// The scrape client's token source behind the plugin runtime's [`AuthSource`], so receivers
/// get the very token flow of prometheus.yml's clients.
struct OAuth2Auth(OAuth2Source);

impl AuthSource for OAuth2Auth {
    fn authorization(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>>
    {
        Box::pin(async move {
            let v = self
                .0
                .authorization(None)
                .await
                .map_err(|e| e.to_string())?;
            v.to_str()
                .map(str::to_string)
                .map_err(|_| "oauth2: the token is not a valid header value".to_string())
        })
    }
}

pub(crate) fn tls_settings(t: &Mapping, base_dir: &Path) -> Result<TlsSettings, String> {
    refuse_refs(t, &["ca_ref", "cert_ref", "key_ref"])?;
    let pem = |inline: &str, file: &str| -> Result<Option<Pem>, String> {
        match (text(t, inline), text(t, file)) {
            (Some(_), Some(_)) => Err(format!(
                "at most one of {inline} and {file} must be configured"
            )),
            (Some(v), None) => Ok(Some(Pem::Inline(v))),
            (None, Some(f)) => Ok(Some(Pem::File(base_dir.join(f)))),
            (None, None) => Ok(None),
        }
    };
    Ok(TlsSettings {
        ca: pem("ca", "ca_file")?,
        cert: pem("cert", "cert_file")?,
        key: pem("key", "key_file")?,
        server_name: text(t, "server_name"),
        insecure_skip_verify: flag(t, "insecure_skip_verify").unwrap_or(false),
        min_version: text(t, "min_version"),
        max_version: text(t, "max_version"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Mapping {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn settings_from_yaml() {
        let dir = Path::new("/etc/am");
        let h = http_settings(
            &yaml("basic_auth: {username: u, password_file: pw}\nfollow_redirects: false\ntls_config: {ca_file: ca.pem, server_name: x}\nproxy_url: http://proxy:3128\n"),
            dir,
        )
        .unwrap();
        assert_eq!(
            h.auth,
            Some(HttpAuth::Basic {
                username: Secret::Inline("u".into()),
                password: Some(Secret::File("/etc/am/pw".into())),
            })
        );
        assert!(!h.follow_redirects && h.enable_http2);
        assert_eq!(h.tls.ca, Some(Pem::File("/etc/am/ca.pem".into())));
        assert_eq!(h.tls.server_name.as_deref(), Some("x"));
        assert_eq!(h.proxy_url.as_deref(), Some("http://proxy:3128"));

        let b = http_settings(&yaml("bearer_token_file: /run/token\n"), dir).unwrap();
        assert_eq!(
            b.auth,
            Some(HttpAuth::Authorization {
                scheme: "Bearer".into(),
                credentials: Some(Secret::File("/run/token".into()))
            })
        );
        let a =
            http_settings(&yaml("authorization: {type: Token, credentials: t}\n"), dir).unwrap();
        assert_eq!(
            a.auth,
            Some(HttpAuth::Authorization {
                scheme: "Token".into(),
                credentials: Some(Secret::Inline("t".into()))
            })
        );
    }

    #[test]
    fn oauth2_becomes_a_token_source() {
        let dir = Path::new("/etc/am");
        let h = http_settings(
            &yaml("oauth2: {client_id: a, client_secret_file: s, token_url: 'http://t/token', scopes: [x], tls_config: {ca_file: ca.pem}}\n"),
            dir,
        )
        .unwrap();
        assert!(matches!(h.auth, Some(HttpAuth::Source(_))), "{:?}", h.auth);
        let o = oauth2(
            &yaml("{client_id: a, client_secret_file: s, token_url: 'http://t/token', scopes: [x, y], endpoint_params: {k: v}, tls_config: {ca_file: ca.pem}}"),
            dir,
        )
        .unwrap();
        assert_eq!(o.client_secret_file.as_deref(), Some("/etc/am/s"));
        assert_eq!(o.tls_config.ca_file.as_deref(), Some("/etc/am/ca.pem"));
        assert_eq!((o.scopes.len(), o.endpoint_params["k"].as_str()), (2, "v"));
    }

    #[test]
    fn refusals_are_clear() {
        let dir = Path::new("/");
        let err = |s: &str| http_settings(&yaml(s), dir).unwrap_err();
        assert_eq!(
            err("oauth2: {client_id: a, client_secret: b, token_url: 'http://t', audience: x}\n"),
            "oauth2: audience is not supported by Sightline"
        );
        assert!(err("http_headers: {X-A: {values: [b]}}\n").contains("http_headers"));
        assert!(err("basic_auth: {username: u, password_ref: r}\n").contains("password_ref"));
        // A CA that is not there rejects the configuration when it loads.
        let missing = profile(
            "webhook",
            &yaml("http_config: {tls_config: {ca_file: /nonexistent/ca.pem}}\n"),
            dir,
        )
        .unwrap_err();
        assert!(
            missing.starts_with("unable to load specified CA cert /nonexistent/ca.pem"),
            "{missing}"
        );
        let bad_version =
            profile("email", &yaml("tls_config: {min_version: TLS14}\n"), dir).unwrap_err();
        assert_eq!(bad_version, "unknown TLS version: TLS14");
    }
}
