//! Any receiver plugin by its name (Sightline's `<plugin>_configs` extension): the
//! first-party webhook plugin installed as `my-hook.wasm` serves `my-hook_configs`, with the
//! host applying `http_config`; the status echo stays readable by amtool; a `<name>_configs`
//! whose plugin is not loaded is refused at startup and at reload; a plugin removed later
//! makes its notifications fail, counted, without stopping the daemon.

use serde_json::json;
use std::path::Path;

use crate::am_support::*;
use crate::support::*;

const CONFIG: &str = "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    my-hook_configs:\n      - url: '@sink:hook@/plugin'\n        http_config:\n          basic_auth: {username: u, password: pw}\n";

/// Beside `my-hook`, a contract 0.1 plugin (the `receiver-v1` test guest, which reads its
/// flattened `url` setting) as `v1-hook_configs`.
const WITH_V1: &str = "    v1-hook_configs:\n      - url: '@sink:v1@/flat'\n";

/// A plugins directory with the webhook plugin installed as `my-hook`, granted the host of
/// its `url` setting (127.0.0.1 here) as the webhook's own manifest grants it.
fn install_my_hook(plugins: &Path) {
    std::fs::create_dir_all(plugins).unwrap();
    sightline_tests::install(
        plugins,
        "my-hook",
        &sightline_tests::first_party("webhook"),
        Some("[http]\nallow_config_url_keys = [\"url\"]\n"),
    );
}

fn metric_value(d: &Daemon, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (_, text) = http_get(&d.addr, "/metrics").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let series = l.rsplit_once(' ').map(|(s, _)| s).unwrap_or("");
            series.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[test]
fn a_receiver_plugin_serves_its_own_configs_key() {
    let sinks = Sinks::new(&["hook", "v1"]);
    let dir = tempfile::tempdir().unwrap();
    install_my_hook(&dir.path().join("plugins"));
    sightline_tests::install(
        &dir.path().join("plugins"),
        "v1-hook",
        &sightline_tests::guest("receiver-v1"),
        Some("[http]\nallow_config_url_keys = [\"url\"]\n"),
    );
    let am_yml = dir.path().join("alertmanager.yml");
    std::fs::write(&am_yml, sinks.render(&format!("{CONFIG}{WITH_V1}"))).unwrap();
    let flag = format!("--alertmanager.config.file={}", am_yml.display());
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[&flag]);

    post_alerts(
        &d.addr,
        &json!([{"labels": {"alertname": "Custom", "severity": "warning"},
                 "annotations": {"summary": "through my-hook"}}]),
    );
    let sink = &sinks.0["hook"];
    let got = eventually(20, "a notification through my-hook", || {
        sink.received().into_iter().next()
    });
    assert_eq!(got.path, "/hook/plugin");
    assert_eq!(got.body["version"], "4");
    assert_eq!(got.body["receiver"], "hook");
    assert_eq!(got.body["status"], "firing");
    assert_eq!(got.body["alerts"][0]["labels"]["alertname"], "Custom");
    // http_config is the host's: basic auth u:pw.
    let auth = got
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Basic dTpwdw=="));
    // The 0.1 plugin got its entry flattened (`url` as a string).
    let v1 = eventually(20, "a notification through v1-hook", || {
        sinks.0["v1"].received().into_iter().next()
    });
    assert_eq!(v1.path, "/v1/flat");
    let raw = String::from_utf8_lossy(&v1.raw).to_string();
    assert!(raw.contains("\"version\":\"v1\""), "{raw}");
    let sent = metric_value(
        &d,
        "sightline_alertmanager_notifications_total",
        &[("integration", "my-hook")],
    );
    assert!(
        sent >= 1.0,
        "notifications_total{{integration=\"my-hook\"}} = {sent}"
    );

    // The receiver is listed; the echoed config leaves the extension out so that amtool,
    // which parses it with Alertmanager's strict loader, can read it.
    let receivers = d.get_json("/api/v2/receivers");
    assert_eq!(receivers, json!([{"name": "hook"}]));
    let status = d.get_json("/api/v2/status");
    let original = status["config"]["original"].as_str().unwrap();
    assert!(
        !original.contains("my-hook") && !original.contains("v1-hook"),
        "{original}"
    );
    assert!(original.contains("name: hook"), "{original}");
    {
        need("amtool");
        let url = format!("--alertmanager.url=http://{}", d.addr);
        let (code, out, err) = amtool(&["config", "routes", &url]);
        assert_eq!(code, 0, "amtool config routes: {out}{err}");
        assert!(out.contains("default-route  receiver: hook"), "{out}");
        println!("amtool config routes against the daemon:\n{out}");
        let ours = std::process::Command::new(BIN)
            .args([
                "alerts",
                "routes",
                "--server",
                &format!("http://{}", d.addr),
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            out,
            "sightline alerts routes"
        );
    }
    println!(
        "my-hook: {} notification(s) delivered, Authorization {auth:?}",
        sink.received().len()
    );
}

#[test]
fn a_configs_key_without_its_plugin_is_refused_and_a_removed_plugin_fails_visibly() {
    // At startup: the daemon refuses the file, naming the plugin file to install.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    let am_yml = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am_yml,
        "route:\n  receiver: r\nreceivers:\n  - name: r\n    slak_configs:\n      - api_url: 'http://127.0.0.1:9/'\n",
    )
    .unwrap();
    let flag = format!("--alertmanager.config.file={}", am_yml.display());
    let mut d = Daemon::spawn_at(dir, Some("scrape_configs: []\n"), &[&flag]);
    let st = d.wait_exit();
    assert!(!st.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut d.child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("no receiver plugin \"slak\" is loaded (install plugins/slak.wasm")
            && err.contains("did you mean slack_configs?"),
        "{err}"
    );

    // At reload: the running configuration stays.
    let sinks = Sinks::new(&["hook"]);
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    install_my_hook(&plugins);
    let am_yml = dir.path().join("alertmanager.yml");
    let good = sinks.render(CONFIG);
    std::fs::write(&am_yml, &good).unwrap();
    let flag = format!("--alertmanager.config.file={}", am_yml.display());
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[&flag]);
    std::fs::write(
        &am_yml,
        good.replace("my-hook_configs", "other-hook_configs"),
    )
    .unwrap();
    d.send_signal("HUP");
    eventually(20, "the reload to fail", || {
        (metric_value(&d, "sightline_config_last_reload_successful", &[]) == 0.0).then_some(())
    });
    assert_eq!(
        d.get_json("/api/v2/receivers"),
        json!([{"name": "hook"}]),
        "the old configuration keeps running"
    );
    std::fs::write(&am_yml, &good).unwrap();

    // A plugin removed while configured: its notifications fail, are counted, and the
    // daemon keeps serving.
    std::fs::remove_file(plugins.join("my-hook.wasm")).unwrap();
    eventually(20, "my-hook to be unloaded", || {
        let list = d.get_json("/api/v1/plugins");
        let text = list.to_string();
        (!text.contains("\"my-hook\"") || text.contains("\"unloaded\"")).then_some(())
    });
    post_alerts(
        &d.addr,
        &json!([{"labels": {"alertname": "Orphan"}, "annotations": {}}]),
    );
    let failed = eventually(30, "a failed my-hook notification", || {
        let n = metric_value(
            &d,
            "sightline_alertmanager_notifications_failed_total",
            &[("integration", "my-hook")],
        );
        (n >= 1.0).then_some(n)
    });
    assert!(sinks.0["hook"].received().is_empty());
    assert!(matches!(http_get(&d.addr, "/-/ready"), Ok((200, _))));
    println!("removed plugin: notifications_failed_total{{integration=\"my-hook\"}} = {failed}");
}

/// `sightline check alertmanager` without a plugins directory accepts `<plugin>_configs`
/// with a note (it cannot tell a plugin from a typo); with `--plugins.dir` it checks them.
#[test]
fn check_alertmanager_notes_plugin_integrations() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(
        &file,
        "route: {receiver: r}\nreceivers:\n  - name: r\n    my-hook_configs:\n      - url: 'http://127.0.0.1:9/x'\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(["check", "alertmanager"])
            .args(args)
            .env("XDG_CACHE_HOME", dir.path().join("xdg"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let f = file.to_str().unwrap();
    let (code, text) = run(&[f]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("  SUCCESS\n")
            && text.contains(
                " - r -> plugin my-hook (my-hook_configs[0]): needs plugins/my-hook.wasm"
            ),
        "{text}"
    );
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let pdir = format!("--plugins.dir={}", plugins.display());
    let (code, text) = run(&[f, &pdir]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no plugin \"my-hook\""), "{text}");
    let typo = dir.path().join("typo.yml");
    std::fs::write(
        &typo,
        "route: {receiver: r}\nreceivers:\n  - name: r\n    slak_configs:\n      - api_url: 'http://127.0.0.1:9/x'\n",
    )
    .unwrap();
    let (code, text) = run(&[typo.to_str().unwrap(), &pdir]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no plugin \"slak\" in the plugins directory; did you mean slack_configs?"),
        "{text}"
    );
    install_my_hook(&plugins);
    let (code, text) = run(&[f, &pdir]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("r -> plugin my-hook (my-hook_configs[0]): ok"),
        "{text}"
    );
}
