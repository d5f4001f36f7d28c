//! The HTTP server around the api crate's router: our own accept loop (hyper-util), TLS
//! (rustls, no OpenSSL), basic auth and extra headers from `--web.config.file` (Prometheus'
//! exporter-toolkit format), and the limits a server on an untrusted network needs: a cap
//! on open connections (`--web.max-connections`, as Go's `netutil.LimitListener`: the accept
//! loop waits for a free slot), a header size limit, and read/idle timeouts
//! (`--web.read-timeout`).
//!
//! Everything here wraps the whole router at the connection level, so every endpoint family
//! (API, `/metrics`, admin, lifecycle, health, plugins, dashboards and whatever comes later)
//! is behind the same TLS and authentication, exactly as exporter-toolkit wraps Prometheus'
//! whole mux (it exempts nothing).
//!
//! The web configuration is re-read when it or a file it names changes: a background task
//! looks at their modification times every second (exporter-toolkit re-reads it per request
//! and per handshake; a stat per second is the cheap equivalent). A new file that does not
//! load keeps the previous one serving and logs an error; exporter-toolkit answers 500 to
//! every request in that state instead.

mod auth;
mod tls;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use axum::http::{HeaderName, HeaderValue};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use parking_lot::RwLock;
use sightline_config::web::WebConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::{debug, error, info, warn};

/// Go's `http.DefaultMaxHeaderBytes` plus the 4096 bytes of slack Go allows.
const MAX_HEADER_BYTES: usize = (1 << 20) + 4096;

/// Headers a request may carry (each costs a few bytes of index per request).
const MAX_HEADERS: usize = 1000;

/// How often the web configuration's files are looked at.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// Connection limits (`--web.max-connections`, `--web.read-timeout`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Open connections at most; the accept loop waits while this many are open.
    pub(crate) max_connections: usize,
    /// Time to read a request's headers (and the TLS handshake), and how long a connection
    /// may sit idle between requests (Go's `ReadTimeout`, which `IdleTimeout` defaults to).
    pub(crate) read_timeout: Duration,
}

/// The web configuration as it is applied: ready-made TLS config, users and headers.
pub(crate) struct Active {
    tls: Option<Arc<rustls::ServerConfig>>,
    users: BTreeMap<String, String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    http2: bool,
}

impl Active {
    fn plain() -> Active {
        Active {
            tls: None,
            users: BTreeMap::new(),
            headers: Vec::new(),
            http2: true,
        }
    }

    /// Builds everything a connection needs; any problem (a missing file, an unknown cipher
    /// suite, a header that may not be set) is an error naming it.
    fn build(c: &WebConfig) -> Result<Active> {
        let tls = match &c.tls_server_config {
            Some(t) => Some(Arc::new(tls::server_config(t, c.http2)?)),
            None => None,
        };
        let mut headers = Vec::new();
        for (k, v) in &c.headers {
            let name = HeaderName::try_from(k.as_str())
                .with_context(|| format!("invalid header name {k:?}"))?;
            let value = HeaderValue::try_from(v.as_str())
                .with_context(|| format!("invalid value for header {k}"))?;
            headers.push((name, value));
        }
        Ok(Active {
            tls,
            users: c
                .basic_auth_users
                .iter()
                .map(|(u, h)| (u.clone(), h.expose().to_string()))
                .collect(),
            headers,
            http2: c.http2,
        })
    }
}

/// Modification time and size of each file the configuration depends on.
type Fingerprint = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

/// `--web.config.file`, loaded and kept current.
pub(crate) struct WebConfigFile {
    path: Option<PathBuf>,
    active: RwLock<Arc<Active>>,
    fingerprint: parking_lot::Mutex<Fingerprint>,
    auth: auth::Authenticator,
}

impl WebConfigFile {
    /// Loads the file (or nothing: plain HTTP, no auth). A broken file is a startup error.
    pub(crate) fn load(path: Option<&Path>) -> Result<Arc<WebConfigFile>> {
        let (active, fingerprint) = match path {
            Some(p) => {
                let (c, fp) = read(p)?;
                let a = Active::build(&c)
                    .with_context(|| format!("web configuration {}", p.display()))?;
                (a, fp)
            }
            None => (Active::plain(), Vec::new()),
        };
        Ok(Arc::new(WebConfigFile {
            path: path.map(Path::to_path_buf),
            active: RwLock::new(Arc::new(active)),
            fingerprint: parking_lot::Mutex::new(fingerprint),
            auth: auth::Authenticator::default(),
        }))
    }

    /// Whether the listener speaks TLS (fixed at startup, as in exporter-toolkit).
    pub(crate) fn is_tls(&self) -> bool {
        self.active.read().tls.is_some()
    }

    fn current(&self) -> Arc<Active> {
        self.active.read().clone()
    }

    /// Re-reads the configuration if one of its files changed. Runs on a blocking thread.
    fn refresh(&self) {
        let Some(path) = &self.path else { return };
        let old = self.fingerprint.lock().clone();
        if fingerprint_of(old.iter().map(|(p, _)| p.as_path())) == old {
            return;
        }
        let res = read(path).and_then(|(c, fp)| {
            let a = Active::build(&c)?;
            if a.tls.is_some() != self.is_tls() {
                bail!("switching between TLS and plain HTTP needs a restart");
            }
            Ok((a, fp))
        });
        match res {
            Ok((a, fp)) => {
                *self.active.write() = Arc::new(a);
                *self.fingerprint.lock() = fp;
                self.auth.clear();
                info!(file = %path.display(), "web configuration reloaded");
            }
            Err(e) => {
                // Remember what was seen, so the error is logged once per change.
                *self.fingerprint.lock() = fingerprint_of(old.iter().map(|(p, _)| p.as_path()));
                error!(file = %path.display(), error = format!("{e:#}"),
                    "cannot load the changed web configuration; the previous one stays in force");
            }
        }
    }

    /// Looks for changes every second until `shutdown`.
    pub(crate) async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        if self.path.is_none() {
            return;
        }
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(RELOAD_CHECK) => {}
            }
            let me = self.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || me.refresh()).await {
                error!(error = %e, "web configuration check failed");
            }
        }
    }
}

/// Reads and parses the file, and fingerprints it with the TLS files it names.
fn read(path: &Path) -> Result<(WebConfig, Fingerprint)> {
    let c = sightline_config::web::load_web_config(path)
        .with_context(|| format!("loading web configuration {}", path.display()))?;
    let mut files = vec![path.to_path_buf()];
    if let Some(t) = &c.tls_server_config {
        for f in [&t.cert_file, &t.key_file, &t.client_ca_file]
            .into_iter()
            .flatten()
        {
            files.push(PathBuf::from(f));
        }
    }
    let fp = fingerprint_of(files.iter().map(PathBuf::as_path));
    Ok((c, fp))
}

fn fingerprint_of<'a>(files: impl Iterator<Item = &'a Path>) -> Fingerprint {
    files
        .map(|p| {
            let m = std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())));
            (p.to_path_buf(), m)
        })
        .collect()
}

/// The `task` label of panics inside a connection (a request handler).
const HTTP_CONNECTION_TASK: &str = "http_connection";

/// Serves `app` on `listener` until `shutdown`, then drains open connections.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    web: Arc<WebConfigFile>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (app, web, shutdown) = (app.clone(), web.clone(), shutdown.clone());
        tracker.spawn(async move {
            // A panic in a handler ends this connection only; it is logged and counted.
            let _ = sightline_telemetry::supervise::contain(
                HTTP_CONNECTION_TASK,
                connection(stream, app, web, limits, shutdown),
            )
            .await;
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// The bytes Go's server answers when plain HTTP arrives on a TLS port.
const PLAIN_ON_TLS: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

async fn connection(
    stream: TcpStream,
    app: Router,
    web: Arc<WebConfigFile>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let active = web.current();
    match &active.tls {
        None => serve_io(stream, app, web, active.http2, limits, shutdown).await,
        Some(tls) => {
            // The handshake does not hold up a shutdown.
            let s = shutdown.clone();
            let tls = tls.clone();
            let stream = tokio::select! {
                _ = s.cancelled() => return,
                r = handshake(stream, tls, limits.read_timeout) => match r {
                    Some(s) => s,
                    None => return,
                },
            };
            serve_io(stream, app, web, active.http2, limits, shutdown).await;
        }
    }
}

/// Go's answer to plain HTTP on a TLS port, or the TLS handshake within `timeout`.
async fn handshake(
    stream: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    // A TLS connection starts with a handshake record (type 22); anything else is
    // most likely plain HTTP, which gets Go's answer instead of a TLS alert.
    let mut first = [0u8; 1];
    match tokio::time::timeout(timeout, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == 0x16 => {}
        Ok(Ok(1)) => {
            let mut s = stream;
            let _ = s.write_all(PLAIN_ON_TLS).await;
            let _ = s.shutdown().await;
            return None;
        }
        _ => return None,
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            debug!("TLS handshake timed out");
            None
        }
    }
}

/// Activity of one connection, for the idle timeout.
struct Activity {
    start: Instant,
    last_ms: AtomicI64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let ms = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }
    fn idle_for(&self) -> Duration {
        let last = self.last_ms.load(Ordering::Relaxed);
        let now = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        Duration::from_millis(u64::try_from(now - last).unwrap_or(0))
    }
}

/// Counts a request as in flight while it lives.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

async fn serve_io<I>(
    io: I,
    app: Router,
    web: Arc<WebConfigFile>,
    http2: bool,
    limits: Limits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        start: Instant::now(),
        last_ms: AtomicI64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Tracked {
        inner: io,
        activity: activity.clone(),
    });
    let act = activity.clone();
    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let (app, web, act) = (app.clone(), web.clone(), act.clone());
        act.in_flight.fetch_add(1, Ordering::Relaxed);
        let guard = InFlight(act);
        let deadline = tokio::time::Instant::now() + limits.read_timeout;
        async move {
            let req = req.map(|b| axum::body::Body::new(DeadlineBody::new(b, deadline)));
            let resp = handle(&web, app, req).await;
            drop(guard);
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        // Go has no limit on the number of headers, only on their size; hyper's default
        // of 100 would refuse requests Prometheus serves.
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX));
    if !http2 {
        builder = builder.http1_only();
    }
    let conn = builder.serve_connection_with_upgrades(io, svc);
    tokio::pin!(conn);
    let tick = (limits.read_timeout / 4).clamp(Duration::from_millis(100), RELOAD_CHECK);
    let mut draining = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    debug!(error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(tick) => {
                if activity.in_flight.load(Ordering::Relaxed) == 0
                    && activity.idle_for() >= limits.read_timeout
                {
                    debug!("closing an idle HTTP connection");
                    return;
                }
            }
        }
    }
}

/// Authentication and configured headers around one request.
async fn handle(
    web: &WebConfigFile,
    app: Router,
    req: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    let active = web.current();
    let mut resp = if web
        .auth
        .allows(
            &active.users,
            req.headers().get(axum::http::header::AUTHORIZATION),
        )
        .await
    {
        match app.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    } else {
        auth::unauthorized()
    };
    let h = resp.headers_mut();
    for (k, v) in &active.headers {
        if !h.contains_key(k) {
            h.insert(k.clone(), v.clone());
        }
    }
    resp
}

/// A request body that must have arrived by a deadline (Go's `ReadTimeout` covers the body
/// too): a client trickling its body ends with a read error, so its handler answers 400
/// instead of waiting for it indefinitely.
struct DeadlineBody {
    inner: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: hyper::body::Incoming, at: tokio::time::Instant) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(at)),
        }
    }
}

impl hyper::body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if let Poll::Ready(r) = std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(r.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err("timed out reading the request body".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// An IO stream that records when it last moved bytes.
struct Tracked<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
