//! Helpers over the receiver world's types: failures, the notification, and Alertmanager's
//! truncation rules.

use sha2::{Digest, Sha256};

use crate::{Alert, AlertStatus, Label, Notification, NotifyError, Retryable, SettingsError};

impl NotifyError {
    /// A failure worth another attempt, with the host's backoff.
    pub fn retryable(message: impl Into<String>) -> Self {
        NotifyError::Retryable(Retryable {
            message: message.into(),
            retry_after_ms: None,
        })
    }

    /// A failure retrying cannot fix (a 4xx answer, invalid settings, a template error).
    pub fn permanent(message: impl Into<String>) -> Self {
        NotifyError::Permanent(message.into())
    }

    /// Whether the host will retry.
    pub fn is_retryable(&self) -> bool {
        matches!(self, NotifyError::Retryable(_))
    }

    /// The failure's message.
    pub fn message(&self) -> &str {
        match self {
            NotifyError::Retryable(r) => &r.message,
            NotifyError::Permanent(m) => m,
        }
    }

    /// The same failure with `context: ` in front of its message (Go's `errors.Wrap`).
    pub fn context(self, context: &str) -> Self {
        match self {
            NotifyError::Retryable(r) => NotifyError::Retryable(Retryable {
                message: format!("{context}: {}", r.message),
                retry_after_ms: r.retry_after_ms,
            }),
            NotifyError::Permanent(m) => NotifyError::Permanent(format!("{context}: {m}")),
        }
    }
}

/// Invalid settings cannot be fixed by retrying.
impl From<SettingsError> for NotifyError {
    fn from(e: SettingsError) -> Self {
        NotifyError::permanent(e.to_string())
    }
}

impl AlertStatus {
    /// `firing` or `resolved`, as Alertmanager's data says it.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

fn find<'a>(labels: &'a [Label], name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.value.as_str())
}

impl Notification {
    /// Whether any alert of the group fires.
    pub fn is_firing(&self) -> bool {
        self.status == AlertStatus::Firing
    }

    /// The SHA-256 of the group key in hex: Alertmanager's `notify.Key.Hash()`, the dedup
    /// key of PagerDuty, the alias of Opsgenie, the entity id of VictorOps.
    pub fn key_hash(&self) -> String {
        Sha256::digest(self.group_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The firing alerts (`.Alerts.Firing`).
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts
            .iter()
            .filter(|a| a.status == AlertStatus::Firing)
    }

    /// The resolved alerts (`.Alerts.Resolved`).
    pub fn resolved(&self) -> impl Iterator<Item = &Alert> {
        self.alerts
            .iter()
            .filter(|a| a.status == AlertStatus::Resolved)
    }

    /// The value of common label `name`, if every alert has it.
    pub fn common_label(&self, name: &str) -> Option<&str> {
        find(&self.common_labels, name)
    }

    /// The notification as Alertmanager's webhook JSON (version 4), with the encoder's
    /// trailing newline.
    pub fn to_webhook_json(&self) -> String {
        crate::json::webhook(self)
    }
}

impl Alert {
    /// The value of label `name`, if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        find(&self.labels, name)
    }

    /// The value of annotation `name`, if set.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        find(&self.annotations, name)
    }
}

/// `s` cut to at most `n` characters, the last one an ellipsis when cut (Alertmanager's
/// `notify.TruncateInRunes`, for titles and summaries that services limit).
pub fn truncate_runes(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    if n <= 3 {
        return s.chars().take(n).collect();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

/// `s` cut to at most `n` bytes on a character boundary, ending in an ellipsis when cut
/// (Alertmanager's `notify.TruncateInBytes`).
pub fn truncate_bytes(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    if n <= 3 {
        return if n == 3 { "…".into() } else { ".".repeat(n) };
    }
    let mut end = n - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_alertmanagers() {
        assert_eq!(truncate_runes("abcdef", 6), "abcdef");
        assert_eq!(truncate_runes("abcdef", 4), "abc…");
        assert_eq!(truncate_runes("abcdef", 2), "ab");
        assert_eq!(truncate_bytes("abcdef", 5), "ab…");
        assert_eq!(truncate_bytes("ééé", 5), "é…");
        assert_eq!(truncate_bytes("abcdef", 2), "..");
    }

    #[test]
    fn errors_keep_their_kind_under_context() {
        let e = NotifyError::retryable("boom").context("channel \"x\"");
        assert!(e.is_retryable());
        assert_eq!(e.message(), "channel \"x\": boom");
        assert!(!NotifyError::permanent("no").is_retryable());
    }
}
