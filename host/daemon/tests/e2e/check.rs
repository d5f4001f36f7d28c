//! `sightline check config`: promtool's contract (exit 0 valid, 1 invalid, located errors).

use std::process::Command;

use crate::support::{vendored, BIN};

/// The code block of the seed document that starts with `first_line`, unchanged.
fn seed_block(first_line: &str) -> String {
    let doc = std::fs::read_to_string(vendored("seed/monitoring-setup.md")).unwrap();
    let start = doc
        .find(first_line)
        .unwrap_or_else(|| panic!("seed block {first_line:?}"));
    let end = start + doc[start..].find("```").expect("end of block");
    doc[start..end].to_string()
}

/// The prometheus.yml block of the seed document, unchanged.
pub(crate) fn seed_prometheus_yml() -> String {
    seed_block("# /etc/prometheus/prometheus.yml")
}

#[test]
fn check_config_accepts_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(&p, seed_prometheus_yml()).unwrap();
    // The seed's rule file sits beside it.
    std::fs::write(dir.path().join("alerts.yml"), "groups: []\n").unwrap();
    let out = Command::new(BIN)
        .args(["check", "config"])
        .arg(&p)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn check_config_rejects_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yml");
    std::fs::write(&p, "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: x\n    scrape_timeout: banana\n").unwrap();
    let out = Command::new(BIN)
        .args(["check", "config"])
        .arg(&p)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{}:5:", p.display())),
        "error must carry file:line:col: {text}"
    );
}

/// The alertmanager.yml block of the seed document, unchanged.
fn seed_alertmanager_yml() -> String {
    seed_block("# /etc/alertmanager/alertmanager.yml")
}

#[test]
fn check_alertmanager_resolves_receivers_to_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("alertmanager.yml");
    std::fs::write(&seed, seed_alertmanager_yml()).unwrap();
    let xdg = dir.path().join("xdg");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(["check", "alertmanager"])
            .args(args)
            // The compile cache goes to the user's cache directory: keep it in the test's.
            .env("XDG_CACHE_HOME", &xdg)
            .env_remove("SLACK_WEBHOOK")
            .env_remove("PAGERDUTY_KEY")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let seed_arg = seed.to_str().unwrap();

    // The seed's `$SLACK_WEBHOOK` unset: an error naming the variable at its position.
    let (code, text) = run(&[seed_arg], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("alertmanager.yml:") && text.contains("\"SLACK_WEBHOOK\" is not set"),
        "{text}"
    );

    // Set: amtool check-config's report.
    let env = [
        ("SLACK_WEBHOOK", "http://127.0.0.1:1/x"),
        ("PAGERDUTY_KEY", "k"),
    ];
    let (code, text) = run(&[seed_arg], &env);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        text,
        format!("Checking '{seed_arg}'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 2 receivers\n - 0 templates\n\n")
    );

    // Against a plugins directory holding only the webhook receiver: the seed's slack and
    // pagerduty integrations have no plugin; a webhook receiver resolves.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "webhook",
        &sightline_tests::first_party("webhook"),
        None,
    );
    let pdir = format!("--plugins.dir={}", plugins.display());
    let (code, text) = run(&[seed_arg, &pdir], &env);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("default -> plugin slack")
            && text.contains("no plugin \"slack\"")
            && text.contains("pagerduty -> plugin pagerduty")
            && text.contains("no plugin \"pagerduty\""),
        "{text}"
    );
    let hook = dir.path().join("hook.yml");
    std::fs::write(
        &hook,
        "route: {receiver: ops}\nreceivers:\n  - name: ops\n    webhook_configs:\n      - url: 'http://127.0.0.1:9/hook'\n",
    )
    .unwrap();
    let (code, text) = run(&[hook.to_str().unwrap(), &pdir], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("ops -> plugin webhook") && text.contains("ok"),
        "{text}"
    );
}

/// `sightline check alertmanager` and `sightline alerts routes` against amtool 0.25 on the
/// same files: the same report, tree, receivers and exit codes; `sightline alerts` without a
/// subcommand still lists a server's alerts (it only fails to connect here).
#[test]
fn alertmanager_commands_print_what_amtool_prints() {
    crate::sidebyside::need("amtool");
    let features = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../alerts/tests/routing-features.yml"
    );
    let run = |cmd: &str, args: &[&str]| {
        let out = Command::new(cmd).args(args).output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code(),
        )
    };
    // check-config: a good file and a bad one.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "route: {receiver: nope}\nreceivers: [{name: r}]\n").unwrap();
    let bad = bad.to_str().unwrap();
    let (ours, code) = run(BIN, &["check", "alertmanager", features]);
    assert_eq!((ours, code), run("amtool", &["check-config", features]));
    let (ours, code) = run(BIN, &["check", "alertmanager", bad]);
    let (theirs, their_code) = run("amtool", &["check-config", bad]);
    assert_eq!(code, their_code, "{ours}");
    assert!(
        theirs.contains("FAILED: undefined receiver \"nope\" used in route")
            && ours.starts_with(&format!(
                "Checking '{bad}'  FAILED: {bad}:1:8: undefined receiver \"nope\" used in route"
            )),
        "{ours}\n{theirs}"
    );
    // routes show and test.
    let cf = format!("--config.file={features}");
    assert_eq!(
        run(BIN, &["alerts", "routes", "show", &cf]),
        run("amtool", &["config", "routes", "show", &cf])
    );
    assert_eq!(
        run(BIN, &["alerts", "routes", &cf]),
        run("amtool", &["config", "routes", &cf])
    );
    for args in [
        vec!["severity=page", "service=db"],
        vec!["--tree", "service=cache", "env=staging"],
        vec![
            "--verify.receivers=db-pager,db-team",
            "severity=page",
            "service=db",
        ],
        vec!["--verify.receivers=web", "team=frontend", "severity=page"],
        vec!["team=~x"],
    ] {
        let mut ours = vec!["alerts", "routes", "test", cf.as_str()];
        ours.extend(args.iter().copied());
        let mut theirs = vec!["config", "routes", "test", cf.as_str()];
        theirs.extend(args.iter().copied());
        assert_eq!(run(BIN, &ours), run("amtool", &theirs), "{args:?}");
    }
    // `alerts` without a subcommand is still the server listing.
    let (_, code) = run(
        BIN,
        &[
            "alerts",
            "--state",
            "firing",
            "--server",
            "http://127.0.0.1:1",
        ],
    );
    assert_eq!(code, Some(1));
}
