//! SLOs end to end (issue 15): the shipped SLO examples (the seed's `slos:` block and Sloth's
//! getting-started spec) generate the rule files committed beside them, and their unit tests
//! pass in both `sightline test rules` and Debian's promtool 2.42; an SLO spec listed in
//! `rule_files` runs in the daemon and is served at `/api/v1/slos`.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/slo")
}

fn run_in(dir: &std::path::Path, cmd: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e} (promtool: Debian's prometheus package)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// (spec, generated rule file, unit tests) of each example.
const EXAMPLES: [(&str, &str, &str); 2] = [
    ("seed-slos.yml", "seed-slos.rules.yml", "seed-slos-test.yml"),
    (
        "sloth/getting-started.yml",
        "sloth-getting-started.rules.yml",
        "sloth-getting-started-test.yml",
    ),
];

#[test]
fn slo_examples_are_generated_and_pass_in_sightline_and_promtool() {
    let dir = examples();
    let work = tempfile::tempdir().unwrap();
    for (spec, rules, tests) in EXAMPLES {
        // The committed rule file is what `check slos --out` writes today.
        let out = work.path().join(rules);
        let (code, text) = run_in(
            &dir,
            BIN,
            &["check", "slos", spec, "--out", out.to_str().unwrap()],
        );
        assert_eq!(code, 0, "check slos {spec}: {text}");
        assert!(text.contains("SUCCESS"), "{text}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(dir.join(rules)).unwrap(),
            "{rules} is stale: regenerate it with `sightline check slos {spec} --out {rules}` in examples/slo"
        );
        let (ours, out_ours) = run_in(&dir, BIN, &["test", "rules", tests]);
        let (prom, out_prom) = run_in(&dir, "promtool", &["test", "rules", tests]);
        println!("{tests}: sightline exit {ours}, promtool 2.42 exit {prom}");
        assert_eq!(ours, 0, "sightline test rules {tests}:\n{out_ours}");
        assert_eq!(prom, 0, "promtool test rules {tests}:\n{out_prom}");
        // The spec itself works as a rule file: the same tests pass against it.
        let text = std::fs::read_to_string(dir.join(tests)).unwrap();
        let direct = text.replace(
            &format!("rule_files: [{rules}]"),
            &format!("rule_files: ['{}']", dir.join(spec).display()),
        );
        assert_ne!(direct, text);
        let t = work.path().join(tests);
        std::fs::write(&t, direct).unwrap();
        let (code, out) = run_in(work.path(), BIN, &["test", "rules", tests]);
        assert_eq!(
            code, 0,
            "sightline test rules {tests} on the spec itself:\n{out}"
        );
        // And `check rules` reads the spec as a rule file.
        let (code, out) = run_in(&dir, BIN, &["check", "rules", spec]);
        assert_eq!(code, 0, "check rules {spec}: {out}");
    }
    // Sloth's other vendored examples check too.
    for spec in ["sloth/kubernetes-apiserver.yml", "sloth/raw-home-wifi.yml"] {
        let (code, text) = run_in(&dir, BIN, &["check", "slos", spec]);
        assert_eq!(code, 0, "check slos {spec}: {text}");
    }
    // A broken spec fails with its position.
    let bad = work.path().join("bad.yml");
    std::fs::write(
        &bad,
        "version: \"prometheus/v1\"\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli:\n      events:\n        error_query: x\n        total_querry: y\n",
    )
    .unwrap();
    let (code, text) = run_in(work.path(), BIN, &["check", "slos", "bad.yml"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("bad.yml: 9:9: slos[0].sli.events: unknown field `total_querry`"),
        "{text}"
    );
}

#[test]
fn slo_spec_in_rule_files_runs_and_is_served_at_api_v1_slos() {
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("seed-slos.yml");
    std::fs::copy(examples().join("seed-slos.yml"), &spec).unwrap();
    let target = TargetServer::start(
        "text/plain; version=0.0.4",
        "http_requests_total{status=\"200\"} 1000\nhttp_requests_total{status=\"500\"} 1\n",
    );
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
rule_files:\n  - '{}'\n\
scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{}']\n",
        spec.display(),
        target.addr
    );
    let d = Daemon::start(Some(&config), &[]);
    // The SLO's groups are rule groups, named as Sloth names them.
    let rules = d.get_json("/api/v1/rules");
    let names: Vec<String> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    for g in [
        "sloth-slo-sli-recordings-seed-slos-availability",
        "sloth-slo-meta-recordings-seed-slos-latency",
        "sloth-slo-alerts-seed-slos-error_rate",
    ] {
        assert!(names.iter().any(|n| n == g), "{g} not in {names:?}");
    }
    let all = d.get_json("/api/v1/slos");
    let slos = all["data"]["slos"].as_array().unwrap();
    let mut seen: Vec<&str> = slos.iter().map(|s| s["name"].as_str().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, ["availability", "error_rate", "latency"]);
    // `up` is 1 on every scrape: once recorded, no error and the whole budget left.
    let slo = eventually(30, "the availability SLO's budget", || {
        let s = d.get_json("/api/v1/slos/availability");
        (s["data"]["errorBudgetRemaining"].as_f64() == Some(1.0)).then_some(s)
    });
    let s = &slo["data"];
    assert_eq!(s["id"], "seed-slos-availability");
    assert_eq!(s["service"], "seed-slos");
    assert_eq!(s["period"], "30d");
    assert!(
        (s["objective"].as_f64().unwrap() - 0.999).abs() < 1e-12,
        "{s}"
    );
    assert_eq!(s["burnRates"]["5m"].as_f64(), Some(0.0), "{s}");
    let alerts = s["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{s}");
    assert!(alerts.iter().all(|a| a["state"] == "inactive"), "{s}");
    let sev: Vec<&str> = alerts
        .iter()
        .map(|a| a["severity"].as_str().unwrap())
        .collect();
    assert_eq!(sev, ["page", "ticket"]);
    // The name filter, and a 404 for an unknown SLO.
    let f = d.get_json("/api/v1/slos?name=latency");
    assert_eq!(f["data"]["slos"].as_array().unwrap().len(), 1);
    let (code, _) = http_get(&d.addr, "/api/v1/slos/nope").unwrap();
    assert_eq!(code, 404);
    d.stop();
    drop(target);
}
