//! issue 13: secrets (passwords, tokens, webhook URLs, service keys) never appear in an API
//! response, a log line, an error message or `check` output. One prometheus.yml with a
//! distinctive value in every secret field runs in the real daemon at debug log level; every
//! endpoint is read and stderr captured, and none of the values may appear.

use std::io::Read;
use std::process::Command;

use crate::support::{eventually, free_port, http_get, Daemon, BIN};

/// Every secret value of [`config`]; each must appear nowhere.
const SECRETS: &[&str] = &[
    "s3cr3t-basic-password",
    "s3cr3t-bearer-token",
    "s3cr3t-authorization-credentials",
    "s3cr3t-http-header",
    "s3cr3t-proxy-url-password",
    "s3cr3t-proxy-connect-header",
    "s3cr3t-remote-write-url",
    "s3cr3t-remote-write-password",
    "s3cr3t-remote-read-url",
    "s3cr3t-remote-read-credentials",
    "s3cr3t-alerting-password",
    "s3cr3t-alerting-bearer",
    "s3cr3t-external-url",
    "s3cr3t-oauth2-client-secret",
    "s3cr3t-oauth2-token-url",
    "s3cr3t-sigv4-secret-key",
];

/// The password of a target address with userinfo. The address is also the `instance` label
/// and `__address__`, which are data (series identity, shown as Prometheus shows them), so
/// this one is checked where it is a URL: `scrapeUrl`, `globalUrl`, `lastError`, logs.
const USERINFO: &str = "s3cr3t-target-userinfo";

fn config(dead: u16) -> String {
    format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 500ms}}
scrape_configs:
- job_name: basic
  basic_auth: {{username: u, password: s3cr3t-basic-password}}
  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
- job_name: bearer
  bearer_token: s3cr3t-bearer-token
  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
- job_name: authz
  authorization: {{type: Token, credentials: s3cr3t-authorization-credentials}}
  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
- job_name: headers
  http_headers: {{X-Token: {{secrets: [s3cr3t-http-header]}}}}
  proxy_url: http://pu:s3cr3t-proxy-url-password@127.0.0.1:{dead}
  proxy_connect_header: {{Proxy-Authorization: [s3cr3t-proxy-connect-header]}}
  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
- job_name: oauth2
  oauth2: {{client_id: c, client_secret: s3cr3t-oauth2-client-secret, token_url: 'http://tu:s3cr3t-oauth2-token-url@127.0.0.1:{dead}/token'}}
  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
- job_name: userinfo
  static_configs: [{{targets: ['user:{USERINFO}@127.0.0.1:{dead}']}}]
remote_write:
- url: http://rw:s3cr3t-remote-write-url@127.0.0.1:{dead}/write
  basic_auth: {{username: u, password: s3cr3t-remote-write-password}}
- url: http://127.0.0.1:{dead}/aps
  sigv4: {{region: r, access_key: AKID, secret_key: s3cr3t-sigv4-secret-key}}
remote_read:
- url: http://rr:s3cr3t-remote-read-url@127.0.0.1:{dead}/read
  authorization: {{credentials: s3cr3t-remote-read-credentials}}
alerting:
  alertmanagers:
  - basic_auth: {{username: u, password: s3cr3t-alerting-password}}
    static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
  - bearer_token: s3cr3t-alerting-bearer
    static_configs: [{{targets: ['127.0.0.1:{dead}']}}]
"
    )
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows {s}: {text}");
    }
}

#[test]
fn secrets_appear_in_no_response_log_or_check_output() {
    let dead = free_port();
    let cfg = config(dead);
    let mut d = Daemon::start(
        Some(&cfg),
        &[
            "--log.level=debug",
            "--web.external-url=http://ext:s3cr3t-external-url@sightline.example/",
        ],
    );
    // Drain stderr as it comes, so debug logging never blocks on a full pipe.
    let mut stderr = d.child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Every target has failed at least once (lastError set) before anything is read.
    let targets = eventually(20, "every target scraped", || {
        let t = d.get_json("/api/v1/targets");
        let a = t["data"]["activeTargets"].as_array()?.clone();
        (a.len() == 6 && a.iter().all(|t| t["lastError"] != "")).then_some(t)
    });
    let userinfo = targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scrapePool"] == "userinfo")
        .unwrap()
        .clone();
    let url = format!("http://user:xxxxx@127.0.0.1:{dead}/metrics");
    assert_eq!(userinfo["scrapeUrl"], url.as_str(), "{userinfo}");
    assert_eq!(userinfo["globalUrl"], url.as_str(), "{userinfo}");
    assert!(
        !userinfo["lastError"].as_str().unwrap().contains(USERINFO),
        "{userinfo}"
    );

    let yaml = d.get_json("/api/v1/status/config")["data"]["yaml"]
        .as_str()
        .unwrap()
        .to_string();
    // Secret fields print as Prometheus prints them.
    assert!(yaml.contains("password: <secret>"), "{yaml}");
    assert!(yaml.contains("credentials: <secret>"), "{yaml}");
    assert!(
        yaml.contains(&format!("proxy_url: http://pu:xxxxx@127.0.0.1:{dead}")),
        "{yaml}"
    );
    assert!(
        yaml.contains(&format!("url: http://rw:xxxxx@127.0.0.1:{dead}/write")),
        "{yaml}"
    );

    let flags = d.get_json("/api/v1/status/flags");
    assert_eq!(
        flags["data"]["web.external-url"],
        "http://ext:xxxxx@sightline.example/"
    );

    let endpoints = [
        "/api/v1/status/config",
        "/api/v1/status/flags",
        "/api/v1/status/runtimeinfo",
        "/api/v1/status/buildinfo",
        "/api/v1/status/tsdb",
        "/api/v1/targets",
        "/api/v1/targets/metadata",
        "/api/v1/metadata",
        "/api/v1/alertmanagers",
        "/api/v1/rules",
        "/api/v1/alerts",
        "/api/v1/plugins",
        "/api/v1/labels",
        "/api/v1/label/job/values",
        "/api/v1/series?match[]=up",
        "/api/v1/query?query=up",
        "/api/v1/query_range?query=up&start=0&end=100&step=10",
        "/api/search",
        "/metrics",
        "/-/healthy",
        "/-/ready",
    ];
    for path in endpoints {
        let (_, body) = http_get(&d.addr, path).unwrap();
        assert_no_secret(path, &body);
    }
    let (_, body) = http_get(&d.addr, "/api/v1/targets").unwrap();
    // In the targets API the userinfo password is only in the target's labels.
    let without_labels: String = {
        let mut t: serde_json::Value = serde_json::from_str(&body).unwrap();
        for a in t["data"]["activeTargets"].as_array_mut().unwrap() {
            a["labels"] = serde_json::Value::Null;
            a["discoveredLabels"] = serde_json::Value::Null;
        }
        t.to_string()
    };
    assert!(!without_labels.contains(USERINFO), "{without_labels}");

    // A reload logs the configuration's outcome; then stop and read every log line.
    d.send_signal("HUP");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let st = d.signal_and_wait("TERM");
    assert!(st.success(), "{st}");
    let logs = logs.join().unwrap();
    assert!(logs.contains("scrape failed"), "debug logs are on: {logs}");
    assert_no_secret("stderr", &logs);
    assert!(!logs.contains(USERINFO), "{logs}");

    // `check config` on the same file.
    let out = Command::new(BIN)
        .args(["check", "config"])
        .arg(d.config_path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_no_secret("check config", &text);
    assert!(!text.contains(USERINFO), "{text}");
}

/// `check config` and the daemon's startup error on a broken file that holds secrets: the
/// error names the place, not the values.
#[test]
fn config_errors_do_not_quote_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yml");
    for job in [
        // Two authentication methods: rejected, with both secrets in the job.
        "  basic_auth: {username: u, password: s3cr3t-basic-password}\n  bearer_token: s3cr3t-bearer-token\n",
        // A password where the block belongs.
        "  basic_auth: s3cr3t-basic-password\n",
        "  authorization: s3cr3t-authorization-credentials\n",
        // A URL that does not parse.
        "  proxy_url: 'http://u:s3cr3t-proxy-url-password@[bad'\n",
    ] {
        std::fs::write(&p, format!("scrape_configs:\n- job_name: x\n{job}")).unwrap();
        let out = Command::new(BIN)
            .args(["check", "config"])
            .arg(&p)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("bad.yml:"), "errors keep their position: {text}");
        assert_no_secret("check config", &text);
    }
}

/// `check alertmanager`: webhook URLs and service keys stay out of its output.
#[test]
fn check_alertmanager_does_not_print_receiver_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("alertmanager.yml");
    std::fs::write(
        &p,
        "route: {receiver: team}\nreceivers:\n- name: team\n  webhook_configs:\n  - url: http://hook:s3cr3t-webhook-password@127.0.0.1:1/s3cr3t-webhook-path\n  pagerduty_configs:\n  - service_key: s3cr3t-service-key\n",
    )
    .unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let out = Command::new(BIN)
        .args(["check", "alertmanager"])
        .arg(&p)
        .arg(format!("--plugins.dir={}", plugins.display()))
        .env("XDG_CACHE_HOME", dir.path().join("xdg"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for s in [
        "s3cr3t-webhook-password",
        "s3cr3t-webhook-path",
        "s3cr3t-service-key",
    ] {
        assert!(!text.contains(s), "check alertmanager shows {s}: {text}");
    }
    assert!(text.contains("webhook"), "{text}");
}
