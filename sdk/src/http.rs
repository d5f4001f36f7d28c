//! Outbound HTTP to hosts granted in `<name>.toml` (`http.allowed_hosts`, or
//! `allow_config_url_keys` for a receiver's URL settings). During a receiver's `notify` the
//! host applies the entry's `http_config` (authentication, TLS, proxy) to every request.
//!
//! [`Retrier`] classifies answers as Alertmanager 0.25's `notify.Retrier.Check` does: 2xx is
//! success, 5xx and the notifier's extra codes are retryable, anything else is permanent.
//! A request that got no answer (timeout, transport error) is retryable, as in every
//! Alertmanager notifier; a denied or malformed request is permanent.

pub use crate::wit::http::{Error, Request, Response};
use crate::{NotifyError, Retryable};

/// The `User-Agent` Alertmanager 0.25's notifiers send (`notify.UserAgentHeader`).
pub const ALERTMANAGER_USER_AGENT: &str = "Alertmanager/0.25.0";

/// Sends a request.
pub fn send(request: &Request) -> Result<Response, Error> {
    crate::wit::http::send(request)
}

/// POSTs a JSON body with `Content-Type: application/json` plus `headers`.
pub fn post_json(url: &str, body: &str, headers: &[(&str, &str)]) -> Result<Response, Error> {
    send(&json_request("POST", url, body, headers))
}

/// A request with a JSON body: `Content-Type: application/json`, then `headers`.
pub fn json_request(method: &str, url: &str, body: &str, headers: &[(&str, &str)]) -> Request {
    let mut h = vec![("Content-Type".to_string(), "application/json".to_string())];
    h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Request {
        method: method.to_string(),
        url: url.to_string(),
        headers: h,
        body: body.as_bytes().to_vec(),
    }
}

/// A readable message for a request that got no answer.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Denied(m) => format!("denied: {m}"),
        Error::InvalidRequest(m) => format!("invalid request: {m}"),
        Error::Timeout => "timeout".to_string(),
        Error::Transport(m) => m.clone(),
    }
}

/// A request that got no answer: retryable unless the host refused it (not granted,
/// malformed), which no retry changes.
impl From<Error> for NotifyError {
    fn from(e: Error) -> Self {
        match e {
            Error::Denied(_) | Error::InvalidRequest(_) => NotifyError::permanent(describe(&e)),
            Error::Timeout | Error::Transport(_) => NotifyError::retryable(describe(&e)),
        }
    }
}

/// `resp` when its status is 2xx, else an error naming the status with the start of the
/// body (at most 200 characters).
pub fn success(resp: Response) -> Result<Response, String> {
    if (200..300).contains(&resp.status) {
        return Ok(resp);
    }
    Err(status_message(&resp))
}

fn status_message(resp: &Response) -> String {
    let snippet: String = String::from_utf8_lossy(&resp.body)
        .chars()
        .take(200)
        .collect();
    let snippet = snippet.trim_end();
    if snippet.is_empty() {
        format!("unexpected status code {}", resp.status)
    } else {
        format!("unexpected status code {}: {snippet}", resp.status)
    }
}

/// The value of header `name` (case-insensitive), if present.
pub fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A `Retry-After` header in milliseconds: delay-seconds, or an HTTP date relative to
/// `now_ms`; `None` when absent or unreadable.
pub fn retry_after_ms(resp: &Response, now_ms: i64) -> Option<u64> {
    let v = header(resp, "retry-after")?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = crate::time::parse_http_date(v)?;
    Some(u64::try_from(at.saturating_mul(1000).saturating_sub(now_ms)).unwrap_or(0))
}

/// Which answers are worth retrying (Alertmanager's `notify.Retrier`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retrier {
    /// Status codes retried besides 5xx.
    pub retry_codes: &'static [u16],
}

impl Default for Retrier {
    fn default() -> Self {
        Retrier::DEFAULT
    }
}

impl Retrier {
    /// 5xx and 429 Too Many Requests are retried, with `Retry-After` honoured: the default
    /// for a new receiver.
    pub const DEFAULT: Retrier = Retrier {
        retry_codes: &[429],
    };

    /// Only 5xx is retried: `&notify.Retrier{}`, what most Alertmanager 0.25 notifiers use
    /// (Slack, Discord, Webex, VictorOps, Telegram, the webhook).
    pub const ALERTMANAGER: Retrier = Retrier { retry_codes: &[] };

    /// 5xx and `codes` are retried (PagerDuty v2 and Opsgenie: 429; PagerDuty v1: 403).
    pub const fn with_codes(codes: &'static [u16]) -> Retrier {
        Retrier { retry_codes: codes }
    }

    /// Whether an answer with `status` is retried.
    pub fn retries(&self, status: u16) -> bool {
        status / 100 == 5 || self.retry_codes.contains(&status)
    }

    /// `resp` when 2xx; else a retryable failure (with the answer's `Retry-After`) for 5xx
    /// and the extra codes, a permanent one otherwise. The message names the status and the
    /// start of the body, as Alertmanager's does.
    pub fn check(&self, resp: Response) -> Result<Response, NotifyError> {
        self.check_at(resp, crate::clock::now_ms)
    }

    /// [`Retrier::check`] with the clock given (for an HTTP-date `Retry-After`), so the
    /// classification is testable natively.
    pub fn check_at(
        &self,
        resp: Response,
        now_ms: impl FnOnce() -> i64,
    ) -> Result<Response, NotifyError> {
        if resp.status / 100 == 2 {
            return Ok(resp);
        }
        let message = status_message(&resp);
        if !self.retries(resp.status) {
            return Err(NotifyError::permanent(message));
        }
        let retry_after_ms = if header(&resp, "retry-after").is_some() {
            retry_after_ms(&resp, now_ms())
        } else {
            None
        };
        Err(NotifyError::Retryable(Retryable {
            message,
            retry_after_ms,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_are_classified_as_alertmanagers() {
        let now = || 784_111_777_000;
        let ok = Retrier::ALERTMANAGER.check_at(resp(204, &[], ""), now);
        assert!(ok.is_ok());
        let e = Retrier::ALERTMANAGER
            .check_at(resp(503, &[("Retry-After", "7")], "busy\n"), now)
            .unwrap_err();
        assert_eq!(
            e,
            NotifyError::Retryable(Retryable {
                message: "unexpected status code 503: busy".into(),
                retry_after_ms: Some(7000),
            })
        );
        let e = Retrier::ALERTMANAGER
            .check_at(resp(429, &[], ""), now)
            .unwrap_err();
        assert_eq!(
            e,
            NotifyError::permanent("unexpected status code 429".to_string())
        );
        let e = Retrier::DEFAULT
            .check_at(
                resp(429, &[("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT")], ""),
                now,
            )
            .unwrap_err();
        assert!(matches!(
            e,
            NotifyError::Retryable(Retryable {
                retry_after_ms: Some(10_000),
                ..
            })
        ));
        assert!(Retrier::with_codes(&[403]).retries(403));
        assert!(!Retrier::DEFAULT.retries(400));
    }

    #[test]
    fn unanswered_requests() {
        assert!(NotifyError::from(Error::Timeout).is_retryable());
        assert!(NotifyError::from(Error::Transport("reset".into())).is_retryable());
        assert!(!NotifyError::from(Error::Denied("x".into())).is_retryable());
    }
}
