//! The host side of contract 0.2's imports. `log`, `config`, `clock`, `http` and `host-fs`
//! are 0.1's interfaces under a new version: their types are converted at the edge and the
//! call goes to the one implementation in `state.rs`, so both contracts share every check
//! (allowlists, grants, rate limits). `template` and `smtp` are new in 0.2.

use crate::bindings::v02::wit as w2;
use crate::bindings::wit as w1;
use crate::state::HostState;

impl w2::types::Host for HostState {}
impl w2::metrics::Host for HostState {}
impl w2::alerts::Host for HostState {}
impl w2::promql::Host for HostState {}

impl w2::log::Host for HostState {
    async fn log(&mut self, level: w2::log::Level, message: String) {
        use w2::log::Level as L2;
        let level = match level {
            L2::Trace => w1::log::Level::Trace,
            L2::Debug => w1::log::Level::Debug,
            L2::Info => w1::log::Level::Info,
            L2::Warn => w1::log::Level::Warn,
            L2::Error => w1::log::Level::Error,
        };
        w1::log::Host::log(self, level, message).await;
    }
}

impl w2::config::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        w1::config::Host::get(self, key).await
    }

    async fn get_all(&mut self) -> Vec<(String, String)> {
        w1::config::Host::get_all(self).await
    }
}

impl w2::clock::Host for HostState {
    async fn now_ms(&mut self) -> i64 {
        w1::clock::Host::now_ms(self).await
    }

    async fn monotonic_ns(&mut self) -> u64 {
        w1::clock::Host::monotonic_ns(self).await
    }
}

impl w2::http::Host for HostState {
    async fn send(
        &mut self,
        request: w2::http::Request,
    ) -> Result<w2::http::Response, w2::http::Error> {
        let request = w1::http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        match w1::http::Host::send(self, request).await {
            Ok(r) => Ok(w2::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(w1::http::Error::Denied(m)) => Err(w2::http::Error::Denied(m)),
            Err(w1::http::Error::InvalidRequest(m)) => Err(w2::http::Error::InvalidRequest(m)),
            Err(w1::http::Error::Timeout) => Err(w2::http::Error::Timeout),
            Err(w1::http::Error::Transport(m)) => Err(w2::http::Error::Transport(m)),
        }
    }
}

impl w2::host_fs::Host for HostState {
    async fn statfs(&mut self, mount_point: String) -> Result<w2::host_fs::FsStats, String> {
        let s = w1::host_fs::Host::statfs(self, mount_point).await?;
        Ok(w2::host_fs::FsStats {
            size_bytes: s.size_bytes,
            free_bytes: s.free_bytes,
            avail_bytes: s.avail_bytes,
            files: s.files,
            files_free: s.files_free,
            read_only: s.read_only,
        })
    }
}

impl w2::template::Host for HostState {
    async fn render(&mut self, text: String) -> Result<String, String> {
        self.render_template(text, false).await
    }

    async fn render_html(&mut self, text: String) -> Result<String, String> {
        self.render_template(text, true).await
    }
}

impl HostState {
    /// Renders off the async workers: a template is guest-chosen text whose execution the
    /// template crate bounds, but it may still take a while.
    async fn render_template(&mut self, text: String, html: bool) -> Result<String, String> {
        let scope = self.template.clone();
        let out = tokio::task::spawn_blocking(move || crate::template::render(&scope, &text, html))
            .await
            .map_err(|e| format!("rendering the template: {e}"))?;
        let limit = self.caps.max_output_bytes;
        match out {
            Ok(s) if s.len() > limit => Err(format!(
                "the rendered template has {} bytes, more than the plugin's max_output of {limit}",
                s.len()
            )),
            other => other,
        }
    }
}

impl w2::smtp::Host for HostState {
    async fn send(
        &mut self,
        envelope: w2::smtp::Envelope,
        message: Vec<u8>,
    ) -> Result<(), w2::smtp::Error> {
        smtp_send(self, envelope, message).await
    }
}

// The `smtp` import: the host's SMTP client (`smtp.rs`) behind `smtp.allowed_hosts`, with
// the receiver's `tls_config` from the call's profile.
async fn smtp_send(
    state: &mut HostState,
    envelope: w2::smtp::Envelope,
    message: Vec<u8>,
) -> Result<(), w2::smtp::Error> {
    let envelope = crate::smtp::MailEnvelope {
        smarthost: envelope.smarthost,
        hello: envelope.hello,
        sender: envelope.sender,
        recipients: envelope.recipients,
        auth: envelope.auth.map(|a| crate::smtp::MailAuth {
            username: a.username,
            password: a.password,
            identity: a.identity,
            secret: a.secret,
        }),
        require_tls: envelope.require_tls,
    };
    crate::smtp::send(&state.mail(), envelope, message)
        .await
        .map_err(|e| match e {
            crate::smtp::MailError::Denied(m) => w2::smtp::Error::Denied(m),
            crate::smtp::MailError::Rejected(m) => w2::smtp::Error::Rejected(m),
            crate::smtp::MailError::Transport(m) => w2::smtp::Error::Transport(m),
        })
}
