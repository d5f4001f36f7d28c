//! The built-in Alertmanager side by side with the real Alertmanager 0.25 (issue 16, "Done
//! means"). Every test runs against [`Target::RealAm`] now — which proves the harness and
//! checks the recorded expectations in `tests/alertmanager/` — and against
//! [`Target::Sightline`] once the integrator flips [`SIGHTLINE_AM_WIRED`] (or sets
//! `SIGHTLINE_AM_WIRED=1`); the timed scenarios then run both in the same test, post the same
//! alerts to both at the same moments and compare what their webhook sinks received.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::am_support::*;
use crate::support::*;

/// The receivers of tests/alertmanager/routing-features.yml.
const ROUTING_RECEIVERS: [&str; 8] = [
    "db",
    "db-pager",
    "default",
    "frontend",
    "frontend-critical",
    "frontend-warn",
    "muted",
    "night",
];

/// Group interval of the scenarios' configs (ms): the timing tolerance and the tick bucket.
const TICK_MS: u64 = 2_000;

fn alert(
    labels: &[(&'static str, &'static str)],
    annotations: &[(&'static str, &'static str)],
) -> ScenarioAlert {
    ScenarioAlert {
        labels: labels.to_vec(),
        annotations: annotations.to_vec(),
    }
}

/// Starts one [`Am`] per target, each with its own sinks for `receivers`, on `template`.
fn start_all(
    targets: &[Target],
    template: &str,
    receivers: &[&str],
    work: &Path,
) -> Vec<(Am, Sinks)> {
    targets
        .iter()
        .map(|t| {
            let sinks = Sinks::new(receivers);
            (Am::start(*t, &sinks.render(template), work), sinks)
        })
        .collect()
}

/// A timed scenario: the alerts, the steps, and when observation ends (ms).
struct Scenario {
    alerts: Vec<ScenarioAlert>,
    steps: Vec<Step>,
    end_ms: u64,
}

/// Runs `scenario` on every target at once (the first one the real Alertmanager) and checks:
/// the real Alertmanager gives the recorded sequence `expected`; every other target gives the
/// real one's of this same run, each notification within one group_interval of it.
fn side_by_side(
    targets: &[Target],
    template: &str,
    receivers: &[&str],
    scenario: &Scenario,
    expected: &str,
    test: &str,
) -> BTreeMap<String, Vec<Value>> {
    assert_eq!(targets[0], Target::RealAm);
    let work = tempfile::tempdir().unwrap();
    let running = start_all(targets, template, receivers, work.path());
    let ams: Vec<&Am> = running.iter().map(|(a, _)| a).collect();
    let (t0, snapshots) = run_scenario(&ams, &scenario.alerts, &scenario.steps, scenario.end_ms);
    let got: Vec<(Target, Notifications)> = running
        .iter()
        .map(|(a, s)| (a.target, s.notifications(t0, TICK_MS)))
        .collect();
    let real = &got[0].1;
    for (r, list) in real {
        for (t, n) in list {
            println!("{test}: real Alertmanager -> {r} at {t} ms: {n}");
        }
    }
    let seq = sequences(real);
    assert_recorded(expected, &json!(seq));
    // The API after each step: recorded for the real Alertmanager, compared for the others.
    assert_recorded(
        &expected.replace(".expected.", ".api.expected."),
        &Value::Array(snapshots[0].clone()),
    );
    for (i, (who, other)) in got.iter().enumerate().skip(1) {
        for (step, (want, have)) in snapshots[0].iter().zip(&snapshots[i]).enumerate() {
            assert_eq!(
                serde_json::to_string_pretty(have).unwrap(),
                serde_json::to_string_pretty(want).unwrap(),
                "{who:?}'s API v2 (left) after step {step} differs from Alertmanager 0.25's (right)"
            );
        }
        assert_same_notifications(real, *who, other, TICK_MS);
    }
    seq
}

/// The seed's alertmanager.yml, as a template: its route tree unchanged, its timers shortened
/// (group_wait 1s, group_interval 2s, repeat_interval 1h) and its receivers rewritten to
/// webhooks at the test's sinks. The seed's Slack and PagerDuty receivers become webhooks
/// because the first-party Slack/PagerDuty plugins are issue 17; until then the `webhook`
/// plugin is what delivers, and the real Alertmanager needs reachable URLs as well.
fn seedlike_template() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(vendored("seed/alertmanager.yml")).unwrap();
    let mut cfg: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let route = &mut cfg["route"];
    route["group_wait"] = "1s".into();
    route["group_interval"] = "2s".into();
    route["repeat_interval"] = "1h".into();
    let mut names = Vec::new();
    let receivers = cfg["receivers"].as_sequence_mut().unwrap();
    for r in receivers.iter_mut() {
        let name = r["name"].as_str().unwrap().to_string();
        let mut hook = serde_yaml::Mapping::new();
        hook.insert("url".into(), format!("@sink:{name}@").into());
        let mut m = serde_yaml::Mapping::new();
        m.insert("name".into(), name.clone().into());
        m.insert(
            "webhook_configs".into(),
            serde_yaml::Value::Sequence(vec![hook.into()]),
        );
        *r = m.into();
        names.push(name);
    }
    (serde_yaml::to_string(&cfg).unwrap(), names)
}

/// The seed's routing (group by alertname and severity; `severity: page` to pagerduty, the
/// rest to default) on a timed sequence: firing alerts of two severities, more alerts into
/// the existing groups, one resolved, then all resolved.
#[test]
fn side_by_side_seedlike() {
    let (template, names) = seedlike_template();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names, ["default", "pagerduty"]);
    let alerts = vec![
        alert(
            &[
                ("alertname", "HighLatency"),
                ("severity", "warning"),
                ("instance", "a"),
            ],
            &[("summary", "latency a")],
        ),
        alert(
            &[
                ("alertname", "ServiceDown"),
                ("severity", "page"),
                ("instance", "x"),
            ],
            &[("summary", "x down")],
        ),
        alert(
            &[
                ("alertname", "HighLatency"),
                ("severity", "warning"),
                ("instance", "b"),
            ],
            &[("summary", "latency b")],
        ),
        alert(
            &[
                ("alertname", "ServiceDown"),
                ("severity", "page"),
                ("instance", "y"),
            ],
            &[("summary", "y down")],
        ),
    ];
    let steps = vec![
        Step {
            at_ms: 0,
            fire: vec![0, 1],
            resolve: vec![],
        },
        Step {
            at_ms: 4_000,
            fire: vec![2, 3],
            resolve: vec![],
        },
        Step {
            at_ms: 8_000,
            fire: vec![],
            resolve: vec![0],
        },
        Step {
            at_ms: 12_000,
            fire: vec![],
            resolve: vec![1, 2, 3],
        },
    ];
    let scenario = Scenario {
        alerts,
        steps,
        end_ms: 16_000,
    };
    let seq = side_by_side(
        &Target::enabled("side_by_side_seedlike"),
        &template,
        &names,
        &scenario,
        "seedlike.expected.json",
        "side_by_side_seedlike",
    );
    // What the recording says, spelled out: each receiver gets its group when it fires,
    // again when alerts join it, when one resolves, and when all have.
    let statuses = |r: &str| -> Vec<(String, usize)> {
        seq[r]
            .iter()
            .map(|n| {
                (
                    n["status"].as_str().unwrap().to_string(),
                    n["alerts"].as_array().unwrap().len(),
                )
            })
            .collect()
    };
    let s = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
        v.iter().map(|(a, n)| (a.to_string(), *n)).collect()
    };
    assert_eq!(
        statuses("default"),
        s(&[("firing", 1), ("firing", 2), ("firing", 2), ("resolved", 1)])
    );
    assert_eq!(
        statuses("pagerduty"),
        s(&[("firing", 1), ("firing", 2), ("resolved", 2)])
    );
    assert_eq!(
        seq["pagerduty"][0]["groupLabels"],
        json!({"alertname": "ServiceDown", "severity": "page"})
    );
}

/// Every routing feature (tests/alertmanager/routing-features.yml): nested routes,
/// `continue`, `match`/`match_re`/`matchers` in both syntaxes, `group_by: ['...']`,
/// inhibition with `equal`, an always-active mute interval, a never-active active interval,
/// `send_resolved: false`, and a short `repeat_interval` that repeats.
/// The routing-features scenario: ten alerts over the routes of routing-features.yml, one
/// critical resolved at 4 s (lifting an inhibition), two more at 8 s, the rest at 12 s.
fn routing_scenario() -> Scenario {
    let alerts = vec![
        // 0: routed to db (continue) and db-pager; inhibits 1.
        alert(
            &[
                ("alertname", "DbDown"),
                ("team", "db"),
                ("instance", "db1"),
                ("severity", "critical"),
            ],
            &[("summary", "db1 down")],
        ),
        // 1: inhibited while 0 fires (both rules).
        alert(
            &[
                ("alertname", "DbSlowQueries"),
                ("team", "db"),
                ("instance", "db1"),
                ("severity", "warning"),
            ],
            &[],
        ),
        // 2: info: db only (db-pager excludes info).
        alert(
            &[
                ("alertname", "DbSlowQueries"),
                ("team", "db"),
                ("instance", "db2"),
                ("severity", "info"),
            ],
            &[],
        ),
        // 3: frontend-critical, grouped by all labels; inhibits 4.
        alert(
            &[
                ("alertname", "ApiErrors"),
                ("service", "api"),
                ("severity", "critical"),
                ("env", "prod"),
            ],
            &[("summary", "5xx")],
        ),
        // 4: frontend-warn, inhibited until 3 resolves.
        alert(
            &[
                ("alertname", "ApiLatency"),
                ("service", "api"),
                ("severity", "warning"),
                ("env", "prod"),
            ],
            &[],
        ),
        // 5: frontend-warn (send_resolved false: its resolution is never sent).
        alert(
            &[
                ("alertname", "WebLatency"),
                ("service", "web"),
                ("severity", "warning"),
                ("env", "prod"),
            ],
            &[],
        ),
        // 6: frontend itself (no child route matches).
        alert(
            &[
                ("alertname", "WebInfo"),
                ("service", "web"),
                ("severity", "info"),
            ],
            &[],
        ),
        // 7, 8: muted / outside its active interval: never sent.
        alert(&[("alertname", "Muted"), ("team", "muted")], &[]),
        alert(&[("alertname", "Night"), ("team", "night")], &[]),
        // 9: the root's receiver.
        alert(&[("alertname", "Other")], &[]),
    ];
    let steps = vec![
        Step {
            at_ms: 0,
            fire: (0..10).collect(),
            resolve: vec![],
        },
        Step {
            at_ms: 4_000,
            fire: vec![],
            resolve: vec![3],
        },
        Step {
            at_ms: 8_000,
            fire: vec![],
            resolve: vec![0, 5],
        },
        Step {
            at_ms: 12_000,
            fire: vec![],
            resolve: vec![1, 2, 4, 6, 7, 8, 9],
        },
    ];
    Scenario {
        alerts,
        steps,
        end_ms: 16_000,
    }
}

#[test]
fn side_by_side_routing_features() {
    let template = std::fs::read_to_string(vendored("alertmanager/routing-features.yml")).unwrap();
    let seq = side_by_side(
        &Target::enabled("side_by_side_routing_features"),
        &template,
        &ROUTING_RECEIVERS,
        &routing_scenario(),
        "routing-features.expected.json",
        "side_by_side_routing_features",
    );
    let names = |r: &str| -> Vec<String> {
        seq[r]
            .iter()
            .map(|n| {
                format!(
                    "{} {}",
                    n["status"].as_str().unwrap(),
                    n["groupLabels"]["alertname"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    // Muted and never-active routes send nothing.
    assert!(seq["muted"].is_empty() && seq["night"].is_empty());
    // The repeat: DbDown again at the second tick after its first notification.
    assert_eq!(
        names("db-pager"),
        [
            "firing DbDown",
            "firing DbDown",
            "resolved DbDown",
            "firing DbSlowQueries",
            "resolved DbSlowQueries"
        ]
    );
    // send_resolved false: only firing notifications, ApiLatency once its inhibitor resolved.
    assert_eq!(
        names("frontend-warn"),
        ["firing WebLatency", "firing ApiLatency"]
    );
    // group_by ['...']: the group labels are all the alert's labels.
    assert_eq!(
        seq["frontend-critical"][0]["groupLabels"],
        json!({"alertname": "ApiErrors", "env": "prod", "service": "api", "severity": "critical"})
    );
}

/// The harness itself: two real Alertmanagers on the routing-features scenario, posted the
/// same alerts at the same moments, compare equal (order, payloads, timing within one
/// group_interval) — so a difference against Sightline is Sightline's, not the harness'.
#[test]
fn harness_two_real_alertmanagers_agree() {
    need("prometheus-alertmanager");
    let template = std::fs::read_to_string(vendored("alertmanager/routing-features.yml")).unwrap();
    side_by_side(
        &[Target::RealAm, Target::RealAm],
        &template,
        &ROUTING_RECEIVERS,
        &routing_scenario(),
        "routing-features.expected.json",
        "harness_two_real_alertmanagers_agree",
    );
}

/// A config for the amtool and restart tests: everything to `hook`, pages to `pager`.
const SIMPLE: &str = "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: pager\n\
receivers:\n  - name: hook\n    webhook_configs:\n      - url: '@sink:hook@'\n  - name: pager\n    webhook_configs:\n      - url: '@sink:pager@'\n";

/// `text` without what differs between two servers or runs: timestamps and ids become
/// placeholders, runs of spaces (column padding, which follows the widths of ids) one space.
fn normalise_text(text: &str) -> String {
    let time =
        regex::Regex::new(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( UTC|Z|[+-]\d\d:\d\d)?")
            .unwrap();
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let spaces = regex::Regex::new(r" {2,}").unwrap();
    let t = time.replace_all(text, "<time>");
    let t = uuid.replace_all(&t, "<id>");
    t.lines()
        .map(|l| spaces.replace_all(l, " ").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What amtool printed for each command, normalised, as one transcript.
struct Transcript {
    url: String,
    /// The work directory, shown as `<work>` (files passed to amtool live there).
    work: String,
    lines: Vec<String>,
}

impl Transcript {
    /// Runs `amtool --alertmanager.url=<target> args...`, records the normalised exit code
    /// and output (JSON output compared as JSON), and returns the raw (code, stdout).
    fn run(&mut self, args: &[&str]) -> (i32, String) {
        let mut all = vec![self.url.as_str()];
        all.extend_from_slice(args);
        let (code, out, err) = amtool(&all);
        let shown = if args.contains(&"json") {
            let v: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("amtool {args:?}: not JSON ({e}): {out}"));
            normalise_json(&v).to_string()
        } else {
            normalise_text(&out)
        };
        let shown_args = normalise_text(&args.join(" ")).replace(&self.work, "<work>");
        self.lines.push(format!(
            "$ amtool {shown_args}\nexit {code}\n{shown}\n{}",
            normalise_text(&err)
        ));
        (code, out)
    }

    /// Re-runs `args` (≤ 10 s) until stdout contains `want`; records the final run.
    fn run_until(&mut self, args: &[&str], want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (code, out) = self.run(args);
            if code == 0 && out.contains(want) || Instant::now() > deadline {
                return out;
            }
            self.lines.pop();
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// amtool 0.25's commands against a target, as a normalised transcript; asserts on the way
/// what Alertmanager 0.25 does (so the Sightline transcript, compared whole, must too).
fn amtool_transcript(am: &Am, work: &Path) -> String {
    let mut t = Transcript {
        url: format!("--alertmanager.url=http://{}", am.addr),
        work: work.display().to_string(),
        lines: Vec::new(),
    };
    let (code, out) = t.run(&["alert", "query"]);
    assert_eq!(code, 0);
    assert!(!out.contains("AmtoolTest"), "{out}");
    let (code, _) = t.run(&[
        "alert",
        "add",
        "alertname=AmtoolTest",
        "severity=page",
        "instance=one",
        "--annotation=summary=from amtool",
    ]);
    assert_eq!(code, 0);
    let out = t.run_until(&["alert", "query"], "AmtoolTest");
    assert!(
        out.contains("from amtool") && out.contains("active"),
        "{out}"
    );
    t.run(&["alert", "query", "-o", "json"]);
    t.run(&["alert", "query", "-o", "extended", "alertname=AmtoolTest"]);
    let (code, id) = t.run(&[
        "silence",
        "add",
        "alertname=AmtoolTest",
        "-c",
        "maintenance",
        "-a",
        "tester",
    ]);
    assert_eq!(code, 0);
    let id = id.trim().to_string();
    // A newly posted alert matching the silence is silenced.
    let (code, _) = t.run(&["alert", "add", "alertname=AmtoolTest", "instance=two"]);
    assert_eq!(code, 0);
    let out = t.run_until(&["alert", "query", "--silenced"], "suppressed");
    assert_eq!(out.matches("suppressed").count(), 2, "{out}");
    t.run_until(&["alert", "query", "-s", "instance=two"], "suppressed");
    let (_, out) = t.run(&["alert", "query", "--active"]);
    assert!(
        !out.contains("AmtoolTest"),
        "silenced alerts are not active: {out}"
    );
    let (code, out) = t.run(&["silence", "query"]);
    assert_eq!(code, 0);
    assert!(out.contains(&id) && out.contains("maintenance"), "{out}");
    let (code, json_out) = t.run(&["silence", "query", "-o", "json"]);
    assert_eq!(code, 0);
    let exported = work.join("silences.json");
    std::fs::write(&exported, &json_out).unwrap();
    let (_, q) = t.run(&["silence", "query", "-q"]);
    assert_eq!(q.trim(), id);
    let (code, _) = t.run(&["silence", "expire", &id]);
    assert_eq!(code, 0);
    let (_, out) = t.run(&["silence", "query"]);
    assert!(!out.contains(&id), "{out}");
    let (_, out) = t.run(&["silence", "query", "--expired"]);
    assert!(out.contains(&id), "{out}");
    t.run_until(&["alert", "query", "--active"], "AmtoolTest");
    let (code, _) = t.run(&["silence", "import", exported.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (_, out) = t.run(&["silence", "query"]);
    assert!(out.contains("maintenance") && !out.contains(&id), "{out}");
    let (code, _) = t.run(&["silence", "expire", "00000000-0000-0000-0000-000000000000"]);
    assert_ne!(code, 0, "expiring an unknown silence fails");
    // The routing tree and routes test read the config from /api/v2/status.
    let (code, out) = t.run(&["config", "routes", "test", "severity=page"]);
    assert_eq!((code, out.trim()), (0, "pager"));
    let (code, out) = t.run(&["config", "routes", "test", "alertname=x"]);
    assert_eq!((code, out.trim()), (0, "hook"));
    let (code, _) = t.run(&[
        "config",
        "routes",
        "test",
        "--verify.receivers=hook",
        "severity=page",
    ]);
    assert_eq!(code, 1, "a receiver that does not match fails the test");
    let (code, out) = t.run(&["config", "routes"]);
    assert_eq!(code, 0);
    assert!(out.contains("receiver: pager"), "{out}");
    t.lines.join("\n")
}

/// amtool 0.25 against the target: alert query/add, silence add/query/expire/import, the
/// silenced view, config routes (show, test); the Sightline transcript must equal the real
/// Alertmanager's but for ids and timestamps. `check-config` is local: `sightline check
/// alertmanager` must print what amtool prints on a valid config, and fail the same way on
/// an invalid one (its message adds `file:line:col`, which the issue asks for).
#[test]
fn amtool_against_target() {
    // The real Alertmanager twice: two servers' transcripts must already be equal once
    // normalised (ids, times, paths, padding), or the comparison with Sightline means nothing.
    let mut targets = vec![Target::RealAm];
    targets.extend(Target::enabled("amtool_against_target"));
    let mut transcripts = Vec::new();
    for target in targets {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let am = Am::start(target, &sinks.render(SIMPLE), work.path());
        transcripts.push((target, amtool_transcript(&am, work.path())));
    }
    println!("amtool against Alertmanager 0.25:\n{}", transcripts[0].1);
    for (target, other) in &transcripts[1..] {
        assert_eq!(
            other, &transcripts[0].1,
            "amtool against {target:?} (left) differs from against Alertmanager 0.25 (right)"
        );
    }

    let work = tempfile::tempdir().unwrap();
    let sinks = Sinks::new(&ROUTING_RECEIVERS);
    let good = work.path().join("routing-features.yml");
    let template = std::fs::read_to_string(vendored("alertmanager/routing-features.yml")).unwrap();
    std::fs::write(&good, sinks.render(&template)).unwrap();
    let bad = work.path().join("bad.yml");
    std::fs::write(
        &bad,
        "route:\n  receiver: nope\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: 'http://127.0.0.1:9/x'\n",
    )
    .unwrap();
    let run = |cmd: &str, args: &[&str], file: &Path| {
        let out = std::process::Command::new(cmd)
            .args(args)
            .arg(file.file_name().unwrap())
            .current_dir(work.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, want) = run("amtool", &["check-config"], &good);
    assert_eq!(code, Some(0), "{want}");
    assert_eq!(run(BIN, &["check", "alertmanager"], &good), (code, want));
    let (code, want) = run("amtool", &["check-config"], &bad);
    assert_eq!(code, Some(1), "{want}");
    let (ours_code, ours) = run(BIN, &["check", "alertmanager"], &bad);
    assert_eq!(ours_code, code, "{ours}");
    let strip_position = regex::Regex::new(r"FAILED: bad\.yml:\d+:\d+: ").unwrap();
    assert_eq!(strip_position.replace(&ours, "FAILED: "), want);
}

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
        assert_eq!(alert_state(&am, "Quiet")["state"], "active", "{target:?}");
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

/// The comparison catches what it must: a payload that differs, a missing notification, and
/// one more than a group_interval late.
#[test]
fn harness_comparison_rejects_differences() {
    let n = |status: &str| json!({"receiver": "r", "status": status, "groupKey": "{}:{}"});
    let am: Notifications = [(
        "r".to_string(),
        vec![(1_000, n("firing")), (5_000, n("resolved"))],
    )]
    .into_iter()
    .collect();
    let fails = |ours: Notifications| {
        let am = am.clone();
        std::panic::catch_unwind(move || {
            assert_same_notifications(&am, Target::Sightline, &ours, TICK_MS)
        })
        .is_err()
    };
    let same = am.clone();
    assert!(!fails(same), "identical notifications compare equal");
    let mut late = am.clone();
    late.get_mut("r").unwrap()[1].0 = 7_500;
    assert!(fails(late), "2.5 s late");
    let mut other = am.clone();
    other.get_mut("r").unwrap()[1].1 = n("firing");
    assert!(fails(other), "another status");
    let mut missing = am.clone();
    missing.get_mut("r").unwrap().pop();
    assert!(fails(missing), "one notification missing");
    // The tick bucket orders groups flushed on one tick by group key, whatever the arrival.
    let mut v = vec![
        (1_020, json!({"groupKey": "b"})),
        (1_010, json!({"groupKey": "a"})),
        (3_000, json!({"groupKey": "a"})),
    ];
    by_tick(&mut v, TICK_MS);
    let keys: Vec<&str> = v
        .iter()
        .map(|(_, p)| p["groupKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b", "a"]);
}
