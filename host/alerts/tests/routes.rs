//! `routes show` and `routes test` against Debian's `amtool config routes` (0.25) on the
//! seed's alertmanager.yml and on a config using every routing feature: the same tree text
//! and the same receivers (and exit codes) for every label set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::{Path, PathBuf};
use std::process::Command;

const AMTOOL: &str = "/usr/bin/amtool";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn env(k: &str) -> Option<String> {
    match k {
        "SLACK_WEBHOOK" => Some("https://hooks.slack.test/services/x".into()),
        "PAGERDUTY_KEY" => Some("pd-key".into()),
        _ => None,
    }
}

/// The file as amtool must see it: Alertmanager expands no variables, so they are
/// substituted in a copy.
fn amtool_copy(dir: &Path, src: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(src).unwrap();
    for k in ["SLACK_WEBHOOK", "PAGERDUTY_KEY"] {
        text = text.replace(&format!("${k}"), &env(k).unwrap());
    }
    let p = dir.join(src.file_name().unwrap());
    std::fs::write(&p, text).unwrap();
    p
}

fn amtool(args: &[&str]) -> (String, i32) {
    let out = Command::new(AMTOOL).args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn compare(file: &Path, label_sets: &[&[&str]]) -> usize {
    assert!(
        Path::new(AMTOOL).exists(),
        "amtool is missing: install Debian's prometheus-alertmanager (0.25) for {AMTOOL}"
    );
    let dir = tempfile_dir();
    let copy = amtool_copy(&dir, file);
    let cfg = sightline_alerts::load_str(
        &std::fs::read_to_string(file).unwrap(),
        &file.display().to_string(),
        &env,
    )
    .unwrap();
    let tree = sightline_alerts::RouteTree::new(&cfg.route);
    let cf = format!("--config.file={}", copy.display());
    let (want, code) = amtool(&["config", "routes", "show", &cf]);
    assert_eq!(code, 0);
    assert_eq!(sightline_alerts::routes_show(&tree), want, "routes show");
    let mut n = 0;
    for labels in label_sets {
        let labels_owned: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        let mut args = vec!["config", "routes", "test", cf.as_str()];
        args.extend(labels.iter().copied());
        let (want, want_code) = amtool(&args);
        let got = sightline_alerts::routes_test(&tree, &labels_owned, None, false);
        assert_eq!(got.stdout, want, "{labels:?}");
        assert_eq!(i32::from(got.code), want_code, "{labels:?}");
        // The matching tree too.
        let mut args = vec!["config", "routes", "test", "--tree", cf.as_str()];
        args.extend(labels.iter().copied());
        let (want, _) = amtool(&args);
        let got = sightline_alerts::routes_test(&tree, &labels_owned, None, true);
        assert_eq!(got.stdout, want, "--tree {labels:?}");
        // --verify.receivers: right and wrong.
        let receivers = got.stdout.lines().last().unwrap_or("").to_string();
        for verify in [receivers.as_str(), "nobody"] {
            let flag = format!("--verify.receivers={verify}");
            let mut args = vec!["config", "routes", "test", cf.as_str(), flag.as_str()];
            args.extend(labels.iter().copied());
            let (want, want_code) = amtool(&args);
            let got = sightline_alerts::routes_test(&tree, &labels_owned, Some(verify), false);
            assert_eq!(
                (got.stdout, i32::from(got.code)),
                (want, want_code),
                "{flag} {labels:?}"
            );
        }
        n += 1;
    }
    n
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sightline-alerts-routes-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn conformance_seed_routes_agree_with_amtool() {
    let n = compare(
        &repo("../../tests/seed/alertmanager.yml"),
        &[
            &["alertname=ServiceDown", "severity=page"],
            &["alertname=HighErrorRate", "severity=warning"],
            &["severity=page"],
            &[],
            &["severity=Page"],
        ],
    );
    println!("seed: {n} label sets agree with amtool");
}

#[test]
fn conformance_every_routing_feature_agrees_with_amtool() {
    let n = compare(
        &repo("tests/routing-features.yml"),
        &[
            &[],
            &["severity=page"],
            &["severity=page", "service=db"],
            &["severity=page", "service=dbx"],
            &["severity=page", "team=frontend"],
            &["severity=page", "team=frontend", "env=dev"],
            &["severity=warning"],
            &["severity=warning", "team=qa"],
            &["severity=warn", "service=cache", "instance=h:5432"],
            &["service=cache", "env=staging"],
            &["service=db", "env=staging", r#"quote=a "b" c"#],
            &["service=db", "env=prod"],
            &["team=frontend"],
            &[
                "severity=page",
                "service=cache",
                "team=frontend",
                "env=staging",
            ],
        ],
    );
    println!("routing features: {n} label sets agree with amtool");
}

#[test]
fn keys_and_ids_are_alertmanagers() {
    let cfg = sightline_alerts::load_file(repo("tests/routing-features.yml")).unwrap();
    let tree = sightline_alerts::RouteTree::new(&cfg.route);
    let ls = |p: &[(&str, &str)]| -> sightline_alerts::LabelSet {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let m = tree.matches(&ls(&[("severity", "page"), ("service", "db")]));
    let keys: Vec<String> = m.iter().map(|id| tree.key(*id)).collect();
    assert_eq!(
        keys,
        [
            r#"{}/{severity="page"}/{service=~"^(?:db|cache)$"}"#,
            r#"{}/{service=~"db|cache"}"#
        ]
    );
    let ids: Vec<String> = m.iter().map(|id| tree.id(*id)).collect();
    assert_eq!(
        ids,
        [
            r#"{}/{severity="page"}/0/{service=~"^(?:db|cache)$"}/0"#,
            r#"{}/{service=~"db|cache"}/2"#
        ]
    );
    // Inheritance: group_by ['...'] below a route grouping by alertname; timers from the root.
    let db = tree.node(m[0]);
    assert!(db.opts.group_by_all);
    assert_eq!(db.opts.group_wait, std::time::Duration::from_secs(5));
    assert_eq!(
        db.opts.repeat_interval,
        std::time::Duration::from_secs(7200)
    );
    let tickets = tree.matches(&ls(&[("severity", "warning")]));
    let t = tree.node(tickets[0]);
    assert!(t.opts.group_by.is_empty() && !t.opts.group_by_all);
    // Post-order indices: children first.
    assert_eq!(tree.node(tree.root()).idx, 9);
    // Defaults when nothing is set.
    let cfg = sightline_alerts::load_str(
        "route: {receiver: a}\nreceivers: [{name: a}]\n",
        "x",
        &|_| None,
    )
    .unwrap();
    let t = sightline_alerts::RouteTree::new(&cfg.route);
    let o = &t.node(0).opts;
    assert_eq!(
        (
            o.group_wait.as_secs(),
            o.group_interval.as_secs(),
            o.repeat_interval.as_secs()
        ),
        (30, 300, 14400)
    );
    assert_eq!(cfg.global.resolve_timeout.as_secs(), 300);
}
