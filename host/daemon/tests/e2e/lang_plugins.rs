//! Plugins written in other languages from the WIT alone (issue 17): the Python exporter
//! (`examples/python-exporter`, componentize-py) and the JavaScript receiver
//! (`examples/js-receiver`, componentize-js), built by `examples/build-lang.sh` (which
//! `./dev test` runs first) into `examples/target/lang/`. Each loads in the daemon beside a
//! Rust plugin of the same kind, runs (the exporter is scraped, the receiver notified through
//! an alertmanager.yml route), is listed in `/api/v1/plugins` with its kind, and passes
//! `sightline plugin test` (the receiver's recorded request checked, and a failed request
//! reported as the plugin's error). The test prints each plugin's per-call latency (instantiation
//! included) beside the Rust plugin's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::am_support::{post_alerts, Sink};
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

/// The Python exporter's manifest with its `fs` grant and `files` pointed at `watched`.
fn python_manifest(watched: &Path, files: &[PathBuf]) -> String {
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    manifest("python-exporter", "python-exporter")
        .replace(
            "read_only = [\"/var/backups\"]",
            &format!("read_only = [\"{}\"]", watched.display()),
        )
        .replace(
            "files = \"/var/backups/dpkg.status.0\"",
            &format!("files = \"{}\"", files.join(",")),
        )
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
        Some(&python_manifest(
            &watched,
            &[backup.clone(), missing.clone()],
        )),
    );
    // The alert manager resolves `<kind>_configs` to the receiver plugin `<kind>` for
    // Alertmanager's kinds only, so the JS plugin serves `webhook_configs` (whose `url` it
    // reads) by being installed as `webhook`, as a user replaces a first-party plugin.
    sightline_tests::install(
        &plugins,
        "webhook",
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
    // Discord plugin, each posting to its own sink.
    let (js_sink, rust_sink) = (Sink::start(), Sink::start());
    let am = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am,
        format!(
            "route:\n  receiver: chat\n  group_by: [alertname]\n  group_wait: 100ms\n  \
             group_interval: 1h\n  repeat_interval: 1h\nreceivers:\n  - name: chat\n    \
             webhook_configs:\n      - url: 'http://{}/js'\n    discord_configs:\n      \
             - webhook_url: 'http://{}/rust'\n",
            js_sink.addr, rust_sink.addr
        ),
    )
    .unwrap();
    let config = "\
scrape_configs:
  - job_name: files
    scrape_interval: 500ms
    scrape_timeout: 500ms
    plugin: python-exporter
  - job_name: uptime
    scrape_interval: 500ms
    scrape_timeout: 500ms
    plugin: raw-uptime-exporter
";
    let flag = format!("--alertmanager.config.file={}", am.display());
    let started = Instant::now();
    let mut d = Daemon::spawn_at(dir, Some(config), &[&flag]);
    wait_ready(&mut d, Duration::from_secs(300));
    let load = started.elapsed();
    let mut lat = Latencies::default();
    lat.sample(&d.addr);

    // Both plugins are listed, loaded, with their kind, the `webhook` entry being the JS
    // component (by its digest).
    let list = d.get_json("/api/v1/plugins");
    for (name, kind, wasm) in [
        ("python-exporter", "exporter", &py),
        ("webhook", "receiver", &js),
    ] {
        let p = plugin_entry(&list, name);
        assert_eq!(p["kind"], kind, "{list}");
        assert_eq!(p["state"], "loaded", "{list}");
        assert_eq!(
            p["sha256"],
            sha256_hex(wasm),
            "{name} is {}: {list}",
            wasm.display()
        );
    }

    // The exporter's samples are queryable: the file's size and age, the missing file a 0.
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
    assert_eq!(q("up{job=\"files\"}")[0]["value"][1], "1");

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
    assert_eq!(body["text"], "[FIRING:1] LangTest0", "{body}");
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
    for name in ["python-exporter", "webhook"] {
        let p = plugin_entry(&list, name);
        assert_eq!(p["errors"], 0, "{list}");
        assert!(p["calls"].as_u64().unwrap() > 0, "{list}");
    }
    println!(
        "daemon ready (every plugin compiled, no cache) after {load:.1?}; per-call latency, \
         instantiation included (debug build of the daemon when run by \
         `cargo test`):\n  {}\n  {}",
        lat.report("python-exporter", "raw-uptime-exporter"),
        lat.report("webhook", "discord")
            .replacen("webhook", "js-receiver (as webhook)", 1)
    );
    println!(
        "linear memory high water: python-exporter {:.1} MiB, raw-uptime-exporter {:.1} MiB, \
         js-receiver {:.1} MiB, discord {:.1} MiB",
        memory_high_water_mib(&d.addr, "python-exporter"),
        memory_high_water_mib(&d.addr, "raw-uptime-exporter"),
        memory_high_water_mib(&d.addr, "webhook"),
        memory_high_water_mib(&d.addr, "discord"),
    );

    // `sightline plugin test` on the installed copies (their manifests beside them). It
    // compiles each component anew: it has no compile cache.
    let plugins = d.dir.path().join("plugins");
    let xdg = d.dir.path().join("xdg");
    let tests_started = Instant::now();
    let out = plugin_test(
        &xdg,
        &[plugins.join("python-exporter.wasm").to_str().unwrap()],
    );
    assert_eq!(out["kind"], "exporter", "{out}");
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
            plugins.join("webhook.wasm").to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--config",
            "url=http://127.0.0.1:9/recorded",
        ],
    );
    assert_eq!(out["kind"], "receiver", "{out}");
    let requests = out["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{out}");
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["url"], "http://127.0.0.1:9/recorded");
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    let mut expected = test_group();
    expected["text"] = json!("[FIRING:1] DiskFull");
    assert_eq!(sent, expected);

    // A failed POST (the canned answer is 500) is the plugin's error: a thrown string is the
    // WIT `result`'s error, which `plugin test` reports with the requests made.
    let responses = d.dir.path().join("responses.json");
    std::fs::write(
        &responses,
        r#"[{"url_prefix": "http://127.0.0.1:9/", "status": 500, "headers": [], "body": "boom"}]"#,
    )
    .unwrap();
    let out = plugin_test_output(
        &xdg,
        &[
            plugins.join("webhook.wasm").to_str().unwrap(),
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
    assert!(
        stderr.contains("js-receiver: http://127.0.0.1:9/hook answered 500: boom"),
        "{stderr}"
    );
    println!(
        "three `sightline plugin test` runs (each compiling its component) took {:.1?}",
        tests_started.elapsed()
    );
}
