//! `sigv4`: AWS Signature Version 4 for remote write, as prometheus/common sigv4 v0.1.0's
//! round tripper does it with aws-sdk-go v1's signer (service `aps`). Credentials are static:
//! the configured `access_key`/`secret_key`, else the standard environment variables, read
//! once when the client is built. AWS profiles and `role_arn` (STS) are not implemented; the
//! configuration loader rejects them.

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use sha2::{Digest, Sha256};
use sightline_config::SigV4Config;

use crate::{Error, Result};

/// The service Prometheus signs remote-write requests for (Amazon Managed Service for
/// Prometheus).
pub const SERVICE: &str = "aps";

/// Headers never signed: aws-sdk-go's ignored headers and Prometheus' deny list. Proxies and
/// tracers may change them on the way.
const UNSIGNED: &[&str] = &[
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "uber-trace-id",
];

/// Signs requests with one set of credentials for one region.
pub struct SigV4Signer {
    region: String,
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
}

impl std::fmt::Debug for SigV4Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4Signer")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl SigV4Signer {
    /// The signer of `cfg`, with the environment's credentials and region where the
    /// configuration has none. Fails as Prometheus does when either is missing.
    pub fn new(cfg: &SigV4Config) -> Result<Self> {
        Self::with_env(cfg, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`SigV4Signer::new`] with `env` standing in for the process environment.
    pub fn with_env(cfg: &SigV4Config, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let (access_key, secret_key, session_token) = match &cfg.secret_key {
            Some(secret) if !cfg.access_key.is_empty() => {
                (cfg.access_key.clone(), secret.expose().to_string(), None)
            }
            // aws-sdk-go's EnvProvider, with its fallbacks to the older names.
            _ => {
                let id = env("AWS_ACCESS_KEY_ID").or_else(|| env("AWS_ACCESS_KEY"));
                let secret = env("AWS_SECRET_ACCESS_KEY").or_else(|| env("AWS_SECRET_KEY"));
                match (id, secret) {
                    (Some(id), Some(secret)) => (id, secret, env("AWS_SESSION_TOKEN")),
                    _ => return Err(Error::Http(
                        "could not get SigV4 credentials: set sigv4 access_key and secret_key, or the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables (Sightline does not read AWS profiles)".into(),
                    )),
                }
            }
        };
        let region = Some(cfg.region.clone())
            .filter(|r| !r.is_empty())
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                Error::Http(
                    "region not configured in sigv4 or in default credentials chain (AWS_REGION, AWS_DEFAULT_REGION)".into(),
                )
            })?;
        Ok(SigV4Signer {
            region,
            access_key,
            secret_key,
            session_token,
        })
    }

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (with a session token) and the
    /// `Authorization` signature to `req`, whose body must be in memory.
    pub fn sign(
        &self,
        req: &mut reqwest::Request,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let set = |req: &mut reqwest::Request, name: &'static str, value: &str| -> Result<()> {
            let mut v = HeaderValue::from_str(value)
                .map_err(|_| Error::Http(format!("sigv4: invalid {name} value")))?;
            v.set_sensitive(name != "x-amz-date");
            req.headers_mut().insert(HeaderName::from_static(name), v);
            Ok(())
        };
        set(req, "x-amz-date", &amz_date)?;
        if let Some(t) = &self.session_token {
            set(req, "x-amz-security-token", t)?;
        }
        let body: &[u8] = match req.body() {
            None => b"",
            Some(b) => b
                .as_bytes()
                .ok_or_else(|| Error::Http("sigv4: cannot sign a streamed body".into()))?,
        };
        let url = req.url();
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_string(),
        };
        let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
        for (name, value) in req.headers() {
            let name = name.as_str();
            if UNSIGNED.contains(&name) {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.push((name.to_string(), value));
        }
        let auth = authorization(
            &Signable {
                method: req.method().as_str(),
                url,
                headers: &headers,
                body,
            },
            &Credentials {
                access_key: &self.access_key,
                secret_key: &self.secret_key,
            },
            &self.region,
            SERVICE,
            &amz_date,
        );
        let mut v = HeaderValue::from_str(&auth)
            .map_err(|_| Error::Http("sigv4: invalid authorization value".into()))?;
        v.set_sensitive(true);
        req.headers_mut().insert(AUTHORIZATION, v);
        Ok(())
    }
}

/// What the signature covers. `headers` holds lower-case names (with `host`), repeated names
/// once per value.
pub struct Signable<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The URL (path and query are signed).
    pub url: &'a url::Url,
    /// The signed headers, names in lower case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// An access key pair.
pub struct Credentials<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// The secret access key.
    pub secret_key: &'a str,
}

/// The `Authorization` value of a request (the x-amz-date header must be among its headers
/// and equal `amz_date`). Public so that tests can recompute what a receiver sees.
pub fn authorization(
    r: &Signable<'_>,
    creds: &Credentials<'_>,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let (canonical, signed_headers) = canonical_request(r);
    let date = &amz_date[..amz_date.len().min(8)];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// The canonical request and the signed-headers list, as aws-sdk-go v1 builds them for a
/// service other than S3: the already-escaped path escaped once more, the query sorted by
/// key and value, header values joined with commas and their runs of spaces squeezed.
fn canonical_request(r: &Signable<'_>) -> (String, String) {
    let path = match r.url.path() {
        "" => "/".to_string(),
        p => escape(p, false),
    };
    let mut query: Vec<(String, String)> = r
        .url
        .query_pairs()
        .map(|(k, v)| (escape(&k, true), escape(&v, true)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in r.headers {
        let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        match headers.iter_mut().find(|(n, _)| n == k) {
            Some((_, vals)) => vals.push(v),
            None => headers.push((k.clone(), vec![v])),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.join(",")))
        .collect();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let body_hash = hex::encode(Sha256::digest(r.body));
    (
        format!(
            "{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{body_hash}",
            r.method
        ),
        signed,
    )
}

/// aws-sdk-go's `EscapePath`: every byte but the unreserved ones (and `/`, unless
/// `encode_sep`) percent-encoded in upper case.
fn escape(s: &str, encode_sep: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !encode_sep => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";

    /// The AWS Signature Version 4 test suite (`get-vanilla`, `post-vanilla`,
    /// `get-vanilla-query-order-key-case`, `post-vanilla-query`): region us-east-1, service
    /// `service`, the published `.authz` signatures.
    #[test]
    fn aws_test_suite_vectors() {
        let cases = [
            (
                "GET",
                "https://example.amazonaws.com/",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "POST",
                "https://example.amazonaws.com/",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                "GET",
                "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "POST",
                "https://example.amazonaws.com/?Param1=value1",
                "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
            ),
        ];
        let headers = [
            ("host".to_string(), "example.amazonaws.com".to_string()),
            ("x-amz-date".to_string(), DATE.to_string()),
        ];
        for (method, url, sig) in cases {
            let url = url::Url::parse(url).unwrap();
            let got = authorization(
                &Signable {
                    method,
                    url: &url,
                    headers: &headers,
                    body: b"",
                },
                &Credentials {
                    access_key: AKID,
                    secret_key: SECRET,
                },
                "us-east-1",
                "service",
                DATE,
            );
            assert_eq!(
                got,
                format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"),
                "{method} {url}"
            );
        }
    }

    #[test]
    fn canonical_request_of_get_vanilla() {
        let url = url::Url::parse("https://example.amazonaws.com/").unwrap();
        let headers = [
            ("x-amz-date".to_string(), DATE.to_string()),
            ("host".to_string(), "example.amazonaws.com".to_string()),
        ];
        let (c, signed) = canonical_request(&Signable {
            method: "GET",
            url: &url,
            headers: &headers,
            body: b"",
        });
        assert_eq!(c, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(signed, "host;x-amz-date");
    }

    #[test]
    fn credentials_and_region_come_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = SigV4Signer::with_env(
            &SigV4Config::default(),
            env(&[
                ("AWS_ACCESS_KEY_ID", "id"),
                ("AWS_SECRET_ACCESS_KEY", "sk"),
                ("AWS_SESSION_TOKEN", "tok"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (
                s.access_key.as_str(),
                s.region.as_str(),
                s.session_token.as_deref()
            ),
            ("id", "eu-west-1", Some("tok"))
        );
        let none = SigV4Signer::with_env(&SigV4Config::default(), env(&[("AWS_REGION", "x")]));
        assert!(none
            .unwrap_err()
            .to_string()
            .starts_with("could not get SigV4 credentials"));
        let cfg = SigV4Config {
            access_key: "a".into(),
            secret_key: Some(sightline_config::Secret::new("b")),
            ..Default::default()
        };
        let no_region = SigV4Signer::with_env(&cfg, env(&[])).unwrap_err();
        assert!(no_region
            .to_string()
            .starts_with("region not configured in sigv4"));
    }
}
