//! Plugins' outbound HTTP against local servers: Alertmanager's `http_config` applied by the
//! host (credentials, TLS, proxy, redirects) through `http.send`, and `wasi:http` behind the
//! same grant, limits, profile and recording.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use sightline_plugin_runtime::{
    AlertGroup, CannedResponse, Error, HttpAuth, HttpClientSettings, HttpProfile, Pem, PluginHost,
    PluginHostConfig, Secret, TlsSettings,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{guest, install};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// `POST /path HTTP/1.1` (absolute-form through a proxy).
    line: String,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Answer = Arc<dyn Fn(&Seen) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync>;

async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> Option<Seen> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut b = [0u8; 1024];
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let mut b = [0u8; 4096];
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&b[..n]);
    }
    Some(Seen {
        line,
        headers,
        body,
    })
}

async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    answer: &Answer,
    seen: &Mutex<Vec<Seen>>,
) {
    let Some(req) = read_request(&mut s).await else {
        return;
    };
    let (status, headers, body) = answer(&req);
    seen.lock().push(req);
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = s.write_all(out.as_bytes()).await;
    let _ = s.write_all(&body).await;
    let _ = s.shutdown().await;
}

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1 (TLS with `tls`); returns its
/// port and what it saw. It stops with the test's runtime.
async fn server(
    tls: Option<Arc<rustls::ServerConfig>>,
    answer: Answer,
) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (answer, seen, tls) = (answer.clone(), seen2.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(cfg) => {
                        if let Ok(s) = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await {
                            serve_one(s, &answer, &seen).await;
                        }
                    }
                    None => serve_one(tcp, &answer, &seen).await,
                }
            });
        }
    });
    (port, seen)
}

fn ok() -> Answer {
    Arc::new(|_| (200, Vec::new(), b"fine".to_vec()))
}

/// A CA and a server configuration for 127.0.0.1 signed by it.
fn pki() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (ca.pem(), Arc::new(server))
}

async fn host_with(dir: &Path, name: &str, guest_name: &str, grant: &str) -> PluginHost {
    install(
        dir,
        name,
        &guest(guest_name),
        Some(&format!("[http]\nallowed_hosts = [{grant}]\n")),
    );
    PluginHost::new(PluginHostConfig::new(dir)).await.unwrap()
}

/// Notifies `name` with `target` and returns the guest's error message (both guests
/// report what happened as their error).
async fn notify(
    host: &PluginHost,
    name: &str,
    target: &str,
    profile: Option<&HttpProfile>,
) -> String {
    let settings = BTreeMap::from([("target".to_string(), target.to_string())]);
    match host
        .notify_with_profile(name, &AlertGroup::default(), &settings, profile)
        .await
    {
        Err(Error::Plugin { message, .. }) => message,
        other => panic!("{other:?}"),
    }
}

fn profile(settings: HttpClientSettings) -> HttpProfile {
    HttpProfile::new(settings).unwrap()
}

#[tokio::test]
async fn http_config_credentials_arrive_and_files_are_read_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), "recv", "http-denied", "\"127.0.0.1\"").await;
    let (port, seen) = server(None, ok()).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let pw = dir.path().join("password");
    std::fs::write(&pw, "first\n").unwrap();
    let basic = profile(HttpClientSettings {
        auth: Some(HttpAuth::Basic {
            username: Secret::Inline("alice".into()),
            password: Some(Secret::File(pw.clone())),
        }),
        ..Default::default()
    });
    let m = notify(&host, "recv", &url, Some(&basic)).await;
    assert!(m.contains("status 200"), "{m}");
    std::fs::write(&pw, "second").unwrap();
    notify(&host, "recv", &url, Some(&basic)).await;
    let bearer = profile(HttpClientSettings {
        auth: Some(HttpAuth::Authorization {
            scheme: "Bearer".into(),
            credentials: Some(Secret::Inline("t0ken".into())),
        }),
        ..Default::default()
    });
    notify(&host, "recv", &url, Some(&bearer)).await;
    // Without a profile nothing is added.
    notify(&host, "recv", &url, None).await;
    let seen = seen.lock();
    let auth: Vec<Option<&str>> = seen.iter().map(|s| s.header("authorization")).collect();
    assert_eq!(
        auth,
        [
            Some("Basic YWxpY2U6Zmlyc3Q="), // alice:first
            Some("Basic YWxpY2U6c2Vjb25k"), // alice:second, the file read again
            Some("Bearer t0ken"),
            None
        ]
    );
}

#[tokio::test]
async fn tls_config_ca_file_and_insecure_skip_verify() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), "recv", "http-denied", "\"127.0.0.1\"").await;
    let (ca_pem, server_cfg) = pki();
    let (port, seen) = server(Some(server_cfg), ok()).await;
    let url = format!("https://127.0.0.1:{port}/hook");
    // The built-in roots do not know the test CA.
    let m = notify(&host, "recv", &url, None).await;
    assert!(m.contains("certificate") || m.contains("Unknown"), "{m}");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let with_ca = profile(HttpClientSettings {
        tls: TlsSettings {
            ca: Some(Pem::File(ca_file)),
            ..Default::default()
        },
        ..Default::default()
    });
    let m = notify(&host, "recv", &url, Some(&with_ca)).await;
    assert!(m.contains("status 200"), "{m}");
    let insecure = profile(HttpClientSettings {
        tls: TlsSettings {
            insecure_skip_verify: true,
            ..Default::default()
        },
        ..Default::default()
    });
    let m = notify(&host, "recv", &url, Some(&insecure)).await;
    assert!(m.contains("status 200"), "{m}");
    // A server_name the certificate does not carry fails verification.
    let wrong_name = profile(HttpClientSettings {
        tls: TlsSettings {
            ca: Some(Pem::Inline(ca_pem)),
            server_name: Some("other.example".into()),
            ..Default::default()
        },
        ..Default::default()
    });
    let m = notify(&host, "recv", &url, Some(&wrong_name)).await;
    assert!(!m.contains("status 200"), "{m}");
    assert_eq!(seen.lock().len(), 2);
}

#[tokio::test]
async fn proxy_url_carries_the_request_and_needs_no_grant() {
    let dir = tempfile::tempdir().unwrap();
    // Only the target is granted, not the proxy's 127.0.0.1.
    let host = host_with(dir.path(), "recv", "http-denied", "\"hooks.invalid\"").await;
    let (proxy_port, seen) = server(None, ok()).await;
    let via_proxy = profile(HttpClientSettings {
        proxy_url: Some(format!("http://127.0.0.1:{proxy_port}")),
        ..Default::default()
    });
    let m = notify(
        &host,
        "recv",
        "http://hooks.invalid/alert",
        Some(&via_proxy),
    )
    .await;
    assert!(m.contains("status 200"), "{m}");
    assert_eq!(
        seen.lock()[0].line,
        "POST http://hooks.invalid/alert HTTP/1.1"
    );
    // The grant still decides: a host it does not list is refused before the proxy.
    let m = notify(&host, "recv", "http://elsewhere.invalid/", Some(&via_proxy)).await;
    assert!(m.contains("not granted"), "{m}");
    assert_eq!(seen.lock().len(), 1);
}

#[tokio::test]
async fn follow_redirects_per_profile_and_each_hop_granted() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), "recv", "http-denied", "\"127.0.0.1\"").await;
    let answer: Answer = Arc::new(|s: &Seen| {
        if s.line.starts_with("POST /start") {
            (307, vec![("location".into(), "/next".into())], Vec::new())
        } else if s.line.contains("/away") {
            (
                302,
                vec![("location".into(), "http://169.254.169.254/".into())],
                Vec::new(),
            )
        } else {
            (200, Vec::new(), b"at the end".to_vec())
        }
    });
    let (port, seen) = server(None, answer).await;
    let no_follow = profile(HttpClientSettings {
        follow_redirects: false,
        ..Default::default()
    });
    let m = notify(
        &host,
        "recv",
        &format!("http://127.0.0.1:{port}/start"),
        Some(&no_follow),
    )
    .await;
    assert!(m.contains("status 307"), "{m}");
    let follow = profile(HttpClientSettings::default());
    let m = notify(
        &host,
        "recv",
        &format!("http://127.0.0.1:{port}/start"),
        Some(&follow),
    )
    .await;
    assert!(m.contains("status 200"), "{m}");
    {
        let seen = seen.lock();
        let lines: Vec<&str> = seen.iter().map(|s| s.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "POST /start HTTP/1.1",
                "POST /start HTTP/1.1",
                "POST /next HTTP/1.1"
            ]
        );
        // 307 repeats the request with its body.
        assert_eq!(seen[2].body, b"{}");
    }
    let m = notify(
        &host,
        "recv",
        &format!("http://127.0.0.1:{port}/away"),
        Some(&follow),
    )
    .await;
    assert!(
        m.contains("not granted") && m.contains("169.254.169.254"),
        "{m}"
    );
}

#[tokio::test]
async fn wasi_http_allowed_denied_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), "wh", "wasi-http-client", "\"127.0.0.1\"").await;
    let (port, seen) = server(None, ok()).await;
    let bearer = profile(HttpClientSettings {
        auth: Some(HttpAuth::Authorization {
            scheme: "Bearer".into(),
            credentials: Some(Secret::Inline("t0ken".into())),
        }),
        ..Default::default()
    });
    let m = notify(
        &host,
        "wh",
        &format!("http://127.0.0.1:{port}/in"),
        Some(&bearer),
    )
    .await;
    assert_eq!(m, "status 200 body 4 fine");
    {
        let seen = seen.lock();
        assert_eq!(seen[0].line, "POST /in HTTP/1.1");
        assert_eq!(seen[0].header("x-guest"), Some("wasi-http"));
        assert_eq!(seen[0].header("authorization"), Some("Bearer t0ken"));
        assert_eq!(seen[0].body, b"hello");
    }
    let m = notify(
        &host,
        "wh",
        "http://169.254.169.254/latest/meta-data/",
        None,
    )
    .await;
    assert_eq!(m, "error ErrorCode::HttpRequestDenied");
    assert_eq!(seen.lock().len(), 1);
}

#[tokio::test]
async fn wasi_http_response_body_cap() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), "wh", "wasi-http-client", "\"127.0.0.1\"").await;
    let big: Answer = Arc::new(|_| (200, Vec::new(), vec![b'y'; (16 << 20) + 1]));
    let (port, _seen) = server(None, big).await;
    let m = notify(&host, "wh", &format!("http://127.0.0.1:{port}/big"), None).await;
    assert!(
        m.starts_with("error ErrorCode::HttpResponseBodySize(Some(16777216))"),
        "{m}"
    );
}

#[tokio::test]
async fn wasi_http_recorded_under_plugin_test() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "wh",
        &guest("wasi-http-client"),
        Some("[http]\nallowed_hosts = [\"hooks.example.org\"]\n"),
    );
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.record_http = Some(vec![CannedResponse {
        url_prefix: "https://hooks.example.org/".into(),
        status: 202,
        headers: Vec::new(),
        body: b"canned".to_vec(),
    }]);
    let host = PluginHost::new(cfg).await.unwrap();
    let m = notify(&host, "wh", "https://hooks.example.org/x?y=1", None).await;
    assert_eq!(m, "status 202 body 6 canned");
    let rec = host.recorded_requests();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].method, "POST");
    assert_eq!(rec[0].url, "https://hooks.example.org/x?y=1");
    assert_eq!(rec[0].body, b"hello");
    assert!(rec[0]
        .headers
        .iter()
        .any(|(k, v)| k == "x-guest" && v == "wasi-http"));
    // Denied requests are not recorded either.
    let m = notify(&host, "wh", "https://elsewhere.example.org/", None).await;
    assert_eq!(m, "error ErrorCode::HttpRequestDenied");
    assert_eq!(host.recorded_requests().len(), 1);
}
