//! The API v2's answers to bad and edge-case requests, side by side (issue 16: "API v2 with
//! Alertmanager's JSON and status codes"): status code, content type and body of each, as
//! Alertmanager 0.25 gives them (recorded in tests/alertmanager/api-errors.expected.json).

use serde_json::{json, Value};

use super::SIMPLE;
use crate::am_support::*;
use crate::support::*;

/// (method, path, body) of each request, in order; run on a fresh target.
const REQUESTS: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/v2/silence/00000000-0000-0000-0000-000000000000",
        "",
    ),
    (
        "DELETE",
        "/api/v2/silence/00000000-0000-0000-0000-000000000000",
        "",
    ),
    ("GET", "/api/v2/silence/not-a-uuid", ""),
    ("POST", "/api/v2/silences", "{}"),
    ("POST", "/api/v2/silences", "not json"),
    (
        "POST",
        "/api/v2/silences",
        r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"t","comment":"c"}"#,
    ),
    (
        "POST",
        "/api/v2/silences",
        r#"{"matchers":[],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z","createdBy":"t","comment":"c"}"#,
    ),
    (
        "POST",
        "/api/v2/silences",
        r#"{"matchers":[{"name":"a","value":"(","isRegex":true}],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z","createdBy":"t","comment":"c"}"#,
    ),
    (
        "POST",
        "/api/v2/silences",
        r#"{"id":"00000000-0000-0000-0000-000000000000","matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z","createdBy":"t","comment":"c"}"#,
    ),
    ("POST", "/api/v2/alerts", "[]"),
    ("POST", "/api/v2/alerts", "not json"),
    ("POST", "/api/v2/alerts", r#"[{"labels":{}}]"#),
    (
        "POST",
        "/api/v2/alerts",
        r#"[{"labels":{"a":"b"},"startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-01T00:00:00Z"}]"#,
    ),
    ("GET", "/api/v2/alerts?filter=foo", ""),
    ("GET", "/api/v2/alerts?receiver=%5B", ""),
    ("GET", "/api/v2/alerts?active=maybe", ""),
    ("GET", "/api/v2/alerts/groups?filter=foo", ""),
    ("GET", "/api/v2/silences?filter=foo", ""),
    ("GET", "/api/v2/receivers", ""),
    ("GET", "/api/v2/nope", ""),
    // Alertmanager 0.25 still accepts v1 (deprecated; Prometheus may post there).
    (
        "POST",
        "/api/v1/alerts",
        r#"[{"labels":{"alertname":"ViaV1"}}]"#,
    ),
];

/// Each request's answer: status, content type (without parameters) and body (JSON when it
/// parses, with times dropped; text trimmed otherwise).
fn answers(am: &Am) -> Vec<Value> {
    REQUESTS
        .iter()
        .map(|(method, path, body)| {
            let request = format!("{method} {path} {body}").trim_end().to_string();
            let headers: &[(&str, &str)] = if body.is_empty() {
                &[]
            } else {
                &[("Content-Type", "application/json")]
            };
            let (code, head, text) =
                http_exchange(&am.addr, method, path, headers, body.as_bytes()).unwrap();
            let ct = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-type").then(|| v.trim())
                })
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .to_string();
            let body = serde_json::from_str::<Value>(&text)
                .map(|v| normalise_json(&v))
                .unwrap_or_else(|_| json!(text.trim()));
            json!({"request": request, "status": code, "contentType": ct, "body": body})
        })
        .collect()
}

#[test]
fn api_answers_as_alertmanager() {
    let mut runs = Vec::new();
    for target in Target::enabled("api_answers_as_alertmanager") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::new(&["hook", "pager"]);
        let am = Am::start(target, &sinks.render(SIMPLE), work.path());
        runs.push((target, answers(&am)));
    }
    let real = &runs[0].1;
    assert_recorded("api-errors.expected.json", &Value::Array(real.clone()));
    for (who, ours) in &runs[1..] {
        for (want, have) in real.iter().zip(ours) {
            assert_eq!(
                have, want,
                "{who:?} (left) answers differently from Alertmanager 0.25 (right)"
            );
        }
    }
}
