//! `POST /api/v1/write`, the remote-write receiver (`--web.enable-remote-write-receiver`).
//!
//! Headers are checked as Prometheus 3's handler does: `Content-Type` must be
//! `application/x-protobuf` (assumed when absent) and its `proto=` parameter picks 1.0
//! (`prometheus.WriteRequest`, the default) or 2.0 (`io.prometheus.write.v2.Request`);
//! `Content-Encoding` must be `snappy` or absent; anything else is 415. The version header
//! (`X-Prometheus-Remote-Write-Version`) is informative only, as in Prometheus.
//!
//! Appends go through the storage's ordinary [`Appender`](sightline_storage_api::Appender), one
//! batch per request, and the answer is 204 only after `commit` returned: the samples are then
//! as durable as a scrape's (the WAL's contract). 1.0 is all or nothing, as Prometheus 2.42
//! and 3.x: an out-of-order, duplicate or out-of-bounds sample rolls the whole request back
//! and answers 400 with the storage's error text (no retry: the sender drops the batch). 2.0
//! writes partially, as Prometheus 3: rejected series and samples are listed in a 400 answer
//! while the rest is committed, and `X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-
//! Written` say what was stored. Native histograms (integer and float, custom buckets included)
//! are stored like samples, under the same rules. The store has no exemplars yet: they are
//! decoded, counted (`sightline_remote_write_rejected_total{reason="unsupported"}`) and left out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_model::{Label, Labels, Metadata, MetricType, SeriesRef, METRIC_NAME};
use sightline_storage_api::{Appendable, Appender, Error as StorageError};
use tracing::{debug, error, warn};

use crate::histconv::{to_model, ModelHistogram};
use crate::{v1, v2, Error, RemoteMetrics};
use sightline_model::histogram::{EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MAX_RESERVED};

const PROTOBUF: &str = "application/x-protobuf";
/// Response headers of 2.0.
pub const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
/// See [`SAMPLES_WRITTEN`].
pub const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
/// See [`SAMPLES_WRITTEN`].
pub const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// Samples more than this far in the future are out of bounds (Prometheus 3's
/// `maxAheadTime`): a sender with a broken clock must not push the head forward.
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// The protocol a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `prometheus.WriteRequest`.
    V1,
    /// `io.prometheus.write.v2.Request`.
    V2,
}

impl Version {
    fn label(self) -> &'static str {
        match self {
            Version::V1 => "1.0",
            Version::V2 => "2.0",
        }
    }
}

/// What the receiver writes into.
pub struct Receiver {
    storage: Arc<dyn Appendable>,
    metrics: RemoteMetrics,
}

impl Receiver {
    /// A receiver appending to `storage`.
    pub fn new(storage: Arc<dyn Appendable>, metrics: RemoteMetrics) -> Self {
        Receiver { storage, metrics }
    }
}

/// The route, relative to `/api/v1`. Without a receiver (the flag off) `POST /write` answers
/// 404 with Prometheus' message.
pub fn router(receiver: Option<Receiver>) -> Router {
    match receiver {
        Some(r) => Router::new()
            .route("/write", post(write))
            .with_state(Arc::new(r)),
        None => Router::new().route("/write", post(disabled)),
    }
}

async fn disabled() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "remote write receiver needs to be enabled with --web.enable-remote-write-receiver",
    )
}

/// Go's `http.Error`: the message and a newline, as plain text.
fn text(status: StatusCode, msg: &str) -> Response {
    let mut r = (status, format!("{msg}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Which message `Content-Type` asks for, with Prometheus' messages for what it refuses.
pub fn parse_content_type(ct: Option<&str>) -> Result<Version, String> {
    let ct = ct
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(PROTOBUF);
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if media != PROTOBUF {
        return Err(format!(
            "expected {PROTOBUF} as the first (media) part, got {ct} content-type"
        ));
    }
    for p in parts {
        let pair: Vec<&str> = p.split('=').collect();
        if pair.len() != 2 {
            return Err(format!(
                "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got {p} in {ct} content-type"
            ));
        }
        if pair[0].trim() == "proto" {
            return match pair[1].trim() {
                v1::MESSAGE => Ok(Version::V1),
                v2::MESSAGE => Ok(Version::V2),
                other => Err(format!(
                    "got {ct} content type; unknown remote write protobuf message {other}, supported: {}, {}",
                    v1::MESSAGE,
                    v2::MESSAGE
                )),
            };
        }
    }
    Ok(Version::V1)
}

async fn write(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let version = match parse_content_type(ct) {
        Ok(v) => v,
        Err(msg) => {
            warn!(error = %msg, "remote write: unsupported content type");
            rx.metrics.requests.with(&["unknown", "415"]).inc();
            return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, &msg);
        }
    };
    let enc = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if !enc.is_empty() && enc != "snappy" {
        let msg = format!(
            "{enc} encoding (compression) is not accepted by this server; only snappy is acceptable"
        );
        rx.metrics.requests.with(&[version.label(), "415"]).inc();
        return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, &msg);
    }
    // Decoding, appending and the commit (which may wait for the disk) run off the runtime.
    let r = rx.clone();
    let outcome = tokio::task::spawn_blocking(move || handle(&r, version, &body)).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    rx.metrics
        .requests
        .with(&[version.label(), outcome.status.as_str()])
        .inc();
    outcome.into_response()
}

/// A request's answer.
#[derive(Debug)]
pub struct Outcome {
    /// 204, 400 or 500.
    pub status: StatusCode,
    /// The error text (empty on success).
    pub message: String,
    /// 2.0's written counts (samples, histograms, exemplars); `None` for 1.0.
    pub written: Option<(usize, usize, usize)>,
}

impl Outcome {
    fn error(status: StatusCode, message: String) -> Self {
        Outcome {
            status,
            message,
            written: None,
        }
    }

    fn ok(written: Option<(usize, usize, usize)>) -> Self {
        Outcome {
            status: StatusCode::NO_CONTENT,
            message: String::new(),
            written,
        }
    }
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let mut r = if self.status == StatusCode::NO_CONTENT {
            StatusCode::NO_CONTENT.into_response()
        } else {
            text(self.status, &self.message)
        };
        if let Some((s, h, x)) = self.written {
            let h2 = r.headers_mut();
            h2.insert(SAMPLES_WRITTEN, HeaderValue::from(s));
            h2.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(h));
            h2.insert(EXEMPLARS_WRITTEN, HeaderValue::from(x));
        }
        r
    }
}

/// Decodes a (snappy-compressed) body and writes it: the whole request, synchronously.
pub fn handle(rx: &Receiver, version: Version, body: &[u8]) -> Outcome {
    let raw = match crate::decompress(body, crate::MAX_DECOMPRESSED) {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "Error decompressing remote write request");
            return Outcome::error(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let now = now_ms();
    match version {
        Version::V1 => match v1::WriteRequest::decode(&raw) {
            Ok(req) => write_v1(rx, req, now),
            Err(e) => {
                error!(error = %e, "Error decoding v1 remote write request");
                Outcome::error(StatusCode::BAD_REQUEST, Error::from(e).to_string())
            }
        },
        Version::V2 => match v2::Request::decode(&raw) {
            Ok(req) => write_v2(rx, &req, now),
            Err(e) => {
                error!(error = %e, "Error decoding v2 remote write request");
                Outcome::error(StatusCode::BAD_REQUEST, Error::from(e).to_string())
            }
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Builds a label set as Prometheus 3's receiver validates it: a metric name, no empty or
/// duplicate names (values are UTF-8 by decoding). Empty values mean "no such label".
/// Takes the labels as decoded (1.0's are moved, not copied: allocation is most of a
/// receiver's CPU).
fn to_labels(mut v: Vec<Label>) -> Result<Labels, String> {
    v.retain(|l| !l.value.is_empty());
    // Senders sort their labels (Prometheus does): check before sorting again.
    if !v.windows(2).all(|w| w[0].name <= w[1].name) {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let shown = || {
        let parts: Vec<String> = v
            .iter()
            .map(|l| format!("{}={:?}", l.name, l.value))
            .collect();
        format!("{{{}}}", parts.join(", "))
    };
    if let Some(w) = v.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "invalid labels for series, labels {}, duplicated label {}",
            shown(),
            w[0].name
        ));
    }
    if !v.iter().any(|l| l.name == METRIC_NAME) || v.iter().any(|l| l.name.is_empty()) {
        return Err(format!("invalid metric name or labels, got {}", shown()));
    }
    Ok(Labels::from_sorted_unchecked(v))
}

fn reason(e: &StorageError) -> &'static str {
    match e {
        StorageError::OutOfOrderSample => "out_of_order",
        StorageError::DuplicateSampleForTimestamp => "duplicate",
        _ => "out_of_bounds",
    }
}

/// One append with Prometheus 3's `remoteWriteAppender` bound on the future.
fn append(
    app: &mut dyn Appender,
    r: Option<SeriesRef>,
    ls: &Labels,
    st: i64,
    t: i64,
    v: f64,
    max_t: i64,
) -> Result<SeriesRef, (StorageError, &'static str)> {
    if t > max_t {
        return Err((StorageError::OutOfBounds, "too_far_in_future"));
    }
    app.append_with_start(r, ls, st, t, v).map_err(|e| {
        let why = reason(&e);
        (e, why)
    })
}

/// One histogram append, bounded on the future as samples are.
fn append_hist(
    app: &mut dyn Appender,
    r: Option<SeriesRef>,
    ls: &Labels,
    h: &v1::Histogram,
    max_t: i64,
) -> Result<SeriesRef, (StorageError, &'static str)> {
    if h.timestamp > max_t {
        return Err((StorageError::OutOfBounds, "too_far_in_future"));
    }
    // As Prometheus 3's `remoteWriteAppender`: a schema above 8 (up to the reserved 52) is
    // reduced to 8 rather than refused.
    let reducible =
        |schema: i32| schema > EXPONENTIAL_SCHEMA_MAX && schema <= EXPONENTIAL_SCHEMA_MAX_RESERVED;
    let res = match to_model(h) {
        ModelHistogram::Int(mut m) => {
            if reducible(m.schema) {
                if let Err(e) = m.reduce_resolution(EXPONENTIAL_SCHEMA_MAX) {
                    return Err((
                        StorageError::InvalidHistogram(e.to_string()),
                        "invalid_histogram",
                    ));
                }
            }
            app.append_histogram(r, ls, h.timestamp, &m)
        }
        ModelHistogram::Float(mut m) => {
            if reducible(m.schema) {
                if let Err(e) = m.reduce_resolution(EXPONENTIAL_SCHEMA_MAX) {
                    return Err((
                        StorageError::InvalidHistogram(e.to_string()),
                        "invalid_histogram",
                    ));
                }
            }
            app.append_float_histogram(r, ls, h.timestamp, &m)
        }
    };
    res.map_err(|e| {
        let why = match &e {
            StorageError::InvalidHistogram(_) => "invalid_histogram",
            _ => reason(&e),
        };
        (e, why)
    })
}

fn write_v1(rx: &Receiver, req: v1::WriteRequest, now: i64) -> Outcome {
    let m = &rx.metrics;
    let total: usize = req
        .timeseries
        .iter()
        .map(|t| t.samples.len() + t.histograms.len())
        .sum();
    m.series.inc_by(req.timeseries.len() as f64);
    m.samples.inc_by(
        req.timeseries
            .iter()
            .map(|t| t.samples.len())
            .sum::<usize>() as f64,
    );
    m.metadata.inc_by(req.metadata.len() as f64);
    let max_t = now + MAX_AHEAD_MS;
    let mut app = rx.storage.appender();
    let mut written = 0usize;
    let mut hists_written = 0usize;
    let mut invalid = 0usize;
    for ts in req.timeseries {
        m.histograms.inc_by(ts.histograms.len() as f64);
        m.exemplars.inc_by(ts.exemplars.len() as f64);
        m.reject("exemplar", "unsupported", ts.exemplars.len());
        let labels = ts
            .labels
            .into_iter()
            .map(|l| Label::new(l.name, l.value))
            .collect();
        let ls = match to_labels(labels) {
            Ok(ls) => ls,
            Err(msg) => {
                // Prometheus 3 skips such a series with a warning and still answers 204.
                warn!(error = %msg, "remote write: invalid metric name or labels");
                invalid += ts.samples.len() + ts.histograms.len();
                continue;
            }
        };
        let mut r = None;
        // Samples first, then histograms, as Prometheus' handler appends them.
        let mut failure = None;
        for s in &ts.samples {
            match append(app.as_mut(), r, &ls, 0, s.timestamp, s.value, max_t) {
                Ok(x) => {
                    r = Some(x);
                    written += 1;
                }
                Err(e) => {
                    failure = Some(("sample", s.timestamp, e));
                    break;
                }
            }
        }
        if failure.is_none() {
            for h in &ts.histograms {
                match append_hist(app.as_mut(), r, &ls, h, max_t) {
                    Ok(x) => {
                        r = Some(x);
                        hists_written += 1;
                    }
                    Err(e) => {
                        failure = Some(("histogram", h.timestamp, e));
                        break;
                    }
                }
            }
        }
        if let Some((kind, t, (e, why))) = failure {
            let sample_level = e.is_sample_rejection();
            if matches!(e, StorageError::InvalidHistogram(_)) {
                error!(error = %e, series = %ls, timestamp = t,
                    "Invalid histogram received");
            } else if sample_level {
                error!(error = %e, series = %ls, timestamp = t,
                    "Out of order {kind} from remote write");
            } else {
                error!(error = %e, "Error while remote writing the v1 request");
            }
            if let Err(re) = app.rollback() {
                error!(error = %re, "remote write: rollback failed");
            }
            m.reject("sample", "invalid_labels", invalid);
            if sample_level {
                m.reject(kind, why, 1);
                m.reject("sample", "rolled_back", total - invalid - 1);
                let msg = if why == "too_far_in_future" {
                    format!("{e}: timestamp is too far in the future")
                } else {
                    e.to_string()
                };
                return Outcome::error(StatusCode::BAD_REQUEST, msg);
            }
            m.reject("sample", "rolled_back", total - invalid);
            return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    }
    m.reject("sample", "invalid_labels", invalid);
    if let Err(e) = app.commit() {
        error!(error = %e, "Error while remote writing the v1 request");
        m.reject("sample", "rolled_back", written + hists_written);
        return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    m.written.inc_by(written as f64);
    m.histograms_written.inc_by(hists_written as f64);
    Outcome::ok(None)
}

fn metadata_of(req: &v2::Request, md: &v2::Metadata) -> Result<Option<Metadata>, String> {
    let help = req.symbol(md.help_ref)?;
    let unit = req.symbol(md.unit_ref)?;
    let metric_type = match md.metric_type {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => MetricType::Unknown,
    };
    if metric_type == MetricType::Unknown && help.is_empty() && unit.is_empty() {
        return Ok(None);
    }
    Ok(Some(Metadata {
        metric_type,
        help: help.to_string(),
        unit: unit.to_string(),
    }))
}

fn write_v2(rx: &Receiver, req: &v2::Request, now: i64) -> Outcome {
    let m = &rx.metrics;
    m.series.inc_by(req.timeseries.len() as f64);
    let max_t = now + MAX_AHEAD_MS;
    let mut app = rx.storage.appender();
    let mut bad: Vec<String> = Vec::new();
    let mut written = 0usize;
    let mut hists_written = 0usize;
    for ts in &req.timeseries {
        m.samples.inc_by(ts.samples.len() as f64);
        m.histograms.inc_by(ts.histograms.len() as f64);
        m.exemplars.inc_by(ts.exemplars.len() as f64);
        m.reject("exemplar", "unsupported", ts.exemplars.len());
        let refs = &ts.labels_refs;
        let pairs = req.labels(refs).map(|p| {
            p.into_iter()
                .filter(|(_, val)| !val.is_empty())
                .map(|(n, val)| Label::new(n, val))
                .collect()
        });
        let ls = match pairs.and_then(to_labels) {
            Ok(ls) => ls,
            Err(msg) => {
                bad.push(format!("parsing labels for series {refs:?}: {msg}"));
                m.reject("sample", "invalid_labels", ts.samples.len());
                m.reject("histogram", "invalid_labels", ts.histograms.len());
                continue;
            }
        };
        let meta = match metadata_of(req, &ts.metadata) {
            Ok(md) => md,
            Err(msg) => {
                bad.push(format!("parsing metadata for series {refs:?}: {msg}"));
                m.reject("sample", "invalid_labels", ts.samples.len());
                m.reject("histogram", "invalid_labels", ts.histograms.len());
                continue;
            }
        };
        if ts.samples.is_empty() && ts.histograms.is_empty() {
            bad.push(format!(
                "TimeSeries must contain at least one sample or histogram for series {ls}"
            ));
            continue;
        }
        let mut r = None;
        for s in &ts.samples {
            let st = if s.start_timestamp != 0 {
                s.start_timestamp
            } else {
                ts.created_timestamp
            };
            match append(app.as_mut(), r, &ls, st, s.timestamp, s.value, max_t) {
                Ok(x) => {
                    r = Some(x);
                    written += 1;
                }
                Err((e, why)) if e.is_sample_rejection() => {
                    m.reject("sample", why, 1);
                    let e = if why == "too_far_in_future" {
                        format!("{e}: timestamp is too far in the future")
                    } else {
                        e.to_string()
                    };
                    bad.push(format!("{e} for series {ls}"));
                }
                Err((e, _)) => {
                    error!(error = %e, "Error while remote writing the v2 request");
                    if let Err(re) = app.rollback() {
                        error!(error = %re, "remote write: rollback failed");
                    }
                    m.reject("sample", "rolled_back", written);
                    return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
                }
            }
        }
        for h in &ts.histograms {
            match append_hist(app.as_mut(), r, &ls, h, max_t) {
                Ok(x) => {
                    r = Some(x);
                    hists_written += 1;
                }
                Err((e, why)) if e.is_sample_rejection() => {
                    m.reject("histogram", why, 1);
                    let e = if why == "too_far_in_future" {
                        format!("{e}: timestamp is too far in the future")
                    } else {
                        e.to_string()
                    };
                    bad.push(format!("{e} for series {ls}"));
                }
                Err((e, _)) => {
                    error!(error = %e, "Error while remote writing the v2 request");
                    if let Err(re) = app.rollback() {
                        error!(error = %re, "remote write: rollback failed");
                    }
                    m.reject("sample", "rolled_back", written);
                    m.reject("histogram", "rolled_back", hists_written);
                    return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
                }
            }
        }
        if let (Some(r), Some(md)) = (r, meta) {
            if let Err(e) = app.update_metadata(r, &ls, &md) {
                debug!(error = %e, series = %ls, "remote write: metadata not stored");
            }
        }
    }
    if let Err(e) = app.commit() {
        error!(error = %e, "Error while remote writing the v2 request");
        m.reject("sample", "rolled_back", written);
        m.reject("histogram", "rolled_back", hists_written);
        return Outcome::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    m.written.inc_by(written as f64);
    m.histograms_written.inc_by(hists_written as f64);
    if bad.is_empty() {
        Outcome::ok(Some((written, hists_written, 0)))
    } else {
        Outcome {
            status: StatusCode::BAD_REQUEST,
            message: bad.join("\n"),
            written: Some((written, hists_written, 0)),
        }
    }
}
