//! The HTTP surface as an operator configures it: `--web.config.file` (basic auth, TLS,
//! client certificates, headers, reload), `--web.enable-lifecycle`, `--web.external-url` and
//! `--web.route-prefix`, flags of features that do not exist yet, and the HTTP limits (body
//! size, connection cap, slow clients). The side-by-side tests run Debian's Prometheus 2.42
//! on the same web configuration and compare status codes request by request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::sidebyside::{need, Proc};
use crate::support::{eventually, free_port, http_exchange, http_get, http_request, Daemon, BIN};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn auth_config(password: &str) -> String {
    let hash = bcrypt::hash(password, 4).unwrap();
    format!(
        "basic_auth_users:\n  {USER}: '{hash}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    )
}

/// The credentials a request carries.
#[derive(Debug, Clone, Copy)]
enum Cred {
    None,
    WrongPassword,
    UnknownUser,
    Right,
}

impl Cred {
    const ALL: [Cred; 4] = [
        Cred::None,
        Cred::WrongPassword,
        Cred::UnknownUser,
        Cred::Right,
    ];

    fn header(self) -> Option<String> {
        match self {
            Cred::None => None,
            Cred::WrongPassword => Some(basic(USER, "nope")),
            Cred::UnknownUser => Some(basic("mallory", PASSWORD)),
            Cred::Right => Some(basic(USER, PASSWORD)),
        }
    }
}

fn request(addr: &str, method: &str, path: &str, cred: Cred) -> (u16, String, String) {
    let h = cred.header();
    let headers: Vec<(&str, &str)> = h.iter().map(|v| ("Authorization", v.as_str())).collect();
    http_exchange(addr, method, path, &headers, b"").unwrap()
}

fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn ready_with_auth(addr: &str) -> bool {
    let h = basic(USER, PASSWORD);
    matches!(
        http_request(addr, "GET", "/-/ready", &[("Authorization", &h)], b""),
        Ok((200, _))
    )
}

#[test]
fn basic_auth_guards_every_endpoint_family() {
    let dir = tempfile::tempdir().unwrap();
    let web = write_file(dir.path(), "web.yml", &auth_config(PASSWORD));
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[
            &format!("--web.config.file={web}"),
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
        ],
    );
    d.wait_for("/-/ready with credentials", ready_with_auth);
    // (method, path, status with the right credentials) for every endpoint family.
    let families: &[(&str, &str, u16)] = &[
        ("GET", "/-/healthy", 200),
        ("GET", "/-/ready", 200),
        ("GET", "/metrics", 200),
        ("GET", "/api/v1/query?query=1", 200),
        ("POST", "/api/v1/query?query=1", 200),
        ("GET", "/api/v1/status/flags", 200),
        ("GET", "/api/v1/targets", 200),
        ("GET", "/api/v1/plugins", 200),
        ("GET", "/api/search", 200),
        ("GET", "/api/v1/status/tsdb", 200),
        ("POST", "/api/v1/admin/tsdb/clean_tombstones", 204),
        ("POST", "/-/reload", 200),
        // The web UI: its routes and unknown non-API paths are the app's index.html.
        ("GET", "/", 200),
        ("GET", "/no/such/path", 200),
        ("GET", "/api/no/such/path", 404),
    ];
    for &(method, path, want) in families {
        for cred in Cred::ALL {
            let (code, head, body) = request(&d.addr, method, path, cred);
            let expect = if matches!(cred, Cred::Right) {
                want
            } else {
                401
            };
            assert_eq!(
                code, expect,
                "{method} {path} with {cred:?}: {head}\n{body}"
            );
            assert!(
                head.contains("X-Frame-Options: deny") || head.contains("x-frame-options: deny"),
                "configured header missing on {method} {path} ({cred:?}): {head}"
            );
            if code == 401 {
                let lower = head.to_ascii_lowercase();
                assert!(lower.contains("www-authenticate: basic"), "{head}");
                assert_eq!(body, "Unauthorized\n");
            }
        }
    }
    // Lifecycle: quit is behind the same check.
    for cred in [Cred::None, Cred::WrongPassword] {
        assert_eq!(request(&d.addr, "POST", "/-/quit", cred).0, 401);
    }
    let (code, _, body) = request(&d.addr, "POST", "/-/quit", Cred::Right);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, "Requesting termination... Goodbye!");
    let st = d.wait_exit();
    assert!(st.success(), "{st}");
}

#[test]
fn web_config_changes_apply_and_a_broken_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let web = write_file(dir.path(), "web.yml", &auth_config("first"));
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[&format!("--web.config.file={web}")],
    );
    let auth = |pass: &str| basic(USER, pass);
    let get = |addr: &str, pass: &str| {
        let a = auth(pass);
        // 0 while the listener is not bound yet.
        http_request(addr, "GET", "/-/ready", &[("Authorization", &a)], b"")
            .map(|r| r.0)
            .unwrap_or(0)
    };
    d.wait_for("/-/ready with the first password", |a| {
        get(a, "first") == 200
    });
    std::fs::write(&web, auth_config("second")).unwrap();
    eventually(10, "the rotated password to apply", || {
        (get(&d.addr, "second") == 200).then_some(())
    });
    assert_eq!(get(&d.addr, "first"), 401);
    std::fs::write(&web, "basic_auth_users: {alice: not-a-hash}\n").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        get(&d.addr, "second"),
        200,
        "a broken file keeps the old one"
    );
    assert_eq!(get(&d.addr, "first"), 401);
}

#[test]
fn unavailable_features_and_bad_web_configs_fail_startup_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--alertmanager.config.file=alertmanager.yml".into()],
            "--alertmanager.config.file",
        ),
        (
            vec![format!(
                "--web.config.file={}",
                write_file(
                    dir.path(),
                    "hdr.yml",
                    "http_server_config:\n  headers:\n    X-Custom: x\n"
                )
            )],
            "X-Custom",
        ),
        (
            vec![format!(
                "--web.config.file={}",
                write_file(
                    dir.path(),
                    "cipher.yml",
                    "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n"
                )
            )],
            "TLS_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            vec!["--web.external-url=\"http://x/\"".into()],
            "--web.external-url",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(BIN)
            .arg("serve")
            .arg(format!("--web.listen-address=127.0.0.1:{}", free_port()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started");
        assert!(err.contains(want), "{args:?}: {want} not named in: {err}");
    }
}

#[test]
fn lifecycle_api_is_gated_by_the_flag() {
    let mut d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    for (method, path) in [
        ("POST", "/-/reload"),
        ("PUT", "/-/reload"),
        ("POST", "/-/quit"),
        ("PUT", "/-/quit"),
    ] {
        let (code, body) = http_request(&d.addr, method, path, &[], b"").unwrap();
        assert_eq!(code, 403, "{method} {path}");
        assert_eq!(body, "Lifecycle API is not enabled.");
    }
    for path in ["/-/reload", "/-/quit"] {
        let (code, body) = http_get(&d.addr, path).unwrap();
        assert_eq!(
            (code, body.as_str()),
            (405, "Only POST or PUT requests allowed")
        );
    }
    // SIGHUP still reloads.
    d.send_signal("HUP");
    eventually(10, "a second successful reload", || {
        let m = http_get(&d.addr, "/metrics").unwrap().1;
        m.contains("sightline_config_reloads_total{outcome=\"success\"} 1")
            .then_some(())
    });
    assert!(d.child.try_wait().unwrap().is_none(), "still running");
    let mut d = Daemon::start(Some("scrape_configs: []\n"), &["--web.enable-lifecycle"]);
    let (code, body) = http_request(&d.addr, "PUT", "/-/quit", &[], b"").unwrap();
    assert_eq!(
        (code, body.as_str()),
        (200, "Requesting termination... Goodbye!")
    );
    assert!(d.wait_exit().success());
}

#[test]
fn external_url_path_is_the_route_prefix() {
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &["--web.external-url=http://example.com:1234/foo/bar/"],
    );
    d.wait_for("/foo/bar/-/ready", |a| {
        matches!(http_get(a, "/foo/bar/-/ready"), Ok((200, _)))
    });
    for path in [
        "/-/ready",
        "/-/healthy",
        "/api/v1/query?query=1",
        "/metrics",
        "/foo",
    ] {
        assert_eq!(http_get(&d.addr, path).unwrap().0, 404, "{path}");
    }
    let (code, head, _) = http_exchange(&d.addr, "GET", "/", &[], b"").unwrap();
    assert_eq!(code, 302);
    assert!(
        head.to_ascii_lowercase().contains("location: /foo/bar\r\n"),
        "{head}"
    );
    for path in [
        "/foo/bar/-/healthy",
        "/foo/bar/metrics",
        "/foo/bar/api/v1/query?query=1",
    ] {
        assert_eq!(http_get(&d.addr, path).unwrap().0, 200, "{path}");
    }
    let (code, body) = http_get(&d.addr, "/foo/bar/api/v1/status/flags").unwrap();
    assert_eq!(code, 200);
    let f: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(f["data"]["web.route-prefix"], "/foo/bar");
    assert_eq!(
        f["data"]["web.external-url"],
        "http://example.com:1234/foo/bar/"
    );
    // An explicit prefix wins.
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[
            "--web.external-url=http://example.com/foo/",
            "--web.route-prefix=/",
        ],
    );
    d.wait_ready_at("/-/ready");
}

impl Daemon {
    fn wait_ready_at(&mut self, path: &str) {
        let p = path.to_string();
        self.wait_for(path, move |a| matches!(http_get(a, &p), Ok((200, _))));
    }
}

#[test]
fn oversized_body_is_413() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    // A declared length over the limit is refused before the body is sent.
    let mut s = TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        11 << 20
    )
    .unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // A chunked body that grows past it is cut off where it is read.
    let mut body = b"query=".to_vec();
    body.resize(11 << 20, b'1');
    let mut s = TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let mut sent = 0;
    for chunk in body.chunks(1 << 20) {
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || s.write_all(chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let n = s.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "after {sent} bytes: {text}"
    );
    // Headers far over the 1 MiB limit (Go's): 431, as Go answers.
    let big = "x".repeat(2 << 20);
    let (code, _) = http_request(&d.addr, "GET", "/-/healthy", &[("X-Big", &big)], b"")
        .unwrap_or((0, String::new()));
    assert_eq!(code, 431);
    // Many small headers are fine (hyper's default limit is 100; Go has none).
    let many: Vec<(String, String)> = (0..200).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        http_request(&d.addr, "GET", "/-/healthy", &many, b"")
            .unwrap()
            .0,
        200
    );
    // A normal POST still works.
    let (code, _) = http_request(
        &d.addr,
        "POST",
        "/api/v1/query",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"query=1",
    )
    .unwrap();
    assert_eq!(code, 200);
}

/// Sends a request on `s` and says whether a status line came back within `wait`.
fn answered_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &["--web.max-connections=2"]);
    // Two idle connections take both slots (the readiness probe's has closed by now).
    std::thread::sleep(Duration::from_millis(300));
    let idle1 = TcpStream::connect(&d.addr).unwrap();
    let idle2 = TcpStream::connect(&d.addr).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = TcpStream::connect(&d.addr).unwrap();
    third
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert!(
        !answered_within(&mut third, Duration::from_millis(1500)),
        "a third connection was served while two were open"
    );
    drop(idle1);
    assert!(
        answered_within(&mut third, Duration::from_secs(10)),
        "the waiting connection was not served once a slot was free"
    );
    drop(idle2);
}

#[test]
fn slow_and_idle_clients_are_disconnected() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &["--web.read-timeout=1s"]);
    let closed_within = |s: &mut TcpStream, secs: u64| {
        s.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
        let mut buf = [0u8; 512];
        let started = Instant::now();
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return started.elapsed() < Duration::from_secs(secs),
            }
        }
    };
    // Headers trickled in and never finished.
    let mut slow = TcpStream::connect(&d.addr).unwrap();
    slow.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert!(
        closed_within(&mut slow, 5),
        "a half-sent request was kept open"
    );
    // A body that stops arriving: the request fails when the read timeout is up.
    let mut body = TcpStream::connect(&d.addr).unwrap();
    body.write_all(b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=1").unwrap();
    body.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    let started = Instant::now();
    let n = body.read(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        n == 0 || text.starts_with("HTTP/1.1 400"),
        "a stalled body got: {text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a stalled body was waited for"
    );
    // A connection that never sends anything.
    let mut idle = TcpStream::connect(&d.addr).unwrap();
    assert!(
        closed_within(&mut idle, 5),
        "an idle connection was kept open"
    );
    // A keep-alive connection after its response.
    let mut ka = TcpStream::connect(&d.addr).unwrap();
    ka.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(
        closed_within(&mut ka, 5),
        "an idle keep-alive connection was kept open"
    );
    assert_eq!(http_get(&d.addr, "/-/healthy").unwrap().0, 200);
}

#[test]
fn healthy_and_ready_after_startup() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    assert_eq!(http_get(&d.addr, "/-/healthy").unwrap().0, 200);
    assert_eq!(http_get(&d.addr, "/-/ready").unwrap().0, 200);
}

/// A test PKI made at test time: a CA, a server certificate for localhost and 127.0.0.1, a
/// client certificate from the same CA, and one from an unrelated CA.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client: String,
    stranger: String,
}

fn pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = p.self_signed(&key).unwrap();
        (cert.pem(), Issuer::new(p, key))
    };
    let leaf = |issuer: &Issuer<'_, KeyPair>, names: &[&str], usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, names[0]);
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (ca_pem, issuer) = ca("sightline test CA");
    let (_, other) = ca("unrelated CA");
    let (server_cert, server_key) = leaf(
        &issuer,
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (c, k) = leaf(&issuer, &["client"], ExtendedKeyUsagePurpose::ClientAuth);
    let (sc, sk) = leaf(&other, &["stranger"], ExtendedKeyUsagePurpose::ClientAuth);
    Pki {
        ca: ca_pem,
        server_cert,
        server_key,
        client: format!("{k}{c}"),
        stranger: format!("{sk}{sc}"),
    }
}

/// Writes the PKI beside a web configuration with `extra` TLS settings; returns its path.
fn tls_config(dir: &Path, pki: &Pki, extra: &str) -> String {
    write_file(dir, "ca.pem", &pki.ca);
    write_file(dir, "server.pem", &pki.server_cert);
    write_file(dir, "server.key", &pki.server_key);
    write_file(
        dir,
        "web.yml",
        &format!("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n{extra}"),
    )
}

/// An HTTPS GET trusting the test CA, optionally with a client certificate: the status, or
/// the error as text.
fn https_get(addr: &str, path: &str, ca: &str, identity: Option<&str>) -> Result<u16, String> {
    let port = addr.rsplit_once(':').unwrap().1.to_string();
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
            .resolve("localhost", sock)
            .timeout(Duration::from_secs(10));
        if let Some(id) = identity {
            b = b.identity(reqwest::Identity::from_pem(id.as_bytes()).unwrap());
        }
        let c = b.build().map_err(|e| format!("{e:?}"))?;
        let r = c
            .get(format!("https://localhost:{port}{path}"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let code = r.status().as_u16();
        // Reading the body surfaces a TLS 1.3 alert sent after the handshake.
        r.bytes().await.map_err(|e| format!("{e:?}"))?;
        Ok(code)
    })
}

#[test]
fn tls_with_a_test_ca_and_plain_http_to_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let web = tls_config(dir.path(), &pki, "");
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[&format!("--web.config.file={web}")],
    );
    let ca = pki.ca.clone();
    d.wait_for("/-/ready over TLS", |a| {
        https_get(a, "/-/ready", &ca, None) == Ok(200)
    });
    assert_eq!(
        https_get(&d.addr, "/api/v1/query?query=1", &pki.ca, None),
        Ok(200)
    );
    assert_eq!(https_get(&d.addr, "/metrics", &pki.ca, None), Ok(200));
    // A client that does not trust the CA refuses the server.
    let other = pki::other_ca();
    assert!(https_get(&d.addr, "/-/ready", &other, None).is_err());
    // Plain HTTP to the TLS port gets Go's 400, never a page.
    let (code, body) = http_get(&d.addr, "/-/ready").unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("HTTP request to an HTTPS server"), "{body}");
}

mod pki {
    /// A CA certificate that signed nothing the tests serve.
    pub(super) fn other_ca() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.self_signed(&key).unwrap().pem()
    }
}

#[test]
fn mtls_require_and_verify_client_cert() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let web = tls_config(
        dir.path(),
        &pki,
        "  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n",
    );
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[&format!("--web.config.file={web}")],
    );
    let (ca, client) = (pki.ca.clone(), pki.client.clone());
    d.wait_for("/-/ready over mTLS", |a| {
        https_get(a, "/-/ready", &ca, Some(&client)) == Ok(200)
    });
    assert_eq!(
        https_get(&d.addr, "/api/v1/status/flags", &pki.ca, Some(&pki.client)),
        Ok(200)
    );
    let no_cert = https_get(&d.addr, "/-/ready", &pki.ca, None);
    assert!(
        no_cert.is_err(),
        "a client without a certificate got {no_cert:?}"
    );
    let stranger = https_get(&d.addr, "/-/ready", &pki.ca, Some(&pki.stranger));
    assert!(
        stranger.is_err(),
        "a certificate from another CA got {stranger:?}"
    );
}

/// Starts Debian's Prometheus 2.42 with `web_config` and waits until `probe` holds.
fn prometheus(dir: &Path, web_config: &str, probe: impl Fn(&str) -> bool) -> (Proc, String) {
    prometheus_with(dir, &[&format!("--web.config.file={web_config}")], probe)
}

/// Starts Debian's Prometheus 2.42 with `args` and waits until `probe` holds.
fn prometheus_with(dir: &Path, args: &[&str], probe: impl Fn(&str) -> bool) -> (Proc, String) {
    need("prometheus");
    let cfg = write_file(dir, "prometheus.yml", "scrape_configs: []\n");
    let addr = format!("127.0.0.1:{}", free_port());
    let p = Proc(
        Command::new("prometheus")
            .arg(format!("--config.file={cfg}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("pdata").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .args(args)
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    eventually(60, "prometheus ready", || probe(&addr).then_some(()));
    (p, addr)
}

#[test]
fn basic_auth_side_by_side_with_prometheus() {
    need("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let web = write_file(dir.path(), "web.yml", &auth_config(PASSWORD));
    let (_prom, paddr) = prometheus(dir.path(), &web, ready_with_auth);
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[&format!("--web.config.file={web}")],
    );
    d.wait_for("/-/ready with credentials", ready_with_auth);
    let requests: &[(&str, &str)] = &[
        ("GET", "/-/healthy"),
        ("GET", "/-/ready"),
        ("GET", "/metrics"),
        ("GET", "/api/v1/query?query=1"),
        ("POST", "/api/v1/query?query=1"),
        ("GET", "/api/v1/query"),
        ("GET", "/api/v1/status/flags"),
        ("GET", "/api/v1/status/buildinfo"),
        ("GET", "/api/v1/targets"),
        ("GET", "/api/v1/labels"),
        ("POST", "/-/reload"),
        ("POST", "/-/quit"),
        ("GET", "/-/reload"),
        ("GET", "/api/v1/no_such_endpoint"),
    ];
    let mut diffs = Vec::new();
    for &(method, path) in requests {
        for cred in Cred::ALL {
            let (ours, ohead, obody) = request(&d.addr, method, path, cred);
            let (theirs, phead, pbody) = request(&paddr, method, path, cred);
            if ours != theirs {
                diffs.push(format!(
                    "{method} {path} {cred:?}: sightline {ours}, prometheus {theirs}"
                ));
            } else if ours == 401 && obody != pbody {
                diffs.push(format!(
                    "{method} {path} {cred:?}: 401 bodies {obody:?} vs {pbody:?}"
                ));
            }
            for head in [&ohead, &phead] {
                let lower = head.to_ascii_lowercase();
                assert!(
                    lower.contains("x-frame-options: deny"),
                    "{method} {path}: {head}"
                );
                if lower.starts_with("http/1.1 401") {
                    assert!(lower.contains("www-authenticate: basic\r\n"), "{head}");
                }
            }
        }
    }
    // Odd Authorization headers, as Go's Request.BasicAuth reads them.
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for value in [
        "Basic !!!".to_string(),
        "Bearer abc".to_string(),
        format!("basic {}", b64(&format!("{USER}:{PASSWORD}"))),
        format!("BASIC {}", b64(&format!("{USER}:{PASSWORD}"))),
        format!("Basic  {}", b64(&format!("{USER}:{PASSWORD}"))),
        format!("Basic {}", b64(USER)),
        format!("Basic {}", b64(&format!("{USER}:{PASSWORD}:"))),
        format!("Basic {}", b64(&format!(":{PASSWORD}"))),
    ] {
        let h = [("Authorization", value.as_str())];
        let ours = http_request(&d.addr, "GET", "/-/healthy", &h, b"")
            .unwrap()
            .0;
        let theirs = http_request(&paddr, "GET", "/-/healthy", &h, b"")
            .unwrap()
            .0;
        if ours != theirs {
            diffs.push(format!(
                "Authorization {value:?}: sightline {ours}, prometheus {theirs}"
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "status codes differ:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn tls_and_every_client_auth_type_side_by_side_with_prometheus() {
    need("prometheus");
    let pki = pki();
    let mut diffs = Vec::new();
    for auth in [
        "NoClientCert",
        "RequestClientCert",
        "RequireAnyClientCert",
        "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let extra = if auth == "NoClientCert" {
            String::new()
        } else {
            format!("  client_ca_file: ca.pem\n  client_auth_type: {auth}\n")
        };
        let web = tls_config(dir.path(), &pki, &extra);
        let (ca, client) = (pki.ca.clone(), pki.client.clone());
        let probe = |a: &str| https_get(a, "/-/ready", &ca, Some(&client)) == Ok(200);
        let (_prom, paddr) = prometheus(dir.path(), &web, probe);
        let mut d = Daemon::spawn(
            Some("scrape_configs: []\n"),
            &[&format!("--web.config.file={web}")],
        );
        d.wait_for("/-/ready over TLS", probe);
        let outcome = |addr: &str, identity: Option<&str>| match https_get(
            addr,
            "/api/v1/query?query=1",
            &pki.ca,
            identity,
        ) {
            Ok(code) => code.to_string(),
            Err(_) => "refused".to_string(),
        };
        for (what, identity) in [
            (
                "a client certificate from the CA",
                Some(pki.client.as_str()),
            ),
            ("no client certificate", None),
            ("a certificate from another CA", Some(pki.stranger.as_str())),
        ] {
            let (ours, theirs) = (outcome(&d.addr, identity), outcome(&paddr, identity));
            if ours != theirs {
                diffs.push(format!(
                    "{auth}, {what}: sightline {ours}, prometheus {theirs}"
                ));
            }
        }
        let plain = |addr: &str| http_get(addr, "/-/ready").map(|r| r.0).unwrap_or(0);
        let (ours, theirs) = (plain(&d.addr), plain(&paddr));
        if ours != theirs {
            diffs.push(format!(
                "{auth}, plain HTTP: sightline {ours}, prometheus {theirs}"
            ));
        }
    }
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
}

#[test]
fn rotated_tls_files_apply_to_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let first = pki();
    let web = tls_config(dir.path(), &first, "");
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[&format!("--web.config.file={web}")],
    );
    let ca = first.ca.clone();
    d.wait_for("/-/ready over TLS", |a| {
        https_get(a, "/-/ready", &ca, None) == Ok(200)
    });
    let second = pki();
    tls_config(dir.path(), &second, "");
    eventually(10, "the rotated certificate to be served", || {
        (https_get(&d.addr, "/-/ready", &second.ca, None) == Ok(200)).then_some(())
    });
    assert!(https_get(&d.addr, "/-/ready", &first.ca, None).is_err());
    // A broken certificate file keeps the working one.
    std::fs::write(dir.path().join("server.pem"), "garbage").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(https_get(&d.addr, "/-/ready", &second.ca, None), Ok(200));
}

#[test]
fn route_prefix_side_by_side_with_prometheus() {
    need("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let url = "--web.external-url=http://example.com:1234/foo/bar/";
    let probe = |a: &str| matches!(http_get(a, "/foo/bar/-/ready"), Ok((200, _)));
    let (_prom, paddr) = prometheus_with(dir.path(), &[url, "--web.enable-lifecycle"], probe);
    let mut d = Daemon::spawn(
        Some("scrape_configs: []\n"),
        &[url, "--web.enable-lifecycle"],
    );
    d.wait_for("/foo/bar/-/ready", probe);
    let mut diffs = Vec::new();
    for path in [
        "/",
        "/-/ready",
        "/-/healthy",
        "/metrics",
        "/api/v1/query?query=1",
        "/foo",
        "/foo/barx/-/ready",
        "/foo/bar/-/ready",
        "/foo/bar/-/healthy",
        "/foo/bar/metrics",
        "/foo/bar/api/v1/query?query=1",
        "/foo/bar/api/v1/status/flags",
        "/foo/bar/-/reload",
    ] {
        let (ours, ohead, _) = http_exchange(&d.addr, "GET", path, &[], b"").unwrap();
        let (theirs, phead, _) = http_exchange(&paddr, "GET", path, &[], b"").unwrap();
        let location = |h: &str| {
            h.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("location:"))
                .map(|l| l[9..].trim().to_string())
        };
        if (ours, location(&ohead)) != (theirs, location(&phead)) {
            diffs.push(format!(
                "GET {path}: sightline {ours} {:?}, prometheus {theirs} {:?}",
                location(&ohead),
                location(&phead)
            ));
        }
    }
    let (ours, _) = http_request(&d.addr, "POST", "/foo/bar/-/reload", &[], b"").unwrap();
    let (theirs, _) = http_request(&paddr, "POST", "/foo/bar/-/reload", &[], b"").unwrap();
    if ours != theirs {
        diffs.push(format!(
            "POST /foo/bar/-/reload: sightline {ours}, prometheus {theirs}"
        ));
    }
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
}

/// The listener binds before storage opens: while WAL replay is held up (its first segment is
/// a FIFO nobody writes to), `/-/healthy` and `/metrics` answer, `/-/ready` and the API say
/// 503, and the lifecycle gate still answers 403.
#[test]
fn healthy_but_not_ready_during_wal_replay() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("data/wal");
    std::fs::create_dir_all(&wal).unwrap();
    let fifo = wal.join("00000000");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success(), "mkfifo");
    let mut d = Daemon::spawn_at(dir, Some("scrape_configs: []\n"), &[]);
    d.wait_for("/-/healthy during WAL replay", |a| {
        matches!(http_get(a, "/-/healthy"), Ok((200, _)))
    });
    assert_eq!(
        http_get(&d.addr, "/-/ready").unwrap(),
        (503, "Service Unavailable".to_string())
    );
    // (Grafana's API, `/api/search` among it, answers from the start: `web_ui.rs`.)
    for path in ["/api/v1/query?query=1", "/api/v1/status/flags"] {
        assert_eq!(http_get(&d.addr, path).unwrap().0, 503, "{path}");
    }
    assert_eq!(http_get(&d.addr, "/metrics").unwrap().0, 200);
    let (code, _) = http_request(&d.addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(code, 403);
    assert!(d.child.try_wait().unwrap().is_none(), "still replaying");
}
