//! HTTP clients built from the `http_config` settings every Prometheus `*_config` shares
//! (scrape jobs, Alertmanagers, remote write): TLS, proxy, redirects, headers, and credentials
//! re-read from their files on every request, as Prometheus' `common/config` does; `oauth2`
//! tokens (`oauth2.rs`) and, for remote write, AWS SigV4 signatures (`sigv4.rs`).

mod oauth2;
pub mod sigv4;

use std::path::PathBuf;
use std::sync::Arc;

pub use oauth2::OAuth2Source;
pub use sigv4::SigV4Signer;

use sightline_config::HttpClientConfig;

use crate::{Error, Result};

/// How a request authenticates. File-based secrets are re-read per scrape so rotation works
/// without a reload.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// `basic_auth`.
    Basic {
        /// Username.
        username: Secret,
        /// Password.
        password: Secret,
    },
    /// `authorization` (and `bearer_token`).
    Authorization {
        /// The scheme (`Bearer`).
        kind: String,
        /// The credentials.
        credentials: Secret,
    },
    /// `oauth2`: a token from the client-credentials grant, shared by every request of the
    /// client that holds this `Auth` (clones share the cache).
    OAuth2(Arc<OAuth2Source>),
    /// `sigv4` (remote write): each request signed with AWS Signature Version 4.
    SigV4(Arc<SigV4Signer>),
}

/// A secret given inline or by file.
#[derive(Debug, Clone)]
pub enum Secret {
    /// Given in the configuration.
    Inline(String),
    /// Read from this file on every request.
    File(PathBuf),
}

impl Secret {
    /// The value; a file is read on a blocking thread, never on the async workers.
    pub async fn read(&self) -> Result<String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => tokio::fs::read_to_string(p)
                .await
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| {
                    Error::Http(format!("unable to read secret file {}: {e}", p.display()))
                }),
        }
    }
}

impl Auth {
    /// Adds the credentials to `req` (reading secret files now, on a blocking thread).
    pub async fn apply(&self, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder> {
        Ok(match self {
            Auth::None => req,
            Auth::Basic { username, password } => {
                req.basic_auth(username.read().await?, Some(password.read().await?))
            }
            Auth::Authorization { kind, credentials } => req.header(
                reqwest::header::AUTHORIZATION,
                format!("{kind} {}", credentials.read().await?),
            ),
            Auth::OAuth2(src) => {
                let (client, built) = req.build_split();
                let mut built = built.map_err(|e| Error::Http(e.to_string()))?;
                oauth2::apply(src, &mut built).await?;
                reqwest::RequestBuilder::from_parts(client, built)
            }
            Auth::SigV4(signer) => {
                let (client, built) = req.build_split();
                let mut built = built.map_err(|e| Error::Http(e.to_string()))?;
                signer.sign(&mut built, chrono::Utc::now())?;
                reqwest::RequestBuilder::from_parts(client, built)
            }
        })
    }

    /// The `sigv4` signer of a remote-write queue, failing as Prometheus does when no
    /// credentials or no region can be found.
    pub fn sigv4(cfg: &sightline_config::SigV4Config) -> Result<Auth> {
        Ok(Auth::SigV4(Arc::new(SigV4Signer::new(cfg)?)))
    }
}

/// Builds an HTTP client from a `*_config`'s HTTP settings (a scrape job, an Alertmanager,
/// a remote-write queue): TLS settings, proxy, redirects, custom headers. Prometheus
/// ignores proxy environment variables unless `proxy_from_environment` is set, and so do we.
// Reads the CA, certificate and key files; `apply_config` runs on a blocking thread.
#[allow(clippy::disallowed_methods)]
pub fn build(name: &str, h: &HttpClientConfig, gzip: bool) -> Result<reqwest::Client> {
    let err = |m: String| Error::Client {
        job: name.to_string(),
        message: m,
    };
    let read = |what: &str, f: &str| {
        std::fs::read(f).map_err(|e| err(format!("unable to read {what} file {f}: {e}")))
    };
    let mut b = reqwest::Client::builder()
        .gzip(gzip)
        .pool_max_idle_per_host(2)
        .tcp_nodelay(true)
        .redirect(if h.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if !h.proxy_from_environment {
        b = b.no_proxy();
    }
    if !h.enable_http2 {
        b = b.http1_only();
    }
    let tls = &h.tls_config;
    let ca = match (&tls.ca, &tls.ca_file) {
        (Some(pem), _) => Some(pem.as_bytes().to_vec()),
        (None, Some(f)) => Some(read("CA", f)?),
        _ => None,
    };
    if let Some(pem) = ca {
        for c in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| err(format!("invalid CA certificate: {e}")))?
        {
            b = b.add_root_certificate(c);
        }
    }
    let cert = match (&tls.cert, &tls.cert_file) {
        (Some(pem), _) => Some(pem.as_bytes().to_vec()),
        (None, Some(f)) => Some(read("cert", f)?),
        _ => None,
    };
    let key = match (&tls.key, &tls.key_file) {
        (Some(pem), _) => Some(pem.expose().as_bytes().to_vec()),
        (None, Some(f)) => Some(read("key", f)?),
        _ => None,
    };
    if let (Some(mut pem), Some(key)) = (cert, key) {
        pem.push(b'\n');
        pem.extend(key);
        b = b.identity(
            reqwest::Identity::from_pem(&pem)
                .map_err(|e| err(format!("invalid client certificate: {e}")))?,
        );
    }
    if tls.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    if let Some(v) = tls.min_version {
        let v = match v {
            sightline_config::TlsVersion::Tls10 => reqwest::tls::Version::TLS_1_0,
            sightline_config::TlsVersion::Tls11 => reqwest::tls::Version::TLS_1_1,
            sightline_config::TlsVersion::Tls12 => reqwest::tls::Version::TLS_1_2,
            sightline_config::TlsVersion::Tls13 => reqwest::tls::Version::TLS_1_3,
        };
        b = b.min_tls_version(v);
    }
    if let Some(p) = &h.proxy_url {
        b = b.proxy(
            reqwest::Proxy::all(p.as_str()).map_err(|e| err(format!("invalid proxy_url: {e}")))?,
        );
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &h.http_headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| err(format!("invalid header name {k:?}: {e}")))?;
        let mut vals: Vec<String> = v.values.clone();
        vals.extend(v.secrets.iter().map(|s| s.expose().to_string()));
        for f in &v.files {
            vals.push(
                String::from_utf8_lossy(&read("header", f)?)
                    .trim()
                    .to_string(),
            );
        }
        for val in vals {
            let hv = reqwest::header::HeaderValue::from_str(&val)
                .map_err(|e| err(format!("invalid value for header {k:?}: {e}")))?;
            headers.append(name.clone(), hv);
        }
    }
    b = b.default_headers(headers);
    b.build().map_err(|e| err(e.to_string()))
}

/// How requests made with `h` authenticate. Call it once per client: an `oauth2` token is
/// cached in the returned value (and its clones).
pub fn auth(h: &HttpClientConfig) -> Auth {
    let secret =
        |inline: &Option<sightline_config::Secret>, file: &Option<String>| match (inline, file) {
            (_, Some(f)) => Secret::File(f.into()),
            (Some(p), None) => Secret::Inline(p.expose().to_string()),
            (None, None) => Secret::Inline(String::new()),
        };
    if let Some(b) = &h.basic_auth {
        let username = match &b.username_file {
            Some(f) => Secret::File(f.into()),
            None => Secret::Inline(b.username.clone()),
        };
        return Auth::Basic {
            username,
            password: secret(&b.password, &b.password_file),
        };
    }
    if let Some(a) = &h.authorization {
        return Auth::Authorization {
            kind: a.kind.clone(),
            credentials: secret(&a.credentials, &a.credentials_file),
        };
    }
    if let Some(o) = &h.oauth2 {
        return Auth::OAuth2(Arc::new(OAuth2Source::new(o.clone())));
    }
    Auth::None
}
