//! Sightline's extensions of API v2, at paths Alertmanager does not use:
//! `GET /api/v2/notifications` (the notification history) and
//! `POST /api/v2/alerts/{fingerprint}/ack` (acknowledge a firing alert). Errors take
//! Alertmanager's handler shape: a JSON string.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::backend::{NotificationQuery, NotificationRecord};
use super::filters::Query;
use super::{call, check_json, json_ok, models, read_body, text_error, Backend, SilenceIdJson};
use crate::alert::{fingerprint_hex, parse_rfc3339, rfc3339_millis};
use crate::matchers::{go_quote, parse_filter_matchers, LabelSet};

/// How many history entries a query returns when it sets no `limit`.
pub const DEFAULT_NOTIFICATION_LIMIT: usize = 100;

/// A time parameter: RFC 3339, or Unix seconds (as Prometheus' API takes both).
fn time_param(name: &str, v: &str) -> Result<i64, String> {
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() {
            return Ok((secs * 1000.0).round() as i64);
        }
    }
    match parse_rfc3339(v) {
        Ok(Some(ms)) => Ok(ms),
        _ => Err(format!("invalid {name} parameter {}", go_quote(v))),
    }
}

/// Parses the history query: `receiver`, `groupKey`, `filter` (repeated, on the alerts'
/// labels), `since`, `until`, `failed`, `limit`.
fn notification_query(q: &Query) -> Result<NotificationQuery, String> {
    let matchers = parse_filter_matchers(&q.all("filter")).map_err(|e| e.message())?;
    let limit = match q.last("limit") {
        None => DEFAULT_NOTIFICATION_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| format!("invalid limit parameter {}", go_quote(l)))?,
    };
    Ok(NotificationQuery {
        receiver: q.last("receiver").map(str::to_string),
        group_key: q.last("groupKey").map(str::to_string),
        matchers,
        since_ms: q
            .last("since")
            .map(|v| time_param("since", v))
            .transpose()?,
        until_ms: q
            .last("until")
            .map(|v| time_param("until", v))
            .transpose()?,
        failed_only: q.bool("failed", false),
        limit,
    })
}

#[derive(Serialize)]
struct NotifiedAlertJson<'a> {
    fingerprint: String,
    status: &'a str,
    labels: &'a LabelSet,
}

/// One history entry: fields in name order, as the rest of API v2 prints them.
#[derive(Serialize)]
struct NotificationJson<'a> {
    alerts: Vec<NotifiedAlertJson<'a>>,
    attempts: u32,
    #[serde(rename = "durationMs")]
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "groupLabels")]
    group_labels: &'a LabelSet,
    index: usize,
    integration: &'a str,
    receiver: &'a str,
    /// `success` or `failed`.
    status: &'static str,
    time: String,
}

impl<'a> NotificationJson<'a> {
    fn new(r: &'a NotificationRecord) -> NotificationJson<'a> {
        NotificationJson {
            alerts: r
                .alerts
                .iter()
                .map(|a| NotifiedAlertJson {
                    fingerprint: fingerprint_hex(a.fingerprint),
                    status: &a.status,
                    labels: &a.labels,
                })
                .collect(),
            attempts: r.attempts,
            duration_ms: r.duration_ms,
            error: r.error.as_deref(),
            group_key: &r.group_key,
            group_labels: &r.group_labels,
            index: r.index,
            integration: &r.integration,
            receiver: &r.receiver,
            status: if r.error.is_some() {
                "failed"
            } else {
                "success"
            },
            time: rfc3339_millis(r.at_ms),
        }
    }
}

pub(super) async fn get_notifications(State(b): State<Backend>, RawQuery(q): RawQuery) -> Response {
    let query = match notification_query(&Query::parse(q.as_deref())) {
        Ok(q) => q,
        Err(e) => return text_error(400, &e),
    };
    match call(&b, move |b| b.notifications(&query)).await {
        Ok(Ok(records)) => {
            let out: Vec<NotificationJson<'_>> =
                records.iter().map(NotificationJson::new).collect();
            json_ok(&out)
        }
        Ok(Err(e)) => text_error(500, &e),
        Err(r) => r,
    }
}

/// Who acknowledges and why, when the request names nobody.
const DEFAULT_ACK_BY: &str = "sightline";
const DEFAULT_ACK_COMMENT: &str = "acknowledged";

pub(super) async fn post_ack(
    State(b): State<Backend>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let fingerprint = match u64::from_str_radix(&fp, 16) {
        Ok(f) if !fp.is_empty() && fp.len() <= 16 => f,
        _ => return text_error(400, &format!("invalid fingerprint {}", go_quote(&fp))),
    };
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    // The body is optional: `{"createdBy": "...", "comment": "..."}`.
    let (mut by, mut comment) = (DEFAULT_ACK_BY.to_string(), DEFAULT_ACK_COMMENT.to_string());
    match models::decode_body(&body) {
        Ok(None) | Ok(Some(serde_json::Value::Null)) => {}
        Ok(Some(serde_json::Value::Object(o))) => {
            if let Some(r) = check_json(&headers) {
                return r;
            }
            for (key, slot) in [("createdBy", &mut by), ("comment", &mut comment)] {
                match o.get(key) {
                    None | Some(serde_json::Value::Null) => {}
                    Some(serde_json::Value::String(s)) if !s.is_empty() => *slot = s.clone(),
                    Some(serde_json::Value::String(_)) => {}
                    Some(_) => return text_error(400, &format!("{key} must be a string")),
                }
            }
        }
        Ok(Some(_)) => return text_error(400, "the body must be a JSON object"),
        Err(e) => return text_error(400, &format!("parsing ack body failed, because {e}")),
    }
    match call(&b, move |b| b.acknowledge(fingerprint, &by, &comment)).await {
        Ok(Ok(Some(id))) => json_ok(&SilenceIdJson { silence_id: id }),
        Ok(Ok(None)) => text_error(404, "alert not found"),
        Ok(Err(e)) => text_error(500, &e),
        Err(r) => r,
    }
}
