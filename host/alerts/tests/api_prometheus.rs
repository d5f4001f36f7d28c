//! Debian's Prometheus 2.42 posts its alerts to the API, over v2 (its default) and v1: an
//! always-firing rule, two alertmanager sets pointing at two loopback servers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_fake::{ls, Fake};
use sightline_alerts::api::router;

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// Serves the API for `fake` on an ephemeral loopback port; returns `host:port`.
async fn serve(fake: Arc<Fake>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(fake)).await;
    });
    addr.to_string()
}

/// Kills the child when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_posts_alerts_over_v2_and_v1() {
    assert!(
        Path::new(PROMETHEUS).exists(),
        "prometheus is missing: install Debian's prometheus (2.42) for {PROMETHEUS}"
    );
    let now = chrono::Utc::now().timestamp_millis();
    let (v2, v1) = (
        Fake::from_recorded("amtool", now),
        Fake::from_recorded("amtool", now),
    );
    let (v2_addr, v1_addr) = (serve(v2.clone()).await, serve(v1.clone()).await);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: AlwaysFiring\n    expr: vector(1)\n    labels: {severity: page}\n    annotations: {summary: always}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global: {{evaluation_interval: 1s}}\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - api_version: v2\n    static_configs: [{{targets: ['{v2_addr}']}}]\n  - api_version: v1\n    static_configs: [{{targets: ['{v1_addr}']}}]\n"
        ),
    )
    .unwrap();
    let child = Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        // Prometheus drops what it sends before notifier discovery has run (about 5 s) and
        // resends after this delay (default 1 m).
        .arg("--rules.alert.resend-delay=1s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killed(child);

    let received = |f: &Fake| {
        f.seen
            .lock()
            .unwrap()
            .put
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while (received(&v2).is_empty() || received(&v1).is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (name, fake) in [("v2", &v2), ("v1", &v1)] {
        let alerts = received(fake);
        let a = alerts
            .first()
            .unwrap_or_else(|| panic!("no alert posted over {name} within 60s"));
        assert_eq!(
            a.labels,
            ls(&[("alertname", "AlwaysFiring"), ("severity", "page")]),
            "{name}"
        );
        assert_eq!(a.annotations, ls(&[("summary", "always")]), "{name}");
        assert!(
            a.generator_url.contains("vector%281%29"),
            "{name}: {}",
            a.generator_url
        );
        // Prometheus sends an end for firing alerts (a few resend delays ahead).
        assert!(
            !a.timeout && a.ends_at.unwrap() > a.starts_at,
            "{name}: {a:?}"
        );
        assert_eq!(fake.seen.lock().unwrap().invalid, 0, "{name}");
    }
}
