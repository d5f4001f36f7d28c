//! API v2 against an in-memory backend: every endpoint, its status codes and error bodies,
//! the filters, and the JSON compared byte for byte with what Alertmanager 0.25 answered for
//! the same state (tests/testdata/api/, see its README). Error bodies quoted below were
//! recorded from the same Alertmanager (Debian's 0.25.0) with curl.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

mod api_fake;

use api_fake::{app, eq, expect, get, golden, ls, post, send, t, JSON, S1, S2};
use sightline_alerts::api::{
    validate_silence_matchers, ApiMatcher, ApiSilenceState, PostableSilence,
};

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
        // Counted before validation: OnlyEnd and C ended before now (resolved), Added, D
        // and the invalid one fire.
        assert_eq!(seen.received, (3, 2));
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
