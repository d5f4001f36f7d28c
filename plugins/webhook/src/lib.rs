//! The `webhook` receiver: POSTs Alertmanager's webhook JSON (version 4) to the `url` of an
//! alertmanager.yml `webhook_configs` entry, as Alertmanager 0.25's `notify/webhook` does
//! (nothing in it is a template).
//!
//! Settings: `url` (the host reads `url_file`), `max_alerts` (alerts beyond it are left out
//! and counted in `truncatedAlerts`; the host normally applies it before the call, and the
//! plugin applies it again only if it did not). Authentication comes from the entry's
//! `http_config`, which the host applies.

use sightline_sdk::http::{self, Retrier, ALERTMANAGER_USER_AGENT};
use sightline_sdk::{log, AlertStatus, Label, Notification, NotifyError, Receiver, Settings};

struct Webhook;

/// The labels every alert has with the same value (Alertmanager's common labels).
fn common(sets: &[&[Label]]) -> Vec<Label> {
    let Some((first, rest)) = sets.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter(|l| rest.iter().all(|s| s.contains(l)))
        .cloned()
        .collect()
}

/// `n` with at most `max` alerts (0: no limit), its group data recomputed over the alerts
/// kept, as Alertmanager truncates before building the template data.
pub fn truncate(mut n: Notification, max: i64) -> Notification {
    let Ok(max) = usize::try_from(max) else {
        return n;
    };
    if max == 0 || n.alerts.len() <= max {
        return n;
    }
    n.truncated_alerts += (n.alerts.len() - max) as u32;
    n.alerts.truncate(max);
    let labels: Vec<&[Label]> = n.alerts.iter().map(|a| a.labels.as_slice()).collect();
    n.common_labels = common(&labels);
    let annotations: Vec<&[Label]> = n.alerts.iter().map(|a| a.annotations.as_slice()).collect();
    n.common_annotations = common(&annotations);
    n.status = if n.alerts.iter().any(|a| a.status == AlertStatus::Firing) {
        AlertStatus::Firing
    } else {
        AlertStatus::Resolved
    };
    n
}

impl Receiver for Webhook {
    fn notify(n: &Notification, s: &Settings) -> Result<(), NotifyError> {
        let url = s.require_text("url")?;
        let n = truncate(n.clone(), s.int("max_alerts")?);
        let body = n.to_webhook_json();
        let resp = http::post_json(&url, &body, &[("User-Agent", ALERTMANAGER_USER_AGENT)])?;
        Retrier::ALERTMANAGER.check(resp)?;
        log::debug(&format!("notified ({} alerts)", n.alerts.len()));
        Ok(())
    }
}

sightline_sdk::export_receiver!(Webhook);

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_sdk::Alert;

    fn alert(status: AlertStatus, labels: &[(&str, &str)]) -> Alert {
        Alert {
            status,
            labels: labels.iter().map(|(k, v)| Label::new(*k, *v)).collect(),
            annotations: vec![],
            starts_at_ns: 0,
            ends_at_ns: None,
            generator_url: String::new(),
            fingerprint: String::new(),
        }
    }

    #[test]
    fn max_alerts_truncates_before_the_group_data() {
        let n = Notification {
            receiver: "r".into(),
            status: AlertStatus::Firing,
            group_key: "k".into(),
            group_labels: vec![],
            common_labels: vec![Label::new("a", "1")],
            common_annotations: vec![],
            external_url: String::new(),
            alerts: vec![
                alert(AlertStatus::Resolved, &[("a", "1"), ("b", "2")]),
                alert(AlertStatus::Firing, &[("a", "1"), ("b", "3")]),
            ],
            truncated_alerts: 0,
        };
        let t = truncate(n.clone(), 1);
        assert_eq!(t.alerts.len(), 1);
        assert_eq!(t.truncated_alerts, 1);
        assert_eq!(t.status, AlertStatus::Resolved);
        assert_eq!(t.common_labels.len(), 2);
        assert_eq!(truncate(n.clone(), 0), n);
        assert_eq!(truncate(n.clone(), 5), n);
    }

    /// What the real Alertmanager 0.25 sent (recorded against a local sink) for two alerts of
    /// one group and `max_alerts: 1`: the common labels are those of the alert kept.
    #[test]
    fn payload_is_alertmanager_025s() {
        let mut a = alert(
            AlertStatus::Firing,
            &[("alertname", "Disk"), ("instance", "a"), ("job", "node")],
        );
        a.annotations = vec![Label::new("summary", "<x> & y")];
        a.starts_at_ns = 1_767_225_600_123_456_789;
        a.generator_url = "http://prometheus/graph?g0.expr=a".into();
        a.fingerprint = "6d6bf26352ad2d0e".into();
        let mut b = alert(
            AlertStatus::Firing,
            &[("alertname", "Disk"), ("instance", "b"), ("job", "node")],
        );
        b.annotations = vec![Label::new("summary", "other")];
        let n = Notification {
            receiver: "hook".into(),
            status: AlertStatus::Firing,
            group_key: "{}:{alertname=\"Disk\"}".into(),
            group_labels: vec![Label::new("alertname", "Disk")],
            common_labels: vec![Label::new("alertname", "Disk"), Label::new("job", "node")],
            common_annotations: vec![],
            external_url: "http://vm:18972".into(),
            alerts: vec![a, b],
            truncated_alerts: 0,
        };
        let want = "{\"receiver\":\"hook\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Disk\",\"instance\":\"a\",\"job\":\"node\"},\"annotations\":{\"summary\":\"\\u003cx\\u003e \\u0026 y\"},\"startsAt\":\"2026-01-01T00:00:00.123456789Z\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prometheus/graph?g0.expr=a\",\"fingerprint\":\"6d6bf26352ad2d0e\"}],\"groupLabels\":{\"alertname\":\"Disk\"},\"commonLabels\":{\"alertname\":\"Disk\",\"instance\":\"a\",\"job\":\"node\"},\"commonAnnotations\":{\"summary\":\"\\u003cx\\u003e \\u0026 y\"},\"externalURL\":\"http://vm:18972\",\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"Disk\\\"}\",\"truncatedAlerts\":1}\n";
        assert_eq!(truncate(n, 1).to_webhook_json(), want);
    }
}
