//! `oauth2`: the client-credentials grant as prometheus/common v0.39's `oauth2RoundTripper`
//! and golang.org/x/oauth2 v0.4.0's `clientcredentials` do it. One source per client (a
//! scrape job, an Alertmanager, a remote-write queue): the token is fetched once and reused
//! until ten seconds before it expires (x/oauth2's `expiryDelta`), or until the client
//! secret file's content changes.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use sightline_config::{HttpClientConfig, OAuth2};

use crate::{Error, Result};

/// A token is renewed this long before it expires (x/oauth2's `expiryDelta`).
const EXPIRY_DELTA: Duration = Duration::from_secs(10);
/// Token responses larger than this are cut, as x/oauth2 reads at most 1 MiB.
const MAX_RESPONSE: usize = 1 << 20;
/// A token request that takes longer fails (the request waiting for it fails with it).
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the client credentials go in the token request (x/oauth2's `AuthStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthStyle {
    /// HTTP basic authentication, both parts query-escaped.
    Header,
    /// `client_id` and `client_secret` form parameters.
    Params,
}

struct Token {
    /// The whole `Authorization` value, marked sensitive so it never prints.
    header: HeaderValue,
    /// None when the server gave no `expires_in`: the token is used until the secret changes.
    expiry: Option<Instant>,
}

impl Token {
    fn valid(&self, now: Instant) -> bool {
        self.expiry.is_none_or(|e| now + EXPIRY_DELTA < e)
    }
}

#[derive(Default)]
struct State {
    /// The client of the token endpoint, built on first use (as Go builds it lazily).
    client: Option<reqwest::Client>,
    /// The secret the current token was obtained with.
    secret: Option<String>,
    token: Option<Token>,
    /// The style that worked for this token URL, once probed.
    style: Option<AuthStyle>,
}

/// Fetches, caches and renews the token of one client.
pub struct OAuth2Source {
    cfg: OAuth2,
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for OAuth2Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2Source")
            .field("client_id", &self.cfg.client_id)
            .field("token_url", &self.cfg.token_url)
            .finish_non_exhaustive()
    }
}

impl OAuth2Source {
    /// A source for `cfg`; nothing is fetched until the first request.
    pub fn new(cfg: OAuth2) -> Self {
        OAuth2Source {
            cfg,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// The `Authorization` value for the next request: the cached token, or a new one.
    /// `user_agent` is the request's, which Prometheus also sends to the token endpoint.
    pub async fn authorization(&self, user_agent: Option<&HeaderValue>) -> Result<HeaderValue> {
        let secret = self.secret().await?;
        let mut st = self.state.lock().await;
        if st.secret.as_deref() != Some(secret.as_str()) {
            st.token = None;
            st.secret = Some(secret.clone());
        }
        if let Some(t) = st.token.as_ref().filter(|t| t.valid(Instant::now())) {
            return Ok(t.header.clone());
        }
        let client = match &st.client {
            Some(c) => c.clone(),
            None => {
                let c = self.token_client().await?;
                st.client = Some(c.clone());
                c
            }
        };
        let style = st.style;
        let (token, style) = self.fetch(&client, &secret, style, user_agent).await?;
        st.style = Some(style);
        let header = token.header.clone();
        st.token = Some(token);
        Ok(header)
    }

    /// `client_secret`, or `client_secret_file` read for this request (trimmed, as Go's
    /// `TrimSpace`), so that a changed file is noticed at once.
    async fn secret(&self) -> Result<String> {
        if let Some(s) = &self.cfg.client_secret {
            return Ok(s.expose().to_string());
        }
        let Some(f) = &self.cfg.client_secret_file else {
            return Ok(String::new());
        };
        tokio::fs::read_to_string(f)
            .await
            .map(|s| s.trim().to_string())
            .map_err(|e| Error::Http(format!("unable to read oauth2 client secret file {f}: {e}")))
    }

    /// The client of the token endpoint: the oauth2 block's own `tls_config` and `proxy_url`.
    async fn token_client(&self) -> Result<reqwest::Client> {
        let mut h = HttpClientConfig::default_with_http2(true);
        h.tls_config = self.cfg.tls_config.clone();
        h.proxy_url = self.cfg.proxy_url.clone();
        // Building reads the TLS files: not on the async workers.
        tokio::task::spawn_blocking(move || super::build("oauth2", &h, false))
            .await
            .map_err(|e| Error::Http(format!("oauth2: {e}")))?
    }

    /// One token request, probing the credentials' place as x/oauth2's `AuthStyleAutoDetect`:
    /// in the header first, then as form parameters if that failed.
    async fn fetch(
        &self,
        client: &reqwest::Client,
        secret: &str,
        style: Option<AuthStyle>,
        user_agent: Option<&HeaderValue>,
    ) -> Result<(Token, AuthStyle)> {
        // x/oauth2 lets endpoint_params replace grant_type but no other parameter it sets.
        if !self.cfg.scopes.is_empty() && self.cfg.endpoint_params.contains_key("scope") {
            return Err(Error::Http(
                "oauth2: cannot overwrite parameter \"scope\"".into(),
            ));
        }
        let params = |style: AuthStyle| {
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            let grant = self.cfg.endpoint_params.get("grant_type");
            f.append_pair(
                "grant_type",
                grant.map(String::as_str).unwrap_or("client_credentials"),
            );
            if !self.cfg.scopes.is_empty() {
                f.append_pair("scope", &self.cfg.scopes.join(" "));
            }
            for (k, v) in &self.cfg.endpoint_params {
                if k != "grant_type" {
                    f.append_pair(k, v);
                }
            }
            if style == AuthStyle::Params {
                f.append_pair("client_id", &self.cfg.client_id);
                if !secret.is_empty() {
                    f.append_pair("client_secret", secret);
                }
            }
            f.finish()
        };
        let first = style.unwrap_or(AuthStyle::Header);
        match self
            .request(client, first, params(first), secret, user_agent)
            .await
        {
            Ok(t) => Ok((t, first)),
            Err(e) if style.is_none() => {
                let second = AuthStyle::Params;
                // When both fail, x/oauth2 reports the second attempt's error.
                tracing::debug!(error = %e, "oauth2: token request with basic auth failed; trying form credentials");
                self.request(client, second, params(second), secret, user_agent)
                    .await
                    .map(|t| (t, second))
            }
            Err(e) => Err(e),
        }
    }

    async fn request(
        &self,
        client: &reqwest::Client,
        style: AuthStyle,
        body: String,
        secret: &str,
        user_agent: Option<&HeaderValue>,
    ) -> Result<Token> {
        let url = &self.cfg.token_url;
        let shown = sightline_config::redact_url_passwords(url);
        let fail = |m: String| Error::Http(format!("oauth2: cannot fetch token from {shown}: {m}"));
        let mut req = client
            .post(url.as_str())
            .timeout(TOKEN_TIMEOUT)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(ua) = user_agent {
            req = req.header(USER_AGENT, ua.clone());
        }
        if style == AuthStyle::Header {
            req = req.basic_auth(
                query_escape(&self.cfg.client_id),
                Some(query_escape(secret)),
            );
        }
        let resp = req
            .send()
            .await
            .map_err(|e| fail(sightline_config::redact_url_passwords(&e.to_string()).into()))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
        let body = &body[..body.len().min(MAX_RESPONSE)];
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(body).chars().take(256).collect();
            return Err(fail(format!(
                "{} {}; response: {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                text.trim()
            )));
        }
        let parsed = parse_token(&content_type, body).map_err(fail)?;
        let kind = token_type(&parsed.kind);
        let mut header = HeaderValue::from_str(&format!("{kind} {}", parsed.access_token))
            .map_err(|_| fail("the access token is not a valid header value".into()))?;
        header.set_sensitive(true);
        Ok(Token {
            header,
            expiry: (parsed.expires_in > 0)
                .then(|| Instant::now() + Duration::from_secs(parsed.expires_in as u64)),
        })
    }
}

/// The fields of a token response that matter here.
#[derive(Debug, PartialEq)]
struct Parsed {
    access_token: String,
    kind: String,
    expires_in: i64,
}

/// x/oauth2's `doTokenRoundTrip`: form-encoded (or `text/plain`) bodies as query strings,
/// anything else as JSON; `expires_in` may be a number or a numeric string.
fn parse_token(content_type: &str, body: &[u8]) -> std::result::Result<Parsed, String> {
    let p = match content_type {
        "application/x-www-form-urlencoded" | "text/plain" => {
            let get = |k: &str| {
                url::form_urlencoded::parse(body)
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Parsed {
                access_token: get("access_token"),
                kind: get("token_type"),
                expires_in: get("expires_in").parse().unwrap_or(0),
            }
        }
        _ => {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("invalid token response: {e}"))?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            let expires_in = match v.get("expires_in") {
                Some(serde_json::Value::Number(n)) => n
                    .as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .unwrap_or(0),
                Some(serde_json::Value::String(t)) => t
                    .parse::<i64>()
                    .map_err(|e| format!("invalid expires_in {t:?}: {e}"))?,
                _ => 0,
            };
            Parsed {
                access_token: s("access_token"),
                kind: s("token_type"),
                expires_in: expires_in.min(i64::from(i32::MAX)),
            }
        }
    };
    if p.access_token.is_empty() {
        return Err("server response missing access_token".into());
    }
    Ok(p)
}

/// x/oauth2's `Token.Type`: the usual schemes in their canonical case, `Bearer` when empty.
fn token_type(t: &str) -> &str {
    if t.eq_ignore_ascii_case("bearer") || t.is_empty() {
        "Bearer"
    } else if t.eq_ignore_ascii_case("mac") {
        "MAC"
    } else if t.eq_ignore_ascii_case("basic") {
        "Basic"
    } else {
        t
    }
}

/// Go's `url.QueryEscape`, which x/oauth2 applies to both parts of the basic credentials.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Adds the token to a built request (the header is never logged: it is marked sensitive).
pub(super) async fn apply(src: &OAuth2Source, req: &mut reqwest::Request) -> Result<()> {
    let value = src.authorization(req.headers().get(USER_AGENT)).await?;
    req.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_parse_as_x_oauth2() {
        let p = parse_token(
            "application/json",
            br#"{"access_token":"t1","token_type":"bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!((p.access_token.as_str(), p.expires_in), ("t1", 3600));
        assert_eq!(token_type(&p.kind), "Bearer");
        let p = parse_token("", br#"{"access_token":"t","expires_in":"60"}"#).unwrap();
        assert_eq!((token_type(&p.kind), p.expires_in), ("Bearer", 60));
        let p = parse_token(
            "application/x-www-form-urlencoded",
            b"access_token=a%2Bb&token_type=mac&expires_in=5",
        )
        .unwrap();
        assert_eq!(
            (p.access_token.as_str(), token_type(&p.kind), p.expires_in),
            ("a+b", "MAC", 5)
        );
        assert_eq!(
            parse_token("application/json", br#"{"token_type":"bearer"}"#).unwrap_err(),
            "server response missing access_token"
        );
        assert!(parse_token("application/json", b"<html>").is_err());
    }

    #[test]
    fn credentials_are_escaped_as_go_query_escape() {
        assert_eq!(query_escape("a b+c/d~e*"), "a+b%2Bc%2Fd~e%2A");
    }

    #[test]
    fn tokens_expire_ten_seconds_early() {
        let now = Instant::now();
        let t = |secs| Token {
            header: HeaderValue::from_static("Bearer x"),
            expiry: Some(now + Duration::from_secs(secs)),
        };
        assert!(t(11).valid(now));
        assert!(!t(10).valid(now));
        assert!(Token {
            header: HeaderValue::from_static("Bearer x"),
            expiry: None
        }
        .valid(now));
    }
}
