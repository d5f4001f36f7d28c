//! The alert state machine and `for`-state restoration, driven at fake timestamps over
//! in-memory storage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions};
use sightline_rules::unittest::engine_query_fn;
use sightline_rules::{AlertState, Deps, Group, NoTemplates, Notifier, NotifyAlert};
use sightline_storage_api::{Appendable, MemStorage};

#[derive(Default)]
struct Recorder(Mutex<Vec<(i64, NotifyAlert)>>);

impl Notifier for Recorder {
    fn send(&self, _expr: &str, alerts: Vec<NotifyAlert>) {
        let mut v = self.0.lock().unwrap();
        for a in alerts {
            v.push((sightline_model::now_ms(), a));
        }
    }
}

fn group(yaml: &str) -> Group {
    let f = sightline_rules::file::parse("t.yml", yaml, &|_, _| Ok(()), false).unwrap();
    Group::new(
        "t.yml",
        &f.groups[0],
        Duration::from_secs(60),
        Duration::ZERO,
    )
}

fn set(storage: &MemStorage, series: &str, points: &[(i64, f64)]) {
    let (labels, _) = sightline_promql::parse_series_desc(&format!("{series} 0")).unwrap();
    let mut app = storage.appender();
    for (t, v) in points {
        app.append(None, &labels, *t, *v).unwrap();
    }
    app.commit().unwrap();
}

const ALERT: &str = "groups:\n- name: g\n  interval: 1m\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 3m\n";

#[test]
fn pending_firing_resolved_and_resend() {
    let storage = Arc::new(MemStorage::new());
    let query = engine_query_fn(Engine::new(EngineOptions::default()), storage.clone());
    let notifier = Recorder::default();
    let deps = Deps {
        query: &query,
        appendable: &*storage,
        expander: &NoTemplates,
        notifier: &notifier,
        external_labels: &Labels::empty(),
        external_url: "http://x",
        resend_delay: Duration::from_secs(60),
    };
    let mut g = group(ALERT);
    for r in &mut g.rules {
        r.set_restored(true);
    }
    let m = 60_000;
    set(
        &storage,
        "up{job=\"a\"}",
        &(0..=10)
            .map(|i| (i * m, if i < 6 { 0.0 } else { 1.0 }))
            .collect::<Vec<_>>(),
    );
    let state = |g: &Group| g.rules[0].alerts().first().map(|a| a.state);
    g.eval(0, &deps);
    assert_eq!(state(&g), Some(AlertState::Pending));
    g.eval(2 * m, &deps);
    assert_eq!(state(&g), Some(AlertState::Pending));
    assert!(
        notifier.0.lock().unwrap().is_empty(),
        "pending alerts are not sent"
    );
    g.eval(3 * m, &deps);
    assert_eq!(state(&g), Some(AlertState::Firing));
    let sent = notifier.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.starts_at, 3 * m);
    // endsAt: 4 × max(resend delay, interval) after the send.
    assert_eq!(sent[0].1.ends_at, Some(3 * m + 4 * m));
    // Not resent before the resend delay has passed.
    g.eval(3 * m + 30_000, &deps);
    assert_eq!(notifier.0.lock().unwrap().len(), 1);
    g.eval(5 * m, &deps);
    assert_eq!(notifier.0.lock().unwrap().len(), 2);
    // up returns: resolved, sent at once with endsAt = resolution time.
    g.eval(6 * m, &deps);
    assert_eq!(state(&g), Some(AlertState::Inactive));
    let last = notifier.0.lock().unwrap().last().unwrap().1.clone();
    assert_eq!(last.ends_at, Some(6 * m));
    // ALERTS went stale when the alert resolved.
    let alerts = Labels::from_pairs([
        ("__name__", "ALERTS"),
        ("alertname", "Down"),
        ("alertstate", "firing"),
        ("job", "a"),
    ]);
    let samples = storage.samples_of(&alerts);
    assert!(
        samples
            .last()
            .is_some_and(|s| sightline_model::is_stale_nan(s.v)),
        "{samples:?}"
    );
    // Kept (and resent as resolved) for 15 minutes, then forgotten.
    g.eval(6 * m + 15 * m, &deps);
    assert_eq!(g.rules[0].alerts().len(), 1);
    g.eval(6 * m + 16 * m, &deps);
    assert!(g.rules[0].alerts().is_empty());
}

#[test]
fn for_state_is_restored_shifted_by_the_downtime() {
    let storage = Arc::new(MemStorage::new());
    let query = engine_query_fn(Engine::new(EngineOptions::default()), storage.clone());
    let deps = Deps {
        query: &query,
        appendable: &*storage,
        expander: &NoTemplates,
        notifier: &sightline_rules::NoNotifier,
        external_labels: &Labels::empty(),
        external_url: "",
        resend_delay: Duration::from_secs(60),
    };
    let m = 60_000;
    set(
        &storage,
        "up{job=\"a\"}",
        &(0..=30).map(|i| (i * m, 0.0)).collect::<Vec<_>>(),
    );
    // Before the "restart": pending for 2 of its 3 minutes (ALERTS_FOR_STATE written).
    let mut before = group(ALERT);
    for r in &mut before.rules {
        r.set_restored(true);
    }
    for i in 0..=2 {
        before.eval(i * m, &deps);
    }
    // Down from 2m to 10m; the new process evaluates and restores at 10m.
    let mut after = group(ALERT);
    after.eval(10 * m, &deps);
    assert_eq!(after.rules[0].alerts()[0].active_at, 10 * m);
    after.restore_for_state(
        10 * m,
        &*storage,
        Duration::from_secs(3600),
        Duration::from_secs(60),
        false,
    );
    // 1 minute of `for` left, shifted by the 8-minute outage: activeAt = 0 + 8m.
    assert_eq!(after.rules[0].alerts()[0].active_at, 8 * m);
    after.eval(11 * m, &deps);
    assert_eq!(after.rules[0].alerts()[0].state, AlertState::Firing);
}

#[test]
fn recording_rules_store_native_histograms_as_histograms() {
    use sightline_model::{Histogram, Matcher, Span};
    use sightline_storage_api::Queryable;
    let storage = Arc::new(MemStorage::new());
    let query = engine_query_fn(Engine::new(EngineOptions::default()), storage.clone());
    let deps = Deps {
        query: &query,
        appendable: &*storage,
        expander: &NoTemplates,
        notifier: &Recorder::default(),
        external_labels: &Labels::empty(),
        external_url: "http://x",
        resend_delay: Duration::from_secs(60),
    };
    let labels = Labels::from_pairs([("__name__", "lat"), ("job", "a")]);
    let h = Histogram {
        schema: 1,
        count: 5,
        sum: 7.5,
        zero_threshold: 0.001,
        zero_count: 1,
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![1, 2],
        ..Histogram::default()
    };
    let mut app = storage.appender();
    app.append_histogram(None, &labels, 0, &h).unwrap();
    app.commit().unwrap();
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: job:lat:copy\n    expr: lat\n    labels: {rule: r}\n",
    );
    g.eval(30_000, &deps);
    assert!(
        g.rules[0].info.last_error.is_none(),
        "{:?}",
        g.rules[0].info.last_error
    );
    let q = storage.querier(0, 60_000).unwrap();
    let mut got = q
        .select(false, None, &[Matcher::equal("__name__", "job:lat:copy")])
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels.get("rule"), Some("r"));
    let it = &mut got[0].samples;
    assert_eq!(it.next_sample().map(|s| s.t), Some(30_000));
    assert_eq!(it.histogram().map(|x| (**x).clone()), Some(h.to_float()));
}

#[test]
fn unit_tests_load_and_compare_native_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("t.yml");
    std::fs::write(
        &test,
        r#"
tests:
  - interval: 1m
    input_series:
      - series: h
        values: '{{schema:0 sum:1 count:2 buckets:[2]}}+{{sum:1 count:2 buckets:[2]}}x3'
    promql_expr_test:
      - expr: h
        eval_time: 2m
        exp_samples:
          - labels: h
            histogram: '{{schema:0 sum:3 count:6 counter_reset_hint:not_reset buckets:[6]}}'
      - expr: histogram_count(h)
        eval_time: 3m
        exp_samples:
          - labels: '{}'
            value: 8
"#,
    )
    .unwrap();
    let opts = sightline_rules::unittest::TestOptions {
        expander: &NoTemplates,
        templates: &|_, _| Ok(()),
        run: None,
        ignore_unknown_fields: false,
    };
    let ok = sightline_rules::unittest::run_file(&test, &opts);
    assert!(
        ok.passed,
        "the histograms load and compare: {:?}",
        ok.errors
    );
    std::fs::write(
        &test,
        std::fs::read_to_string(&test)
            .unwrap()
            .replace("sum:3 count:6", "sum:3 count:7"),
    )
    .unwrap();
    let bad = sightline_rules::unittest::run_file(&test, &opts);
    assert!(!bad.passed, "a different histogram fails");
    assert!(
        bad.errors.iter().any(|e| e.contains("count:7")),
        "{:?}",
        bad.errors
    );
}
