//! The filesystem guard against the real binary (issue 14): a plugin granted `/proc` and
//! `/` runs beside another plugin whose manifest holds a secret, in a daemon whose
//! environment and configuration hold secrets; none of them appears in anything the plugin
//! can return, and the daemon stays healthy throughout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{eventually, free_port, http_get, urlencode, Daemon, BIN};

#[test]
fn a_plugin_granted_proc_and_root_reads_no_secret_of_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let data = dir.path().join("data");
    let config_path = dir.path().join("prometheus.yml");
    std::fs::create_dir_all(&plugins).unwrap();
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let manifest_secret = format!("SIGHTLINE-SECRET-manifest-{nonce}");
    let env_secret = format!("SIGHTLINE-SECRET-env-{nonce}");
    let config_secret = format!("SIGHTLINE-SECRET-config-{nonce}");

    sightline_tests::install(
        &plugins,
        "secret-holder",
        &sightline_tests::guest("ok-exporter"),
        Some(&format!(
            "[config]\nlabel = \"x\"\ntoken = \"{manifest_secret}\"\n"
        )),
    );
    let private_files = [
        plugins.join("secret-holder.toml"),
        data.join("plugin-cache/cache.key"),
        config_path.clone(),
    ]
    .map(|p| p.display().to_string())
    .join(",");
    sightline_tests::install(
        &plugins,
        "proc-snoop",
        &sightline_tests::guest("proc-snoop"),
        Some(&format!(
            "[fs]\nread_only = [\"/proc\", \"/\"]\n[limits]\nmemory = \"128MiB\"\ntimeout = \"4s\"\n\
             [config]\nprivate_files = \"{private_files}\"\nprivate_dirs = \"{},{}\"\n",
            plugins.display(),
            data.display()
        )),
    );
    let target = free_port();
    let config = format!(
        "\
scrape_configs:
  - job_name: snoop
    scrape_interval: 3s
    scrape_timeout: 2900ms
    plugin: proc-snoop
  - job_name: holder
    scrape_interval: 1s
    plugin: secret-holder
  - job_name: with-password
    scrape_interval: 1s
    basic_auth:
      username: u
      password: {config_secret}
    static_configs:
      - targets: ['127.0.0.1:{target}']
"
    );
    std::fs::write(&config_path, config).unwrap();

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(BIN)
        .arg("serve")
        .arg(format!("--web.listen-address={addr}"))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--plugins.dir={}", plugins.display()))
        .arg(format!("--config.file={}", config_path.display()))
        .env("SIGHTLINE_E2E_SECRET", &env_secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sightline");
    let mut d = Daemon { child, addr, dir };
    d.wait_for("/-/ready to answer 200", |addr| {
        matches!(http_get(addr, "/-/ready"), Ok((200, _)))
    });

    // Two snoop scrapes, with /-/healthy answering within 2 s all along.
    let scrapes = format!(
        "/api/v1/query?query={}",
        urlencode("count_over_time(up{job=\"snoop\"}[1m])")
    );
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    loop {
        let t = Instant::now();
        let healthy = http_get(&d.addr, "/-/healthy");
        let took = t.elapsed();
        slowest = slowest.max(took);
        assert!(
            matches!(healthy, Ok((200, _))) && took < Duration::from_secs(2),
            "/-/healthy: {healthy:?} after {took:?}"
        );
        let v = d.get_json(&scrapes);
        let n = v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
        if n >= 2.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the snoop was not scraped twice in 40 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let up = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode("up{job=\"snoop\"}")
    ));
    assert_eq!(
        up["data"]["result"][0]["value"][1],
        "1",
        "the snoop's scrape failed: {}",
        d.get_json("/api/v1/targets")
    );
    let attempts = eventually(10, "snoop_attempt series", || {
        let v = d.get_json(&format!(
            "/api/v1/query?query={}",
            urlencode("snoop_attempt")
        ));
        let r = v["data"]["result"].as_array()?.clone();
        (r.len() > 100).then_some(r)
    });
    let mut wrong = Vec::new();
    for s in &attempts {
        let route = s["metric"]["route"].as_str().unwrap_or_default();
        let outcome = s["metric"]["outcome"].as_str().unwrap_or_default();
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
        "attack:read /proc/self/environ",
        "attack:read /proc/self/mem",
        "attack:read /proc/<pid>/environ",
        "attack:openat / proc/self/environ",
    ] {
        let denied = attempts
            .iter()
            .any(|s| s["metric"]["route"] == route && s["metric"]["outcome"] == "PermissionDenied");
        assert!(denied, "{route} was not denied by the guard");
    }
    let everything = [
        d.get_json(&format!(
            "/api/v1/query?query={}",
            urlencode("{__name__=~\"snoop_.*\"}")
        )),
        d.get_json(&format!(
            "/api/v1/series?match[]={}",
            urlencode("{job=\"snoop\"}")
        )),
        d.get_json("/api/v1/targets"),
        d.get_json("/api/v1/plugins"),
    ]
    .map(|v| v.to_string())
    .join("\n");
    let leaks = d.get_json(&format!("/api/v1/query?query={}", urlencode("snoop_leak")));
    assert_eq!(
        leaks["data"]["result"].as_array().map(Vec::len),
        Some(0),
        "markers found: {leaks}"
    );
    for secret in [&manifest_secret, &env_secret, &config_secret] {
        assert!(
            !everything.contains(secret.as_str()),
            "{secret} reached what the snoop returns"
        );
    }
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
}
