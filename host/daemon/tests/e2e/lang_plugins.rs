//! Plugins written in other languages from the WIT alone (issue 17): the Python exporter
//! (`examples/python-exporter`, componentize-py) and the JavaScript receiver
//! (`examples/js-receiver`, componentize-js), both on contract 0.2.0 (`wit/v0.2`), built by
//! `examples/build-lang.sh` (which `./dev test` runs first) into `examples/target/lang/`. Each
//! loads in the daemon beside a Rust plugin of the same kind (the 0.1.0 `raw-uptime-exporter`
//! example keeps 0.1 proven in the same daemon), runs (the exporter is scraped with its
//! target's address and params, the receiver notified through alertmanager.yml routes and
//! posting with JavaScript's `fetch`, i.e. `wasi:http`), is listed in `/api/v1/plugins` with
//! its kind and contract, and passes `sightline plugin test` (the receiver's recorded `fetch`
//! checked, and failed requests reported as retryable or permanent). The receiver's 503 is
//! retried after its Retry-After, its 400 is not, and both are counted by reason. The test
//! prints each plugin's per-call latency (instantiation included) beside the Rust plugin's.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::am_support::{post_alerts, read_request, Sink};
use crate::support::*;

/// A component built by `examples/build-lang.sh`. Fails by name when it is missing: these
/// tests never pass without the plugins they are about.
fn lang_plugin(name: &str) -> PathBuf {
    let p = sightline_tests::repo_root().join(format!("examples/target/lang/{name}.wasm"));
    assert!(
        p.exists(),
        "{name} was not built: {} is missing; run `bash examples/build-lang.sh` (./dev test \
         runs it before the tests)",
        p.display()
    );
    p
}

/// The example's own manifest, as committed beside its source.
fn manifest(example: &str, name: &str) -> String {
    std::fs::read_to_string(
        sightline_tests::repo_root().join(format!("examples/{example}/{name}.toml")),
    )
    .unwrap()
}

/// The Python exporter's manifest with its `fs` grant pointed at `watched`. Its `files`
/// setting stays (a path outside the grant): the scrape target's `file` params replace it.
fn python_manifest(watched: &Path) -> String {
    manifest("python-exporter", "python-exporter").replace(
        "read_only = [\"/var/backups\"]",
        &format!("read_only = [\"{}\"]", watched.display()),
    )
}

/// A loopback HTTP server answering by path: `/503` with 503 and `Retry-After: 1`, `/400`
/// with 400, anything else 200. It records each request's path and arrival time.
struct StatusSink {
    addr: String,
    got: Arc<Mutex<Vec<(String, Instant)>>>,
    stop: Arc<AtomicBool>,
}

impl StatusSink {
    fn start() -> StatusSink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, st) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let at = Instant::now();
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((head, _)) = read_request(&mut s) else {
                    continue;
                };
                let path = head
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("")
                    .to_string();
                let answer: &[u8] = match path.as_str() {
                    "/503" => b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
                    "/400" => b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad",
                    _ => b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                };
                g.lock().unwrap().push((path, at));
                let _ = s.write_all(answer);
            }
        });
        StatusSink { addr, got, stop }
    }

    /// Arrival times of the requests to `path`.
    fn times(&self, path: &str) -> Vec<Instant> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }
}

impl Drop for StatusSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The sum of the `name` series with all of `labels`, from the daemon's `/metrics`.
fn metric(addr: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (_, text) = http_get(addr, "/metrics").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            series.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// Waits until `/-/ready` answers 200, at most `limit`: compiling the 12 and 18 MB
/// components (SpiderMonkey, CPython) without a cache takes longer than the 30 s other tests
/// allow, more so in a debug build on a busy machine.
fn wait_ready(d: &mut Daemon, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(st)) = d.child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = d.child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("sightline exited early with {st}: {err}");
        }
        if matches!(http_get(&d.addr, "/-/ready"), Ok((200, _))) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sightline not ready within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `(calls, sum of seconds)` of `sightline_plugin_call_duration_seconds` per plugin, from
/// the daemon's own `/metrics`.
fn call_stats(addr: &str) -> BTreeMap<String, (u64, f64)> {
    let (_, text) = http_get(addr, "/metrics").unwrap();
    let mut out: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for line in text.lines() {
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (suffix, rest) = if let Some(r) =
            series.strip_prefix("sightline_plugin_call_duration_seconds_count{")
        {
            ("count", r)
        } else if let Some(r) = series.strip_prefix("sightline_plugin_call_duration_seconds_sum{") {
            ("sum", r)
        } else {
            continue;
        };
        let Some(name) = rest
            .split("plugin=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let v: f64 = value.parse().unwrap();
        let e = out.entry(name.to_string()).or_default();
        if suffix == "count" {
            e.0 = v as u64;
        } else {
            e.1 = v;
        }
    }
    out
}

/// `sightline_plugin_memory_high_water_bytes` of `plugin` in MiB, from `/metrics`.
fn memory_high_water_mib(addr: &str, plugin: &str) -> f64 {
    let (_, text) = http_get(addr, "/metrics").unwrap();
    let prefix = format!("sightline_plugin_memory_high_water_bytes{{plugin=\"{plugin}\"");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit_once(' '))
        .map(|(_, v)| v.parse::<f64>().unwrap() / (1 << 20) as f64)
        .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
}

/// Per-call durations, from successive [`call_stats`]: a plugin whose count grew by exactly
/// one between two readings made one call of the sum's growth.
#[derive(Default)]
struct Latencies {
    last: BTreeMap<String, (u64, f64)>,
    calls: BTreeMap<String, Vec<f64>>,
}

impl Latencies {
    fn sample(&mut self, addr: &str) {
        let now = call_stats(addr);
        for (name, (count, sum)) in &now {
            if let Some((c0, s0)) = self.last.get(name) {
                if *count == c0 + 1 {
                    self.calls.entry(name.clone()).or_default().push(sum - s0);
                }
            }
        }
        self.last = now;
    }

    fn median_ms(&self, name: &str) -> f64 {
        let mut v = self.calls.get(name).cloned().unwrap_or_default();
        assert!(!v.is_empty(), "no single call of {name} was measured");
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1000.0
    }

    fn report(&self, name: &str, rust: &str) -> String {
        format!(
            "{name}: median {:.2} ms over {} calls; Rust {rust}: median {:.2} ms over {} calls",
            self.median_ms(name),
            self.calls[name].len(),
            self.median_ms(rust),
            self.calls[rust].len()
        )
    }
}

/// How long one `sightline plugin test` may take: it compiles the component first (no cache),
/// tens of seconds for these in a debug build on a busy machine.
const PLUGIN_TEST_LIMIT: Duration = Duration::from_secs(300);

/// Runs `cmd` to completion with its output captured (read as it comes, so a full pipe never
/// stalls it), killing it and failing after `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> std::process::Output {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs `sightline plugin test` with `args` and `XDG_CACHE_HOME=xdg` (so that nothing of the
/// user's is read or written).
fn plugin_test_output(xdg: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["plugin", "test"])
        .args(args)
        .env("XDG_CACHE_HOME", xdg);
    output_within(cmd, PLUGIN_TEST_LIMIT)
}

/// Runs `sightline plugin test` with `args`, asserting success, and returns stdout as JSON.
fn plugin_test(xdg: &Path, args: &[&str]) -> Value {
    let out = plugin_test_output(xdg, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "plugin test {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("plugin test {args:?}: {e}: {stdout}"))
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn plugin_entry<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no plugin {name} in {list}"))
}

/// The group notified to the JS receiver under `plugin test`, in Alertmanager's webhook shape.
fn test_group() -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "chat",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "page"},
        "commonAnnotations": {"summary": "Disk < 10% free"},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [{
            "status": "firing", "labels": {"alertname": "DiskFull", "severity": "page"},
            "annotations": {"summary": "Disk < 10% free"},
            "startsAt": "2026-01-02T03:04:05Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph", "fingerprint": "0123456789abcdef"
        }]
    })
}

/// The Python exporter is scraped (its samples queryable, a missing file a 0) and the JS
/// receiver delivers the groups routed to it, each beside a Rust plugin of its kind (the
/// `raw-uptime-exporter` example, the first-party `discord`); both are listed with their kind
/// and pass `sightline plugin test`.
#[test]
fn python_exporter_and_js_receiver_run_in_the_daemon() {
    let py = lang_plugin("python-exporter");
    let js = lang_plugin("js-receiver");
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let watched = dir.path().join("watched");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::create_dir_all(&watched).unwrap();
    let backup = watched.join("backup.tar");
    std::fs::write(&backup, b"0123456789").unwrap();
    let missing = watched.join("missing.tar");
    sightline_tests::install(
        &plugins,
        "python-exporter",
        &py,
        Some(&python_manifest(&watched)),
    );
    // Dropped in under its own name, the JS plugin serves `js-receiver_configs` (the alert
    // manager resolves `<name>_configs` to the receiver plugin `<name>`).
    sightline_tests::install(
        &plugins,
        "js-receiver",
        &js,
        Some(&manifest("js-receiver", "js-receiver")),
    );
    sightline_tests::install(
        &plugins,
        "raw-uptime-exporter",
        &sightline_tests::example("raw-uptime-exporter"),
        Some("[fs]\nread_only = [\"/proc\"]\n"),
    );
    sightline_tests::install(
        &plugins,
        "discord",
        &sightline_tests::first_party("discord"),
        Some(
            &std::fs::read_to_string(sightline_tests::repo_root().join("plugins/discord.toml"))
                .unwrap(),
        ),
    );

    // One receiver with two integrations: every group goes to the JS plugin and to the Rust
    // Discord plugin, each posting to its own sink. Two more routes send the JS plugin to a
    // sink answering 503 (retryable) and 400 (permanent).
    let (js_sink, rust_sink, status) = (Sink::start(), Sink::start(), StatusSink::start());
    let am = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am,
        format!(
            "route:\n  receiver: chat\n  group_by: [alertname]\n  group_wait: 100ms\n  \
             group_interval: 1h\n  repeat_interval: 1h\n  routes:\n    \
             - matchers: ['mode=\"retry\"']\n      receiver: retry\n    \
             - matchers: ['mode=\"perm\"']\n      receiver: perm\nreceivers:\n  \
             - name: chat\n    js-receiver_configs:\n      - url: 'http://{}/js'\n    \
             discord_configs:\n      - webhook_url: 'http://{}/rust'\n  \
             - name: retry\n    js-receiver_configs:\n      - url: 'http://{s}/503'\n  \
             - name: perm\n    js-receiver_configs:\n      - url: 'http://{s}/400'\n",
            js_sink.addr,
            rust_sink.addr,
            s = status.addr
        ),
    )
    .unwrap();
    // The exporter's target names the watched directory with its `dir` param (a
    // `__param_dir` target label), the job's `file` params the files in it.
    let config = format!(
        "\
scrape_configs:
  - job_name: files
    scrape_interval: 500ms
    scrape_timeout: 500ms
    plugin: python-exporter
    params:
      file: [backup.tar, missing.tar]
    static_configs:
      - targets: ['backups']
        labels:
          __param_dir: '{}'
  - job_name: uptime
    scrape_interval: 500ms
    scrape_timeout: 500ms
    plugin: raw-uptime-exporter
",
        watched.display()
    );
    let flag = format!("--alertmanager.config.file={}", am.display());
    let started = Instant::now();
    let mut d = Daemon::spawn_at(dir, Some(&config), &[&flag]);
    wait_ready(&mut d, Duration::from_secs(300));
    let load = started.elapsed();
    let mut lat = Latencies::default();
    lat.sample(&d.addr);

    // Both plugins are listed, loaded, with their kind and contract 0.2.0, the
    // `js-receiver` entry being the JS component (by its digest); the Rust 0.1 example beside them.
    let list = d.get_json("/api/v1/plugins");
    assert_eq!(
        plugin_entry(&list, "raw-uptime-exporter")["contract"],
        "0.1.0",
        "{list}"
    );
    for (name, kind, wasm) in [
        ("python-exporter", "exporter", &py),
        ("js-receiver", "receiver", &js),
    ] {
        let p = plugin_entry(&list, name);
        assert_eq!(p["kind"], kind, "{list}");
        assert_eq!(p["contract"], "0.2.0", "{list}");
        assert_eq!(p["state"], "loaded", "{list}");
        assert_eq!(
            p["sha256"],
            sha256_hex(wasm),
            "{name} is {}: {list}",
            wasm.display()
        );
    }

    // The exporter's samples are queryable: the file's size and age, the missing file a 0,
    // each path the target's `dir` param joined with a `file` param.
    let q = |expr: &str| {
        let v = d.get_json(&format!("/api/v1/query?query={}", urlencode(expr)));
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    };
    let size = eventually(
        30,
        "file_size_bytes scraped from the Python exporter",
        || {
            let r = q("file_size_bytes{job=\"files\"}");
            (!r.is_empty()).then_some(r)
        },
    );
    assert_eq!(size.len(), 1, "{size:?}");
    assert_eq!(size[0]["metric"]["path"], backup.display().to_string());
    assert_eq!(size[0]["value"][1], "10");
    let present = q("file_present{job=\"files\"}");
    let by_path: BTreeMap<String, String> = present
        .iter()
        .map(|s| {
            (
                s["metric"]["path"].as_str().unwrap().to_string(),
                s["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_path,
        BTreeMap::from([
            (backup.display().to_string(), "1".to_string()),
            (missing.display().to_string(), "0".to_string()),
        ])
    );
    let age = q("file_age_seconds{job=\"files\"}");
    let age: f64 = age[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(
        (0.0..120.0).contains(&age),
        "age of a file just written: {age}"
    );
    let up = q("up{job=\"files\"}");
    assert_eq!(up[0]["value"][1], "1");
    assert_eq!(up[0]["metric"]["instance"], "backups", "{up:?}");

    // The receiver: alerts posted one at a time, each its own group, each delivered by both
    // plugins before the next (so every call is measured on its own).
    const ROUNDS: usize = 8;
    for i in 0..ROUNDS {
        post_alerts(
            &d.addr,
            &json!([{
                "labels": {"alertname": format!("LangTest{i}"), "severity": "page"},
                "annotations": {"summary": format!("round {i}")},
                "generatorURL": "http://prometheus/graph"
            }]),
        );
        eventually(30, "both receivers notified", || {
            lat.sample(&d.addr);
            (js_sink.received().len() > i && rust_sink.received().len() > i).then_some(())
        });
        std::thread::sleep(Duration::from_millis(150));
        lat.sample(&d.addr);
    }
    let got = js_sink.received();
    assert_eq!(got.len(), ROUNDS, "one notification per group");
    let first = &got[0];
    assert_eq!(first.path, "/js");
    let ct = first.headers.iter().find(|(k, _)| k == "content-type");
    assert_eq!(ct.map(|(_, v)| v.as_str()), Some("application/json"));
    let body = &first.body;
    assert_eq!(body["version"], "4", "{body}");
    assert_eq!(body["receiver"], "chat", "{body}");
    assert_eq!(body["status"], "firing", "{body}");
    assert_eq!(body["groupLabels"]["alertname"], "LangTest0", "{body}");
    assert_eq!(body["alerts"][0]["labels"]["severity"], "page", "{body}");
    assert_eq!(
        body["alerts"][0]["annotations"]["summary"], "round 0",
        "{body}"
    );
    // Rendered by the host's templates (`__subject`: the common labels beyond the group's).
    assert_eq!(body["title"], "[FIRING:1] LangTest0 (page)", "{body}");
    let starts = body["alerts"][0]["startsAt"].as_str().unwrap();
    assert!(
        starts.starts_with("20") && starts.ends_with('Z') && starts.len() >= 20,
        "{body}"
    );
    assert_eq!(body["alerts"][0]["status"], "firing", "{body}");
    assert_eq!(
        body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z",
        "{body}"
    );
    assert_eq!(
        body["alerts"][0]["fingerprint"].as_str().map(str::len),
        Some(16),
        "{body}"
    );

    // More exporter calls for the latency figures, then both plugins' counters.
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        lat.sample(&d.addr);
        std::thread::sleep(Duration::from_millis(50));
    }
    let list = d.get_json("/api/v1/plugins");
    for name in ["python-exporter", "js-receiver"] {
        let p = plugin_entry(&list, name);
        assert_eq!(p["errors"], 0, "{list}");
        assert!(p["calls"].as_u64().unwrap() > 0, "{list}");
    }
    println!(
        "daemon ready (every plugin compiled, no cache) after {load:.1?}; per-call latency, \
         instantiation included (debug build of the daemon when run by \
         `cargo test`):\n  {}\n  {}",
        lat.report("python-exporter", "raw-uptime-exporter"),
        lat.report("js-receiver", "discord")
    );
    println!(
        "linear memory high water: python-exporter {:.1} MiB, raw-uptime-exporter {:.1} MiB, \
         js-receiver {:.1} MiB, discord {:.1} MiB",
        memory_high_water_mib(&d.addr, "python-exporter"),
        memory_high_water_mib(&d.addr, "raw-uptime-exporter"),
        memory_high_water_mib(&d.addr, "js-receiver"),
        memory_high_water_mib(&d.addr, "discord"),
    );

    // The JS receiver's failures: a 503 (with Retry-After: 1) is retryable, retried no sooner
    // than a second later; a 400 is permanent, tried once. Both counted by reason.
    let t0 = Instant::now();
    post_alerts(
        &d.addr,
        &json!([
            {"labels": {"alertname": "LangRetry", "mode": "retry"}},
            {"labels": {"alertname": "LangPerm", "mode": "perm"}},
        ]),
    );
    let retried = eventually(30, "three attempts at the 503 sink", || {
        let t = status.times("/503");
        (t.len() >= 3).then_some(t)
    });
    let gaps: Vec<Duration> = retried.windows(2).map(|w| w[1] - w[0]).collect();
    println!("js-receiver: gaps between attempts answered 503 with Retry-After: 1: {gaps:?}");
    for gap in &gaps {
        assert!(
            *gap >= Duration::from_millis(900),
            "Retry-After not honoured: {gaps:?}"
        );
    }
    std::thread::sleep(Duration::from_secs(3).saturating_sub(t0.elapsed()));
    assert_eq!(status.times("/400").len(), 1, "a 400 is not retried");
    let failed = "sightline_alertmanager_notification_requests_failed_total";
    let by_reason = |reason| {
        metric(
            &d.addr,
            failed,
            &[("integration", "js-receiver"), ("reason", reason)],
        )
    };
    let (retryable, permanent) = (by_reason("retryable"), by_reason("permanent"));
    println!("js-receiver: {retryable} attempts counted retryable, {permanent} permanent");
    assert!(retryable >= 2.0, "{retryable}");
    assert_eq!(permanent, 1.0);

    // `sightline plugin test` on the installed copies (their manifests beside them). It
    // compiles each component anew: it has no compile cache.
    let plugins = d.dir.path().join("plugins");
    let xdg = d.dir.path().join("xdg");
    let tests_started = Instant::now();
    // The exporter's target from `--config`: its `dir` and `file` params.
    let dir_param = format!("__param_dir={}", watched.display());
    let out = plugin_test(
        &xdg,
        &[
            plugins.join("python-exporter.wasm").to_str().unwrap(),
            "--config",
            &dir_param,
            "--config",
            "__param_file=backup.tar",
        ],
    );
    assert_eq!(out["kind"], "exporter", "{out}");
    assert_eq!(
        out["families"][1]["samples"][0]["labels"]["path"],
        backup.display().to_string(),
        "{out}"
    );
    let names: Vec<&str> = out["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "file_present",
            "file_size_bytes",
            "file_mtime_seconds",
            "file_age_seconds",
            "python_exporter_info"
        ],
        "{out}"
    );
    let input = d.dir.path().join("group.json");
    std::fs::write(&input, test_group().to_string()).unwrap();
    let out = plugin_test(
        &xdg,
        &[
            plugins.join("js-receiver.wasm").to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--config",
            "url=http://127.0.0.1:9/recorded",
            "--config",
            "title={{ .CommonAnnotations.summary }} ({{ .Alerts.Firing | len }})",
        ],
    );
    assert_eq!(out["kind"], "receiver", "{out}");
    assert_eq!(out["contract"], "0.2.0", "{out}");
    let requests = out["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{out}");
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["url"], "http://127.0.0.1:9/recorded");
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    let mut expected = test_group();
    // The `title` setting rendered by the host (the summary is not HTML-escaped: text/template).
    expected["title"] = json!("Disk < 10% free (1)");
    assert_eq!(sent, expected);

    // Failed POSTs (canned answers) are the plugin's errors, which `plugin test` reports with
    // the requests made: a 500 as retryable, a 404 as permanent.
    for (status, body, kind) in [
        (500, "boom", "failed (retryable)"),
        (404, "gone", "failed permanently"),
    ] {
        let responses = d.dir.path().join("responses.json");
        std::fs::write(
            &responses,
            format!(
                r#"[{{"url_prefix": "http://127.0.0.1:9/", "status": {status}, "headers": [], "body": "{body}"}}]"#
            ),
        )
        .unwrap();
        let out = plugin_test_output(
            &xdg,
            &[
                plugins.join("js-receiver.wasm").to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--config",
                "url=http://127.0.0.1:9/hook",
                "--responses",
                responses.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(kind), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "js-receiver: http://127.0.0.1:9/hook answered {status}: {body}"
            )),
            "{stderr}"
        );
    }
    println!(
        "four `sightline plugin test` runs (each compiling its component) took {:.1?}",
        tests_started.elapsed()
    );
}
