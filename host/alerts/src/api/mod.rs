//! Alertmanager 0.25's HTTP API v2 (and v1's `POST /api/v1/alerts`, which Prometheus servers
//! configured with `api_version: v1` still use) as an axum router over an
//! [`AlertsApiBackend`].
//!
//! Status codes and bodies are Alertmanager's: handler errors are a JSON string (`"bad
//! matcher format: foo"`) followed by a newline, go-swagger's own errors (schema, media type,
//! unknown path) are `{"code":602,"message":"..."}`. Sightline's extensions live under
//! `/api/v2/` at paths Alertmanager does not use: `GET /api/v2/notifications` (notification
//! history), `POST /api/v2/alerts/{fingerprint}/ack`, and `GET /api/v2/routes` and
//! `GET /api/v2/routes/test` (the routing tree, and the routes a label set takes).

mod backend;
mod cors;
mod ext;
mod filters;
mod gojson;
pub(crate) mod models;
mod routes;
mod v1;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde::Serialize;

pub use backend::{
    validate_silence_matchers, AlertsApiBackend, ApiAlert, ApiAlertGroup, ApiAlertState,
    ApiAlertStatus, ApiMatcher, ApiSilence, ApiSilenceState, ApiStatus, NotificationQuery,
    NotificationRecord, NotifiedAlert, PostableSilence, SetSilenceError, VersionInfo,
};

pub use ext::DEFAULT_NOTIFICATION_LIMIT;
use filters::{AlertParams, Query};
use models::{ApiError, GettableAlert, GettableSilence, ReceiverJson};

/// The largest request body accepted (Alertmanager sets none; a bound keeps a hostile client
/// from exhausting memory, and is far above what Prometheus sends: batches of 64 alerts).
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// The shared state of the handlers.
type Backend = Arc<dyn AlertsApiBackend>;

/// Limits of the API (Alertmanager's `--web.get-concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiOptions {
    /// How many GET requests may run at once; more are answered 503 at once.
    pub get_concurrency: usize,
}

impl Default for ApiOptions {
    /// Alertmanager's default: the number of CPUs, at least 8.
    fn default() -> ApiOptions {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        ApiOptions {
            get_concurrency: cpus.max(8),
        }
    }
}

/// The router serving `/api/v2/...` and `POST /api/v1/alerts` with the default options.
pub fn router(backend: Arc<dyn AlertsApiBackend>) -> Router {
    router_with_options(backend, ApiOptions::default())
}

/// The router serving `/api/v2/...` and `POST /api/v1/alerts`.
pub fn router_with_options(backend: Arc<dyn AlertsApiBackend>, options: ApiOptions) -> Router {
    let v2 = Router::new()
        .route(
            "/alerts",
            only(&["GET", "POST"], get(get_alerts).post(post_alerts)),
        )
        .route("/alerts/groups", only(&["GET"], get(get_groups)))
        .route(
            "/silences",
            only(&["GET", "POST"], get(get_silences).post(post_silences)),
        )
        .route(
            "/silence/{silence_id}",
            only(&["DELETE", "GET"], get(get_silence).delete(delete_silence)),
        )
        .route("/status", only(&["GET"], get(get_status)))
        .route("/receivers", only(&["GET"], get(get_receivers)))
        .route(
            "/notifications",
            only(&["GET"], get(ext::get_notifications)),
        )
        .route(
            "/alerts/{fingerprint}/ack",
            only(&["POST"], post(ext::post_ack)),
        )
        .route("/routes", only(&["GET"], get(routes::get_routes)))
        .route("/routes/test", only(&["GET"], get(routes::test_routes)))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(cors::v2));
    Router::new()
        .nest("/api/v2", v2)
        .route(
            "/api/v1/alerts",
            // No method fallback: the daemon's Prometheus API serves `GET /api/v1/alerts`
            // at the same path, and axum merges method routers only without overlap.
            post(v1::post_alerts).options(cors::v1_options),
        )
        .with_state(backend)
        .layer(axum::middleware::from_fn_with_state(
            GetLimit {
                sem: Arc::new(tokio::sync::Semaphore::new(options.get_concurrency)),
                limit: options.get_concurrency,
            },
            limit_gets,
        ))
}

/// The GET concurrency limit's state.
#[derive(Clone)]
struct GetLimit {
    sem: Arc<tokio::sync::Semaphore>,
    limit: usize,
}

/// Alertmanager's `limitHandler`: GET requests beyond the limit are refused at once (a slow
/// client cannot queue unbounded work), with its plain-text answer.
async fn limit_gets(
    State(limit): State<GetLimit>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    match limit.sem.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            format!(
                "Limit of concurrent GET requests reached ({}), try again later.\n",
                limit.limit
            ),
        )
            .into_response(),
    }
}

/// A method router answering other methods as go-swagger does.
fn only(allowed: &'static [&'static str], r: MethodRouter<Backend>) -> MethodRouter<Backend> {
    r.fallback(move |method: Method| async move {
        let mut resp = swagger_error(
            405,
            405,
            &format!(
                "method {method} is not allowed, but [{}] are",
                allowed.join(",")
            ),
        );
        if let Ok(v) = HeaderValue::from_str(&allowed.join(",")) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        resp
    })
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    // The original URI: inside `nest` the path has lost its `/api/v2` prefix.
    swagger_error(404, 404, &format!("path {} was not found", uri.path()))
}

/// A 200 with a JSON payload, encoded as Go's `json.Encoder` does (trailing newline).
fn json_ok<T: Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(mut body) => {
            body.push(b'\n');
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(e) => text_error(500, &e.to_string()),
    }
}

/// A handler's error payload: a JSON string and a newline.
fn text_error(status: u16, message: &str) -> Response {
    let mut body = serde_json::Value::String(message.to_string()).to_string();
    body.push('\n');
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// go-swagger's framework error `{"code":..,"message":..}`.
fn swagger_error(status: u16, code: u16, message: &str) -> Response {
    let body = serde_json::json!({"code": code, "message": message}).to_string();
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Swagger {
                status,
                code,
                message,
            } => swagger_error(status, code, &message),
        }
    }
}

/// An empty 200, as go-swagger answers operations without a payload.
fn empty_ok() -> Response {
    StatusCode::OK.into_response()
}

/// Runs a backend call on the blocking pool (silence changes write to disk).
async fn call<T, F>(backend: &Backend, f: F) -> Result<T, Response>
where
    T: Send + 'static,
    F: FnOnce(&dyn AlertsApiBackend) -> T + Send + 'static,
{
    let b = Arc::clone(backend);
    tokio::task::spawn_blocking(move || f(b.as_ref()))
        .await
        .map_err(|e| text_error(500, &format!("internal error: {e}")))
}

/// Checks go-swagger's consumer: only `application/json` (parameters allowed); a missing
/// header reads as `application/octet-stream`.
fn check_json(headers: &HeaderMap) -> Option<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or("application/octet-stream");
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        None
    } else {
        Some(swagger_error(
            415,
            415,
            &format!("unsupported media type {ct:?}, only [application/json] are allowed"),
        ))
    }
}

/// Reads a body up to [`MAX_BODY_BYTES`].
async fn read_body(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            swagger_error(
                413,
                413,
                &format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })
}

async fn get_alerts(State(b): State<Backend>, RawQuery(q): RawQuery) -> Response {
    let params = match AlertParams::parse(&Query::parse(q.as_deref())) {
        Ok(p) => p,
        Err(e) => return text_error(400, &e),
    };
    let (alerts, now) = match call(&b, |b| (b.alerts(), b.now_ms())).await {
        Ok((Ok(a), now)) => (a, now),
        Ok((Err(e), _)) => return text_error(500, &e),
        Err(r) => return r,
    };
    let mut kept: Vec<&ApiAlert> = alerts
        .iter()
        .filter(|a| params.receiver.is_none() || a.receivers.iter().any(|r| params.receiver_ok(r)))
        .filter(|a| params.keeps(a, now))
        .collect();
    // Fingerprints print as 16 hex digits, so their order is the string order AM sorts by.
    kept.sort_by_key(|a| a.alert.fingerprint());
    let out: Vec<GettableAlert<'_>> = kept.into_iter().map(GettableAlert::from_api).collect();
    json_ok(&out)
}

async fn post_alerts(State(b): State<Backend>, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = check_json(&headers) {
        return r;
    }
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let posted = match models::postable_alerts(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match insert_alerts(&b, posted).await {
        Ok(()) => empty_ok(),
        Err(InsertError::Internal(e)) => text_error(500, &e),
        Err(InsertError::Invalid(e)) => text_error(400, &e),
        Err(InsertError::Response(r)) => r,
    }
}

/// Why posted alerts were not all stored.
enum InsertError {
    Internal(String),
    Invalid(String),
    Response(Response),
}

/// `insertAlerts`: defaults, validation, store the valid ones (best effort), then report the
/// invalid ones.
async fn insert_alerts(b: &Backend, posted: Vec<models::PostedAlert>) -> Result<(), InsertError> {
    let result = call(b, move |b| {
        let c = models::complete_alerts(posted, b.now_ms(), b.resolve_timeout_ms());
        b.record_received_alerts(c.firing, c.resolved);
        if !c.errors.is_empty() {
            b.record_invalid_alerts(c.errors.len());
        }
        b.put_alerts(c.valid).map(|()| c.errors)
    })
    .await
    .map_err(InsertError::Response)?;
    match result {
        Err(e) => Err(InsertError::Internal(e)),
        Ok(errors) if !errors.is_empty() => Err(InsertError::Invalid(errors.join("; "))),
        Ok(_) => Ok(()),
    }
}

/// `GET /api/v2/alerts/groups`: the dispatcher's groups, filtered and sorted as
/// `Dispatcher.Groups` does, each alert's receivers derived from the groups kept.
async fn get_groups(State(b): State<Backend>, RawQuery(q): RawQuery) -> Response {
    let params = match AlertParams::parse(&Query::parse(q.as_deref())) {
        Ok(p) => p,
        Err(e) => return text_error(400, &e),
    };
    let (groups, now) = match call(&b, |b| (b.groups(), b.now_ms())).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    // `Dispatcher.Groups`: filter routes by receiver and alerts by the alert filter, note
    // each alert's receivers over the groups kept, sort groups and their alerts.
    let mut kept: Vec<ApiAlertGroup> = Vec::new();
    let mut receivers: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for mut g in groups {
        if !params.receiver_ok(&g.receiver) {
            continue;
        }
        g.alerts.retain(|a| params.keeps(a, now));
        if g.alerts.is_empty() {
            continue;
        }
        for a in &g.alerts {
            receivers
                .entry(a.alert.fingerprint())
                .or_default()
                .push(g.receiver.clone());
        }
        kept.push(g);
    }
    for r in receivers.values_mut() {
        r.sort();
    }
    kept.sort_by(|x, y| {
        filters::labels_cmp(&x.labels, &y.labels).then_with(|| x.receiver.cmp(&y.receiver))
    });
    for g in &mut kept {
        g.alerts
            .sort_by(|x, y| filters::alert_slice_cmp(&x.alert.labels, &y.alert.labels));
    }
    let empty = Vec::new();
    let out: Vec<models::AlertGroupJson<'_>> = kept
        .iter()
        .map(|g| models::AlertGroupJson {
            alerts: g
                .alerts
                .iter()
                .map(|a| {
                    let rs = receivers.get(&a.alert.fingerprint()).unwrap_or(&empty);
                    GettableAlert::new(&a.alert, &a.status, rs)
                })
                .collect(),
            labels: &g.labels,
            receiver: ReceiverJson { name: &g.receiver },
        })
        .collect();
    json_ok(&out)
}

async fn get_silences(State(b): State<Backend>, RawQuery(q): RawQuery) -> Response {
    let q = Query::parse(q.as_deref());
    let filter = match crate::matchers::parse_filter_matchers(&q.all("filter")) {
        Ok(f) => f,
        Err(e) => return text_error(400, &e.message()),
    };
    let mut sils = match call(&b, |b| b.silences()).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return text_error(500, &e),
        Err(r) => return r,
    };
    sils.retain(|s| filters::silence_matches_filter(s, &filter));
    filters::sort_silences(&mut sils);
    let out: Vec<GettableSilence<'_>> = sils.iter().map(GettableSilence::new).collect();
    json_ok(&out)
}

/// strfmt's `uuid` format: 32 hex digits, optionally grouped 8-4-4-4-12 by dashes.
fn is_uuid(s: &str) -> bool {
    let groups = [8usize, 4, 4, 4, 12];
    let mut rest = s;
    for (i, n) in groups.iter().enumerate() {
        let Some(head) = rest.get(..*n) else {
            return false;
        };
        if !head.bytes().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
        rest = &rest[*n..];
        if i + 1 < groups.len() {
            rest = rest.strip_prefix('-').unwrap_or(rest);
        }
    }
    rest.is_empty()
}

fn check_uuid(id: &str) -> Option<Response> {
    if is_uuid(id) {
        None
    } else {
        Some(swagger_error(
            422,
            601,
            &format!(
                "silenceID in path must be of type uuid: {}",
                crate::matchers::go_quote(id)
            ),
        ))
    }
}

async fn get_silence(State(b): State<Backend>, Path(id): Path<String>) -> Response {
    if let Some(r) = check_uuid(&id) {
        return r;
    }
    match call(&b, move |b| b.silence(&id)).await {
        Ok(Ok(Some(s))) => json_ok(&GettableSilence::new(&s)),
        // go-swagger's `GetSilenceNotFound` has no payload.
        Ok(Ok(None)) => StatusCode::NOT_FOUND.into_response(),
        Ok(Err(e)) => text_error(500, &e),
        Err(r) => r,
    }
}

async fn delete_silence(State(b): State<Backend>, Path(id): Path<String>) -> Response {
    if let Some(r) = check_uuid(&id) {
        return r;
    }
    match call(&b, move |b| b.expire_silence(&id)).await {
        Ok(Ok(())) => empty_ok(),
        Ok(Err(e)) => text_error(500, &e),
        Err(r) => r,
    }
}

#[derive(Serialize)]
struct SilenceIdJson {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

async fn post_silences(State(b): State<Backend>, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = check_json(&headers) {
        return r;
    }
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = match models::postable_silence(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if s.starts_at >= s.ends_at {
        return text_error(
            400,
            "Failed to create silence: start time must be before end time",
        );
    }
    let result = call(&b, move |b| {
        if s.ends_at < b.now_ms() {
            return Err(SetSilenceError::Invalid(
                "Failed to create silence: end time can't be in the past".into(),
            ));
        }
        b.set_silence(PostableSilence {
            id: Some(s.id).filter(|id| !id.is_empty()),
            matchers: s.matchers,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: s.created_by,
            comment: s.comment,
            until_resolved: s.until_resolved,
        })
    })
    .await;
    match result {
        Ok(Ok(id)) => json_ok(&SilenceIdJson { silence_id: id }),
        Ok(Err(SetSilenceError::NotFound(e))) => text_error(404, &e),
        Ok(Err(SetSilenceError::Invalid(e))) => text_error(400, &e),
        Err(r) => r,
    }
}

async fn get_status(State(b): State<Backend>) -> Response {
    match call(&b, |b| b.status()).await {
        Ok(s) => json_ok(&models::status_json(&s)),
        Err(r) => r,
    }
}

async fn get_receivers(State(b): State<Backend>) -> Response {
    match call(&b, |b| b.receivers()).await {
        Ok(rs) => {
            let out: Vec<ReceiverJson<'_>> = rs.iter().map(|r| ReceiverJson { name: r }).collect();
            json_ok(&out)
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_as_strfmt_accepts_them() {
        assert!(is_uuid("3729479e-0078-4d58-8cc1-de9a022d39a4"));
        assert!(is_uuid("3729479e00784d588cc1de9a022d39a4"));
        assert!(is_uuid("3729479E-0078-4D58-8CC1-DE9A022D39A4"));
        assert!(!is_uuid("nope"));
        assert!(!is_uuid("3729479e-0078-4d58-8cc1-de9a022d39a"));
        assert!(!is_uuid("3729479e-0078-4d58-8cc1-de9a022d39a4a"));
    }
}
