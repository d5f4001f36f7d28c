//! The router and its handlers.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::RwLock;
use serde_json::{json, Value};
use sightline_scrape::{DroppedTarget, TargetSnapshot};
use sightline_storage_api::Queryable;
use tower::ServiceExt;

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

/// Shuts the daemon down (`/-/quit`).
pub type QuitFn = Arc<dyn Fn() + Send + Sync>;

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
    /// The queries running now (canceled when their client goes away and at shutdown).
    pub running: Arc<crate::RunningQueries>,
    /// What recent queries cost, to answer the cheap ones without a thread handoff.
    pub query_costs: Arc<crate::QueryCosts>,
    /// The `/api/v1/plugins` data (CONTRACT.md shape).
    pub plugins: Arc<dyn Fn() -> Value + Send + Sync>,
    /// Storage status and admin operations (`None` for storage without them).
    pub storage_admin: Option<Arc<dyn crate::StorageAdmin>>,
    /// `--web.enable-admin-api`.
    pub admin_enabled: bool,
    /// The routers of subsystems that bring their own endpoints under `/api/v1` (the rules
    /// engine's `/rules` and `/alerts`). They sit behind the same CORS and readiness layers.
    pub subsystems: Vec<Router>,
    /// Routers of subsystems with endpoints outside `/api/v1` (the alert manager's
    /// `/api/v2`), behind the same readiness layer; each brings its own CORS handling.
    pub root_routers: Vec<Router>,
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
        .route("/status/runtimeinfo", get(runtimeinfo));
    let api = state
        .subsystems
        .iter()
        .fold(api, |api, sub| api.merge(sub.clone().with_state(())))
        .fallback(api_not_found)
        .layer(middleware::from_fn(cors));
    let root = state
        .root_routers
        .iter()
        .fold(Router::new(), |r, sub| r.merge(sub.clone().with_state(())));
    Router::new()
        .nest("/api/v1", api)
        .merge(root)
        .route(
            "/-/reload",
            axum::routing::post(reload)
                .put(reload)
                .get(only_post_or_put),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            readiness_gate,
        ))
        .with_state(state)
}

/// Prometheus' request body limit for forms (Go's `maxFormSize`, 10 MiB); bigger bodies get
/// 413.
pub const MAX_BODY_BYTES: usize = 10 << 20;

/// What the HTTP surface needs from the moment the listener binds, before storage is open.
pub struct ShellOptions {
    /// `--web.route-prefix`, normalised as Prometheus does: `/` or `/a/b` (no trailing `/`).
    pub route_prefix: String,
    /// `--web.enable-lifecycle`: `POST`/`PUT` `/-/reload` and `/-/quit`.
    pub lifecycle_enabled: bool,
    /// False while starting (WAL replay, plugin compilation) and during shutdown.
    pub ready: Arc<AtomicBool>,
    /// `/-/quit`.
    pub quit: QuitFn,
    /// `/metrics` renderer (the registry exists before storage does).
    pub metrics: MetricsRenderer,
    /// The web UI (the web crate's router), served from the start, before the application
    /// is ready, so the page loads during WAL replay and can say so. It gets every GET and
    /// HEAD inside the prefix that the shell does not answer itself and that is not under
    /// `api/`, `-/` or `federate` (those keep going to the full router, and its 404s), and
    /// every request under [`ui_api_paths`](Self::ui_api_paths).
    pub ui: Option<Router>,
    /// API paths the UI router serves from the start (inside the prefix, no leading `/`:
    /// `api/search` takes `api/search` and `api/search/...`): the Grafana-compatible API.
    pub ui_api_paths: Vec<String>,
}

/// The outer HTTP surface: health, readiness, lifecycle, `/metrics` and the route prefix,
/// around the full [`router`], which [`Shell::set_app`] hands in once the daemon has opened
/// storage and started scraping. Until then every other path answers 503, as Prometheus'
/// readiness check does for its API.
pub struct Shell {
    opts: ShellOptions,
    app: OnceLock<Router>,
}

impl Shell {
    /// A shell with no application yet.
    pub fn new(opts: ShellOptions) -> Arc<Shell> {
        Arc::new(Shell {
            opts,
            app: OnceLock::new(),
        })
    }

    /// Hands in the full router (once; later calls are ignored).
    pub fn set_app(&self, app: Router) {
        let _ = self.app.set(app);
    }
}

/// Builds the whole HTTP surface around a [`Shell`]: every route served under the route
/// prefix; outside it, `/` redirects to the prefix and everything else is 404.
pub fn shell_router(shell: Arc<Shell>) -> Router {
    let prefix = shell.opts.route_prefix.clone();
    let lifecycle = if shell.opts.lifecycle_enabled {
        (
            axum::routing::post(forward).put(forward),
            axum::routing::post(quit).put(quit),
        )
    } else {
        (
            axum::routing::post(lifecycle_disabled).put(lifecycle_disabled),
            axum::routing::post(lifecycle_disabled).put(lifecycle_disabled),
        )
    };
    let surface = Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics))
        .route("/-/reload", lifecycle.0.get(only_post_or_put))
        .route("/-/quit", lifecycle.1.get(only_post_or_put))
        .fallback(dispatch)
        .with_state(shell);
    let surface = if prefix == "/" {
        surface
    } else {
        let to = prefix.clone();
        Router::new()
            .route(
                "/",
                get(move || async move { (StatusCode::FOUND, [(header::LOCATION, to)]) }),
            )
            .nest_service(&prefix, surface)
            .fallback(api_not_found)
    };
    surface
        // Streamed remote read is framed for the client to read as it arrives, and Prometheus
        // does not compress it: compressing would only buffer the frames.
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                tower_http::compression::Predicate::and(
                    tower_http::compression::predicate::DefaultPredicate::new(),
                    tower_http::compression::predicate::NotForContentType::const_new(
                        "application/x-streamed-protobuf",
                    ),
                ),
            ),
        )
        .layer(middleware::from_fn(limit_body))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A declared body over [`MAX_BODY_BYTES`] is refused before it is read; an undeclared
/// (chunked) one is cut off by [`DefaultBodyLimit`] where a handler reads it.
async fn limit_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    next.run(req).await
}

/// 413, as Go's `http.MaxBytesReader` callers answer.
pub(crate) fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "http: request body too large\n",
    )
        .into_response()
}

type Sh = State<Arc<Shell>>;

/// Whether a request (its path inside the prefix) is the UI's: one of its API paths, or a GET
/// or HEAD outside `api/`, `-/` and `federate`.
fn is_ui_request(method: &Method, path: &str, api_paths: &[String]) -> bool {
    let p = path.trim_start_matches('/');
    if api_paths.iter().any(|a| {
        p.strip_prefix(a.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }) {
        return true;
    }
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    !(p == "api" || p.starts_with("api/") || p == "-" || p.starts_with("-/") || p == "federate")
}

/// The UI's requests go to the UI (ready or not); everything else to [`forward`].
async fn dispatch(State(sh): Sh, req: Request) -> Response {
    if let Some(ui) = &sh.opts.ui {
        if is_ui_request(req.method(), req.uri().path(), &sh.opts.ui_api_paths) {
            return match ui.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
        }
    }
    forward(State(sh), req).await
}

/// Everything not owned by the shell goes to the full router, once there is one.
async fn forward(State(sh): Sh, req: Request) -> Response {
    match sh.app.get() {
        Some(app) => match app.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        },
        None => unavailable(),
    }
}

fn unavailable() -> Response {
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    r.headers_mut()
        .insert("X-Prometheus-Stopping", HeaderValue::from_static("false"));
    r
}

async fn lifecycle_disabled() -> Response {
    (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response()
}

async fn only_post_or_put() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "Only POST or PUT requests allowed",
    )
        .into_response()
}

async fn quit(State(sh): Sh) -> Response {
    (sh.opts.quit)();
    "Requesting termination... Goodbye!".into_response()
}

/// While not ready, answer 503 as Prometheus does (plain text, not JSON).
async fn readiness_gate(State(st): S, req: Request, next: Next) -> Response {
    if st.ready.load(Ordering::Acquire) {
        return next.run(req).await;
    }
    unavailable()
}

/// Prometheus' CORS behaviour with the default `--web.cors.origin=.*`.
async fn cors(req: Request, next: Next) -> Response {
    prometheus_cors("GET, POST, OPTIONS", req, next).await
}

/// Prometheus' CORS behaviour with the default `--web.cors.origin=.*`, for a router whose
/// endpoints take `methods` (as `Access-Control-Allow-Methods` lists them): `OPTIONS` answers
/// 200 at once; a request with an `Origin` gets the allow headers. Other subsystems' routers
/// (Grafana's API in the web crate) wrap themselves in it.
pub async fn prometheus_cors(methods: &'static str, req: Request, next: Next) -> Response {
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
            HeaderValue::from_static(methods),
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

async fn ready(State(sh): Sh) -> Response {
    if sh.opts.ready.load(Ordering::Acquire) {
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

async fn metrics(State(sh): Sh, headers: HeaderMap) -> Response {
    let om = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    // Rendering reads storage figures (directory sizes): off the async workers.
    let render = sh.opts.metrics.clone();
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

// procfs answers from memory.
#[allow(clippy::disallowed_methods)]
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

async fn plugins(State(st): S) -> Response {
    success((st.plugins)())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use std::sync::atomic::AtomicUsize;

    struct Fixture {
        shell: Arc<Shell>,
        ready: Arc<AtomicBool>,
        quits: Arc<AtomicUsize>,
    }

    fn fixture(prefix: &str, lifecycle: bool) -> Fixture {
        let ready = Arc::new(AtomicBool::new(false));
        let quits = Arc::new(AtomicUsize::new(0));
        let q = quits.clone();
        let shell = Shell::new(ShellOptions {
            route_prefix: prefix.to_string(),
            lifecycle_enabled: lifecycle,
            ready: ready.clone(),
            quit: Arc::new(move || {
                q.fetch_add(1, Ordering::Relaxed);
            }),
            metrics: Arc::new(|_| b"up 1\n".to_vec()),
            ui: None,
            ui_api_paths: Vec::new(),
        });
        Fixture {
            shell,
            ready,
            quits,
        }
    }

    async fn call(shell: &Arc<Shell>, method: &str, uri: &str, body: Body) -> (u16, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(body)
            .unwrap();
        let resp = shell_router(shell.clone()).oneshot(req).await.unwrap();
        let code = resp.status().as_u16();
        let loc = resp
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        (code, loc.unwrap_or(text))
    }

    /// The full router stands in as a tiny app whose one route echoes the body length.
    fn app() -> Router {
        Router::new().route(
            "/api/v1/query",
            get(|| async { "answer" }).post(|p: crate::params::Params| async move {
                format!("q={}", p.get("query").unwrap_or(""))
            }),
        )
    }

    #[tokio::test]
    async fn healthy_during_startup_ready_and_api_unavailable() {
        let f = fixture("/", false);
        let s = &f.shell;
        assert_eq!(call(s, "GET", "/-/healthy", Body::empty()).await.0, 200);
        assert_eq!(
            call(s, "GET", "/-/ready", Body::empty()).await,
            (503, "Service Unavailable".into())
        );
        assert_eq!(
            call(s, "GET", "/api/v1/query?query=1", Body::empty()).await,
            (503, "Service Unavailable".into())
        );
        assert_eq!(call(s, "GET", "/metrics", Body::empty()).await.0, 200);
        s.set_app(app());
        f.ready.store(true, Ordering::Release);
        assert_eq!(call(s, "GET", "/-/ready", Body::empty()).await.0, 200);
        assert_eq!(
            call(s, "GET", "/api/v1/query", Body::empty()).await,
            (200, "answer".into())
        );
    }

    /// The UI answers from the start; `api/`, `-/` and `federate` paths, and other methods,
    /// keep going to the full router (503 before it is there, its own 404s after).
    #[tokio::test]
    async fn ui_is_served_before_ready_and_api_paths_are_not_the_uis() {
        for prefix in ["/", "/p"] {
            let ready = Arc::new(AtomicBool::new(false));
            let shell = Shell::new(ShellOptions {
                route_prefix: prefix.into(),
                lifecycle_enabled: false,
                ready: ready.clone(),
                quit: Arc::new(|| {}),
                metrics: Arc::new(|_| Vec::new()),
                ui: Some(
                    Router::new()
                        .fallback(|req: Request| async move { format!("ui:{}", req.uri().path()) }),
                ),
                ui_api_paths: vec!["api/search".into()],
            });
            let at = |p: &str| {
                if prefix == "/" {
                    p.to_string()
                } else {
                    format!("{prefix}{p}")
                }
            };
            let s = &shell;
            for p in ["/", "/d/abc/slug", "/graph", "/alerts"] {
                assert_eq!(
                    call(s, "GET", &at(p), Body::empty()).await,
                    (200, format!("ui:{p}")),
                    "{prefix} {p}"
                );
            }
            assert_eq!(
                call(s, "GET", &at("/-/healthy"), Body::empty()).await.0,
                200
            );
            // The UI's API paths, any method.
            for (m, p) in [("GET", "/api/search"), ("POST", "/api/search/x")] {
                assert_eq!(
                    call(s, m, &at(p), Body::empty()).await,
                    (200, format!("ui:{p}")),
                    "{prefix} {m} {p}"
                );
            }
            for (m, p) in [
                ("GET", "/api/v1/query"),
                ("GET", "/api/nope"),
                ("GET", "/api/searchx"),
                ("GET", "/federate"),
                ("POST", "/x"),
            ] {
                assert_eq!(
                    call(s, m, &at(p), Body::empty()).await.0,
                    503,
                    "{prefix} {m} {p}"
                );
            }
            s.set_app(app());
            ready.store(true, Ordering::Release);
            assert_eq!(
                call(s, "GET", &at("/api/v1/query"), Body::empty()).await,
                (200, "answer".into())
            );
            assert_eq!(call(s, "GET", &at("/api/nope"), Body::empty()).await.0, 404);
        }
    }

    #[tokio::test]
    async fn lifecycle_disabled_is_403_and_enabled_quits() {
        let f = fixture("/", false);
        for (m, p) in [
            ("POST", "/-/reload"),
            ("PUT", "/-/reload"),
            ("POST", "/-/quit"),
            ("PUT", "/-/quit"),
        ] {
            assert_eq!(
                call(&f.shell, m, p, Body::empty()).await,
                (403, "Lifecycle API is not enabled.".into()),
                "{m} {p}"
            );
        }
        assert_eq!(
            call(&f.shell, "GET", "/-/quit", Body::empty()).await,
            (405, "Only POST or PUT requests allowed".into())
        );
        assert_eq!(f.quits.load(Ordering::Relaxed), 0);
        let f = fixture("/", true);
        assert_eq!(
            call(&f.shell, "POST", "/-/quit", Body::empty()).await,
            (200, "Requesting termination... Goodbye!".into())
        );
        assert_eq!(f.quits.load(Ordering::Relaxed), 1);
        // Reload goes to the full router, which is not there yet.
        assert_eq!(
            call(&f.shell, "POST", "/-/reload", Body::empty()).await.0,
            503
        );
    }

    #[tokio::test]
    async fn routes_live_under_the_prefix() {
        let f = fixture("/foo/bar", false);
        f.shell.set_app(app());
        f.ready.store(true, Ordering::Release);
        let s = &f.shell;
        assert_eq!(
            call(s, "GET", "/", Body::empty()).await,
            (302, "/foo/bar".into())
        );
        assert_eq!(call(s, "GET", "/-/healthy", Body::empty()).await.0, 404);
        assert_eq!(call(s, "GET", "/api/v1/query", Body::empty()).await.0, 404);
        assert_eq!(
            call(s, "GET", "/foo/bar/-/healthy", Body::empty()).await.0,
            200
        );
        assert_eq!(
            call(s, "GET", "/foo/bar/metrics", Body::empty()).await.0,
            200
        );
        assert_eq!(
            call(s, "GET", "/foo/bar/api/v1/query", Body::empty()).await,
            (200, "answer".into())
        );
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413() {
        let f = fixture("/", false);
        f.shell.set_app(app());
        f.ready.store(true, Ordering::Release);
        let form = |n: usize| {
            let mut b = b"query=".to_vec();
            b.resize(n, b'1');
            b
        };
        let post = |body: Vec<u8>, declare: bool| {
            let mut r = Request::builder()
                .method("POST")
                .uri("/api/v1/query")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if declare {
                r = r.header(header::CONTENT_LENGTH, body.len());
            }
            r.body(Body::from(body)).unwrap()
        };
        for declare in [true, false] {
            let resp = shell_router(f.shell.clone())
                .oneshot(post(form(MAX_BODY_BYTES + 1), declare))
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "declared {declare}"
            );
        }
        let resp = shell_router(f.shell.clone())
            .oneshot(post(form(3 << 20), true))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "3 MiB is under the limit");
    }
}
