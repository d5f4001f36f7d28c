//! `oauth2` on every HTTP client and `sigv4` on `remote_write`: what loads, and Prometheus'
//! messages for what does not.

use sightline_config::load_str;

#[test]
fn oauth2_and_sigv4_load() {
    let src = r#"
scrape_configs:
  - job_name: a
    oauth2:
      client_id: id
      client_secret_file: secret.txt
      scopes: [read, write]
      token_url: https://auth.example/token
      endpoint_params: {audience: metrics}
      tls_config: {ca_file: ca.pem}
      proxy_url: http://proxy:3128
remote_write:
  - url: https://aps.example/api/v1/remote_write
    sigv4:
      region: eu-west-1
      access_key: AKID
      secret_key: shh
  - url: https://rw.example/write
    oauth2: {client_id: id, client_secret: s, token_url: 'http://u:tokenpw@t/token'}
alerting:
  alertmanagers:
    - oauth2: {client_id: id, client_secret: s, token_url: 'http://t/token'}
      static_configs: [{targets: ['am:9093']}]
remote_read:
  - url: https://rr.example/read
    oauth2: {client_id: id, client_secret: s, token_url: 'http://t/token'}
"#;
    let mut cfg = load_str(src, "a.yml").unwrap_or_else(|e| panic!("{e}"));
    cfg.set_directory(std::path::Path::new("/etc/prom"));
    let o = cfg.scrape_configs[0].http.oauth2.as_ref().unwrap();
    assert_eq!(o.client_id, "id");
    assert_eq!(o.client_secret, None);
    // Relative files are relative to the configuration file, as Go's SetDirectory makes them.
    assert_eq!(
        o.client_secret_file.as_deref(),
        Some("/etc/prom/secret.txt")
    );
    assert_eq!(o.tls_config.ca_file.as_deref(), Some("/etc/prom/ca.pem"));
    assert_eq!(o.scopes, ["read", "write"]);
    assert_eq!(o.token_url, "https://auth.example/token");
    assert_eq!(o.endpoint_params["audience"], "metrics");
    assert_eq!(o.proxy_url.as_ref().unwrap().as_str(), "http://proxy:3128/");
    let files = cfg.scrape_configs[0].http.referenced_files();
    assert!(files.contains(&"/etc/prom/secret.txt"), "{files:?}");

    let s = cfg.remote_write[0].sigv4.as_ref().unwrap();
    assert_eq!(
        (s.region.as_str(), s.access_key.as_str()),
        ("eu-west-1", "AKID")
    );
    assert_eq!(s.secret_key.as_ref().unwrap().expose(), "shh");
    assert!(cfg.remote_write[1].http.oauth2.is_some());
    assert!(cfg.alerting.alertmanagers[0].http.oauth2.is_some());
    assert!(cfg.remote_read[0].http.oauth2.is_some());

    // Secrets never print.
    let printed = cfg.redacted_yaml();
    assert!(
        !printed.contains("shh") && printed.contains("client_secret: <secret>"),
        "{printed}"
    );
    // A token URL prints its password as `xxxxx`, as every configured URL does.
    assert!(
        !printed.contains("tokenpw") && printed.contains("token_url: http://u:xxxxx@t/token"),
        "{printed}"
    );
}

#[test]
fn oauth2_and_sigv4_errors_are_prometheus_messages() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_secret: s, token_url: t}\n",
            "b.yml:2:5:",
            "oauth2 client_id must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, token_url: t}\n",
            "b.yml:2:5:",
            "either oauth2 client_secret or client_secret_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s}\n",
            "b.yml:2:5:",
            "oauth2 token_url must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s, client_secret_file: f, token_url: t}\n",
            "b.yml:2:5:",
            "at most one of oauth2 client_secret & client_secret_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s, token_url: t}\n    basic_auth: {username: u}\n",
            "b.yml:2:5:",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s, token_url: t}\n    authorization: {credentials: c}\n",
            "b.yml:2:5:",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s, token_url: t}\n    bearer_token: c\n",
            "b.yml:2:5:",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: i, client_secret: s, token_url: t, audience: x}\n",
            "b.yml:3:60:",
            "unknown field `audience`",
        ),
        (
            "remote_write:\n  - url: http://x\n    sigv4: {region: r}\n    oauth2: {client_id: i, client_secret: s, token_url: t}\n",
            "b.yml:2:5:",
            "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured",
        ),
        (
            "remote_write:\n  - url: http://x\n    sigv4: {region: r}\n    basic_auth: {username: u}\n",
            "b.yml:2:5:",
            "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured",
        ),
        (
            "remote_write:\n  - url: http://x\n    sigv4: {access_key: a}\n",
            "b.yml:3:12:",
            "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
        ),
        (
            "remote_write:\n  - url: http://x\n    sigv4: {role_arn: 'arn:aws:iam::1:role/x'}\n",
            "b.yml:3:12:",
            "sigv4 role_arn is not supported by Sightline: it signs with static credentials only",
        ),
        (
            "alerting:\n  alertmanagers:\n    - sigv4: {region: r}\n",
            "b.yml:3:14:",
            "sigv4 is not supported by Sightline",
        ),
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
    assert!(failures.is_empty(), "{failures:#?}");
}
