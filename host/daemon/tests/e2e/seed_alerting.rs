//! The seed scenario end to end (issue 16): the seed's prometheus.yml, alerts.yml and
//! alertmanager.yml, unchanged but for the addresses of their targets and a local sink for
//! each receiver, on one `sightline serve`. A target that is down fires `ServiceDown`, an app
//! serving 10 % 5xx fires `HighErrorRate`; both are `severity: page`, so both reach the
//! `pagerduty` receiver (through the first-party PagerDuty plugin), each page once. The
//! seed's one `severity: warning` alert, `HighLatency`, needs five minutes of slow requests;
//! the test posts it to the API instead, and the seed's default route takes it to `default`,
//! Slack (through the first-party Slack plugin), with the seed's channel. Nothing else reaches
//! Slack.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::am_support::{read_request, Sink};
use crate::support::*;

/// A loopback app whose request counter grows at 10 requests a second, one in ten a 500.
struct App {
    addr: String,
    stop: Arc<AtomicBool>,
}

impl App {
    fn start() -> App {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let began = Instant::now();
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                if read_request(&mut s).is_none() {
                    continue;
                }
                let n = (began.elapsed().as_secs_f64() * 10.0).floor();
                let errors = (n / 10.0).floor();
                let out = format!(
                    "# TYPE http_requests_total counter\n\
http_requests_total{{status=\"200\"}} {}\nhttp_requests_total{{status=\"500\"}} {errors}\n",
                    n - errors
                );
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                    out.len()
                );
            }
        });
        App { addr, stop }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The JSON bodies a sink received on `path`, in order.
fn bodies(sink: &Sink, path: &str) -> Vec<Value> {
    sink.received()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.body)
        .collect()
}

#[test]
fn seed_pages_pagerduty_once_per_group_and_sends_the_rest_to_slack() {
    let app = App::start();
    let sinks = Sink::start();
    // The node exporter is down; postgres is up with nothing to say, so each page holds
    // one alert and fires at one evaluation.
    let down_node = free_port();
    let postgres = TargetServer::start("text/plain; version=0.0.4", "");
    let prom = crate::check::seed_prometheus_yml()
        .replace("localhost:8000", &app.addr)
        .replace("localhost:9100", &format!("127.0.0.1:{down_node}"))
        .replace("localhost:9187", &postgres.addr);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(vendored("seed/alerts.yml"), dir.path().join("alerts.yml")).unwrap();
    // The seed's alertmanager.yml with one line added: PagerDuty's URL, the local sink.
    let am = std::fs::read_to_string(vendored("seed/alertmanager.yml"))
        .unwrap()
        .replace(
            "  resolve_timeout: 5m\n",
            &format!(
                "  resolve_timeout: 5m\n  pagerduty_url: 'http://{}/pagerduty'\n",
                sinks.addr
            ),
        );
    assert!(
        am.contains("pagerduty_url"),
        "the seed's global block moved"
    );
    let am_file = dir.path().join("alertmanager.yml");
    std::fs::write(&am_file, am).unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for p in ["pagerduty", "slack"] {
        let toml =
            std::fs::read_to_string(sightline_tests::repo_root().join(format!("plugins/{p}.toml")))
                .unwrap();
        sightline_tests::install(&plugins, p, &sightline_tests::first_party(p), Some(&toml));
    }
    let slack_url = format!("http://{}/slack", sinks.addr);
    let d = Daemon::start_in_env(
        dir,
        Some(&prom),
        &[
            &format!("--alertmanager.config.file={}", am_file.display()),
            "--log.level=warn",
        ],
        &[("SLACK_WEBHOOK", &slack_url), ("PAGERDUTY_KEY", "seed-key")],
    );

    // A warning, as Prometheus would push HighLatency: not a page, so the seed's route sends
    // it to `default`.
    crate::am_support::post_alerts(
        &d.addr,
        &serde_json::json!([{
            "labels": {"alertname": "HighLatency", "severity": "warning", "job": "app"},
            "annotations": {"summary": "p95 latency > 1s"},
            "generatorURL": "http://prometheus.example/graph"
        }]),
    );
    let slack = eventually(60, "HighLatency in Slack", || {
        let b = bodies(&sinks, "/slack");
        (!b.is_empty()).then_some(b)
    });
    assert_eq!(slack.len(), 1, "{slack:#?}");
    let msg = &slack[0];
    assert_eq!(msg["channel"], "#alerts", "{msg:#}");
    let att = &msg["attachments"][0];
    assert_eq!(
        att["title"], "[FIRING:1] HighLatency warning (app)",
        "{msg:#}"
    );
    assert_eq!(att["color"], "danger", "{msg:#}");
    assert!(
        att["text"].as_str().unwrap_or_default().is_empty(),
        "Alertmanager's default Slack text is empty: {msg:#}"
    );

    // ServiceDown fires after `for: 1m`, HighErrorRate after its 2m range fills and `for:
    // 2m`, each then waits the route's `group_wait` of 10 s.
    let pages = eventually(
        330,
        "a page for ServiceDown and one for HighErrorRate",
        || {
            let pages = bodies(&sinks, "/pagerduty");
            let names: Vec<String> = pages
                .iter()
                .filter_map(|p| p["description"].as_str().map(str::to_string))
                .collect();
            (names.iter().any(|n| n.contains("ServiceDown"))
                && names.iter().any(|n| n.contains("HighErrorRate")))
            .then_some(pages)
        },
    );
    // Both groups are in the API, routed to `pagerduty`.
    let alerts = d.get_json("/api/v2/alerts");
    let mut routed: Vec<(String, String)> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["labels"]["alertname"].as_str().unwrap().to_string(),
                a["receivers"][0]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    routed.sort();
    routed.dedup();
    assert_eq!(
        routed,
        vec![
            ("HighErrorRate".to_string(), "pagerduty".to_string()),
            ("HighLatency".to_string(), "default".to_string()),
            ("ServiceDown".to_string(), "pagerduty".to_string()),
        ],
        "{alerts:#}"
    );
    // Another two group intervals: no page repeats (repeat_interval is 1h), and Slack got
    // the warning alone, once.
    std::thread::sleep(Duration::from_secs(25));
    let again = bodies(&sinks, "/pagerduty");
    assert_eq!(again.len(), 2, "each group paged once: {again:#?}");
    assert_eq!(again, pages);
    for p in &pages {
        assert_eq!(p["service_key"], "seed-key", "{p:#}");
        assert_eq!(p["event_type"], "trigger", "{p:#}");
        assert_eq!(p["incident_key"].as_str().unwrap().len(), 64, "{p:#}");
        assert!(
            p["description"].as_str().unwrap().starts_with("[FIRING:"),
            "{p:#}"
        );
    }
    let service_down = pages
        .iter()
        .find(|p| p["description"].as_str().unwrap().contains("ServiceDown"))
        .unwrap();
    assert_eq!(
        service_down["details"]["num_firing"], "1",
        "{service_down:#}"
    );
    assert_eq!(
        bodies(&sinks, "/slack"),
        slack,
        "only the warning goes to default, once"
    );
    // The notification history has both deliveries, succeeded.
    let hist = d.get_json("/api/v2/notifications?receiver=pagerduty");
    assert_eq!(hist.as_array().map(Vec::len), Some(2), "{hist:#}");
    drop(app);
}
