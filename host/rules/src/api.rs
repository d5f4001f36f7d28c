//! `/api/v1/rules` and `/api/v1/alerts` in Prometheus' JSON shapes, served from the groups'
//! status snapshots (never blocking on an evaluation in progress); `/api/v1/slos` is
//! `slo::api`'s.
//!
//! Filters of `/api/v1/rules`, as current Prometheus: `type=alert|record`, `rule_name[]`,
//! `rule_group[]`, `file[]`, `exclude_alerts=true`. With a name, group or file filter, groups
//! left without rules are omitted.

use std::collections::HashSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use sightline_model::Labels;

use crate::file::RuleKind;
use crate::manager::{GroupStatus, Manager, RuleStatus};
use crate::rule::{Alert, AlertState};

/// The routes, relative to `/api/v1`. `admin_enabled` (`--web.enable-admin-api`) gates
/// `POST /admin/rules/backfill`.
pub fn router(manager: Manager, admin_enabled: bool) -> Router {
    Router::new()
        .route("/rules", get(rules).post(rules))
        // GET only, as Prometheus: with the built-in alert manager, `POST /api/v1/alerts` is
        // Alertmanager's API v1.
        .route("/alerts", get(alerts))
        .route(
            "/admin/rules/backfill",
            axum::routing::post(backfill).put(backfill),
        )
        .route("/slos", get(crate::slo::api::list))
        .route("/slos/{name}", get(crate::slo::api::one))
        .with_state(AppState {
            manager,
            admin_enabled,
        })
}

#[derive(Clone)]
struct AppState {
    manager: Manager,
    admin_enabled: bool,
}

impl axum::extract::FromRef<AppState> for Manager {
    fn from_ref(s: &AppState) -> Manager {
        s.manager.clone()
    }
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        axum::Json(json!({"status": "error", "errorType": kind, "error": message})),
    )
        .into_response()
}

/// Unix seconds (fractions allowed) or RFC 3339, as the query API takes times.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            return Ok((f * 1000.0).round() as i64);
        }
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

/// `POST /api/v1/admin/rules/backfill?start=&end=&rule_group[]=&rule_name[]=`: evaluates
/// recording rules over the range on their own grid and writes the results (each rule up to
/// its first live evaluation). `end` defaults to now.
async fn backfill(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if !st.admin_enabled {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "admin APIs disabled".to_string(),
        );
    }
    let mut ps = params(q.as_deref());
    ps.extend(params(std::str::from_utf8(&body).ok()));
    let one = |k: &str| ps.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let all = |k: &str| -> Vec<String> {
        ps.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let Some(start) = one("start") else {
        return bad_data("invalid parameter \"start\": missing".to_string());
    };
    let start = match parse_time(&start) {
        Ok(t) => t,
        Err(e) => return bad_data(format!("invalid parameter \"start\": {e}")),
    };
    let end = match one("end").map(|e| parse_time(&e)) {
        None => sightline_model::now_ms(),
        Some(Ok(t)) => t,
        Some(Err(e)) => return bad_data(format!("invalid parameter \"end\": {e}")),
    };
    let req = crate::backfill::BackfillRequest {
        groups: all("rule_group[]"),
        rules: all("rule_name[]"),
        start,
        end,
    };
    match st.manager.backfill(&req).await {
        Err(e) => bad_data(e.to_string()),
        Ok(reports) => {
            let rules: Vec<Value> = reports
                .iter()
                .map(|r| {
                    json!({
                        "group": r.group,
                        "rule": r.rule,
                        "start": r.range.map(|x| go_time(Some(x.0))),
                        "end": r.range.map(|x| go_time(Some(x.1))),
                        "series": r.series,
                        "samples": r.samples,
                        "error": r.error,
                    })
                })
                .collect();
            success(json!({ "rules": rules }))
        }
    }
}

pub(crate) fn success(data: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "success", "data": data})),
    )
        .into_response()
}

pub(crate) fn bad_data(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"status": "error", "errorType": "bad_data", "error": message})),
    )
        .into_response()
}

/// Query parameters as `(name, value)` pairs, percent-decoded.
pub(crate) fn params(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

async fn rules(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let m = &st.manager;
    let ps = params(q.as_deref());
    let get_all = |name: &str| -> HashSet<String> {
        ps.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let typ = ps
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if !typ.is_empty() && typ != "alert" && typ != "record" {
        return bad_data(format!(
            "invalid parameter \"type\": not supported value {typ:?}"
        ));
    }
    let exclude_alerts = match ps.iter().find(|(k, _)| k == "exclude_alerts") {
        None => false,
        Some((_, v)) => match v.as_str() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            other => {
                return bad_data(format!(
                    "invalid parameter \"exclude_alerts\": strconv.ParseBool: parsing {other:?}: invalid syntax"
                ))
            }
        },
    };
    let (names, groups, files) = (
        get_all("rule_name[]"),
        get_all("rule_group[]"),
        get_all("file[]"),
    );
    let filtering = !names.is_empty() || !groups.is_empty() || !files.is_empty();
    let want_alerting = typ.is_empty() || typ == "alert";
    let want_recording = typ.is_empty() || typ == "record";
    let mut out = Vec::new();
    for g in m.groups() {
        if (!groups.is_empty() && !groups.contains(&g.name))
            || (!files.is_empty() && !files.contains(&g.file))
        {
            continue;
        }
        let rules: Vec<Value> = g
            .rules
            .iter()
            .filter(|r| names.is_empty() || names.contains(&r.spec.name))
            .filter(|r| match r.spec.kind {
                RuleKind::Alerting => want_alerting,
                RuleKind::Recording => want_recording,
            })
            .map(|r| rule_json(r, exclude_alerts))
            .collect();
        if filtering && rules.is_empty() {
            continue;
        }
        out.push(group_json(&g, rules));
    }
    success(json!({ "groups": out }))
}

async fn alerts(State(st): State<AppState>) -> Response {
    let alerts: Vec<Value> = st
        .manager
        .groups()
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter(|r| r.spec.kind == RuleKind::Alerting)
        .flat_map(|r| r.alerts.iter().map(alert_json))
        .collect();
    success(json!({ "alerts": alerts }))
}

fn group_json(g: &GroupStatus, rules: Vec<Value>) -> Value {
    json!({
        "name": g.name,
        "file": g.file,
        "rules": rules,
        "interval": g.interval.as_secs_f64(),
        "limit": g.limit,
        "evaluationTime": g.evaluation_time.as_secs_f64(),
        "lastEvaluation": go_time(g.last_evaluation),
    })
}

fn rule_json(r: &RuleStatus, exclude_alerts: bool) -> Value {
    let query = sightline_promql::parse(&r.spec.expr)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| r.spec.expr.clone());
    let labels = labels_json(&Labels::from_pairs(r.spec.labels.clone()));
    let mut o = Map::new();
    match r.spec.kind {
        RuleKind::Alerting => {
            let state = r
                .alerts
                .iter()
                .map(|a| a.state)
                .max()
                .unwrap_or(AlertState::Inactive);
            o.insert("state".into(), json!(state.as_str()));
            o.insert("name".into(), json!(r.spec.name));
            o.insert("query".into(), json!(query));
            o.insert("duration".into(), json!(r.spec.for_.as_secs_f64()));
            o.insert(
                "keepFiringFor".into(),
                json!(r.spec.keep_firing_for.as_secs_f64()),
            );
            o.insert("labels".into(), labels);
            o.insert(
                "annotations".into(),
                labels_json(&Labels::from_pairs(r.spec.annotations.clone())),
            );
            if !exclude_alerts {
                o.insert(
                    "alerts".into(),
                    Value::Array(r.alerts.iter().map(alert_json).collect()),
                );
            }
        }
        RuleKind::Recording => {
            o.insert("name".into(), json!(r.spec.name));
            o.insert("query".into(), json!(query));
            if !r.spec.labels.is_empty() {
                o.insert("labels".into(), labels);
            }
        }
    }
    o.insert("health".into(), json!(r.info.health.as_str()));
    if let Some(e) = &r.info.last_error {
        o.insert("lastError".into(), json!(e));
    }
    o.insert(
        "evaluationTime".into(),
        json!(r.info.evaluation_time.as_secs_f64()),
    );
    o.insert(
        "lastEvaluation".into(),
        json!(go_time(r.info.last_evaluation)),
    );
    o.insert("type".into(), json!(r.spec.kind.as_str()));
    Value::Object(o)
}

/// One alert, as Prometheus' API shows it.
pub fn alert_json(a: &Alert) -> Value {
    let mut o = Map::new();
    o.insert("labels".into(), labels_json(&a.labels));
    o.insert("annotations".into(), labels_json(&a.annotations));
    o.insert("state".into(), json!(a.state.as_str()));
    o.insert("activeAt".into(), json!(go_time(Some(a.active_at))));
    if let Some(k) = a.keep_firing_since {
        o.insert("keepFiringSince".into(), json!(go_time(Some(k))));
    }
    o.insert("value".into(), json!(go_float_lower_e(a.value)));
    Value::Object(o)
}

/// A label set as a JSON object, as Prometheus' and Alertmanager's APIs write one.
pub(crate) fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|l| (l.name.to_string(), Value::String(l.value.to_string())))
            .collect(),
    )
}

/// Go's `time.Time` JSON form in UTC (RFC 3339 with as many fractional digits as needed);
/// `None` is Go's zero time.
pub fn go_time(t_ms: Option<i64>) -> String {
    let Some(ms) = t_ms else {
        return "0001-01-01T00:00:00Z".to_string();
    };
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e+00`, `2.5e-01`.
pub fn go_float_lower_e(v: f64) -> String {
    crate::unittest::go_float_e(v).replace('E', "e")
}
