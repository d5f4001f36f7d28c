//! Outbound HTTP for plugins: the policy check, live sending and recording.
//!
//! Plugins reach the network through our own small `http` WIT interface (one `send` call
//! with the whole request and response in memory is all a receiver needs) and through
//! `wasi:http/outgoing-handler` (`wasi_http.rs`), so a language's own HTTP client works.
//! Both end in [`Outbound::send`]: the host checks the destination against the grant
//! before anything touches the network, applies the receiver's `http_config` profile
//! (`http_profile.rs`), bounds time and response size, and under `plugin test` records the
//! exact request and answers it with a canned response without a fake server.

use std::sync::Arc;

use parking_lot::Mutex;

/// Largest response body a plugin may receive.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// A request a plugin made while running under `plugin test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in the order given.
    pub headers: Vec<(String, String)>,
    /// Body bytes: the first [`MAX_RECORDED_BODY_BYTES`] (fewer once the record holds
    /// [`MAX_RECORDED_TOTAL_BYTES`]).
    pub body: Vec<u8>,
    /// The body's size as sent; more than `body.len()` when the body was cut.
    pub body_len: usize,
}

/// Most requests `plugin test` records; later ones are answered but only counted.
pub const MAX_RECORDED_REQUESTS: usize = 1_000;
/// Most bytes of one request body `plugin test` records.
pub const MAX_RECORDED_BODY_BYTES: usize = 1 << 20;
/// Most body bytes `plugin test` records in all.
pub const MAX_RECORDED_TOTAL_BYTES: usize = 16 << 20;

/// The requests recorded in test mode, bounded by the limits above.
#[derive(Debug, Default)]
pub(crate) struct RecordLog {
    pub(crate) requests: Vec<RecordedRequest>,
    /// Requests answered but not recorded (over [`MAX_RECORDED_REQUESTS`]).
    pub(crate) dropped: u64,
    body_bytes: usize,
}

impl RecordLog {
    pub(crate) fn push(&mut self, mut req: RecordedRequest) {
        if self.requests.len() >= MAX_RECORDED_REQUESTS {
            self.dropped += 1;
            return;
        }
        let room = MAX_RECORDED_BODY_BYTES.min(MAX_RECORDED_TOTAL_BYTES - self.body_bytes);
        req.body_len = req.body.len();
        if req.body.len() > room {
            req.body.truncate(room);
            req.body.shrink_to_fit();
        }
        // Headers and the URL are bounded the same way: a guest chooses them too.
        req.url = crate::words::sanitize(&req.url, 8192);
        req.headers.truncate(100);
        for (k, v) in &mut req.headers {
            *k = crate::words::sanitize(k, 1024);
            *v = crate::words::sanitize(v, 8192);
        }
        req.method = crate::words::sanitize(&req.method, 64);
        self.body_bytes += req.body.len();
        self.requests.push(req);
    }
}

/// A canned answer for recorded requests whose URL starts with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    /// URL prefix this response answers; empty matches every URL.
    pub url_prefix: String,
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Where requests go.
#[derive(Clone)]
pub(crate) enum HttpMode {
    /// Requests are sent with this client.
    Live(reqwest::Client),
    /// Requests are recorded and answered from the canned list (first
    /// matching prefix; 200 with an empty body when none matches).
    Record {
        log: Arc<Mutex<RecordLog>>,
        canned: Arc<Vec<CannedResponse>>,
    },
}

impl HttpMode {
    pub(crate) fn live() -> crate::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| crate::Error::Runtime(format!("building HTTP client: {e}")))?;
        Ok(HttpMode::Live(client))
    }
}

/// The outcome of a send, independent of the generated bindings.
#[derive(Debug)]
pub(crate) enum SendError {
    Denied(String),
    Invalid(String),
    Timeout,
    /// The response body is larger than [`MAX_RESPONSE_BYTES`].
    TooLarge,
    Transport(String),
}

impl SendError {
    /// The message of the `http` interface's `transport` error for a body too large.
    pub(crate) fn too_large_message() -> String {
        format!("response body larger than {MAX_RESPONSE_BYTES} bytes")
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// Most requests of one call in flight at once (`wasi:http` lets a guest start several;
/// `http.send` waits for each). Further requests wait for one to finish, within the call's
/// time limit.
pub(crate) const MAX_IN_FLIGHT: usize = 8;

/// The outbound-network part of one call's state: the receiver's `http_config` profile (a
/// per-call option), the in-flight limit and `wasi:http`'s context.
pub(crate) struct CallNet {
    /// The profile of the receiver being notified, set by the call before the guest runs.
    pub(crate) profile: Option<crate::http_profile::HttpProfile>,
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) wasi_http: wasmtime_wasi_http::WasiHttpCtx,
    /// `wasi:http`'s hooks, built on the guest's first `wasi:http` call (after the call's
    /// settings, profile and log gate are in place).
    pub(crate) hooks: Option<Outbound>,
}

impl Default for CallNet {
    fn default() -> Self {
        CallNet {
            profile: None,
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            wasi_http: wasmtime_wasi_http::WasiHttpCtx::new(),
            hooks: None,
        }
    }
}

/// Everything a request of one call needs, detached from the store (the `wasi:http` hook
/// runs in a task of its own). [`Outbound::send`] is the one path of every outbound request
/// a plugin makes, whichever interface it came through.
#[derive(Clone)]
pub(crate) struct Outbound {
    pub(crate) plugin: Arc<str>,
    /// `http.allowed_hosts` plus the hosts of the `http.allow_config_url_keys` values.
    pub(crate) allowed: Arc<Vec<String>>,
    pub(crate) mode: HttpMode,
    pub(crate) deadline: std::time::Instant,
    pub(crate) profile: Option<crate::http_profile::HttpProfile>,
    pub(crate) log_gate: Arc<crate::words::LogGate>,
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
}

impl Outbound {
    /// Sends (or, under `plugin test`, records) one request: the URL is checked, the host
    /// against the grant (a denial is logged through the plugin's log rate limit), then it
    /// goes out with the profile's credentials, TLS and proxy within the call's time limit
    /// and the response body cap.
    pub(crate) async fn send(&self, req: RecordedRequest) -> Result<Response, SendError> {
        let result = self.send_checked(req).await;
        // A denial (of the request or of a redirect's hop) is logged through the plugin's
        // log rate limit, whichever interface the request came through.
        if let Err(SendError::Denied(m)) = &result {
            if self.log_gate.admit(&self.plugin) {
                tracing::warn!(
                    plugin = &*self.plugin,
                    "{}",
                    crate::words::sanitize(m, crate::words::MAX_GUEST_ERROR)
                );
            }
        }
        result
    }

    async fn send_checked(&self, req: RecordedRequest) -> Result<Response, SendError> {
        let url = parse_url(&req.url)?;
        check_allowed(&url, &self.allowed, &self.plugin)?;
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, self.in_flight.acquire()).await
        else {
            return Err(SendError::Timeout);
        };
        let remaining = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if remaining.is_zero() {
            return Err(SendError::Timeout);
        }
        match &self.mode {
            HttpMode::Record { log, canned } => Ok(record(log, canned, req)),
            HttpMode::Live(default_client) => {
                let (client, follow) = match &self.profile {
                    Some(p) => (p.client(), p.follow_redirects()),
                    None => (default_client, false),
                };
                let live = LiveRequest {
                    client,
                    profile: self.profile.as_ref(),
                    follow,
                    allowed: &self.allowed,
                    plugin: &self.plugin,
                };
                tokio::time::timeout(remaining, live.send(req, url))
                    .await
                    .unwrap_or(Err(SendError::Timeout))
            }
        }
    }
}

fn record(log: &Mutex<RecordLog>, canned: &[CannedResponse], req: RecordedRequest) -> Response {
    let answer = canned
        .iter()
        .find(|c| req.url.starts_with(&c.url_prefix))
        .cloned();
    log.lock().push(req);
    match answer {
        Some(c) => Response {
            status: c.status,
            headers: c.headers,
            body: c.body,
        },
        None => Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        },
    }
}

/// Checks `url` against the grants. `config_hosts` are the hosts of the
/// config values named by `http.allow_config_url_keys`.
pub(crate) fn check_allowed(
    url: &url::Url,
    allowed: &[String],
    plugin: &str,
) -> Result<(), SendError> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or(0);
    let host_port = format!("{host}:{port}");
    let ok = allowed
        .iter()
        .any(|a| a == "*" || *a == host || *a == host_port);
    if ok {
        Ok(())
    } else {
        Err(SendError::Denied(format!(
            "outbound HTTP to {host_port} is not granted to plugin {plugin:?}; add \"{host}\" to http.allowed_hosts in {plugin}.toml"
        )))
    }
}

/// Errors never quote the URL: a receiver's webhook URL is a secret (its path is the token),
/// and the guest may pass the message on to a log line or the API (Alertmanager redacts such
/// URLs in its errors too).
pub(crate) fn parse_url(raw: &str) -> Result<url::Url, SendError> {
    let url = url::Url::parse(raw).map_err(|e| SendError::Invalid(format!("invalid url: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(SendError::Invalid(format!(
            "url scheme {:?}: only http and https are supported",
            url.scheme()
        )));
    }
    if url.host_str().is_none() {
        return Err(SendError::Invalid("url has no host".to_string()));
    }
    Ok(url)
}

/// Go's `http.Client` gives up after this many redirects.
const MAX_REDIRECTS: usize = 10;

struct LiveRequest<'a> {
    client: &'a reqwest::Client,
    profile: Option<&'a crate::http_profile::HttpProfile>,
    follow: bool,
    allowed: &'a [String],
    plugin: &'a str,
}

impl LiveRequest<'_> {
    /// Sends the request, following redirects as Go's client does when the profile says so
    /// (301/302/303 turn a request other than GET or HEAD into a bodiless GET, 307/308
    /// repeat it; `Authorization` and cookies are dropped when the host changes, the
    /// profile's credentials are added to every hop), each hop checked against the grant.
    async fn send(&self, req: RecordedRequest, mut url: url::Url) -> Result<Response, SendError> {
        let mut method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| SendError::Invalid(format!("method {:?}", req.method)))?;
        let mut headers = req.headers;
        let mut body = req.body;
        for hop in 0..=MAX_REDIRECTS {
            let resp = self.send_one(&method, &url, &headers, &body).await?;
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
            match location {
                Some(location) if self.follow && redirect => {
                    if hop == MAX_REDIRECTS {
                        return Err(SendError::Transport(format!(
                            "stopped after {MAX_REDIRECTS} redirects"
                        )));
                    }
                    let next = url.join(&location).map_err(|e| {
                        SendError::Transport(format!("failed to parse Location header: {e}"))
                    })?;
                    let next = parse_url(next.as_str())?;
                    check_allowed(&next, self.allowed, self.plugin)?;
                    if (301..=303).contains(&status)
                        && method != reqwest::Method::GET
                        && method != reqwest::Method::HEAD
                    {
                        method = reqwest::Method::GET;
                        body = Vec::new();
                        headers.retain(|(k, _)| {
                            !k.eq_ignore_ascii_case("content-type")
                                && !k.eq_ignore_ascii_case("content-length")
                        });
                    }
                    if next.host_str() != url.host_str() {
                        headers.retain(|(k, _)| {
                            !["authorization", "www-authenticate", "cookie", "cookie2"]
                                .iter()
                                .any(|h| k.eq_ignore_ascii_case(h))
                        });
                    }
                    url = next;
                }
                _ => return read_response(resp).await,
            }
        }
        Err(SendError::Transport(format!(
            "stopped after {MAX_REDIRECTS} redirects"
        )))
    }

    async fn send_one(
        &self,
        method: &reqwest::Method,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<reqwest::Response, SendError> {
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .body(body.to_vec());
        for (k, v) in headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let has_auth = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if let (Some(p), false) = (self.profile, has_auth) {
            // A secrets file that cannot be read fails the request, as in Go.
            if let Some(value) = p.authorization().await.map_err(SendError::Transport)? {
                builder = builder.header(reqwest::header::AUTHORIZATION, value);
            }
        }
        builder.send().await.map_err(|e| {
            if e.is_timeout() {
                SendError::Timeout
            } else {
                SendError::Transport(error_chain(&e.without_url()))
            }
        })
    }
}

async fn read_response(mut resp: reqwest::Response) -> Result<Response, SendError> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| SendError::Transport(error_chain(&e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(SendError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_cases() {
        let allowed = vec![
            "hooks.example.org".to_string(),
            "127.0.0.1:9999".to_string(),
        ];
        let cases = [
            ("https://hooks.example.org/x", true),
            ("http://hooks.example.org:8080/x", true),
            ("http://127.0.0.1:9999/", true),
            ("http://127.0.0.1:9998/", false),
            ("https://evil.example.org/", false),
            ("https://HOOKS.example.org/", true),
        ];
        for (url, want) in cases {
            let u = parse_url(url).ok().unwrap();
            assert_eq!(check_allowed(&u, &allowed, "p").is_ok(), want, "{url}");
        }
        let u = parse_url("https://anything/").ok().unwrap();
        assert!(check_allowed(&u, &["*".to_string()], "p").is_ok());
        for bad in [
            "file:///s3cr3t",
            "http//s3cr3t",
            "unix:/s3cr3t",
            "http://:s3cr3t",
        ] {
            let Err(SendError::Invalid(m)) = parse_url(bad) else {
                panic!("{bad} accepted")
            };
            assert!(!m.contains("s3cr3t"), "{m}");
        }
        assert!(parse_url("file:///etc/passwd").is_err());
    }
}
