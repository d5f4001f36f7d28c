//! The first-party plugins in plugins/: node-exporter and webhook.

use sightline_plugin_runtime::cli::{plugin_test, PluginTestOptions};
use sightline_plugin_runtime::{PluginHost, PluginHostConfig, SampleValue};

use crate::common::{first_party, install, repo_root};

#[tokio::test]
async fn node_exporter_reports_node_exporter_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(repo_root().join("plugins/node-exporter.toml")).unwrap();
    install(
        dir.path(),
        "node-exporter",
        &first_party("node-exporter"),
        Some(&toml),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let fams = host.collect("node-exporter").await.unwrap();
    let find = |n: &str| fams.iter().find(|f| f.name == n);
    for name in [
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_load1",
        "node_load15",
        "node_vmstat_oom_kill",
        "node_network_receive_bytes_total",
        "node_network_transmit_bytes_total",
        "node_boot_time_seconds",
        "node_context_switches_total",
        "node_uname_info",
        "node_time_seconds",
    ] {
        assert!(
            find(name).is_some(),
            "missing {name}; have {:?}",
            fams.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
    }
    let cpu = find("node_cpu_seconds_total").unwrap();
    assert!(cpu
        .samples
        .iter()
        .any(|s| s.labels.get("cpu") == Some("0") && s.labels.get("mode") == Some("idle")));
    let lo = find("node_network_receive_bytes_total").unwrap();
    assert!(lo
        .samples
        .iter()
        .any(|s| s.labels.get("device") == Some("lo")));
    let failed: Vec<_> = find("node_scrape_collector_success")
        .unwrap()
        .samples
        .iter()
        .filter(|s| s.value == SampleValue::Float(0.0))
        .map(|s| s.labels.get("collector").unwrap_or_default().to_string())
        .collect();
    assert!(
        failed.iter().all(|c| c == "diskstats"),
        "failed collectors: {failed:?}"
    );
    // The root filesystem is reported when the mount table lists it with a
    // filesystem type node_exporter does not exclude.
    let mounts = std::fs::read_to_string("/proc/1/mounts").unwrap_or_default();
    let root_fs = mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|p| p.len() > 2 && p[1] == "/")
        .map(|p| p[2].to_string());
    if let Some(fstype) =
        root_fs.filter(|t| !["overlay", "squashfs", "tmpfs"].contains(&t.as_str()) || t == "tmpfs")
    {
        if fstype != "overlay" && fstype != "squashfs" {
            let size = find("node_filesystem_size_bytes").expect("node_filesystem_size_bytes");
            let root = size
                .samples
                .iter()
                .find(|s| s.labels.get("mountpoint") == Some("/"))
                .expect("no / filesystem");
            assert_eq!(root.labels.get("fstype"), Some(fstype.as_str()));
            assert!(matches!(root.value, SampleValue::Float(v) if v > 0.0));
            assert!(find("node_filesystem_avail_bytes").is_some());
        }
    }
    // Mount points beyond the grant are not exported.
    if let Some(size) = find("node_filesystem_size_bytes") {
        assert!(size
            .samples
            .iter()
            .all(|s| s.labels.get("mountpoint") == Some("/")));
    }
}

#[tokio::test]
async fn plugin_test_of_webhook_prints_recorded_request() {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(repo_root().join("plugins/webhook.toml")).unwrap();
    install(dir.path(), "webhook", &first_party("webhook"), Some(&toml));
    let input = dir.path().join("group.json");
    std::fs::write(
        &input,
        r#"{"receiver":"team-x","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLoad","instance":"a:9100"},"annotations":{"summary":"load is high"},"startsAt":"2026-11-24T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://x/graph","fingerprint":"abcdef0123456789"}],"groupLabels":{"alertname":"HighLoad"},"commonLabels":{"alertname":"HighLoad"},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9090","version":"4","groupKey":"{}:{alertname=\"HighLoad\"}","truncatedAlerts":0}"#,
    )
    .unwrap();
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("webhook.wasm"),
        input: Some(input.clone()),
        config: vec![("url".into(), "https://hooks.example.org/alert".into())],
        responses: None,
        ..Default::default()
    })
    .await
    .unwrap();
    println!("{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let req = &v["requests"][0];
    assert_eq!(req["method"], "POST");
    assert_eq!(req["url"], "https://hooks.example.org/alert");
    // Credentials are `http_config`'s, added by the host (none under `plugin test`): the
    // plugin itself sends none.
    assert!(!req["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "Authorization"));
    let body: serde_json::Value = serde_json::from_str(req["body"].as_str().unwrap()).unwrap();
    let sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    assert_eq!(
        body, sent,
        "the webhook body must be Alertmanager's payload"
    );

    // A canned 500 makes the plugin fail, and `plugin test` reports it.
    let responses = dir.path().join("responses.json");
    std::fs::write(
        &responses,
        r#"[{"url_prefix":"https://hooks.example.org/","status":500,"body":"boom"}]"#,
    )
    .unwrap();
    let err = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("webhook.wasm"),
        input: Some(input),
        config: vec![("url".into(), "https://hooks.example.org/alert".into())],
        responses: Some(responses),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("unexpected status code 500: boom"),
        "{err}"
    );

    // Without a url the plugin says which setting is missing.
    let err = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("webhook.wasm"),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("setting `url`: is required"),
        "{err}"
    );
}
