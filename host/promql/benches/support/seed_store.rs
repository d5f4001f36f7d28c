//! The data the PromQL bench and the `probe` example share: the seed's queries and a
//! 10,000-series store shaped like the benchmark targets' metrics.

use sightline_model::Labels;
use sightline_storage_api::{Appendable, MemStorage};

/// The seed's dashboard, alert and debugging queries (`shared/bench/prom_run.py` QUERIES).
#[allow(dead_code)] // The probe example takes its queries from the command line.
pub(crate) const QUERIES: &[&str] = &[
    "up == 0",
    r#"rate(http_requests_total{status=~"5.."}[2m])"#,
    r#"sum by (endpoint, status) (rate(http_requests_total{status=~"5.."}[5m]))"#,
    "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))",
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(5, rate(process_cpu_seconds_total[5m]))",
    "avg_over_time(up[30m])",
    r#"rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left sum without(status) (rate(http_requests_total[5m]))"#,
];

pub(crate) const SCRAPE_MS: i64 = 15_000;
pub(crate) const POINTS: i64 = 240; // One hour of 15s scrapes.

/// Builds about 10,000 series shaped like the benchmark targets' metrics.
pub(crate) fn build_store() -> MemStorage {
    let st = MemStorage::new();
    let mut series: Vec<Labels> = Vec::new();
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let statuses = ["200", "201", "404", "500", "503"];
    let methods = ["GET", "POST"];
    let endpoints = ["/a", "/b", "/c", "/d", "/e"];
    for inst in 0..40 {
        let instance = format!("10.0.0.{inst}:8080");
        series.push(Labels::from_pairs([
            ("__name__", "up"),
            ("job", "app"),
            ("instance", instance.as_str()),
        ]));
        series.push(Labels::from_pairs([
            ("__name__", "process_cpu_seconds_total"),
            ("job", "app"),
            ("instance", instance.as_str()),
        ]));
        for m in methods {
            for e in endpoints {
                for s in statuses {
                    series.push(Labels::from_pairs([
                        ("__name__", "http_requests_total"),
                        ("job", "app"),
                        ("instance", instance.as_str()),
                        ("method", m),
                        ("endpoint", e),
                        ("status", s),
                    ]));
                }
                for le in les {
                    series.push(Labels::from_pairs([
                        ("__name__", "http_request_duration_seconds_bucket"),
                        ("job", "app"),
                        ("instance", instance.as_str()),
                        ("method", m),
                        ("endpoint", e),
                        ("le", le),
                    ]));
                }
            }
        }
    }
    let mut app = st.appender();
    for (i, l) in series.iter().enumerate() {
        let mut v = 0.0;
        for p in 0..POINTS {
            v += ((i as i64 * 7 + p * 13) % 10) as f64;
            let val = if l.metric_name() == Some("up") {
                1.0
            } else {
                v
            };
            app.append(None, l, p * SCRAPE_MS, val)
                .expect("in-order bench data");
        }
    }
    app.commit().expect("commit bench data");
    st
}
