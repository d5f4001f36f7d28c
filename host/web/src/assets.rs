//! The UI's files: embedded at compile time (`build.rs` walks `ui/`), gzip-compressed once
//! when the router is built, served with strong ETags and `304 Not Modified`, and
//! `index.html` for every path that is not a file (the single-page app routes itself).
//!
//! Caching: `index.html` is `no-cache` (always revalidated, so a new build shows at once).
//! When it is served, its literal `<base href="/">` becomes the path the browser sees, an
//! import map follows it that maps every JavaScript module to `<path>?v=<content hash>`, and
//! its own `src="<file>"`/`href="<file>"` attributes get the same `?v=`. A request whose
//! `v` is the file's current hash is answered `immutable` for a year; any other request for a
//! file is `no-cache` and revalidated by ETag. A changed file changes its hash, so a browser
//! never keeps a stale module.
//!
//! Development: with [`UI_DIR_ENV`] set, files are read from that directory on every request
//! and sent `no-store` (no hashing, no import map); the shell's compression layer compresses
//! them.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;

use crate::metrics::WebMetrics;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The environment variable naming a directory to serve the UI from instead of the embedded
/// files (development: edit and reload, no Rust rebuild).
pub const UI_DIR_ENV: &str = "SIGHTLINE_WEB_UI_DIR";

/// The literal `index.html` carries; the server replaces it with the real base.
const BASE_TAG: &str = r#"<base href="/">"#;

/// How long an immutable (hash-addressed) file may be cached.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How the UI is served.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// The path the browser sees for the UI's root, with a trailing `/`: the path of
    /// `--web.external-url` when given, else the route prefix (`/`, `/a/b/`).
    pub base_path: String,
    /// Serve from this directory instead of the embedded files (see [`UI_DIR_ENV`]).
    pub dev_dir: Option<PathBuf>,
}

impl UiOptions {
    /// Options for `base_path`, with the development directory from [`UI_DIR_ENV`].
    pub fn from_env(base_path: &str) -> Self {
        UiOptions {
            base_path: normalize_base(base_path),
            dev_dir: std::env::var_os(UI_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// `/`, or `/a/b/`: one leading and one trailing slash.
pub fn normalize_base(p: &str) -> String {
    let t = p.trim_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        format!("/{t}/")
    }
}

/// One file, in both encodings.
struct Asset {
    content_type: &'static str,
    /// xxh64 of the identity bytes, 16 hex digits: the ETag and the `?v=` value.
    hash: String,
    identity: Bytes,
    /// Present when gzip makes it smaller.
    gzip: Option<Bytes>,
}

impl Asset {
    fn new(path: &str, bytes: Bytes) -> Asset {
        let hash = format!("{:016x}", xxhash_rust::xxh64::xxh64(&bytes, 0));
        let gzip = gzip(&bytes).filter(|g| g.len() < bytes.len());
        Asset {
            content_type: content_type(path),
            hash,
            identity: bytes,
            gzip,
        }
    }
}

/// Gzip at the best level: it runs once per file at startup.
fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(Bytes::from)
}

/// The embedded files, ready to serve.
struct Embedded {
    files: HashMap<&'static str, Asset>,
    /// `index.html` rendered for this base.
    index: Option<Asset>,
    /// First path segments of nested files (`js`, `css`, `vendor`): paths under them are
    /// files or 404, never the app.
    dirs: HashSet<&'static str>,
}

impl Embedded {
    /// The set for `base` from a table of files (the generated [`EMBEDDED`], or a test's).
    fn build(base: &str, table: &[(&'static str, &'static [u8])]) -> Embedded {
        let mut files = HashMap::new();
        let mut dirs = HashSet::new();
        let mut raw_index = None;
        for (path, bytes) in table {
            if let Some((dir, _)) = path.split_once('/') {
                dirs.insert(dir);
            }
            if *path == "index.html" {
                raw_index = Some(*bytes);
                continue;
            }
            files.insert(*path, Asset::new(path, Bytes::from_static(bytes)));
        }
        let index = raw_index.map(|raw| {
            let mut versions: Vec<(&str, &str)> =
                files.iter().map(|(p, a)| (*p, a.hash.as_str())).collect();
            versions.sort();
            let html = render_index(&String::from_utf8_lossy(raw), base, &versions);
            Asset::new("index.html", Bytes::from(html))
        });
        if index.is_none() {
            tracing::warn!("the web UI has no index.html; / answers 404");
        }
        Embedded { files, index, dirs }
    }
}

/// `index.html` for `base`: the base tag rewritten, the import map after it, and the
/// document's own references to files made hash-addressed.
fn render_index(raw: &str, base: &str, versions: &[(&str, &str)]) -> String {
    if !raw.contains(BASE_TAG) {
        tracing::warn!("the web UI's index.html has no {BASE_TAG}; served unchanged");
        return raw.to_string();
    }
    let imports: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .filter(|(p, _)| p.ends_with(".js") || p.ends_with(".mjs"))
        .map(|(p, h)| (format!("./{p}"), format!("./{p}?v={h}").into()))
        .collect();
    let map = serde_json::json!({ "imports": imports });
    let head = format!(
        "<base href=\"{}\">\n<script type=\"importmap\">{map}</script>",
        escape_attr(base)
    );
    let mut html = raw.replacen(BASE_TAG, &head, 1);
    for (p, h) in versions {
        for attr in ["src", "href"] {
            for dot in ["", "./"] {
                html = html.replace(
                    &format!("{attr}=\"{dot}{p}\""),
                    &format!("{attr}=\"{dot}{p}?v={h}\""),
                );
            }
        }
    }
    html
}

/// `index.html` for `base` with only the base tag rewritten (the development directory).
fn rebase_index(raw: &str, base: &str) -> String {
    raw.replacen(
        BASE_TAG,
        &format!("<base href=\"{}\">", escape_attr(base)),
        1,
    )
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "txt" | "md" | "" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The metrics' asset class of a path.
fn class(path: &str) -> &'static str {
    match content_type(path) {
        t if t.starts_with("text/html") => "index",
        t if t.starts_with("text/javascript") => "script",
        t if t.starts_with("text/css") => "style",
        t if t.starts_with("image/") => "image",
        _ => "other",
    }
}

enum Source {
    Embedded(Embedded),
    Dir(PathBuf),
}

struct UiState {
    source: Source,
    base: String,
    metrics: WebMetrics,
}

/// The UI's router: every GET or HEAD is a file, or `index.html`. The daemon's shell
/// sends it the paths that are not its own and not under `api/` or `-/`.
pub fn ui_router(opts: UiOptions, metrics: WebMetrics) -> Router {
    router_over(opts, metrics, EMBEDDED)
}

/// [`ui_router`] over a table of files.
fn router_over(
    opts: UiOptions,
    metrics: WebMetrics,
    table: &[(&'static str, &'static [u8])],
) -> Router {
    let base = normalize_base(&opts.base_path);
    let source = match opts.dev_dir {
        Some(dir) => {
            tracing::info!(dir = %dir.display(), "serving the web UI from a directory ({UI_DIR_ENV})");
            Source::Dir(dir)
        }
        None => {
            let started = std::time::Instant::now();
            let e = Embedded::build(&base, table);
            tracing::debug!(files = e.files.len(), elapsed = ?started.elapsed(), "web UI assets compressed");
            Source::Embedded(e)
        }
    };
    Router::new().fallback(serve).with_state(Arc::new(UiState {
        source,
        base,
        metrics,
    }))
}

/// What a path names.
enum Target<'a> {
    Index,
    File(&'a str),
    Missing,
}

/// `""` and `index.html` are the app; an existing file is itself; a path under a directory
/// of files that is not one is 404 (a missing module must fail as such, not as HTML); any
/// other path is a route of the app.
fn resolve<'a>(
    path: &'a str,
    is_file: impl Fn(&str) -> bool,
    is_dir: impl Fn(&str) -> bool,
) -> Target<'a> {
    if path.is_empty() || path == "index.html" {
        return Target::Index;
    }
    if is_file(path) {
        return Target::File(path);
    }
    let first = path.split('/').next().unwrap_or("");
    if is_dir(first) {
        Target::Missing
    } else {
        Target::Index
    }
}

async fn serve(State(st): State<Arc<UiState>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "Method Not Allowed\n",
        )
            .into_response();
    }
    let path = req.uri().path().trim_start_matches('/').to_string();
    // API paths reach this fallback only when the daemon merged an API router (Grafana's)
    // into this one and none of its routes matched: they stay API 404s, never the app.
    if path == "api" || path.starts_with("api/") || path.starts_with("-/") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"message": "Not found"})),
        )
            .into_response();
    }
    let version = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "v")
            .map(|(_, v)| v.into_owned())
    });
    let headers = req.headers();
    let (class, resp) = match &st.source {
        Source::Embedded(e) => {
            match resolve(&path, |p| e.files.contains_key(p), |d| e.dirs.contains(d)) {
                Target::Index => match &e.index {
                    Some(a) => ("index", respond(a, headers, "no-cache")),
                    None => ("missing", not_found()),
                },
                Target::File(p) => match e.files.get(p) {
                    Some(a) => {
                        let cache = if version.as_deref() == Some(a.hash.as_str()) {
                            IMMUTABLE
                        } else {
                            "no-cache"
                        };
                        (class(p), respond(a, headers, cache))
                    }
                    None => ("missing", not_found()),
                },
                Target::Missing => ("missing", not_found()),
            }
        }
        Source::Dir(dir) => {
            let (dir, base) = (dir.clone(), st.base.clone());
            match tokio::task::spawn_blocking(move || from_dir(&dir, &path, &base)).await {
                Ok(r) => r,
                Err(e) => (
                    "missing",
                    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
                ),
            }
        }
    };
    st.metrics
        .ui_requests
        .with(&[class, resp.status().as_str()])
        .inc();
    resp
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// Serves a path from the development directory, read now.
// Runs on a blocking thread (`spawn_blocking` in `serve`).
#[allow(clippy::disallowed_methods)]
fn from_dir(dir: &Path, path: &str, base: &str) -> (&'static str, Response) {
    // Only plain relative segments: nothing can climb out of the directory.
    let safe = |p: &str| {
        p.split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['\\', '%', '\0', ':']))
    };
    let is_file = |p: &str| safe(p) && dir.join(p).is_file();
    let is_dir = |d: &str| safe(d) && dir.join(d).is_dir();
    let (class, file) = match resolve(path, is_file, is_dir) {
        Target::Index => ("index", "index.html"),
        Target::File(p) => (class(p), p),
        Target::Missing => return ("missing", not_found()),
    };
    let bytes = match std::fs::read(dir.join(file)) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file, error = %e, "web UI directory");
            return ("missing", not_found());
        }
    };
    let body = if file == "index.html" {
        rebase_index(&String::from_utf8_lossy(&bytes), base).into_bytes()
    } else {
        bytes
    };
    let resp = (
        [
            (header::CONTENT_TYPE, content_type(file)),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    (class, resp)
}

/// Whether `Accept-Encoding` allows gzip (a `q=0` refuses it).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(v) = value.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            match name.as_str() {
                "gzip" | "x-gzip" => return q > 0.0,
                "*" => star = q > 0.0,
                _ => {}
            }
        }
    }
    star
}

/// Whether `If-None-Match` names either representation of the file (weak comparison, as
/// RFC 9110 asks for this header).
fn not_modified(headers: &HeaderMap, hash: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| {
            if tag == "*" {
                return true;
            }
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            tag.strip_suffix("-gz").unwrap_or(tag) == hash
        })
}

/// A 200 or 304 for an embedded file. A gzip body carries `Content-Encoding`, so the
/// shell's compression layer passes it through untouched.
fn respond(a: &Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let gz = a.gzip.as_ref().filter(|_| accepts_gzip(headers));
    let etag = match gz {
        Some(_) => format!("\"{}-gz\"", a.hash),
        None => format!("\"{}\"", a.hash),
    };
    let mut builder = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept-Encoding");
    let resp = if not_modified(headers, &a.hash) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder = builder
            .header(header::CONTENT_TYPE, a.content_type)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        match gz {
            Some(g) => builder
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from(g.clone())),
            None => builder.body(Body::from(a.identity.clone())),
        }
    };
    resp.unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

#[cfg(test)]
#[path = "assets_tests.rs"]
mod tests;
