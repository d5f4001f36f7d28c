//! Plugins as the daemon runs them (issue 13): exporter plugins called once per target with
//! that target, and the CLI commands caching compiled code only in the user's cache directory.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{eventually, urlencode, Daemon, BIN};

/// A job with two static targets and `plugin:` makes two calls, each told its own address,
/// params (the job's, overridden per target by a `__param_` label) and scrape timeout, and
/// each producing its own `instance`.
#[test]
fn exporter_plugin_is_called_once_per_target_with_that_target() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "target-exporter",
        &sightline_tests::guest("target-exporter"),
        None,
    );
    let config = "\
scrape_configs:
  - job_name: db
    scrape_interval: 1s
    scrape_timeout: 500ms
    plugin: target-exporter
    params:
      module: [default]
    static_configs:
      - targets: ['db1:5432']
      - targets: ['db2:3306']
        labels:
          __param_module: mysql
";
    let d = Daemon::start_in(dir, Some(config), &[]);
    let q = format!(
        "/api/v1/query?query={}",
        urlencode("guest_target_info{job=\"db\"}")
    );
    let series = eventually(20, "both targets scraped", || {
        let v = d.get_json(&q);
        let r = v["data"]["result"].as_array()?.clone();
        (r.len() == 2).then_some(r)
    });
    let mut seen: Vec<(String, String, String, String)> = series
        .iter()
        .map(|s| {
            let m = &s["metric"];
            let get = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (
                get("instance"),
                get("address"),
                get("module"),
                get("timeout"),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "db1:5432".into(),
                "db1:5432".into(),
                "default".into(),
                "0.5".into()
            ),
            (
                "db2:3306".into(),
                "db2:3306".into(),
                "mysql".into(),
                "0.5".into()
            ),
        ],
        "{series:?}"
    );
    let targets = d.get_json("/api/v1/targets");
    let mut urls: Vec<String> = targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["scrapeUrl"].as_str().unwrap().to_string())
        .collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            "plugin://target-exporter/db1:5432?module=default",
            "plugin://target-exporter/db2:3306?module=mysql",
        ]
    );
}

/// `plugin list` and `check alertmanager` keep compiled code in `$XDG_CACHE_HOME/sightline`,
/// owner-only, and never read or write `<plugins dir>/.cache`.
#[test]
fn plugin_commands_cache_in_the_user_cache_dir_only() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "webhook",
        &sightline_tests::first_party("webhook"),
        None,
    );
    // Planted where the cache used to be: garbage that would fail to deserialize (and be
    // removed) if anything read it.
    std::fs::create_dir_all(plugins.join(".cache")).unwrap();
    let planted = plugins.join(".cache/planted.cwasm");
    std::fs::write(&planted, b"not native code").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("XDG_CACHE_HOME", &xdg)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {text}");
        text
    };
    let pdir = format!("--plugins.dir={}", plugins.display());
    for _ in 0..2 {
        let table = run(&["plugin", "list", &pdir]);
        assert!(
            table.contains("webhook") && table.contains("receiver"),
            "{table}"
        );
    }
    let hook = dir.path().join("hook.yml");
    std::fs::write(
        &hook,
        "route: {receiver: ops}\nreceivers:\n  - name: ops\n    webhook_configs:\n      - url: 'http://127.0.0.1:9/hook'\n",
    )
    .unwrap();
    let text = run(&["check", "alertmanager", hook.to_str().unwrap(), &pdir]);
    assert!(text.contains("ops -> plugin webhook"), "{text}");

    let cache = xdg.join("sightline/plugin-cache");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 2, "the key and one compiled plugin: {files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    let plugin_dir_files: Vec<_> = std::fs::read_dir(plugins.join(".cache"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(plugin_dir_files, [planted], "nothing read or written there");
}
