//! Loading prometheus.yml: the seed config, defaults, located errors, redaction.

use std::time::Duration;

use sightline_config::{load_file, load_str, Config, Scheme, ScrapeProtocol, DEFAULT_CONFIG_YAML};

fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn seed_config_loads_unchanged() {
    let path = testdata("seed-prometheus.yml");
    let cfg = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.global.scrape_interval, secs(15));
    assert_eq!(cfg.global.scrape_timeout, secs(10));
    assert_eq!(cfg.global.evaluation_interval, secs(15));
    let jobs: Vec<_> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["app", "node", "postgres"]);
    let app = &cfg.scrape_configs[0];
    assert_eq!(app.scrape_interval, secs(15));
    assert_eq!(app.scrape_timeout, secs(5));
    assert_eq!(app.metrics_path, "/metrics");
    assert_eq!(
        app.static_configs[0].addresses().collect::<Vec<_>>(),
        ["localhost:8000"]
    );
    assert_eq!(cfg.scrape_configs[1].scrape_timeout, secs(10));
    // Rule files are relative to the config file's directory, as in Prometheus.
    assert_eq!(
        cfg.rule_files,
        [testdata("alerts.yml").display().to_string()]
    );
    let am = &cfg.alerting.alertmanagers[0];
    assert_eq!(
        am.static_configs[0].addresses().collect::<Vec<_>>(),
        ["localhost:9093"]
    );
    assert_eq!(am.api_version, "v2");
    assert_eq!(am.timeout, secs(10));
    assert_eq!(am.scheme, Scheme::Http);
}

#[test]
fn embedded_default_config_loads() {
    let cfg = sightline_config::default_config().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(load_str(DEFAULT_CONFIG_YAML, "x").unwrap(), cfg);
    let own = &cfg.scrape_configs[0];
    assert_eq!(own.job_name, "sightline");
    assert_eq!(own.scrape_interval, secs(15));
    assert_eq!(
        own.static_configs[0].addresses().collect::<Vec<_>>(),
        ["127.0.0.1:9090"]
    );
    let node = &cfg.scrape_configs[1];
    assert_eq!(node.job_name, "node");
    assert_eq!(node.plugin.as_deref(), Some("node-exporter"));
    let groups = node.static_target_groups();
    assert_eq!(groups[0].addresses().collect::<Vec<_>>(), ["node-exporter"]);
    let t =
        sightline_config::populate_labels(node, &groups[0].targets[0], &groups[0].labels).unwrap();
    let labels = t.labels.unwrap();
    assert_eq!(
        (labels.get("job"), labels.get("instance")),
        (Some("node"), Some("node-exporter"))
    );
    // `sightline check config` accepts it as a file too.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("default.yml");
    std::fs::write(&p, DEFAULT_CONFIG_YAML).unwrap();
    let r = sightline_config::check_config_file(&p);
    assert!(r.success, "{}", r.text);
}

#[test]
fn empty_and_comment_only_files_are_the_default_config() {
    for src in ["", "# nothing\n", "---\n", "global:\n"] {
        let cfg = load_str(src, "e.yml").unwrap_or_else(|e| panic!("{src:?}: {e}"));
        assert_eq!(cfg, Config::default(), "{src:?}");
    }
}

#[test]
fn only_the_first_document_counts() {
    let cfg = load_str("global:\n  scrape_interval: 7s\n---\nbogus: 1\n", "m.yml").unwrap();
    assert_eq!(cfg.global.scrape_interval, secs(7));
}

#[test]
fn defaults_table() {
    let cfg = load_str("scrape_configs:\n  - job_name: j\n", "d.yml").unwrap();
    let g = &cfg.global;
    let s = &cfg.scrape_configs[0];
    let checks: Vec<(&str, String, String)> = vec![
        (
            "global.scrape_interval",
            format!("{:?}", g.scrape_interval),
            "60s".into(),
        ),
        (
            "global.scrape_timeout",
            format!("{:?}", g.scrape_timeout),
            "10s".into(),
        ),
        (
            "global.evaluation_interval",
            format!("{:?}", g.evaluation_interval),
            "60s".into(),
        ),
        (
            "scrape_interval",
            format!("{:?}", s.scrape_interval),
            "60s".into(),
        ),
        (
            "scrape_timeout",
            format!("{:?}", s.scrape_timeout),
            "10s".into(),
        ),
        ("metrics_path", s.metrics_path.clone(), "/metrics".into()),
        ("scheme", s.scheme.as_str().into(), "http".into()),
        ("honor_labels", s.honor_labels.to_string(), "false".into()),
        (
            "honor_timestamps",
            s.honor_timestamps.to_string(),
            "true".into(),
        ),
        (
            "enable_compression",
            s.enable_compression.to_string(),
            "true".into(),
        ),
        (
            "follow_redirects",
            s.http.follow_redirects.to_string(),
            "true".into(),
        ),
        (
            "enable_http2",
            s.http.enable_http2.to_string(),
            "true".into(),
        ),
        ("sample_limit", s.sample_limit.to_string(), "0".into()),
        ("body_size_limit", s.body_size_limit.to_string(), "0".into()),
        (
            "scrape_protocols",
            format!("{:?}", s.scrape_protocols),
            format!("{:?}", ScrapeProtocol::DEFAULT.to_vec()),
        ),
    ];
    for (what, got, want) in checks {
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn inheritance_rules() {
    // Only the interval given, below the global timeout: the timeout becomes the interval.
    let cfg = load_str(
        "scrape_configs:\n  - job_name: j\n    scrape_interval: 5s\n",
        "i.yml",
    )
    .unwrap();
    assert_eq!(cfg.scrape_configs[0].scrape_timeout, secs(5));
    // A global interval below the default timeout caps the global timeout.
    let cfg = load_str(
        "global:\n  scrape_interval: 3s\nscrape_configs:\n  - job_name: j\n",
        "i.yml",
    )
    .unwrap();
    assert_eq!(cfg.global.scrape_timeout, secs(3));
    assert_eq!(cfg.scrape_configs[0].scrape_timeout, secs(3));
    // Limits and protocols come from global unless set.
    let src = "global:\n  sample_limit: 10\n  body_size_limit: 10MB\n  scrape_protocols: [PrometheusText0.0.4]\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    sample_limit: 3\n";
    let cfg = load_str(src, "i.yml").unwrap();
    assert_eq!(cfg.scrape_configs[0].sample_limit, 10);
    assert_eq!(cfg.scrape_configs[0].body_size_limit, 10 << 20);
    assert_eq!(
        cfg.scrape_configs[0].scrape_protocols,
        [ScrapeProtocol::PrometheusText0_0_4]
    );
    assert_eq!(cfg.scrape_configs[1].sample_limit, 3);
}

#[test]
fn http_client_settings() {
    let src = r#"
scrape_configs:
  - job_name: a
    bearer_token: tok
  - job_name: b
    authorization:
      credentials_file: /etc/tok
  - job_name: c
    basic_auth:
      username: u
      password: p
    tls_config:
      ca_file: ca.pem
      cert_file: c.pem
      key_file: k.pem
      server_name: example
      insecure_skip_verify: true
      min_version: TLS12
    proxy_url: http://proxy:3128
    follow_redirects: false
    enable_http2: false
    params:
      module: [http_2xx, other]
"#;
    let cfg = load_str(src, "h.yml").unwrap();
    let a = cfg.scrape_configs[0].http.authorization.as_ref().unwrap();
    assert_eq!(
        (a.kind.as_str(), a.credentials.as_ref().unwrap().expose()),
        ("Bearer", "tok")
    );
    let b = cfg.scrape_configs[1].http.authorization.as_ref().unwrap();
    assert_eq!(
        (b.kind.as_str(), b.credentials_file.as_deref()),
        ("Bearer", Some("/etc/tok"))
    );
    let c = &cfg.scrape_configs[2];
    let ba = c.http.basic_auth.as_ref().unwrap();
    assert_eq!(
        (ba.username.as_str(), ba.password.as_ref().unwrap().expose()),
        ("u", "p")
    );
    assert_eq!(c.http.tls_config.cert_file.as_deref(), Some("c.pem"));
    assert!(c.http.tls_config.insecure_skip_verify);
    assert_eq!(
        c.http.proxy_url.as_ref().unwrap().as_str(),
        "http://proxy:3128/"
    );
    assert!(!c.http.follow_redirects && !c.http.enable_http2);
    assert_eq!(c.params["module"], ["http_2xx", "other"]);
}

#[test]
fn remote_write_and_read_defaults() {
    let src = "remote_write:\n  - url: http://rw:9201/write\nremote_read:\n  - url: http://rr/read\nstorage:\n  tsdb:\n    out_of_order_time_window: 30m\ntracing:\n  endpoint: x:4317\n";
    let cfg = load_str(src, "r.yml").unwrap();
    let rw = &cfg.remote_write[0];
    assert_eq!(rw.remote_timeout, secs(30));
    assert_eq!(rw.queue_config.capacity, 10000);
    assert_eq!(rw.queue_config.max_shards, 50);
    assert_eq!(rw.queue_config.min_backoff, Duration::from_millis(30));
    assert!(rw.metadata_config.send);
    assert!(
        !rw.http.enable_http2,
        "remote write defaults to HTTP/1.1 as in Prometheus"
    );
    assert_eq!(rw.protobuf_message, "prometheus.WriteRequest");
    assert_eq!(cfg.remote_read[0].remote_timeout, secs(60));
    assert!(cfg.remote_read[0].filter_external_labels);
    assert_eq!(cfg.storage.out_of_order_time_window, secs(1800));
}

/// Broken configurations: each must fail with this exact `file:line:col` and message part.
#[test]
fn broken_configs_are_located() {
    let cases: &[(&str, &str, &str)] = &[
        ("global:\n  scrape_interval: 5x\n", "b.yml:2:20:", r#"not a valid duration string: "5x""#),
        ("global:\n  foo: 1\n", "b.yml:2:3:", "unknown field `foo`"),
        ("foo: 1\n", "b.yml:1:1:", "unknown field `foo`"),
        ("global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n", "b.yml:2:3:", "global scrape timeout greater than scrape interval"),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1']\n  - job_name: a\n",
            "b.yml:5:15:",
            r#"found multiple scrape configs with job name "a""#,
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
            "b.yml:4:21:",
            r#"scrape timeout greater than scrape interval for scrape config with job name "a""#,
        ),
        (
            "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n    scrape_timeout: 6s\n",
            "b.yml:5:21:",
            r#"scrape timeout greater than scrape interval for scrape config with job name "a""#,
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
            "b.yml:4:9:",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: foo\n",
            "b.yml:4:17:",
            r#"unknown relabel action "foo""#,
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n",
            "b.yml:4:19:",
            r#""http://x:1/metrics" is not a valid hostname"#,
        ),
        ("scrape_configs:\n  - metrics_path: /x\n", "b.yml:2:5:", "job_name is empty"),
        (
            "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p}\n    bearer_token: t\n",
            "b.yml:2:5:",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        ("scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n", "b.yml:3:22:", "units: unknown unit XB in 10XB"),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1']\n        labels: {'': b}\n",
            "b.yml:5:18:",
            r#""" is not a valid label name"#,
        ),
        ("rule_files: ['a/*/b.yml']\n", "b.yml:1:14:", r#"invalid rule file path "a/*/b.yml""#),
        ("scrape_configs:\n  - job_name: a\n    oauth2:\n      client_id: x\n", "b.yml:2:5:", "either oauth2 client_secret or client_secret_file must be configured"),
        ("scrape_configs:\n  - job_name: a\n    scheme: ftp\n", "b.yml:3:13:", r#"scheme must be "http" or "https", got "ftp""#),
        ("scrape_configs:\n  - job_name: a\n    sample_limit: -1\n", "b.yml:3:19:", "invalid type: integer `-1`"),
        ("remote_write:\n  - url: http://x\n    sigv4: {region: x, profile: p}\n", "b.yml:3:12:", "sigv4 profile is not supported by Sightline"),
        ("remote_write:\n  - name: x\n", "b.yml:2:5:", "url for remote_write is empty"),
        (
            "remote_write:\n  - url: http://a\n    name: x\n  - url: http://b\n    name: x\n",
            "b.yml:5:11:",
            r#"found multiple remote write configs with job name "x""#,
        ),
        (
            "remote_write:\n  - url: http://a\n    headers:\n      Authorization: x\n",
            "b.yml:2:5:",
            "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter",
        ),
        ("scrape_configs:\n  -\n", "b.yml:2:4:", "empty or null scrape config section"),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: ['x.txt']\n",
            "b.yml:4:17:",
            r#"path name "x.txt" is not valid for file discovery"#,
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_protocols: [PrometheusText0.0.4, PrometheusText0.0.4]\n",
            "b.yml:3:23:",
            "duplicated protocol in scrape_protocols",
        ),
        ("scrape_configs:\n  - job_name: a\n    scrape_protocols: [Foo]\n", "b.yml:3:24:", "unknown scrape protocol Foo"),
        (
            "global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    'a-b': c\n",
            "b.yml:2:3:",
            r#""a-b" is not a valid label name"#,
        ),
        (
            "alerting:\n  alertmanagers:\n    - api_version: v1\n",
            "b.yml:3:7:",
            "expected Alertmanager api version to be one of [v2] but got v1",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: c.pem\n",
            "b.yml:4:7:",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        ("scrape_configs:\n  - job_name: a\n    tls_config: {min_version: TLS9}\n", "b.yml:3:31:", "unknown TLS version: TLS9"),
        ("scrape_configs:\n  - job_name: a\n    authorization: {type: Basic}\n", "b.yml:2:5:", "use \"basic_auth\" instead"),
        ("scrape_configs:\n  - job_name: a\n    plugin: 'bad name'\n", "b.yml:3:13:", r#""bad name" is not a valid plugin name"#),
        ("scrape_configs: [\n", "b.yml:2:1:", "did not find expected node content"),
        // Rules and messages of Prometheus' config_test.go expectedErrors.
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - action: null\n",
            "b.yml:4:9:",
            "relabel action cannot be empty",
        ),
        (
            "scrape_configs:\n  - job_name: p\n    static_configs:\n      -\n",
            "b.yml:2:5:",
            "empty or null section in static_configs",
        ),
        (
            "alerting:\n  alert_relabel_configs:\n    -\n",
            "b.yml:2:3:",
            "empty or null alert relabeling rule",
        ),
        (
            "remote_write:\n  - url: http://a\n    write_relabel_configs:\n      -\n",
            "b.yml:2:5:",
            "empty or null relabeling rule in remote write config",
        ),
        (
            "remote_write:\n  - url: http://a\n    queue_config:\n      min_shards: 5\n      max_shards: 2\n",
            "b.yml:4:7:",
            "remote write queue min_shards must not be greater than max_shards",
        ),
        (
            "remote_write:\n  - url: http://a\n    queue_config:\n      capacity: 0\n",
            "b.yml:4:7:",
            "remote write queue capacity must be positive",
        ),
        (
            "remote_write:\n  - url: http://a\n    headers:\n      x-prometheus-remote-write-version: h\n",
            "b.yml:2:5:",
            "x-prometheus-remote-write-version is a reserved header. It must not be changed",
        ),
        (
            "remote_write:\n  - url: http://a\n    protobuf_message: io.prometheus.writet.v2.Request\n",
            "b.yml:2:5:",
            "invalid protobuf_message value: unknown type for remote write protobuf message io.prometheus.writet.v2.Request",
        ),
        (
            "remote_read:\n  - read_recent: true\n",
            "b.yml:2:5:",
            "url for remote_read is empty",
        ),
        (
            "global:\n  metric_name_validation_scheme: legacy\n  metric_name_escaping_scheme: allow-utf-8\nscrape_configs:\n  - job_name: p\n",
            "b.yml:5:5:",
            "utf8 metric names requested but validation scheme is not set to UTF8",
        ),
        (
            "global:\n  metric_name_validation_scheme: invalid_scheme\n",
            "b.yml:2:34:",
            r#"unrecognized ValidationScheme: "invalid_scheme""#,
        ),
        (
            "storage:\n  tsdb:\n    retention:\n      size: -1GB\n",
            "b.yml:4:7:",
            "'storage.tsdb.retention.size' must be greater than or equal to 0, got -1GiB",
        ),
        (
            "storage:\n  tsdb:\n    retention:\n      percentage: 101\n",
            "b.yml:4:7:",
            "'storage.tsdb.retention.percentage' must be in the range [0, 100], got 101",
        ),
        (
            "storage:\n  tsdb:\n    retention:\n      time: -1h\n",
            "b.yml:4:13:",
            r#"not a valid duration string: "-1h""#,
        ),
        (
            "storage:\n  tsdb:\n    chunk_encoding:\n      floats: XOR\n",
            "b.yml:3:5:",
            r#"'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got "XOR""#,
        ),
        ("tracing:\n  sampling_fraction: 1\n", "b.yml:2:3:", "tracing endpoint must be set"),
        (
            "scrape_configs:\n  - job_name: a\n    http_headers:\n      user-agent: {values: [x]}\n",
            "b.yml:2:5:",
            r#"setting header "User-Agent" is not allowed"#,
        ),
        (
            "scrape_configs:\n  - job_name: a\n    no_proxy: localhost\n",
            "b.yml:2:5:",
            "if no_proxy is configured, proxy_url must also be configured",
        ),
        (
            "tracing:\n  endpoint: x:4317\n  compression: foo\n",
            "b.yml:2:3:",
            "invalid compression type foo provided, valid options: gzip",
        ),
        ("scrape_configs:\n  - job_name: p\n    scrape_configs: []\n", "b.yml:3:5:", "unknown field `scrape_configs`"),
        (
            "scrape_configs:\n  - job_name: p\n    consul_sd_configs: []\n",
            "b.yml:3:5:",
            "consul_sd_configs is not supported by Sightline",
        ),
        ("scrape_configs: []\nscrape_configs: []\n", "b.yml:1:1:", "duplicate field `scrape_configs`"),
        ("scrape_configs:\n  - job_name: a\n    body_size_limit: 100\n", "b.yml:3:22:", "units: unknown unit  in 100"),
    ];
    let mut failures = Vec::new();
    for (src, at, msg) in cases {
        match load_str(src, "b.yml") {
            Ok(_) => failures.push(format!("{src:?}: accepted")),
            Err(e) => {
                let s = e.to_string();
                if !s.starts_with(at) || !s.contains(msg) {
                    failures.push(format!("{src:?}: got {s:?}, want {at} ... {msg}"));
                }
            }
        }
    }
    println!(
        "broken configs: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn redacted_yaml_hides_secrets_and_shows_defaults() {
    let src = r#"
global:
  external_labels: {region: eu}
scrape_configs:
  - job_name: a
    basic_auth: {username: user, password: hunter2}
    static_configs: [{targets: ['h:1'], labels: {team: x}}]
  - job_name: b
    bearer_token: tok-123
  - job_name: c
    authorization: {credentials: cred-456}
    tls_config: {cert: CERT, key: key-789}
    proxy_connect_header: {X-Proxy: [pch-000]}
    proxy_url: http://p:1
    http_headers:
      X-Custom: {values: [visible], secrets: [hdr-secret]}
remote_write:
  - url: http://rw/
    basic_auth: {username: u, password: rw-pass}
"#;
    let cfg = load_str(src, "s.yml").unwrap();
    let out = cfg.redacted_yaml();
    for secret in [
        "hunter2",
        "tok-123",
        "cred-456",
        "key-789",
        "pch-000",
        "hdr-secret",
        "rw-pass",
    ] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    assert!(out.matches("<secret>").count() >= 7, "{out}");
    for shown in [
        "scrape_interval: 1m",
        "scrape_timeout: 10s",
        "evaluation_interval: 1m",
        "metrics_path: /metrics",
        "honor_timestamps: true",
        "username: user",
        "region: eu",
        "type: Bearer",
        "visible",
        "- h:1",
        "team: x",
    ] {
        assert!(out.contains(shown), "{shown:?} missing:\n{out}");
    }
    // The effective config re-loads to the same values, secrets aside.
    let again = load_str(&out, "again.yml").unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(again.scrape_configs.len(), 3);
    assert_eq!(
        again.scrape_configs[0].scrape_interval,
        cfg.scrape_configs[0].scrape_interval
    );
    assert_eq!(again.global, cfg.global);
}

#[test]
fn scrape_config_files_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(
        dir.path().join("jobs/extra.yml"),
        "scrape_configs:\n  - job_name: extra\n    file_sd_configs: [{files: ['sd/*.json']}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let cfg = load_file(dir.path().join("prometheus.yml")).unwrap();
    let jobs: Vec<_> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["main", "extra"]);
    assert_eq!(
        cfg.scrape_configs[1].file_sd_configs[0].files,
        [dir.path().join("jobs/sd/*.json").display().to_string()]
    );

    std::fs::write(
        dir.path().join("jobs/dup.yml"),
        "scrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let e = load_file(dir.path().join("prometheus.yml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("dup.yml:2:15: found multiple scrape configs with job name \"main\", first found in main config file"), "{e}");
}

#[test]
fn load_file_reports_missing_file() {
    let e = load_file("/nonexistent/prometheus.yml").unwrap_err();
    assert!(matches!(e, sightline_config::Error::Io { .. }), "{e}");
}

/// The effective configuration of the seed, as `/api/v1/status/config` would print it.
/// Regenerate with `SIGHTLINE_BLESS=1 cargo test -p sightline-config --test load`.
#[test]
fn seed_redacted_yaml_golden() {
    let src = std::fs::read_to_string(testdata("seed-prometheus.yml")).unwrap();
    let out = load_str(&src, "seed-prometheus.yml")
        .unwrap()
        .redacted_yaml();
    let golden = testdata("seed-prometheus.effective.yml");
    if std::env::var_os("SIGHTLINE_BLESS").is_some() {
        std::fs::write(&golden, &out).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(out, want, "effective config changed; bless it if intended");
}

#[test]
fn accept_header_matches_prometheus() {
    let cfg = load_str("scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_protocols: [PrometheusText0.0.4]\n    enable_compression: false\n  - job_name: c\n    metric_name_validation_scheme: legacy\n", "a.yml").unwrap();
    assert_eq!(
        cfg.scrape_configs[0].accept_header(),
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
    assert_eq!(cfg.scrape_configs[0].accept_encoding_header(), "gzip");
    assert_eq!(
        cfg.scrape_configs[1].accept_header(),
        "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"
    );
    assert_eq!(cfg.scrape_configs[1].accept_encoding_header(), "identity");
    assert_eq!(
        cfg.scrape_configs[2].metric_name_escaping_scheme,
        "underscores"
    );
    assert!(cfg.scrape_configs[2]
        .accept_header()
        .starts_with("application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"));
}

#[test]
fn external_labels_expand_environment_variables() {
    let (var, value) = std::env::vars()
        .find(|(k, v)| !v.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .expect("some environment variable is set");
    let src = format!("global:\n  external_labels:\n    a: 'x-${{{var}}}'\n    b: 'cost$$'\n    c: '${{SIGHTLINE_SURELY_UNSET_VARIABLE}}'\n");
    let cfg = load_str(&src, "e.yml").unwrap();
    let l = &cfg.global.external_labels;
    assert_eq!(l.get("a"), Some(format!("x-{value}").as_str()));
    assert_eq!(l.get("b"), Some("cost$"));
    assert_eq!(
        l.get("c"),
        None,
        "an unset variable expands to an empty value"
    );
}

/// The `otlp` block as Prometheus 3.9's `OTLPConfig`: defaults, every key, its validation
/// errors (with their positions).
#[test]
fn otlp_block_as_prometheus() {
    let c = load_str("", "p.yml").unwrap();
    assert_eq!(
        c.otlp.translation_strategy,
        "UnderscoreEscapingWithSuffixes"
    );
    assert!(c.otlp.promote_resource_attributes.is_empty());
    let c = load_str(
        "otlp:\n  promote_resource_attributes: [' service.version ', k8s.pod.name]\n  translation_strategy: NoUTF8EscapingWithSuffixes\n  keep_identifying_resource_attributes: true\n  convert_histograms_to_nhcb: true\n  promote_scope_metadata: true\n",
        "p.yml",
    )
    .unwrap();
    assert_eq!(
        c.otlp.promote_resource_attributes,
        vec!["service.version", "k8s.pod.name"]
    );
    assert!(c.otlp.allows_utf8());
    assert!(c.otlp.keep_identifying_resource_attributes && c.otlp.promote_scope_metadata);
    let c = load_str(
        "otlp:\n  promote_all_resource_attributes: true\n  ignore_resource_attributes: [host.name]\n",
        "p.yml",
    )
    .unwrap();
    assert_eq!(c.otlp.ignore_resource_attributes, vec!["host.name"]);
    for (src, want) in [
        (
            "otlp:\n  translation_strategy: Bogus\n",
            "unsupported OTLP translation strategy \"Bogus\"",
        ),
        (
            "otlp:\n  promote_all_resource_attributes: true\n  promote_resource_attributes: [a]\n",
            "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously",
        ),
        (
            "otlp:\n  ignore_resource_attributes: [a]\n",
            "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true",
        ),
        (
            "otlp:\n  promote_resource_attributes: [a, ' a', '']\n",
            "invalid 'promote_resource_attributes': duplicated promoted OTel resource attribute \"a\"\nempty promoted OTel resource attribute",
        ),
        (
            "global:\n  metric_name_validation_scheme: legacy\notlp:\n  translation_strategy: NoTranslation\n",
            "OTLP translation strategy \"NoTranslation\" is not allowed when UTF8 is disabled",
        ),
        ("otlp:\n  bogus: 1\n", "unknown field `bogus`"),
    ] {
        let e = load_str(src, "p.yml").unwrap_err().to_string();
        assert!(e.contains(want), "{src}: {e}");
        assert!(e.starts_with("p.yml:"), "{e}");
    }
}

/// The native-histogram keys as Prometheus 3 has them: `scrape_native_histograms` (global and
/// per job, default false) picks the proto-first default protocols; the classic and NHCB
/// switches inherit from `global`; limits are per job; bad values are located.
#[test]
fn native_histogram_keys() {
    let cfg = load_str(
        "global:\n  scrape_native_histograms: true\n  always_scrape_classic_histograms: true\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_native_histograms: false\n    convert_classic_histograms_to_nhcb: true\n    always_scrape_classic_histograms: false\n    native_histogram_bucket_limit: 160\n    native_histogram_min_bucket_factor: 1.1\n    fallback_scrape_protocol: PrometheusText0.0.4\n",
        "n.yml",
    )
    .unwrap();
    let (a, b) = (&cfg.scrape_configs[0], &cfg.scrape_configs[1]);
    assert!(a.scrape_native_histograms && a.always_scrape_classic_histograms);
    assert!(!a.convert_classic_histograms_to_nhcb);
    let mut proto_first = vec![ScrapeProtocol::PrometheusProto];
    proto_first.extend(ScrapeProtocol::DEFAULT);
    assert_eq!(a.scrape_protocols, proto_first);
    assert!(a.accept_header().starts_with(
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
    ));
    assert!(!b.scrape_native_histograms && !b.always_scrape_classic_histograms);
    assert!(b.convert_classic_histograms_to_nhcb);
    assert_eq!(b.scrape_protocols, ScrapeProtocol::DEFAULT.to_vec());
    assert_eq!(b.native_histogram_bucket_limit, 160);
    assert_eq!(b.native_histogram_min_bucket_factor, 1.1);
    assert_eq!(
        b.fallback_scrape_protocol,
        Some(ScrapeProtocol::PrometheusText0_0_4)
    );
    // Defaults: everything off, OpenMetrics first.
    let cfg = load_str("scrape_configs:\n  - job_name: a\n", "n.yml").unwrap();
    let a = &cfg.scrape_configs[0];
    assert!(!a.scrape_native_histograms && !a.always_scrape_classic_histograms);
    assert!(!a.convert_classic_histograms_to_nhcb);
    assert_eq!(
        (
            a.native_histogram_bucket_limit,
            a.native_histogram_min_bucket_factor
        ),
        (0, 0.0)
    );
    assert_eq!(a.scrape_protocols, ScrapeProtocol::DEFAULT.to_vec());
    // An explicit global protocol list wins over the native-histogram default.
    let cfg = load_str(
        "global:\n  scrape_protocols: [PrometheusText0.0.4]\nscrape_configs:\n  - job_name: a\n    scrape_native_histograms: true\n",
        "n.yml",
    )
    .unwrap();
    assert_eq!(
        cfg.scrape_configs[0].scrape_protocols,
        [ScrapeProtocol::PrometheusText0_0_4]
    );
    for (src, at, msg) in [
        (
            "scrape_configs:\n  - job_name: a\n    native_histogram_bucket_limit: -1\n",
            "n.yml:3:36:",
            "invalid type: integer `-1`",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    native_histogram_min_bucket_factor: big\n",
            "n.yml:3:41:",
            "invalid type",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_native_histograms: maybe\n",
            "n.yml:3:31:",
            "invalid type",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    fallback_scrape_protocol: Proto\n",
            "n.yml:3:31:",
            "invalid fallback_scrape_protocol: unknown scrape protocol Proto",
        ),
        (
            "global:\n  convert_classic_histograms_to_nhcb: 3\n",
            "n.yml:2:39:",
            "invalid type",
        ),
    ] {
        let e = load_str(src, "n.yml").unwrap_err().to_string();
        assert!(e.starts_with(at) && e.contains(msg), "{src:?}: {e}");
    }
}
