//! The hostile-plugin suite: every guest is contained, reported with a clear
//! reason and counted, while a healthy plugin keeps being served.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_plugin_runtime::{AlertGroup, Error, PluginHost, PluginHostConfig};

use crate::common::{guest, install};

struct Case {
    guest: &'static str,
    toml: String,
    receiver: bool,
    reason: &'static str,
    message: &'static [&'static str],
}

/// A server that accepts connections and never answers.
fn silent_server() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_guests_are_contained_while_healthy_plugin_keeps_serving() {
    let (listener, port) = silent_server();
    // Accept (and hold) connections so requests hang rather than fail.
    let held = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let held2 = held.clone();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let acceptor = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            if let Ok((s, _)) = listener.accept() {
                held2.lock().push(s);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });

    let cases = vec![
        Case { guest: "loop-forever", toml: "[limits]\ntimeout = \"300ms\"\n".into(), receiver: false, reason: "timeout", message: &["time limit"] },
        Case { guest: "sleep-forever", toml: "[limits]\ntimeout = \"300ms\"\n".into(), receiver: false, reason: "timeout", message: &["time limit"] },
        Case {
            guest: "hang-http",
            toml: format!("[http]\nallowed_hosts = [\"127.0.0.1:{port}\"]\n[limits]\ntimeout = \"400ms\"\n[config]\nurl = \"http://127.0.0.1:{port}/hook\"\n"),
            receiver: true,
            reason: "timeout",
            message: &["time limit"],
        },
        Case { guest: "alloc-unbounded", toml: "[limits]\nmemory = \"16MiB\"\n".into(), receiver: false, reason: "memory_limit", message: &["memory limit", "16777216"] },
        Case { guest: "trap", toml: String::new(), receiver: false, reason: "trap", message: &["unreachable"] },
        Case { guest: "panic", toml: String::new(), receiver: false, reason: "trap", message: &["hostile guest panicked on purpose"] },
        Case { guest: "read-passwd", toml: String::new(), receiver: false, reason: "plugin_error", message: &["/etc/passwd"] },
        Case { guest: "http-denied", toml: String::new(), receiver: true, reason: "plugin_error", message: &["not granted", "169.254.169.254", "http.allowed_hosts"] },
        Case { guest: "gigantic-output", toml: "[limits]\nmax_output = \"1MiB\"\n".into(), receiver: false, reason: "output_too_large", message: &["limit of 1048576"] },
    ];

    let dir = tempfile::tempdir().unwrap();
    for c in &cases {
        install(
            dir.path(),
            c.guest,
            &guest(c.guest),
            (!c.toml.is_empty()).then_some(c.toml.as_str()),
        );
    }
    install(dir.path(), "ok-exporter", &guest("ok-exporter"), None);
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    for p in host.list() {
        assert!(
            p.last_error.is_none(),
            "{} failed to load: {:?}",
            p.name,
            p.last_error
        );
    }

    // A healthy plugin is collected continuously during the whole suite.
    let healthy_ok = Arc::new(AtomicU64::new(0));
    let healthy_err = Arc::new(AtomicU64::new(0));
    let max_latency_us = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let healthy = {
        let (host, ok, err, done, max_latency_us) = (
            host.clone(),
            healthy_ok.clone(),
            healthy_err.clone(),
            done.clone(),
            max_latency_us.clone(),
        );
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                match host.collect("ok-exporter").await {
                    Ok(f) if f.len() == 3 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => err.fetch_add(1, Ordering::Relaxed),
                };
                max_latency_us.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let mut tasks = Vec::new();
    for c in cases {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let result = if c.receiver {
                host.notify(c.guest, &AlertGroup::default(), &BTreeMap::new())
                    .await
            } else {
                host.collect(c.guest).await.map(|_| ())
            };
            (c, result, started.elapsed())
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        let (c, result, took) = t.await.expect("a hostile call must not panic the host");
        let Err(err) = result else {
            failures.push(format!("{}: expected an error, got success", c.guest));
            continue;
        };
        let text = err.to_string();
        println!(
            "{:<16} {:>6} ms  {:<16} {}",
            c.guest,
            took.as_millis(),
            err.reason(),
            &text[..text.len().min(160)]
        );
        if err.reason() != c.reason {
            failures.push(format!(
                "{}: reason {} (want {}): {text}",
                c.guest,
                err.reason(),
                c.reason
            ));
        }
        if !text.contains(c.guest) {
            failures.push(format!(
                "{}: error does not name the plugin: {text}",
                c.guest
            ));
        }
        for m in c.message {
            if !text.contains(m) {
                failures.push(format!("{}: error lacks {m:?}: {text}", c.guest));
            }
        }
        if matches!(err, Error::Timeout { .. }) && took > Duration::from_secs(2) {
            failures.push(format!("{}: timeout took {took:?}", c.guest));
        }
    }
    done.store(true, Ordering::Relaxed);
    healthy.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    acceptor.join().unwrap();
    drop(held);

    // Errors are counted per plugin and reason.
    let list = host.list();
    for p in &list {
        if p.name == "ok-exporter" {
            assert_eq!(p.stats.errors(), 0);
        } else {
            assert_eq!(
                (p.stats.calls, p.stats.errors()),
                (1, 1),
                "{} stats {:?}",
                p.name,
                p.stats
            );
        }
    }
    // Failures are counted per plugin and reason (the daemon renders these as
    // `sightline_plugin_call_errors_total`).
    let reasons = |name: &str| {
        host.list()
            .into_iter()
            .find(|p| p.name == name)
            .map(|p| p.stats.errors_by_reason)
            .unwrap_or_default()
    };
    assert_eq!(reasons("loop-forever").get("timeout"), Some(&1));
    assert_eq!(reasons("alloc-unbounded").get("memory_limit"), Some(&1));
    let ok = healthy_ok.load(Ordering::Relaxed);
    println!(
        "healthy exporter during the suite: {ok} ok, {} errors, max latency {} ms",
        healthy_err.load(Ordering::Relaxed),
        max_latency_us.load(Ordering::Relaxed) / 1000
    );
    assert!(
        failures.is_empty(),
        "hostile suite failures:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        healthy_err.load(Ordering::Relaxed),
        0,
        "the healthy plugin failed during the suite"
    );
    assert!(
        ok >= 5,
        "the healthy plugin was served only {ok} times during the suite"
    );
    // The healthy plugin's memory high-water mark is tracked.
    let ok_stats = list.iter().find(|p| p.name == "ok-exporter").unwrap();
    assert!(ok_stats.stats.memory_high_water_bytes > 0);
}

#[tokio::test]
async fn ungranted_statfs_and_broken_manifest_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        "typo",
        &guest("ok-exporter"),
        Some("[fs]\nread_olny = [\"/proc\"]\n"),
    );
    install(
        dir.path(),
        "unset",
        &guest("ok-exporter"),
        Some("[config]\ntoken = \"${SIGHTLINE_TEST_SURELY_UNSET_VAR}\"\n"),
    );
    install(dir.path(), "garbage", &guest("ok-exporter"), None);
    std::fs::write(dir.path().join("garbage.wasm"), b"\0asm not really").unwrap();
    let host = PluginHost::new(PluginHostConfig::new(dir.path()))
        .await
        .unwrap();
    let list = host.list();
    let err = |n: &str| {
        list.iter()
            .find(|p| p.name == n)
            .and_then(|p| p.last_error.clone())
            .unwrap_or_default()
    };
    assert!(
        err("typo").contains("unknown field `read_olny`"),
        "{}",
        err("typo")
    );
    assert!(
        err("unset").contains("$SIGHTLINE_TEST_SURELY_UNSET_VAR"),
        "{}",
        err("unset")
    );
    assert!(err("garbage").contains("compiling"), "{}", err("garbage"));
    assert!(list.iter().all(|p| p.kind.is_none()));
}
