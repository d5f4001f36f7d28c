//! Debian's amtool 0.25 against the API served on loopback: given the state Alertmanager 0.25
//! had when tests/testdata/api/amtool/ was recorded (its `GET /api/v2/alerts`, `/silences`
//! and `/status` answers), every query prints what amtool printed against Alertmanager
//! (`<name>.out`: stdout and stderr, then `rc=<exit code>`), and the writing commands
//! (`alert add`, `silence add/import/expire`) reach the backend with what amtool sends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use api_fake::{days_since, golden, ls, shift_dates, t, Fake};
use sightline_alerts::api::router;

const AMTOOL: &str = "/usr/bin/amtool";

/// Serves the API for `fake` on an ephemeral loopback port; the server ends with the runtime.
async fn serve(fake: Arc<Fake>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(fake)).await;
    });
    format!("http://{addr}")
}

/// Runs amtool (bounded by a timeout) and returns what the recordings hold: stdout, stderr,
/// `rc=N`.
async fn amtool(url: &str, args: &[&str]) -> String {
    let run = tokio::process::Command::new(AMTOOL)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("amtool timed out")
        .unwrap();
    format!(
        "{}{}rc={}\n",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1)
    )
}

fn need_amtool() {
    assert!(
        Path::new(AMTOOL).exists(),
        "amtool is missing: install Debian's prometheus-alertmanager (0.25) for {AMTOOL}"
    );
}

/// Shortly after the recording.
const NOW: &str = "2026-12-05T02:33:20Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_queries_print_what_they_print_against_alertmanager() {
    need_amtool();
    // amtool hides silences whose end has passed on its own clock: the recording is moved
    // to today, and so are the dates in what amtool is expected to print.
    let days = days_since(t(NOW));
    let fake = Fake::from_recorded_shifted("amtool", t(NOW) + days * 86_400_000, days);
    let url = serve(fake).await;
    let cases: &[(&str, &[&str])] = &[
        ("alert_query", &["alert", "query"]),
        ("alert_query_silenced", &["alert", "query", "-s"]),
        (
            "alert_query_filter",
            &[
                "alert",
                "query",
                "alertname=~\"High.*|ServiceDown\"",
                "severity=page",
            ],
        ),
        (
            "alert_query_extended",
            &["alert", "query", "-a", "-o", "extended"],
        ),
        ("alert_query_json", &["alert", "query", "-o", "json"]),
        (
            "alert_query_receiver",
            &["alert", "query", "-s", "--receiver=team-x"],
        ),
        ("silence_query", &["silence", "query"]),
        (
            "silence_query_extended",
            &["silence", "query", "-o", "extended"],
        ),
        ("silence_query_q", &["silence", "query", "-q"]),
        (
            "silence_query_filter",
            &["silence", "query", "alertname=DiskFull"],
        ),
        ("silence_query_json", &["silence", "query", "-o", "json"]),
    ];
    for (name, args) in cases {
        let got = amtool(&url, args).await;
        assert_eq!(
            got,
            shift_dates(&golden(&format!("amtool/{name}.out")), days),
            "amtool {args:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_writes_reach_the_backend() {
    need_amtool();
    let fake = Fake::from_recorded("amtool", t(NOW));
    let url = serve(fake.clone()).await;

    assert_eq!(
        amtool(
            &url,
            &[
                "alert",
                "add",
                "alertname=Added",
                "sev=warn",
                "--annotation=summary=hi"
            ]
        )
        .await,
        "rc=0\n"
    );
    {
        let seen = fake.seen.lock().unwrap();
        let a = &seen.put[0][0];
        assert_eq!(a.labels, ls(&[("alertname", "Added"), ("sev", "warn")]));
        assert_eq!(a.annotations, ls(&[("summary", "hi")]));
        // amtool sends Go's zero times: the alert starts now and ends after resolve_timeout.
        assert_eq!(
            (a.starts_at, a.ends_at, a.timeout),
            (fake.now, Some(fake.now + 300_000), true)
        );
    }

    let out = amtool(
        &url,
        &[
            "silence",
            "add",
            "alertname=X",
            "-c",
            "why",
            "-a",
            "who",
            "-d",
            "1h",
        ],
    )
    .await;
    assert_eq!(out, "11111111-2222-3333-4444-555555555555\nrc=0\n");
    {
        let seen = fake.seen.lock().unwrap();
        let s = &seen.set[0];
        assert_eq!(
            (s.id.as_deref(), s.created_by.as_str(), s.comment.as_str()),
            (None, "who", "why")
        );
        assert_eq!(s.ends_at - s.starts_at, 3_600_000);
        assert_eq!(
            (s.matchers[0].name.as_str(), s.matchers[0].value.as_str()),
            ("alertname", "X")
        );
    }

    // `silence import` posts each exported silence with its id: an update in place.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    let export = golden("amtool/silence_query_json.out");
    std::fs::write(&file, export.trim_end_matches("rc=0\n")).unwrap();
    let out = amtool(&url, &["silence", "import", file.to_str().unwrap()]).await;
    // amtool imports with parallel workers, so the ids come in any order.
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "59f240de-713e-4e30-be15-95ad02c98096",
            "eb0dcfc7-3071-4a7e-a16f-ab343d6e4c26",
            "rc=0"
        ]
    );

    assert_eq!(
        amtool(
            &url,
            &["silence", "expire", "59f240de-713e-4e30-be15-95ad02c98096"]
        )
        .await,
        "rc=0\n"
    );
    // Recorded from amtool against Alertmanager 0.25.
    assert_eq!(
        amtool(&url, &["silence", "expire", "59f240de-713e-4e30-be15-95ad02c98099"]).await,
        "amtool: error: [DELETE /silence/{silenceID}][500] deleteSilenceInternalServerError  silence not found\n\nrc=1\n"
    );
    assert_eq!(
        fake.seen.lock().unwrap().expired,
        ["59f240de-713e-4e30-be15-95ad02c98096"]
    );
}
