//! The scrape manager's unit tests: target resolution, loop supervision, where loops run.

use super::*;

/// The targets of the first job of `yaml`, as the pool resolves them.
fn targets(yaml: &str) -> Vec<Target> {
    let cfg = sightline_config::load_str(yaml, "test.yml").unwrap();
    let sc = &cfg.scrape_configs[0];
    let mut out = Vec::new();
    for g in sc.static_target_groups() {
        for t in &g.targets {
            let pt = sightline_config::populate_labels(sc, t, &g.labels).unwrap();
            out.push(resolve_target(sc, &pt.labels.unwrap(), pt.discovered_labels).unwrap());
        }
    }
    out
}

/// issue 13: every target of a plugin job keeps its own address and params for the
/// plugin, and its own URL (so its own loop and offset).
#[test]
fn plugin_targets_carry_their_address_and_params() {
    let ts = targets(
        "scrape_configs:
  - job_name: db
    plugin: dbx
    params: {module: [default], extra: [a, b]}
    static_configs:
      - targets: ['db1:5432']
      - targets: ['db2:3306']
        labels: {__param_module: mysql}
",
    );
    let seen: Vec<(String, String, Option<PluginTarget>)> = ts
        .iter()
        .map(|t| {
            (
                t.labels.get_or_empty("instance").to_string(),
                t.url.clone(),
                t.plugin_target.clone(),
            )
        })
        .collect();
    let params = |module: &str| {
        BTreeMap::from([
            ("extra".to_string(), vec!["a".to_string(), "b".to_string()]),
            ("module".to_string(), vec![module.to_string()]),
        ])
    };
    assert_eq!(
        seen,
        [
            (
                "db1:5432".to_string(),
                "plugin://dbx/db1:5432?extra=a&extra=b&module=default".to_string(),
                Some(PluginTarget {
                    address: "db1:5432".to_string(),
                    params: params("default"),
                    labels: ts[0].labels.clone(),
                })
            ),
            (
                "db2:3306".to_string(),
                "plugin://dbx/db2:3306?extra=a&extra=b&module=mysql".to_string(),
                Some(PluginTarget {
                    address: "db2:3306".to_string(),
                    params: params("mysql"),
                    labels: ts[1].labels.clone(),
                })
            ),
        ]
    );
    // The plugin sees the target's public labels (contract 0.2's `target.labels`).
    assert_eq!(
        ts[1].labels.get_or_empty("instance"),
        "db2:3306",
        "{:?}",
        ts[1].labels
    );
    assert!(ts[1].labels.iter().all(|l| !l.name.starts_with("__")));
    // Without targets: one implicit target named after the plugin.
    let ts = targets("scrape_configs:\n  - job_name: node\n    plugin: node-exporter\n");
    assert_eq!(ts.len(), 1);
    assert_eq!(ts[0].url, "plugin://node-exporter");
    assert_eq!(
        ts[0].plugin_target.as_ref().unwrap().address,
        "node-exporter"
    );
    // HTTP targets are unchanged.
    let ts = targets(
            "scrape_configs:\n  - job_name: h\n    params: {module: [x y]}\n    static_configs:\n      - targets: ['h:1']\n",
        );
    assert_eq!(ts[0].url, "http://h:1/metrics?module=x+y");
    assert_eq!(ts[0].plugin_target, None);
}

/// A plugin collector that always serves one sample.
struct OneSample;

impl PluginCollector for OneSample {
    fn collect<'a>(
        &'a self,
        _plugin: &'a str,
        _target: &'a PluginTarget,
        _timeout: Duration,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Vec<u8>, String>> + Send + 'a>,
    > {
        Box::pin(async { Ok(b"m 1\n".to_vec()) })
    }
}

/// A target on 127.0.0.1 that answers every request on a connection with `m 1`, from a
/// thread that ends with the process.
fn http_target() -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    while let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                        req.drain(..end + 4);
                        let body = "m 1\n";
                        let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
                                body.len()
                            );
                        if c.write_all(head.as_bytes())
                            .and_then(|_| c.write_all(body.as_bytes()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// HTTP loops run on the scrape shards' one-worker runtimes; plugin loops on the
/// runtime the manager was made on (where the plugin host runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_loops_run_on_the_scrape_shards() {
    let storage = Arc::new(Probe::default());
    let m = ScrapeManager::new(storage.clone(), &Registry::new(), Some(Arc::new(OneSample)));
    let addr = http_target();
    let cfg = sightline_config::load_str(
        &format!(
            "global: {{scrape_interval: 100ms, scrape_timeout: 100ms}}\n\
             scrape_configs:\n\
             - {{job_name: web, static_configs: [{{targets: ['{addr}']}}]}}\n\
             - {{job_name: p, plugin: x}}\n"
        ),
        "test.yml",
    )
    .unwrap();
    m.apply_config(&cfg).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let (web, plugin) = loop {
        let seen = storage.seen.lock().clone();
        let of = |job: &str| {
            seen.iter()
                .filter(|(j, _)| j == job)
                .map(|(_, t)| t.clone())
                .collect::<Vec<_>>()
        };
        let (web, plugin) = (of("web"), of("p"));
        if web.len() >= 3 && plugin.len() >= 3 {
            break (web, plugin);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not scraped in time: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        web.iter().all(|t| t.starts_with("sightline-scrape-")),
        "{web:?}"
    );
    assert!(
        plugin.iter().all(|t| !t.starts_with("sightline-scrape-")),
        "{plugin:?}"
    );
    let up = m
        .active_targets()
        .iter()
        .map(|t| (t.scrape_pool.clone(), t.health))
        .collect::<Vec<_>>();
    assert!(
        up.iter().all(|(_, h)| *h == crate::TargetHealth::Up),
        "{up:?}"
    );
    m.stop().await;
}

/// `MemStorage` whose first `panics` commits panic (a bug somewhere below the loop), which
/// counts the commits after those and records which thread appended each job's samples.
#[derive(Default)]
struct Probe {
    inner: sightline_storage_api::MemStorage,
    panics: std::sync::atomic::AtomicU32,
    commits: std::sync::atomic::AtomicU32,
    /// (job, thread name) of every append.
    seen: Mutex<Vec<(String, String)>>,
}

struct ProbeAppender<'a> {
    inner: Box<dyn sightline_storage_api::Appender + 'a>,
    owner: &'a Probe,
}

impl Appendable for Probe {
    fn appender(&self) -> Box<dyn sightline_storage_api::Appender + '_> {
        Box::new(ProbeAppender {
            inner: self.inner.appender(),
            owner: self,
        })
    }
}

impl sightline_storage_api::Appender for ProbeAppender<'_> {
    fn append(
        &mut self,
        series_ref: Option<sightline_model::SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> sightline_storage_api::Result<sightline_model::SeriesRef> {
        let thread = std::thread::current().name().unwrap_or("").to_string();
        self.owner
            .seen
            .lock()
            .push((labels.get("job").unwrap_or("").to_string(), thread));
        self.inner.append(series_ref, labels, t, v)
    }
    fn commit(self: Box<Self>) -> sightline_storage_api::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let left = self.owner.panics.load(SeqCst);
        if left > 0 {
            self.owner.panics.store(left - 1, SeqCst);
            panic!("injected commit panic ({left} left)");
        }
        self.owner.commits.fetch_add(1, SeqCst);
        self.inner.commit()
    }
    fn rollback(self: Box<Self>) -> sightline_storage_api::Result<()> {
        self.inner.rollback()
    }
}

/// issue 13: a scrape loop that panics is logged, counted and restarted; its target keeps
/// being scraped and `up` resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_scrape_loop_is_restarted() {
    use std::sync::atomic::Ordering::SeqCst;
    let storage = Arc::new(Probe {
        panics: std::sync::atomic::AtomicU32::new(2),
        ..Probe::default()
    });
    let m = ScrapeManager::new(storage.clone(), &Registry::new(), Some(Arc::new(OneSample)));
    let cfg = sightline_config::load_str(
            "scrape_configs:\n  - job_name: p\n    plugin: x\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n",
            "test.yml",
        )
        .unwrap();
    m.apply_config(&cfg).unwrap();
    let before = sightline_telemetry::supervise::panics(scrape_loop::TASK);
    // Two panics: restarts after 1 s and 2 s of backoff, then scrapes every 100 ms.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while storage.commits.load(SeqCst) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the loop did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(storage.panics.load(SeqCst), 0);
    let after = sightline_telemetry::supervise::panics(scrape_loop::TASK);
    assert_eq!(after - before, 2.0);
    let t = &m.active_targets()[0];
    assert_eq!(t.health, crate::TargetHealth::Up);
    let up = Labels::from_pairs([("__name__", "up"), ("instance", "x"), ("job", "p")]);
    let samples = storage.inner.samples_of(&up);
    assert!(samples.len() >= 3, "{samples:?}");
    assert!(samples.iter().all(|s| s.v == 1.0), "{samples:?}");
    m.stop().await;
}
