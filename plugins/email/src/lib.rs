//! The `email` receiver: the message Alertmanager 0.25's `notify/email` sends, through the
//! host's SMTP client (contract 0.2's `smtp` import).
//!
//! Settings: an `email_configs` entry with the `global.smtp_*` values inherited and the
//! `html` default (`{{ template "email.default.html" . }}`) filled in by the host, which
//! also reads `auth_password_file`: `to`, `from`, `smarthost`, `hello`, `auth_username`,
//! `auth_password`, `auth_secret`, `auth_identity`, `require_tls`, `headers`, `html`,
//! `text`. The `tls_config` stays on the host, which applies it to the connection.
//!
//! As Alertmanager: header names canonicalised (`textproto.CanonicalMIMEHeaderKey`), with
//! `Subject` (`{{ template "email.default.subject" . }}`), `To` (`to`) and `From` (`from`)
//! added when absent; each value rendered as a text template, then Q-encoded; `from` and
//! `to` rendered and read as address lists, their bare addresses the envelope; a text part
//! only when `text` is set, an HTML part (rendered as HTML) when `html` is; `Message-Id`
//! `<unixnano.random@hostname>` unless a header sets it.
//!
//! Differences, each deliberate:
//! - headers are written sorted by name; Alertmanager ranges over a Go map, so its order
//!   is random from one mail to the next;
//! - the Message-Id's host part is the `hello` name: a plugin has no hostname (Alertmanager
//!   uses `os.Hostname()`);
//! - the HTML part is rendered by the host as text over HTML-escaped data, then the
//!   comments html/template would have elided are removed ([`html::elide_comments`]);
//!   html/template's URL-attribute normalisation (`%20` for a space in an `href`) is not
//!   reproduced, see plugins/README.md.
//!
//! Failures mirror Alertmanager's return values: a template or address error is permanent;
//! every SMTP failure (connection, TLS, AUTH, a 4xx or 5xx reply to MAIL, RCPT or DATA) is
//! retryable, as Alertmanager returns `true` for each; a smarthost the manifest does not
//! grant is permanent.

mod addr;
mod html;
mod mime;

use std::hash::{BuildHasher, RandomState};

use sightline_sdk::smtp::{self, Auth, Envelope};
use sightline_sdk::template::Renderer;
use sightline_sdk::{clock, log, Notification, NotifyError, Receiver, Settings};

/// Alertmanager's `DefaultEmailSubject`.
const DEFAULT_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;

struct Email;

/// A message and its envelope, before the per-send values (date, ids) are added.
#[derive(Debug, PartialEq, Eq)]
pub struct Mail {
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO, in order.
    pub recipients: Vec<String>,
    /// Canonical header names and rendered values, sorted by name.
    pub headers: Vec<(String, String)>,
    /// The rendered text part, when `text` is set.
    pub text: Option<String>,
    /// The rendered HTML part, when `html` is set.
    pub html: Option<String>,
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and every letter after a `-`
/// upper case, the rest lower case; a key with a byte that is not a token character is
/// returned unchanged.
pub fn canonical_header_key(k: &str) -> String {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !k.bytes().all(token) {
        return k.to_string();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let c2 = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            c2
        })
        .collect()
}

/// The envelope and the rendered parts; `text` renders text templates, `html` HTML ones.
pub fn compose(s: &Settings, text: &Renderer, html: &Renderer) -> Result<Mail, NotifyError> {
    let (to, from) = (s.text("to")?, s.text("from")?);
    let from_r = text.text(&from);
    text.finish()
        .map_err(|e| e.context("execute 'from' template"))?;
    let to_r = text.text(&to);
    text.finish()
        .map_err(|e| e.context("execute 'to' template"))?;
    let senders = addr::parse_list(&from_r)
        .map_err(|e| NotifyError::permanent(format!("parse 'from' addresses: {e}")))?;
    if senders.len() != 1 {
        return Err(NotifyError::permanent(format!(
            "must be exactly one 'from' address (got: {})",
            senders.len()
        )));
    }
    let recipients = addr::parse_list(&to_r)
        .map_err(|e| NotifyError::permanent(format!("parse 'to' addresses: {e}")))?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, v) in s.string_map("headers")? {
        headers.push((canonical_header_key(&k), v));
    }
    for (name, default) in [("Subject", DEFAULT_SUBJECT), ("To", &to), ("From", &from)] {
        if !headers.iter().any(|(k, _)| k == name) {
            headers.push((name.to_string(), default.to_string()));
        }
    }
    headers.sort();
    let mut rendered = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        let value = text.text(&v);
        text.finish()
            .map_err(|e| e.context(&format!("execute {k:?} header template")))?;
        rendered.push((k, value));
    }

    let text_src = s.text("text")?;
    let text_part = if text_src.is_empty() {
        None
    } else {
        let t = text.text(&text_src);
        text.finish()
            .map_err(|e| e.context("execute text template"))?;
        Some(t)
    };
    let html_src = s.text("html")?;
    let html_part = if html_src.is_empty() {
        None
    } else {
        let h = html.text(&html_src);
        html.finish()
            .map_err(|e| e.context("execute html template"))?;
        Some(html::elide_comments(&h))
    };
    Ok(Mail {
        sender: senders.into_iter().next().unwrap_or_default(),
        recipients,
        headers: rendered,
        text: text_part,
        html: html_part,
    })
}

/// The bytes after DATA for `mail`, sent at `now_ms`, with ids from `random`.
pub fn message(
    mail: &Mail,
    hostname: &str,
    now_ms: i64,
    random: &mut dyn FnMut() -> u64,
) -> Vec<u8> {
    let nanos = i128::from(now_ms) * 1_000_000;
    let message_id = format!("<{nanos}.{}@{hostname}>", random());
    // Go's multipart.Writer: 30 random bytes in hexadecimal.
    let mut boundary = String::with_capacity(60);
    while boundary.len() < 60 {
        boundary.push_str(&format!("{:016x}", random()));
    }
    boundary.truncate(60);
    mime::build(&mime::Message {
        headers: &mail.headers,
        message_id,
        now_ms,
        boundary,
        text: mail.text.as_deref(),
        html: mail.html.as_deref(),
    })
}

fn auth(s: &Settings) -> Result<Option<Auth>, NotifyError> {
    let username = s.text("auth_username")?;
    if username.is_empty() {
        return Ok(None);
    }
    Ok(Some(Auth {
        username,
        password: s.text("auth_password")?,
        identity: s.text("auth_identity")?,
        secret: s.text("auth_secret")?,
    }))
}

impl Receiver for Email {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let mail = compose(s, &Renderer::host(), &Renderer::host_html())?;
        let hello = match s.text("hello")? {
            h if h.is_empty() => "localhost".to_string(),
            h => h,
        };
        let state = RandomState::new();
        let mut counter = 0u64;
        let mut random = || {
            counter += 1;
            state.hash_one(counter)
        };
        let data = message(&mail, &hello, clock::now_ms(), &mut random);
        let envelope = Envelope {
            smarthost: s.require_text("smarthost")?,
            hello,
            sender: mail.sender,
            recipients: mail.recipients,
            auth: auth(s)?,
            require_tls: s.opt_bool("require_tls")?.unwrap_or(true),
        };
        smtp::send(&envelope, &data).map_err(|e| match e {
            // Alertmanager retries whatever the server answers (it returns `true` for a
            // failed MAIL, RCPT or DATA); only a smarthost not granted cannot get better.
            smtp::Error::Denied(_) => NotifyError::permanent(smtp::describe(&e)),
            smtp::Error::Rejected(_) | smtp::Error::Transport(_) => {
                NotifyError::retryable(smtp::describe(&e))
            }
        })?;
        log::debug(&format!("sent {}", n.group_key));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Email);

#[cfg(test)]
mod tests;
