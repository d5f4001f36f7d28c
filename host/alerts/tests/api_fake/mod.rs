//! The in-memory backend the API tests run against, and HTTP helpers.

#![allow(dead_code, unreachable_pub)] // Each test binary uses part of it; `pub` is for them.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use sightline_alerts::api::{
    validate_silence_matchers, AlertsApiBackend, ApiAlert, ApiAlertGroup, ApiAlertState,
    ApiAlertStatus, ApiMatcher, ApiSilence, ApiSilenceState, ApiStatus, NotificationQuery,
    NotificationRecord, PostableSilence, SetSilenceError, VersionInfo,
};
use sightline_alerts::{parse_rfc3339, Alert, LabelSet};
use tower::ServiceExt;

pub fn t(s: &str) -> i64 {
    parse_rfc3339(s).unwrap().unwrap()
}

pub fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn golden(name: &str) -> String {
    let p = format!("{}/tests/testdata/api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(p).unwrap()
}

/// What the fake recorded.
#[derive(Default)]
pub struct Seen {
    pub put: Vec<Vec<Alert>>,
    pub invalid: usize,
    pub set: Vec<PostableSilence>,
    pub expired: Vec<String>,
    pub queries: Vec<NotificationQuery>,
    pub acks: Vec<(u64, String, String)>,
}

pub struct Fake {
    pub now: i64,
    pub alerts: Vec<ApiAlert>,
    pub groups: Vec<ApiAlertGroup>,
    pub silences: Vec<ApiSilence>,
    pub notifications: Vec<NotificationRecord>,
    pub status: ApiStatus,
    pub seen: Mutex<Seen>,
}

impl AlertsApiBackend for Fake {
    fn now_ms(&self) -> i64 {
        self.now
    }
    fn resolve_timeout_ms(&self) -> i64 {
        5 * 60 * 1000
    }
    fn alerts(&self) -> Result<Vec<ApiAlert>, String> {
        Ok(self.alerts.clone())
    }
    fn put_alerts(&self, alerts: Vec<Alert>) -> Result<(), String> {
        self.seen.lock().unwrap().put.push(alerts);
        Ok(())
    }
    fn record_invalid_alerts(&self, count: usize) {
        self.seen.lock().unwrap().invalid += count;
    }
    fn groups(&self) -> Vec<ApiAlertGroup> {
        self.groups.clone()
    }
    fn receivers(&self) -> Vec<String> {
        vec!["default".into(), "pagerduty".into(), "team-x".into()]
    }
    fn status(&self) -> ApiStatus {
        self.status.clone()
    }
    fn silences(&self) -> Result<Vec<ApiSilence>, String> {
        Ok(self.silences.clone())
    }
    fn silence(&self, id: &str) -> Result<Option<ApiSilence>, String> {
        Ok(self.silences.iter().find(|s| s.id == id).cloned())
    }
    fn set_silence(&self, s: PostableSilence) -> Result<String, SetSilenceError> {
        let id = s.id.clone();
        self.seen.lock().unwrap().set.push(s.clone());
        match id {
            Some(id) if self.silences.iter().any(|x| x.id == id) => Ok(id),
            Some(_) => Err(SetSilenceError::NotFound("silence not found".into())),
            None => {
                validate_silence_matchers(&s.matchers).map_err(SetSilenceError::Invalid)?;
                Ok("11111111-2222-3333-4444-555555555555".into())
            }
        }
    }
    fn expire_silence(&self, id: &str) -> Result<(), String> {
        if self.silences.iter().any(|s| s.id == id) {
            self.seen.lock().unwrap().expired.push(id.to_string());
            Ok(())
        } else {
            Err("silence not found".into())
        }
    }
    fn notifications(&self, q: &NotificationQuery) -> Result<Vec<NotificationRecord>, String> {
        self.seen.lock().unwrap().queries.push(q.clone());
        Ok(self.notifications.clone())
    }
    fn acknowledge(&self, fp: u64, by: &str, comment: &str) -> Result<Option<String>, String> {
        self.seen
            .lock()
            .unwrap()
            .acks
            .push((fp, by.to_string(), comment.to_string()));
        Ok(self
            .alerts
            .iter()
            .any(|a| a.alert.fingerprint() == fp)
            .then(|| "99999999-0000-0000-0000-000000000000".to_string()))
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

pub async fn send(app: &Router, method: &str, uri: &str, ct: Option<&str>, body: &str) -> Answer {
    let headers: Vec<(&str, &str)> = ct.map(|ct| ("content-type", ct)).into_iter().collect();
    send_with(app, method, uri, &headers, body).await
}

/// Sends a request with these headers.
pub async fn send_with(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut r = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(r.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn get(app: &Router, uri: &str) -> Answer {
    send(app, "GET", uri, None, "").await
}

pub const JSON: Option<&str> = Some("application/json");

pub async fn post(app: &Router, uri: &str, body: &str) -> Answer {
    send(app, "POST", uri, JSON, body).await
}

/// Asserts an answer: status and exact body.
pub fn expect(a: &Answer, status: u16, body: &str) {
    assert_eq!((a.status, a.body.as_str()), (status, body));
}

/// A string field of recorded JSON.
fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

fn labels(v: &Value) -> LabelSet {
    v.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), s(v))).collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(s).collect()
}

impl Fake {
    /// A backend holding what Alertmanager answered: `alerts.json` and `silences.json` of
    /// `GET /api/v2/alerts` and `/silences`, `status.json` of `/status`, under `dir`.
    pub fn from_recorded(dir: &str, now: i64) -> Arc<Fake> {
        let read =
            |f: &str| -> Value { serde_json::from_str(&golden(&format!("{dir}/{f}"))).unwrap() };
        let alerts = read("alerts.json")
            .as_array()
            .unwrap()
            .iter()
            .map(|a| ApiAlert {
                alert: Alert {
                    labels: labels(&a["labels"]),
                    annotations: labels(&a["annotations"]),
                    starts_at: t(a["startsAt"].as_str().unwrap()),
                    ends_at: Some(t(a["endsAt"].as_str().unwrap())),
                    generator_url: a["generatorURL"].as_str().unwrap_or("").to_string(),
                    updated_at: t(a["updatedAt"].as_str().unwrap()),
                    timeout: false,
                },
                status: ApiAlertStatus {
                    state: match a["status"]["state"].as_str().unwrap() {
                        "active" => ApiAlertState::Active,
                        "suppressed" => ApiAlertState::Suppressed,
                        _ => ApiAlertState::Unprocessed,
                    },
                    silenced_by: strings(&a["status"]["silencedBy"]),
                    inhibited_by: strings(&a["status"]["inhibitedBy"]),
                },
                receivers: a["receivers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| s(&r["name"]))
                    .collect(),
            })
            .collect();
        let silences = read("silences.json")
            .as_array()
            .unwrap()
            .iter()
            .map(|x| ApiSilence {
                id: s(&x["id"]),
                matchers: x["matchers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| ApiMatcher {
                        name: s(&m["name"]),
                        value: s(&m["value"]),
                        is_regex: m["isRegex"].as_bool().unwrap(),
                        is_equal: m["isEqual"].as_bool().unwrap(),
                    })
                    .collect(),
                starts_at: t(x["startsAt"].as_str().unwrap()),
                ends_at: t(x["endsAt"].as_str().unwrap()),
                updated_at: t(x["updatedAt"].as_str().unwrap()),
                created_by: s(&x["createdBy"]),
                comment: s(&x["comment"]),
                until_resolved: false,
                state: match x["status"]["state"].as_str().unwrap() {
                    "active" => ApiSilenceState::Active,
                    "pending" => ApiSilenceState::Pending,
                    _ => ApiSilenceState::Expired,
                },
            })
            .collect();
        Arc::new(Fake {
            now,
            alerts,
            groups: Vec::new(),
            silences,
            notifications: Vec::new(),
            status: recorded_status(&read("status.json")),
            seen: Mutex::default(),
        })
    }
}

/// The status Alertmanager printed.
pub fn recorded_status(v: &Value) -> ApiStatus {
    let info = |k: &str| s(&v["versionInfo"][k]);
    ApiStatus {
        config_original: s(&v["config"]["original"]),
        uptime_ms: t(v["uptime"].as_str().unwrap()),
        version: VersionInfo {
            version: info("version"),
            revision: info("revision"),
            branch: info("branch"),
            build_user: info("buildUser"),
            build_date: info("buildDate"),
            go_version: info("goVersion"),
        },
    }
}
