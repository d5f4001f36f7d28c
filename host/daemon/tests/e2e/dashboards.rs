//! The first-party dashboard plugins: the seed's "Service Health" dashboard and a node
//! dashboard load, appear in Grafana's search and by uid, and every query they hold is valid
//! PromQL that the daemon answers.

use serde_json::Value;

use crate::support::*;

#[test]
fn first_party_dashboards_load_and_their_queries_run() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    // The node dashboard's anomaly panel calls the robust-zscore query function.
    let names = [
        "dashboard-service-health",
        "dashboard-node",
        "robust-zscore",
    ];
    for name in names {
        crate::support::install_first_party(&plugins, name);
    }
    let d = Daemon::start_in(dir, None, &[]);
    eventually(30, "robust_zscore to be a PromQL function", || {
        let (_, body) = http_get(&d.addr, "/api/v1/query?query=robust_zscore(up%5B1m%5D)").ok()?;
        body.contains("\"success\"").then_some(())
    });
    let found = eventually(30, "both dashboards in /api/search", || {
        let v = d.get_json("/api/search");
        let uids: Vec<String> = v
            .as_array()?
            .iter()
            .filter_map(|x| x["uid"].as_str().map(str::to_string))
            .collect();
        (uids.contains(&"sightline-service-health".to_string())
            && uids.contains(&"sightline-node".to_string()))
        .then_some(uids)
    });
    let mut queries = 0;
    for uid in ["sightline-service-health", "sightline-node"] {
        let v = d.get_json(&format!("/api/dashboards/uid/{uid}"));
        let panels = v["dashboard"]["panels"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!panels.is_empty(), "{uid}: no panels in {v:#}");
        for p in &panels {
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                let (code, body) =
                    http_get(&d.addr, &format!("/api/v1/query?query={}", urlencode(expr))).unwrap();
                let ans: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(code, 200, "{uid} {:?}: {expr}: {body}", p["title"]);
                assert_eq!(ans["status"], "success", "{expr}: {body}");
                queries += 1;
            }
        }
    }
    let seed = d.get_json("/api/dashboards/uid/sightline-service-health");
    let titles: Vec<&str> = seed["dashboard"]["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Request Rate",
            "Error Rate",
            "p95 Latency",
            "Active Connections"
        ],
        "the seed's panels"
    );
    println!(
        "dashboards: {} found, {queries} queries answered",
        found.len()
    );
}

/// `robust_zscore(v[range])`, the first-party query-function plugin: how unusual each series'
/// latest value is against its window (`|last - median| / (1.4826 * MAD)`), on imported data.
#[test]
fn robust_zscore_scores_the_latest_point_against_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "robust-zscore",
        &sightline_tests::first_party("robust-zscore"),
        None,
    );
    // Two series, five points a minute apart ending now: one steady with a spike last, one
    // flat.
    let end = sightline_model::now_ms() / 1000 / 60 * 60;
    let mut om = String::from("# TYPE load gauge\n");
    // OpenMetrics keeps each series' samples together.
    for (host, values) in [("a", [10.0, 9.0, 11.0, 10.0, 100.0]), ("b", [3.0; 5])] {
        for (i, v) in values.iter().enumerate() {
            let t = end - 240 + 60 * i as i64;
            om.push_str(&format!("load{{host=\"{host}\"}} {v} {t}\n"));
        }
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("load.om");
    std::fs::write(&file, om).unwrap();
    import_openmetrics(&file, dir.path());
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[]);
    let q = format!(
        "/api/v1/query?query={}&time={end}",
        urlencode("robust_zscore(load[5m])")
    );
    let v = eventually(30, "robust_zscore to answer", || {
        let (code, body) = http_get(&d.addr, &q).ok()?;
        (code == 200).then(|| serde_json::from_str::<Value>(&body).unwrap())
    });
    let mut got: Vec<(String, String, String)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"]["host"].as_str().unwrap().to_string(),
                r["metric"]["__name__"].as_str().unwrap_or("").to_string(),
                r["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    // Median 10, MAD 1: the spike is 90 / 1.4826 = 60.70 robust deviations out; the flat
    // series scores 0; the metric name is dropped.
    assert_eq!(got.len(), 2, "{v:#}");
    assert_eq!(got[0].0, "a");
    assert_eq!(got[0].1, "");
    let a: f64 = got[0].2.parse().unwrap();
    assert!((a - 90.0 / 1.4826).abs() < 1e-9, "{a}");
    assert_eq!(got[1], ("b".to_string(), String::new(), "0".to_string()));
}

/// The example rule file `examples/rules/anomaly.rules.yml`, unchanged, evaluates
/// `robust_zscore` in a recording rule and fires its alert's pending state on a traffic spike.
#[test]
fn the_anomaly_example_rules_use_the_query_function_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sightline_tests::install(
        &plugins,
        "robust-zscore",
        &sightline_tests::first_party("robust-zscore"),
        None,
    );
    // The recording rule's input, as if `job:http_requests:rate5m` had been recorded for the
    // last few minutes: steady, then a spike.
    let end = sightline_model::now_ms() / 1000 / 60 * 60;
    let mut om = String::from("# TYPE job:http_requests:rate5m gauge\n");
    for (i, v) in [20.0, 21.0, 19.0, 20.0, 22.0, 20.0, 95.0]
        .iter()
        .enumerate()
    {
        let t = end - 360 + 60 * i as i64;
        om.push_str(&format!(
            "job:http_requests:rate5m{{job=\"app\"}} {v} {t}\n"
        ));
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("rate.om");
    std::fs::write(&file, om).unwrap();
    import_openmetrics(&file, dir.path());
    let rules = sightline_tests::repo_root().join("examples/rules/anomaly.rules.yml");
    let config = format!(
        "global:\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs: []\n",
        rules.display()
    );
    let d = Daemon::start_in(dir, Some(&config), &[]);
    let alert = eventually(60, "TrafficAnomaly pending", || {
        let v = d.get_json("/api/v1/alerts");
        v["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "TrafficAnomaly")
            .cloned()
    });
    assert_eq!(alert["state"], "pending", "{alert:#}");
    assert_eq!(alert["labels"]["job"], "app", "{alert:#}");
    let rules = d.get_json("/api/v1/rules");
    for r in rules["data"]["groups"][0]["rules"].as_array().unwrap() {
        assert_eq!(r["health"], "ok", "{r:#}");
    }
    let v = d.get_json("/api/v1/query?query=job%3Ahttp_requests%3Arobust_zscore1h");
    let score: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(score > 5.0, "{v:#}");
}
