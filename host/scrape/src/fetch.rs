//! Fetching one target's exposition over HTTP(S): `Accept` negotiation, gzip, the scrape
//! timeout, `body_size_limit`, and credentials re-read on every scrape as Prometheus does.
//!
//! Negotiation is Prometheus 3's: the job's `scrape_protocols` become the `Accept` header
//! (decreasing `q`, see `ScrapeConfig::accept_header`), and the response's `Content-Type`
//! picks the parser: `text/plain`, `application/openmetrics-text` or
//! `application/vnd.google.protobuf`. A missing, unparsable or other type uses
//! `fallback_scrape_protocol`; without one, Sightline reads the text format (as Prometheus 2
//! did) where Prometheus 3 fails the scrape, so existing targets keep working.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::client::Auth;
use crate::{Error, Result};

use crate::append::BodyFormat;
use sightline_config::ScrapeProtocol;
use sightline_exposition::{Format, MediaType};

/// A job's content negotiation: the `Accept` header it sends and the format it falls back on.
#[derive(Debug, Clone)]
pub(crate) struct Negotiation {
    pub(crate) accept: reqwest::header::HeaderValue,
    pub(crate) fallback: Option<BodyFormat>,
}

impl Negotiation {
    /// The job's `scrape_protocols` and `fallback_scrape_protocol`.
    pub(crate) fn of(sc: &sightline_config::ScrapeConfig) -> Self {
        Negotiation {
            accept: reqwest::header::HeaderValue::from_str(&sc.accept_header()).unwrap_or(
                reqwest::header::HeaderValue::from_static(
                    sightline_exposition::SCRAPE_ACCEPT_HEADER,
                ),
            ),
            fallback: sc.fallback_scrape_protocol.map(protocol_format),
        }
    }

    /// The format of a response with this `Content-Type`.
    pub(crate) fn format(&self, content_type: &str) -> BodyFormat {
        match MediaType::from_content_type(content_type) {
            Some(MediaType::PromText) => BodyFormat::Text(Format::PromText),
            Some(MediaType::OpenMetrics) => BodyFormat::Text(Format::OpenMetrics),
            Some(MediaType::Protobuf) => BodyFormat::Proto,
            None => self.fallback.unwrap_or(BodyFormat::Text(Format::PromText)),
        }
    }
}

/// The parser of a scrape protocol.
fn protocol_format(p: ScrapeProtocol) -> BodyFormat {
    match p {
        ScrapeProtocol::PrometheusProto => BodyFormat::Proto,
        ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => {
            BodyFormat::Text(Format::PromText)
        }
        ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => {
            BodyFormat::Text(Format::OpenMetrics)
        }
    }
}

/// One HTTP target.
#[derive(Debug, Clone)]
pub(crate) struct HttpFetcher {
    client: reqwest::Client,
    /// Parsed once instead of on every scrape (URL parsing was ≈ 3 % of ingest CPU, about
    /// half of it here; reqwest's redirect layer parses it again per request). An
    /// unparsable URL stays a string so each scrape reports reqwest's error for it.
    url: Result<reqwest::Url, String>,
    auth: Auth,
    /// 0 = unlimited.
    body_size_limit: u64,
    user_agent: reqwest::header::HeaderValue,
    negotiation: Negotiation,
}

/// A fetched body with the format its content type announces.
pub(crate) struct Fetched {
    pub(crate) body: Bytes,
    pub(crate) format: BodyFormat,
}

impl HttpFetcher {
    pub(crate) fn new(
        client: reqwest::Client,
        url: &str,
        auth: Auth,
        body_size_limit: u64,
        user_agent: &str,
        negotiation: Negotiation,
    ) -> HttpFetcher {
        HttpFetcher {
            client,
            url: reqwest::Url::parse(url).map_err(|_| url.to_string()),
            auth,
            body_size_limit,
            user_agent: reqwest::header::HeaderValue::from_str(user_agent)
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Sightline")),
            negotiation,
        }
    }

    /// Fetches the body. The caller bounds the whole call by the scrape timeout (a second,
    /// per-request timer inside reqwest would only cost a timer per scrape).
    pub(crate) async fn fetch(&self, timeout: Duration) -> Result<Fetched> {
        let req = match &self.url {
            Ok(url) => self.client.get(url.clone()),
            Err(raw) => self.client.get(raw),
        };
        let mut req = req
            .header(reqwest::header::ACCEPT, self.negotiation.accept.clone())
            .header(reqwest::header::USER_AGENT, self.user_agent.clone())
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format!("{}", timeout.as_secs_f64()),
            );
        req = self.auth.apply(req).await?;
        let resp = req.send().await.map_err(map_reqwest)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Error::Status(format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let format = self.negotiation.format(
            resp.headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        );
        let mut body =
            BytesMut::with_capacity(resp.content_length().unwrap_or(0).min(64 << 20) as usize);
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(map_reqwest)?;
            if self.body_size_limit > 0 && (body.len() + chunk.len()) as u64 > self.body_size_limit
            {
                return Err(Error::BodySizeLimit {
                    limit: self.body_size_limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body: body.freeze(),
            format,
        })
    }
}

fn map_reqwest(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout;
    }
    // reqwest's Display hides the cause ("error sending request"); show the chain.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Error::Http(msg)
}
