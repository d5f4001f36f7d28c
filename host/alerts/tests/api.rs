//! API v2 against an in-memory backend: every endpoint, its status codes and error bodies,
//! the filters, and the JSON compared byte for byte with what Alertmanager 0.25 answered for
//! the same state (tests/testdata/api/, see its README). Error bodies quoted below were
//! recorded from the same Alertmanager (Debian's 0.25.0) with curl.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use std::sync::{Arc, Mutex};

use api_fake::{expect, get, golden, ls, post, recorded_status, send, send_with, t, Fake, JSON};
use axum::Router;
use sightline_alerts::api::{
    router, validate_silence_matchers, ApiAlert, ApiAlertGroup, ApiAlertState, ApiAlertStatus,
    ApiMatcher, ApiSilence, ApiSilenceState, NotificationRecord, NotifiedAlert, PostableSilence,
};
use sightline_alerts::{Alert, LabelSet};

const S1: &str = "46f8991c-2987-4a4a-955f-ba4bab4d7c3a";
const S2: &str = "cea1b5fc-f829-4444-a50f-0bf8cf912eb3";
const S3: &str = "6ffe268f-80c5-4d83-845c-b73dc7474a67";

fn alert(labels: LabelSet, starts: &str, ends: &str) -> Alert {
    Alert {
        labels,
        annotations: LabelSet::new(),
        starts_at: t(starts),
        ends_at: Some(t(ends)),
        generator_url: String::new(),
        updated_at: t("2026-12-05T02:23:58.443Z"),
        timeout: true,
    }
}

fn api_alert(a: Alert, status: ApiAlertStatus, receivers: &[&str]) -> ApiAlert {
    ApiAlert {
        alert: a,
        status,
        receivers: receivers.iter().map(|r| r.to_string()).collect(),
    }
}

fn active() -> ApiAlertStatus {
    ApiAlertStatus {
        state: ApiAlertState::Active,
        ..Default::default()
    }
}

fn eq(name: &str, value: &str) -> ApiMatcher {
    ApiMatcher {
        name: name.into(),
        value: value.into(),
        is_regex: false,
        is_equal: true,
    }
}

/// The state Alertmanager 0.25 had when tests/testdata/api/*.json were recorded (see the
/// README there), given to the API in a scrambled order.
fn fake() -> Arc<Fake> {
    let (t0, end) = ("2026-12-05T02:23:58.443Z", "2026-12-05T02:28:58.443Z");
    let a_i2 = api_alert(
        alert(
            ls(&[
                ("alertname", "A"),
                ("instance", "i2"),
                ("job", "j0"),
                ("severity", "page"),
                ("team", "x"),
            ]),
            t0,
            end,
        ),
        active(),
        &["pagerduty", "team-x"],
    );
    let mut a_i1 = alert(
        ls(&[
            ("alertname", "A"),
            ("instance", "i1"),
            ("job", "j1"),
            ("severity", "page"),
            ("team", "x"),
        ]),
        "2026-12-05T02:13:58.000Z",
        end,
    );
    a_i1.annotations = ls(&[("summary", "down")]);
    a_i1.generator_url = "http://prom/graph?g0.expr=up".into();
    let a_i1 = api_alert(
        a_i1,
        ApiAlertStatus {
            state: ApiAlertState::Suppressed,
            silenced_by: vec![S1.into()],
            inhibited_by: vec![],
        },
        &["pagerduty", "team-x"],
    );
    let b = api_alert(
        alert(ls(&[("alertname", "B"), ("job", "j0")]), t0, end),
        active(),
        &["default"],
    );
    let inhibitor = api_alert(
        alert(ls(&[("alertname", "Inhibitor")]), t0, end),
        active(),
        &["default"],
    );
    let target = api_alert(
        alert(ls(&[("alertname", "Target"), ("team", "y")]), t0, end),
        ApiAlertStatus {
            state: ApiAlertState::Suppressed,
            silenced_by: vec![],
            inhibited_by: vec!["8e33209db99e7cd8".into()],
        },
        &["team-x"],
    );
    // Resolved before "now": neither endpoint shows it.
    let res = api_alert(
        alert(
            ls(&[("alertname", "Res")]),
            "2026-12-05T02:13:58.000Z",
            "2026-12-05T02:18:58.000Z",
        ),
        active(),
        &["default"],
    );
    let group = |name: &str, receiver: &str, alerts: Vec<ApiAlert>| ApiAlertGroup {
        labels: ls(&[("alertname", name)]),
        receiver: receiver.into(),
        alerts,
    };
    let groups = vec![
        group("Target", "team-x", vec![target.clone()]),
        group("A", "team-x", vec![a_i1.clone(), a_i2.clone()]),
        group("Res", "default", vec![res.clone()]),
        group("Inhibitor", "default", vec![inhibitor.clone()]),
        group("B", "default", vec![b.clone()]),
        group("A", "pagerduty", vec![a_i1.clone(), a_i2.clone()]),
    ];
    let silence =
        |id: &str, state, matchers, times: [&str; 3], by: &str, comment: &str| ApiSilence {
            id: id.into(),
            matchers,
            starts_at: t(times[0]),
            ends_at: t(times[1]),
            updated_at: t(times[2]),
            created_by: by.into(),
            comment: comment.into(),
            until_resolved: false,
            state,
        };
    let silences = vec![
        silence(
            S3,
            ApiSilenceState::Expired,
            vec![eq("alertname", "Gone")],
            [
                "2026-12-05T02:23:58.460Z",
                "2026-12-05T02:23:58.639Z",
                "2026-12-05T02:23:58.639Z",
            ],
            "me",
            "expired one",
        ),
        silence(
            S2,
            ApiSilenceState::Pending,
            vec![
                ApiMatcher {
                    name: "team".into(),
                    value: "x|y".into(),
                    is_regex: true,
                    is_equal: false,
                },
                ApiMatcher {
                    name: "alertname".into(),
                    value: "Z".into(),
                    is_regex: false,
                    is_equal: false,
                },
            ],
            [
                "2026-12-05T03:23:58.000Z",
                "2026-12-05T04:23:58.000Z",
                "2026-12-05T02:23:58.455Z",
            ],
            "you",
            "pending one",
        ),
        silence(
            S1,
            ApiSilenceState::Active,
            vec![eq("instance", "i1")],
            [
                "2026-12-05T02:23:58.450Z",
                "2026-12-05T03:23:58.000Z",
                "2026-12-05T02:23:58.450Z",
            ],
            "me",
            "active one",
        ),
    ];
    let status = recorded_status(&serde_json::from_str(&golden("status.json")).unwrap());
    let notifications = vec![NotificationRecord {
        at_ms: t("2026-12-05T02:24:00.000Z"),
        receiver: "pagerduty".into(),
        integration: "webhook".into(),
        index: 0,
        group_key: "{}/{severity=\"page\"}:{alertname=\"A\"}".into(),
        group_labels: ls(&[("alertname", "A")]),
        alerts: vec![NotifiedAlert {
            fingerprint: a_i2.alert.fingerprint(),
            status: "firing".into(),
            labels: a_i2.alert.labels.clone(),
        }],
        error: Some("unexpected status 500".into()),
        attempts: 3,
        duration_ms: 1500,
    }];
    Arc::new(Fake {
        now: t("2026-12-05T02:24:01.000Z"),
        alerts: vec![res, a_i1, target, b, inhibitor, a_i2],
        groups,
        silences,
        notifications,
        status,
        seen: Mutex::default(),
    })
}

fn app() -> (Router, Arc<Fake>) {
    let f = fake();
    (router(f.clone()), f)
}

#[tokio::test]
async fn reads_match_alertmanager_byte_for_byte() {
    let (app, _) = app();
    for (uri, file) in [
        ("/api/v2/alerts", "alerts.json"),
        (
            "/api/v2/alerts?silenced=false&inhibited=false",
            "alerts_unmuted.json",
        ),
        (
            "/api/v2/alerts?filter=job%3D~%22j.*%22&filter=severity%3Dpage&active=false",
            "alerts_filtered.json",
        ),
        ("/api/v2/alerts/groups", "groups.json"),
        (
            "/api/v2/alerts/groups?receiver=team-x",
            "groups_team_x.json",
        ),
        ("/api/v2/silences", "silences.json"),
        (&format!("/api/v2/silence/{S1}"), "silence.json"),
        ("/api/v2/status", "status.json"),
        ("/api/v2/receivers", "receivers.json"),
    ] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, 200, "{uri}");
        assert_eq!(a.headers["content-type"], "application/json", "{uri}");
        assert_eq!(a.body, golden(file), "{uri} vs {file}");
    }
}

#[tokio::test]
async fn alert_filters() {
    let (app, _) = app();
    let fps = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["labels"]["alertname"].as_str().unwrap().to_string())
            .collect()
    };
    // amtool's `alert query` (silenced and inhibited off, unprocessed ignored as in 0.25).
    let a = get(
        &app,
        "/api/v2/alerts?active=true&inhibited=false&silenced=false&unprocessed=false",
    )
    .await;
    assert_eq!(fps(&a.body), ["A", "Inhibitor", "B"]);
    // The receiver regex is anchored: `team` matches nothing, `team-.*` matches team-x.
    assert_eq!(
        fps(&get(&app, "/api/v2/alerts?receiver=team").await.body),
        Vec::<String>::new()
    );
    assert_eq!(
        fps(&get(&app, "/api/v2/alerts?receiver=team-.*").await.body),
        ["A", "Target", "A"]
    );
    // The classic syntax unquoted, as amtool sends `alertname=~A|B`.
    assert_eq!(
        fps(&get(&app, "/api/v2/alerts?filter=alertname%3D~A%7CB")
            .await
            .body),
        ["A", "A", "B"]
    );
    // An empty-valued equality matcher holds where the label is absent.
    assert_eq!(
        fps(&get(&app, "/api/v2/alerts?filter=job%3D%22%22").await.body),
        ["Inhibitor", "Target"]
    );
    // Booleans as swag reads them: `0` is false, an empty value is the default.
    assert_eq!(
        fps(&get(&app, "/api/v2/alerts?active=0&silenced=").await.body),
        ["Target", "A"]
    );
    // Groups take the same filters; receivers are those of the kept groups.
    let g = get(&app, "/api/v2/alerts/groups?filter=instance%3Di1").await;
    let v: serde_json::Value = serde_json::from_str(&g.body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(
        v[0]["alerts"][0]["receivers"],
        serde_json::json!([{"name": "pagerduty"}, {"name": "team-x"}])
    );
}

#[tokio::test]
async fn filter_and_receiver_errors() {
    let (app, _) = app();
    // Recorded from Alertmanager 0.25.
    expect(
        &get(&app, "/api/v2/alerts?filter=foo").await,
        400,
        "\"bad matcher format: foo\"\n",
    );
    expect(
        &get(&app, "/api/v2/alerts?filter=%7Bfoo%3D%22bar%22%7D").await,
        400,
        "\"bad matcher format: {foo=\\\"bar\\\"}\"\n",
    );
    expect(
        &get(&app, "/api/v2/alerts?filter=").await,
        400,
        "\"bad matcher format: \"\n",
    );
    expect(
        &get(&app, "/api/v2/alerts/groups?filter=%3D%3D").await,
        400,
        "\"bad matcher format: ==\"\n",
    );
    expect(
        &get(&app, "/api/v2/silences?filter=%7B%7D").await,
        400,
        "\"bad matcher format: {}\"\n",
    );
    expect(
        &get(&app, "/api/v2/silences?filter=a%3D%22b").await,
        400,
        "\"matcher value contains unescaped double quote: \\\"b\"\n",
    );
    // Go's regexp words its errors differently; the prefix is Alertmanager's.
    for uri in [
        "/api/v2/alerts?receiver=%28",
        "/api/v2/alerts/groups?receiver=%28",
    ] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, 400);
        assert!(
            a.body
                .starts_with("\"failed to parse receiver param: error parsing regexp: "),
            "{}",
            a.body
        );
    }
}

#[tokio::test]
async fn post_alerts_defaults_and_validation() {
    let (app, f) = app();
    let now = f.now;
    // What amtool 0.25 `alert add alertname=Added sev=warn --annotation=summary=hi` sends.
    let a = post(
        &app,
        "/api/v2/alerts",
        r#"[{"annotations":{"summary":"hi"},"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z","labels":{"alertname":"Added","sev":"warn","empty":""}},{"labels":{"alertname":"OnlyEnd"},"endsAt":"2026-12-05T01:00:00Z"}]"#,
    )
    .await;
    expect(&a, 200, "");
    assert!(a.headers.get("content-type").is_none());
    {
        let seen = f.seen.lock().unwrap();
        let put = &seen.put[0];
        assert_eq!(
            put[0].labels,
            ls(&[("alertname", "Added"), ("sev", "warn")])
        );
        assert_eq!(put[0].annotations, ls(&[("summary", "hi")]));
        assert_eq!(
            (
                put[0].starts_at,
                put[0].ends_at,
                put[0].updated_at,
                put[0].timeout
            ),
            (now, Some(now + 300_000), now, true)
        );
        let end = t("2026-12-05T01:00:00Z");
        assert_eq!(
            (put[1].starts_at, put[1].ends_at, put[1].timeout),
            (end, Some(end), false)
        );
    }
    // Best effort: the valid alert is stored, the others reported in order.
    let a = post(
        &app,
        "/api/v2/alerts",
        r#"[{"labels":{"alertname":"C"},"startsAt":"2026-12-05T02:00:00Z","endsAt":"2026-12-05T01:00:00Z"},{"labels":{"alertname":"D"}},{"labels":{"0bad":"x"}}]"#,
    )
    .await;
    expect(
        &a,
        400,
        "\"start time must be before end time; invalid label set: invalid name \\\"0bad\\\"\"\n",
    );
    {
        let seen = f.seen.lock().unwrap();
        assert_eq!(seen.put[1].len(), 1);
        assert_eq!(seen.put[1][0].labels, ls(&[("alertname", "D")]));
        assert_eq!(seen.invalid, 2);
    }
    // The rest recorded from Alertmanager 0.25.
    let cases: &[(&str, u16, &str)] = &[
        (
            r#"[{"labels":{}}]"#,
            400,
            "\"at least one label pair required\"\n",
        ),
        (
            r#"[{"labels":{"a":""}}]"#,
            400,
            "\"at least one label pair required\"\n",
        ),
        (
            r#"[{"annotations":{"a":"b"}}]"#,
            422,
            r#"{"code":602,"message":"0.labels in body is required"}"#,
        ),
        (
            r#"[{"labels":null}]"#,
            422,
            r#"{"code":602,"message":"0.labels in body is required"}"#,
        ),
        (
            r#"[{"labels":{"a":"b"},"annotations":{"0x":"y"}}]"#,
            400,
            "\"invalid annotations: invalid name \\\"0x\\\"\"\n",
        ),
        (
            r#"[{"labels":"#,
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because unexpected EOF"}"#,
        ),
        (
            r#"{"labels":{"a":"b"}}"#,
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"}"#,
        ),
        (
            r#"[{"labels":{"a":1}}]"#,
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go struct field Alert.labels of type string"}"#,
        ),
        (
            "[1]",
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go value of type struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }"}"#,
        ),
        (
            r#"[{"labels":{"a":"b"},"generatorURL":"::not a url"}]"#,
            422,
            r#"{"code":601,"message":"0.generatorURL in body must be of type uri: \"::not a url\""}"#,
        ),
        (
            "",
            422,
            r#"{"code":602,"message":"alerts in body is required"}"#,
        ),
        ("[]", 200, ""),
        ("null", 200, ""),
    ];
    for (body, status, want) in cases {
        let a = post(&app, "/api/v2/alerts", body).await;
        assert_eq!((a.status, a.body.as_str()), (*status, *want), "{body}");
    }
    // Recorded from Alertmanager 0.25.
    expect(
        &post(
            &app,
            "/api/v2/alerts",
            r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
        )
        .await,
        400,
        r#"{"code":400,"message":"parsing alerts body from \"\" failed, because parsing time \"yesterday\" as \"2006-01-02 15:04:05\": cannot parse \"yesterday\" as \"2006\""}"#,
    );
    // Go's decoder: field names match without regard to case, what follows the first value
    // is ignored, and strfmt takes ISO 8601 forms besides RFC 3339.
    let before = f.seen.lock().unwrap().put.len();
    let a = post(
        &app,
        "/api/v2/alerts",
        r#"[{"Labels":{"alertname":"Case"},"STARTSAT":"2026-12-05 01:00:00","endsAt":"2026-12-05T03:00"}] trailing"#,
    )
    .await;
    expect(&a, 200, "");
    {
        let seen = f.seen.lock().unwrap();
        let got = &seen.put[before][0];
        assert_eq!(got.labels, ls(&[("alertname", "Case")]));
        assert_eq!(
            (got.starts_at, got.ends_at),
            (t("2026-12-05T01:00:00Z"), Some(t("2026-12-05T03:00:00Z")))
        );
    }
    // Media types.
    let a = send(
        &app,
        "POST",
        "/api/v2/alerts",
        Some("application/x-www-form-urlencoded"),
        "[]",
    )
    .await;
    expect(
        &a,
        415,
        r#"{"code":415,"message":"unsupported media type \"application/x-www-form-urlencoded\", only [application/json] are allowed"}"#,
    );
    let a = send(&app, "POST", "/api/v2/alerts", None, "[]").await;
    expect(
        &a,
        415,
        r#"{"code":415,"message":"unsupported media type \"application/octet-stream\", only [application/json] are allowed"}"#,
    );
    let a = send(
        &app,
        "POST",
        "/api/v2/alerts",
        Some("application/json; charset=utf-8"),
        r#"[{"labels":{"alertname":"CS"}}]"#,
    )
    .await;
    expect(&a, 200, "");
}

#[tokio::test]
async fn post_alerts_body_limit() {
    let (app, f) = app();
    let big = format!(
        r#"[{{"labels":{{"alertname":"big"}},"annotations":{{"x":"{}"}}}}]"#,
        "y".repeat(sightline_alerts::api::MAX_BODY_BYTES)
    );
    let a = post(&app, "/api/v2/alerts", &big).await;
    assert_eq!(a.status, 413);
    assert!(f.seen.lock().unwrap().put.is_empty());
}

#[tokio::test]
async fn v1_post_alerts() {
    let (app, f) = app();
    // Recorded from Alertmanager 0.25 (v1 takes any content type).
    let cases: &[(&str, u16, &str)] = &[
        (
            r#"[{"labels":{"alertname":"V1"},"annotations":{"x":"y"}}]"#,
            200,
            r#"{"status":"success"}"#,
        ),
        (
            r#"[{"labels":{}},{"labels":{"alertname":"V2"},"startsAt":"2026-12-05T02:00:00Z","endsAt":"2026-12-05T01:00:00Z"}]"#,
            400,
            r#"{"status":"error","errorType":"bad_data","error":"at least one label pair required; start time must be before end time"}"#,
        ),
        (
            "[{",
            400,
            r#"{"status":"error","errorType":"bad_data","error":"unexpected EOF"}"#,
        ),
        (
            "{}",
            400,
            r#"{"status":"error","errorType":"bad_data","error":"json: cannot unmarshal object into Go value of type []*types.Alert"}"#,
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
            400,
            r#"{"status":"error","errorType":"bad_data","error":"parsing time \"\\\"yesterday\\\"\" as \"\\\"2006-01-02T15:04:05Z07:00\\\"\": cannot parse \"yesterday\\\"\" as \"2006\""}"#,
        ),
        (
            r#"[{"Labels":{"alertname":"v1case"},"startsAt":"2026-12-05T01:00:00Z"}] junk"#,
            200,
            r#"{"status":"success"}"#,
        ),
    ];
    for (body, status, want) in cases {
        let a = send(&app, "POST", "/api/v1/alerts", None, body).await;
        assert_eq!((a.status, a.body.as_str()), (*status, *want), "{body}");
    }
    let seen = f.seen.lock().unwrap();
    assert_eq!(seen.put[0][0].labels, ls(&[("alertname", "V1")]));
    assert_eq!(seen.put[0][0].starts_at, f.now);
}

const SILENCE_OK: &str = r#"{"comment":"cm","createdBy":"bob","endsAt":"2026-12-05T04:22:34.645Z","matchers":[{"isEqual":true,"isRegex":false,"name":"alertname","value":"Added"}],"startsAt":"2026-12-05T02:22:34.645Z"}"#;

#[tokio::test]
async fn post_silences() {
    let (app, f) = app();
    // amtool 0.25 `silence add alertname=Added -c cm -a bob -d 2h`'s body.
    let a = post(&app, "/api/v2/silences", SILENCE_OK).await;
    expect(
        &a,
        200,
        "{\"silenceID\":\"11111111-2222-3333-4444-555555555555\"}\n",
    );
    {
        let seen = f.seen.lock().unwrap();
        assert_eq!(
            seen.set[0],
            PostableSilence {
                id: None,
                matchers: vec![eq("alertname", "Added")],
                starts_at: t("2026-12-05T02:22:34.645Z"),
                ends_at: t("2026-12-05T04:22:34.645Z"),
                created_by: "bob".into(),
                comment: "cm".into(),
                until_resolved: false,
            }
        );
    }
    // Sightline's extension, and `isEqual` defaulting to true.
    let a = post(
        &app,
        "/api/v2/silences",
        r#"{"comment":"c","createdBy":"me","endsAt":"2026-12-05T04:00:00Z","startsAt":"2026-12-05T02:00:00Z","matchers":[{"name":"a","value":"x","isRegex":true}],"untilResolved":true}"#,
    )
    .await;
    assert_eq!(a.status, 200);
    {
        let seen = f.seen.lock().unwrap();
        assert!(seen.set[1].until_resolved);
        assert!(seen.set[1].matchers[0].is_equal);
    }
    let with = |patch: &str| {
        let mut v: serde_json::Value = serde_json::from_str(SILENCE_OK).unwrap();
        let p: serde_json::Value = serde_json::from_str(patch).unwrap();
        for (k, x) in p.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        v.to_string()
    };
    // Recorded from Alertmanager 0.25.
    let cases: Vec<(String, u16, &str)> = vec![
        (
            with(r#"{"startsAt":"2026-12-05T05:00:00Z"}"#),
            400,
            "\"Failed to create silence: start time must be before end time\"\n",
        ),
        (
            with(r#"{"startsAt":"2026-12-05T04:22:34.645Z"}"#),
            400,
            "\"Failed to create silence: start time must be before end time\"\n",
        ),
        (
            with(r#"{"startsAt":"2020-01-01T00:00:00Z","endsAt":"2026-12-05T01:00:00Z"}"#),
            400,
            "\"Failed to create silence: end time can't be in the past\"\n",
        ),
        (
            with(r#"{"matchers":[]}"#),
            422,
            r#"{"code":612,"message":"matchers in body should have at least 1 items"}"#,
        ),
        (
            with(r#"{"comment":null,"createdBy":null}"#),
            422,
            r#"{"code":602,"message":"comment in body is required"}"#,
        ),
        (
            with(r#"{"createdBy":null}"#),
            422,
            r#"{"code":602,"message":"createdBy in body is required"}"#,
        ),
        (
            with(r#"{"matchers":[{"name":"a","value":"b"}]}"#),
            422,
            r#"{"code":602,"message":"matchers.0.isRegex in body is required"}"#,
        ),
        (
            with(r#"{"startsAt":null}"#),
            422,
            r#"{"code":602,"message":"startsAt in body is required"}"#,
        ),
        (
            with(r#"{"matchers":[{"name":"a","value":"","isRegex":false}]}"#),
            400,
            "\"silence invalid: at least one matcher must not match the empty string\"\n",
        ),
        (
            with(r#"{"matchers":[{"name":"0a","value":"x","isRegex":false}]}"#),
            400,
            "\"silence invalid: invalid label matcher 0: invalid label name \\\"0a\\\"\"\n",
        ),
        (
            with(r#"{"id":"7d8c4cd9-0000-0000-0000-000000000000"}"#),
            404,
            "\"silence not found\"\n",
        ),
        (
            "{".into(),
            400,
            r#"{"code":400,"message":"parsing silence body from \"\" failed, because unexpected EOF"}"#,
        ),
        (
            "[]".into(),
            400,
            r#"{"code":400,"message":"parsing silence body from \"\" failed, because json: cannot unmarshal array into Go value of type struct { ID string \"json:\\\"id,omitempty\\\"\" }"}"#,
        ),
        (
            String::new(),
            422,
            r#"{"code":602,"message":"silence in body is required"}"#,
        ),
    ];
    for (body, status, want) in &cases {
        let a = post(&app, "/api/v2/silences", body).await;
        assert_eq!((a.status, a.body.as_str()), (*status, *want), "{body}");
    }
    // An update of an existing silence keeps its id.
    let a = post(
        &app,
        "/api/v2/silences",
        &with(&format!(r#"{{"id":"{S1}"}}"#)),
    )
    .await;
    expect(&a, 200, &format!("{{\"silenceID\":\"{S1}\"}}\n"));
    let a = send(&app, "POST", "/api/v2/silences", None, SILENCE_OK).await;
    assert_eq!(a.status, 415);
}

#[tokio::test]
async fn silence_by_id_and_expiry() {
    let (app, f) = app();
    // Recorded from Alertmanager 0.25.
    let bad = r#"{"code":601,"message":"silenceID in path must be of type uuid: \"nope\""}"#;
    expect(&get(&app, "/api/v2/silence/nope").await, 422, bad);
    expect(
        &send(&app, "DELETE", "/api/v2/silence/nope", None, "").await,
        422,
        bad,
    );
    let missing = "/api/v2/silence/3729479e-0078-4d58-8cc1-de9a022d39a5";
    let a = get(&app, missing).await;
    expect(&a, 404, "");
    assert!(a.headers.get("content-type").is_none());
    // Unknown ids are a 500 on DELETE, as in Alertmanager.
    expect(
        &send(&app, "DELETE", missing, None, "").await,
        500,
        "\"silence not found\"\n",
    );
    // A UUID without dashes is well-formed, and simply not found.
    expect(
        &get(&app, "/api/v2/silence/3729479e00784d588cc1de9a022d39a4").await,
        404,
        "",
    );
    let a = send(&app, "DELETE", &format!("/api/v2/silence/{S2}"), None, "").await;
    expect(&a, 200, "");
    assert_eq!(f.seen.lock().unwrap().expired, [S2]);
}

#[tokio::test]
async fn silence_filters_compare_matchers_exactly() {
    let (app, _) = app();
    let ids = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&get(&app, "/api/v2/silences?filter=instance%3Di1")
            .await
            .body),
        [S1]
    );
    // The pending silence has `team!~"x|y"`: `=~` is another matcher.
    assert!(
        ids(&get(&app, "/api/v2/silences?filter=team%3D~%22x%7Cy%22")
            .await
            .body)
        .is_empty()
    );
    assert_eq!(
        ids(&get(
            &app,
            "/api/v2/silences?filter=team!~%22x%7Cy%22&filter=alertname!%3DZ"
        )
        .await
        .body),
        [S2]
    );
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (app, _) = app();
    // Recorded from Alertmanager 0.25.
    expect(
        &get(&app, "/api/v2/nothing").await,
        404,
        r#"{"code":404,"message":"path /api/v2/nothing was not found"}"#,
    );
    let a = send(&app, "PUT", "/api/v2/alerts", JSON, "[]").await;
    expect(
        &a,
        405,
        r#"{"code":405,"message":"method PUT is not allowed, but [GET,POST] are"}"#,
    );
    assert_eq!(a.headers["allow"], "GET,POST");
}

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

#[test]
fn silence_matcher_validation_messages() {
    // Recorded from Alertmanager 0.25 (Go's regexp words the cause differently).
    let re = ApiMatcher {
        name: "a".into(),
        value: "(".into(),
        is_regex: true,
        is_equal: true,
    };
    let e = validate_silence_matchers(&[re]).unwrap_err();
    assert!(
        e.starts_with("silence invalid: invalid label matcher 0: invalid regular expression \"(\": error parsing regexp: "),
        "{e}"
    );
    assert_eq!(
        validate_silence_matchers(&[eq("a", ""), eq("b", "x")]).map(|m| m.len()),
        Ok(2)
    );
}

#[test]
fn silence_states_as_calc_silence_state() {
    assert_eq!(ApiSilenceState::at(10, 20, 5), ApiSilenceState::Pending);
    assert_eq!(ApiSilenceState::at(10, 20, 10), ApiSilenceState::Active);
    assert_eq!(ApiSilenceState::at(10, 20, 20), ApiSilenceState::Expired);
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
