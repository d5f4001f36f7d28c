//! Delivery isolation (issue 16: "a receiver that hangs or fails never delays other groups"),
//! and Prometheus 2.42 as the sender ("Prometheus servers can send to it").

use std::time::Duration;

use serde_json::json;

use super::{alert, TICK_MS};
use crate::am_support::*;
use crate::support::*;

/// Two receivers; `slow`'s webhook holds every request 15 s. `fast`'s group is notified on
/// time all the same: at group_wait, and again on the tick after more alerts join it.
const TWO: &str = "route:\n  receiver: fast\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n    - matchers: [team=slow]\n      receiver: slow\n\
receivers:\n  - name: fast\n    webhook_configs:\n      - url: '@sink:fast@'\n  - name: slow\n    webhook_configs:\n      - url: '@sink:slow@'\n";

#[test]
fn hanging_receiver_delays_no_other_group() {
    for target in Target::enabled("hanging_receiver_delays_no_other_group") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::with_slow(&["fast", "slow"], "slow", Duration::from_secs(15));
        let am = Am::start(target, &sinks.render(TWO), work.path());
        let alerts = [
            alert(&[("alertname", "Stuck"), ("team", "slow")], &[]),
            alert(&[("alertname", "Flowing"), ("instance", "a")], &[]),
            alert(&[("alertname", "Flowing"), ("instance", "b")], &[]),
        ];
        let steps = [
            Step {
                at_ms: 0,
                fire: vec![0, 1],
                resolve: vec![],
            },
            Step {
                at_ms: 4_000,
                fire: vec![2],
                resolve: vec![],
            },
        ];
        let (t0, _) = run_scenario(&[&am], &alerts, &steps, 8_000);
        let got = sinks.notifications(t0, TICK_MS);
        // The slow receiver got its request (and is still holding it).
        assert_eq!(got["slow"].len(), 1, "{target:?}: {:?}", got["slow"]);
        let fast: Vec<(u64, usize)> = got["fast"]
            .iter()
            .map(|(t, n)| (*t, n["alerts"].as_array().unwrap().len()))
            .collect();
        assert_eq!(fast.len(), 2, "{target:?}: {fast:?}");
        assert!(
            fast[0].0 <= 1_000 + TICK_MS && fast[0].1 == 1,
            "{target:?}: first notification late: {fast:?}"
        );
        assert!(
            (4_000..=5_000 + TICK_MS).contains(&fast[1].0) && fast[1].1 == 2,
            "{target:?}: second notification late: {fast:?}"
        );
    }
}

/// A receiver that fails twice (HTTP 500) is retried until it accepts: three requests, one
/// notification, the same payload each time, and the counters say so — requests 3, failed
/// requests 2, notifications 1, failed notifications 0 — as Alertmanager 0.25 counts them.
#[test]
fn failing_receiver_is_retried_and_counted() {
    for target in Target::enabled("failing_receiver_is_retried_and_counted") {
        let work = tempfile::tempdir().unwrap();
        let mut sinks = Sinks::new(&["fast", "slow"]);
        sinks
            .0
            .insert("fast".to_string(), Sink::start_with(Duration::ZERO, 2));
        let am = Am::start(target, &sinks.render(TWO), work.path());
        am.post_alerts(&json!([{"labels": {"alertname": "Retried"}}]));
        let got = eventually(20, "three delivery attempts", || {
            let r = sinks.0["fast"].received();
            (r.len() >= 3).then_some(r)
        });
        // A moment for a (wrong) fourth attempt to show.
        std::thread::sleep(Duration::from_secs(3));
        let got_now = sinks.0["fast"].received();
        assert_eq!(got_now.len(), 3, "{target:?}: {} attempts", got_now.len());
        let bodies: Vec<_> = got.iter().map(|r| normalise(&r.body)).collect();
        assert!(
            bodies.iter().all(|b| *b == bodies[0]),
            "{target:?}: {bodies:?}"
        );
        let hook = [("integration", "webhook")];
        let counts = [
            metric(&am, "notification_requests_total", &hook),
            metric(&am, "notification_requests_failed_total", &hook),
            metric(&am, "notifications_total", &hook),
            metric(&am, "notifications_failed_total", &hook),
        ];
        assert_eq!(
            counts,
            [3.0, 2.0, 1.0, 0.0],
            "{target:?}: requests, failed requests, notifications, failed notifications"
        );
    }
}

/// Prometheus 2.42 (Debian's) posts to the target as to an Alertmanager (API v2, its own
/// client): one Prometheus sends the same alert to every target; each has it in
/// `/api/v2/alerts` and notifies it, with the same payload as the real Alertmanager.
#[test]
fn prometheus_sends_to_target() {
    need("prometheus");
    // A second real Alertmanager proves the comparison: two of them must already agree.
    let mut targets = vec![Target::RealAm];
    targets.extend(Target::enabled("prometheus_sends_to_target"));
    let work = tempfile::tempdir().unwrap();
    let running: Vec<(Am, Sinks)> = targets
        .iter()
        .map(|t| {
            let sinks = Sinks::new(&["hook", "pager"]);
            (
                Am::start(*t, &sinks.render(super::SIMPLE), work.path()),
                sinks,
            )
        })
        .collect();
    // `for: 8s`: Prometheus learns its Alertmanagers only after its discovery manager's
    // first 5 s batch; an alert firing before that is "sent" to none and not re-sent for a
    // minute (its resend delay).
    let rules = work.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        for: 8s\n        labels:\n          severity: page\n        annotations:\n          summary: 'value {{ $value }}'\n",
    )
    .unwrap();
    let ams: Vec<String> = running
        .iter()
        .map(|(a, _)| format!("'{}'", a.addr))
        .collect();
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  evaluation_interval: 1s\n  external_labels:\n    monitor: side-by-side\n\
rule_files: ['{}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\nscrape_configs: []\n",
            rules.display(),
            ams.join(", ")
        ),
    )
    .unwrap();
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let _prom = Peer(
        std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.path().join("prom-data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let mut payloads = Vec::new();
    for (am, sinks) in &running {
        let got = eventually(30, "the alert from Prometheus notified", || {
            sinks.0["pager"].received().first().cloned()
        });
        let alerts = am.get("/api/v2/alerts");
        let a = alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["alertname"] == "AlwaysFiring")
            .unwrap_or_else(|| panic!("{:?}: {alerts}", am.target))
            .clone();
        assert_eq!(
            a["labels"],
            json!({"alertname": "AlwaysFiring", "monitor": "side-by-side", "severity": "page"}),
            "{:?}",
            am.target
        );
        assert_eq!(a["annotations"]["summary"], "value 1");
        assert_eq!(a["receivers"], json!([{"name": "pager"}]));
        let n = normalise(&got.body);
        assert_eq!(n["status"], "firing");
        payloads.push((am.target, n, normalise_json(&a)));
    }
    for (who, n, a) in &payloads[1..] {
        assert_eq!(
            n, &payloads[0].1,
            "{who:?}'s notification (left) vs Alertmanager's"
        );
        assert_eq!(
            a, &payloads[0].2,
            "{who:?}'s /api/v2/alerts entry (left) vs Alertmanager's"
        );
    }
}
