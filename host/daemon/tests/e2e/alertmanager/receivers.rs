//! The Slack, PagerDuty, Discord, Opsgenie, VictorOps, Webex and Telegram receiver plugins
//! send what Alertmanager 0.25's notifiers send: the same alerts, on the same config, to Alertmanager and to Sightline, each pointing its
//! receivers at its own sinks; the request bodies must be byte for byte the same but for the
//! server's own external URL (in Slack's title link and PagerDuty's `client_url`), and the
//! `User-Agent` and `Content-Type` headers the same.
//!
//! PagerDuty Events v1 (`service_key`) is not compared: Alertmanager 0.25 posts it to
//! PagerDuty's fixed URL whatever `url` says.

use std::time::Duration;

use serde_json::json;

use crate::am_support::*;
use crate::support::*;

const CONFIG: &str = "route:\n  receiver: slack\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n    - matchers: [severity=page]\n      receiver: pd\n    - matchers: [team=chat]\n      receiver: discord\n    - matchers: [team=ops]\n      receiver: og\n    - matchers: [team=vo]\n      receiver: vo\n    - matchers: [team=wx]\n      receiver: wx\n    - matchers: [team=tg]\n      receiver: tg\n\
receivers:\n  - name: slack\n    slack_configs:\n      - api_url: '@sink:slack@'\n        channel: '#alerts <ops> & co'\n        send_resolved: true\n        fields:\n          - title: Instance\n            value: '{{ .CommonLabels.instance }}'\n        actions:\n          - type: button\n            text: Runbook\n            url: 'http://runbooks/{{ .GroupLabels.alertname }}'\n  - name: pd\n    pagerduty_configs:\n      - routing_key: 'the-routing-key'\n        url: '@sink:pd@'\n        severity: critical\n        links:\n          - href: 'http://dash/{{ .GroupLabels.alertname }}'\n            text: dashboard\n  - name: discord\n    discord_configs:\n      - webhook_url: '@sink:discord@'\n  - name: og\n    opsgenie_configs:\n      - api_key: 'the-genie-key'\n        api_url: '@sink:og@/'\n        priority: P1\n        tags: 'db, {{ .GroupLabels.alertname }},'\n        update_alerts: true\n        details:\n          runbook: 'http://runbooks/{{ .GroupLabels.alertname }}'\n        responders:\n          - name: 'dba,oncall'\n            type: teams\n          - username: bob\n            type: user\n  - name: vo\n    victorops_configs:\n      - api_key: 'vo-key'\n        api_url: '@sink:vo@/'\n        routing_key: 'db-{{ .GroupLabels.alertname }}'\n        custom_fields:\n          runbook: 'http://runbooks/{{ .GroupLabels.alertname }}'\n  - name: wx\n    webex_configs:\n      - api_url: '@sink:wx@'\n        room_id: 'room-1'\n        http_config:\n          authorization:\n            credentials: 'webex-token'\n  - name: tg\n    telegram_configs:\n      - api_url: '@sink:tg@'\n        bot_token: 'the-bot-token'\n        chat_id: -1001\n";

/// `body` with every `http://host:port` (the servers' external URLs; the alerts' generator
/// URL has no port) replaced by `<external>`.
fn without_external_url(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).to_string();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("http://") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':'))
            .unwrap_or(after.len());
        let authority = &after[..end];
        if authority.contains(':') {
            out.push_str("<external>");
        } else {
            out.push_str(&rest[i..i + 7 + end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[test]
fn receiver_requests_are_alertmanagers() {
    let work = tempfile::tempdir().unwrap();
    let targets = Target::enabled("receiver_requests_are_alertmanagers");
    let runs: Vec<(Target, Sinks, Am)> = targets
        .iter()
        .map(|t| {
            let sinks = Sinks::new(&["slack", "pd", "discord", "og", "vo", "wx", "tg"]);
            let am = Am::start(*t, &sinks.render(CONFIG), work.path());
            (*t, sinks, am)
        })
        .collect();
    let alerts = json!([
        {"labels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
         "annotations": {"summary": "Disk < 10% free", "description": "<b>root</b> & more"},
         "generatorURL": "http://prometheus/graph?g0.expr=disk"},
        {"labels": {"alertname": "HighLoad", "severity": "warning", "instance": "web-1"},
         "annotations": {"summary": "load > 4"},
         "generatorURL": "http://prometheus/graph?g0.expr=load"},
        {"labels": {"alertname": "QueueStuck", "team": "chat", "instance": "mq-1"},
         "annotations": {"summary": "queue \"jobs\" stuck"},
         "generatorURL": "http://prometheus/graph?g0.expr=queue"},
        {"labels": {"alertname": "ReplicaLag", "team": "ops", "instance": "db-2"},
         "annotations": {"summary": "lag > 30s", "description": "replica <db-2> behind"},
         "generatorURL": "http://prometheus/graph?g0.expr=lag"},
        {"labels": {"alertname": "BackupLate", "team": "vo", "instance": "db-3"},
         "annotations": {"summary": "backup 2h late"},
         "generatorURL": "http://prometheus/graph?g0.expr=backup"},
        {"labels": {"alertname": "CertExpiry", "team": "wx", "instance": "lb-1"},
         "annotations": {"summary": "cert expires in 3d", "description": "renew *now*"},
         "generatorURL": "http://prometheus/graph?g0.expr=cert"},
        {"labels": {"alertname": "BotSilent", "team": "tg", "instance": "bot-1"},
         "annotations": {"summary": "no <b>updates</b> & no replies"},
         "generatorURL": "http://prometheus/graph?g0.expr=bot"},
    ]);
    for (_, _, am) in &runs {
        am.post_alerts(&alerts);
    }
    for (t, sinks, _) in &runs {
        eventually(20, "the first request of every receiver", || {
            (sinks.0["slack"].received().len() == 1
                && sinks.0["pd"].received().len() == 1
                && sinks.0["discord"].received().len() == 1
                && sinks.0["og"].received().len() == 3
                && sinks.0["tg"].received().len() == 1)
                .then_some(())
        });
        let _ = t;
    }
    // Resolve both: resolved notifications go to both receivers (`send_resolved` is on).
    let resolved = json!([
        {"labels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
         "annotations": {"summary": "Disk < 10% free", "description": "<b>root</b> & more"},
         "generatorURL": "http://prometheus/graph?g0.expr=disk",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "HighLoad", "severity": "warning", "instance": "web-1"},
         "annotations": {"summary": "load > 4"},
         "generatorURL": "http://prometheus/graph?g0.expr=load",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "QueueStuck", "team": "chat", "instance": "mq-1"},
         "annotations": {"summary": "queue \"jobs\" stuck"},
         "generatorURL": "http://prometheus/graph?g0.expr=queue",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "ReplicaLag", "team": "ops", "instance": "db-2"},
         "annotations": {"summary": "lag > 30s", "description": "replica <db-2> behind"},
         "generatorURL": "http://prometheus/graph?g0.expr=lag",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "BackupLate", "team": "vo", "instance": "db-3"},
         "annotations": {"summary": "backup 2h late"},
         "generatorURL": "http://prometheus/graph?g0.expr=backup",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "CertExpiry", "team": "wx", "instance": "lb-1"},
         "annotations": {"summary": "cert expires in 3d", "description": "renew *now*"},
         "generatorURL": "http://prometheus/graph?g0.expr=cert",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
        {"labels": {"alertname": "BotSilent", "team": "tg", "instance": "bot-1"},
         "annotations": {"summary": "no <b>updates</b> & no replies"},
         "generatorURL": "http://prometheus/graph?g0.expr=bot",
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:00:01Z"},
    ]);
    for (_, _, am) in &runs {
        am.post_alerts(&resolved);
    }
    for (_, sinks, _) in &runs {
        eventually(20, "the resolved notifications", || {
            (sinks.0["slack"].received().len() == 2
                && sinks.0["pd"].received().len() == 2
                && sinks.0["discord"].received().len() == 2
                && sinks.0["og"].received().len() == 4
                && sinks.0["vo"].received().len() == 2
                && sinks.0["wx"].received().len() == 2
                && sinks.0["tg"].received().len() == 2)
                .then_some(())
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let got = |t: Target, r: &str| -> Vec<Received> {
        runs.iter()
            .find(|(x, _, _)| *x == t)
            .map(|(_, s, _)| s.0[r].received())
            .unwrap()
    };
    let (mut compared, mut bytes) = (0, 0);
    for receiver in ["slack", "pd", "discord", "og", "vo", "wx", "tg"] {
        let theirs = got(Target::RealAm, receiver);
        let ours = got(Target::Sightline, receiver);
        assert_eq!(ours.len(), theirs.len(), "{receiver}: number of requests");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(
                without_external_url(&o.raw),
                without_external_url(&t.raw),
                "{receiver} request {i}: Sightline (left) and Alertmanager 0.25 (right) differ"
            );
            assert_eq!(o.path, t.path, "{receiver} request {i}: path");
            for h in ["user-agent", "content-type", "authorization"] {
                assert_eq!(header(o, h), header(t, h), "{receiver} request {i}: {h}");
            }
            compared += 1;
            bytes += o.raw.len();
            if i == 0 {
                println!("{receiver}: {}", without_external_url(&o.raw).trim_end());
            }
        }
    }
    assert_eq!(compared, 16);
    println!(
        "receivers: {compared}/16 requests ({bytes} bytes) byte-identical to Alertmanager 0.25's (Slack 2, PagerDuty v2 2, Discord 2, Opsgenie 4, VictorOps 2, Webex 2, Telegram 2)"
    );
}

/// PagerDuty Events v1 (`service_key`, the seed's form), which Alertmanager 0.25 cannot be
/// pointed at a sink for (it posts v1 events to PagerDuty's fixed URL): Sightline's requests
/// against golden bodies derived from 0.25's `notify/pagerduty/pagerduty.go` (see
/// `tests/alertmanager/README.md`).
#[test]
fn pagerduty_v1_is_alertmanagers_from_its_source() {
    let work = tempfile::tempdir().unwrap();
    let sinks = Sinks::new(&["pd"]);
    let config = "route:\n  receiver: pd\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: pd\n    pagerduty_configs:\n      - service_key: 'the-service-key'\n        url: '@sink:pd@'\n";
    let am = Am::start(Target::Sightline, &sinks.render(config), work.path());
    let alert = |ends: Option<&str>| {
        let mut a = json!({"labels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
             "annotations": {"summary": "Disk < 10% free"},
             "generatorURL": "http://prometheus/graph?g0.expr=disk"});
        if let Some(e) = ends {
            a["startsAt"] = json!("2026-01-01T00:00:00Z");
            a["endsAt"] = json!(e);
        }
        json!([a])
    };
    am.post_alerts(&alert(None));
    eventually(20, "the trigger", || {
        (sinks.0["pd"].received().len() == 1).then_some(())
    });
    am.post_alerts(&alert(Some("2026-01-01T00:00:01Z")));
    eventually(20, "the resolve", || {
        (sinks.0["pd"].received().len() == 2).then_some(())
    });
    let got: Vec<String> = sinks.0["pd"]
        .received()
        .iter()
        .map(|r| without_external_url(&r.raw))
        .collect();
    let golden = std::fs::read_to_string(vendored("alertmanager/pagerduty-v1.golden")).unwrap();
    let want: Vec<&str> = golden.split_inclusive('\n').collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            g, w,
            "Sightline (left) and the golden v1 event (right) differ"
        );
    }
}

/// Microsoft Teams, which Alertmanager 0.25 has no notifier for: Sightline's MessageCards
/// against golden bodies derived from 0.26's `notify/msteams/msteams.go` (see
/// `tests/alertmanager/README.md`).
#[test]
fn msteams_is_alertmanager_026s_from_its_source() {
    let work = tempfile::tempdir().unwrap();
    let sinks = Sinks::new(&["teams"]);
    let config = "route:\n  receiver: teams\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: teams\n    msteams_configs:\n      - webhook_url: '@sink:teams@'\n";
    let am = Am::start(Target::Sightline, &sinks.render(config), work.path());
    let alert = |ends: Option<&str>| {
        let mut a = json!({"labels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
             "annotations": {"summary": "Disk < 10% free"},
             "generatorURL": "http://prometheus/graph?g0.expr=disk"});
        if let Some(e) = ends {
            a["startsAt"] = json!("2026-01-01T00:00:00Z");
            a["endsAt"] = json!(e);
        }
        json!([a])
    };
    am.post_alerts(&alert(None));
    eventually(20, "the firing card", || {
        (sinks.0["teams"].received().len() == 1).then_some(())
    });
    am.post_alerts(&alert(Some("2026-01-01T00:00:01Z")));
    eventually(20, "the resolved card", || {
        (sinks.0["teams"].received().len() == 2).then_some(())
    });
    let received = sinks.0["teams"].received();
    let golden = std::fs::read_to_string(vendored("alertmanager/msteams.golden")).unwrap();
    let want: Vec<&str> = golden.split_inclusive('\n').collect();
    assert_eq!(received.len(), want.len());
    for (r, w) in received.iter().zip(&want) {
        assert_eq!(
            String::from_utf8_lossy(&r.raw),
            *w,
            "Sightline (left) and the golden MessageCard (right) differ"
        );
        assert_eq!(header(r, "content-type"), "application/json");
    }
}
