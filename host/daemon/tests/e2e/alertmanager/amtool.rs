//! amtool 0.25 against the target (issue 16: "amtool 0.25 against Sightline ... give what
//! they give against Alertmanager"), and `check-config` against `sightline check alertmanager`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{ROUTING_RECEIVERS, SIMPLE};
use crate::am_support::*;
use crate::support::*;

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
