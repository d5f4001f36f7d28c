//! Outbound HTTP for plugins: the policy check, live sending and recording.
//!
//! We expose our own small `http` WIT interface instead of `wasi:http`: one
//! `send` call with the whole request and response in memory is all a
//! receiver needs, the host can check the destination against the grant
//! before anything touches the network, and `plugin test` can record the exact
//! request and answer it with a canned response without a fake server.

use std::sync::Arc;
use std::time::Duration;

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
    fn push(&mut self, mut req: RecordedRequest) {
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
pub(crate) enum SendError {
    Denied(String),
    Invalid(String),
    Timeout,
    Transport(String),
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
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

pub(crate) async fn send(
    mode: &HttpMode,
    req: RecordedRequest,
    url: url::Url,
    timeout: Duration,
) -> Result<Response, SendError> {
    match mode {
        HttpMode::Record { log, canned } => {
            let answer = canned
                .iter()
                .find(|c| req.url.starts_with(&c.url_prefix))
                .cloned();
            log.lock().push(req);
            Ok(match answer {
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
            })
        }
        HttpMode::Live(client) => {
            let method = reqwest::Method::from_bytes(req.method.as_bytes())
                .map_err(|_| SendError::Invalid(format!("method {:?}", req.method)))?;
            let mut builder = client.request(method, url).timeout(timeout).body(req.body);
            for (k, v) in &req.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            let mut resp = builder.send().await.map_err(|e| {
                if e.is_timeout() {
                    SendError::Timeout
                } else {
                    SendError::Transport(error_chain(&e.without_url()))
                }
            })?;
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
                    return Err(SendError::Transport(format!(
                        "response body larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                headers,
                body,
            })
        }
    }
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
