//! The host's SMTP client behind the 0.2 contract's `smtp` import: deny-by-default
//! (`smtp.allowed_hosts` in `<name>.toml`), speaking SMTP as Alertmanager 0.25's email
//! notifier (`notify/email/email.go` over Go's `net/smtp`) does.
//!
//! Hand-written on tokio-rustls rather than lettre: the conversation has to be Go's, step for
//! step, and lettre decides those steps itself (its own EHLO/HELO fallback, STARTTLS policy,
//! mechanism preference and MAIL parameters). Here each is explicit: EHLO with `hello` (HELO
//! if EHLO is refused), STARTTLS when the server offers it (an error when it does not and
//! `require-tls` is set), implicit TLS on port 465, AUTH with the first mechanism in the
//! server's list that the credentials allow (CRAM-MD5 with a secret, PLAIN with a password,
//! and only over TLS or to localhost as Go's `PlainAuth`, LOGIN with a password), `MAIL
//! FROM` with `BODY=8BITMIME`/`SMTPUTF8` when offered, `RCPT TO` per recipient, `DATA`
//! with textproto's dot-stuffing, `QUIT`. The receiver's `tls_config` (the call's
//! [`HttpProfile`](crate::HttpProfile)) applies to both kinds of TLS.
//!
//! One deliberate difference from Alertmanager 0.25: with `require_tls: false` it sends in
//! clear even when the server offers STARTTLS; the contract says STARTTLS whenever
//! offered, which this follows. And on port 465 `require_tls` is satisfied by the implicit
//! TLS (Alertmanager insists on a STARTTLS advertisement there too, which such servers
//! never make).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http::{HttpMode, RecordedRequest};
use crate::tls::TlsSettings;

/// Credentials, as Alertmanager's `auth_*` settings (the WIT's `smtp.auth`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MailAuth {
    /// `auth_username`; no authentication when empty.
    pub username: String,
    /// `auth_password` (the host reads `auth_password_file`).
    pub password: String,
    /// `auth_identity`, for PLAIN.
    pub identity: String,
    /// `auth_secret`, for CRAM-MD5.
    pub secret: String,
}

impl std::fmt::Debug for MailAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailAuth")
            .field("username", &self.username)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// Who sends what to whom (the WIT's `smtp.envelope`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailEnvelope {
    /// `host:port`.
    pub smarthost: String,
    /// The name given in EHLO/HELO (`localhost` when empty, as Go).
    pub hello: String,
    /// MAIL FROM, a bare address.
    pub sender: String,
    /// RCPT TO, bare addresses.
    pub recipients: Vec<String>,
    /// Credentials, if any.
    pub auth: Option<MailAuth>,
    /// Fail unless the connection is TLS (STARTTLS offered, or port 465).
    pub require_tls: bool,
}

/// Why mail was not sent (the WIT's `smtp.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The smarthost is not granted; names the capability to add.
    Denied(String),
    /// A permanent (5xx) reply, or an envelope no server would take.
    Rejected(String),
    /// Connection, TLS, authentication, a transient (4xx) reply, the time limit.
    Transport(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Denied(m) | MailError::Rejected(m) | MailError::Transport(m) => {
                f.write_str(m)
            }
        }
    }
}

/// What a mail of one call needs, detached from the store: built by
/// [`HostState::mail`](crate::state::HostState::mail).
#[derive(Clone)]
pub struct MailContext {
    pub(crate) plugin: Arc<str>,
    /// `smtp.allowed_hosts`.
    pub(crate) allowed: Arc<Vec<String>>,
    /// Live, or recorded under `plugin test` (the same log as HTTP requests).
    pub(crate) mode: HttpMode,
    pub(crate) deadline: Instant,
    /// The receiver's `tls_config`.
    pub(crate) tls: TlsSettings,
    pub(crate) log_gate: Arc<crate::words::LogGate>,
}

impl crate::state::HostState {
    /// The SMTP side of this call, for the 0.2 `smtp.send` binding:
    /// `smtp::send(&self.mail(), envelope, message)`.
    pub(crate) fn mail(&self) -> MailContext {
        MailContext {
            plugin: self.plugin.clone(),
            allowed: Arc::new(self.caps.smtp_allowed_hosts.clone()),
            mode: self.http.clone(),
            deadline: self.deadline,
            tls: self
                .net
                .profile
                .as_ref()
                .map(|p| p.tls().clone())
                .unwrap_or_default(),
            log_gate: self.log_gate.clone(),
        }
    }
}

/// Most bytes of one reply line, and lines of one reply, the client reads.
const MAX_LINE: usize = 4096;
const MAX_REPLY_LINES: usize = 256;

/// Sends `message` (RFC 5322 with CRLF line ends) to the envelope's recipients: the one
/// function behind the WIT's `smtp.send`.
pub async fn send(
    ctx: &MailContext,
    envelope: MailEnvelope,
    message: Vec<u8>,
) -> Result<(), MailError> {
    let (host, port) = split_host_port(&envelope.smarthost)?;
    for line in std::iter::once(&envelope.hello)
        .chain(std::iter::once(&envelope.sender))
        .chain(&envelope.recipients)
    {
        if line.contains(['\r', '\n']) {
            return Err(MailError::Rejected(
                "smtp: A line must not contain CR or LF".to_string(),
            ));
        }
    }
    if envelope.recipients.is_empty() {
        return Err(MailError::Rejected("no recipients".to_string()));
    }
    check_allowed(ctx, &host, port)?;
    if let HttpMode::Record { log, .. } = &ctx.mode {
        let mut headers = vec![("mail-from".to_string(), envelope.sender.clone())];
        headers.extend(
            envelope
                .recipients
                .iter()
                .map(|r| ("rcpt-to".to_string(), r.clone())),
        );
        log.lock().push(RecordedRequest {
            method: "SMTP".to_string(),
            url: format!("smtp://{}", envelope.smarthost),
            headers,
            body_len: message.len(),
            body: message,
        });
        return Ok(());
    }
    let deadline = tokio::time::Instant::from_std(ctx.deadline);
    tokio::time::timeout_at(deadline, converse(ctx, &envelope, &host, port, &message))
        .await
        .unwrap_or_else(|_| {
            Err(MailError::Transport(format!(
                "no answer from {} within the plugin's time limit",
                envelope.smarthost
            )))
        })
}

fn split_host_port(smarthost: &str) -> Result<(String, u16), MailError> {
    let bad = || MailError::Rejected(format!("smarthost {smarthost:?} is not host:port"));
    let (host, port) = smarthost.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    let port = port.parse::<u16>().map_err(|_| bad())?;
    Ok((host.to_ascii_lowercase(), port))
}

fn check_allowed(ctx: &MailContext, host: &str, port: u16) -> Result<(), MailError> {
    let host_port = format!("{host}:{port}");
    if ctx
        .allowed
        .iter()
        .any(|a| a == "*" || *a == host || *a == host_port)
    {
        return Ok(());
    }
    let plugin = &*ctx.plugin;
    let m = format!(
        "SMTP to {host_port} is not granted to plugin {plugin:?}; add \"{host}\" to smtp.allowed_hosts in {plugin}.toml"
    );
    if ctx.log_gate.admit(plugin) {
        tracing::warn!(
            plugin,
            "{}",
            crate::words::sanitize(&m, crate::words::MAX_GUEST_ERROR)
        );
    }
    Err(MailError::Denied(m))
}

async fn converse(
    ctx: &MailContext,
    env: &MailEnvelope,
    host: &str,
    port: u16,
    message: &[u8],
) -> Result<(), MailError> {
    let transport =
        |what: &str, e: &dyn std::fmt::Display| MailError::Transport(format!("{what}: {e}"));
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| transport("establish connection to server", &e))?;
    let mut c = if port == 465 {
        let tls = tls_connect(ctx, host, tcp)
            .await
            .map_err(|e| transport("establish TLS connection to server", &e))?;
        Client::new(Stream::Tls(Box::new(tls)), true)
    } else {
        Client::new(Stream::Plain(tcp), false)
    };
    let result = c.session(ctx, env, host, message).await;
    // Go defers QUIT whatever happened; its answer does not matter.
    if !c.broken {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(1), c.cmd(Some(221), "QUIT")).await;
    }
    result
}

async fn tls_connect(
    ctx: &MailContext,
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    // Go sets ServerName to the smarthost's host unless tls_config names one; it is both
    // the SNI and the name verified.
    let name = ctx
        .tls
        .server_name
        .clone()
        .unwrap_or_else(|| host.to_string());
    let config = crate::tls::client_config(&ctx.tls, None)
        .map_err(|e| format!("parse TLS configuration: {e}"))?;
    let server_name = rustls::pki_types::ServerName::try_from(name.clone())
        .map_err(|e| format!("server name {name:?}: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| e.to_string())
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Between a plain stream and its TLS upgrade.
    Gone,
}

/// A `net/smtp` client: lockstep commands and replies, the EHLO extensions.
struct Client {
    stream: Stream,
    buf: Vec<u8>,
    tls: bool,
    /// EHLO's extensions (upper-case keyword → parameters); `None` after HELO.
    ext: Option<HashMap<String, String>>,
    /// An I/O error happened: no QUIT.
    broken: bool,
}

/// A reply's code and text (lines joined by `\n`, as textproto does).
struct Reply {
    code: u16,
    text: String,
}

impl Client {
    fn new(stream: Stream, tls: bool) -> Self {
        Client {
            stream,
            buf: Vec::new(),
            tls,
            ext: None,
            broken: false,
        }
    }

    async fn session(
        &mut self,
        ctx: &MailContext,
        env: &MailEnvelope,
        host: &str,
        message: &[u8],
    ) -> Result<(), MailError> {
        self.expect(Some(220), "create SMTP client").await?;
        let hello = if env.hello.is_empty() {
            "localhost"
        } else {
            env.hello.as_str()
        };
        self.hello(hello).await?;
        let starttls = self.extension("STARTTLS").is_some();
        if starttls && !self.tls {
            self.cmd(Some(220), "STARTTLS")
                .await
                .map_err(|e| e.context("send STARTTLS command"))?;
            if !self.buf.is_empty() {
                // Bytes after the 220 were sent in clear before the handshake: an
                // injection attempt, never a correct server.
                return Err(MailError::Transport(
                    "send STARTTLS command: the server sent data before the TLS handshake"
                        .to_string(),
                ));
            }
            let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
                return Err(MailError::Transport(
                    "STARTTLS on a TLS connection".to_string(),
                ));
            };
            let tls = tls_connect(ctx, host, tcp).await.map_err(|e| {
                self.broken = true;
                MailError::Transport(format!("send STARTTLS command: {e}"))
            })?;
            self.stream = Stream::Tls(Box::new(tls));
            self.tls = true;
            self.ehlo(hello)
                .await
                .map_err(|e| e.context("send STARTTLS command"))?;
        } else if env.require_tls && !self.tls {
            return Err(MailError::Transport(format!(
                "'require_tls' is true (default) but {:?} does not advertise the STARTTLS extension",
                env.smarthost
            )));
        }
        if let (Some(mechs), Some(auth)) = (self.extension("AUTH"), &env.auth) {
            if !auth.username.is_empty() {
                self.auth(&mechs, auth, host).await?;
            }
        }
        let mut mail = format!("MAIL FROM:<{}>", env.sender);
        if self.extension("8BITMIME").is_some() {
            mail.push_str(" BODY=8BITMIME");
        }
        if self.extension("SMTPUTF8").is_some() {
            mail.push_str(" SMTPUTF8");
        }
        self.cmd(Some(250), &mail)
            .await
            .map_err(|e| e.context("send MAIL command"))?;
        for r in &env.recipients {
            self.cmd(Some(25), &format!("RCPT TO:<{r}>"))
                .await
                .map_err(|e| e.context("send RCPT command"))?;
        }
        self.cmd(Some(354), "DATA")
            .await
            .map_err(|e| e.context("send DATA command"))?;
        let data = dot_stuffed(message);
        self.write(&data).await?;
        self.expect(Some(250), "send message").await?;
        Ok(())
    }

    /// Go's `hello`: EHLO, and HELO when EHLO is refused.
    async fn hello(&mut self, name: &str) -> Result<(), MailError> {
        match self.ehlo(name).await {
            Ok(()) => Ok(()),
            Err(e) if self.broken => Err(e.context("send EHLO command")),
            Err(_) => {
                self.cmd(Some(250), &format!("HELO {name}"))
                    .await
                    .map_err(|e| e.context("send HELO command"))?;
                self.ext = None;
                Ok(())
            }
        }
    }

    async fn ehlo(&mut self, name: &str) -> Result<(), MailError> {
        let reply = self.cmd(Some(250), &format!("EHLO {name}")).await?;
        let mut ext = HashMap::new();
        // The first line greets; each further line is `KEYWORD params`.
        for line in reply.text.lines().skip(1) {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            ext.insert(k.to_ascii_uppercase(), v.to_string());
        }
        self.ext = Some(ext);
        Ok(())
    }

    fn extension(&self, name: &str) -> Option<String> {
        self.ext.as_ref()?.get(name).cloned()
    }

    /// Alertmanager's `auth`: the first of the server's mechanisms the credentials allow,
    /// then Go's `Client.Auth` exchange.
    async fn auth(&mut self, mechs: &str, auth: &MailAuth, host: &str) -> Result<(), MailError> {
        let mut problems = Vec::new();
        let mut chosen = None;
        for mech in mechs.split(' ') {
            match mech {
                "CRAM-MD5" if auth.secret.is_empty() => {
                    problems.push("missing secret for CRAM-MD5 auth mechanism")
                }
                "PLAIN" | "LOGIN" if auth.password.is_empty() => {
                    problems.push(if mech == "PLAIN" {
                        "missing password for PLAIN auth mechanism"
                    } else {
                        "missing password for LOGIN auth mechanism"
                    })
                }
                "CRAM-MD5" | "PLAIN" | "LOGIN" => {
                    chosen = Some(mech);
                    break;
                }
                _ => {}
            }
        }
        let Some(mech) = chosen else {
            let why = if problems.is_empty() {
                format!("unknown auth mechanism: {mechs}")
            } else {
                problems.join("; ")
            };
            return Err(MailError::Transport(format!("find auth mechanism: {why}")));
        };
        let go_type = match mech {
            "CRAM-MD5" => "*smtp.cramMD5Auth",
            "PLAIN" => "*smtp.plainAuth",
            _ => "*email.loginAuth",
        };
        let fail = |e: String| MailError::Transport(format!("{go_type} auth: {e}"));
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let first = match mech {
            "PLAIN" => {
                let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
                if !self.tls && !local {
                    return Err(fail("unencrypted connection".to_string()));
                }
                format!(
                    "AUTH PLAIN {}",
                    b64.encode(format!(
                        "{}\0{}\0{}",
                        auth.identity, auth.username, auth.password
                    ))
                )
            }
            other => format!("AUTH {other}"),
        };
        let mut reply = self
            .cmd(None, &first)
            .await
            .map_err(|e| fail(e.to_string()))?;
        loop {
            let challenge = match reply.code {
                334 => b64
                    .decode(reply.text.trim())
                    .map_err(|e| fail(e.to_string()))?,
                235 => return Ok(()),
                code => {
                    let _ = self.cmd(None, "*").await;
                    return Err(fail(format!("{code} {}", reply.text)));
                }
            };
            let answer: Vec<u8> = match mech {
                "CRAM-MD5" => {
                    use hmac::Mac as _;
                    let mut mac = hmac::Hmac::<md5::Md5>::new_from_slice(auth.secret.as_bytes())
                        .map_err(|e| fail(e.to_string()))?;
                    mac.update(&challenge);
                    let sum = hex::encode(mac.finalize().into_bytes());
                    format!("{} {sum}", auth.username).into_bytes()
                }
                "LOGIN" => match String::from_utf8_lossy(&challenge)
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "username:" => auth.username.clone().into_bytes(),
                    "password:" => auth.password.clone().into_bytes(),
                    _ => {
                        let _ = self.cmd(None, "*").await;
                        return Err(fail("unexpected server challenge".to_string()));
                    }
                },
                _ => {
                    let _ = self.cmd(None, "*").await;
                    return Err(fail("unexpected server challenge".to_string()));
                }
            };
            reply = self
                .cmd(None, &b64.encode(answer))
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
    }

    /// Writes one command line and reads the reply; `expect` as textproto's code prefix
    /// (`25` accepts 250 and 251).
    async fn cmd(&mut self, expect: Option<u16>, line: &str) -> Result<Reply, MailError> {
        let mut bytes = line.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes).await?;
        // Named by the verb; an AUTH exchange's lines (credentials) are never quoted.
        let verb = line.split(' ').next().unwrap_or_default();
        let what = if ["EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "DATA", "QUIT"].contains(&verb) {
            verb
        } else {
            "AUTH"
        };
        self.expect(expect, what).await
    }

    async fn expect(&mut self, expect: Option<u16>, what: &str) -> Result<Reply, MailError> {
        let reply = self.read_reply().await.map_err(|e| {
            self.broken = true;
            MailError::Transport(format!("{what}: {e}"))
        })?;
        let ok = match expect {
            None => true,
            Some(e) if e < 10 => reply.code / 100 == e,
            Some(e) if e < 100 => reply.code / 10 == e,
            Some(e) => reply.code == e,
        };
        if ok {
            return Ok(reply);
        }
        let m = format!("{} {}", reply.code, reply.text);
        Err(if (500..600).contains(&reply.code) {
            MailError::Rejected(m)
        } else {
            MailError::Transport(m)
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), MailError> {
        let r = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).await,
            Stream::Tls(s) => match s.write_all(bytes).await {
                Ok(()) => s.flush().await,
                Err(e) => Err(e),
            },
            Stream::Gone => Err(std::io::Error::other("connection closed")),
        };
        r.map_err(|e| {
            self.broken = true;
            MailError::Transport(format!("write: {e}"))
        })
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(format!("reply line longer than {MAX_LINE} bytes"));
            }
            let mut chunk = [0u8; 2048];
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk).await,
                Stream::Tls(s) => s.read(&mut chunk).await,
                Stream::Gone => Ok(0),
            }
            .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed by the server".to_string());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// textproto's `ReadResponse`: `ddd-text` continues, `ddd text` (or `ddd`) ends.
    async fn read_reply(&mut self) -> Result<Reply, String> {
        let mut code = None;
        let mut text = Vec::new();
        for _ in 0..MAX_REPLY_LINES {
            let line = self.read_line().await?;
            let bad = || format!("short response: {line}");
            let digits = line.get(..3).ok_or_else(bad)?;
            let this: u16 = digits.parse().map_err(|_| bad())?;
            if code.is_some_and(|c| c != this) {
                return Err(format!("unexpected multi-line response: {line}"));
            }
            code = Some(this);
            let sep = line.as_bytes().get(3).copied();
            text.push(line.get(4..).unwrap_or_default().to_string());
            match sep {
                None | Some(b' ') => {
                    return Ok(Reply {
                        code: this,
                        text: text.join("\n"),
                    })
                }
                Some(b'-') => continue,
                Some(_) => return Err(bad()),
            }
        }
        Err(format!("reply of more than {MAX_REPLY_LINES} lines"))
    }
}

impl MailError {
    fn context(self, what: &str) -> MailError {
        match self {
            MailError::Denied(m) => MailError::Denied(m),
            MailError::Rejected(m) => MailError::Rejected(format!("{what}: {m}")),
            MailError::Transport(m) => MailError::Transport(format!("{what}: {m}")),
        }
    }
}

/// textproto's `DotWriter`: a bare LF becomes CRLF, a dot starting a line is doubled, the
/// data ends with CRLF (added when missing) and `.` CRLF.
pub(crate) fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    #[derive(PartialEq)]
    enum S {
        /// Nothing written yet (ends like a line in progress, as in Go).
        Begin,
        BeginLine,
        Data,
        Cr,
    }
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut state = S::Begin;
    for &c in message {
        if state == S::Begin || state == S::BeginLine {
            state = S::Data;
            if c == b'.' {
                out.push(b'.');
            }
        }
        match state {
            S::Data => {
                if c == b'\r' {
                    state = S::Cr;
                }
                if c == b'\n' {
                    out.push(b'\r');
                    state = S::BeginLine;
                }
            }
            S::Cr => {
                state = S::Data;
                if c == b'\n' {
                    state = S::BeginLine;
                }
            }
            S::Begin | S::BeginLine => {}
        }
        out.push(c);
    }
    match state {
        S::Begin | S::Data => out.extend_from_slice(b"\r\n"),
        S::Cr => out.push(b'\n'),
        S::BeginLine => {}
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
#[path = "smtp_tests.rs"]
mod tests;
