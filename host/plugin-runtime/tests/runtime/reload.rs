//! Hot reload of a receiver: v1, then v2, then a broken v3 that leaves v2
//! serving; half-written files are never loaded.

use std::collections::BTreeMap;
use std::time::Duration;

use sightline_plugin_runtime::{AlertGroup, PluginHost, PluginHostConfig, PluginState};

use crate::common::{guest, install, wait_for};

const TOML: &str = "[http]\nallowed_hosts = [\"hooks.test\"]\n";

async fn notify_version(host: &PluginHost, key: &str) -> String {
    let group = AlertGroup {
        group_key: key.to_string(),
        ..Default::default()
    };
    let settings = BTreeMap::from([("url".to_string(), "http://hooks.test/alert".to_string())]);
    host.notify("recv", &group, &settings).await.unwrap();
    let reqs = host.recorded_requests();
    let last = reqs.last().expect("a request was recorded");
    assert_eq!(last.method, "POST");
    assert_eq!(last.url, "http://hooks.test/alert");
    let body = String::from_utf8_lossy(&last.body).into_owned();
    assert!(body.contains(key), "{body}");
    body
}

fn sha(host: &PluginHost) -> String {
    host.list()
        .into_iter()
        .find(|p| p.name == "recv")
        .map(|p| p.sha256)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_hot_reload_v1_v2_broken_v3() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.record_http = Some(Vec::new());
    cfg.debounce = Duration::from_millis(100);
    let host = PluginHost::new(cfg).await.unwrap();
    host.start_watching().unwrap();
    assert!(host.list().is_empty());

    // Drop v1.
    std::fs::write(dir.path().join("recv.toml"), TOML).unwrap();
    install(dir.path(), "recv", &guest("receiver-v1"), None);
    let took = wait_for(Duration::from_secs(2), || !sha(&host).is_empty())
        .await
        .expect("v1 not serving within 2 s");
    println!("v1 serving after {took:?}");
    assert!(notify_version(&host, "g1").await.contains("\"v1\""));
    let v1 = sha(&host);

    // Drop v2 over it.
    install(dir.path(), "recv", &guest("receiver-v2"), None);
    let took = wait_for(Duration::from_secs(2), || {
        let s = sha(&host);
        !s.is_empty() && s != v1
    })
    .await
    .expect("v2 not serving within 2 s");
    println!("v2 serving after {took:?}");
    assert!(notify_version(&host, "g2").await.contains("\"v2\""));
    let v2 = sha(&host);

    // Drop a broken v3 (written in place, not atomically): v2 keeps serving.
    std::fs::write(
        dir.path().join("recv.wasm"),
        b"\0asm\x0d\0\x01\0 this is not a component",
    )
    .unwrap();
    let has_error = || {
        host.list()
            .iter()
            .any(|p| p.name == "recv" && p.last_error.is_some())
    };
    wait_for(Duration::from_secs(3), has_error)
        .await
        .expect("broken v3 not reported within 3 s");
    let info = host.list().into_iter().find(|p| p.name == "recv").unwrap();
    assert_eq!(info.state, PluginState::Loaded);
    assert_eq!(info.sha256, v2);
    println!("v3 error: {}", info.last_error.as_deref().unwrap());
    assert!(info.last_error.as_deref().unwrap().contains("compiling"));
    assert!(notify_version(&host, "g3").await.contains("\"v2\""));

    // A half-written new plugin is never loaded; completing it loads it.
    let full = std::fs::read(guest("receiver-v1")).unwrap();
    std::fs::write(dir.path().join("half.wasm"), &full[..full.len() / 2]).unwrap();
    let half_seen = || host.list().iter().any(|p| p.name == "half");
    wait_for(Duration::from_secs(3), half_seen)
        .await
        .expect("half-written file not scanned");
    let half = host.list().into_iter().find(|p| p.name == "half").unwrap();
    assert_eq!((half.state, half.kind), (PluginState::Failed, None));
    std::fs::write(dir.path().join("half.wasm"), &full).unwrap();
    let loaded = || {
        host.list()
            .iter()
            .any(|p| p.name == "half" && p.state == PluginState::Loaded && p.last_error.is_none())
    };
    wait_for(Duration::from_secs(3), loaded)
        .await
        .expect("completed file not loaded");

    // Deleting the file unloads the plugin.
    std::fs::remove_file(dir.path().join("recv.wasm")).unwrap();
    wait_for(Duration::from_secs(3), || sha(&host).is_empty())
        .await
        .expect("deleted plugin still listed");
    assert_eq!(
        host.notify("recv", &AlertGroup::default(), &BTreeMap::new())
            .await
            .unwrap_err()
            .reason(),
        "not_found"
    );
}

/// Scanning opens the directory and loading reads the files; neither is a change, so an idle
/// directory is only rescanned by the periodic backup scan (every 2 s), not every debounce
/// period (it was: the watcher saw the scan's own opens and woke it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_directory_is_not_rescanned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("recv.toml"), TOML).unwrap();
    install(dir.path(), "recv", &guest("receiver-v1"), None);
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.record_http = Some(Vec::new());
    cfg.debounce = Duration::from_millis(50);
    let host = PluginHost::new(cfg).await.unwrap();
    assert!(!sha(&host).is_empty());
    host.start_watching().unwrap();
    // One explicit scan, as an outside reader of the directory would cause.
    host.rescan().await;
    let before = host.scans();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let scans = host.scans() - before;
    assert!(
        scans <= 1,
        "{scans} scans of an unchanged directory in 1.5 s"
    );
    // A real change is still seen.
    install(dir.path(), "recv", &guest("receiver-v2"), None);
    let v1 = sha(&host);
    wait_for(Duration::from_secs(3), || {
        let s = sha(&host);
        !s.is_empty() && s != v1
    })
    .await
    .expect("v2 not loaded within 3 s");
}
