//! The OTLP receiver (`--web.enable-otlp-receiver`) fed by the real OpenTelemetry Python SDK
//! (`opentelemetry-sdk` with its OTLP/HTTP exporter, pinned in tests/tools/
//! otel-requirements.txt, installed by tests/tools/otel-venv.sh): counters, an up-down
//! counter, a gauge and a histogram, pushed three times with cumulative temporality and
//! three times with delta temporality (gzip), come out with the names and labels Prometheus 3
//! gives them, and the deltas come out cumulative. A JSON request by plain HTTP (and a
//! gzipped one) are stored too; without the flag the endpoint is 404 with Prometheus' text.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::sidebyside::get_json;
use crate::support::{eventually, http_request, urlencode, Daemon};

const PATH: &str = "/api/v1/otlp/v1/metrics";

/// The venv's Python: `SIGHTLINE_OTEL_PYTHON`, else target/otel-venv.
fn otel_python() -> PathBuf {
    let p = std::env::var_os("SIGHTLINE_OTEL_PYTHON").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/otel-venv/bin/python"
            ))
        },
        PathBuf::from,
    );
    let ok = Command::new(&p)
        .args(["-c", "import opentelemetry.sdk.metrics, opentelemetry.exporter.otlp.proto.http.metric_exporter"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the OTLP end-to-end test needs the OpenTelemetry Python SDK at {}: run \
         tests/tools/otel-venv.sh (./dev test and .ci/run do), or set SIGHTLINE_OTEL_PYTHON",
        p.display()
    );
    p
}

fn push(python: &PathBuf, addr: &str, temporality: &str, instance: &str, gzip: bool) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/tools/otel_push.py"
    );
    let mut cmd = Command::new(python);
    cmd.args([
        script,
        "--endpoint",
        &format!("http://{addr}{PATH}"),
        "--temporality",
        temporality,
        "--instance",
        instance,
        "--rounds",
        "3",
    ]);
    if gzip {
        cmd.arg("--gzip");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "otel_push.py {temporality}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The SDK logs a failed export and carries on: its stderr must be clean.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Failed to export"), "{err}");
}

/// The instant vector of `q`: (labels, value) pairs.
fn query(addr: &str, q: &str) -> Vec<(serde_json::Map<String, Value>, String)> {
    let v = get_json(addr, &format!("/api/v1/query?query={}", urlencode(q)));
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].as_object().unwrap().clone(),
                s["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The raw values of `selector` over the last 10 minutes.
fn raw_values(addr: &str, selector: &str) -> Vec<f64> {
    let v = get_json(
        addr,
        &format!(
            "/api/v1/query?query={}",
            urlencode(&format!("{selector}[10m]"))
        ),
    );
    let res = v["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 1, "{selector}: {v}");
    res[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap().parse().unwrap())
        .collect()
}

fn value(addr: &str, q: &str) -> f64 {
    let r = query(addr, q);
    assert_eq!(r.len(), 1, "{q}: {r:?}");
    r[0].1.parse().unwrap()
}

#[test]
fn python_sdk_pushes_cumulative_and_delta_metrics() {
    let python = otel_python();
    let d = Daemon::start(
        Some(
            "scrape_configs: []\notlp:\n  promote_resource_attributes: [deployment.environment]\n",
        ),
        &["--web.enable-otlp-receiver"],
    );
    push(&python, &d.addr, "cumulative", "cum-1", false);
    push(&python, &d.addr, "delta", "delta-1", true);

    for inst in ["cum-1", "delta-1"] {
        let sel = |name: &str, extra: &str| {
            format!(
                r#"{name}{{job="shop/checkout",instance="{inst}",deployment_environment="test"{extra}}}"#
            )
        };
        // Counters: `_total`, the `{order}` annotation dropped, `By` as `_bytes`; deltas
        // accumulated, so both streams read 5, 10, 15.
        let orders = sel("shop_orders_total", r#",payment_method="card""#);
        let got = eventually(20, "the third push", || {
            let v = raw_values(&d.addr, &orders);
            (v.len() >= 3).then_some(v)
        });
        assert_eq!(got[..3], [5.0, 10.0, 15.0], "{inst}: {got:?}");
        assert_eq!(
            raw_values(&d.addr, &sel("net_io_bytes_total", ""))[..3],
            [1024.0, 2048.0, 3072.0]
        );
        // The up-down counter is a gauge without suffix (cumulative in both runs).
        assert_eq!(value(&d.addr, &sel("queue_items", "")), 6.0, "{inst}");
        // The gauge with unit `1` gets `_ratio`.
        assert_eq!(
            value(
                &d.addr,
                &sel("process_cpu_utilization_ratio", r#",cpu="0""#)
            ),
            0.25
        );
        // The histogram: classic buckets, cumulative counts, +Inf, _sum, _count.
        let h = |suffix: &str, extra: &str| {
            value(
                &d.addr,
                &sel(
                    &format!("http_server_request_duration_seconds{suffix}"),
                    &format!(r#",http_route="/pay"{extra}"#),
                ),
            )
        };
        assert_eq!(h("_count", ""), 9.0, "{inst}");
        assert!((h("_sum", "") - 30.6).abs() < 1e-9, "{inst}");
        assert_eq!(h("_bucket", r#",le="0""#), 0.0);
        assert_eq!(h("_bucket", r#",le="5""#), 6.0);
        assert_eq!(h("_bucket", r#",le="10""#), 9.0);
        assert_eq!(h("_bucket", r#",le="+Inf""#), 9.0);
        // target_info: the resource's other attributes (the SDK's telemetry.sdk.*), promoted
        // ones included, identifying ones as job and instance.
        let ti = query(&d.addr, &format!(r#"target_info{{instance="{inst}"}}"#));
        assert_eq!(ti.len(), 1, "{ti:?}");
        let l = &ti[0].0;
        assert_eq!(l["job"], "shop/checkout");
        assert_eq!(l["deployment_environment"], "test");
        assert_eq!(l["telemetry_sdk_language"], "python");
        assert!(!l.contains_key("service_name"), "{l:?}");
    }
    // Metadata goes to the appender (`update_metadata`); `/api/v1/metadata` lists scrape
    // targets' metadata only, as in Prometheus, so it is checked in host/remote/tests/otlp.rs.
    // The receiver's own metrics.
    let (_, metrics) = crate::support::http_get(&d.addr, "/metrics").unwrap();
    assert!(
        metrics.contains("sightline_otlp_requests_total{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sightline_otlp_samples_written_total"),
        "{metrics}"
    );
}

fn json_request(instance: &str, t_ns: u128, value: i64) -> String {
    format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[
          {{"key":"service.name","value":{{"stringValue":"curl"}}}},
          {{"key":"service.instance.id","value":{{"stringValue":"{instance}"}}}}]}},
        "scopeMetrics":[{{"scope":{{"name":"manual"}},"metrics":[
          {{"name":"jobs.done","unit":"{{job}}","sum":{{"aggregationTemporality":2,"isMonotonic":true,
            "dataPoints":[{{"startTimeUnixNano":"{st}","timeUnixNano":"{t_ns}","asInt":"{value}",
              "attributes":[{{"key":"queue","value":{{"stringValue":"q1"}}}}]}}]}}}},
          {{"name":"temperature","unit":"Cel","gauge":{{"dataPoints":[{{"timeUnixNano":{t_ns},"asDouble":21.5}}]}}}}]}}]}}]}}"#,
        st = t_ns - 60_000_000_000
    )
}

#[test]
fn json_and_gzip_requests_over_plain_http_and_the_flag() {
    let d = Daemon::start(
        Some("scrape_configs: []\n"),
        &["--web.enable-otlp-receiver", "--web.enable-lifecycle"],
    );
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (code, body) = http_request(
        &d.addr,
        "POST",
        PATH,
        &[("Content-Type", "application/json")],
        json_request("a", now_ns - 1_000_000_000, 3).as_bytes(),
    )
    .unwrap();
    assert_eq!((code, body.as_str()), (200, "{}"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json_request("a", now_ns, 4).as_bytes())
        .unwrap();
    let (code, body) = http_request(
        &d.addr,
        "POST",
        PATH,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &gz.finish().unwrap(),
    )
    .unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        raw_values(
            &d.addr,
            r#"jobs_done_total{job="curl",instance="a",queue="q1"}"#
        ),
        [3.0, 4.0]
    );
    assert_eq!(
        value(&d.addr, r#"temperature_celsius{job="curl",instance="a"}"#),
        21.5
    );
    // No other resource attribute: no target_info.
    assert!(query(&d.addr, "target_info").is_empty());
    // Malformed: 400 naming the field.
    let (code, body) = http_request(
        &d.addr,
        "POST",
        PATH,
        &[("Content-Type", "application/json")],
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asInt":true}]}}]}]}]}"#,
    )
    .unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt"),
        "{body}"
    );
    let (code, _) = http_request(
        &d.addr,
        "POST",
        PATH,
        &[("Content-Type", "text/plain")],
        b"x",
    )
    .unwrap();
    assert_eq!(code, 415);

    // The otlp block follows a reload: promoted resource attributes appear on later points.
    std::fs::write(
        d.dir.path().join("prometheus.yml"),
        "scrape_configs: []\notlp:\n  promote_resource_attributes: [service.instance.id]\n",
    )
    .unwrap();
    let (code, body) = http_request(&d.addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(code, 200, "{body}");
    let later = json_request("a", now_ns + 1_000_000_000, 5).replace("temperature", "humidity");
    let (code, _) = http_request(
        &d.addr,
        "POST",
        PATH,
        &[("Content-Type", "application/json")],
        later.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 200);
    let got = eventually(10, "the point after the reload", || {
        let r = query(&d.addr, "humidity_celsius");
        (!r.is_empty()).then_some(r)
    });
    assert_eq!(
        got[0].0.get("service_instance_id"),
        Some(&Value::from("a")),
        "{got:?}"
    );
    drop(d);

    // The flag off: Prometheus 3's 404 and text.
    let off = Daemon::start(Some("scrape_configs: []\n"), &[]);
    let (code, body) = http_request(
        &off.addr,
        "POST",
        PATH,
        &[("Content-Type", "application/json")],
        json_request("a", now_ns, 1).as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 404);
    assert_eq!(
        body,
        "otlp write receiver needs to be enabled with --web.enable-otlp-receiver\n"
    );
}
