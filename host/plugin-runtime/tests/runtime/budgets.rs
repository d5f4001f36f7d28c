//! issue 14: budgets across calls. A plugin's concurrent calls are capped (the rest queue,
//! then fail as its own `busy`), the instance slots are admitted fairly (a plugin that waits
//! for one because others hold them all is not charged), all instances together stay under
//! the memory ceiling, and a dashboard's model is evaluated once per loaded version.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_plugin_runtime::{Ceilings, Error, PluginHost, PluginHostConfig};

use crate::common::{guest, install};

/// Runs `n` concurrent `collect` calls of `name` and returns their results.
async fn hammer(
    host: &PluginHost,
    name: &str,
    n: usize,
) -> Vec<sightline_plugin_runtime::Result<usize>> {
    let calls = (0..n).map(|_| {
        let (host, name) = (host.clone(), name.to_string());
        tokio::spawn(async move { host.collect(&name).await.map(|f| f.len()) })
    });
    let mut out = Vec::new();
    for c in calls.collect::<Vec<_>>() {
        out.push(c.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_beyond_the_cap_queue_then_fail_as_the_plugins_own_busy() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "slow",
        &guest("slow-exporter"),
        Some("[limits]\nconcurrency = 2\ntimeout = \"1s\"\n[config]\nsleep_ms = \"300\"\n"),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let started = Instant::now();
    let results = hammer(&host, "slow", 20).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Busy { name, concurrency: 2, .. }) if name == "slow"))
        .count();
    println!("{ok} ok, {busy} busy in {:?}", started.elapsed());
    assert_eq!(ok + busy, 20, "{results:?}");
    // Two at a time for about a second of queueing: some finish, the rest give up.
    assert!(ok >= 2 && busy >= 1, "{ok} ok, {busy} busy");
    let stats = &host.list()[0].stats;
    assert!(stats.peak_concurrency <= 2, "{stats:?}");
    assert_eq!(
        stats.errors_by_reason.get("busy").copied(),
        Some(busy as u64)
    );
    assert_eq!(stats.errors(), busy as u64, "{stats:?}");
    // Queued calls waited at most their own time limit (1 s) plus the running call.
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The same cap holds for query functions, called from synchronous PromQL evaluation.
#[test]
fn query_function_calls_are_capped_too() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "slow",
        &guest("slow-query"),
        Some("[limits]\nconcurrency = 1\ntimeout = \"500ms\"\n[config]\nsleep_ms = \"300\"\n"),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let host = rt
        .block_on(PluginHost::new(PluginHostConfig::new(dir.path())))
        .unwrap();
    let arg = [sightline_plugin_runtime::QueryValue::Vector(Vec::new())];
    let results: Vec<_> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..6)
            .map(|_| s.spawn(|| host.call_query_function_blocking("slow", &arg, 0)))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Busy { .. })))
        .count();
    assert_eq!(ok + busy, 6, "{results:?}");
    assert!((1..=2).contains(&ok), "{results:?}");
    assert_eq!(host.list()[0].stats.peak_concurrency, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_plugin_keeps_succeeding_while_a_slow_one_is_hammered() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "slow",
        &guest("slow-exporter"),
        Some("[limits]\nconcurrency = 32\ntimeout = \"2s\"\n[config]\nsleep_ms = \"500\"\n"),
    );
    install(dir.path(), "healthy", &guest("ok-exporter"), None);
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.ceilings.max_concurrency = 32;
    let host = PluginHost::new(cfg).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let hammerer = {
        let (host, stop) = (host.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                hammer(&host, "slow", 200).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..20 {
        let t = Instant::now();
        host.collect("healthy").await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    hammerer.await.unwrap();
    let list = host.list();
    let healthy = &list.iter().find(|p| p.name == "healthy").unwrap().stats;
    let slow = &list.iter().find(|p| p.name == "slow").unwrap().stats;
    println!("healthy {healthy:?}\nslow {slow:?}");
    assert_eq!(healthy.errors(), 0);
    assert_eq!(healthy.host_busy, 0);
    assert!(slow.peak_concurrency <= 32, "{slow:?}");
    assert!(
        slow.errors_by_reason.get("busy").copied().unwrap_or(0) > 0,
        "{slow:?}"
    );
    assert_eq!(slow.errors_by_reason.keys().collect::<Vec<_>>(), [&"busy"]);
}

/// Four slow plugins at their full concurrency hold every instance slot: a healthy plugin that
/// can not get one in its time limit fails as the host's `host_busy`, which is not counted as
/// its error (and never as a trap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_slot_others_hold_is_not_the_waiting_plugins_error() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["slow-a", "slow-b", "slow-c", "slow-d"] {
        install(
            dir.path(),
            name,
            &guest("slow-exporter"),
            Some("[limits]\nconcurrency = 32\ntimeout = \"5s\"\n[config]\nsleep_ms = \"2500\"\n"),
        );
    }
    install(
        dir.path(),
        "healthy",
        &guest("ok-exporter"),
        Some("[limits]\ntimeout = \"300ms\"\n"),
    );
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.ceilings.max_concurrency = 32;
    let host = PluginHost::new(cfg).await.unwrap();
    let mut hammers = Vec::new();
    for name in ["slow-a", "slow-b", "slow-c", "slow-d"] {
        let host = host.clone();
        hammers.push(tokio::spawn(async move { hammer(&host, name, 32).await }));
    }
    // Until all 128 slots are taken.
    let full = crate::common::wait_for(Duration::from_secs(10), || {
        host.list()
            .iter()
            .filter(|p| p.name.starts_with("slow-"))
            .all(|p| p.stats.peak_concurrency == 32)
    })
    .await;
    assert!(full.is_some(), "{:?}", host.list());
    let err = host.collect("healthy").await.unwrap_err();
    assert!(
        matches!(&err, Error::HostBusy { name } if name == "healthy"),
        "{err}"
    );
    assert_eq!(err.reason(), "host_busy");
    for h in hammers {
        for r in h.await.unwrap() {
            assert!(r.is_ok(), "{r:?}");
        }
    }
    let healthy = host
        .list()
        .into_iter()
        .find(|p| p.name == "healthy")
        .unwrap()
        .stats;
    assert_eq!(healthy.errors(), 0, "{healthy:?}");
    assert_eq!(healthy.host_busy, 1, "{healthy:?}");
    // Slots free again: the healthy plugin is served.
    host.collect("healthy").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_instances_together_stay_under_the_memory_ceiling() {
    const CEILING: u64 = 96 << 20;
    let dir = tempfile::tempdir().unwrap();
    let names = ["alloc-a", "alloc-b", "alloc-c", "alloc-d"];
    for name in names {
        install(
            dir.path(),
            name,
            &guest("slow-exporter"),
            Some(
                "[limits]\nmemory = \"64MiB\"\n[config]\nalloc_mib = \"40\"\nsleep_ms = \"500\"\n",
            ),
        );
    }
    let mut cfg = PluginHostConfig::new(dir.path());
    cfg.ceilings = Ceilings {
        max_memory_bytes: 64 << 20,
        memory_ceiling_bytes: CEILING,
        ..Ceilings::default()
    };
    let host = PluginHost::new(cfg).await.unwrap();
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (host, peak, stop) = (host.clone(), peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(host.guest_memory_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let calls: Vec<_> = names
        .iter()
        .flat_map(|n| [n, n])
        .map(|n| {
            let (host, n) = (host.clone(), n.to_string());
            tokio::spawn(async move { host.collect(&n).await })
        })
        .collect();
    let mut ok = 0;
    let mut ceiling_errors = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.reason(), "memory_limit", "{e}");
                if matches!(e, Error::MemoryCeiling { .. }) {
                    assert!(e.to_string().contains("--plugins.memory-ceiling"), "{e}");
                    ceiling_errors += 1;
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "{ok} ok, {ceiling_errors} refused by the ceiling, peak {} MiB",
        peak >> 20
    );
    assert!(peak <= CEILING, "{peak}");
    // Eight calls of 40 MiB each do not fit in 96 MiB at once.
    assert!(
        ok >= 1 && ceiling_errors >= 1,
        "{ok} ok, {ceiling_errors} ceiling"
    );
    assert_eq!(
        host.guest_memory_bytes(),
        0,
        "every store gave its memory back"
    );
    let errors: u64 = host.list().iter().map(|p| p.stats.errors()).sum();
    assert_eq!(errors, 8 - ok as u64);
    // The memory came back: the same calls one at a time all succeed.
    for n in names {
        host.collect(n).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_is_evaluated_once_per_loaded_version() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "hello", &guest("hello-dashboard"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let calls = || host.list()[0].stats.calls;
    assert_eq!(calls(), 1, "evaluated when loaded");
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let host = host.clone();
            tokio::spawn(async move { host.dashboards().await })
        })
        .collect();
    for r in requests {
        let d = r.await.unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].uid, "hello");
        assert_eq!(d[0].title, "Hello");
    }
    let first = host.dashboard_model("hello").unwrap();
    assert!(host
        .dashboard("hello")
        .await
        .unwrap()
        .contains("\"uid\":\"hello\""));
    assert_eq!(calls(), 1, "requests never run the guest");
    // The same file again (touched, not changed): the same version, not called again.
    install(dir.path(), "hello", &guest("hello-dashboard"), None);
    host.reload("hello").await.unwrap();
    assert_eq!(calls(), 1);
    assert!(Arc::ptr_eq(&first, &host.dashboard_model("hello").unwrap()));
    // A new version (other capabilities): evaluated once more.
    install(
        dir.path(),
        "hello",
        &guest("hello-dashboard"),
        Some("[limits]\ntimeout = \"2s\"\n"),
    );
    host.reload("hello").await.unwrap();
    assert_eq!(calls(), 2);
    host.dashboards().await;
    assert_eq!(calls(), 2);
}

/// A 15 MB model is parsed once when loaded; every request shares that one parsed model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_dashboard_is_parsed_once_and_shared() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "big", &guest("big-dashboard"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let first = host.dashboards().await;
    assert_eq!(first[0].uid, "big");
    assert_eq!(first[0].tags, ["big"]);
    assert_eq!(first[0].model["panels"].as_array().unwrap().len(), 15_000);
    for _ in 0..20 {
        let again = host.dashboards().await;
        assert!(Arc::ptr_eq(&first[0].model, &again[0].model));
    }
    assert_eq!(host.list()[0].stats.calls, 1);
}

/// Calls in flight across a reload still count against one cap: a new version with the same
/// concurrency shares the serving version's permits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_does_not_double_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let toml = |sleep: u32| {
        format!("[limits]\nconcurrency = 2\ntimeout = \"3s\"\n[config]\nsleep_ms = \"{sleep}\"\n")
    };
    install(
        dir.path(),
        "slow",
        &guest("slow-exporter"),
        Some(&toml(1000)),
    );
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let first = {
        let host = host.clone();
        tokio::spawn(async move { hammer(&host, "slow", 2).await })
    };
    crate::common::wait_for(Duration::from_secs(5), || {
        host.list()[0].stats.peak_concurrency == 2
    })
    .await
    .unwrap();
    // A new version (other config) while both permits are held by the old one.
    install(dir.path(), "slow", &guest("slow-exporter"), Some(&toml(10)));
    host.reload("slow").await.unwrap();
    let second = hammer(&host, "slow", 2).await;
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert!(first.await.unwrap().iter().all(Result::is_ok));
    assert_eq!(host.list()[0].stats.peak_concurrency, 2);
}
