//! Sightline's `<plugin>_configs` extension: any receiver plugin by its name, free-form
//! settings, Alertmanager's own kinds still strict, typos refused once the plugins are known.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use serde_yaml::Value;
use sightline_alerts::{check_plugin_kinds, load_str, redacted_config, Config};

fn env(k: &str) -> Option<String> {
    (k == "TOKEN").then(|| "t0k3n".to_string())
}

fn load(y: &str) -> Result<Config, String> {
    load_str(y, "am.yml", &env).map_err(|e| e.to_string())
}

const EXT: &str = r#"
global:
  http_config:
    follow_redirects: false
route:
  receiver: r
receivers:
  - name: r
    my-hook_configs:
      - url: 'http://127.0.0.1:9/x'
        token: '$TOKEN'
        nested: {list: [1, two], deep: {a: b}}
      - send_resolved: false
        http_config: {basic_auth: {username: u, password: p}}
    webhook_configs: [{url: 'http://127.0.0.1:9/w'}]
  - name: nulls
    other_plugin_configs: [~]
"#;

#[test]
fn any_plugin_name_is_an_integration_with_free_form_settings() {
    let cfg = load(EXT).unwrap();
    let r = &cfg.receivers[0];
    // Alertmanager's kinds first (config.Receiver's order), then extensions in file order.
    let kinds: Vec<(&str, usize, bool)> = r
        .integrations
        .iter()
        .map(|i| (i.kind.as_str(), i.index, i.is_extension()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("webhook", 0, false),
            ("my-hook", 0, true),
            ("my-hook", 1, true)
        ]
    );
    let first = &r.integrations[1];
    // send_resolved defaults to true, as Alertmanager's webhook.
    assert!(first.send_resolved);
    assert_eq!(first.settings.get("token"), Some(&Value::from("t0k3n")));
    assert!(first.settings.get("nested").unwrap().is_mapping());
    // The global http_config is inherited as by Alertmanager's kinds.
    assert!(first.settings.get("http_config").is_some());
    let second = &r.integrations[2];
    assert!(!second.send_resolved);
    let basic = &second.settings["http_config"]["basic_auth"]["username"];
    assert_eq!(basic, &Value::from("u"));
    // A null entry is an empty one for a plugin, with the default send_resolved.
    let n = &cfg.receivers[1].integrations[0];
    assert!(n.send_resolved && n.is_extension() && n.kind == "other_plugin");
    let flat = first.flat_settings();
    assert_eq!(flat["nested.deep.a"], "b");
    assert_eq!(flat["nested.list"], "[1,\"two\"]");
}

#[test]
fn alertmanagers_kinds_stay_strict_and_bad_extensions_are_refused() {
    let base = "route:\n  receiver: r\nreceivers:\n  - name: r\n";
    for (yaml, want) in [
        (
            format!("{base}    slack_configs:\n      - api_url: 'https://x'\n        bogus: 1\n"),
            "am.yml:7:16: field bogus not found in type config.plain",
        ),
        // Not a plugin name: Go's words, as before.
        (
            format!("{base}    Hook_configs: []\n"),
            "am.yml:5:19: field Hook_configs not found in type config.plain",
        ),
        (
            format!("{base}    configs: []\n"),
            "field configs not found in type config.plain",
        ),
        (
            format!("{base}    my-hook_configs:\n      - send_resolved: maybe\n"),
            "am.yml:6:24:",
        ),
        (
            format!("{base}    my-hook_configs:\n      - http_config: {{bogus: 1}}\n"),
            "field bogus not found",
        ),
        (
            format!("{base}    my-hook_configs:\n      - just text\n"),
            "am.yml:6:9: cannot unmarshal !!str into config.plugin",
        ),
        (
            format!("{base}    my-hook_configs: {{url: x}}\n"),
            "am.yml:5:22:",
        ),
        (
            format!("{base}    my-hook_configs:\n      - url: '$UNSET'\n"),
            "environment variable \"UNSET\" is not set",
        ),
    ] {
        let err = load(&yaml).expect_err(&yaml);
        assert!(err.contains(want), "{yaml}\ngot:  {err}\nwant: {want}");
    }
}

#[test]
fn a_typo_is_refused_once_the_loaded_plugins_are_known() {
    let yaml = "route:\n  receiver: r\nreceivers:\n  - name: r\n    slak_configs:\n      - api_url: 'https://x'\n";
    // The parser alone cannot tell a typo from a plugin it has not seen.
    let cfg = load(yaml).unwrap();
    let err = check_plugin_kinds(&cfg, &|p| p == "slack").unwrap_err();
    assert_eq!(
        err,
        "receiver \"r\": slak_configs: no receiver plugin \"slak\" is loaded (install \
         plugins/slak.wasm, or use one of Alertmanager's <kind>_configs); did you mean \
         slack_configs?"
    );
    assert!(check_plugin_kinds(&cfg, &|p| p == "slak").is_ok());
    // Alertmanager's kinds are not the plugin check's business.
    let am = load("route:\n  receiver: r\nreceivers:\n  - name: r\n    webhook_configs: [{url: 'http://x/'}]\n").unwrap();
    assert!(check_plugin_kinds(&am, &|_| false).is_ok());
}

#[test]
fn the_status_echo_stays_readable_by_alertmanagers_loader() {
    let r = redacted_config(EXT);
    assert!(!r.contains("my-hook") && !r.contains("other_plugin"), "{r}");
    // What amtool parses must load without the extension.
    let cfg = load(&r).unwrap();
    assert_eq!(cfg.receivers[0].integrations.len(), 1);
    assert!(cfg.receivers[1].integrations.is_empty());
}
