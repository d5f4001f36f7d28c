//! The dispatcher and the notification pipeline driven with fake integrations and short
//! intervals: grouping, group_wait/group_interval/repeat_interval timing, send_resolved,
//! inhibition, silences, time intervals, dedup across a restart, isolation of a hanging
//! integration, retries. Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sightline_alerts::*;

#[derive(Debug, Clone)]
struct Call {
    at: Instant,
    receiver: String,
    idx: usize,
    group_key: String,
    /// (alertname, instance label or "", status)
    alerts: Vec<(String, String, String)>,
    /// The webhook payload of the notification.
    payload: String,
}

#[derive(Default)]
struct CallLog(Mutex<Vec<Call>>);

impl CallLog {
    fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }
    fn for_receiver(&self, r: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.receiver == r)
            .collect()
    }
}

enum Mode {
    Ok,
    Hang,
    FailFirst(AtomicU32),
}

struct Fake {
    idx: usize,
    send_resolved: bool,
    mode: Mode,
    log: Arc<CallLog>,
}

impl Integration for Fake {
    fn name(&self) -> &str {
        "webhook"
    }
    fn index(&self) -> usize {
        self.idx
    }
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
    fn notify(&self, n: Notification) -> BoxFuture<'static, Result<(), NotifyError>> {
        let call = Call {
            at: Instant::now(),
            receiver: n.receiver.clone(),
            idx: self.idx,
            group_key: n.group_key.clone(),
            alerts: n
                .data
                .alerts
                .iter()
                .map(|a| {
                    (
                        a.labels.get("alertname").cloned().unwrap_or_default(),
                        a.labels.get("instance").cloned().unwrap_or_default(),
                        a.status.clone(),
                    )
                })
                .collect(),
            payload: serde_json::to_string(&n.data.webhook_json(0)).unwrap(),
        };
        match &self.mode {
            Mode::Ok => {
                self.log.0.lock().unwrap().push(call);
                Box::pin(async { Ok(()) })
            }
            Mode::Hang => Box::pin(std::future::pending()),
            Mode::FailFirst(n) => {
                if n.load(Ordering::SeqCst) > 0 {
                    n.fetch_sub(1, Ordering::SeqCst);
                    Box::pin(async { Err(NotifyError::retryable("HTTP 503")) })
                } else {
                    self.log.0.lock().unwrap().push(call);
                    Box::pin(async { Ok(()) })
                }
            }
        }
    }
}

#[derive(Default)]
struct Outcomes(Mutex<Vec<NotificationOutcome>>);

impl OutcomeSink for Outcomes {
    fn record(&self, o: &NotificationOutcome) {
        self.0.lock().unwrap().push(o.clone());
    }
}

/// Mutes every alert whose `alertname` is `Muted`.
struct MuteMuted;

impl Silencer for MuteMuted {
    fn mutes(&self, labels: &LabelSet, _: i64) -> Vec<String> {
        if labels.get("alertname").map(String::as_str) == Some("Muted") {
            vec!["silence-1".to_string()]
        } else {
            Vec::new()
        }
    }
}

struct Env {
    d: Dispatcher,
    store: Arc<AlertStore>,
    marker: Arc<Marker>,
    log: Arc<CallLog>,
    outcomes: Arc<Outcomes>,
    registry: sightline_telemetry::Registry,
}

struct Setup<'a> {
    yaml: &'a str,
    /// receiver name -> (send_resolved, mode) per integration
    integrations: Vec<(&'a str, bool, Mode)>,
    silencer: Arc<dyn Silencer>,
    nflog: Option<PathBuf>,
    alerts_file: Option<PathBuf>,
    min_timeout: Duration,
    receiver_options: HashMap<String, ReceiverOptions>,
    external_url: String,
}

impl<'a> Setup<'a> {
    fn new(yaml: &'a str) -> Self {
        Setup {
            yaml,
            integrations: Vec::new(),
            silencer: Arc::new(NoSilences),
            nflog: None,
            alerts_file: None,
            min_timeout: Duration::from_millis(50),
            receiver_options: HashMap::new(),
            external_url: String::new(),
        }
    }

    fn integration(mut self, receiver: &'a str, send_resolved: bool, mode: Mode) -> Self {
        self.integrations.push((receiver, send_resolved, mode));
        self
    }

    fn start(self) -> Env {
        let config = load_str(self.yaml, "test.yml", &|_| None).unwrap();
        let registry = sightline_telemetry::Registry::new();
        let metrics = Metrics::new(&registry);
        let marker = Arc::new(Marker::new());
        let store = Arc::new(match &self.alerts_file {
            Some(p) => AlertStore::open(
                p.clone(),
                config.global.resolve_timeout,
                marker.clone(),
                metrics.clone(),
            )
            .unwrap(),
            None => AlertStore::new(
                config.global.resolve_timeout,
                marker.clone(),
                metrics.clone(),
            ),
        });
        let nflog = Arc::new(
            NotificationLog::open(self.nflog, Duration::from_secs(3600), metrics.clone()).unwrap(),
        );
        let log = Arc::new(CallLog::default());
        let mut integrations: Integrations = HashMap::new();
        for (r, sr, mode) in self.integrations {
            let list = integrations.entry(r.to_string()).or_default();
            list.push(Arc::new(Fake {
                idx: list.len(),
                send_resolved: sr,
                mode,
                log: log.clone(),
            }));
        }
        let outcomes = Arc::new(Outcomes::default());
        let d = Dispatcher::new(
            &config,
            integrations,
            DispatcherDeps {
                store: store.clone(),
                marker: marker.clone(),
                silencer: self.silencer,
                nflog,
                sink: outcomes.clone(),
                clock: Arc::new(SystemClock),
                metrics,
            },
            DispatcherOptions {
                min_timeout: self.min_timeout,
                receiver_options: self.receiver_options,
                external_url: self.external_url,
                ..DispatcherOptions::default()
            },
        );
        d.start();
        Env {
            d,
            store,
            marker,
            log,
            outcomes,
            registry,
        }
    }
}

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

fn alert(pairs: &[(&str, &str)]) -> Alert {
    Alert {
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        annotations: LabelSet::new(),
        starts_at: now_ms(),
        ends_at: None,
        generator_url: String::new(),
        updated_at: 0,
        timeout: false,
    }
}

fn resolved(mut a: Alert) -> Alert {
    a.ends_at = Some(now_ms());
    a
}

/// Polls `f` every 10ms until it holds or `within` passes.
async fn wait_for(within: Duration, f: impl Fn() -> bool) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

const BASIC: &str = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 600ms
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:9/hook
"#;

#[tokio::test]
async fn alerts_group_by_labels_and_batch_on_group_interval() {
    let env = Setup::new(BASIC)
        .integration("team", true, Mode::Ok)
        .start();
    let t0 = Instant::now();
    env.store.put(
        vec![
            alert(&[("alertname", "X"), ("instance", "a")]),
            alert(&[("alertname", "X"), ("instance", "b")]),
            alert(&[("alertname", "Y")]),
        ],
        now_ms(),
    );
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 2).await);
    let calls = env.log.calls();
    // Nothing before group_wait.
    assert!(calls
        .iter()
        .all(|c| c.at - t0 >= Duration::from_millis(190)));
    let x = calls.iter().find(|c| c.alerts[0].0 == "X").unwrap();
    assert_eq!(x.alerts.len(), 2);
    assert_eq!(x.group_key, "{}:{alertname=\"X\"}");
    let first_x = x.at;
    // A new alert in X waits for the group's next group_interval tick.
    env.store.put(
        vec![alert(&[("alertname", "X"), ("instance", "c")])],
        now_ms(),
    );
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 3).await);
    let third = env.log.calls()[2].clone();
    assert_eq!(third.alerts.len(), 3);
    assert!(
        third.at - first_x >= Duration::from_millis(550),
        "{:?}",
        third.at - first_x
    );
    // Unchanged groups are not re-sent before repeat_interval.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(env.log.calls().len(), 3);
    let groups = env.d.groups();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].labels["alertname"], "X");
    assert_eq!(groups[0].alerts.len(), 3);
    assert_eq!(groups[0].alerts[0].labels["instance"], "a");
    let (only_y, receivers) = env
        .d
        .groups_filtered(&|r| r == "team", &|a, _| a.labels["alertname"] == "Y");
    assert_eq!(only_y.len(), 1);
    assert_eq!(receivers.values().next().unwrap(), &["team".to_string()]);
    assert!(env
        .d
        .groups_filtered(&|r| r == "other", &|_, _| true)
        .0
        .is_empty());
    env.d.stop().await;
}

#[tokio::test]
async fn an_old_alert_flushes_at_once_and_repeat_interval_resends() {
    let yaml = BASIC
        .replace("group_wait: 200ms", "group_wait: 5s")
        .replace("group_interval: 600ms", "group_interval: 200ms")
        .replace("repeat_interval: 1h", "repeat_interval: 700ms");
    let env = Setup::new(&yaml)
        .integration("team", true, Mode::Ok)
        .start();
    let t0 = Instant::now();
    let mut a = alert(&[("alertname", "X")]);
    a.starts_at -= 60_000;
    env.store.put(vec![a], now_ms());
    // Older than group_wait: no waiting.
    assert!(wait_for(Duration::from_secs(2), || env.log.calls().len() == 1).await);
    assert!(env.log.calls()[0].at - t0 < Duration::from_secs(3));
    let first = env.log.calls()[0].at;
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 2).await);
    let gap = env.log.calls()[1].at - first;
    assert!(gap >= Duration::from_millis(690), "{gap:?}");
    assert!(gap < Duration::from_millis(2500), "{gap:?}");
    env.d.stop().await;
}

#[tokio::test]
async fn resolved_notifications_follow_send_resolved() {
    let env = Setup::new(BASIC)
        .integration("team", true, Mode::Ok)
        .integration("team", false, Mode::Ok)
        .start();
    let a = alert(&[("alertname", "X")]);
    env.store.put(vec![a.clone()], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 2).await);
    env.store.put(vec![resolved(a)], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 3).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let calls = env.log.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[2].idx, 0);
    assert_eq!(calls[2].alerts[0].2, "resolved");
    // The group forgot the resolved alert after notifying it.
    assert!(env.d.groups().is_empty());
    env.d.stop().await;
}

#[tokio::test]
async fn inhibited_alerts_are_not_sent() {
    let yaml = format!(
        "{BASIC}inhibit_rules:\n  - source_matchers: [severity=critical]\n    target_matchers: [severity=warning]\n    equal: [cluster]\n"
    )
    .replace("group_by: [alertname]", "group_by: [cluster]");
    let env = Setup::new(&yaml)
        .integration("team", true, Mode::Ok)
        .start();
    let crit = alert(&[
        ("alertname", "A"),
        ("severity", "critical"),
        ("cluster", "c1"),
    ]);
    let warn = alert(&[
        ("alertname", "B"),
        ("severity", "warning"),
        ("cluster", "c1"),
    ]);
    let other = alert(&[
        ("alertname", "C"),
        ("severity", "warning"),
        ("cluster", "c2"),
    ]);
    env.store
        .put(vec![crit.clone(), warn.clone(), other], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 2).await);
    let calls = env.log.calls();
    let c1 = calls.iter().find(|c| c.group_key.contains("c1")).unwrap();
    assert_eq!(
        c1.alerts.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["A"]
    );
    let st = env.marker.status(warn.fingerprint());
    assert_eq!(st.state, AlertState::Suppressed);
    assert_eq!(st.inhibited_by, vec![fingerprint_hex(crit.fingerprint())]);
    assert_eq!(
        env.marker.status(crit.fingerprint()).state,
        AlertState::Active
    );
    env.d.stop().await;
}

#[tokio::test]
async fn silenced_alerts_are_not_sent() {
    let mut s = Setup::new(BASIC).integration("team", true, Mode::Ok);
    s.silencer = Arc::new(MuteMuted);
    let env = s.start();
    let m = alert(&[("alertname", "Muted")]);
    env.store
        .put(vec![m.clone(), alert(&[("alertname", "Loud")])], now_ms());
    assert!(wait_for(Duration::from_secs(3), || !env.log.calls().is_empty()).await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let calls = env.log.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].alerts[0].0, "Loud");
    let st = env.marker.status(m.fingerprint());
    assert_eq!(
        (st.state, st.silenced_by),
        (AlertState::Suppressed, vec!["silence-1".to_string()])
    );
    assert_eq!(
        env.d.refresh_status(&m.labels).state,
        AlertState::Suppressed
    );
    env.d.stop().await;
}

#[tokio::test]
async fn mute_time_intervals_mute_a_route() {
    let yaml = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 300ms
  routes:
    - matchers: [alertname="Night"]
      mute_time_intervals: [always]
    - matchers: [alertname="Day"]
      active_time_intervals: [never]
time_intervals:
  - name: always
    time_intervals:
      - times: [{start_time: "00:00", end_time: "24:00"}]
  - name: never
    time_intervals:
      - years: ["1999"]
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:9/hook
"#;
    let env = Setup::new(yaml).integration("team", true, Mode::Ok).start();
    env.store.put(
        vec![
            alert(&[("alertname", "Night")]),
            alert(&[("alertname", "Day")]),
            alert(&[("alertname", "Other")]),
        ],
        now_ms(),
    );
    assert!(wait_for(Duration::from_secs(3), || !env.log.calls().is_empty()).await);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let calls = env.log.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].alerts[0].0, "Other");
    env.d.stop().await;
}

#[tokio::test]
async fn a_restart_does_not_page_again() {
    let dir = tempfile::tempdir().unwrap();
    let setup = || {
        let mut s = Setup::new(BASIC).integration("team", true, Mode::Ok);
        s.nflog = Some(dir.path().join("nflog"));
        s.alerts_file = Some(dir.path().join("alerts"));
        s
    };
    let env = setup().start();
    env.store.put(vec![alert(&[("alertname", "X")])], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 1).await);
    env.d.stop().await;
    env.store.save().unwrap();
    drop(env);

    let env = setup().start();
    // The restored alert is routed again; its group flushes but the log says it was sent.
    assert!(wait_for(Duration::from_secs(3), || env.d.groups().len() == 1).await);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(env.log.calls().is_empty(), "{:?}", env.log.calls());
    // A new alert in the group is news, and is sent.
    env.store
        .put(vec![alert(&[("alertname", "X"), ("i", "2")])], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 1).await);
    assert_eq!(env.log.calls()[0].alerts.len(), 2);
    env.d.stop().await;

    // Without the log, the same restart pages again (the test above can fail).
    std::fs::remove_file(dir.path().join("nflog")).unwrap();
    let env = setup().start();
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 1).await);
    env.d.stop().await;
}

#[tokio::test]
async fn a_hanging_integration_delays_no_other_group() {
    let yaml = r#"
route:
  receiver: ok
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 10s
  routes:
    - matchers: [alertname="Stuck"]
      receiver: stuck
receivers:
  - name: ok
    webhook_configs:
      - url: http://127.0.0.1:9/hook
  - name: stuck
    webhook_configs:
      - url: http://127.0.0.1:9/hook
      - url: http://127.0.0.1:9/hook2
"#;
    let env = Setup::new(yaml)
        .integration("stuck", true, Mode::Hang)
        .integration("stuck", true, Mode::Ok)
        .integration("ok", true, Mode::Ok)
        .start();
    let t0 = Instant::now();
    env.store
        .put(vec![alert(&[("alertname", "Stuck")])], now_ms());
    tokio::time::sleep(Duration::from_millis(20)).await;
    env.store
        .put(vec![alert(&[("alertname", "Fine")])], now_ms());
    assert!(wait_for(Duration::from_secs(2), || env.log.calls().len() == 2).await);
    for c in env.log.calls() {
        assert!(c.at - t0 < Duration::from_secs(3), "{c:?}");
    }
    // The stuck receiver's other integration delivered too.
    assert_eq!(env.log.for_receiver("stuck").len(), 1);
    env.d.stop().await;
}

#[tokio::test]
async fn failed_deliveries_retry_with_backoff_then_count() {
    let yaml = BASIC.replace("group_interval: 600ms", "group_interval: 8s");
    let env = Setup::new(&yaml)
        .integration("team", true, Mode::FailFirst(AtomicU32::new(2)))
        .start();
    env.store.put(vec![alert(&[("alertname", "X")])], now_ms());
    assert!(wait_for(Duration::from_secs(6), || env.log.calls().len() == 1).await);
    assert!(
        wait_for(Duration::from_secs(1), || !env
            .outcomes
            .0
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let o = env.outcomes.0.lock().unwrap()[0].clone();
    assert_eq!((o.attempts, o.result.clone()), (3, Ok(())));
    assert_eq!(o.receiver, "team");
    // The backoff waited between attempts (0.25s at the least, twice).
    assert!(o.duration >= Duration::from_millis(500), "{:?}", o.duration);
    let text = format!("{:?}", env.registry.gather());
    let value = |name: &str| {
        env.registry
            .gather()
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.samples.iter().map(|s| s.value).sum::<f64>())
            .unwrap_or(-1.0)
    };
    assert_eq!(value("sightline_alertmanager_notifications"), 1.0, "{text}");
    assert_eq!(value("sightline_alertmanager_notification_requests"), 3.0);
    assert_eq!(
        value("sightline_alertmanager_notification_requests_failed"),
        2.0
    );
    assert_eq!(value("sightline_alertmanager_notifications_failed"), 0.0);
    env.d.stop().await;
}

#[tokio::test]
async fn a_delivery_that_never_succeeds_fails_at_the_group_deadline() {
    let yaml = BASIC.replace("group_interval: 600ms", "group_interval: 1s");
    let env = Setup::new(&yaml)
        .integration("team", true, Mode::FailFirst(AtomicU32::new(1000)))
        .start();
    env.store.put(vec![alert(&[("alertname", "X")])], now_ms());
    assert!(
        wait_for(Duration::from_secs(4), || !env
            .outcomes
            .0
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let o = env.outcomes.0.lock().unwrap()[0].clone();
    let err = o.result.unwrap_err();
    assert!(
        err.starts_with("team/webhook[0]: notify retry canceled after"),
        "{err}"
    );
    assert!(err.ends_with("HTTP 503"), "{err}");
    assert!(
        o.duration <= Duration::from_millis(2500),
        "{:?}",
        o.duration
    );
    env.d.stop().await;
}

/// Mutes everything once switched on.
#[derive(Default)]
struct Switch(std::sync::atomic::AtomicBool);

impl Silencer for Switch {
    fn mutes(&self, _: &LabelSet, _: i64) -> Vec<String> {
        if self.0.load(Ordering::SeqCst) {
            vec!["ack".to_string()]
        } else {
            Vec::new()
        }
    }
}

/// Fires, is notified, gets silenced, resolves: how many notifications arrive.
async fn silenced_then_resolved(send_resolved_for_silenced: bool) -> Vec<Call> {
    let yaml = BASIC.replace("group_interval: 600ms", "group_interval: 300ms");
    let switch = Arc::new(Switch::default());
    let mut s = Setup::new(&yaml).integration("team", true, Mode::Ok);
    s.silencer = switch.clone();
    s.receiver_options.insert(
        "team".into(),
        ReceiverOptions {
            send_resolved_for_silenced,
        },
    );
    let env = s.start();
    let a = alert(&[("alertname", "X")]);
    env.store.put(vec![a.clone()], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 1).await);
    switch.0.store(true, Ordering::SeqCst);
    env.store.put(vec![resolved(a)], now_ms());
    // Long enough for two group_interval ticks.
    let _ = wait_for(Duration::from_secs(1), || env.log.calls().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.d.stop().await;
    env.log.calls()
}

#[tokio::test]
async fn resolved_notifications_for_silenced_alerts_are_a_receiver_choice() {
    // Alertmanager's behaviour: the silence swallows the resolution.
    let calls = silenced_then_resolved(false).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    // The extension: the receiver that was paged hears that it resolved.
    let calls = silenced_then_resolved(true).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1].alerts[0].2, "resolved");
}

#[tokio::test]
async fn a_silenced_alert_never_notified_sends_no_resolution_even_with_the_option() {
    let yaml = BASIC
        .replace("group_interval: 600ms", "group_interval: 300ms")
        .replace("group_by: [alertname]", "group_by: [team]");
    let mut s = Setup::new(&yaml).integration("team", true, Mode::Ok);
    s.silencer = Arc::new(MuteMuted);
    s.receiver_options.insert(
        "team".into(),
        ReceiverOptions {
            send_resolved_for_silenced: true,
        },
    );
    let env = s.start();
    // Both in one group, so the group keeps notifying while the muted one resolves.
    let a = alert(&[("alertname", "Muted"), ("team", "t")]);
    let loud = alert(&[("alertname", "Loud"), ("team", "t")]);
    env.store.put(vec![a.clone(), loud], now_ms());
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 1).await);
    env.store.put(vec![resolved(a)], now_ms());
    tokio::time::sleep(Duration::from_millis(700)).await;
    let calls = env.log.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].alerts.len(), 1);
    env.d.stop().await;
}

#[tokio::test]
async fn reload_reroutes_alerts() {
    let two = r#"
route:
  receiver: first
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 300ms
receivers:
  - name: first
    webhook_configs:
      - url: http://127.0.0.1:9/hook
  - name: second
    webhook_configs:
      - url: http://127.0.0.1:9/hook
"#;
    let env = Setup::new(two)
        .integration("first", true, Mode::Ok)
        .integration("second", true, Mode::Ok)
        .start();
    env.store.put(vec![alert(&[("alertname", "X")])], now_ms());
    assert!(
        wait_for(Duration::from_secs(3), || env
            .log
            .for_receiver("first")
            .len()
            == 1)
        .await
    );
    let config = load_str(
        &two.replace("receiver: first", "receiver: second"),
        "t.yml",
        &|_| None,
    )
    .unwrap();
    let log = env.log.clone();
    let mut integrations: Integrations = HashMap::new();
    integrations.insert(
        "second".into(),
        vec![Arc::new(Fake {
            idx: 0,
            send_resolved: true,
            mode: Mode::Ok,
            log,
        })],
    );
    env.d
        .reload(&config, integrations, DispatcherOptions::default())
        .await;
    // The alert is older than group_wait in its new group: sent at once to the new receiver.
    assert!(
        wait_for(Duration::from_secs(3), || env
            .log
            .for_receiver("second")
            .len()
            == 1)
        .await
    );
    assert_eq!(env.d.groups()[0].receiver, "second");
    assert_eq!(
        env.d.receivers_for(&env.d.groups()[0].alerts[0].labels),
        ["second"]
    );
    env.d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_groups_flush_together() {
    let dir = tempfile::tempdir().unwrap();
    // group_wait well above the time the put takes, so each group flushes its five at once.
    let yaml = BASIC.replace("group_wait: 200ms", "group_wait: 1s");
    let mut s = Setup::new(&yaml).integration("team", true, Mode::Ok);
    // With the durable log: every delivery is on disk before its flush completes.
    s.nflog = Some(dir.path().join("nflog"));
    let env = s.start();
    let t0 = Instant::now();
    let alerts: Vec<Alert> = (0..5000)
        .map(|i| {
            alert(&[
                ("alertname", &format!("A{}", i % 1000)),
                ("instance", &format!("i{i}")),
            ])
        })
        .collect();
    env.store.put(alerts, now_ms());
    let put = t0.elapsed();
    assert!(wait_for(Duration::from_secs(6), || env.log.calls().len() == 1000).await);
    let all = t0.elapsed();
    assert!(put < Duration::from_millis(900), "{put:?}");
    let path = dir.path().join("nflog");
    let durable = || {
        NotificationLog::open(
            Some(path.clone()),
            Duration::from_secs(3600),
            Metrics::unregistered(),
        )
        .map(|l| l.entries().len() == 1000)
        .unwrap_or(false)
    };
    assert!(wait_for(Duration::from_secs(5), durable).await);
    println!(
        "5000 alerts in 1000 groups: put {put:?}, all notified after {all:?}, all in the log file after {:?}",
        t0.elapsed()
    );
    assert!(env.log.calls().iter().all(|c| c.alerts.len() == 5));
    assert_eq!(env.d.groups().len(), 1000);
    env.d.stop().await;
}

/// The webhook payloads Debian's Alertmanager 0.25 sent for the same config and posts
/// (`--web.external-url=http://am.example:9093`, captured with a local sink).
const AM_BODIES: [&str; 2] = [
    r#"{"receiver":"team\\.x","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down","instance":"a","job":"j"},"annotations":{"summary":"s2"},"startsAt":"2020-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"d4ffd66169fad72b"},{"status":"firing","labels":{"alertname":"Down","instance":"b","job":"j"},"annotations":{"summary":"s1"},"startsAt":"2020-01-01T00:00:00.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g/1","fingerprint":"d9ba6d2daab4be18"}],"groupLabels":{"alertname":"Down"},"commonLabels":{"alertname":"Down","job":"j"},"commonAnnotations":{},"externalURL":"http://am.example:9093","version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0}"#,
    r#"{"receiver":"team\\.x","status":"firing","alerts":[{"status":"resolved","labels":{"alertname":"Down","instance":"a","job":"j"},"annotations":{"summary":"s2"},"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-01-01T00:01:00Z","generatorURL":"","fingerprint":"d4ffd66169fad72b"},{"status":"firing","labels":{"alertname":"Down","instance":"b","job":"j"},"annotations":{"summary":"s1"},"startsAt":"2020-01-01T00:00:00.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g/1","fingerprint":"d9ba6d2daab4be18"}],"groupLabels":{"alertname":"Down"},"commonLabels":{"alertname":"Down","job":"j"},"commonAnnotations":{},"externalURL":"http://am.example:9093","version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0}"#,
];

#[tokio::test]
async fn webhook_payloads_are_alertmanagers() {
    let yaml = r#"
route:
  receiver: 'team.x'
  group_by: [alertname]
  group_wait: 10s
  group_interval: 500ms
receivers:
  - name: 'team.x'
    webhook_configs:
      - url: http://127.0.0.1:9/hook
        send_resolved: true
"#;
    let mut s = Setup::new(yaml).integration("team.x", true, Mode::Ok);
    s.external_url = "http://am.example:9093".into();
    let env = s.start();
    let t = |x: &str| parse_rfc3339(x).unwrap();
    let labels = |i: &str| -> LabelSet {
        [("alertname", "Down"), ("instance", i), ("job", "j")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let ann = |v: &str| -> LabelSet { [("summary".to_string(), v.to_string())].into() };
    env.store
        .post(
            vec![
                PostedAlert {
                    labels: labels("b"),
                    annotations: ann("s1"),
                    starts_at: t("2020-01-01T00:00:00.123Z"),
                    ends_at: None,
                    generator_url: "http://g/1".into(),
                },
                PostedAlert {
                    labels: labels("a"),
                    annotations: ann("s2"),
                    starts_at: t("2020-01-01T00:00:00Z"),
                    ends_at: t("2099-01-01T00:00:00Z"),
                    generator_url: String::new(),
                },
            ],
            now_ms(),
        )
        .unwrap();
    // Alerts older than group_wait: the first flush is immediate.
    assert!(wait_for(Duration::from_secs(5), || env.log.calls().len() == 1).await);
    env.store
        .post(
            vec![PostedAlert {
                labels: labels("a"),
                annotations: ann("s2"),
                starts_at: t("2020-01-01T00:00:00Z"),
                ends_at: t("2020-01-01T00:01:00Z"),
                generator_url: String::new(),
            }],
            now_ms(),
        )
        .unwrap();
    assert!(wait_for(Duration::from_secs(3), || env.log.calls().len() == 2).await);
    let calls = env.log.calls();
    assert_eq!(calls[0].payload, AM_BODIES[0]);
    assert_eq!(calls[1].payload, AM_BODIES[1]);
    env.d.stop().await;
}

#[tokio::test]
async fn a_hanging_call_is_cut_at_the_group_deadline() {
    let yaml = BASIC
        .replace("group_wait: 200ms", "group_wait: 50ms")
        .replace("group_interval: 600ms", "group_interval: 400ms");
    let env = Setup::new(&yaml)
        .integration("team", true, Mode::Hang)
        .start();
    let t0 = Instant::now();
    env.store.put(vec![alert(&[("alertname", "X")])], now_ms());
    assert!(
        wait_for(Duration::from_secs(3), || !env
            .outcomes
            .0
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let elapsed = t0.elapsed();
    // group_wait + group_interval, the group's deadline (min_timeout is 50ms here).
    assert!(elapsed >= Duration::from_millis(440), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let o = env.outcomes.0.lock().unwrap()[0].clone();
    assert_eq!(
        o.result,
        Err(
            "team/webhook[0]: notify retry canceled after 2 attempts: context deadline exceeded"
                .into()
        )
    );
    let failed = env
        .registry
        .gather()
        .into_iter()
        .find(|f| f.name == "sightline_alertmanager_notifications_failed")
        .unwrap();
    assert_eq!(failed.samples.len(), 1);
    assert_eq!(
        failed.samples[0].labels.get_or_empty("reason"),
        "contextDeadlineExceeded"
    );
    env.d.stop().await;
}
