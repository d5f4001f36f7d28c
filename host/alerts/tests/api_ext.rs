//! Sightline's extensions of API v2 (the notification history, acknowledgements) and the
//! cross-origin headers, against the in-memory backend of `api_fake`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use api_fake::{app, expect, get, post, send, send_with, t, S1};
use sightline_alerts::api::{
    router, router_with_options, AlertsApiBackend, ApiAlert, ApiAlertGroup, ApiOptions, ApiSilence,
    ApiStatus, NotificationQuery, NotificationRecord, PostableSilence, SetSilenceError,
};

#[tokio::test]
async fn notification_history() {
    let (app, f) = app();
    let a = get(
        &app,
        "/api/v2/notifications?receiver=pagerduty&groupKey=k&filter=alertname%3DA&since=2026-12-05T02:00:00Z&until=1796437800&failed=true&limit=5",
    )
    .await;
    assert_eq!(a.status, 200);
    let want = format!(
        "[{{\"alerts\":[{{\"fingerprint\":\"58397e97fa43e029\",\"status\":\"firing\",\"labels\":{{\"alertname\":\"A\",\"instance\":\"i2\",\"job\":\"j0\",\"severity\":\"page\",\"team\":\"x\"}}}}],\"attempts\":3,\"durationMs\":1500,\"error\":\"unexpected status 500\",\"groupKey\":{},\"groupLabels\":{{\"alertname\":\"A\"}},\"index\":0,\"integration\":\"webhook\",\"receiver\":\"pagerduty\",\"status\":\"failed\",\"time\":\"2026-12-05T02:24:00.000Z\"}}]\n",
        serde_json::Value::String("{}/{severity=\"page\"}:{alertname=\"A\"}".into())
    );
    assert_eq!(a.body, want);
    {
        let seen = f.seen.lock().unwrap();
        let q = &seen.queries[0];
        assert_eq!(q.receiver.as_deref(), Some("pagerduty"));
        assert_eq!(q.group_key.as_deref(), Some("k"));
        assert_eq!(q.matchers.len(), 1);
        assert_eq!(q.since_ms, Some(t("2026-12-05T02:00:00Z")));
        assert_eq!(q.until_ms, Some(1_796_437_800_000));
        assert!(q.failed_only);
        assert_eq!(q.limit, 5);
    }
    let a = get(&app, "/api/v2/notifications").await;
    assert_eq!(a.status, 200);
    {
        let seen = f.seen.lock().unwrap();
        assert_eq!(
            seen.queries[1].limit,
            sightline_alerts::api::DEFAULT_NOTIFICATION_LIMIT
        );
        assert!(!seen.queries[1].failed_only);
    }
    expect(
        &get(&app, "/api/v2/notifications?since=later").await,
        400,
        "\"invalid since parameter \\\"later\\\"\"\n",
    );
    expect(
        &get(&app, "/api/v2/notifications?limit=-1").await,
        400,
        "\"invalid limit parameter \\\"-1\\\"\"\n",
    );
    expect(
        &get(&app, "/api/v2/notifications?filter=x").await,
        400,
        "\"bad matcher format: x\"\n",
    );
}

#[tokio::test]
async fn acknowledge() {
    let (app, f) = app();
    let a = post(
        &app,
        "/api/v2/alerts/58397e97fa43e029/ack",
        r#"{"createdBy":"oncall","comment":"on it"}"#,
    )
    .await;
    expect(
        &a,
        200,
        "{\"silenceID\":\"99999999-0000-0000-0000-000000000000\"}\n",
    );
    let a = send(
        &app,
        "POST",
        "/api/v2/alerts/58397e97fa43e029/ack",
        None,
        "",
    )
    .await;
    assert_eq!(a.status, 200);
    {
        let seen = f.seen.lock().unwrap();
        assert_eq!(
            seen.acks,
            [
                (0x58397e97fa43e029, "oncall".into(), "on it".into()),
                (
                    0x58397e97fa43e029,
                    "sightline".into(),
                    "acknowledged".into()
                ),
            ]
        );
    }
    expect(
        &post(&app, "/api/v2/alerts/0000000000000001/ack", "").await,
        404,
        "\"alert not found\"\n",
    );
    expect(
        &post(&app, "/api/v2/alerts/xyz/ack", "").await,
        400,
        "\"invalid fingerprint \\\"xyz\\\"\"\n",
    );
    // The group listing is not shadowed by the ack route.
    assert_eq!(get(&app, "/api/v2/alerts/groups").await.status, 200);
}

/// The header values of `name`, in order.
fn values(a: &api_fake::Answer, name: &str) -> Vec<String> {
    a.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cors_as_alertmanager() {
    let (app, _) = app();
    // Recorded from Alertmanager 0.25 (`rs/cors`' default policy on v2).
    let a = send_with(
        &app,
        "GET",
        "/api/v2/receivers",
        &[("origin", "http://x")],
        "",
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(values(&a, "access-control-allow-origin"), ["*"]);
    assert_eq!(values(&a, "vary"), ["Origin"]);
    let a = get(&app, "/api/v2/receivers").await;
    assert!(values(&a, "access-control-allow-origin").is_empty());
    assert_eq!(values(&a, "vary"), ["Origin"]);
    let preflight = [
        ("origin", "http://x"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let a = send_with(&app, "OPTIONS", "/api/v2/silences", &preflight, "").await;
    expect(&a, 200, "");
    assert_eq!(values(&a, "access-control-allow-origin"), ["*"]);
    assert_eq!(values(&a, "access-control-allow-methods"), ["POST"]);
    assert_eq!(values(&a, "access-control-allow-headers"), ["Content-Type"]);
    assert_eq!(
        values(&a, "vary"),
        [
            "Origin",
            "Access-Control-Request-Method",
            "Access-Control-Request-Headers"
        ]
    );
    // DELETE is not in the default policy: no allow headers (as in Alertmanager).
    let a = send_with(
        &app,
        "OPTIONS",
        &format!("/api/v2/silence/{S1}"),
        &[
            ("origin", "http://x"),
            ("access-control-request-method", "DELETE"),
        ],
        "",
    )
    .await;
    expect(&a, 200, "");
    assert!(values(&a, "access-control-allow-origin").is_empty());
    // A plain OPTIONS is an unsupported method.
    let a = send(&app, "OPTIONS", "/api/v2/silences", None, "").await;
    expect(
        &a,
        405,
        r#"{"code":405,"message":"method OPTIONS is not allowed, but [GET,POST] are"}"#,
    );
    assert_eq!(values(&a, "vary"), ["Origin"]);
    // v1 sets its fixed headers on every answer.
    for a in [
        send(&app, "POST", "/api/v1/alerts", None, "[]").await,
        send(&app, "OPTIONS", "/api/v1/alerts", None, "").await,
    ] {
        assert_eq!(a.status, 200);
        assert_eq!(
            values(&a, "access-control-allow-headers"),
            ["Accept, Authorization, Content-Type, Origin"]
        );
        assert_eq!(
            values(&a, "access-control-allow-methods"),
            ["GET, POST, DELETE, OPTIONS"]
        );
        assert_eq!(values(&a, "access-control-allow-origin"), ["*"]);
        assert_eq!(values(&a, "access-control-expose-headers"), ["Date"]);
        assert_eq!(
            values(&a, "cache-control"),
            ["no-cache, no-store, must-revalidate"]
        );
    }
}

/// A backend whose alert listing waits until released, to hold a GET in flight.
struct Slow {
    inner: std::sync::Arc<api_fake::Fake>,
    entered: std::sync::atomic::AtomicBool,
    release: std::sync::atomic::AtomicBool,
}

impl AlertsApiBackend for Slow {
    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }
    fn resolve_timeout_ms(&self) -> i64 {
        self.inner.resolve_timeout_ms()
    }
    fn alerts(&self) -> Result<Vec<ApiAlert>, String> {
        use std::sync::atomic::Ordering::SeqCst;
        self.entered.store(true, SeqCst);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.release.load(SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.inner.alerts()
    }
    fn put_alerts(&self, alerts: Vec<sightline_alerts::Alert>) -> Result<(), String> {
        self.inner.put_alerts(alerts)
    }
    fn groups(&self) -> Vec<ApiAlertGroup> {
        self.inner.groups()
    }
    fn receivers(&self) -> Vec<String> {
        self.inner.receivers()
    }
    fn status(&self) -> ApiStatus {
        self.inner.status()
    }
    fn silences(&self) -> Result<Vec<ApiSilence>, String> {
        self.inner.silences()
    }
    fn silence(&self, id: &str) -> Result<Option<ApiSilence>, String> {
        self.inner.silence(id)
    }
    fn set_silence(&self, s: PostableSilence) -> Result<String, SetSilenceError> {
        self.inner.set_silence(s)
    }
    fn expire_silence(&self, id: &str) -> Result<(), String> {
        self.inner.expire_silence(id)
    }
    fn notifications(&self, q: &NotificationQuery) -> Result<Vec<NotificationRecord>, String> {
        self.inner.notifications(q)
    }
    fn acknowledge(&self, fp: u64, by: &str, comment: &str) -> Result<Option<String>, String> {
        self.inner.acknowledge(fp, by, comment)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_concurrency_is_limited_as_alertmanager_limits_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let slow = std::sync::Arc::new(Slow {
        inner: api_fake::fake(),
        entered: false.into(),
        release: false.into(),
    });
    let app = router_with_options(slow.clone(), ApiOptions { get_concurrency: 1 });
    let held = tokio::spawn({
        let app = app.clone();
        async move { get(&app, "/api/v2/alerts").await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !slow.entered.load(SeqCst) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Alertmanager's words (`limitHandler`).
    let a = get(&app, "/api/v2/receivers").await;
    expect(
        &a,
        503,
        "Limit of concurrent GET requests reached (1), try again later.\n",
    );
    assert_eq!(a.headers["content-type"], "text/plain; charset=utf-8");
    // Only GETs are limited.
    expect(&post(&app, "/api/v2/alerts", "[]").await, 200, "");
    slow.release.store(true, SeqCst);
    assert_eq!(held.await.unwrap().status, 200);
    assert_eq!(get(&app, "/api/v2/receivers").await.status, 200);
}

#[tokio::test]
async fn merges_with_the_prometheus_api_get_v1_alerts() {
    // The daemon serves Prometheus' `GET /api/v1/alerts` (the rules' alerts) beside
    // Alertmanager's `POST /api/v1/alerts`.
    let prometheus = axum::Router::new().route(
        "/api/v1/alerts",
        axum::routing::get(|| async { "prometheus" }),
    );
    let app = prometheus.merge(router(api_fake::fake()));
    expect(&get(&app, "/api/v1/alerts").await, 200, "prometheus");
    let a = send(&app, "POST", "/api/v1/alerts", None, "[]").await;
    expect(&a, 200, r#"{"status":"success"}"#);
}
