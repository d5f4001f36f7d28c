//! The filesystem guard (issue 14): a plugin granted `/proc` and `/` reaches neither the
//! host process (this test binary stands in for the daemon) nor the private files, by any
//! route `proc-snoop` knows, and still reads what the node exporter needs.

use std::collections::BTreeMap;
use std::path::Path;

use sightline_plugin_runtime::{MetricFamily, PluginHost, PluginHostConfig, PluginState};

use crate::common::{guest, install};

/// `route → outcome` of every `snoop_attempt` sample.
fn outcomes(fams: &[MetricFamily]) -> BTreeMap<String, String> {
    fams.iter()
        .filter(|f| f.name == "snoop_attempt")
        .flat_map(|f| &f.samples)
        .map(|s| {
            (
                s.labels.get("route").unwrap_or_default().to_string(),
                s.labels.get("outcome").unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn leaks(fams: &[MetricFamily]) -> Vec<String> {
    fams.iter()
        .filter(|f| f.name == "snoop_leak")
        .flat_map(|f| &f.samples)
        .map(|s| format!("{:?}", s.labels))
        .collect()
}

fn snoop_manifest(grants: &str, plugins: &Path, cache: &Path) -> String {
    let files = [plugins.join("secret-holder.toml"), cache.join("cache.key")]
        .map(|p| p.display().to_string())
        .join(",");
    format!(
        "[fs]\nread_only = [{grants}]\n[limits]\nmemory = \"128MiB\"\ntimeout = \"30s\"\n[config]\nprivate_files = \"{files}\"\nprivate_dirs = \"{},{}\"\n",
        plugins.display(),
        cache.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proc_snoop_reaches_neither_the_host_process_nor_private_files() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let cache = tmp.path().join("cache");
    std::fs::create_dir(&plugins).unwrap();
    // Another plugin with a secret in its manifest: it is in this process's heap once loaded.
    let secret = format!("SIGHTLINE-SECRET-manifest-{}", std::process::id());
    install(
        &plugins,
        "secret-holder",
        &guest("ok-exporter"),
        Some(&format!("[config]\nlabel = \"x\"\ntoken = \"{secret}\"\n")),
    );
    install(
        &plugins,
        "proc-snoop",
        &guest("proc-snoop"),
        Some(&snoop_manifest("\"/proc\", \"/\"", &plugins, &cache)),
    );
    let mut cfg = PluginHostConfig::new(&plugins);
    cfg.cache_dir = Some(cache.clone());
    let host = PluginHost::new(cfg).await.unwrap();
    host.collect("secret-holder").await.unwrap();
    assert!(
        cache.join("cache.key").exists(),
        "the cache key should exist, so reading it is a real attempt"
    );

    let fams = host.collect("proc-snoop").await.unwrap();
    let outcomes = outcomes(&fams);
    assert!(outcomes.len() > 100, "{outcomes:#?}");
    let mut wrong = Vec::new();
    for (route, outcome) in &outcomes {
        let ok = outcome == "ok";
        if route.starts_with("legit:") && !ok || route.starts_with("attack:") && ok {
            wrong.push(format!("{route}: {outcome}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "routes with the wrong outcome: {wrong:#?}"
    );
    // The routes the guard itself stops (not wasmtime-wasi's own sandbox) fail with
    // `error-code.access`, which the guest sees as PermissionDenied.
    let mut guarded = vec![
        "attack:read /proc/self/environ".to_string(),
        "attack:read /proc/self/cmdline".to_string(),
        "attack:read /proc/self/mem".to_string(),
        "attack:read /proc/self/maps".to_string(),
        "attack:read /proc/thread-self/environ".to_string(),
        "attack:read /proc/<pid>/environ".to_string(),
        "attack:read /proc/<pid>/mem".to_string(),
        "attack:read /proc/<pid>/task/<pid>/environ".to_string(),
        "attack:read /proc/net/../environ".to_string(),
        "attack:read /proc/self/net/../../self/environ".to_string(),
        "attack:list /proc/self".to_string(),
        "attack:list /proc/self/fd".to_string(),
        "attack:readlink /proc/self/exe".to_string(),
        "attack:readlink /proc/self/cwd".to_string(),
        "attack:readlink /proc/self/root".to_string(),
        "attack:readlink /proc/net/../exe".to_string(),
        "attack:stat /proc/self/environ".to_string(),
        "attack:lstat /proc/self/exe".to_string(),
        "attack:stat /proc/thread-self".to_string(),
        "attack:openat /proc self/environ".to_string(),
        "attack:openat /proc net/../environ".to_string(),
        "attack:readlinkat /proc self/exe".to_string(),
        "attack:fstatat /proc self/environ".to_string(),
        "attack:openat / proc/self/environ".to_string(),
        "attack:openat / proc/self/mem".to_string(),
        "attack:readlinkat / proc/self/cwd".to_string(),
        "attack:scan every pid".to_string(),
    ];
    if Path::new("/proc/kcore").exists() {
        guarded.push("attack:read /proc/kcore".to_string());
    }
    for p in [
        plugins.join("secret-holder.toml"),
        cache.join("cache.key"),
        plugins.clone(),
        cache.clone(),
    ] {
        if p.is_dir() {
            guarded.push(format!("attack:list {}", p.display()));
        } else {
            guarded.push(format!("attack:read {}", p.display()));
            guarded.push(format!("attack:stat {}", p.display()));
        }
    }
    let not_denied: Vec<String> = guarded
        .iter()
        .filter(|r| outcomes.get(*r).map(String::as_str) != Some("PermissionDenied"))
        .map(|r| format!("{r}: {:?}", outcomes.get(r)))
        .collect();
    assert!(
        not_denied.is_empty(),
        "not denied by the guard: {not_denied:#?}"
    );
    let leaks = leaks(&fams);
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
    let everything = format!("{fams:?}");
    assert!(!everything.contains(&secret));

    // The guest's error codes are counted as its own outcome, not as a failed call.
    let info = host
        .list()
        .into_iter()
        .find(|p| p.name == "proc-snoop")
        .unwrap();
    assert_eq!(info.state, PluginState::Loaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_proc_granted_still_reads_what_the_node_exporter_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let cache = tmp.path().join("cache");
    std::fs::create_dir(&plugins).unwrap();
    install(
        &plugins,
        "proc-snoop",
        &guest("proc-snoop"),
        Some(&snoop_manifest("\"/proc\"", &plugins, &cache)),
    );
    let host = PluginHost::new(PluginHostConfig::new(&plugins))
        .await
        .unwrap();
    let fams = host.collect("proc-snoop").await.unwrap();
    let outcomes = outcomes(&fams);
    let mut wrong = Vec::new();
    for (route, outcome) in &outcomes {
        let ok = outcome == "ok";
        if route.starts_with("legit:") && !ok || route.starts_with("attack:") && ok {
            wrong.push(format!("{route}: {outcome}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "routes with the wrong outcome: {wrong:#?}"
    );
    for route in [
        "legit:read /proc/net/dev",
        "legit:read /proc/1/mounts",
        "legit:openat /proc/net dev",
        "legit:openat /proc stat",
    ] {
        assert_eq!(
            outcomes.get(route).map(String::as_str),
            Some("ok"),
            "{route}"
        );
    }
    assert!(leaks(&fams).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_into_process_directories_or_private_paths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let cache = tmp.path().join("cache");
    let data = tmp.path().join("data");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::create_dir_all(data.join("wal")).unwrap();
    let refused = [
        ("self", "/proc/self".to_string(), "process directory"),
        (
            "thread-self",
            "/proc/thread-self/net".to_string(),
            "process directory",
        ),
        ("pid-one", "/proc/1".to_string(), "process directory"),
        (
            "own-pid",
            format!("/proc/{}/task", std::process::id()),
            "process directory",
        ),
        ("plugins-dir", plugins.display().to_string(), "private"),
        (
            "data-sub",
            data.join("wal").display().to_string(),
            "private",
        ),
    ];
    let allowed = [
        ("proc", "/proc"),
        ("sys", "/sys"),
        ("root", "/"),
        ("net", "/proc/self/net"),
    ];
    for (name, grant, _) in &refused {
        install(
            &plugins,
            name,
            &guest("ok-exporter"),
            Some(&format!("[fs]\nread_only = [\"{grant}\"]\n")),
        );
    }
    for (name, grant) in allowed {
        install(
            &plugins,
            name,
            &guest("ok-exporter"),
            Some(&format!("[fs]\nread_only = [\"{grant}\"]\n")),
        );
    }
    let mut cfg = PluginHostConfig::new(&plugins);
    cfg.cache_dir = Some(cache);
    cfg.private_paths = vec![data];
    let host = PluginHost::new(cfg).await.unwrap();
    let list = host.list();
    let info = |n: &str| list.iter().find(|p| p.name == n).unwrap().clone();
    for (name, grant, why) in refused {
        let p = info(name);
        assert_eq!(p.state, PluginState::Failed, "{name} ({grant}) loaded");
        let err = p.last_error.unwrap_or_default();
        assert!(
            err.contains("fs.read_only") && err.contains(&grant) && err.contains(why),
            "{name}: {err}"
        );
    }
    for (name, grant) in allowed {
        let p = info(name);
        assert_eq!(
            p.state,
            PluginState::Loaded,
            "{name} ({grant}): {:?}",
            p.last_error
        );
    }
}
