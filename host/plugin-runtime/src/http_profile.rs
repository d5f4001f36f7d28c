//! Alertmanager's `http_config` (prometheus/common v0.38's `HTTPClientConfig`) applied on the
//! host side of a plugin's outbound requests: the operator's credentials, TLS settings and
//! proxy reach the wire, never the plugin.
//!
//! The daemon turns a receiver's `http_config` into [`HttpClientSettings`] when
//! alertmanager.yml loads and compiles it with [`HttpProfile::new`], so a CA that does not
//! parse or a missing key file rejects the configuration before anything changes. The
//! compiled profile goes with each call of that receiver (a per-call option); every request
//! the plugin makes during the call, through `http.send` or `wasi:http`, uses it.
//!
//! When files are read: the TLS files (`ca_file`, `cert_file`, `key_file`) when the profile
//! is compiled, i.e. when the configuration loads (Go re-reads them when they change; here a
//! reload does); the secrets (`password_file`, `username_file`, `credentials_file`,
//! `bearer_token_file`) for every request, as Go's round trippers do, so a rotated token
//! is used at once. `oauth2` tokens come from an [`AuthSource`] the daemon supplies.

use std::path::PathBuf;
use std::sync::Arc;

use crate::tls::TlsSettings;

/// A secret given inline or as a file read at each use (and trimmed, as Go trims it).
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The value itself.
    Inline(String),
    /// A file holding it.
    File(PathBuf),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Inline(_) => f.write_str("Inline(<secret>)"),
            Secret::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

impl Secret {
    /// The value: the inline text, or the file's content trimmed. `what` names the
    /// setting in the error, as Go's messages do (`unable to read <what> file <path>: ...`).
    fn value(&self, what: &str) -> Result<String, String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("unable to read {what} file {}: {e}", p.display())),
        }
    }
}

/// Credentials the host computes for each request (an `oauth2` token), supplied by the
/// daemon, which owns the token client; the runtime only asks for the header value.
pub trait AuthSource: Send + Sync {
    /// The `Authorization` value for the next request, or the operator-facing error.
    fn authorization(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>>;
}

/// A shared [`AuthSource`]. Two are equal only when they are the same source.
#[derive(Clone)]
pub struct SharedAuthSource(pub Arc<dyn AuthSource>);

impl PartialEq for SharedAuthSource {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

impl Eq for SharedAuthSource {}

impl std::fmt::Debug for SharedAuthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthSource")
    }
}

/// The credentials of `http_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    /// `basic_auth`.
    Basic {
        /// `username` / `username_file`.
        username: Secret,
        /// `password` / `password_file`.
        password: Option<Secret>,
    },
    /// `authorization` (and `bearer_token`/`bearer_token_file`, which Go turns into one
    /// with type `Bearer`).
    Authorization {
        /// The scheme, `Bearer` unless set.
        scheme: String,
        /// `credentials` / `credentials_file`; no header without them, as in Go.
        credentials: Option<Secret>,
    },
    /// `oauth2`: the value comes from the host's token source at each request.
    Source(SharedAuthSource),
}

/// `http_config` after validation, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientSettings {
    /// `basic_auth`, `authorization`, `bearer_token(_file)`.
    pub auth: Option<HttpAuth>,
    /// `tls_config`.
    pub tls: TlsSettings,
    /// `proxy_url`: every request goes through this HTTP proxy. The proxy needs no grant:
    /// the operator chose it, and the grant is about where the plugin's requests go.
    pub proxy_url: Option<String>,
    /// `no_proxy`: comma-separated hosts, domains and networks reached directly.
    pub no_proxy: Option<String>,
    /// `proxy_from_environment`: `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` of the daemon.
    pub proxy_from_environment: bool,
    /// `follow_redirects` (default true): up to 10 redirects, each to a granted host.
    pub follow_redirects: bool,
    /// `enable_http2` (default true). Accepted; the client speaks HTTP/1.1 only (the
    /// workspace builds reqwest without HTTP/2), which every receiver API accepts.
    pub enable_http2: bool,
}

impl Default for HttpClientSettings {
    /// prometheus/common's `DefaultHTTPClientConfig`: what a receiver without `http_config`
    /// uses.
    fn default() -> Self {
        HttpClientSettings {
            auth: None,
            tls: TlsSettings::default(),
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: false,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// A compiled `http_config`: the client (TLS, proxy) and the credentials to add. Cheap to
/// clone; hand it to a receiver call (`PluginHost::notify_with_profile`).
#[derive(Clone)]
pub struct HttpProfile {
    inner: Arc<Inner>,
}

struct Inner {
    settings: HttpClientSettings,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("HttpProfile")
            .field(&self.inner.settings)
            .finish()
    }
}

impl HttpProfile {
    /// Compiles `settings`: reads and checks the TLS files and the proxy URL. The error is a
    /// message for the operator (Go's words where Go has them).
    pub fn new(settings: HttpClientSettings) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            // Redirects are followed by `http::live_send`, which checks every hop against the
            // plugin's grant.
            .redirect(reqwest::redirect::Policy::none());
        let tls_set = settings.tls != TlsSettings::default();
        if tls_set {
            let config =
                crate::tls::client_config(&settings.tls, settings.tls.server_name.as_deref())?;
            builder = builder.use_preconfigured_tls(config);
        }
        if let Some(p) = &settings.proxy_url {
            let url = url::Url::parse(p).map_err(|e| format!("parse {p:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https" | "socks5") {
                return Err(format!(
                    "proxy_url {p:?}: only http and https proxies are supported"
                ));
            }
            if url.scheme() == "socks5" {
                return Err(format!(
                    "proxy_url {p:?}: SOCKS proxies are not supported by Sightline"
                ));
            }
            let mut proxy =
                reqwest::Proxy::all(url.as_str()).map_err(|e| format!("proxy_url {p:?}: {e}"))?;
            if let Some(np) = &settings.no_proxy {
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(np));
            }
            builder = builder.proxy(proxy);
        } else if settings.no_proxy.is_some() {
            return Err("if no_proxy is configured, proxy_url must also be configured".to_string());
        } else if !settings.proxy_from_environment {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(HttpProfile {
            inner: Arc::new(Inner { settings, client }),
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    pub(crate) fn follow_redirects(&self) -> bool {
        self.inner.settings.follow_redirects
    }

    /// The TLS settings, which also apply to SMTP (an email receiver's `tls_config`).
    pub fn tls(&self) -> &TlsSettings {
        &self.inner.settings.tls
    }

    /// The `Authorization` header value to add, read now (secrets files per request). Go
    /// adds it only when the request has none, so a plugin's own header wins.
    pub(crate) async fn authorization(&self) -> Result<Option<String>, String> {
        use base64::Engine as _;
        match &self.inner.settings.auth {
            None => Ok(None),
            Some(HttpAuth::Basic { username, password }) => {
                let user = username.value("basic auth username")?;
                let pass = match password {
                    Some(p) => p.value("basic auth password")?,
                    None => String::new(),
                };
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                Ok(Some(format!("Basic {token}")))
            }
            Some(HttpAuth::Authorization {
                credentials: None, ..
            }) => Ok(None),
            Some(HttpAuth::Authorization {
                scheme,
                credentials: Some(c),
            }) => {
                let value = c.value("authorization credentials")?;
                Ok(Some(format!("{scheme} {value}")))
            }
            Some(HttpAuth::Source(src)) => src.0.authorization().await.map(Some),
        }
    }
}
