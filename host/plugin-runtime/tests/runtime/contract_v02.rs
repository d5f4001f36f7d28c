//! Plugin contract 0.2 (`wit/v0.2/plugin.wit`) beside 0.1: each kind loads from a guest
//! written against the WIT alone and works; the contract shows in `plugin list`; the
//! `template` import renders what the host renders for 0.1; receivers' failures are typed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use sightline_model::{Labels, Sample};
use sightline_plugin_runtime::cli::{plugin_list, plugin_test, plugins_json, PluginTestOptions};
use sightline_plugin_runtime::{
    default_templates, AlertStatus, Contract, Error, ExporterTarget, Notification,
    NotificationAlert, PluginHost, PluginHostConfig, QuerySeries, QueryValue, SettingsValue,
    TemplateScope,
};
use sightline_template::alertmanager::{self as tmpl, Data};
use sightline_template::Time;

use crate::common::{guest, install};

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The seed's `ServiceDown` group, as host/template's golden test renders it.
fn service_down() -> (Data, Notification) {
    let labels = map(&[
        ("alertname", "ServiceDown"),
        ("instance", "localhost:9100"),
        ("job", "node"),
        ("severity", "page"),
    ]);
    let data = Data::new(
        "pagerduty",
        map(&[("alertname", "ServiceDown"), ("severity", "page")]),
        vec![tmpl::Alert {
            status: "firing".to_string(),
            labels: labels.clone(),
            annotations: map(&[("summary", "node <down>")]),
            starts_at: Time::from_unix_millis(1_704_164_645_000),
            ends_at: Time::zero(),
            generator_url: "http://localhost:9090/graph".to_string(),
            fingerprint: "0123456789abcdef".to_string(),
        }],
        "http://localhost:9093",
    );
    let l = |m: &BTreeMap<String, String>| Labels::from_pairs(m.iter());
    let n = Notification {
        receiver: data.receiver.clone(),
        status: AlertStatus::Firing,
        group_key: "{}:{alertname=\"ServiceDown\", severity=\"page\"}".to_string(),
        group_labels: l(&data.group_labels),
        common_labels: l(&data.common_labels),
        common_annotations: l(&data.common_annotations),
        external_url: data.external_url.clone(),
        alerts: vec![NotificationAlert {
            status: AlertStatus::Firing,
            labels: l(&labels),
            annotations: l(&data.common_annotations),
            starts_at_ns: 1_704_164_645_000_000_000,
            ends_at_ns: None,
            generator_url: "http://localhost:9090/graph".to_string(),
            fingerprint: "0123456789abcdef".to_string(),
        }],
        truncated_alerts: 2,
    };
    (data, n)
}

fn settings(url: &str) -> SettingsValue {
    SettingsValue::Map(vec![
        ("url".into(), SettingsValue::Text(url.into())),
        (
            "title".into(),
            SettingsValue::Text("{{ .CommonLabels.job }}: {{ .CommonAnnotations.summary }}".into()),
        ),
        ("send_resolved".into(), SettingsValue::Bool(true)),
        (
            "fields".into(),
            SettingsValue::List(vec![SettingsValue::Map(vec![
                ("short".into(), SettingsValue::Bool(false)),
                ("n".into(), SettingsValue::Integer(3)),
            ])]),
        ),
    ])
}

async fn host_with_all(record: bool) -> (tempfile::TempDir, PluginHost) {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "echo2",
        &guest("exporter-v02"),
        Some("[config]\nlabel = \"from-toml\"\n"),
    );
    install(
        dir.path(),
        "recv2",
        &guest("receiver-v02"),
        Some("[config]\nteam = \"ops\"\n[http]\nallowed_hosts = [\"127.0.0.1\"]\n"),
    );
    install(
        dir.path(),
        "recv3",
        &guest("receiver-v02"),
        Some("[http]\nallow_config_url_keys = [\"url\"]\n"),
    );
    install(dir.path(), "double2", &guest("query-v02"), None);
    install(dir.path(), "dash2", &guest("dashboard-v02"), None);
    install(dir.path(), "ok", &guest("ok-exporter"), None);
    let mut cfg = PluginHostConfig::new(dir.path());
    if record {
        cfg.record_http = Some(Vec::new());
    }
    let host = PluginHost::new(cfg).await.unwrap();
    (dir, host)
}

#[tokio::test]
async fn each_kind_loads_and_shows_its_contract() {
    let (dir, host) = host_with_all(false).await;
    let list = host.list();
    let contract = |name: &str| {
        list.iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} missing: {list:?}"))
            .contract
    };
    for name in ["echo2", "recv2", "double2", "dash2"] {
        assert_eq!(contract(name), Some(Contract::V0_2), "{name}: {list:?}");
    }
    assert_eq!(contract("ok"), Some(Contract::V0_1));
    let json = plugins_json(&list);
    let kinds: BTreeMap<String, (String, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                (
                    p["kind"].as_str().unwrap().to_string(),
                    p["contract"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let want = |k: &str, c: &str| (k.to_string(), c.to_string());
    assert_eq!(kinds["echo2"], want("exporter", "0.2.0"));
    assert_eq!(kinds["recv2"], want("receiver", "0.2.0"));
    assert_eq!(kinds["double2"], want("query-function", "0.2.0"));
    assert_eq!(kinds["dash2"], want("dashboard", "0.2.0"));
    assert_eq!(kinds["ok"], want("exporter", "0.1.0"));
    let table = plugin_list(dir.path(), None).await.unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("CONTRACT"),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("recv2") && l.contains("receiver") && l.contains("0.2.0")),
        "{table}"
    );

    // query-function 0.2: described at load, called per series.
    let sig = list
        .iter()
        .find(|p| p.name == "double2")
        .and_then(|p| p.signature.clone())
        .unwrap();
    assert_eq!(sig.name, "double_v02");
    let series = |v: f64, i: &str| QuerySeries {
        labels: Labels::from_pairs([("i", i)]),
        points: vec![Sample { t: 1000, v }],
    };
    let out = host
        .call_query_function(
            "double2",
            &[QueryValue::Vector(vec![
                series(1.5, "a"),
                series(-2.0, "b"),
            ])],
            1000,
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        QueryValue::Vector(vec![series(3.0, "a"), series(-4.0, "b")])
    );

    // dashboard 0.2.
    let model = host.dashboard_model("dash2").unwrap();
    assert_eq!(
        (model.uid.as_str(), model.title.as_str(), model.tags.clone()),
        ("contract-v02", "Contract 0.2", vec!["v02".to_string()])
    );
}

#[tokio::test]
async fn exporter_gets_its_target_and_only_the_manifest_config() {
    let (_dir, host) = host_with_all(false).await;
    let target = ExporterTarget {
        address: "db1:5432".to_string(),
        params: BTreeMap::from([
            (
                "module".to_string(),
                vec!["pg".to_string(), "x".to_string()],
            ),
            ("z".to_string(), vec!["1".to_string()]),
        ]),
        scrape_timeout: Duration::from_millis(1500),
        labels: Labels::from_pairs([("instance", "db1:5432"), ("job", "db")]),
    };
    let fams = host.collect_target("echo2", &target).await.unwrap();
    let l = &fams[0].samples[0].labels;
    let get = |k: &str| l.get(k).unwrap_or_default().to_string();
    assert_eq!(
        [
            get("address"),
            get("params"),
            get("timeout_ms"),
            get("t_instance"),
            get("t_job")
        ],
        ["db1:5432", "module=pg|x;z=1", "1500", "db1:5432", "db"]
    );
    // 0.2's config is the manifest's alone: no `__address__` or `__param_*` mixed in.
    let c = &fams[1].samples[0].labels;
    assert_eq!(c.get("keys"), Some("label"), "{c:?}");
    // Outside a notification `.` is empty data.
    assert_eq!(c.get("template"), Some("[]"));
    // Without a target: the implicit one, named after the plugin.
    let fams = host.collect("echo2").await.unwrap();
    assert_eq!(fams[0].samples[0].labels.get("address"), Some("echo2"));
}

#[tokio::test]
async fn receiver_gets_typed_data_renders_templates_and_types_its_failures() {
    let (_dir, host) = host_with_all(true).await;
    let (data, n) = service_down();
    let scope = TemplateScope {
        templates: default_templates(),
        data: Some(data.clone()),
    };
    host.notify_typed(
        "recv2",
        &n,
        &settings("http://127.0.0.1:9/ok"),
        scope.clone(),
    )
    .await
    .unwrap();
    let reqs = host.recorded_requests();
    assert_eq!(reqs.len(), 1);
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    // Exactly what the host renders for a 0.1 receiver's settings, and the golden title.
    let host_rendered = tmpl::execute_text_string(
        &default_templates(),
        "{{ template \"slack.default.title\" . }}",
        &data.to_value(),
    )
    .unwrap();
    assert_eq!(body["fixed"], host_rendered.as_str());
    assert_eq!(
        body["fixed"],
        "[FIRING:1] ServiceDown page (localhost:9100 node)"
    );
    assert_eq!(body["title"], "node: node <down>");
    assert_eq!(body["html"], "<b>ServiceDown</b>");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["group_key"], n.group_key.as_str());
    assert_eq!(body["truncated"], 2);
    assert_eq!(
        body["alerts"][0]["starts_at_ns"],
        1_704_164_645_000_000_000i64
    );
    assert_eq!(body["alerts"][0]["ends_at_ns"], Value::Null);
    assert_eq!(
        body["settings"],
        serde_json::json!({
            "url": "http://127.0.0.1:9/ok",
            "title": "{{ .CommonLabels.job }}: {{ .CommonAnnotations.summary }}",
            "send_resolved": true,
            "fields": [{"short": false, "n": 3}],
        })
    );
    // The settings are not mixed into `config`.
    assert_eq!(body["config_keys"], serde_json::json!(["team"]));

    let err = host
        .notify_typed(
            "recv2",
            &n,
            &settings("http://127.0.0.1:9/retryable?ra=1500"),
            scope.clone(),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Retryable { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_millis(1500)))
        }
        other => panic!("{other:?}"),
    }
    let err = host
        .notify_typed(
            "recv2",
            &n,
            &settings("http://127.0.0.1:9/permanent"),
            scope.clone(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Permanent { .. }), "{err:?}");
    assert_eq!(err.reason(), "plugin_error");
    // `http.allow_config_url_keys` grants the host of the settings' `url` for the call.
    host.notify_typed(
        "recv3",
        &n,
        &settings("http://127.0.0.1:9/ok"),
        scope.clone(),
    )
    .await
    .unwrap();
    let mut other = settings("http://127.0.0.1:9/ok");
    if let SettingsValue::Map(m) = &mut other {
        m[0].0 = "webhook_url".into();
    }
    let err = host
        .notify_typed("recv3", &n, &other, scope)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Denied"), "{err}");
    // The host's call statistics count both as the plugin's errors.
    let stats = host
        .list()
        .into_iter()
        .find(|p| p.name == "recv2")
        .unwrap()
        .stats;
    assert_eq!((stats.calls, stats.errors()), (3, 2));
}

#[tokio::test]
async fn plugin_test_runs_each_v02_kind() {
    let (dir, _host) = host_with_all(false).await;
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("recv2.wasm"),
        config: vec![
            ("url".into(), "http://127.0.0.1:9/hook".into()),
            ("title".into(), "{{ .CommonLabels.alertname }}!".into()),
            ("send_resolved".into(), "true".into()),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["contract"], "0.2.0", "{out}");
    let body: Value = serde_json::from_str(v["requests"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["fixed"],
        "[FIRING:1] ExampleAlert (localhost:9090 warning)"
    );
    assert_eq!(body["title"], "ExampleAlert!");
    assert_eq!(body["settings"]["send_resolved"], true);
    assert!(body["alerts"][0]["starts_at_ns"].as_i64().unwrap() > 0);

    let err = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("recv2.wasm"),
        config: vec![("url".into(), "http://127.0.0.1:9/permanent".into())],
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("failed permanently"), "{err}");

    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("echo2.wasm"),
        config: vec![("__address__".into(), "db9:1".into())],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(
        out.contains("guest_target_info") && out.contains("db9:1"),
        "{out}"
    );
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("dash2.wasm"),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(out.contains("contract-v02"), "{out}");
    let input = dir.path().join("args.json");
    std::fs::write(
        &input,
        r#"{"args": [{"vector": [{"labels": {"a": "b"}, "points": [[1000, 2]]}]}], "eval_time_ms": 1000}"#,
    )
    .unwrap();
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("double2.wasm"),
        input: Some(input),
        ..Default::default()
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signature"]["name"], "double_v02", "{out}");
    assert!(out.contains('4'), "{out}");
}
