//! Native histograms in the web UI, in real headless Chromium: Explore draws a range query
//! of histogram series as a heatmap of their buckets and lists them as text in the table.
//! The histograms are written through the remote-write receiver, so the test needs nothing
//! but the daemon and Chromium.

use serde_json::Value;
use sightline_model::{Histogram, Span};
use sightline_remote::histconv::from_int;
use sightline_remote::v1::{Label, TimeSeries, WriteRequest};
use sightline_tests::chromium::Browser;

use crate::support::*;
use crate::ui_env::*;

/// 21 histograms of one series, 30 s apart, ending now; counts grow so rates are positive.
fn write_histograms(addr: &str) -> i64 {
    let now = sightline_model::now_ms() / 1000 * 1000;
    let histograms = (0..=20i64)
        .map(|k| {
            let h = Histogram {
                schema: 0,
                // One in the zero bucket plus the buckets' 5 + 7k.
                count: (6 + 7 * k) as u64,
                sum: 3.0 * k as f64,
                zero_threshold: 1e-128,
                zero_count: 1,
                positive_spans: vec![Span::new(-2, 4)],
                // Absolute counts 1+k, 1+2k, 1+k, 2+3k.
                positive_buckets: vec![1 + k, k, -k, 1 + 2 * k],
                ..Histogram::default()
            };
            from_int(now - (20 - k) * 30_000, &h)
        })
        .collect();
    let req = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "ui_latency_seconds".into(),
                },
                Label {
                    name: "job".into(),
                    value: "ui".into(),
                },
            ],
            histograms,
            ..Default::default()
        }],
        metadata: vec![],
    };
    let body = sightline_remote::compress(&req.encode());
    let (code, text) = http_request(
        addr,
        "POST",
        "/api/v1/write",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
        ],
        &body,
    )
    .expect("remote write");
    assert_eq!(code, 204, "{text}");
    now
}

#[test]
fn ui_explore_draws_native_histograms_as_a_heatmap_and_lists_them() {
    let _serial = serial();
    let d = Daemon::start(None, &["--web.enable-remote-write-receiver"]);
    write_histograms(&d.addr);
    let v: Value = d.get_json("/api/v1/query?query=ui_latency_seconds");
    assert!(
        v["data"]["result"][0]["histogram"].is_array(),
        "the API answers a histogram: {v}"
    );
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();
    let base = format!("http://{}/", d.addr);

    // Graph: a range query of a histogram series is a heatmap of its buckets.
    let expr = urlencode("ui_latency_seconds");
    page.goto(&format!("{base}explore?expr={expr}&range=15m"))
        .unwrap();
    wait_view(&mut page, "explore");
    let cond = "(r => !!r && r.dataset.histograms === '1' && +r.dataset.points > 0)(document.querySelector('[data-result]'))";
    if let Err(e) = page.wait_for(cond, VIEW_TIMEOUT) {
        fail(&mut page, "explore-heatmap", format!("no heatmap: {e}"));
    }
    wait_el(&mut page, "[data-result] canvas");
    checkpoint(&mut page, "explore-native-heatmap");

    // Table: the instant value as count, sum and buckets.
    page.goto(&format!(
        "{base}explore?expr={}&tab=table",
        urlencode("ui_latency_seconds")
    ))
    .unwrap();
    wait_view(&mut page, "explore");
    if let Err(e) = page.wait_for(
        "(r => !!r && +r.dataset.series === 1)(document.querySelector('[data-result]'))",
        VIEW_TIMEOUT,
    ) {
        fail(&mut page, "explore-table", format!("no row: {e}"));
    }
    let t = text(&mut page, "[data-result] tbody");
    assert!(t.contains("count=146") && t.contains("sum=60"), "{t}");
    assert!(t.contains("(0.25,0.5]:41"), "bucket text in {t}");
    let errors = page.console_errors().unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
}
