//! `/api/v1/slos` and `/api/v1/slos/{name}`: the SLOs the manager runs, with their current
//! error budget and burn rates.
//!
//! SLOs are rule groups like any other, so the manager keeps no SLO state: an SLO is found by
//! its `sloth-slo-meta-recordings-<id>` group (its `sloth_slo_info` rule's labels give the
//! service, name and objective; `slo:time_period:days` gives the period), its alerts by the
//! `sloth-slo-alerts-<id>` group of the same file, and its numbers are read from the recorded
//! series through the manager's query function at the time of the request. This also shows
//! SLOs of hand-written (or Sloth-generated) rule files with Sloth's names.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::{window_string, SLI_WINDOWS};
use crate::api::{bad_data, params, success};
use crate::file::RuleKind;
use crate::manager::{GroupStatus, Manager};
use crate::rule::{AlertState, QueryFn};

const META_PREFIX: &str = "sloth-slo-meta-recordings-";
const ALERTS_PREFIX: &str = "sloth-slo-alerts-";

/// What the rule groups say about one SLO.
struct Found {
    id: String,
    service: String,
    name: String,
    file: String,
    objective_percent: f64,
    period_days: f64,
    groups: Vec<String>,
    alerts: Vec<Value>,
}

fn find(groups: &[std::sync::Arc<GroupStatus>]) -> Vec<Found> {
    let mut out = Vec::new();
    for g in groups {
        let Some(id) = g.name.strip_prefix(META_PREFIX) else {
            continue;
        };
        let Some(info) = g.rules.iter().find(|r| r.spec.name == "sloth_slo_info") else {
            continue;
        };
        let label = |k: &str| info.spec.labels.get(k).cloned().unwrap_or_default();
        let period_days = g
            .rules
            .iter()
            .find(|r| r.spec.name == "slo:time_period:days")
            .and_then(|r| {
                r.spec
                    .expr
                    .trim()
                    .strip_prefix("vector(")?
                    .strip_suffix(')')?
                    .parse()
                    .ok()
            })
            .unwrap_or(30.0);
        let related: Vec<&std::sync::Arc<GroupStatus>> = groups
            .iter()
            .filter(|o| o.file == g.file && o.name.ends_with(&format!("-{id}")))
            .filter(|o| o.name.starts_with("sloth-slo-"))
            .collect();
        let alerts = related
            .iter()
            .filter(|o| o.name.starts_with(ALERTS_PREFIX))
            .flat_map(|o| o.rules.iter())
            .filter(|r| r.spec.kind == RuleKind::Alerting)
            .map(|r| {
                let state = r
                    .alerts
                    .iter()
                    .map(|a| a.state)
                    .max()
                    .unwrap_or(AlertState::Inactive);
                json!({
                    "name": r.spec.name,
                    "severity": r.spec.labels.get("sloth_severity"),
                    "state": state.as_str(),
                    "health": r.info.health.as_str(),
                    "labels": r.spec.labels,
                })
            })
            .collect();
        out.push(Found {
            id: id.to_string(),
            service: label("sloth_service"),
            name: label("sloth_slo"),
            file: g.file.clone(),
            objective_percent: label("sloth_objective").parse().unwrap_or(f64::NAN),
            period_days,
            groups: related.iter().map(|o| o.name.clone()).collect(),
            alerts,
        });
    }
    out
}

/// A JSON number, or `null` for NaN, infinities and absent values.
fn number(v: Option<f64>) -> Value {
    match v {
        Some(v) if v.is_finite() => json!(v),
        _ => Value::Null,
    }
}

/// The value of the first series `expr` returns at `t`.
fn first(q: &QueryFn, expr: &str, t: i64) -> Option<f64> {
    q(expr, t).ok()?.first().map(|s| s.v)
}

fn slo_json(f: &Found, q: &QueryFn, t: i64) -> Value {
    let sel = format!("{{sloth_id={:?}}}", f.id);
    let budget = (100.0 - f.objective_percent) / 100.0;
    let period = window_string(std::time::Duration::from_secs_f64(
        (f.period_days * 86_400.0).max(1.0),
    ));
    let mut ratios = Map::new();
    let mut burns = Map::new();
    for w in SLI_WINDOWS
        .iter()
        .map(|w| window_string(*w))
        .chain(std::iter::once(period.clone()))
    {
        let r = first(q, &format!("slo:sli_error:ratio_rate{w}{sel}"), t);
        burns.insert(w.clone(), number(r.map(|r| r / budget)));
        ratios.insert(w, number(r));
    }
    json!({
        "id": f.id,
        "service": f.service,
        "name": f.name,
        "file": f.file,
        "objective": number(Some(f.objective_percent / 100.0)),
        "period": period,
        "errorBudget": number(Some(budget)),
        "errorBudgetRemaining": number(first(q, &format!("slo:period_error_budget_remaining:ratio{sel}"), t)),
        "periodBurnRate": number(first(q, &format!("slo:period_burn_rate:ratio{sel}"), t)),
        "currentBurnRate": number(first(q, &format!("slo:current_burn_rate:ratio{sel}"), t)),
        "errorRatios": ratios,
        "burnRates": burns,
        "alerts": f.alerts,
        "groups": f.groups,
    })
}

/// Builds the JSON of the SLOs `keep` selects, querying on a blocking thread (PromQL is
/// synchronous).
async fn build(m: Manager, keep: impl Fn(&Found) -> bool + Send + 'static) -> Vec<Value> {
    let groups = m.groups();
    let q = m.query_fn();
    let t = sightline_model::now_ms();
    tokio::task::spawn_blocking(move || {
        find(&groups)
            .iter()
            .filter(|f| keep(f))
            .map(|f| slo_json(f, &q, t))
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// `GET /api/v1/slos[?name=…][&service=…]`: `name` matches an SLO's name or id.
pub async fn list(State(m): State<Manager>, RawQuery(q): RawQuery) -> Response {
    let ps = params(q.as_deref());
    let get = |k: &str| -> Vec<String> {
        ps.iter()
            .filter(|(n, _)| n == k || *n == format!("{k}[]"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (names, services) = (get("name"), get("service"));
    if ps.iter().any(|(k, _)| k.is_empty()) {
        return bad_data("invalid parameter: empty name".to_string());
    }
    let slos = build(m, move |f| {
        (names.is_empty() || names.contains(&f.name) || names.contains(&f.id))
            && (services.is_empty() || services.contains(&f.service))
    })
    .await;
    success(json!({ "slos": slos }))
}

/// `GET /api/v1/slos/{name}`: one SLO by name or id (404 when there is none; the first of
/// several SLOs of that name in different services).
pub async fn one(State(m): State<Manager>, Path(name): Path<String>) -> Response {
    let wanted = name.clone();
    let slos = build(m, move |f| f.name == wanted || f.id == wanted).await;
    match slos.into_iter().next() {
        Some(s) => success(s),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"status": "error", "errorType": "not_found", "error": format!("no SLO named {name:?}")})),
        )
            .into_response(),
    }
}
