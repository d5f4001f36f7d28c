//! The email receiver plugin sends what Alertmanager 0.25's email notifier sends: the same
//! alerts, on the same `email_configs`, to Alertmanager and to Sightline, each pointing its
//! smarthost at its own loopback SMTP sink (plain SMTP, `require_tls: false`). The envelope
//! (EHLO name, MAIL FROM, RCPT TO) must be the same; the message the same but for `Date`,
//! `Message-Id` and the multipart boundary (random), the servers' own external URLs, and the
//! order of the headers (Alertmanager ranges over a Go map; they are compared as a set).
//! The text part and every header compare exactly, the default HTML part too (with the
//! external URL normalised, quoted-printable soft line breaks joined since that URL's length
//! differs between the two servers).

use std::time::Duration;

use serde_json::json;

use crate::am_support::*;
use crate::smtp_sink::{Mail, SmtpSink};
use crate::support::*;

fn config(smarthost: &str) -> String {
    format!(
        "route:\n  receiver: mail\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
receivers:\n  - name: mail\n    email_configs:\n      - to: 'Ops Team <ops@example.org>, dev@example.org'\n        from: 'Alert Manager <am@example.org>'\n        smarthost: '{smarthost}'\n        require_tls: false\n        send_resolved: true\n        headers:\n          subject: 'Störung: {{{{ .GroupLabels.alertname }}}} ist {{{{ .Status }}}}'\n          x-alert-COUNT: '{{{{ len .Alerts }}}}'\n        text: '{{{{ range .Alerts }}}}{{{{ .Labels.alertname }}}} on {{{{ .Labels.instance }}}}: {{{{ .Annotations.summary }}}} ({{{{ .GeneratorURL }}}}){{{{ end }}}}'\n"
    )
}

/// The message with `Date`, `Message-Id` and the boundary normalised, soft line breaks
/// joined and the external URLs (`http://host:port`) replaced: (sorted headers, body).
fn normalise(data: &str) -> (Vec<String>, String) {
    let (head, body) = data.split_once("\r\n\r\n").expect("headers and body");
    let boundary = head
        .split("boundary=")
        .nth(1)
        .and_then(|b| b.split("\r\n").next())
        .expect("a multipart boundary")
        .to_string();
    assert_eq!(boundary.len(), 60, "Go's boundary is 60 hex digits");
    let mut headers: Vec<String> = head
        .split("\r\n")
        .map(|h| {
            if h.starts_with("Date: ") {
                "Date: <date>".to_string()
            } else if h.starts_with("Message-Id: ") {
                assert!(h.starts_with("Message-Id: <") && h.ends_with('>'), "{h}");
                "Message-Id: <id>".to_string()
            } else {
                h.replace(&boundary, "<boundary>")
            }
        })
        .collect();
    headers.sort();
    let body = body.replace(&boundary, "<boundary>").replace("=\r\n", "");
    (headers, without_local_urls(&body))
}

/// `s` with every `http://host:port` (the servers' external URLs; the alerts' generator URL
/// has no port) replaced by `<external>`.
fn without_local_urls(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("http://") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':'))
            .unwrap_or(after.len());
        if after[..end].contains(':') {
            out.push_str("<external>");
        } else {
            out.push_str(&rest[i..i + 7 + end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn email_is_alertmanagers() {
    let work = tempfile::tempdir().unwrap();
    let targets = Target::enabled("email_is_alertmanagers");
    let runs: Vec<(Target, SmtpSink, Am)> = targets
        .iter()
        .map(|t| {
            let sink = SmtpSink::start();
            let am = Am::start(*t, &config(&sink.addr), work.path());
            (*t, sink, am)
        })
        .collect();
    let alert = |resolved: bool| {
        let mut a = json!({"labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "page"},
            "annotations": {"summary": "Disk < 10% free", "description": "<b>root</b> & more + 'quotes'"},
            "generatorURL": "http://prometheus/graph?g0.expr=rate(x[5m])+%3E+1&g0.tab=1"});
        if resolved {
            a["startsAt"] = json!("2026-01-01T00:00:00Z");
            a["endsAt"] = json!("2026-01-01T00:00:01Z");
        }
        json!([a])
    };
    for (_, _, am) in &runs {
        am.post_alerts(&alert(false));
    }
    for (_, sink, _) in &runs {
        eventually(20, "the firing mail", || {
            (sink.mails().len() == 1).then_some(())
        });
    }
    for (_, _, am) in &runs {
        am.post_alerts(&alert(true));
    }
    for (_, sink, _) in &runs {
        eventually(20, "the resolved mail", || {
            (sink.mails().len() == 2).then_some(())
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let mails = |t: Target| -> Vec<Mail> {
        runs.iter()
            .find(|(x, _, _)| *x == t)
            .map(|(_, s, _)| s.mails())
            .unwrap()
    };
    let (theirs, ours) = (mails(Target::RealAm), mails(Target::Sightline));
    assert_eq!(ours.len(), theirs.len(), "number of mails");
    let mut bytes = 0;
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            (&o.hello, &o.from, &o.to),
            (&t.hello, &t.from, &t.to),
            "mail {i}: envelope"
        );
        let (oh, ob) = normalise(&o.data);
        let (th, tb) = normalise(&t.data);
        assert_eq!(
            oh, th,
            "mail {i}: headers (Sightline left, Alertmanager 0.25 right)"
        );
        let parts =
            |b: &str| -> Vec<String> { b.split("--<boundary>").map(str::to_string).collect() };
        let (op, tp) = (parts(&ob), parts(&tb));
        assert_eq!(op.len(), 4, "mail {i}: preamble, text, html, end: {ob}");
        assert_eq!(op[1], tp[1], "mail {i}: the text part");
        if op[2] != tp[2] {
            for (n, (a, b)) in op[2].lines().zip(tp[2].lines()).enumerate() {
                if a != b {
                    println!("html line {n}:\n  sightline: {a}\n  am 0.25:   {b}");
                }
            }
        }
        assert_eq!(op[2], tp[2], "mail {i}: the html part");
        assert_eq!(op, tp, "mail {i}: the body");
        bytes += o.data.len();
        if i == 0 {
            println!("email envelope: {} {} {:?}", o.hello, o.from, o.to);
            println!("email headers: {oh:?}");
            println!("email text part: {}", op[1].trim_end());
        }
    }
    println!(
        "email: {}/2 mails ({bytes} bytes) identical to Alertmanager 0.25's but for Date, Message-Id, the boundary, the external URL and header order",
        ours.len()
    );
}
