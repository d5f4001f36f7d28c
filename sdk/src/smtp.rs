//! Mail through the host's SMTP client (STARTTLS, implicit TLS on port 465, AUTH as
//! Alertmanager's email notifier speaks it). The smarthost must be granted in `<name>.toml`
//! (`smtp.allowed_hosts`).

pub use crate::wit::smtp::{Auth, Envelope, Error};
use crate::NotifyError;

/// Sends `message` (a complete RFC 5322 message with CRLF line ends, headers first) to the
/// envelope's recipients.
pub fn send(envelope: &Envelope, message: &[u8]) -> Result<(), Error> {
    crate::wit::smtp::send(envelope, message)
}

/// A readable message for a failed send.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Denied(m) => format!("denied: {m}"),
        Error::Rejected(m) => format!("rejected: {m}"),
        Error::Transport(m) => m.clone(),
    }
}

/// A permanent server reply or a denied smarthost is permanent; a connection, TLS or
/// transient (4xx) failure is retryable (Alertmanager retries every email failure but a
/// 5xx reply).
impl From<Error> for NotifyError {
    fn from(e: Error) -> Self {
        match e {
            Error::Denied(_) | Error::Rejected(_) => NotifyError::permanent(describe(&e)),
            Error::Transport(_) => NotifyError::retryable(describe(&e)),
        }
    }
}
