//! The SMTP client against a small SMTP server written here (EHLO, STARTTLS with a test
//! certificate, AUTH PLAIN/LOGIN, scripted 4xx/5xx replies), on 127.0.0.1 only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::http::RecordLog;
use crate::tls::Pem;

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
pub(crate) struct TestPki {
    pub(crate) ca_pem: String,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

pub(crate) fn test_pki() -> TestPki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
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
    TestPki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

#[derive(Clone, Default)]
struct ServerOpts {
    starttls: bool,
    implicit_tls: bool,
    auth: &'static str,
    eightbit: bool,
    rcpt_reply: Option<&'static str>,
}

#[derive(Debug, Default)]
struct Transcript {
    commands: Vec<String>,
    data: Vec<u8>,
    /// (identity, username, password) that authenticated.
    authenticated: Option<(String, String, String)>,
    tls_commands: usize,
}

async fn read_line<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let mut b = [0u8; 1];
        if s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        line.push(b[0]);
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

/// Serves one session on `s`; returns the stream when the client asked for STARTTLS.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    opts: &ServerOpts,
    tls: bool,
    t: &Mutex<Transcript>,
) -> Option<S> {
    if !tls || opts.implicit_tls {
        s.write_all(b"220 test ESMTP\r\n").await.ok()?;
    }
    while let Some(line) = read_line(&mut s).await {
        t.lock().commands.push(line.clone());
        if tls {
            t.lock().tls_commands += 1;
        }
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => {
                let mut ext = vec!["test greets you".to_string()];
                if opts.starttls && !tls {
                    ext.push("STARTTLS".to_string());
                }
                if !opts.auth.is_empty() {
                    ext.push(format!("AUTH {}", opts.auth));
                }
                if opts.eightbit {
                    ext.push("8BITMIME".to_string());
                }
                ext.push("HELP".to_string());
                let n = ext.len();
                ext.iter()
                    .enumerate()
                    .map(|(i, e)| format!("250{}{e}\r\n", if i + 1 == n { ' ' } else { '-' }))
                    .collect()
            }
            "STARTTLS" => {
                s.write_all(b"220 go ahead\r\n").await.ok()?;
                return Some(s);
            }
            "AUTH" => {
                let mut parts = line.split(' ').skip(1);
                let creds = match parts.next() {
                    Some("PLAIN") => {
                        let raw = unb64(parts.next().unwrap_or_default());
                        let f: Vec<&str> = raw.split('\0').collect();
                        (f[0].to_string(), f[1].to_string(), f[2].to_string())
                    }
                    Some("LOGIN") => {
                        s.write_all(format!("334 {}\r\n", b64("Username:")).as_bytes())
                            .await
                            .ok()?;
                        let user = unb64(&read_line(&mut s).await?);
                        s.write_all(format!("334 {}\r\n", b64("Password:")).as_bytes())
                            .await
                            .ok()?;
                        let pass = unb64(&read_line(&mut s).await?);
                        (String::new(), user, pass)
                    }
                    _ => (String::new(), String::new(), String::new()),
                };
                if creds.2 == "s3cret" {
                    t.lock().authenticated = Some(creds);
                    "235 ok\r\n".to_string()
                } else {
                    "535 5.7.8 bad credentials\r\n".to_string()
                }
            }
            "RCPT" => format!("{}\r\n", opts.rcpt_reply.unwrap_or("250 ok")),
            "DATA" => {
                s.write_all(b"354 go on\r\n").await.ok()?;
                let mut data = Vec::new();
                while !data.ends_with(b"\r\n.\r\n") {
                    let mut b = [0u8; 1];
                    if s.read(&mut b).await.ok()? == 0 {
                        return None;
                    }
                    data.push(b[0]);
                }
                t.lock().data = data;
                "250 queued\r\n".to_string()
            }
            "QUIT" => {
                let _ = s.write_all(b"221 bye\r\n").await;
                return None;
            }
            _ => "250 ok\r\n".to_string(),
        };
        s.write_all(reply.as_bytes()).await.ok()?;
    }
    None
}

/// Starts the server for one connection; returns its port and transcript.
async fn server(opts: ServerOpts, pki: &TestPki) -> (u16, Arc<Mutex<Transcript>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = Arc::new(Mutex::new(Transcript::default()));
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server.clone());
    let t2 = t.clone();
    tokio::spawn(async move {
        let Ok(Ok((tcp, _))) =
            tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
        else {
            return;
        };
        if opts.implicit_tls {
            if let Ok(tls) = acceptor.accept(tcp).await {
                run(tls, &opts, true, &t2).await;
            }
            return;
        }
        if let Some(tcp) = run::<TcpStream>(tcp, &opts, false, &t2).await {
            if let Ok(tls) = acceptor.accept(tcp).await {
                run(tls, &opts, true, &t2).await;
            }
        }
    });
    (port, t)
}

fn ctx(allowed: &[&str], tls: TlsSettings) -> MailContext {
    MailContext {
        plugin: Arc::from("email"),
        allowed: Arc::new(allowed.iter().map(|s| s.to_string()).collect()),
        mode: HttpMode::live().unwrap(),
        deadline: Instant::now() + Duration::from_secs(10),
        tls,
        log_gate: Default::default(),
    }
}

fn envelope(port: u16) -> MailEnvelope {
    MailEnvelope {
        smarthost: format!("127.0.0.1:{port}"),
        hello: "sightline.test".to_string(),
        sender: "am@example.org".to_string(),
        recipients: vec!["a@example.org".to_string(), "b@example.org".to_string()],
        auth: None,
        require_tls: false,
    }
}

const MESSAGE: &[u8] = b"Subject: test\r\n\r\n.leading dot\r\nplain line\r\n..two dots\r\nlast";

#[tokio::test]
async fn delivers_exact_bytes_with_dot_stuffing() {
    let pki = test_pki();
    let (port, t) = server(
        ServerOpts {
            eightbit: true,
            ..Default::default()
        },
        &pki,
    )
    .await;
    send(
        &ctx(&["127.0.0.1"], TlsSettings::default()),
        envelope(port),
        MESSAGE.to_vec(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = t.lock();
    assert_eq!(
        String::from_utf8_lossy(&t.data),
        "Subject: test\r\n\r\n..leading dot\r\nplain line\r\n...two dots\r\nlast\r\n.\r\n"
    );
    assert_eq!(
        t.commands,
        [
            "EHLO sightline.test",
            "MAIL FROM:<am@example.org> BODY=8BITMIME",
            "RCPT TO:<a@example.org>",
            "RCPT TO:<b@example.org>",
            "DATA",
            "QUIT"
        ]
    );
}

#[tokio::test]
async fn starttls_with_ca_file_then_auth_plain() {
    let pki = test_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let (port, t) = server(
        ServerOpts {
            starttls: true,
            auth: "PLAIN LOGIN",
            ..Default::default()
        },
        &pki,
    )
    .await;
    let mut env = envelope(port);
    env.require_tls = true;
    env.auth = Some(MailAuth {
        username: "alice".to_string(),
        password: "s3cret".to_string(),
        identity: "id".to_string(),
        secret: String::new(),
    });
    let tls = TlsSettings {
        ca: Some(Pem::File(ca)),
        ..Default::default()
    };
    send(&ctx(&["127.0.0.1"], tls), env, MESSAGE.to_vec())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = t.lock();
    assert_eq!(t.commands[..2], ["EHLO sightline.test", "STARTTLS"]);
    // After the handshake, all over TLS: EHLO again, AUTH, MAIL, RCPT x2, DATA, QUIT.
    assert_eq!(t.tls_commands, 7, "{:?}", t.commands);
    assert_eq!(t.commands[2], "EHLO sightline.test");
    assert_eq!(
        t.authenticated,
        Some(("id".to_string(), "alice".to_string(), "s3cret".to_string()))
    );
    assert!(t.data.starts_with(b"Subject: test\r\n"));
}

#[tokio::test]
async fn starttls_refuses_an_unknown_ca() {
    let pki = test_pki();
    let (port, _t) = server(
        ServerOpts {
            starttls: true,
            ..Default::default()
        },
        &pki,
    )
    .await;
    let Err(MailError::Transport(m)) = send(
        &ctx(&["127.0.0.1"], TlsSettings::default()),
        envelope(port),
        MESSAGE.to_vec(),
    )
    .await
    else {
        panic!("a certificate from an unknown CA was accepted")
    };
    assert!(m.starts_with("send STARTTLS command: "), "{m}");
}

#[tokio::test]
async fn implicit_tls_on_465_is_not_testable_here_but_insecure_skip_verify_is() {
    // Port 465 needs root; the implicit-TLS path is the same `tls_connect` as STARTTLS, and
    // insecure_skip_verify accepts the server without its CA.
    let pki = test_pki();
    let (port, t) = server(
        ServerOpts {
            starttls: true,
            ..Default::default()
        },
        &pki,
    )
    .await;
    let tls = TlsSettings {
        insecure_skip_verify: true,
        ..Default::default()
    };
    send(&ctx(&["127.0.0.1"], tls), envelope(port), MESSAGE.to_vec())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(t.lock().tls_commands > 0);
}

#[tokio::test]
async fn auth_login_when_the_server_lists_it_first() {
    let pki = test_pki();
    let dir = tempfile::tempdir().unwrap();
    let (port, t) = server(
        ServerOpts {
            starttls: true,
            auth: "LOGIN PLAIN",
            ..Default::default()
        },
        &pki,
    )
    .await;
    let mut env = envelope(port);
    env.auth = Some(MailAuth {
        username: "bob".to_string(),
        password: "s3cret".to_string(),
        ..Default::default()
    });
    let tls = TlsSettings {
        ca: Some(Pem::Inline(pki.ca_pem.clone())),
        ..Default::default()
    };
    drop(dir);
    send(&ctx(&["127.0.0.1"], tls), env, MESSAGE.to_vec())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = t.lock();
    assert!(
        t.commands.contains(&"AUTH LOGIN".to_string()),
        "{:?}",
        t.commands
    );
    assert_eq!(
        t.authenticated,
        Some((String::new(), "bob".to_string(), "s3cret".to_string()))
    );
}

#[tokio::test]
async fn bad_credentials_are_a_transport_error() {
    let pki = test_pki();
    let (port, _t) = server(
        ServerOpts {
            auth: "PLAIN",
            ..Default::default()
        },
        &pki,
    )
    .await;
    let mut env = envelope(port);
    env.auth = Some(MailAuth {
        username: "bob".to_string(),
        password: "wrong".to_string(),
        ..Default::default()
    });
    let Err(MailError::Transport(m)) = send(
        &ctx(&["127.0.0.1"], TlsSettings::default()),
        env,
        MESSAGE.to_vec(),
    )
    .await
    else {
        panic!("bad credentials passed")
    };
    assert_eq!(m, "*smtp.plainAuth auth: 535 5.7.8 bad credentials");
}

#[tokio::test]
async fn require_tls_without_starttls_fails() {
    let pki = test_pki();
    let (port, t) = server(ServerOpts::default(), &pki).await;
    let mut env = envelope(port);
    env.require_tls = true;
    let Err(MailError::Transport(m)) = send(
        &ctx(&["127.0.0.1"], TlsSettings::default()),
        env,
        MESSAGE.to_vec(),
    )
    .await
    else {
        panic!("sent without TLS")
    };
    assert_eq!(
        m,
        format!("'require_tls' is true (default) but \"127.0.0.1:{port}\" does not advertise the STARTTLS extension")
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!t.lock().commands.iter().any(|c| c.starts_with("MAIL")));
}

#[tokio::test]
async fn permanent_reply_is_rejected_transient_is_transport() {
    let pki = test_pki();
    for (reply, permanent) in [
        ("550 5.1.1 no such user", true),
        ("451 4.3.0 try later", false),
    ] {
        let (port, _t) = server(
            ServerOpts {
                rcpt_reply: Some(reply),
                ..Default::default()
            },
            &pki,
        )
        .await;
        let err = send(
            &ctx(&["127.0.0.1"], TlsSettings::default()),
            envelope(port),
            MESSAGE.to_vec(),
        )
        .await
        .unwrap_err();
        let want = format!("send RCPT command: {reply}");
        match err {
            MailError::Rejected(m) if permanent => assert_eq!(m, want),
            MailError::Transport(m) if !permanent => assert_eq!(m, want),
            other => panic!("{reply}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn denied_host_never_connects() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let err = send(
        &ctx(&["mail.example.org"], TlsSettings::default()),
        envelope(port),
        MESSAGE.to_vec(),
    )
    .await
    .unwrap_err();
    let MailError::Denied(m) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        m,
        format!("SMTP to 127.0.0.1:{port} is not granted to plugin \"email\"; add \"127.0.0.1\" to smtp.allowed_hosts in email.toml")
    );
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "a denied send connected");
}

#[tokio::test]
async fn recorded_under_plugin_test() {
    let log = Arc::new(Mutex::new(RecordLog::default()));
    let mut c = ctx(&["127.0.0.1"], TlsSettings::default());
    c.mode = HttpMode::Record {
        log: log.clone(),
        canned: Arc::new(Vec::new()),
    };
    // Nothing listens on port 9: a live send would fail.
    send(&c, envelope(9), MESSAGE.to_vec()).await.unwrap();
    let log = log.lock();
    assert_eq!(log.requests.len(), 1);
    let r = &log.requests[0];
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("SMTP", "smtp://127.0.0.1:9")
    );
    assert_eq!(r.body, MESSAGE);
    assert_eq!(
        r.headers[1],
        ("rcpt-to".to_string(), "a@example.org".to_string())
    );
}

#[test]
fn dot_stuffing_as_textproto() {
    let cases: [(&[u8], &[u8]); 6] = [
        (b"", b"\r\n.\r\n"),
        (b"a", b"a\r\n.\r\n"),
        (b"a\r\n", b"a\r\n.\r\n"),
        (b".\r\n.", b"..\r\n..\r\n.\r\n"),
        (b"bare\nlf\n", b"bare\r\nlf\r\n.\r\n"),
        (b"cr\r", b"cr\r\n.\r\n"),
    ];
    for (input, want) in cases {
        assert_eq!(
            String::from_utf8_lossy(&dot_stuffed(input)),
            String::from_utf8_lossy(want)
        );
    }
}
