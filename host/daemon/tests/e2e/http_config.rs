//! A receiver's `http_config` applied by the host, side by side with Alertmanager 0.25: the
//! same credentials reach the webhook sink from both, and the plugin never sees them.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::am_support::*;

#[test]
fn webhook_http_config_credentials_match_alertmanager() {
    let work = tempfile::tempdir().unwrap();
    let pw = work.path().join("password");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let mut seen = Vec::new();
    for target in Target::enabled("http_config") {
        let sink = Sink::start();
        let yaml = format!(
            "route: {{receiver: ops, group_wait: 0s, group_interval: 1s}}\nreceivers:\n- name: ops\n  webhook_configs:\n  - url: http://{}/hook\n    http_config:\n      basic_auth: {{username: alice, password_file: {}}}\n",
            sink.addr,
            pw.display()
        );
        let am = Am::start(target, &yaml, work.path());
        am.post_alerts(&json!([{"labels": {"alertname": "HttpConfig"}}]));
        let start = Instant::now();
        while sink.received().is_empty() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let got = sink.received();
        assert!(!got.is_empty(), "{target:?} delivered nothing");
        let auth = got[0]
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone());
        println!("{target:?}: authorization {auth:?}");
        seen.push(auth);
    }
    // alice:s3cret, the password file's newline trimmed as Go trims it.
    let want = Some("Basic YWxpY2U6czNjcmV0".to_string());
    assert_eq!(seen, [want.clone(), want]);
}

/// A webhook receiver's `http_config.oauth2`, side by side with Alertmanager 0.25: each
/// fetches one token (client credentials in basic auth, the scopes space-joined) and
/// delivers with `Authorization: Bearer <token>`.
#[test]
fn webhook_oauth2_matches_alertmanager() {
    let work = tempfile::tempdir().unwrap();
    for target in Target::enabled("http_config") {
        let srv = crate::remote_auth::Server::start(0);
        let a = &srv.addr;
        let yaml = format!(
            "route: {{receiver: ops, group_wait: 0s, group_interval: 1s}}\nreceivers:\n- name: ops\n  webhook_configs:\n  - url: http://{a}/hook\n    http_config:\n      oauth2: {{client_id: scraper, client_secret: s3cret, token_url: 'http://{a}/token', scopes: [alerts, read]}}\n"
        );
        let am = Am::start(target, &yaml, work.path());
        am.post_alerts(&json!([{"labels": {"alertname": "OAuth2"}}]));
        let start = Instant::now();
        while srv.requests("POST", "/hook").is_empty() && start.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let hooks = srv.requests("POST", "/hook");
        assert!(!hooks.is_empty(), "{target:?} delivered nothing");
        let tokens = srv.tokens("scraper");
        assert_eq!(tokens.len(), 1, "{target:?}: {tokens:#?}");
        assert_eq!((tokens[0].status, tokens[0].style), (200, "header"));
        assert_eq!(
            tokens[0].form.get("scope").map(String::as_str),
            Some("alerts read")
        );
        assert_eq!(
            hooks[0].header("authorization"),
            Some("Bearer tok-scraper-1"),
            "{target:?}"
        );
        println!(
            "{target:?}: {} token request, {} deliveries",
            tokens.len(),
            hooks.len()
        );
    }
}
