//! Each world end to end, the compile cache, and `plugin list`/`plugin test`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use sightline_model::{Labels, MetricType, Sample};
use sightline_plugin_runtime::cli::{plugin_list, plugin_test, PluginTestOptions};
use sightline_plugin_runtime::{
    CallMode, ExporterTarget, PluginHost, PluginHostConfig, PluginKind, QuerySeries, QueryValue,
    SampleValue,
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

/// issue 13: an exporter is told the target it is called for, through config values.
#[tokio::test]
async fn exporter_sees_its_target_as_config_values() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "echo",
        &guest("target-exporter"),
        Some("[limits]\ntimeout = \"2s\"\n"),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let labels = |fams: &[sightline_plugin_runtime::MetricFamily]| {
        let l = &fams[0].samples[0].labels;
        [l.get("address"), l.get("module"), l.get("timeout")]
            .map(|v| v.unwrap_or_default().to_string())
    };
    // Without a target (plugin test, a job without targets): the implicit one.
    let fams = host.collect("echo").await.unwrap();
    assert_eq!(labels(&fams), ["echo", "", "2"]);
    let target = ExporterTarget {
        address: "db1:5432".to_string(),
        params: BTreeMap::from([(
            "module".to_string(),
            vec!["pg".to_string(), "x".to_string()],
        )]),
        scrape_timeout: std::time::Duration::from_millis(1500),
        labels: Default::default(),
    };
    let fams = host.collect_target("echo", &target).await.unwrap();
    assert_eq!(labels(&fams), ["db1:5432", "pg", "1.5"]);
    // `plugin test --config` stands in for a target.
    let out = plugin_test(&PluginTestOptions {
        wasm: dir.path().join("echo.wasm"),
        config: vec![("__address__".into(), "db2:3306".into())],
        ..Default::default()
    })
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["families"][0]["samples"][0]["labels"]["address"],
        "db2:3306"
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
    assert_eq!(dashboards[0].uid, "hello");
    assert_eq!(dashboards[0].model["uid"], "hello");
    let kinds: Vec<Option<PluginKind>> = host.list().iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [Some(PluginKind::Dashboard), Some(PluginKind::QueryFunction)]
    );
}

#[tokio::test]
async fn second_start_loads_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let cache = dir.path().join("data/plugin-cache");
    std::fs::create_dir_all(&plugins).unwrap();
    install(&plugins, "ok", &guest("ok-exporter"), None);
    let cfg = || {
        let mut c = PluginHostConfig::new(&plugins);
        c.cache_dir = Some(cache.clone());
        c
    };
    let first = PluginHost::new(cfg()).await.unwrap();
    assert_eq!(first.loaded_from_cache("ok"), Some(false));
    let t = std::time::Instant::now();
    let second = PluginHost::new(cfg()).await.unwrap();
    println!("start with a cached plugin: {:?}", t.elapsed());
    assert_eq!(second.loaded_from_cache("ok"), Some(true));
    assert_eq!(second.collect("ok").await.unwrap().len(), 3);
    let stats = second.cache_stats();
    assert!(stats.enabled);
    assert_eq!((stats.hits, stats.misses, stats.rejected), (1, 0, 0));
    // Owner-only: the directory 0700, the key and the entry 0600.
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    let mut files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    // The entry's name is a content hash, so it may sort either side of `cache.key`.
    files.sort_by_key(|f| f.ends_with("cache.key"));
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".cwasm"), "{files:?}");
    assert!(files[1].ends_with("cache.key"), "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // Nothing is written beside the plugins.
    assert!(!plugins.join(".cache").exists());
}

/// issue 13: whoever may drop a `.wasm` into the plugins directory must not be able to plant
/// native code. A `.cwasm` under `<plugins>/.cache` is never read (no command caches there
/// any more), and a cache entry that does not verify under the cache's own key (tampered, or
/// the real compiled code of another component renamed) is rejected and recompiled.
#[tokio::test]
async fn planted_or_tampered_compiled_code_is_never_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let cache = dir.path().join("data/plugin-cache");
    std::fs::create_dir_all(&plugins).unwrap();
    install(&plugins, "ok", &guest("ok-exporter"), None);
    let with_cache = || {
        let mut c = PluginHostConfig::new(&plugins);
        c.cache_dir = Some(cache.clone());
        c
    };
    // Real compiled code of another component (a query function), authenticated in its own
    // cache, to plant under the exporter's names.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    install(&other, "scale", &guest("scale-query"), None);
    let mut ocfg = PluginHostConfig::new(&other);
    ocfg.cache_dir = Some(dir.path().join("other-cache"));
    PluginHost::new(ocfg).await.unwrap();
    let foreign = std::fs::read_dir(dir.path().join("other-cache"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let engine_suffix = foreign
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split_once('-')
        .unwrap()
        .1
        .to_string();

    let first = PluginHost::new(with_cache()).await.unwrap();
    let sha = first.list()[0].sha256.clone();
    let entry = cache.join(format!("{sha}-{engine_suffix}"));
    assert!(entry.exists(), "{}", entry.display());

    // Planted in the plugins directory, where the cache used to default: not read.
    std::fs::create_dir_all(plugins.join(".cache")).unwrap();
    let planted = plugins
        .join(".cache")
        .join(format!("{sha}-{engine_suffix}"));
    std::fs::copy(&foreign, &planted).unwrap();
    let host = PluginHost::new(PluginHostConfig::new(&plugins))
        .await
        .unwrap();
    assert_eq!(host.loaded_from_cache("ok"), Some(false));
    assert_eq!(host.list()[0].kind, Some(PluginKind::Exporter));
    assert_eq!(host.collect("ok").await.unwrap().len(), 3);
    let table = plugin_list(&plugins, Some(&dir.path().join("user-cache")))
        .await
        .unwrap();
    assert!(
        table.lines().nth(1).unwrap().contains("exporter"),
        "{table}"
    );

    // Another component's authentic code renamed to this component's entry: the tag binds
    // the entry to its sha256, so it is rejected, recompiled and rewritten.
    std::fs::copy(&foreign, &entry).unwrap();
    let host = PluginHost::new(with_cache()).await.unwrap();
    assert_eq!(host.loaded_from_cache("ok"), Some(false));
    assert_eq!(host.list()[0].kind, Some(PluginKind::Exporter));
    assert_eq!(host.cache_stats().rejected, 1);
    // Rewritten with a valid tag: used.
    let host = PluginHost::new(with_cache()).await.unwrap();
    assert_eq!(host.loaded_from_cache("ok"), Some(true));
    assert_eq!(host.cache_stats().rejected, 0);

    // One flipped byte in the code: rejected and recompiled.
    let mut bytes = std::fs::read(&entry).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&entry, &bytes).unwrap();
    let host = PluginHost::new(with_cache()).await.unwrap();
    assert_eq!(host.loaded_from_cache("ok"), Some(false));
    assert_eq!(host.cache_stats().rejected, 1);
    assert_eq!(host.collect("ok").await.unwrap().len(), 3);

    // A key file others may read: the cache is not trusted at all (compiled, nothing read).
    let key = cache.join("cache.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let host = PluginHost::new(with_cache()).await.unwrap();
    assert!(!host.cache_stats().enabled);
    assert_eq!(host.loaded_from_cache("ok"), Some(false));
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
    let table = plugin_list(dir.path(), None).await.unwrap();
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
        "tests/runtime/budgets.rs",
        "tests/runtime/conflicts.rs",
        "tests/runtime/contract_v02.rs",
        "tests/runtime/hostile.rs",
        "tests/runtime/kinds.rs",
        "tests/runtime/procfs.rs",
        "tests/runtime/outbound.rs",
        "tests/runtime/output.rs",
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
        // A guest is a component (`cdylib`); `sdk-v0.1`, the frozen 0.1 SDK, is a library.
        let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap_or_default();
        if manifest.contains("cdylib") && !sources.contains(&format!("\"{name}\"")) {
            unused.push(name);
        }
    }
    assert!(unused.is_empty(), "guests without a test: {unused:?}");
}
