//! `check config` (promtool-like) and the web configuration file.

use std::path::Path;

use sightline_config::check_config_file;
use sightline_config::web::{load_web_config, parse_web_config, ClientAuth};

#[allow(clippy::unwrap_used)]
fn write(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn seed_config_checks_with_its_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/seed-prometheus.yml"
    ))
    .unwrap();
    let cfg = write(dir.path(), "prometheus.yml", &seed);
    write(dir.path(), "alerts.yml", "groups: []\n");
    let r = check_config_file(&cfg);
    let name = cfg.display();
    assert!(r.success, "{}", r.text);
    assert_eq!(
        r.text,
        format!("Checking {name}\n  SUCCESS: 1 rule files found\n SUCCESS: {name} is valid prometheus config file syntax\n")
    );
    assert_eq!(r.rule_files, [dir.path().join("alerts.yml")]);
}

#[test]
fn seed_config_without_rule_file_warns_but_passes() {
    let r = check_config_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/seed-prometheus.yml"
    )));
    assert!(r.success, "{}", r.text);
    assert!(
        r.text.contains("  WARNING: rule file pattern"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("  SUCCESS: 0 rule files found"),
        "{}",
        r.text
    );
}

#[test]
fn broken_config_fails_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "bad.yml", "global:\n  scrape_interval: 15x\n");
    let r = check_config_file(&cfg);
    assert!(!r.success);
    let name = cfg.display();
    assert_eq!(
        r.text,
        format!("Checking {name}\n  FAILED: {name}:2:20: global.scrape_interval: not a valid duration string: \"15x\"\n")
    );
}

#[test]
fn referenced_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token_file: missing-token\n",
            "error checking authorization credentials or bearer token file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c.pem, key_file: k.pem}\n",
            "error checking client cert file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: ['sd/*.yml']}]\n",
            "checking SD file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs: [{target_label: x, replacement: y}]\n    static_configs: [{targets: ['http://a/b']}]\n",
            "instance 0 in group 0: \"http://a/b\" is not a valid hostname",
        ),
    ];
    write(
        dir.path(),
        "sd/bad.yml",
        "- targets: ['a:1']\n  labels: {'': y}\n",
    );
    for (src, want) in cases {
        let cfg = write(dir.path(), "p.yml", src);
        let r = check_config_file(&cfg);
        assert!(!r.success, "{src}: {}", r.text);
        assert!(r.text.contains(want), "{src}: {}", r.text);
    }
    write(dir.path(), "token", "t");
    let ok = write(dir.path(), "p.yml", "scrape_configs:\n  - job_name: a\n    bearer_token_file: token\n    file_sd_configs: [{files: ['none/*.json']}]\n");
    let r = check_config_file(&ok);
    assert!(r.success, "{}", r.text);
    assert!(
        r.text.contains("WARNING: file \"") && r.text.contains("does not exist"),
        "{}",
        r.text
    );
}

const HASH: &str = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";

#[test]
fn web_config_parses() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "web.yml",
        &format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n  min_version: TLS13\nbasic_auth_users:\n  alice: '{HASH}'\nhttp_server_config:\n  http2: false\n"
        ),
    );
    let w = load_web_config(&p).unwrap();
    let t = w.tls_server_config.as_ref().unwrap();
    assert_eq!(
        t.cert_file.as_deref(),
        Some(dir.path().join("server.crt").display().to_string().as_str())
    );
    assert_eq!(t.client_auth_type, ClientAuth::RequireAndVerifyClientCert);
    assert_eq!(t.min_version, sightline_config::TlsVersion::Tls13);
    assert_eq!(w.basic_auth_users["alice"].expose(), HASH);
    assert!(!w.http2);
    let empty = parse_web_config("", "w.yml").unwrap();
    assert!(empty.http2 && empty.tls_server_config.is_none() && empty.basic_auth_users.is_empty());
}

#[test]
fn web_config_errors() {
    let cases: &[(&str, &str)] = &[
        ("tls_server_config:\n  cert_file: a\n", "w.yml:2:3: tls_server_config: missing key_file or key"),
        ("tls_server_config:\n  key_file: a\n", "w.yml:2:3: tls_server_config: missing cert_file or cert"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
            "w.yml:2:3: tls_server_config: Client CA's have been configured without a Client Auth Policy",
        ),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n", "w.yml:4:21: tls_server_config.client_auth_type: invalid ClientAuth: Maybe"),
        ("basic_auth_users:\n  bob: plain\n", "w.yml:2:8: basic_auth_users: the password of \"bob\" is not a bcrypt hash"),
        ("tls_config: {}\n", "w.yml:1:1: unknown field `tls_config`"),
        ("http_server_config:\n  headers:\n    X-Custom: x\n", "w.yml:3:15: HTTP header \"X-Custom\" can not be configured"),
        ("http_server_config:\n  headers:\n    X-Frame-Options: bogus\n", "w.yml:3:22: invalid value for X-Frame-Options. Expected one of: [\"deny\" \"sameorigin\"], but got: \"bogus\""),
    ];
    for (src, want) in cases {
        let e = parse_web_config(src, "w.yml").unwrap_err().to_string();
        assert!(e.starts_with(want), "{src:?}: got {e:?}, want {want:?}");
    }
}
