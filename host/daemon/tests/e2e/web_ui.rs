//! The web UI and the Grafana-compatible API against the real binary: the seed's setup
//! script's requests (health, data source, the "Service Health" dashboard posted bare), the
//! dashboard beside a plugin's in search and surviving kill -9; the UI's files compressed
//! once, with ETags and 304s; `index.html` with the right `<base href>` under
//! `--web.route-prefix` and `--web.external-url`, during WAL replay and behind basic auth.

use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

use crate::support::*;

/// The seed's dashboard JSON exactly as `monitoring-setup.md` has it (vendored, since a
/// user's clone has no `../shared`).
fn seed_dashboard() -> Vec<u8> {
    std::fs::read(sightline_tests::repo_root().join("host/web/tests/data/service-health.json"))
        .unwrap()
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A header's value in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn count_header(head: &str, name: &str) -> usize {
    head.lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        })
        .count()
}

#[test]
fn seed_setup_script_then_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let manifest =
        std::fs::read_to_string(sightline_tests::repo_root().join("plugins/dashboard-node.toml"))
            .unwrap();
    sightline_tests::install(
        &plugins,
        "dashboard-node",
        &sightline_tests::first_party("dashboard-node"),
        Some(&manifest),
    );
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[]);
    // The script's credentials (Grafana's admin) are ignored without a web config.
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:changeme")
    );
    let h = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    let (code, body) = http_get(&d.addr, "/api/health").unwrap();
    assert_eq!(code, 200);
    assert_eq!(json(&body)["database"], "ok");
    let ds = br#"{
    "name": "Prometheus",
    "type": "prometheus",
    "url": "http://prometheus:9090",
    "access": "proxy",
    "isDefault": true
  }"#;
    let (code, body) = http_request(&d.addr, "POST", "/api/datasources", &h, ds).unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(json(&body)["message"], "Datasource added");
    let (code, body) =
        http_request(&d.addr, "POST", "/api/dashboards/db", &h, &seed_dashboard()).unwrap();
    assert_eq!(code, 200, "{body}");
    let saved = json(&body);
    assert_eq!(saved["status"], "success");
    let uid = saved["uid"].as_str().unwrap().to_string();
    assert_eq!(saved["url"], format!("/d/{uid}/service-health"));

    let panels = |d: &Daemon| {
        let v = d.get_json(&format!("/api/dashboards/uid/{uid}"));
        v["dashboard"]["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let want = [
        "Request Rate",
        "Error Rate",
        "p95 Latency",
        "Active Connections",
    ];
    assert_eq!(panels(&d), want);
    let listed = |d: &Daemon| {
        eventually(60, "the stored and the plugin dashboard in search", || {
            let v = d.get_json("/api/search");
            let uids: Vec<String> = v
                .as_array()?
                .iter()
                .map(|h| h["uid"].as_str().unwrap_or("").to_string())
                .collect();
            (uids.contains(&uid) && uids.len() == 2).then_some(uids)
        })
    };
    listed(&d);
    let (_, metrics) = http_get(&d.addr, "/metrics").unwrap();
    assert!(
        metrics.contains("\nsightline_web_dashboards 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"sightline_web_dashboard_writes_total{op="save",outcome="success"} 1"#),
        "{metrics}"
    );

    // kill -9 right after the acknowledged save: it is on disk.
    let mut d = d;
    d.signal_and_wait("KILL");
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[]);
    assert_eq!(panels(&d), want);
    listed(&d);
    assert!(d
        .dir
        .path()
        .join(format!("data/dashboards/{uid}.json"))
        .is_file());
}

#[test]
fn assets_are_gzipped_once_with_etags_and_index_for_app_routes() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let gz = [("Accept-Encoding", "gzip")];
    let (code, head, _) = http_exchange(&d.addr, "GET", "/alerts", &gz, b"").unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    // One gzip, the crate's own: the shell's compression layer leaves it alone.
    assert_eq!(count_header(&head, "content-encoding"), 1, "{head}");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"));
    let etag = header(&head, "etag").unwrap().to_string();
    let inm = [
        ("Accept-Encoding", "gzip"),
        ("If-None-Match", etag.as_str()),
    ];
    let (code, _, body) = http_exchange(&d.addr, "GET", "/", &inm, b"").unwrap();
    assert_eq!((code, body.as_str()), (304, ""));
    let (code, head, body) = http_exchange(&d.addr, "GET", "/robots.txt", &[], b"").unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        header(&head, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(body.contains("Disallow: /"));
    let etag = header(&head, "etag").unwrap().to_string();
    let inm = [("If-None-Match", etag.as_str())];
    let (code, _, _) = http_exchange(&d.addr, "GET", "/robots.txt", &inm, b"").unwrap();
    assert_eq!(code, 304);

    for path in [
        "/",
        "/d/abc/service-health",
        "/graph?g0.expr=up",
        "/no/such/view",
    ] {
        let (code, head, body) = http_exchange(&d.addr, "GET", path, &[], b"").unwrap();
        assert_eq!(code, 200, "{path}");
        assert_eq!(header(&head, "cache-control"), Some("no-cache"));
        assert!(body.contains("<base href=\"/\">"), "{path}: {body}");
    }
    let (_, metrics) = http_get(&d.addr, "/metrics").unwrap();
    assert!(
        metrics.contains(r#"sightline_web_ui_requests_total{class="index",code="304"} 1"#),
        "{metrics}"
    );
    // Unknown API paths keep the API's 404.
    let (code, body) = http_get(&d.addr, "/api/v1/nope").unwrap();
    assert_eq!((code, body.as_str()), (404, "404 page not found\n"));
    let (code, _) = http_get(&d.addr, "/api/nope").unwrap();
    assert_eq!(code, 404);
    let (code, body) = http_get(&d.addr, "/api/dashboards/uid/x/nope").unwrap();
    assert_eq!((code, body.as_str()), (404, r#"{"message":"Not found"}"#));
}

#[test]
fn base_follows_route_prefix_and_external_url() {
    let mut d = Daemon::spawn(Some("scrape_configs: []\n"), &["--web.route-prefix=/pfx"]);
    d.wait_for("ready under /pfx", |a| {
        matches!(http_get(a, "/pfx/-/ready"), Ok((200, _)))
    });
    let (code, body) = http_get(&d.addr, "/pfx/d/abc/slug").unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("<base href=\"/pfx/\">"), "{body}");
    let (code, _) = http_get(&d.addr, "/d/abc/slug").unwrap();
    assert_eq!(code, 404, "outside the prefix");
    drop(d);

    // A proxy strips /ext: the server serves at /, the browser sees /ext/.
    let d = Daemon::start(
        Some("scrape_configs: []\n"),
        &[
            "--web.external-url=http://example.com/ext/",
            "--web.route-prefix=/",
        ],
    );
    let (code, body) = http_get(&d.addr, "/d/abc/slug").unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("<base href=\"/ext/\">"), "{body}");
    let h = [("Content-Type", "application/json")];
    let (code, body) =
        http_request(&d.addr, "POST", "/api/dashboards/db", &h, &seed_dashboard()).unwrap();
    assert_eq!(code, 200, "{body}");
    let url = json(&body)["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/ext/d/"), "{url}");
    let v = d.get_json("/api/datasources");
    assert_eq!(v[0]["url"], "http://example.com/ext");
}

/// While WAL replay is held up (its first segment is a FIFO nobody writes to), the UI loads
/// and Grafana's API answers; Prometheus' API says 503.
#[test]
fn ui_is_served_during_wal_replay() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("data/wal");
    std::fs::create_dir_all(&wal).unwrap();
    let st = Command::new("mkfifo")
        .arg(wal.join("00000000"))
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo");
    let mut d = Daemon::spawn_at(dir, Some("scrape_configs: []\n"), &[]);
    d.wait_for("/-/healthy during WAL replay", |a| {
        matches!(http_get(a, "/-/healthy"), Ok((200, _)))
    });
    let (code, body) = http_get(&d.addr, "/").unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("<base href=\"/\">"));
    assert_eq!(http_get(&d.addr, "/robots.txt").unwrap().0, 200);
    // Grafana's API answers too: the seed's script may run while the daemon starts.
    let (code, body) = http_get(&d.addr, "/api/health").unwrap();
    assert_eq!(code, 200, "{body}");
    let h = [("Content-Type", "application/json")];
    let (code, body) =
        http_request(&d.addr, "POST", "/api/dashboards/db", &h, &seed_dashboard()).unwrap();
    assert_eq!(code, 200, "{body}");
    let v = d.get_json("/api/search");
    assert_eq!(v[0]["title"], "Service Health");
    assert_eq!(http_get(&d.addr, "/api/v1/query?query=1").unwrap().0, 503);
    assert!(d.child.try_wait().unwrap().is_none(), "still replaying");
}

/// The web config's basic auth covers the UI too.
#[test]
fn ui_is_behind_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(&web, format!("basic_auth_users:\n  alice: '{hash}'\n")).unwrap();
    let flag = format!("--web.config.file={}", web.display());
    let mut d = Daemon::spawn_at(dir, Some("scrape_configs: []\n"), &[&flag]);
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:pw")
    );
    let a = auth.clone();
    d.wait_for("ready with credentials", move |addr| {
        matches!(
            http_request(addr, "GET", "/-/ready", &[("Authorization", &a)], b""),
            Ok((200, _))
        )
    });
    for path in ["/", "/robots.txt", "/alerts"] {
        assert_eq!(http_get(&d.addr, path).unwrap().0, 401, "{path}");
        let (code, _) =
            http_request(&d.addr, "GET", path, &[("Authorization", &auth)], b"").unwrap();
        assert_eq!(code, 200, "{path}");
    }
}

/// `/api/v2/routes/test` takes the routes `amtool config routes test` prints, for every
/// routing feature; `/api/v2/routes` is the tree with resolved options.
#[test]
fn routes_api_agrees_with_amtool() {
    need("amtool");
    let file = sightline_tests::repo_root().join("host/alerts/tests/routing-features.yml");
    let flag = format!("--alertmanager.config.file={}", file.display());
    let d = Daemon::start(Some("scrape_configs: []\n"), &[&flag]);
    let tree = d.get_json("/api/v2/routes");
    assert_eq!(tree["receiver"], "default");
    assert_eq!(tree["path"], serde_json::json!([]));
    assert_eq!(tree["group_wait"], "5s");
    assert_eq!(tree["repeat_interval"], "2h");
    let kids = tree["routes"].as_array().unwrap();
    assert_eq!(kids.len(), 4);
    assert_eq!(
        kids[0]["matchers"],
        serde_json::json!(["severity=\"page\""])
    );
    assert_eq!(kids[0]["continue"], true);
    assert_eq!(kids[0]["routes"][1]["path"], serde_json::json!([0, 1]));
    assert_eq!(
        kids[0]["routes"][1]["mute_time_intervals"],
        serde_json::json!(["weekends"])
    );
    assert_eq!(kids[0]["routes"][0]["group_by_all"], true);
    assert_eq!(
        kids[2]["active_time_intervals"],
        serde_json::json!(["office-hours"])
    );

    let sets: &[&[&str]] = &[
        &[],
        &["severity=page"],
        &["severity=page", "service=db"],
        &["severity=page", "team=frontend", "env=dev"],
        &["severity=warning", "team=qa"],
        &["severity=warn", "service=cache", "instance=h:5432"],
        &["service=db", "env=staging"],
        &["team=frontend"],
        &[
            "severity=page",
            "service=cache",
            "team=frontend",
            "env=staging",
        ],
    ];
    let cf = format!("--config.file={}", file.display());
    for set in sets {
        let mut args = vec!["config", "routes", "test", cf.as_str()];
        args.extend(set.iter().copied());
        let out = Command::new("/usr/bin/amtool")
            .args(&args)
            .output()
            .unwrap();
        let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let matchers: Vec<String> = set
            .iter()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            })
            .collect();
        let q = urlencode(&format!("{{{}}}", matchers.join(",")));
        let v = d.get_json(&format!("/api/v2/routes/test?labels={q}"));
        let got: Vec<&str> = v["receivers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(got.join(","), want, "{set:?}");
        let via_routes: Vec<&str> = v["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["receiver"].as_str().unwrap())
            .collect();
        assert_eq!(via_routes, got);
    }
    let (code, body) = http_get(&d.addr, "/api/v2/routes/test?labels=%7Ba%3D~%22b%22%7D").unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("key=value"), "{body}");
}
