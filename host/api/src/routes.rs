//! The router and its handlers.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use parking_lot::RwLock;
use serde_json::{json, Value};
use sightline_scrape::{DroppedTarget, TargetSnapshot};
use sightline_storage_api::Queryable;

use crate::params::Params;
use crate::{admin, dto, query};

/// Read-only view of the scrape manager.
pub trait TargetsSource: Send + Sync {
    /// Active targets.
    fn active(&self) -> Vec<TargetSnapshot>;
    /// Targets dropped by relabelling.
    fn dropped(&self) -> Vec<DroppedTarget>;
    /// Scrape pool (job) names in config order.
    fn pools(&self) -> Vec<String>;
}

/// Renders `/metrics`; the argument says whether OpenMetrics was negotiated.
pub type MetricsRenderer = Arc<dyn Fn(bool) -> Vec<u8> + Send + Sync>;

/// Triggers a configuration reload and reports its outcome.
pub type ReloadFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// What `/api/v1/status/buildinfo` reports.
#[derive(Debug, Clone)]
pub struct BuildInfo {
    /// Prometheus-compatible semantic version reported to clients (Grafana gates on it).
    pub version: String,
    /// Source revision.
    pub revision: String,
    /// Branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When.
    pub build_date: String,
    /// Toolchain (reported in Prometheus' `goVersion` field).
    pub toolchain: String,
}

/// Everything the handlers read.
pub struct ApiState {
    /// Stored data.
    pub storage: Arc<dyn Queryable>,
    /// Scrape targets.
    pub targets: Arc<dyn TargetsSource>,
    /// The loaded configuration, re-serialized with secrets redacted.
    pub config_yaml: Arc<RwLock<String>>,
    /// Command-line flags as Prometheus names them, all values strings.
    pub flags: Vec<(String, String)>,
    /// Build information.
    pub build: BuildInfo,
    /// False while storage is starting (WAL replay) and during shutdown.
    pub ready: Arc<AtomicBool>,
    /// Reload hook for `POST /-/reload`.
    pub reload: ReloadFn,
    /// `/metrics` renderer.
    pub metrics: MetricsRenderer,
    /// Process start, ms since the epoch.
    pub start_time_ms: i64,
    /// Whether the last reload succeeded, and when the config was last loaded (ms).
    pub reload_status: Arc<RwLock<(bool, i64)>>,
    /// Retention as Prometheus prints it in runtimeinfo (e.g. `15d`).
    pub storage_retention: String,
    /// The PromQL engine (its options carry `--query.*`); replaced when query-function
    /// plugins change.
    pub engine: Arc<RwLock<sightline_promql::Engine>>,
    /// Bounds concurrent queries (`--query.max-concurrency`).
    pub query_slots: Arc<tokio::sync::Semaphore>,
    /// The `/api/v1/plugins` data (CONTRACT.md shape).
    pub plugins: Arc<dyn Fn() -> Value + Send + Sync>,
    /// Dashboards from dashboard plugins (`/api/search`, `/api/dashboards/uid/<uid>`).
    pub dashboards: Option<crate::dashboards::DashboardSource>,
    /// Storage status and admin operations (`None` for storage without them).
    pub storage_admin: Option<Arc<dyn crate::StorageAdmin>>,
    /// `--web.enable-admin-api`.
    pub admin_enabled: bool,
}

type S = State<Arc<ApiState>>;

fn success(data: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "success", "data": data})),
    )
        .into_response()
}

/// Builds the whole HTTP surface.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = Router::new()
        .route("/query", get(query::query).post(query::query))
        .route(
            "/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route("/series", get(query::series).post(query::series))
        .route("/labels", get(query::labels).post(query::labels))
        .route("/label/{name}/values", get(query::label_values))
        .route("/metadata", get(query::metadata))
        .route(
            "/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route(
            "/query_exemplars",
            get(query::query_exemplars).post(query::query_exemplars),
        )
        .route("/rules", get(rules))
        .route("/alerts", get(alerts))
        .route("/plugins", get(plugins))
        .route("/status/tsdb", get(admin::status_tsdb))
        .route(
            "/admin/tsdb/delete_series",
            axum::routing::post(admin::delete_series).put(admin::delete_series),
        )
        .route(
            "/admin/tsdb/clean_tombstones",
            axum::routing::post(admin::clean_tombstones).put(admin::clean_tombstones),
        )
        .route(
            "/admin/tsdb/snapshot",
            axum::routing::post(admin::snapshot).put(admin::snapshot),
        )
        .route("/targets", get(targets))
        .route("/scrape_pools", get(scrape_pools))
        .route("/status/config", get(status_config))
        .route("/status/flags", get(status_flags))
        .route("/status/buildinfo", get(buildinfo))
        .route("/status/runtimeinfo", get(runtimeinfo))
        .fallback(api_not_found)
        .layer(middleware::from_fn(cors));
    let grafana = Router::new()
        .route("/search", get(crate::dashboards::search))
        .route("/dashboards/uid/{uid}", get(crate::dashboards::by_uid))
        .layer(middleware::from_fn(cors));
    Router::new()
        .nest("/api/v1", api)
        .merge(Router::new().nest("/api", grafana))
        .route("/-/reload", reload_routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            readiness_gate,
        ))
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

fn reload_routes() -> MethodRouter<Arc<ApiState>> {
    axum::routing::post(reload).put(reload).get(|| async {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "This endpoint requires a POST request.\n",
        )
    })
}

/// While not ready, answer 503 as Prometheus does (plain text, not JSON).
async fn readiness_gate(State(st): S, req: Request, next: Next) -> Response {
    if st.ready.load(Ordering::Acquire) {
        return next.run(req).await;
    }
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    r.headers_mut()
        .insert("X-Prometheus-Stopping", HeaderValue::from_static("false"));
    r
}

/// Prometheus' CORS behaviour with the default `--web.cors.origin=.*`.
async fn cors(req: Request, next: Next) -> Response {
    let has_origin = req.headers().contains_key(header::ORIGIN);
    let is_options = req.method() == Method::OPTIONS;
    let mut resp = if is_options {
        StatusCode::OK.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if has_origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Date"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    resp
}

async fn api_not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

async fn healthy() -> &'static str {
    "Sightline Server is Healthy.\n"
}

async fn ready(State(st): S) -> Response {
    if st.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "Sightline Server is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

async fn reload(State(st): S) -> Response {
    match (st.reload)().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(st): S, headers: HeaderMap) -> Response {
    let om = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    // Rendering reads storage figures (directory sizes): off the async workers.
    let render = st.metrics.clone();
    let body = match tokio::task::spawn_blocking(move || render(om)).await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("rendering metrics failed: {e}"),
            )
                .into_response()
        }
    };
    let ct = if om {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

async fn targets(State(st): S, p: Params) -> Response {
    let state = p.get("state").unwrap_or("any").to_ascii_lowercase();
    let pool = p.get("scrapePool").filter(|s| !s.is_empty());
    let want_active = state != "dropped";
    let want_dropped = state != "active";
    let in_pool = |name: &str| pool.is_none_or(|p| p == name);
    let mut data = serde_json::Map::new();
    if want_active {
        let mut active: Vec<TargetSnapshot> = st
            .targets
            .active()
            .into_iter()
            .filter(|t| in_pool(&t.scrape_pool))
            .collect();
        active.sort_by(|a, b| {
            a.scrape_pool
                .cmp(&b.scrape_pool)
                .then_with(|| a.scrape_url.cmp(&b.scrape_url))
        });
        data.insert(
            "activeTargets".into(),
            Value::Array(active.iter().map(dto::active_target).collect()),
        );
    }
    if want_dropped {
        let dropped: Vec<DroppedTarget> = st
            .targets
            .dropped()
            .into_iter()
            .filter(|t| in_pool(&t.scrape_pool))
            .collect();
        let mut counts = serde_json::Map::new();
        for t in &dropped {
            let e = counts.entry(t.scrape_pool.clone()).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + 1);
        }
        data.insert(
            "droppedTargets".into(),
            Value::Array(dropped.iter().map(dto::dropped_target).collect()),
        );
        data.insert("droppedTargetCounts".into(), Value::Object(counts));
    }
    success(Value::Object(data))
}

async fn scrape_pools(State(st): S) -> Response {
    success(json!({"scrapePools": st.targets.pools()}))
}

async fn status_config(State(st): S) -> Response {
    success(json!({"yaml": st.config_yaml.read().clone()}))
}

async fn status_flags(State(st): S) -> Response {
    let m: serde_json::Map<String, Value> = st
        .flags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    success(Value::Object(m))
}

async fn buildinfo(State(st): S) -> Response {
    let b = &st.build;
    success(json!({
        "version": b.version,
        "revision": b.revision,
        "branch": b.branch,
        "buildUser": b.build_user,
        "buildDate": b.build_date,
        "goVersion": b.toolchain,
    }))
}

async fn runtimeinfo(State(st): S) -> Response {
    let (ok, last) = *st.reload_status.read();
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    success(json!({
        "startTime": dto::rfc3339_ms(st.start_time_ms),
        "CWD": cwd,
        "hostname": hostname(),
        "serverTime": dto::rfc3339_ms(sightline_model::now_ms()),
        "reloadConfigSuccess": ok,
        "lastConfigTime": dto::rfc3339_ms(last),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": threads,
        "GOMEMLIMIT": i64::MAX,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": st.storage_retention,
    }))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Rule groups. The rule engine is its own issue; until it lands the list is truthfully empty
/// (Grafana calls this on load and needs a success).
async fn rules() -> Response {
    success(json!({"groups": []}))
}

/// Active alerts (none without a rule engine; see [`rules`]).
async fn alerts() -> Response {
    success(json!({"alerts": []}))
}

async fn plugins(State(st): S) -> Response {
    success((st.plugins)())
}
