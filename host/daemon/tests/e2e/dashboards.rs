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
    let names = ["dashboard-service-health", "dashboard-node"];
    for name in names {
        let manifest = std::fs::read_to_string(
            sightline_tests::repo_root().join(format!("plugins/{name}.toml")),
        )
        .unwrap();
        sightline_tests::install(
            &plugins,
            name,
            &sightline_tests::first_party(name),
            Some(&manifest),
        );
    }
    let d = Daemon::start_in(dir, None, &[]);
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
