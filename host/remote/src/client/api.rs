//! `GET /api/v1/status/remote_write`: each queue's health, for the web UI's "is it broken?"
//! and for scripts (Prometheus has no such endpoint; its figures are metrics only).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::RemoteWrite;

/// One queue as the status API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    /// `name`, or the hash Prometheus would use.
    pub name: String,
    /// Endpoint.
    pub url: String,
    /// `1.0` or `2.0` as configured; `1.0 (fallback)` after a 415.
    pub protocol: String,
    /// Shards now.
    pub shards: u64,
    /// Samples read and not yet delivered.
    pub pending: u64,
    /// Samples delivered since start.
    pub samples_sent: u64,
    /// Samples refused for good since start.
    pub samples_failed: u64,
    /// Samples resent after recoverable errors since start.
    pub samples_retried: u64,
    /// Newest sample timestamp delivered (ms), if any.
    pub highest_sent_ms: Option<i64>,
    /// Seconds between now and the newest sample delivered, if any.
    pub lag_seconds: Option<f64>,
    /// When a request last succeeded (ms).
    pub last_success_ms: Option<i64>,
    /// Whether the newest attempt failed and is being retried.
    pub failing: bool,
    /// The last error, if any: when (ms) and what.
    pub last_error: Option<LastError>,
}

/// An error as the status API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    /// When (ms since the epoch).
    pub time: i64,
    /// What.
    pub message: String,
}

impl RemoteWrite {
    /// Every queue's status, by name.
    pub fn status(&self) -> Vec<QueueStatus> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let queues = self.queues.lock();
        let mut out: Vec<QueueStatus> = queues
            .iter()
            .map(|(name, q)| {
                let h = q.ctx.health.lock().clone();
                let m = &q.metrics;
                let highest = q.ctx.highest_sent();
                let protocol = if q.protocol == "2.0" && !q.ctx.v2.load(Ordering::Relaxed) {
                    "1.0 (fallback)".to_string()
                } else {
                    q.protocol.to_string()
                };
                QueueStatus {
                    name: name.clone(),
                    url: q.ctx.url.to_string(),
                    protocol,
                    shards: m.shards.get().max(0.0) as u64,
                    pending: m.pending.get().max(0.0) as u64,
                    samples_sent: m.samples.get() as u64,
                    samples_failed: m.failed.get() as u64,
                    samples_retried: m.retried.get() as u64,
                    highest_sent_ms: highest,
                    lag_seconds: highest.map(|t| ((now - t) as f64 / 1000.0).max(0.0)),
                    last_success_ms: h.last_success_ms,
                    failing: h.failing,
                    last_error: h
                        .last_error
                        .map(|(time, message)| LastError { time, message }),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The status route, to merge under `/api/v1`.
pub fn router(rw: Arc<RemoteWrite>) -> Router {
    Router::new()
        .route("/status/remote_write", get(status))
        .with_state(rw)
}

async fn status(State(rw): State<Arc<RemoteWrite>>) -> Response {
    axum::Json(serde_json::json!({
        "status": "success",
        "data": { "queues": rw.status() },
    }))
    .into_response()
}
