//! Each world end to end, the compile cache, and `plugin list`/`plugin test`.

use std::collections::BTreeMap;

use sightline_model::{Labels, MetricType, Sample};
use sightline_plugin_runtime::cli::{plugin_list, plugin_test, PluginTestOptions};
use sightline_plugin_runtime::{
    CallMode, PluginHost, PluginHostConfig, PluginKind, QuerySeries, QueryValue, SampleValue,
};

use crate::common::{example, guest, install};

#[tokio::test]
async fn exporter_collect_converts_families_and_sees_config() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "ok",
        &guest("ok-exporter"),
        Some("[config]\nlabel = \"from-toml\"\n"),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let fams = host.collect("ok").await.unwrap();
    let names: Vec<&str> = fams.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "guest_temperature_celsius",
            "guest_requests_total",
            "guest_latency_seconds"
        ]
    );
    assert_eq!(fams[0].metric_type, MetricType::Gauge);
    assert_eq!(fams[0].unit, "celsius");
    assert_eq!(fams[0].samples[0].labels.get("tag"), Some("from-toml"));
    assert_eq!(fams[0].samples[0].value, SampleValue::Float(21.5));
    let SampleValue::Histogram {
        buckets,
        sum,
        count,
    } = &fams[2].samples[0].value
    else {
        panic!("not a histogram")
    };
    assert_eq!(buckets, &vec![(0.1, 1.0), (1.0, 3.0), (f64::INFINITY, 4.0)]);
    assert_eq!((*sum, *count), (2.5, 4.0));
    let flat = fams[2].flatten();
    let rendered: Vec<String> = flat
        .iter()
        .map(|s| {
            format!(
                "{:?}={}",
                s.labels
                    .iter()
                    .map(|l| format!("{}={}", l.name, l.value))
                    .collect::<Vec<_>>(),
                s.value
            )
        })
        .collect();
    assert_eq!(flat.len(), 5, "{rendered:?}");
    assert_eq!(flat[2].labels.get("le"), Some("+Inf"));
    assert_eq!(
        flat[4].labels.metric_name(),
        Some("guest_latency_seconds_count")
    );
    // A receiver name is not an exporter.
    let err = host
        .notify("ok", &Default::default(), &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "wrong_kind");
    assert_eq!(
        host.collect("missing").await.unwrap_err().reason(),
        "not_found"
    );
}

#[tokio::test]
async fn query_function_per_series_and_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "scale", &guest("scale-query"), None);
    install(dir.path(), "hello", &guest("hello-dashboard"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let fns = host.query_functions();
    assert_eq!(fns.len(), 1);
    assert_eq!(fns[0].1.name, "scale");
    assert_eq!(fns[0].1.mode, CallMode::PerSeries);
    let series: Vec<QuerySeries> = (0..3)
        .map(|i| QuerySeries {
            labels: Labels::from_pairs([("i", i.to_string())]),
            points: vec![Sample {
                t: 1000,
                v: i as f64,
            }],
        })
        .collect();
    let out = host
        .call_query_function(
            "scale",
            &[QueryValue::Vector(series), QueryValue::Scalar(10.0)],
            1000,
        )
        .await
        .unwrap();
    let QueryValue::Vector(out) = out else {
        panic!("not a vector")
    };
    let values: Vec<f64> = out.iter().map(|s| s.points[0].v).collect();
    assert_eq!(values, [0.0, 10.0, 20.0]);
    assert_eq!(out[2].labels.get("i"), Some("2"));
    let dashboards = host.dashboards().await;
    assert_eq!(dashboards.len(), 1);
    assert!(dashboards[0].1.contains("\"uid\":\"hello\""));
    let kinds: Vec<Option<PluginKind>> = host.list().iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [Some(PluginKind::Dashboard), Some(PluginKind::QueryFunction)]
    );
}

#[tokio::test]
async fn second_start_loads_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "ok", &guest("ok-exporter"), None);
    let first = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    assert_eq!(first.loaded_from_cache("ok"), Some(false));
    let t = std::time::Instant::now();
    let second = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    println!("start with a cached plugin: {:?}", t.elapsed());
    assert_eq!(second.loaded_from_cache("ok"), Some(true));
    assert_eq!(second.collect("ok").await.unwrap().len(), 3);
    let cached: Vec<_> = std::fs::read_dir(dir.path().join(".cache"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(cached.len(), 1);
}

#[tokio::test]
async fn plugin_list_table_and_test_json() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "ok",
        &guest("ok-exporter"),
        Some("[limits]\nmemory = \"8MiB\"\n"),
    );
    std::fs::write(dir.path().join("broken.wasm"), b"nope").unwrap();
    let table = plugin_list(dir.path()).await.unwrap();
    println!("{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert!(
        lines[1].starts_with("broken")
            && lines[1].contains("failed")
            && lines[1].contains("compiling"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("ok")
            && lines[2].contains("exporter")
            && lines[2].contains("memory=8MiB"),
        "{table}"
    );

    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("ok.wasm"),
        config: vec![("label".into(), "cli".into())],
        ..Default::default()
    })
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "exporter");
    assert_eq!(v["families"][0]["samples"][0]["labels"]["tag"], "cli");
    assert_eq!(
        v["families"][0]["samples"][0]["labels"]["__name__"],
        "guest_temperature_celsius"
    );
    assert_eq!(v["families"][0]["samples"][0]["value"], "21.5");

    let err = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("broken.wasm"),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("broken"), "{err}");
}

#[tokio::test]
async fn raw_wit_bindgen_example_without_sdk_loads_and_collects() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = example("raw-uptime-exporter");
    install(
        dir.path(),
        "uptime",
        &wasm,
        Some("[fs]\nread_only = [\"/proc\"]\n[config]\nsite = \"lab\"\n"),
    );
    install(dir.path(), "uptime-ungranted", &wasm, None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let fams = host.collect("uptime").await.unwrap();
    assert_eq!(fams[0].name, "node_uptime_seconds");
    assert_eq!(fams[0].samples[0].labels.get("site"), Some("lab"));
    assert!(matches!(fams[0].samples[0].value, SampleValue::Float(v) if v > 0.0));
    // Without the /proc grant the read fails inside the sandbox.
    let err = host.collect("uptime-ungranted").await.unwrap_err();
    assert_eq!(err.reason(), "plugin_error");
    assert!(err.to_string().contains("/proc/uptime"), "{err}");
}

/// Every guest in tests/guests is exercised by a test or bench (the
/// `foreach_guest!` idea): an unused guest fails this test.
#[test]
fn every_guest_is_used() {
    let root = crate::common::repo_root();
    let sources: String = [
        "tests/runtime/hostile.rs",
        "tests/runtime/kinds.rs",
        "tests/runtime/reload.rs",
        "benches/plugins.rs",
    ]
    .iter()
    .map(|p| {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
    })
    .collect();
    let mut unused = Vec::new();
    for entry in std::fs::read_dir(root.join("tests/guests"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("Cargo.toml").exists() && !sources.contains(&format!("\"{name}\"")) {
            unused.push(name);
        }
    }
    assert!(unused.is_empty(), "guests without a test: {unused:?}");
}
