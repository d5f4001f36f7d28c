//! `POST /api/v1/otlp/v1/metrics`: OTLP/HTTP metrics export, protobuf or JSON, gzip or not.
//!
//! Differences from Prometheus 3.9's `otlpWriteHandler`, each on purpose:
//! - A content type other than `application/x-protobuf` or `application/json` (parameters
//!   such as `charset` are ignored) or an encoding other than `gzip` is 415, as the OTLP/HTTP
//!   specification asks; Prometheus answers 400 with the same message.
//! - The answer is an `ExportMetricsServiceResponse` in the request's encoding, with
//!   `partial_success` when points were rejected (Prometheus answers 200 with no body).
//! - A sample the storage rejects (out of order, duplicate, out of bounds, too far in the
//!   future) is left out and reported in `partial_success`, the rest is committed, and the
//!   answer is 200: Prometheus rolls the whole request back and answers 400, which makes the
//!   sender drop every point of it, good ones included.
//!
//! As Prometheus, the answer is sent only once the appender's commit returned, so what is
//! acknowledged is as durable as a scrape (the WAL's contract).

use std::io::Read;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_model::SeriesRef;
use sightline_storage_api::{Appendable, Error as StorageError};
use tracing::{debug, error, warn};

use super::delta::Accumulator;
use super::translate::{translate, Settings};
use super::{codec, json, ExportRequest, OtlpMetrics};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";
/// Samples more than this far in the future are out of bounds (Prometheus' `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;
/// Delta series held at most by the accumulator, and how long an idle one is kept (the
/// collector's `deltatocumulative` default `max_stale`).
const MAX_DELTA_STREAMS: usize = 1_000_000;
const DELTA_MAX_STALE_MS: i64 = 5 * 60 * 1000;

/// The receiver's state.
pub struct Receiver {
    storage: Arc<dyn Appendable>,
    metrics: OtlpMetrics,
    settings: RwLock<Arc<Settings>>,
    deltas: Mutex<Accumulator>,
}

impl Receiver {
    /// A receiver appending to `storage`, translating with `settings`.
    pub fn new(storage: Arc<dyn Appendable>, metrics: OtlpMetrics, settings: Settings) -> Self {
        Receiver {
            storage,
            metrics,
            settings: RwLock::new(Arc::new(settings)),
            deltas: Mutex::new(Accumulator::new(MAX_DELTA_STREAMS, DELTA_MAX_STALE_MS)),
        }
    }

    /// Replaces the translation settings (on a configuration reload).
    pub fn set_settings(&self, settings: Settings) {
        if let Ok(mut s) = self.settings.write() {
            *s = Arc::new(settings);
        }
    }

    fn settings(&self) -> Arc<Settings> {
        match self.settings.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// The route, relative to `/api/v1`. Without a receiver (the flag off) it answers 404 with
/// Prometheus' message.
pub fn router(receiver: Option<Arc<Receiver>>) -> Router {
    match receiver {
        Some(r) => Router::new()
            .route("/otlp/v1/metrics", post(export))
            .with_state(r),
        None => Router::new().route("/otlp/v1/metrics", post(disabled)),
    }
}

async fn disabled() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "otlp write receiver needs to be enabled with --web.enable-otlp-receiver",
    )
}

fn text(status: StatusCode, msg: &str) -> Response {
    let mut r = (status, format!("{msg}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The request's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl Encoding {
    fn label(self) -> &'static str {
        match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "json",
        }
    }
}

/// A request's answer.
#[derive(Debug)]
pub struct Outcome {
    /// 200, 400 or 500.
    pub status: StatusCode,
    /// The error text (for 400 and 500) or the partial-success message.
    pub message: String,
    /// Data points (or samples the storage refused) not stored.
    pub rejected: i64,
    /// Samples committed.
    pub written: usize,
}

impl Outcome {
    fn error(status: StatusCode, message: String) -> Self {
        Outcome {
            status,
            message,
            rejected: 0,
            written: 0,
        }
    }
}

async fn export(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let encoding = match ct.split(';').next().unwrap_or_default().trim() {
        PROTOBUF => Encoding::Protobuf,
        JSON => Encoding::Json,
        _ => {
            rx.metrics.requests.with(&["unknown", "415"]).inc();
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("unsupported content type: {ct}, supported: [{JSON}, {PROTOBUF}]"),
            );
        }
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()) {
        None | Some(b"") => false,
        Some(b"gzip") => true,
        Some(other) => {
            rx.metrics.requests.with(&[encoding.label(), "415"]).inc();
            let other = String::from_utf8_lossy(other);
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!(
                    "unsupported compression: {other}. Only \"gzip\" or no compression supported"
                ),
            );
        }
    };
    let r = rx.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        handle(&r, encoding, gzip, &body, sightline_model::now_ms())
    })
    .await
    .unwrap_or_else(|e| Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
    rx.metrics
        .requests
        .with(&[encoding.label(), outcome.status.as_str()])
        .inc();
    if outcome.status != StatusCode::OK {
        return text(outcome.status, &outcome.message);
    }
    let (body, ct) = match encoding {
        Encoding::Protobuf => (
            codec::encode_response(outcome.rejected, &outcome.message),
            PROTOBUF,
        ),
        Encoding::Json => (
            json::encode_response(outcome.rejected, &outcome.message),
            JSON,
        ),
    };
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// Inflates a gzip body, refusing more than `limit` bytes (a gzip bomb is cut off there).
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut d = flate2::read::GzDecoder::new(body).take(limit as u64 + 1);
    d.read_to_end(&mut out).map_err(|e| format!("gzip: {e}"))?;
    if out.len() > limit {
        return Err(format!(
            "gzip: decompressed body is over the limit of {limit} bytes"
        ));
    }
    Ok(out)
}

/// Decodes, translates and writes one request, synchronously.
pub fn handle(rx: &Receiver, encoding: Encoding, gzip: bool, body: &[u8], now_ms: i64) -> Outcome {
    // JSON costs several times its size once parsed (serde_json's `Value`), so its limit is a
    // quarter of protobuf's (whose decoder charges a memory budget as it goes).
    let limit = match encoding {
        Encoding::Protobuf => crate::MAX_DECOMPRESSED,
        Encoding::Json => crate::MAX_DECOMPRESSED / 4,
    };
    let inflated;
    let raw = if gzip {
        match gunzip(body, limit) {
            Ok(b) => {
                inflated = b;
                &inflated[..]
            }
            Err(e) => {
                error!(error = %e, "Error decoding OTLP write request");
                return Outcome::error(StatusCode::BAD_REQUEST, e);
            }
        }
    } else if body.len() > limit {
        return Outcome::error(
            StatusCode::BAD_REQUEST,
            format!("body is over the limit of {limit} bytes"),
        );
    } else {
        body
    };
    let req = match encoding {
        Encoding::Protobuf => ExportRequest::decode(raw).map_err(|e| e.to_string()),
        Encoding::Json => json::decode(raw),
    };
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "Error decoding OTLP write request");
            return Outcome::error(StatusCode::BAD_REQUEST, e);
        }
    };
    write(rx, &req, now_ms)
}

fn storage_reason(e: &StorageError) -> &'static str {
    match e {
        StorageError::OutOfOrderSample => "out_of_order",
        StorageError::DuplicateSampleForTimestamp => "duplicate",
        _ => "out_of_bounds",
    }
}

/// Translates and appends a decoded request.
pub fn write(rx: &Receiver, req: &ExportRequest, now_ms: i64) -> Outcome {
    let m = &rx.metrics;
    m.points.inc_by(req.data_points() as f64);
    let settings = rx.settings();
    let tr = translate(req, &settings);
    let mut rejected = 0i64;
    let mut messages: Vec<String> = Vec::new();
    for (reason, n, msg) in &tr.rejected {
        m.points_rejected.with(&[reason]).inc_by(*n as f64);
        rejected += *n as i64;
        warn!(reason, points = n, error = %msg, "OTLP data points rejected");
        messages.push(msg.clone());
    }
    let max_t = now_ms + MAX_AHEAD_MS;
    let mut app = rx.storage.appender();
    let mut written = 0usize;
    let mut last: Option<(&sightline_model::Labels, SeriesRef)> = None;
    let mut refused: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut first_refusal: Option<String> = None;
    let mut described: std::collections::HashSet<SeriesRef> = Default::default();
    {
        // The accumulator is locked for the whole request: a series' deltas must be summed
        // in the order they are appended.
        let mut deltas = match rx.deltas.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        for s in &tr.samples {
            let (mut v, mut st) = (s.value, s.start_ms);
            if s.delta {
                match deltas.add(&s.labels, s.start_ms, s.t_ms, s.value, now_ms) {
                    Ok((cum, start)) => (v, st) = (cum, start),
                    Err(_) => {
                        *refused.entry("delta_out_of_order").or_default() += 1;
                        first_refusal.get_or_insert_with(|| {
                            format!("delta point out of order for series {}", s.labels)
                        });
                        continue;
                    }
                }
            }
            if s.t_ms > max_t {
                *refused.entry("too_far_in_future").or_default() += 1;
                first_refusal.get_or_insert_with(|| {
                    format!(
                        "out of bounds: timestamp is too far in the future for series {}",
                        s.labels
                    )
                });
                continue;
            }
            let hint = last.filter(|(l, _)| *l == &s.labels).map(|(_, r)| r);
            let res = match &s.histogram {
                Some(h) => app.append_histogram(hint, &s.labels, s.t_ms, h),
                None => app.append_with_start(hint, &s.labels, st, s.t_ms, v),
            };
            match res {
                Ok(r) => {
                    written += 1;
                    // Metadata once per series and request, as Prometheus' combined appender.
                    if hint.is_none() && described.insert(r) {
                        if let Err(e) = app.update_metadata(r, &s.labels, &s.meta) {
                            debug!(error = %e, "OTLP: metadata not stored");
                        }
                    }
                    last = Some((&s.labels, r));
                }
                Err(e) if e.is_sample_rejection() => {
                    let reason = storage_reason(&e);
                    error!(error = %e, series = %s.labels, timestamp = s.t_ms,
                        "Error when appending sample from OTLP");
                    *refused.entry(reason).or_default() += 1;
                    first_refusal.get_or_insert_with(|| format!("{e} for series {}", s.labels));
                }
                Err(e) => {
                    error!(error = %e, "Error appending OTLP write");
                    if let Err(re) = app.rollback() {
                        error!(error = %re, "OTLP: rollback failed");
                    }
                    m.samples_rejected
                        .with(&["rolled_back"])
                        .inc_by(written as f64);
                    return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
                }
            }
        }
        m.streams.set(deltas.len() as f64);
        let (ev, ex) = deltas.take_counts();
        m.evicted.inc_by(ev as f64);
        m.expired.inc_by(ex as f64);
    }
    if let Err(e) = app.commit() {
        error!(error = %e, "Error appending OTLP write");
        m.samples_rejected
            .with(&["rolled_back"])
            .inc_by(written as f64);
        return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    m.written.inc_by(written as f64);
    for (reason, n) in &refused {
        m.samples_rejected.with(&[reason]).inc_by(*n as f64);
        rejected += *n as i64;
    }
    if let Some(f) = first_refusal {
        let n: usize = refused.values().sum();
        messages.push(format!("{n} samples not stored, the first: {f}"));
    }
    Outcome {
        status: StatusCode::OK,
        message: messages.join("; "),
        rejected,
        written,
    }
}
