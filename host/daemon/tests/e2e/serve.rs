//! `sightline serve`: scraping, targets API, status endpoints, reload, shutdown.

use serde_json::Value;

use crate::support::{eventually, http_get, http_request, urlencode, Daemon, TargetServer};

fn targets(d: &Daemon) -> Vec<Value> {
    d.get_json("/api/v1/targets")["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn target_of<'a>(ts: &'a [Value], pool: &str) -> Option<&'a Value> {
    ts.iter().find(|t| t["scrapePool"] == pool)
}

const TEXT: &str = "text/plain; version=0.0.4";
const OM: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[test]
fn embedded_default_config_scrapes_itself() {
    let d = Daemon::start(None, &[]);
    let t = eventually(30, "self-scrape up", || {
        let ts = targets(&d);
        target_of(&ts, "sightline")
            .filter(|t| t["health"] == "up")
            .cloned()
    });
    assert_eq!(t["labels"]["job"], "sightline");
    assert_eq!(t["labels"]["instance"], d.addr.as_str());
    assert_eq!(t["scrapeUrl"], format!("http://{}/metrics", d.addr));
    assert_eq!(t["lastError"], "");
    assert_eq!(t["scrapeInterval"], "15s");
}

#[test]
fn targets_report_up_down_and_parse_errors() {
    let good = TargetServer::start(TEXT, "# TYPE m counter\nm_total{a=\"1\"} 5\n");
    let bad = TargetServer::start(TEXT, "m{a=\"1\" 5\n");
    let om_no_eof = TargetServer::start(OM, "m 1\n");
    let dead = crate::support::free_port();
    let cfg = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 500ms}}\nscrape_configs:\n\
         - job_name: good\n  static_configs: [{{targets: ['{}'], labels: {{team: a}}}}]\n\
         - job_name: bad\n  static_configs: [{{targets: ['{}']}}]\n\
         - job_name: omeof\n  static_configs: [{{targets: ['{}']}}]\n\
         - job_name: dead\n  static_configs: [{{targets: ['127.0.0.1:{dead}']}}]\n",
        good.addr, bad.addr, om_no_eof.addr
    );
    let d = Daemon::start(Some(&cfg), &[]);
    let ts = eventually(20, "all four targets scraped", || {
        let ts = targets(&d);
        (ts.len() == 4 && ts.iter().all(|t| t["health"] != "unknown")).then_some(ts)
    });
    let g = target_of(&ts, "good").unwrap();
    assert_eq!(g["health"], "up", "{g}");
    assert_eq!(g["labels"]["team"], "a");
    assert_eq!(g["discoveredLabels"]["__address__"], good.addr.as_str());
    let b = target_of(&ts, "bad").unwrap();
    assert_eq!(b["health"], "down");
    let err = b["lastError"].as_str().unwrap();
    assert!(
        err.contains("1:"),
        "parse error must carry its location: {err}"
    );
    let o = target_of(&ts, "omeof").unwrap();
    assert_eq!(
        o["health"], "down",
        "OpenMetrics without # EOF must fail: {o}"
    );
    let x = target_of(&ts, "dead").unwrap();
    assert_eq!(x["health"], "down");
    assert!(!x["lastError"].as_str().unwrap().is_empty());
    // The scraper negotiated OpenMetrics first and told the target its timeout.
    let reqs = good
        .requests
        .lock()
        .unwrap()
        .join("\n")
        .to_ascii_lowercase();
    assert!(
        reqs.contains("accept: application/openmetrics-text;version=1.0.0"),
        "{reqs}"
    );
    assert!(
        reqs.contains("x-prometheus-scrape-timeout-seconds: 0.5"),
        "{reqs}"
    );
    // Pools in config order.
    let pools = d.get_json("/api/v1/scrape_pools");
    assert_eq!(
        pools["data"]["scrapePools"],
        serde_json::json!(["good", "bad", "omeof", "dead"])
    );
    // Filters.
    let only_bad = d.get_json("/api/v1/targets?scrapePool=bad&state=active");
    assert_eq!(
        only_bad["data"]["activeTargets"].as_array().unwrap().len(),
        1
    );
    assert!(only_bad["data"].get("droppedTargets").is_none());
}

#[test]
fn relabel_drop_shows_dropped_targets() {
    let good = TargetServer::start(TEXT, "m 1\n");
    let cfg = format!(
        "global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: j\n  static_configs: [{{targets: ['{}', 'drop.me:1']}}]\n  relabel_configs:\n  - source_labels: [__address__]\n    regex: 'drop\\.me:.*'\n    action: drop\n",
        good.addr
    );
    let d = Daemon::start(Some(&cfg), &[]);
    let v = d.get_json("/api/v1/targets");
    assert_eq!(v["data"]["activeTargets"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["data"]["droppedTargets"][0]["discoveredLabels"]["__address__"],
        "drop.me:1"
    );
    assert_eq!(v["data"]["droppedTargetCounts"]["j"], 1);
}

#[test]
fn status_endpoints_and_secret_redaction() {
    let cfg = "scrape_configs:\n- job_name: s\n  basic_auth: {username: u, password: hunter2}\n  static_configs: [{targets: ['127.0.0.1:1']}]\n";
    let d = Daemon::start(Some(cfg), &["--storage.tsdb.retention.time=30d"]);
    let c = d.get_json("/api/v1/status/config");
    let yaml = c["data"]["yaml"].as_str().unwrap();
    assert!(!yaml.contains("hunter2"), "{yaml}");
    assert!(yaml.contains("<secret>"), "{yaml}");
    assert!(
        yaml.contains("scrape_interval: 1m"),
        "defaults are filled in: {yaml}"
    );
    let f = d.get_json("/api/v1/status/flags");
    assert_eq!(f["data"]["storage.tsdb.retention.time"], "30d");
    assert_eq!(f["data"]["web.listen-address"], d.addr.as_str());
    let b = d.get_json("/api/v1/status/buildinfo");
    assert_eq!(b["status"], "success");
    assert!(b["data"]["version"].as_str().unwrap().starts_with("2."));
    let r = d.get_json("/api/v1/status/runtimeinfo");
    assert_eq!(r["data"]["storageRetention"], "30d");
    let (code, body) = http_get(&d.addr, "/-/healthy").unwrap();
    assert_eq!(code, 200, "{body}");
    let (code, _) = http_get(&d.addr, "/-/reload").unwrap();
    assert_eq!(code, 405);
    // CORS headers on API responses with an Origin.
    let (code, _) = http_request(
        &d.addr,
        "OPTIONS",
        "/api/v1/targets",
        &[("Origin", "http://x")],
        b"",
    )
    .unwrap();
    assert_eq!(code, 200);
}

#[test]
fn metrics_endpoint_in_both_formats() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let (code, text) = http_get(&d.addr, "/metrics").unwrap();
    assert_eq!(code, 200);
    for want in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "sightline_config_last_reload_successful 1",
        "sightline_build_info{",
    ] {
        assert!(text.contains(want), "missing {want} in:\n{text}");
    }
    let (code, om) = http_request(
        &d.addr,
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text;version=1.0.0")],
        b"",
    )
    .unwrap();
    assert_eq!(code, 200);
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
    // What we expose must parse with our own strict OpenMetrics parser.
    for e in sightline_exposition::parse(om.as_bytes(), sightline_exposition::Format::OpenMetrics) {
        e.unwrap_or_else(|e| panic!("own /metrics is not valid OpenMetrics: {e}\n{om}"));
    }
}

#[test]
fn reload_rejects_bad_config_and_applies_good_one() {
    let t = TargetServer::start(TEXT, "m 1\n");
    let cfg = format!("global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: one\n  static_configs: [{{targets: ['{}']}}]\n", t.addr);
    let d = Daemon::start(Some(&cfg), &["--web.enable-lifecycle"]);
    std::fs::write(
        d.config_path(),
        "scrape_configs:\n- job_name: one\n  bogus_key: 1\n",
    )
    .unwrap();
    let (code, body) = http_request(&d.addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(code, 500, "{body}");
    assert!(body.contains("bogus_key"), "{body}");
    assert_eq!(targets(&d).len(), 1, "old config keeps running");
    let m = http_get(&d.addr, "/metrics").unwrap().1;
    assert!(
        m.contains("sightline_config_last_reload_successful 0"),
        "{m}"
    );
    let cfg2 = format!(
        "{cfg}- job_name: two\n  static_configs: [{{targets: ['{}']}}]\n",
        t.addr
    );
    std::fs::write(d.config_path(), cfg2).unwrap();
    d.send_signal("HUP");
    eventually(10, "job two after SIGHUP", || {
        let ts = targets(&d);
        (ts.len() == 2).then_some(())
    });
}

/// A reload that changes a job's target labels ends the old series with stale markers (as
/// Prometheus' end-of-run staleness), while series that continue under a restarted loop
/// (a job whose scrape timeout changed) never go stale in between.
#[test]
fn reload_marks_the_series_of_changed_targets_stale_and_no_others() {
    let t = TargetServer::start(TEXT, "m 1\n");
    let cfg = |labels: &str, timeout: &str| {
        format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: one\n  static_configs: [{{targets: ['{}'], labels: {{{labels}}}}}]\n- job_name: steady\n  scrape_timeout: {timeout}\n  static_configs: [{{targets: ['{}']}}]\n",
            t.addr, t.addr
        )
    };
    let d = Daemon::start(
        Some(&cfg("config: a", "900ms")),
        &["--web.enable-lifecycle"],
    );
    let count = |q: &str| -> usize {
        let v = d.get_json(&format!("/api/v1/query?query={}", urlencode(q)));
        v["data"]["result"].as_array().map_or(0, Vec::len)
    };
    eventually(20, "both jobs scraped", || {
        (count("up == 1") == 2).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    std::fs::write(d.config_path(), cfg("config: b", "800ms")).unwrap();
    let reload_ms = sightline_model::now_ms();
    let (code, body) = http_request(&d.addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(code, 200, "{body}");
    // The old loops mark their series stale two intervals after the reload; instant queries
    // then show only the new label set.
    eventually(20, "config=a gone from instant queries", || {
        (count("up{config=\"a\"}") == 0
            && count("m{config=\"a\"}") == 0
            && count("up{config=\"b\"}") == 1)
            .then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    // The restarted steady job's series has a value at every step across the reload: no
    // stale marker landed between its old loop's last sample and its new loop's first.
    let (start, end) = (
        (reload_ms - 3_000) as f64 / 1000.0,
        (sightline_model::now_ms() - 500) as f64 / 1000.0,
    );
    let v = d.get_json(&format!(
        "/api/v1/query_range?query={}&start={start}&end={end}&step=0.1",
        urlencode("up{job=\"steady\"}")
    ));
    let steps = ((end - start) / 0.1).floor() as usize + 1;
    let times: Vec<f64> = v["data"]["result"][0]["values"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p[0].as_f64()).collect())
        .unwrap_or_default();
    // From its first scrape on, a value at every step: no hole across the reload.
    let holes = times.windows(2).filter(|w| w[1] - w[0] > 0.15).count();
    assert!(
        holes == 0
            && times
                .first()
                .is_some_and(|t| *t < reload_ms as f64 / 1000.0 - 1.0),
        "the steady job's series went stale across the reload: {v}"
    );
    // The ended series: stale from just after its last sample, so a range over the reload
    // shows it ending there.
    let v = d.get_json(&format!(
        "/api/v1/query_range?query={}&start={start}&end={end}&step=0.1",
        urlencode("up{config=\"a\"}")
    ));
    let got = v["data"]["result"][0]["values"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        got > 0 && got < steps,
        "config=a should end within the range: {got} of {steps} steps"
    );
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for sig in ["TERM", "INT"] {
        let mut d = Daemon::start(Some("scrape_configs: []\n"), &[]);
        let st = d.signal_and_wait(sig);
        assert!(st.success(), "SIG{sig}: {st}");
    }
}

#[test]
fn seed_config_runs_with_targets_down() {
    let seed = crate::check::seed_prometheus_yml();
    // rule_files refer to alerts.yml next to the config; the seed's targets are not running.
    let d = Daemon::start(Some(&seed), &[]);
    let ts = targets(&d);
    let jobs: Vec<&str> = ts
        .iter()
        .map(|t| t["scrapePool"].as_str().unwrap())
        .collect();
    for j in ["app", "node", "postgres"] {
        assert!(jobs.contains(&j), "{jobs:?}");
    }
    let app = target_of(&ts, "app").unwrap();
    assert_eq!(app["scrapeTimeout"], "5s");
    assert_eq!(app["scrapeInterval"], "15s");
}

#[test]
fn data_survives_restart_and_tsdb_status() {
    let t = TargetServer::start(TEXT, "persisted_metric 42\n");
    let cfg = format!("global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: p\n  static_configs: [{{targets: ['{}']}}]\n", t.addr);
    let d = Daemon::start(Some(&cfg), &[]);
    eventually(20, "scraped", || {
        let v = d.get_json("/api/v1/query?query=persisted_metric");
        (v["data"]["result"].as_array().map(|a| a.len()) == Some(1)).then_some(())
    });
    let st = d.get_json("/api/v1/status/tsdb");
    assert!(
        st["data"]["headStats"]["numSeries"].as_u64().unwrap() >= 6,
        "{st}"
    );
    assert!(
        st["data"]["seriesCountByMetricName"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "persisted_metric"),
        "{st}"
    );
    let (code, body) =
        http_request(&d.addr, "POST", "/api/v1/admin/tsdb/snapshot", &[], b"").unwrap();
    assert_eq!(code, 500, "admin API is off by default: {body}");
    assert!(body.contains("\"errorType\":\"unavailable\""), "{body}");
    let end = sightline_model::now_ms() / 1000 + 1;
    let dir = d.stop();
    // Restart on the same data without the target: the old samples are still there.
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[]);
    let v = d.get_json(&format!(
        "/api/v1/query?query=count_over_time(persisted_metric[1h])&time={end}"
    ));
    let n: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or("0")
        .parse()
        .unwrap();
    assert!(n >= 1.0, "samples survive a restart: {v}");
}

#[test]
fn file_sd_targets_follow_the_file() {
    let a = TargetServer::start(TEXT, "m 1\n");
    let b = TargetServer::start(TEXT, "m 2\n");
    let sd_dir = tempfile::tempdir().unwrap();
    let sd = sd_dir.path().join("targets.json");
    std::fs::write(
        &sd,
        format!(
            "[{{\"targets\": [\"{}\"], \"labels\": {{\"env\": \"prod\"}}}}]",
            a.addr
        ),
    )
    .unwrap();
    let cfg = format!(
        "global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: sd\n  file_sd_configs: [{{files: ['{}/*.json']}}]\n",
        sd_dir.path().display()
    );
    let d = Daemon::start(Some(&cfg), &[]);
    let ts = eventually(15, "first file_sd target", || {
        let ts = targets(&d);
        (ts.len() == 1).then_some(ts)
    });
    assert_eq!(ts[0]["labels"]["env"], "prod");
    assert_eq!(
        ts[0]["discoveredLabels"]["__meta_filepath"],
        sd.display().to_string()
    );
    // Replace the file (as editors do, by rename): the target set follows without a reload.
    let tmp = sd_dir.path().join("targets.tmp");
    std::fs::write(
        &tmp,
        format!("[{{\"targets\": [\"{}\", \"{}\"]}}]", a.addr, b.addr),
    )
    .unwrap();
    std::fs::rename(&tmp, &sd).unwrap();
    eventually(15, "second file_sd target", || {
        (targets(&d).len() == 2).then_some(())
    });
    std::fs::remove_file(&sd).unwrap();
    eventually(15, "targets gone with the file", || {
        targets(&d).is_empty().then_some(())
    });
}

#[test]
fn query_function_plugin_is_a_promql_function_after_hot_reload() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let plugins = d.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let (code, v) = {
        let (c, b) = http_get(&d.addr, "/api/v1/query?query=scale(vector(3),2)").unwrap();
        (c, b)
    };
    assert_eq!(code, 400, "unknown before the plugin is dropped in: {v}");
    sightline_tests::install(
        &plugins,
        "scale-query",
        &sightline_tests::guest("scale-query"),
        None,
    );
    let v = eventually(15, "scale() served by the plugin", || {
        let (c, b) = http_get(&d.addr, "/api/v1/query?query=scale(vector(3),2)").ok()?;
        (c == 200).then_some(b)
    });
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "6", "{v}");
    let p = d.get_json("/api/v1/plugins");
    assert_eq!(p["data"][0]["name"], "scale-query");
    assert_eq!(p["data"][0]["kind"], "query-function");
    assert_eq!(p["data"][0]["state"], "loaded");
    assert!(p["data"][0]["calls"].as_u64().unwrap() >= 1, "{p}");
}

/// A dropped-in dashboard plugin appears in Grafana's dashboard search and by uid; removing
/// the plugin removes the dashboard.
#[test]
fn dashboard_plugins_feed_the_dashboards_list() {
    let d = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let plugins = d.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let (code, body) = http_get(&d.addr, "/api/dashboards/uid/hello").unwrap();
    assert_eq!(code, 404, "{body}");
    sightline_tests::install(
        &plugins,
        "hello-dashboard",
        &sightline_tests::guest("hello-dashboard"),
        None,
    );
    let list = eventually(15, "the plugin's dashboard listed", || {
        let (c, b) = http_get(&d.addr, "/api/search?query=hel").ok()?;
        let v: serde_json::Value = serde_json::from_str(&b).ok()?;
        (c == 200 && v.as_array().is_some_and(|a| !a.is_empty())).then_some(v)
    });
    assert_eq!(list[0]["uid"], "hello", "{list}");
    assert_eq!(list[0]["title"], "Hello");
    assert_eq!(list[0]["type"], "dash-db");
    assert_eq!(list[0]["url"], "/d/hello/hello");
    let (_, b) = http_get(&d.addr, "/api/search?query=nomatch").unwrap();
    assert_eq!(b.trim(), "[]");
    let v = d.get_json("/api/dashboards/uid/hello");
    assert_eq!(
        v["dashboard"]["panels"][0]["targets"][0]["expr"], "up",
        "{v}"
    );
    assert_eq!(v["meta"]["provisioned"], true);
    assert_eq!(v["meta"]["provisionedExternalId"], "plugin:hello-dashboard");
    std::fs::remove_file(plugins.join("hello-dashboard.wasm")).unwrap();
    eventually(15, "the dashboard gone with its plugin", || {
        let (c, _) = http_get(&d.addr, "/api/dashboards/uid/hello").ok()?;
        (c == 404).then_some(())
    });
}
