//! Plugin contract 0.2 in the daemon: guests written against `wit/v0.2` alone serve each
//! kind beside 0.1 plugins; `/api/v1/plugins` shows the contract; a 0.2 receiver gets the
//! settings document and renders templates exactly as the host renders them for the 0.1
//! Slack plugin; retryable failures are retried (honouring retry-after), permanent ones
//! tried once, and both are counted in `/metrics`.

use std::time::Duration;

use serde_json::Value;

use crate::am_support::Sink;
use crate::support::{eventually, http_get, urlencode, Daemon};

fn metric(d: &Daemon, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (code, text) = http_get(&d.addr, "/metrics").unwrap();
    assert_eq!(code, 200);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let series = l.rsplit_once(' ').map(|(s, _)| s).unwrap_or("");
            series.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

fn post_alerts(d: &Daemon, alerts: &Value) {
    crate::am_support::post_alerts(&d.addr, alerts);
}

#[test]
fn v02_plugins_of_each_kind_run_in_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let g = sightline_tests::guest;
    // The 0.2 receiver serves `discord_configs`; the first-party Slack plugin beside it (also
    // 0.2, written with the SDK) renders its title through the same `template` import; a 0.1
    // exporter loads and lists beside them.
    sightline_tests::install(
        &plugins,
        "discord",
        &g("receiver-v02"),
        Some("[http]\nallowed_hosts = [\"127.0.0.1\"]\n"),
    );
    let slack_manifest =
        std::fs::read_to_string(sightline_tests::repo_root().join("plugins/slack.toml")).unwrap();
    sightline_tests::install(
        &plugins,
        "slack",
        &sightline_tests::first_party("slack"),
        Some(&slack_manifest),
    );
    sightline_tests::install(&plugins, "echo2", &g("exporter-v02"), None);
    sightline_tests::install(&plugins, "ok1", &g("ok-exporter"), None);
    sightline_tests::install(&plugins, "double2", &g("query-v02"), None);
    sightline_tests::install(&plugins, "dash2", &g("dashboard-v02"), None);

    let sink = Sink::start();
    let am_yml = dir.path().join("alertmanager.yml");
    // The permanent receiver's URL is a `*_file` secret, read by the host.
    let secret = dir.path().join("perm-url");
    std::fs::write(&secret, format!("http://{}/permanent\n", sink.addr)).unwrap();
    std::fs::write(
        &am_yml,
        format!(
            "\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 10m
  repeat_interval: 1h
  routes:
    - matchers: ['mode=\"retry\"']
      receiver: retry
    - matchers: ['mode=\"perm\"']
      receiver: perm
receivers:
  - name: team
    slack_configs:
      - api_url: http://{a}/slack
        channel: '#ops'
    discord_configs:
      - webhook_url: http://{a}/ok
        http_config: {{follow_redirects: true}}
  - name: retry
    discord_configs:
      - webhook_url: http://{a}/retryable?ra=1500
  - name: perm
    discord_configs:
      - webhook_url_file: {secret}
",
            a = sink.addr,
            secret = secret.display()
        ),
    )
    .unwrap();
    let config = "\
scrape_configs:
  - job_name: v02
    scrape_interval: 1s
    scrape_timeout: 900ms
    plugin: echo2
    params:
      module: [pg]
    static_configs:
      - targets: ['db1:5432']
        labels:
          team: storage
";
    let flag = format!("--alertmanager.config.file={}", am_yml.display());
    let d = Daemon::start_in(dir, Some(config), &[&flag]);

    // Every kind loaded with its contract shown.
    let list = d.get_json("/api/v1/plugins");
    let rows = list
        .get("data")
        .unwrap_or(&list)
        .as_array()
        .cloned()
        .unwrap_or_default();
    let contract = |name: &str| {
        rows.iter()
            .find(|p| p["name"] == name)
            .map(|p| (p["kind"].clone(), p["contract"].clone()))
            .unwrap_or_else(|| panic!("{name} not listed: {list}"))
    };
    let pair = |k: &str, c: &str| (Value::from(k), Value::from(c));
    assert_eq!(contract("discord"), pair("receiver", "0.2.0"), "{list}");
    assert_eq!(contract("slack"), pair("receiver", "0.2.0"), "{list}");
    assert_eq!(contract("ok1"), pair("exporter", "0.1.0"), "{list}");
    assert_eq!(contract("echo2"), pair("exporter", "0.2.0"), "{list}");
    assert_eq!(
        contract("double2"),
        pair("query-function", "0.2.0"),
        "{list}"
    );
    assert_eq!(contract("dash2"), pair("dashboard", "0.2.0"), "{list}");

    // The exporter got its target: address, params and labels.
    let q = format!(
        "/api/v1/query?query={}",
        urlencode("double_v02(guest_target_info{job=\"v02\"})")
    );
    let series = eventually(
        20,
        "the 0.2 exporter scraped, through the 0.2 function",
        || {
            let v = d.get_json(&q);
            let r = v["data"]["result"].as_array()?.clone();
            (r.len() == 1).then_some(r)
        },
    );
    let m = &series[0]["metric"];
    assert_eq!(
        (&m["address"], &m["params"], &m["t_team"], &m["t_instance"]),
        (
            &Value::from("db1:5432"),
            &Value::from("module=pg"),
            &Value::from("storage"),
            &Value::from("db1:5432")
        ),
        "{series:?}"
    );
    assert_eq!(series[0]["value"][1], "2", "doubled by double_v02");
    let dash = d.get_json("/api/dashboards/uid/contract-v02");
    assert_eq!(dash["dashboard"]["title"], "Contract 0.2", "{dash}");

    // One group to the team: the 0.1 Slack plugin and the 0.2 receiver side by side.
    let t0 = std::time::Instant::now();
    post_alerts(
        &d,
        &serde_json::json!([
            {"labels": {"alertname": "DiskFull", "severity": "page", "instance": "db1"},
             "annotations": {"summary": "disk <full>"}},
            {"labels": {"alertname": "Retry", "mode": "retry"}},
            {"labels": {"alertname": "Perm", "mode": "perm"}},
        ]),
    );
    let got = eventually(20, "slack and the 0.2 receiver notified", || {
        let r = sink.received();
        let slack = r.iter().find(|x| x.path == "/slack")?.clone();
        let ok = r.iter().find(|x| x.path == "/ok")?.clone();
        Some((slack, ok))
    });
    let (slack, ok) = got;
    let host_title = &slack.body["attachments"][0]["title"];
    assert_eq!(ok.body["fixed"], *host_title, "0.2 render == host render");
    assert_eq!(ok.body["fixed"], "[FIRING:1] DiskFull (db1 page)");
    // The settings document: defaults filled in and not rendered, send_resolved a bool,
    // http_config removed.
    let s = &ok.body["settings"];
    assert_eq!(s["webhook_url"], format!("http://{}/ok", sink.addr));
    assert_eq!(
        s["title"], "{{ template \"discord.default.title\" . }}",
        "{s}"
    );
    assert_eq!(s["send_resolved"], true, "{s}");
    assert!(s.get("http_config").is_none(), "{s}");
    // Rendered by the plugin through the import: discord's default title is the subject.
    assert_eq!(ok.body["title"], *host_title);
    assert_eq!(ok.body["status"], "firing");
    assert!(ok.body["group_key"].as_str().unwrap().contains("DiskFull"));
    assert_eq!(ok.body["alerts"][0]["ends_at_ns"], Value::Null);
    assert!(ok.body["alerts"][0]["starts_at_ns"].as_i64().unwrap() > 1_600_000_000_000_000_000);

    // Retryable: retried, each attempt at least the asked 1.5 s after the previous one.
    let retried = eventually(20, "three retryable attempts", || {
        let r: Vec<_> = sink
            .received()
            .into_iter()
            .filter(|x| x.path.starts_with("/retryable"))
            .collect();
        (r.len() >= 3).then_some(r)
    });
    let gaps: Vec<Duration> = retried.windows(2).map(|w| w[1].at - w[0].at).collect();
    println!("0.2 receiver: gaps between retryable attempts (retry-after 1.5 s): {gaps:?}");
    for &gap in &gaps {
        assert!(
            gap >= Duration::from_millis(1400),
            "retry-after not honoured: {gap:?}"
        );
    }
    // Permanent: tried once, however long we wait.
    std::thread::sleep(Duration::from_secs(3).saturating_sub(t0.elapsed()));
    let perm = sink
        .received()
        .into_iter()
        .filter(|x| x.path == "/permanent")
        .count();
    assert_eq!(perm, 1);
    let perm_body = sink
        .received()
        .into_iter()
        .find(|x| x.path == "/permanent")
        .unwrap()
        .body;
    assert_eq!(
        perm_body["settings"]["webhook_url"],
        format!("http://{}/permanent", sink.addr),
        "the secret file read, trimmed, under the setting's name"
    );
    assert!(perm_body["settings"].get("webhook_url_file").is_none());
    let failed = "sightline_alertmanager_notification_requests_failed_total";
    let retryable = metric(
        &d,
        failed,
        &[("integration", "discord"), ("reason", "retryable")],
    );
    let permanent = metric(
        &d,
        failed,
        &[("integration", "discord"), ("reason", "permanent")],
    );
    println!(
        "0.2 receiver: {} retryable attempts seen, {retryable} counted retryable, {permanent} permanent",
        retried.len()
    );
    assert!(retryable >= 2.0, "{retryable}");
    assert_eq!(permanent, 1.0);
    assert_eq!(
        metric(
            &d,
            "sightline_alertmanager_notifications_failed_total",
            &[("integration", "discord")]
        ),
        1.0,
        "the permanent series failed at once; the retryable one is still retrying"
    );
}
