//! The in-memory backend the API tests run against, and HTTP helpers.

#![allow(dead_code, unreachable_pub)] // Each test binary uses part of it; `pub` is for them.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use sightline_alerts::api::{
    router, validate_silence_matchers, AlertsApiBackend, ApiAlert, ApiAlertGroup, ApiAlertState,
    ApiAlertStatus, ApiMatcher, ApiSilence, ApiSilenceState, ApiStatus, NotificationQuery,
    NotificationRecord, NotifiedAlert, PostableSilence, SetSilenceError, VersionInfo,
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

/// Whole days to move a recording made at `recorded_now` forward so that, on the real clock,
/// it is at most a day old: a client that compares dates with its own clock (amtool drops
/// silences whose end has passed) then sees what it saw when the recording was made.
pub fn days_since(recorded_now: i64) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    ((real - recorded_now).max(0) + DAY_MS - 1) / DAY_MS
}

/// `text` with every date written `YYYY-MM-DD` and followed by a time (`T12:00:00` or
/// ` 12:00:00`, as RFC 3339 and amtool's tables write them) moved `days` later; the times of
/// day stay, so column widths and everything else are unchanged.
pub fn shift_dates(text: &str, days: i64) -> String {
    if days == 0 {
        return text.to_string();
    }
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let is_date = digits(i..i + 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5..i + 7)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8..i + 10)
            && matches!(b.get(i + 10), Some(b'T' | b' '))
            && digits(i + 11..i + 13)
            && b.get(i + 13) == Some(&b':')
            && (i == 0 || !b[i - 1].is_ascii_digit());
        if is_date {
            if let Ok(d) = chrono::NaiveDate::parse_from_str(&text[i..i + 10], "%Y-%m-%d") {
                out.push_str(
                    &(d + chrono::Days::new(days as u64))
                        .format("%Y-%m-%d")
                        .to_string(),
                );
                i += 10;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
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
    pub received: (usize, usize),
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
    fn record_received_alerts(&self, firing: usize, resolved: usize) {
        let mut seen = self.seen.lock().unwrap();
        seen.received.0 += firing;
        seen.received.1 += resolved;
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
        Self::from_recorded_shifted(dir, now, 0)
    }

    /// [`Fake::from_recorded`] with every date in the recording moved `days` later
    /// ([`shift_dates`]), for clients that compare the data with their own clock.
    pub fn from_recorded_shifted(dir: &str, now: i64, days: i64) -> Arc<Fake> {
        let read = |f: &str| -> Value {
            serde_json::from_str(&shift_dates(&golden(&format!("{dir}/{f}")), days)).unwrap()
        };
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

pub const S1: &str = "46f8991c-2987-4a4a-955f-ba4bab4d7c3a";
pub const S2: &str = "cea1b5fc-f829-4444-a50f-0bf8cf912eb3";
pub const S3: &str = "6ffe268f-80c5-4d83-845c-b73dc7474a67";

pub fn alert(labels: LabelSet, starts: &str, ends: &str) -> Alert {
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

pub fn api_alert(a: Alert, status: ApiAlertStatus, receivers: &[&str]) -> ApiAlert {
    ApiAlert {
        alert: a,
        status,
        receivers: receivers.iter().map(|r| r.to_string()).collect(),
    }
}

pub fn active() -> ApiAlertStatus {
    ApiAlertStatus {
        state: ApiAlertState::Active,
        ..Default::default()
    }
}

pub fn eq(name: &str, value: &str) -> ApiMatcher {
    ApiMatcher {
        name: name.into(),
        value: value.into(),
        is_regex: false,
        is_equal: true,
    }
}

/// The state Alertmanager 0.25 had when tests/testdata/api/*.json were recorded (see the
/// README there), given to the API in a scrambled order.
pub fn fake() -> Arc<Fake> {
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

pub fn app() -> (Router, Arc<Fake>) {
    let f = fake();
    (router(f.clone()), f)
}
