//! Sightline's extensions of API v2 (the notification history, acknowledgements) and the
//! cross-origin headers, against the in-memory backend of `api_fake`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use api_fake::{app, expect, get, post, send, send_with, t, S1};

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
