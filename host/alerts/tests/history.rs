//! The notification history: record and query with every filter, newest first, retention and
//! the entry cap, persistence across reopen, compaction, a torn last line after a crash and a
//! corrupt line in the middle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::PathBuf;
use std::time::Duration;

use sightline_alerts::{
    History, HistoryAlert, HistoryEntry, HistoryQuery, LabelSet, MatchType, Matcher,
};
use sightline_telemetry::Registry;

const T0: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn entry(
    at_ms: i64,
    receiver: &str,
    group: &str,
    alert: &str,
    error: Option<&str>,
) -> HistoryEntry {
    let labels = ls(&[("alertname", alert), ("severity", "page")]);
    HistoryEntry {
        at_ms,
        receiver: receiver.into(),
        integration: "webhook".into(),
        index: 0,
        group_key: group.into(),
        group_labels: ls(&[("alertname", alert)]),
        alerts: vec![HistoryAlert {
            fingerprint: sightline_alerts::fingerprint_hex(sightline_alerts::fingerprint(&labels)),
            status: "firing".into(),
            labels,
        }],
        error: error.map(str::to_string),
        attempts: if error.is_some() { 3 } else { 1 },
        duration_ms: 12,
    }
}

fn open(path: Option<PathBuf>, max: usize) -> History {
    History::open(
        path,
        Duration::from_millis(7 * DAY as u64),
        max,
        &Registry::new(),
    )
    .unwrap()
}

fn ats(v: &[HistoryEntry]) -> Vec<i64> {
    v.iter().map(|e| e.at_ms).collect()
}

#[test]
fn record_and_query_with_filters() {
    let h = open(None, 1000);
    h.record(entry(T0, "pager", "{}:{alertname=\"A\"}", "A", None));
    h.record(entry(
        T0 + 1,
        "slack",
        "{}:{alertname=\"B\"}",
        "B",
        Some("HTTP 500"),
    ));
    h.record(entry(T0 + 2, "pager", "{}:{alertname=\"B\"}", "B", None));
    // Recorded late (a long retry series), but older: ordered by time anyway.
    h.record(entry(
        T0 - 1,
        "pager",
        "{}:{alertname=\"C\"}",
        "C",
        Some("timeout"),
    ));

    let all = h.query(&HistoryQuery::default());
    assert_eq!(ats(&all), vec![T0 + 2, T0 + 1, T0, T0 - 1], "newest first");

    let q = |f: &dyn Fn(&mut HistoryQuery)| {
        let mut q = HistoryQuery::default();
        f(&mut q);
        ats(&h.query(&q))
    };
    assert_eq!(
        q(&|q| q.receiver = Some("pager".into())),
        vec![T0 + 2, T0, T0 - 1]
    );
    assert_eq!(
        q(&|q| q.group_key = Some("{}:{alertname=\"B\"}".into())),
        vec![T0 + 2, T0 + 1]
    );
    assert_eq!(q(&|q| q.failed_only = true), vec![T0 + 1, T0 - 1]);
    assert_eq!(q(&|q| q.since_ms = Some(T0)), vec![T0 + 2, T0 + 1, T0]);
    assert_eq!(q(&|q| q.until_ms = Some(T0)), vec![T0, T0 - 1]);
    assert_eq!(q(&|q| q.limit = Some(2)), vec![T0 + 2, T0 + 1]);
    assert_eq!(
        q(&|q| q.matchers = vec![Matcher::new(MatchType::Regexp, "alertname", "A|C").unwrap()]),
        vec![T0, T0 - 1]
    );
    assert_eq!(
        q(&|q| {
            q.matchers = vec![
                Matcher::new(MatchType::Equal, "alertname", "B").unwrap(),
                Matcher::new(MatchType::NotEqual, "severity", "page").unwrap(),
            ]
        }),
        Vec::<i64>::new(),
        "all matchers must hold on one alert"
    );
    assert_eq!(
        q(&|q| {
            q.receiver = Some("pager".into());
            q.failed_only = true;
        }),
        vec![T0 - 1]
    );
}

#[test]
fn json_is_camel_case_with_api_times() {
    let e = entry(T0 + 5, "pager", "g", "A", Some("boom"));
    let v: serde_json::Value = serde_json::to_value(&e).unwrap();
    assert_eq!(v["at"], "2026-01-01T00:00:00.005Z");
    assert_eq!(v["groupKey"], "g");
    assert_eq!(v["groupLabels"]["alertname"], "A");
    assert_eq!(v["durationMs"], 12);
    assert_eq!(v["error"], "boom");
    assert_eq!(v["alerts"][0]["status"], "firing");
    assert_eq!(v["alerts"][0]["fingerprint"].as_str().unwrap().len(), 16);
    let ok = serde_json::to_value(entry(T0, "p", "g", "A", None)).unwrap();
    assert!(ok.get("error").is_none(), "no error key when delivered");
    let back: HistoryEntry = serde_json::from_value(v).unwrap();
    assert_eq!(back, e);
}

#[test]
fn retention_and_cap() {
    let h = open(None, 3);
    for i in 0..5 {
        h.record(entry(T0 + i * DAY, "r", "g", "A", None));
    }
    assert_eq!(
        ats(&h.query(&HistoryQuery::default())),
        vec![T0 + 4 * DAY, T0 + 3 * DAY, T0 + 2 * DAY]
    );
    // Seven days of retention: at T0 + 9.5 days, T0 + 2 days is older than the window.
    assert_eq!(h.gc(T0 + 9 * DAY + DAY / 2), 1);
    assert_eq!(
        ats(&h.query(&HistoryQuery::default())),
        vec![T0 + 4 * DAY, T0 + 3 * DAY]
    );
    assert_eq!(
        h.gc(T0 + 10 * DAY),
        0,
        "exactly at the window's edge is kept"
    );
    assert_eq!(h.gc(T0 + 20 * DAY), 2);
    assert!(h.is_empty());
}

#[test]
fn survives_reopen_and_compacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    {
        let h = open(Some(path.clone()), 100);
        for i in 0..10 {
            h.record(entry(T0 + i, "r", "g", "A", (i % 2 == 0).then_some("e")));
        }
    }
    let lines = |p: &PathBuf| std::fs::read_to_string(p).unwrap().lines().count();
    assert_eq!(lines(&path), 10);
    {
        let h = open(Some(path.clone()), 100);
        assert_eq!(h.len(), 10);
        let got = h.query(&HistoryQuery {
            failed_only: true,
            ..Default::default()
        });
        assert_eq!(ats(&got), vec![T0 + 8, T0 + 6, T0 + 4, T0 + 2, T0]);
        assert_eq!(got[0], entry(T0 + 8, "r", "g", "A", Some("e")));
        // Retention drops 6 of 10 lines: more than half is garbage, so the file is rewritten.
        assert_eq!(h.gc(T0 + 6 + 7 * DAY), 6);
        assert_eq!(lines(&path), 4);
        h.record(entry(T0 + 7 * DAY, "r", "g", "A", None));
        assert_eq!(lines(&path), 5);
    }
    // A smaller cap on reopen keeps the newest and compacts.
    let h = open(Some(path.clone()), 2);
    assert_eq!(
        ats(&h.query(&HistoryQuery::default())),
        vec![T0 + 7 * DAY, T0 + 9]
    );
    assert_eq!(lines(&path), 2);
    assert!(!dir.path().join("history.jsonl.tmp").exists());
}

#[test]
fn torn_last_line_is_skipped_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    {
        let h = open(Some(path.clone()), 100);
        h.record(entry(T0, "r", "g", "A", None));
        h.record(entry(T0 + 1, "r", "g", "A", None));
    }
    // A crash in the middle of the third line.
    let full = serde_json::to_string(&entry(T0 + 2, "r", "g", "A", None)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&full.as_bytes()[..full.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    {
        let h = open(Some(path.clone()), 100);
        assert_eq!(ats(&h.query(&HistoryQuery::default())), vec![T0 + 1, T0]);
        h.record(entry(T0 + 3, "r", "g", "A", None));
    }
    // The next append started on a fresh line: everything reads back.
    let h = open(Some(path.clone()), 100);
    assert_eq!(
        ats(&h.query(&HistoryQuery::default())),
        vec![T0 + 3, T0 + 1, T0]
    );
}

#[test]
fn corrupt_middle_line_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    {
        let h = open(Some(path.clone()), 100);
        for i in 0..3 {
            h.record(entry(T0 + i, "r", "g", "A", None));
        }
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{not json";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let e = History::open(
        Some(path.clone()),
        Duration::from_secs(60),
        100,
        &Registry::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(&format!("{}:2", path.display())), "{e}");
}

#[test]
fn missing_file_is_empty_and_metrics_count() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new();
    let h = History::open(
        Some(dir.path().join("history.jsonl")),
        Duration::from_secs(3600),
        10,
        &reg,
    )
    .unwrap();
    assert!(h.is_empty());
    h.record(entry(T0, "r", "g", "A", None));
    h.sync().unwrap();
    let fams = reg.gather();
    let v = |n: &str| fams.iter().find(|f| f.name == n).unwrap().samples[0].value;
    assert_eq!(v("sightline_alertmanager_history_entries"), 1.0);
    assert_eq!(v("sightline_alertmanager_history_records"), 1.0);
    assert_eq!(v("sightline_alertmanager_history_write_failures"), 0.0);
}
