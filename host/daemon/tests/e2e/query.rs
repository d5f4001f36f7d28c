//! The query side of API v1 against scraped data, and the peers' client suites.

use serde_json::Value;

use crate::support::{eventually, http_get, http_request, vendored, Daemon, TargetServer, BIN};

const TEXT: &str = "text/plain; version=0.0.4";

fn form_post(d: &Daemon, path: &str, body: &str) -> (u16, Value) {
    let (code, b) = http_request(
        &d.addr,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .unwrap();
    (
        code,
        serde_json::from_str(&b).unwrap_or_else(|e| panic!("{path}: {e}: {b}")),
    )
}

fn get(d: &Daemon, path: &str) -> (u16, Value) {
    let (code, b) = http_get(&d.addr, path).unwrap();
    (
        code,
        serde_json::from_str(&b).unwrap_or_else(|e| panic!("{path}: {e}: {b}")),
    )
}

#[test]
fn query_endpoints_over_scraped_data() {
    let t = TargetServer::start(
        TEXT,
        "# HELP http_requests_total Total requests\n# TYPE http_requests_total counter\nhttp_requests_total{status=\"200\"} 10\nhttp_requests_total{status=\"500\"} 2\n",
    );
    let cfg = format!("global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: app\n  static_configs: [{{targets: ['{}']}}]\n", t.addr);
    let d = Daemon::start(Some(&cfg), &[]);
    let v = eventually(20, "scraped series", || {
        let (_, v) = form_post(&d, "/api/v1/query", "query=http_requests_total");
        (v["data"]["result"].as_array().map(|a| a.len()) == Some(2)).then_some(v)
    });
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "vector");
    let r = &v["data"]["result"][0];
    assert_eq!(r["metric"]["job"], "app");
    assert!(
        r["value"][0].is_number() && r["value"][1].is_string(),
        "{r}"
    );

    // `stats`: Prometheus' object inside `data`, only when asked for.
    assert!(v["data"].get("stats").is_none(), "{v}");
    let (_, v) = form_post(&d, "/api/v1/query", "query=http_requests_total&stats=all");
    let stats = &v["data"]["stats"];
    assert!(
        stats["samples"]["totalQueryableSamples"].as_u64() >= Some(2),
        "{v}"
    );
    assert!(stats["samples"]["peakSamples"].as_u64() >= Some(2), "{v}");
    for k in [
        "evalTotalTime",
        "resultSortTime",
        "queryPreparationTime",
        "innerEvalTime",
        "execQueueTime",
        "execTotalTime",
    ] {
        assert!(stats["timings"][k].as_f64().is_some(), "{k}: {v}");
    }

    // Aggregation over the scraped series.
    let (_, v) = get(
        &d,
        "/api/v1/query?query=sum%20by%20(job)%20(http_requests_total)",
    );
    assert_eq!(v["data"]["result"][0]["value"][1], "12");
    // Scalars and strings.
    let (_, v) = get(&d, "/api/v1/query?query=1%2B1&time=4");
    assert_eq!(
        v["data"],
        serde_json::json!({"resultType": "scalar", "result": [4, "2"]})
    );
    // Range query: points exactly at start + k*step.
    let now = sightline_model::now_ms() / 1000;
    let (code, v) = form_post(
        &d,
        "/api/v1/query_range",
        &format!("query=up&start={}&end={}&step=1", now - 5, now + 2),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "matrix");
    for p in v["data"]["result"][0]["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values: {v}"))
    {
        let ts = p[0].as_f64().unwrap();
        assert_eq!(ts.fract(), 0.0, "aligned to the step grid: {ts}");
    }
    // Errors: types, statuses and positions as Prometheus.
    let (code, v) = get(&d, "/api/v1/query?query=sum(");
    assert_eq!((code, v["errorType"].as_str()), (400, Some("bad_data")));
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid parameter \"query\": 1:"),
        "{v}"
    );
    let (code, v) = get(
        &d,
        &format!(
            "/api/v1/query_range?query=up&start={}&end={}&step=0",
            now, now
        ),
    );
    assert_eq!(code, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("zero or negative query resolution step widths"),
        "{v}"
    );
    let (code, v) = get(
        &d,
        &format!(
            "/api/v1/query_range?query=up&start={}&end={}&step=1",
            now,
            now - 10
        ),
    );
    assert_eq!(
        (code, v["error"].as_str()),
        (400, Some("end timestamp must not be before start time"))
    );
    let (code, _) = get(&d, "/api/v1/query?query=up&time=banana");
    assert_eq!(code, 400);
    // Metadata endpoints.
    let (_, v) = get(&d, "/api/v1/labels");
    assert!(
        v["data"].as_array().unwrap().iter().any(|x| x == "status"),
        "{v}"
    );
    let (_, v) = get(&d, "/api/v1/label/status/values");
    assert_eq!(v["data"], serde_json::json!(["200", "500"]));
    let (_, v) = form_post(
        &d,
        "/api/v1/series",
        "match[]=http_requests_total{status=\"500\"}",
    );
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (code, v) = get(&d, "/api/v1/series");
    assert_eq!(
        (code, v["error"].as_str()),
        (400, Some("no match[] parameter provided"))
    );
    let (code, v) = get(&d, "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D");
    assert_eq!((code, v["errorType"].as_str()), (400, Some("bad_data")));
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("at least one non-empty matcher"),
        "{v}"
    );
    let (_, v) = get(&d, "/api/v1/label/__name__/values?limit=1");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["warnings"][0], "results truncated due to limit");
    let (_, v) = get(&d, "/api/v1/metadata?metric=http_requests_total");
    assert_eq!(v["data"]["http_requests_total"][0]["type"], "counter");
    assert_eq!(
        v["data"]["http_requests_total"][0]["help"],
        "Total requests"
    );
    let (_, v) = get(&d, "/api/v1/format_query?query=foo/bar");
    assert_eq!(v["data"], "foo / bar");
    let (_, v) = get(&d, "/api/v1/query_exemplars?query=test&start=1&end=2");
    assert_eq!(v["data"], serde_json::json!([]));
}

/// Grafana's Prometheus data source, replayed by the peers' client (Prometheus 2.42: 18/18).
#[test]
fn conformance_grafana_client() {
    let d = Daemon::start(None, &[]);
    eventually(30, "self-scrape", || {
        let (_, v) = get(&d, "/api/v1/query?query=up%7Bjob%3D%22sightline%22%7D");
        (v["data"]["result"].as_array().map(|a| a.len()) == Some(1)).then_some(())
    });
    // The client asks with `end` floored to whole seconds; let the first sample fall inside.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = std::process::Command::new("python3")
        .arg(vendored("tools/grafana_client.py"))
        .arg(format!("http://{}", d.addr))
        .output()
        .expect("python3 runs the peer's Grafana client");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("{}", text.trim_end());
    assert!(out.status.success(), "{text}");
}

/// The OpenMetrics parser cases served over real scrapes: `up` must be 1 exactly for the
/// cases that should parse (Prometheus 2.42: 140/211).
#[test]
fn conformance_openmetrics_scrape_suite() {
    let out = std::process::Command::new("python3")
        .arg(vendored("tools/om_scrape_suite.py"))
        .arg("--server-cmd")
        .arg(format!("{BIN} serve --config.file={{config}} --storage.tsdb.path={{data}} --web.listen-address={{listen}} --plugins.dir={{data}}/plugins"))
        .arg("--settle")
        .arg("5")
        .output()
        .expect("python3 runs the peer's OpenMetrics scrape suite");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("{}", text.trim_end());
    assert!(out.status.success(), "{text}");
}
