//! A tiny JSON writer for the webhook payload (keeps plugins free of serde).

use crate::{AlertGroup, Label};

pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn object(out: &mut String, labels: &[Label]) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, &l.name);
        out.push(':');
        string(out, &l.value);
    }
    out.push('}');
}

fn field(out: &mut String, first: &mut bool, key: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    string(out, key);
    out.push(':');
}

/// Alertmanager's webhook JSON for `g`.
pub(crate) fn webhook(g: &AlertGroup) -> String {
    let mut out = String::with_capacity(512);
    let mut first = true;
    out.push('{');
    field(&mut out, &mut first, "receiver");
    string(&mut out, &g.receiver);
    field(&mut out, &mut first, "status");
    string(&mut out, &g.status);
    field(&mut out, &mut first, "alerts");
    out.push('[');
    for (i, a) in g.alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut f = true;
        out.push('{');
        field(&mut out, &mut f, "status");
        string(&mut out, &a.status);
        field(&mut out, &mut f, "labels");
        object(&mut out, &a.labels);
        field(&mut out, &mut f, "annotations");
        object(&mut out, &a.annotations);
        field(&mut out, &mut f, "startsAt");
        string(&mut out, &a.starts_at);
        field(&mut out, &mut f, "endsAt");
        string(&mut out, &a.ends_at);
        field(&mut out, &mut f, "generatorURL");
        string(&mut out, &a.generator_url);
        field(&mut out, &mut f, "fingerprint");
        string(&mut out, &a.fingerprint);
        out.push('}');
    }
    out.push(']');
    field(&mut out, &mut first, "groupLabels");
    object(&mut out, &g.group_labels);
    field(&mut out, &mut first, "commonLabels");
    object(&mut out, &g.common_labels);
    field(&mut out, &mut first, "commonAnnotations");
    object(&mut out, &g.common_annotations);
    field(&mut out, &mut first, "externalURL");
    string(&mut out, &g.external_url);
    field(&mut out, &mut first, "version");
    string(&mut out, &g.version);
    field(&mut out, &mut first, "groupKey");
    string(&mut out, &g.group_key);
    field(&mut out, &mut first, "truncatedAlerts");
    out.push_str(&g.truncated_alerts.to_string());
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Alert;

    #[test]
    fn webhook_payload_shape() {
        let g = AlertGroup {
            version: "4".into(),
            group_key: "{}:{alertname=\"Down\"}".into(),
            truncated_alerts: 0,
            status: "firing".into(),
            receiver: "team\n1".into(),
            group_labels: vec![Label::new("alertname", "Down")],
            common_labels: vec![],
            common_annotations: vec![],
            external_url: "http://localhost:9090".into(),
            alerts: vec![Alert {
                status: "firing".into(),
                labels: vec![Label::new("alertname", "Down")],
                annotations: vec![],
                starts_at: "2026-01-01T00:00:00Z".into(),
                ends_at: "0001-01-01T00:00:00Z".into(),
                generator_url: "http://x/graph".into(),
                fingerprint: "0123456789abcdef".into(),
            }],
        };
        let want = r#"{"receiver":"team\n1","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://x/graph","fingerprint":"0123456789abcdef"}],"groupLabels":{"alertname":"Down"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://localhost:9090","version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0}"#;
        assert_eq!(webhook(&g), want);
    }
}
