//! issue 14: what a plugin declares is checked, never taken over or guessed. A second plugin
//! declaring a query-function name or dashboard uid another holds is refused (visibly, in a
//! deterministic order), built-in PromQL names are never shadowed, manifests over the
//! daemon's ceilings are refused, and a component implementing several worlds must say which.

use sightline_plugin_runtime::cli::plugin_list_with;
use sightline_plugin_runtime::{PluginHost, PluginHostConfig, PluginKind, PluginState};

use crate::common::{guest, install};

fn info(host: &PluginHost, name: &str) -> sightline_plugin_runtime::PluginInfo {
    host.list().into_iter().find(|p| p.name == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_plugin_declaring_a_query_function_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Installed in the opposite order of their names: the scan order decides, not this.
    install(dir.path(), "b-scale", &guest("scale-query"), None);
    install(dir.path(), "a-scale", &guest("scale-query"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let fns = host.query_functions();
    assert_eq!(fns.len(), 1);
    assert_eq!(fns[0].0, "a-scale");
    let b = info(&host, "b-scale");
    assert_eq!(b.state, PluginState::Failed);
    let err = b.last_error.unwrap();
    assert!(
        err.contains("query function \"scale\"") && err.contains("plugin \"a-scale\""),
        "{err}"
    );
    // Visible in `plugin list` too.
    let table = plugin_list_with(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let row = table.lines().find(|l| l.starts_with("b-scale")).unwrap();
    assert!(
        row.contains("failed") && row.contains("already holds"),
        "{table}"
    );
    // The holder goes away: the waiting plugin takes the name on the next scan.
    std::fs::remove_file(dir.path().join("a-scale.wasm")).unwrap();
    host.rescan().await;
    let fns = host.query_functions();
    assert_eq!(fns.len(), 1, "{fns:?}");
    assert_eq!(fns[0].0, "b-scale");
    assert_eq!(info(&host, "b-scale").last_error, None);
    // And a newcomer is refused it now.
    install(dir.path(), "a-scale", &guest("scale-query"), None);
    host.rescan().await;
    assert_eq!(host.query_functions()[0].0, "b-scale");
    assert!(info(&host, "a-scale")
        .last_error
        .unwrap()
        .contains("plugin \"b-scale\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_dashboard_declaring_a_uid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "hello-2", &guest("hello-dashboard"), None);
    install(dir.path(), "hello-1", &guest("hello-dashboard"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let dashboards = host.dashboards().await;
    assert_eq!(dashboards.len(), 1);
    assert_eq!(dashboards[0].plugin, "hello-1");
    let err = info(&host, "hello-2").last_error.unwrap();
    assert!(
        err.contains("dashboard uid \"hello\"") && err.contains("plugin \"hello-1\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_function_names_are_never_shadowed() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "scale", &guest("scale-query"), None);
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.reserved_functions = ["rate", "scale"].map(String::from).into();
    let host = PluginHost::new(cfg).await.unwrap();
    assert!(host.query_functions().is_empty());
    let p = info(&host, "scale");
    assert_eq!(p.state, PluginState::Failed);
    let err = p.last_error.unwrap();
    assert!(err.contains("a built-in PromQL function"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_over_the_ceilings_are_refused_naming_key_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (name, toml, want) in [
        (
            "mem",
            "[limits]\nmemory = \"1024GiB\"\n",
            "limits.memory = 1024GiB exceeds the daemon's ceiling --plugins.max-memory=1GiB",
        ),
        (
            "time",
            "[limits]\ntimeout = \"100000h\"\n",
            "limits.timeout = 100000h exceeds the daemon's ceiling --plugins.max-timeout=5m",
        ),
        (
            "out",
            "[limits]\nmax_output = \"1024GiB\"\n",
            "limits.max_output = 1024GiB exceeds the daemon's ceiling --plugins.max-output=256MiB",
        ),
    ] {
        install(dir.path(), name, &guest("ok-exporter"), Some(toml));
        let host = PluginHost::new(PluginHostConfig::new(dir.path()))
            .await
            .unwrap();
        let err = info(&host, name).last_error.unwrap();
        assert!(err.contains(want), "{err}");
        std::fs::remove_file(dir.path().join(format!("{name}.wasm"))).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_implementing_several_worlds_must_name_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "two", &guest("two-worlds"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let p = info(&host, "two");
    assert_eq!(p.state, PluginState::Failed);
    let err = p.last_error.unwrap();
    assert!(
        err.contains("several worlds (exporter, dashboard)") && err.contains("kind = "),
        "{err}"
    );
    // Named in the manifest: run as that world.
    install(
        dir.path(),
        "two",
        &guest("two-worlds"),
        Some("kind = \"exporter\"\n"),
    );
    host.reload("two").await.unwrap();
    assert_eq!(info(&host, "two").kind, Some(PluginKind::Exporter));
    assert_eq!(host.collect("two").await.unwrap()[0].name, "two_worlds");
    install(
        dir.path(),
        "two",
        &guest("two-worlds"),
        Some("kind = \"dashboard\"\n"),
    );
    host.reload("two").await.unwrap();
    assert_eq!(info(&host, "two").kind, Some(PluginKind::Dashboard));
    assert_eq!(host.dashboard_model("two").unwrap().uid, "two-worlds");
    // A kind the component does not implement is refused, listing what it does.
    install(
        dir.path(),
        "two",
        &guest("two-worlds"),
        Some("kind = \"receiver\"\n"),
    );
    let err = host.reload("two").await.unwrap_err().to_string();
    assert!(
        err.contains("kind = \"receiver\"") && err.contains("implements exporter, dashboard"),
        "{err}"
    );
    // A single-world component with the right kind is fine.
    install(
        dir.path(),
        "ok",
        &guest("ok-exporter"),
        Some("kind = \"exporter\"\n"),
    );
    host.reload("ok").await.unwrap();
}
