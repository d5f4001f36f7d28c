//! `oauth2` and `sigv4` on the wire. A loopback server plays the OAuth 2.0 token endpoint, a
//! protected scrape target and remote-write receivers; it records every request. Sightline
//! must fetch one token per client (not per target, not per request), re-fetch when the
//! client secret file changes, send `Authorization: Bearer <token>`, fall back to form
//! credentials when the token endpoint refuses basic auth (x/oauth2's auto-detection), retry
//! remote write while the token endpoint fails, and sign remote write with AWS SigV4 so that
//! the receiver can recompute the signature.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use crate::am_support::read_request;
use crate::sidebyside::get_json;
use crate::support::{eventually, Daemon};

/// One recorded request.
#[derive(Clone, Debug)]
pub(crate) struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn form(&self) -> BTreeMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// A token request as the server understood it.
#[derive(Clone, Debug)]
pub(crate) struct TokenReq {
    pub(crate) client_id: String,
    /// "header" (basic auth) or "params" (form fields).
    pub(crate) style: &'static str,
    pub(crate) form: BTreeMap<String, String>,
    pub(crate) status: u16,
}

#[derive(Default)]
struct State {
    tokens: Vec<TokenReq>,
    issued: Vec<String>,
    requests: Vec<Req>,
    /// Token requests of the client `writer` answered 503 before it works.
    writer_failures: usize,
}

/// The loopback token endpoint, protected target and receivers (see the module doc).
pub(crate) struct Server {
    pub(crate) addr: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Which secrets each client may use, and how: `scraper` either way, `writer` only as form
/// parameters (basic auth is refused, which x/oauth2 answers by retrying with parameters).
fn check_client(id: &str, secret: &str, style: &str) -> bool {
    match id {
        "scraper" => secret == "s3cret" || secret == "rotated",
        "writer" => secret == "w-secret" && style == "params",
        _ => false,
    }
}

fn respond(st: &mut State, r: &Req) -> (u16, &'static str, String) {
    let bearer = r
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_string);
    let issued = |st: &State, prefix: &str| {
        bearer
            .as_ref()
            .is_some_and(|t| t.starts_with(prefix) && st.issued.contains(t))
    };
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/token") => {
            let form = r.form();
            let basic = r
                .header("authorization")
                .and_then(|a| a.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok());
            let (style, id, secret) = match basic {
                Some(pair) => {
                    let (id, secret) = pair.split_once(':').unwrap_or((&pair, ""));
                    ("header", id.to_string(), secret.to_string())
                }
                None => (
                    "params",
                    form.get("client_id").cloned().unwrap_or_default(),
                    form.get("client_secret").cloned().unwrap_or_default(),
                ),
            };
            let (status, ctype, body) = if id == "writer" && st.writer_failures > 0 {
                st.writer_failures -= 1;
                (503, "text/plain", "token service warming up".to_string())
            } else if form.get("grant_type").map(String::as_str) != Some("client_credentials")
                || !check_client(&id, &secret, style)
            {
                (
                    401,
                    "application/json",
                    r#"{"error":"invalid_client"}"#.to_string(),
                )
            } else {
                let token = format!("tok-{id}-{}", st.issued.len() + 1);
                st.issued.push(token.clone());
                (
                    200,
                    "application/json",
                    format!(
                        r#"{{"access_token":"{token}","token_type":"bearer","expires_in":3600}}"#
                    ),
                )
            };
            st.tokens.push(TokenReq {
                client_id: id,
                style,
                form,
                status,
            });
            (status, ctype, body)
        }
        ("GET", "/metrics") if issued(st, "tok-scraper-") => (
            200,
            "text/plain; version=0.0.4",
            "oauth_probe 42\n".to_string(),
        ),
        ("GET", "/plain") => (
            200,
            "text/plain; version=0.0.4",
            "sigv4_probe 1\n".to_string(),
        ),
        ("POST", "/write") if issued(st, "tok-writer-") => (204, "text/plain", String::new()),
        ("POST", p) if p.starts_with("/aps/") => (204, "text/plain", String::new()),
        // An alert receiver's webhook, for the `scraper` client's tokens.
        ("POST", "/hook") if issued(st, "tok-scraper-") => (200, "text/plain", String::new()),
        _ => (401, "text/plain", "unauthorized".to_string()),
    }
}

impl Server {
    pub(crate) fn start(writer_failures: usize) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State {
            writer_failures,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stopped) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((head, body)) = read_request(&mut s) else {
                    continue;
                };
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or("").split_whitespace();
                let method = first.next().unwrap_or("").to_string();
                let path = first.next().unwrap_or("").to_string();
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let req = Req {
                    method,
                    path,
                    headers,
                    body,
                };
                let (status, ctype, body) = {
                    let mut g = st.lock().unwrap();
                    let answer = respond(&mut g, &req);
                    g.requests.push(req);
                    answer
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                use std::io::Write as _;
                let _ = s.write_all(answer.as_bytes());
            }
        });
        Server { addr, state, stop }
    }

    pub(crate) fn tokens(&self, client: &str) -> Vec<TokenReq> {
        let g = self.state.lock().unwrap();
        g.tokens
            .iter()
            .filter(|t| t.client_id == client)
            .cloned()
            .collect()
    }

    pub(crate) fn requests(&self, method: &str, prefix: &str) -> Vec<Req> {
        let g = self.state.lock().unwrap();
        g.requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .cloned()
            .collect()
    }
}

fn targets(d: &Daemon) -> Vec<serde_json::Value> {
    get_json(&d.addr, "/api/v1/targets")["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn scrapes_ok(d: &Daemon, job: &str) -> usize {
    targets(d)
        .iter()
        .filter(|t| t["labels"]["job"] == job && t["health"] == "up")
        .count()
}

#[test]
fn oauth2_tokens_for_scrapes_and_remote_write() {
    // The writer's first token request fails with both credential styles (two requests):
    // remote write must keep the batch and retry.
    let srv = Server::start(2);
    let work = tempfile::tempdir().unwrap();
    let secret_file = work.path().join("client-secret");
    std::fs::write(&secret_file, "s3cret\n").unwrap();
    let a = &srv.addr;
    let config = format!(
        r#"global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: protected
    oauth2:
      client_id: scraper
      client_secret_file: {secret}
      scopes: [metrics, read]
      endpoint_params: {{audience: sightline}}
      token_url: http://{a}/token
    static_configs:
      - targets: ['{a}']
        labels: {{instance: one}}
      - targets: ['{a}']
        labels: {{instance: two}}
  - job_name: refused
    oauth2: {{client_id: intruder, client_secret: nope, token_url: 'http://{a}/token'}}
    static_configs: [{{targets: ['{a}']}}]
remote_write:
  - url: http://{a}/write
    oauth2: {{client_id: writer, client_secret: w-secret, token_url: 'http://{a}/token'}}
    queue_config: {{batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}}
"#,
        secret = secret_file.display()
    );
    let d = Daemon::start(Some(&config), &[]);

    // Both targets of the job scrape with the job's one token.
    eventually(30, "both protected targets up", || {
        (scrapes_ok(&d, "protected") == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let scrapes = srv.requests("GET", "/metrics");
    assert!(scrapes.len() >= 6, "{} scrapes", scrapes.len());
    let scraper = srv.tokens("scraper");
    assert_eq!(
        scraper.len(),
        1,
        "one token for the whole job: {scraper:#?}"
    );
    let t = &scraper[0];
    assert_eq!(t.style, "header", "x/oauth2 tries basic auth first");
    assert_eq!(
        t.form.get("grant_type").map(String::as_str),
        Some("client_credentials")
    );
    assert_eq!(
        t.form.get("scope").map(String::as_str),
        Some("metrics read")
    );
    assert_eq!(
        t.form.get("audience").map(String::as_str),
        Some("sightline")
    );
    assert!(!t.form.contains_key("client_secret"), "{t:?}");
    // Every scrape carried the token, as `Bearer` (the server said "bearer").
    let first = scrapes[0].header("authorization").unwrap_or("").to_string();
    assert!(first.starts_with("Bearer tok-scraper-"), "{first}");
    for r in &scrapes {
        assert_eq!(r.header("authorization"), Some(first.as_str()), "{r:?}");
    }
    let ua = srv.requests("POST", "/token")[0]
        .header("user-agent")
        .unwrap_or("")
        .to_string();
    assert!(
        ua.starts_with("Sightline/"),
        "the request's user agent: {ua:?}"
    );

    // A refused client: the target is down with the token endpoint's URL and status.
    let refused = eventually(30, "the refused job's error", || {
        targets(&d)
            .into_iter()
            .find(|t| t["labels"]["job"] == "refused" && t["lastError"] != "")
    });
    assert_eq!(refused["health"], "down");
    let err = refused["lastError"].as_str().unwrap();
    assert!(
        err.contains(&format!(
            "oauth2: cannot fetch token from http://{a}/token: 401 Unauthorized"
        )),
        "{err}"
    );
    assert!(!err.contains("nope"), "no secret in errors: {err}");

    // Remote write: the failed token fetch was retried, basic auth was refused and the form
    // credentials worked; every write carries the writer's token.
    eventually(60, "oauth2 remote writes", || {
        (!srv.requests("POST", "/write").is_empty()).then_some(())
    });
    let writer = srv.tokens("writer");
    let statuses: Vec<(u16, &str)> = writer.iter().map(|t| (t.status, t.style)).collect();
    assert_eq!(
        statuses,
        [
            (503, "header"),
            (503, "params"),
            (401, "header"),
            (200, "params")
        ],
        "{writer:#?}"
    );
    for w in srv.requests("POST", "/write") {
        let auth = w.header("authorization").unwrap_or("");
        assert!(auth.starts_with("Bearer tok-writer-"), "{w:?}");
        assert_eq!(w.header("content-encoding"), Some("snappy"));
    }

    // A new client secret in the file: a new token on the next scrape, and no more.
    std::fs::write(&secret_file, "rotated\n").unwrap();
    eventually(30, "a token for the rotated secret", || {
        (srv.tokens("scraper").len() == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(srv.tokens("scraper").len(), 2);
    let last = srv.requests("GET", "/metrics").pop().unwrap();
    let now = last.header("authorization").unwrap_or("");
    assert!(
        now.starts_with("Bearer tok-scraper-") && now != first,
        "{now}"
    );
    assert_eq!(scrapes_ok(&d, "protected"), 2);

    // The writer still uses its first good token: one fetch per client, not per request.
    assert_eq!(srv.tokens("writer").len(), 4);
}

/// The SigV4 `Authorization` header's parts.
fn parse_sigv4(auth: &str) -> (String, String, String) {
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .unwrap_or_else(|| panic!("{auth}"));
    let mut parts = BTreeMap::new();
    for p in rest.split(", ") {
        let (k, v) = p.split_once('=').unwrap();
        parts.insert(k.to_string(), v.to_string());
    }
    (
        parts["Credential"].clone(),
        parts["SignedHeaders"].clone(),
        parts["Signature"].clone(),
    )
}

/// Recomputes the signature of a received request from its signed headers, path and body.
fn verify_sigv4(srv: &Server, r: &Req, key: &str, secret: &str, region: &str) {
    let auth = r.header("authorization").unwrap_or_else(|| panic!("{r:?}"));
    let (credential, signed, signature) = parse_sigv4(auth);
    let amz_date = r.header("x-amz-date").unwrap();
    assert_eq!(amz_date.len(), 16, "{amz_date}");
    assert_eq!(
        credential,
        format!("{key}/{}/{region}/aps/aws4_request", &amz_date[..8])
    );
    let names: Vec<&str> = signed.split(';').collect();
    for must in ["content-encoding", "content-type", "host", "x-amz-date"] {
        assert!(names.contains(&must), "{must} not signed: {signed}");
    }
    let headers: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let v = r
                .header(n)
                .unwrap_or_else(|| panic!("signed {n} not sent: {r:?}"));
            (n.to_string(), v.to_string())
        })
        .collect();
    let url = url::Url::parse(&format!("http://{}{}", srv.addr, r.path)).unwrap();
    let want = sightline_scrape::client::sigv4::authorization(
        &sightline_scrape::client::sigv4::Signable {
            method: &r.method,
            url: &url,
            headers: &headers,
            body: &r.body,
        },
        &sightline_scrape::client::sigv4::Credentials {
            access_key: key,
            secret_key: secret,
        },
        region,
        "aps",
        amz_date,
    );
    assert_eq!(parse_sigv4(&want).2, signature, "{r:?}");
}

#[test]
fn sigv4_signs_remote_write() {
    let srv = Server::start(0);
    let a = &srv.addr;
    let config = format!(
        r#"global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: plain
    metrics_path: /plain
    static_configs: [{{targets: ['{a}']}}]
remote_write:
  - url: http://{a}/aps/static/api/v1/remote_write
    sigv4: {{region: eu-west-1, access_key: AKIDSTATIC, secret_key: static-secret}}
    queue_config: {{batch_send_deadline: 1s}}
  - url: http://{a}/aps/env/api/v1/remote_write
    sigv4: {{}}
    queue_config: {{batch_send_deadline: 1s}}
"#
    );
    let d = Daemon::start_in_env(
        tempfile::tempdir().unwrap(),
        Some(&config),
        &[],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_SESSION_TOKEN", "session-token"),
            ("AWS_REGION", "us-east-2"),
        ],
    );
    eventually(60, "signed writes on both queues", || {
        (!srv.requests("POST", "/aps/static/").is_empty()
            && !srv.requests("POST", "/aps/env/").is_empty())
        .then_some(())
    });
    let statics = srv.requests("POST", "/aps/static/");
    for r in &statics {
        verify_sigv4(&srv, r, "AKIDSTATIC", "static-secret", "eu-west-1");
        assert_eq!(r.header("x-amz-security-token"), None);
        assert!(!r.body.is_empty());
    }
    let envs = srv.requests("POST", "/aps/env/");
    for r in &envs {
        verify_sigv4(&srv, r, "AKIDENV", "env-secret", "us-east-2");
        assert_eq!(r.header("x-amz-security-token"), Some("session-token"));
        let (_, signed, _) = parse_sigv4(r.header("authorization").unwrap());
        assert!(signed.contains("x-amz-security-token"), "{signed}");
    }
    println!(
        "sigv4: {} + {} signed writes verified",
        statics.len(),
        envs.len()
    );
    drop(d);
}

#[test]
fn sigv4_profile_is_refused_at_load() {
    let work = tempfile::tempdir().unwrap();
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        "remote_write:\n  - url: http://127.0.0.1:9/w\n    sigv4: {region: x, profile: prod}\n",
    )
    .unwrap();
    let out = std::process::Command::new(crate::support::BIN)
        .args(["check", "config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("sigv4 profile is not supported by Sightline"),
        "{text}"
    );
}

/// No credentials anywhere: the daemon does not start, and says what it looked for (as
/// Prometheus, whose remote storage fails to apply the configuration).
#[test]
fn sigv4_without_credentials_stops_startup() {
    let work = tempfile::tempdir().unwrap();
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        "remote_write:\n  - url: http://127.0.0.1:9/aps\n    sigv4: {region: eu-west-1}\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(crate::support::BIN);
    cmd.arg("serve")
        .arg(format!(
            "--web.listen-address=127.0.0.1:{}",
            crate::support::free_port()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            work.path().join("data").display()
        ))
        .arg(format!(
            "--plugins.dir={}",
            work.path().join("plugins").display()
        ))
        .arg(format!("--config.file={}", cfg.display()));
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_ACCESS_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the daemon started without SigV4 credentials");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success(), "{err}");
    assert!(err.contains("could not get SigV4 credentials"), "{err}");
}
