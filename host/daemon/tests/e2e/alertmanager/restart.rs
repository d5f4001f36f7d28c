//! State across restarts (issue 16: "silences created over the API survive a restart and still
//! mute; expired silences stop muting; a restart in the middle of a group does not send a
//! duplicate"), across a crash, and across a config reload.

use std::time::Duration;

use serde_json::{json, Value};

use super::SIMPLE;
use crate::am_support::*;
use crate::support::*;

/// Creates a silence over the API v2, returning its id.
fn post_silence(am: &Am, alertname: &str) -> String {
    let now = chrono::Utc::now();
    let body = json!({
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": false, "isEqual": true}],
        "startsAt": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "createdBy": "test",
        "comment": "survives restarts",
    })
    .to_string();
    let (code, text) = http_request(
        &am.addr,
        "POST",
        "/api/v2/silences",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["silenceID"].as_str().unwrap().to_string()
}

/// The API v2 state of the alert named `alertname`, once the target has it (≤ 10 s).
fn alert_state(am: &Am, alertname: &str) -> Value {
    eventually(10, &format!("{alertname} in /api/v2/alerts"), || {
        am.get("/api/v2/alerts")
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == alertname)
            .map(|a| a["status"].clone())
    })
}

fn firing(alertname: &str, instance: &str) -> Value {
    json!([{"labels": {"alertname": alertname, "instance": instance}}])
}

/// Notifications the sink `name` received so far.
fn count(sinks: &Sinks, name: &str) -> usize {
    sinks.0[name].received().len()
}

/// A silence created over the API survives a restart and still mutes; expired, it no longer
/// does (the alert is then delivered). Against the real Alertmanager too, which snapshots
/// silences on shutdown; Alertmanager keeps alerts only in memory, so the alert is posted
/// after the restart, as Prometheus re-sends it.
#[test]
fn silences_survive_restart() {
    for target in Target::enabled("silences_survive_restart") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let mut am = Am::start(target, &sinks.render(SIMPLE), work.path());
        let id = post_silence(&am, "Quiet");
        am.restart();
        let silences = am.get("/api/v2/silences");
        let s = silences
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{target:?}: silence {id} lost by the restart: {silences}"));
        assert_eq!(s["status"]["state"], "active");
        am.post_alerts(&firing("Quiet", "one"));
        let st = eventually(10, "the alert marked silenced", || {
            let st = alert_state(&am, "Quiet");
            (st["state"] == "suppressed").then_some(st)
        });
        assert_eq!(st["silencedBy"], json!([id]), "{target:?}");
        // Past group_wait and a group_interval: nothing delivered.
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(
            count(&sinks, "hook"),
            0,
            "{target:?}: a silenced alert was sent"
        );

        let (code, text) = http_request(
            &am.addr,
            "DELETE",
            &format!("/api/v2/silence/{id}"),
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(code, 200, "{target:?}: {text}");
        am.restart();
        let silences = am.get("/api/v2/silences");
        let s = silences
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{target:?}: expired silence {id} gone: {silences}"));
        assert_eq!(s["status"]["state"], "expired");
        am.post_alerts(&firing("Quiet", "one"));
        let st = eventually(10, "the alert active again", || {
            let st = alert_state(&am, "Quiet");
            (st["state"] == "active").then_some(st)
        });
        assert_eq!(st["silencedBy"], json!([]), "{target:?}");
        eventually(10, "the no longer silenced alert delivered", || {
            (count(&sinks, "hook") == 1).then_some(())
        });
    }
}

/// A restart between a group's first notification and its next group_interval tick sends
/// no duplicate (the notification log is durable); the group stays live: a new alert in it
/// is notified. Against the real Alertmanager too (its nflog is snapshotted on shutdown).
#[test]
fn restart_mid_group_no_duplicate() {
    for target in Target::enabled("restart_mid_group_no_duplicate") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let mut am = Am::start(target, &sinks.render(SIMPLE), work.path());
        am.post_alerts(&firing("Once", "one"));
        eventually(10, "the first notification", || {
            (count(&sinks, "hook") == 1).then_some(())
        });
        am.restart();
        // As Prometheus does, the alert is re-sent after the restart.
        am.post_alerts(&firing("Once", "one"));
        // group_wait and two group_interval ticks later: still one notification.
        std::thread::sleep(Duration::from_secs(6));
        let got = sinks.0["hook"].received();
        assert_eq!(
            got.len(),
            1,
            "{target:?}: duplicate after restart: {:?}",
            got.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        am.post_alerts(&firing("Once", "two"));
        let second = eventually(10, "a notification for the new alert", || {
            sinks.0["hook"].received().get(1).cloned()
        });
        let n = normalise(&second.body);
        assert_eq!(n["alerts"].as_array().unwrap().len(), 2, "{target:?}: {n}");
        assert_eq!(n["status"], "firing");
    }
}

/// Beyond Alertmanager: state survives a crash (SIGKILL), not only a clean shutdown — an
/// acknowledged silence still mutes and a sent notification is not sent again, as the issue's
/// "same crash-safety contract as the TSDB" asks. Alertmanager 0.25 writes its silences and
/// notification log only on shutdown and every 15 minutes, so against it the test checks the
/// opposite (the silence is gone and the alert is notified again): that is what makes the
/// check meaningful, and it documents the difference.
#[test]
fn crash_keeps_silences_and_notification_log() {
    for target in Target::enabled("crash_keeps_silences_and_notification_log") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let mut am = Am::start(target, &sinks.render(SIMPLE), work.path());
        let id = post_silence(&am, "Quiet");
        am.post_alerts(&firing("Loud", "one"));
        eventually(10, "the first notification", || {
            (count(&sinks, "hook") == 1).then_some(())
        });
        am.crash_restart();
        am.post_alerts(&json!([
            {"labels": {"alertname": "Loud", "instance": "one"}},
            {"labels": {"alertname": "Quiet", "instance": "one"}},
        ]));
        // group_wait and two group_interval ticks.
        std::thread::sleep(Duration::from_secs(6));
        let kept = am
            .get("/api/v2/silences")
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id.as_str());
        let names: Vec<String> = sinks.0["hook"]
            .received()
            .iter()
            .map(|r| r.body["groupLabels"]["alertname"].to_string())
            .collect();
        match target {
            Target::Sightline => {
                assert!(kept, "the silence was lost by a crash");
                assert_eq!(names, ["\"Loud\""], "re-paged or unsilenced after a crash");
            }
            Target::RealAm => {
                assert!(!kept, "Alertmanager 0.25 now keeps silences across SIGKILL");
                assert_eq!(
                    names.len(),
                    3,
                    "Alertmanager 0.25 re-notifies after SIGKILL: {names:?}"
                );
            }
        }
    }
}

/// A config reload (SIGHUP) keeps the notification log and the groups' state: an alert
/// already notified is not notified again, and the new routing applies to new alerts.
#[test]
fn reload_sends_no_duplicate_and_routes_anew() {
    const BEFORE: &str = "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
receivers:\n  - name: hook\n    webhook_configs:\n      - url: '@sink:hook@'\n";
    for target in Target::enabled("reload_sends_no_duplicate_and_routes_anew") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let mut am = Am::start(target, &sinks.render(BEFORE), work.path());
        am.post_alerts(&firing("Kept", "one"));
        eventually(10, "the first notification", || {
            (count(&sinks, "hook") == 1).then_some(())
        });
        am.reload(&sinks.render(SIMPLE));
        eventually(10, "the reloaded config's receivers", || {
            let r = am.get("/api/v2/receivers");
            (r.as_array()?.len() == 2).then_some(())
        });
        am.post_alerts(&json!([
            {"labels": {"alertname": "Kept", "instance": "one"}},
            {"labels": {"alertname": "Paged", "severity": "page"}},
        ]));
        eventually(10, "the new route's notification", || {
            (count(&sinks, "pager") == 1).then_some(())
        });
        // Two more group_interval ticks: still the one notification to hook.
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(
            count(&sinks, "hook"),
            1,
            "{target:?}: {:?}",
            sinks.0["hook"]
                .received()
                .iter()
                .map(|r| normalise(&r.body))
                .collect::<Vec<_>>()
        );
        let paged = normalise(&sinks.0["pager"].received()[0].body);
        assert_eq!(
            paged["groupLabels"],
            json!({"alertname": "Paged"}),
            "{target:?}"
        );
    }
}
