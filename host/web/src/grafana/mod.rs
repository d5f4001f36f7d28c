//! The Grafana-compatible HTTP API, in Grafana 9/10's shapes and status codes, so that
//! scripts written for Grafana (the seed's setup script) run against Sightline unchanged:
//! `GET /api/health`, `GET|POST /api/datasources`, `POST /api/dashboards/db`,
//! `GET|DELETE /api/dashboards/uid/<uid>`, `GET /api/dashboards/uid/<uid>/versions[/<n>]`
//! and `GET /api/search`.
//!
//! Beyond Grafana: `POST /api/dashboards/db` also takes a bare dashboard (an object with
//! `title` or `panels` and no `dashboard` key), as the seed's script posts it. Data sources
//! are accepted and listed but kept in memory only: Sightline itself is always the default
//! source and answers every query.

mod dashboards;
mod store;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use serde_json::{json, Value};

pub use store::DashboardStore;

use crate::error::WebError;

/// Produces the model of every serving dashboard plugin.
pub type DashboardSource =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Dashboard>> + Send>> + Send + Sync>;

/// One dashboard from a plugin: the model, parsed and validated once per loaded version (the
/// source shares it; requests never parse it again), with the fields the list shows. Plugin
/// dashboards are provisioned: read-only.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The plugin.
    pub plugin: String,
    /// The model's `uid` (the plugin name when it has none); unique among dashboards.
    pub uid: String,
    /// The model's title.
    pub title: String,
    /// The model's tags.
    pub tags: Vec<String>,
    /// The model, a JSON object whose `uid` is [`uid`](Self::uid).
    pub model: Arc<Value>,
}

/// The plugins' dashboards, handed in once the plugin runtime is up: the API serves from the
/// moment the listener binds (the seed's script may post while the daemon starts), with no
/// plugin dashboards until then.
#[derive(Default)]
pub struct PluginDashboards(OnceLock<DashboardSource>);

impl PluginDashboards {
    /// An empty slot.
    pub fn new() -> Arc<PluginDashboards> {
        Arc::new(PluginDashboards::default())
    }

    /// Hands in the source (once; later calls are ignored).
    pub fn set(&self, source: DashboardSource) {
        let _ = self.0.set(source);
    }

    pub(crate) fn get(&self) -> Option<&DashboardSource> {
        self.0.get()
    }
}

/// The paths (inside the route prefix, without the leading `/`) the Grafana API serves: the
/// shell sends them to [`grafana_router`] before the application is ready.
pub const GRAFANA_API_PATHS: &[&str] = &[
    "api/health",
    "api/datasources",
    "api/dashboards",
    "api/search",
];

/// What the Grafana API needs from the daemon.
pub struct GrafanaOptions {
    /// Saved dashboards.
    pub store: Arc<DashboardStore>,
    /// Dashboards from dashboard plugins (read-only).
    pub plugins: Arc<PluginDashboards>,
    /// `--web.external-url`, without a trailing `/`: the URL of Sightline as a data source.
    pub external_url: String,
    /// The path the browser sees for the UI's root, with a trailing `/` (dashboard `url`s
    /// start with it).
    pub base_path: String,
    /// Reported by `/api/health`.
    pub version: String,
    /// Reported by `/api/health`.
    pub commit: String,
}

pub(crate) struct GrafanaState {
    pub(crate) opts: GrafanaOptions,
    datasources: Mutex<Vec<Value>>,
}

impl GrafanaState {
    /// `<base>d/<uid>/<slug>`, as Grafana's `url` fields (with its sub-path).
    pub(crate) fn dashboard_url(&self, uid: &str, slug: &str) -> String {
        format!(
            "{}d/{uid}/{slug}",
            crate::assets::normalize_base(&self.opts.base_path)
        )
    }
}

/// The routes, at their full paths (`/api/...`), with Prometheus' CORS behaviour as the
/// other API routes have it.
pub fn grafana_router(opts: GrafanaOptions) -> Router {
    let st = Arc::new(GrafanaState {
        opts,
        datasources: Mutex::new(Vec::new()),
    });
    Router::new()
        .route("/api/health", get(health))
        .route(
            "/api/datasources",
            get(list_datasources).post(add_datasource),
        )
        .route("/api/dashboards/db", axum::routing::post(dashboards::save))
        .route(
            "/api/dashboards/uid/{uid}",
            get(dashboards::by_uid).delete(dashboards::delete),
        )
        .route(
            "/api/dashboards/uid/{uid}/versions",
            get(dashboards::versions),
        )
        .route(
            "/api/dashboards/uid/{uid}/versions/{version}",
            get(dashboards::version),
        )
        .route("/api/search", get(dashboards::search))
        .layer(middleware::from_fn(cors))
        .with_state(st)
}

type S = State<Arc<GrafanaState>>;

/// Grafana's `GET /api/health`.
async fn health(State(st): S) -> Response {
    axum::Json(json!({
        "commit": st.opts.commit,
        "database": "ok",
        "version": st.opts.version,
    }))
    .into_response()
}

/// Sightline itself, the default data source.
fn own_datasource(st: &GrafanaState) -> Value {
    json!({
        "id": 1,
        "uid": "sightline",
        "orgId": 1,
        "name": "Sightline",
        "type": "prometheus",
        "typeName": "Prometheus",
        "typeLogoUrl": "public/app/plugins/datasource/prometheus/img/prometheus_logo.svg",
        "access": "proxy",
        "url": st.opts.external_url,
        "user": "",
        "database": "",
        "basicAuth": false,
        "isDefault": true,
        "jsonData": {},
        "readOnly": true,
    })
}

async fn list_datasources(State(st): S) -> Response {
    let mut all = vec![own_datasource(&st)];
    all.extend(st.datasources.lock().iter().cloned());
    axum::Json(Value::Array(all)).into_response()
}

/// `POST /api/datasources`: recorded and listed, answered as Grafana answers; Sightline
/// stays the default source whatever `isDefault` says.
async fn add_datasource(State(st): S, body: Bytes) -> Response {
    let Ok(Value::Object(cmd)) = serde_json::from_slice::<Value>(&body) else {
        return WebError::BadRequest.into_response();
    };
    let s = |k: &str| cmd.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (name, kind) = (s("name"), s("type"));
    if name.is_empty() {
        return WebError::DatasourceInvalid("Name is required").into_response();
    }
    if kind.is_empty() {
        return WebError::DatasourceInvalid("Type is required").into_response();
    }
    let mut list = st.datasources.lock();
    if name == "Sightline" || list.iter().any(|d| d["name"] == name.as_str()) {
        return WebError::DatasourceExists.into_response();
    }
    let id = list.len() as i64 + 2;
    let uid = match s("uid") {
        u if !u.is_empty() => u,
        _ => format!("ds{id}"),
    };
    let ds = json!({
        "id": id,
        "uid": uid,
        "orgId": 1,
        "name": name,
        "type": kind,
        "typeLogoUrl": "",
        "access": s("access"),
        "url": s("url"),
        "user": s("user"),
        "database": s("database"),
        "basicAuth": cmd.get("basicAuth").and_then(Value::as_bool).unwrap_or(false),
        "basicAuthUser": s("basicAuthUser"),
        "withCredentials": false,
        "isDefault": false,
        "jsonData": cmd.get("jsonData").cloned().unwrap_or_else(|| json!({})),
        "secureJsonFields": {},
        "version": 1,
        "readOnly": false,
    });
    list.push(ds.clone());
    tracing::info!(name = %name, kind = %kind, "data source recorded (Sightline stays the default)");
    (
        StatusCode::OK,
        axum::Json(json!({
            "datasource": ds,
            "id": id,
            "message": "Datasource added",
            "name": name,
        })),
    )
        .into_response()
}

/// Prometheus' CORS behaviour, as the API crate's routers have it, with `DELETE` allowed.
async fn cors(req: Request, next: Next) -> Response {
    sightline_api::prometheus_cors("GET, POST, DELETE, OPTIONS", req, next).await
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
