//! The data of the heavy bench and the `query_mem` example (issue 21): 100 targets of 1,000
//! series shaped like `shared/bench/targets.py`'s, 15 minutes of 30 s scrapes in a TSDB head,
//! and the benchmark harness' queries (`shared/bench/prom_run.py` QUERIES).

use sightline_model::{Labels, SeriesRef};
use sightline_storage_api::Appendable;
use sightline_tsdb::{FsyncPolicy, Tsdb, TsdbOptions};

const TARGETS: usize = 100;
const SERIES_PER_TARGET: usize = 1_000;
pub(crate) const SCRAPE_MS: i64 = 30_000;
/// 15 minutes of 30 s scrapes.
pub(crate) const POINTS: i64 = 30;

pub(crate) const QUERIES: &[(&str, &str)] = &[
    ("up_eq_0", "up == 0"),
    (
        "rate_5xx",
        r#"rate(http_requests_total{status=~"5.."}[2m])"#,
    ),
    (
        "sum_by_rate",
        r#"sum by (endpoint, status) (rate(http_requests_total{status=~"5.."}[5m]))"#,
    ),
    (
        "hq_rate",
        "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))",
    ),
    (
        "hq_sum_by_le",
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    ("topk_cpu", "topk(5, rate(process_cpu_seconds_total[5m]))"),
    ("avg_over_time_up", "avg_over_time(up[30m])"),
    (
        "join",
        r#"rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left sum without(status) (rate(http_requests_total[5m]))"#,
    ),
];

/// A TSDB in a temporary directory (returned with it: the directory lives as long as it),
/// filled by [`fill`].
pub(crate) fn filled_tsdb() -> (tempfile::TempDir, Tsdb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let st = Tsdb::open(TsdbOptions {
        wal_fsync: FsyncPolicy::Never,
        ..TsdbOptions::new(dir.path())
    })
    .expect("open tsdb");
    fill(&st);
    (dir, st)
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const ENDPOINTS: &[&str] = &[
    "/api/users",
    "/api/orders",
    "/api/search",
    "/api/items",
    "/api/cart",
    "/api/login",
    "/api/payments",
    "/healthz",
    "/api/reports",
    "/api/inventory",
    "/api/shipping",
    "/api/reviews",
    "/api/recommendations",
];
const STATUSES: &[&str] = &["200", "304", "400", "404", "500", "503"];
const LES: &[&str] = &[
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf",
];

/// One target's series, with whether each is a counter.
fn target_series(t: usize) -> Vec<(Labels, bool)> {
    let instance = format!("127.0.0.1:{}", 20_000 + t);
    let base = |name: &str| {
        vec![
            ("__name__".to_string(), name.to_string()),
            ("instance".to_string(), instance.clone()),
            ("job".to_string(), "bench".to_string()),
        ]
    };
    let mk = |mut pairs: Vec<(String, String)>, extra: &[(&str, &str)]| {
        for (k, v) in extra {
            pairs.push((k.to_string(), v.to_string()));
        }
        Labels::from_pairs(pairs)
    };
    let mut out = Vec::with_capacity(SERIES_PER_TARGET);
    out.push((mk(base("up"), &[]), false));
    out.push((mk(base("process_cpu_seconds_total"), &[]), true));
    out.push((mk(base("process_resident_memory_bytes"), &[]), false));
    out.push((mk(base("http_requests_active"), &[]), false));
    'outer: for m in METHODS {
        for e in ENDPOINTS {
            for s in STATUSES {
                out.push((
                    mk(
                        base("http_requests_total"),
                        &[("method", m), ("endpoint", e), ("status", s)],
                    ),
                    true,
                ));
            }
            for le in LES {
                out.push((
                    mk(
                        base("http_request_duration_seconds_bucket"),
                        &[("method", m), ("endpoint", e), ("le", le)],
                    ),
                    true,
                ));
            }
            for suffix in ["sum", "count"] {
                out.push((
                    mk(
                        base(&format!("http_request_duration_seconds_{suffix}")),
                        &[("method", m), ("endpoint", e)],
                    ),
                    true,
                ));
            }
            if out.len() + 19 > SERIES_PER_TARGET {
                break 'outer;
            }
        }
    }
    let mut q = 0;
    while out.len() < SERIES_PER_TARGET {
        out.push((
            mk(base("app_queue_depth"), &[("queue", &format!("q{q}"))]),
            false,
        ));
        q += 1;
    }
    out
}

/// Appends the data a scrape (one commit) at a time, as the scraper does.
pub(crate) fn fill(st: &dyn Appendable) {
    let series: Vec<(Labels, bool)> = (0..TARGETS).flat_map(target_series).collect();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; series.len()];
    let mut vals = vec![0.0f64; series.len()];
    for p in 0..POINTS {
        let mut app = st.appender();
        for (i, (l, counter)) in series.iter().enumerate() {
            let val = if l.metric_name() == Some("up") {
                1.0
            } else if *counter {
                vals[i] += ((i * 7 + p as usize * 13) % 10) as f64;
                vals[i]
            } else {
                ((i + p as usize) % 17) as f64
            };
            refs[i] = Some(
                app.append(refs[i], l, p * SCRAPE_MS, val)
                    .expect("in order"),
            );
        }
        app.commit().expect("commit bench data");
    }
}
