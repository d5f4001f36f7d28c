//! `POST /api/v1/read`, served as Prometheus 2.42's `storage/remote/read_handler.go` serves
//! it (always on, no flag).
//!
//! A request waits for one of `--storage.remote.read-concurrent-limit` slots, then its body
//! is snappy-decompressed and decoded (400 on failure) and its response type negotiated: the
//! first of `accepted_response_types` the server knows (SAMPLES when the list is empty; 400
//! when it knows none). Each query's matchers are converted (an equality matcher on an
//! external label with the external value becomes `name=""`, as the label is not stored;
//! an unknown matcher type or a bad regex is a 500, as in 2.42); the storage is read over
//! the query's range, or the hints' range when the query has hints (2.42's TSDB querier
//! trims to `hints.start_ms..=hints.end_ms`), and a `series` hint selects series without
//! samples. Stale markers are returned as stored, as Prometheus' querier does. Every series
//! gets the external labels it lacks (its own win), labels sorted.
//!
//! SAMPLES: one snappy `ReadResponse`; `--storage.remote.read-sample-limit` (0 = none)
//! bounds the samples of each query (400 `exceeded sample limit (N)`). STREAMED_XOR_CHUNKS:
//! one frame per series or part of a series (see `frame.rs`), series sorted, chunks of at
//! most 120 samples in Prometheus' XOR encoding, a frame cut once its chunks and labels pass
//! `--storage.remote.read-max-bytes-in-frame` (2.42's accounting); frames are produced on a
//! blocking thread and handed to the connection through a small bounded channel, so the
//! response is never held whole. An error before the first frame is an ordinary error
//! response; after it, the stream is cut (2.42 appends the error text to the stream,
//! which the client then fails to parse).
//!
//! Deliberate differences from 2.42: `--storage.remote.read-concurrent-limit=0` means no
//! limit, as its help says (2.42's gate of size 0 blocks every request); chunks hold only
//! the samples inside the range (2.42 sends whole stored chunks, which may reach outside it).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_model::{Labels, MatchOp, Matcher, METRIC_NAME};
use sightline_storage_api::{Queryable, SelectHints, Series};
use tokio::sync::Semaphore;
use tracing::warn;

use super::messages::{
    self, label_size, matcher_type, Query, QueryResultWriter, ReadRequest, SAMPLES,
    STREAMED_XOR_CHUNKS,
};
use super::metrics::{InFlight, ReadMetrics};
use super::xor::{XorChunk, SAMPLES_PER_CHUNK};
use crate::v1::Label;

/// `Content-Type` of a streamed response.
pub const STREAMED_CONTENT_TYPE: &str =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/// The limits, as Prometheus' flags name them.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// `--storage.remote.read-sample-limit`: samples per query of a SAMPLES response (0: no
    /// limit).
    pub sample_limit: usize,
    /// `--storage.remote.read-concurrent-limit`: requests served at once (0: no limit).
    pub concurrent_limit: usize,
    /// `--storage.remote.read-max-bytes-in-frame`.
    pub max_bytes_in_frame: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            sample_limit: 50_000_000,
            concurrent_limit: 10,
            max_bytes_in_frame: 1_048_576,
        }
    }
}

/// The configuration's external labels, read at each request (a reload replaces them).
pub type ExternalLabels = Arc<dyn Fn() -> Labels + Send + Sync>;

/// What the handler reads from.
pub struct ReadHandler {
    storage: Arc<dyn Queryable>,
    external_labels: ExternalLabels,
    opts: ReadOptions,
    gate: Option<Arc<Semaphore>>,
    metrics: ReadMetrics,
}

impl ReadHandler {
    /// A handler over `storage`.
    pub fn new(
        storage: Arc<dyn Queryable>,
        external_labels: ExternalLabels,
        opts: ReadOptions,
        metrics: ReadMetrics,
    ) -> Self {
        let gate =
            (opts.concurrent_limit > 0).then(|| Arc::new(Semaphore::new(opts.concurrent_limit)));
        ReadHandler {
            storage,
            external_labels,
            opts,
            gate,
            metrics,
        }
    }
}

/// The route, relative to `/api/v1`.
pub fn router(handler: ReadHandler) -> Router {
    Router::new()
        .route("/read", post(read))
        .with_state(Arc::new(handler))
}

/// An error answer: status and Go's `http.Error` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 400 or 500.
    pub status: StatusCode,
    /// The message (without the newline Go adds).
    pub message: String,
}

impl Failure {
    fn internal(message: impl Into<String>) -> Self {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Failure {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut r = (self.status, format!("{}\n", self.message)).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        r
    }
}

async fn read(State(h): State<Arc<ReadHandler>>, body: Bytes) -> Response {
    // 2.42's gate waits (until the client gives up) rather than refusing.
    let permit = match &h.gate {
        Some(g) => match g.clone().acquire_owned().await {
            Ok(p) => Some(p),
            Err(e) => return Failure::internal(e.to_string()).into_response(),
        },
        None => None,
    };
    let inflight = InFlight::new(&h.metrics.queries);
    let req = match decode_request(&body) {
        Ok(r) => r,
        Err(f) => return h.answer("unknown", f.into_response()),
    };
    let rtype = match negotiate(&req.accepted_response_types) {
        Ok(t) => t,
        Err(f) => return h.answer("unknown", f.into_response()),
    };
    let ext = (h.external_labels)();
    if rtype == STREAMED_XOR_CHUNKS {
        return streamed(h, req, ext, (permit, inflight)).await;
    }
    let hh = h.clone();
    let done = tokio::task::spawn_blocking(move || {
        let _hold = (permit, inflight);
        samples_response(&hh, &req, &ext)
    })
    .await;
    let r = match done {
        Ok(Ok(body)) => {
            let mut r = (StatusCode::OK, body).into_response();
            let hd = r.headers_mut();
            hd.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            );
            hd.insert(header::CONTENT_ENCODING, HeaderValue::from_static("snappy"));
            r
        }
        Ok(Err(f)) => f.into_response(),
        Err(e) => Failure::internal(e.to_string()).into_response(),
    };
    h.answer("samples", r)
}

impl ReadHandler {
    fn answer(&self, rtype: &str, r: Response) -> Response {
        self.metrics
            .requests
            .with(&[rtype, r.status().as_str()])
            .inc();
        r
    }
}

/// Decompresses and decodes a request body (400 on failure, with the reason).
pub fn decode_request(body: &[u8]) -> Result<ReadRequest, Failure> {
    let raw = crate::decompress(body, crate::MAX_DECOMPRESSED)
        .map_err(|e| Failure::bad(e.to_string()))?;
    ReadRequest::decode(&raw).map_err(|e| Failure::bad(e.to_string()))
}

/// `NegotiateResponseType`: the first accepted type the server supports, SAMPLES for an
/// empty list, otherwise 400 with 2.42's message.
pub fn negotiate(accepted: &[i32]) -> Result<i32, Failure> {
    if accepted.is_empty() {
        return Ok(SAMPLES);
    }
    if let Some(&t) = accepted
        .iter()
        .find(|&&t| t == SAMPLES || t == STREAMED_XOR_CHUNKS)
    {
        return Ok(t);
    }
    let names: Vec<String> = accepted.iter().map(|t| t.to_string()).collect();
    Err(Failure::bad(format!(
        "server does not support any of the requested response types: [{}]; supported: map[SAMPLES:{{}} STREAMED_XOR_CHUNKS:{{}}]",
        names.join(" ")
    )))
}

/// `filterExtLabelsFromMatchers` over `FromLabelMatchers`.
pub fn matchers(q: &Query, ext: &Labels) -> Result<Vec<Matcher>, Failure> {
    q.matchers
        .iter()
        .map(|m| {
            let op = match m.r#type {
                matcher_type::EQ => MatchOp::Equal,
                matcher_type::NEQ => MatchOp::NotEqual,
                matcher_type::RE => MatchOp::RegexMatch,
                matcher_type::NRE => MatchOp::RegexNoMatch,
                _ => return Err(Failure::internal("invalid matcher type")),
            };
            if op == MatchOp::Equal && ext.get_or_empty(&m.name) == m.value {
                return Ok(Matcher::equal(m.name.clone(), ""));
            }
            Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|e| Failure::internal(e.to_string()))
        })
        .collect()
}

/// Reads the series of one query: the storage over the query's range (the hints' when it
/// has hints), sorted when asked.
fn select(h: &ReadHandler, q: &Query, ext: &Labels, sorted: bool) -> Result<Vec<Series>, Failure> {
    let mut ms = matchers(q, ext)?;
    // Prometheus' index selects nothing without matchers, and everything the matchers allow
    // when they all match the empty string; our queriers want one matcher that does not
    // match "", and `__name__!=""` restricts nothing (stored series all have a name).
    if ms.is_empty() {
        return Ok(Vec::new());
    }
    if ms.iter().all(Matcher::matches_empty) {
        ms.push(
            Matcher::new(MatchOp::NotEqual, METRIC_NAME, "")
                .map_err(|e| Failure::internal(e.to_string()))?,
        );
    }
    let (mint, maxt) = match &q.hints {
        Some(hi) => (hi.start_ms, hi.end_ms),
        None => (q.start_timestamp_ms, q.end_timestamp_ms),
    };
    let querier = h
        .storage
        .querier(mint, maxt)
        .map_err(|e| Failure::internal(e.to_string()))?;
    let hints = q.hints.as_ref().map(|hi| SelectHints {
        start: hi.start_ms,
        end: hi.end_ms,
        step: hi.step_ms,
        func: (!hi.func.is_empty()).then(|| hi.func.clone()),
    });
    let mut series = querier
        .select(sorted, hints.as_ref(), &ms)
        .map_err(|e| Failure::internal(e.to_string()))?;
    if q.hints.as_ref().is_some_and(|hi| hi.func == "series") {
        // 2.42 reads no chunks for a `series` hint.
        for s in &mut series {
            s.samples = Box::new(sightline_storage_api::VecSampleIterator::new(Vec::new()));
        }
    }
    Ok(series)
}

/// `MergeLabels(series, external)`: both sorted, the series' own labels win.
pub fn merge_labels(series: &Labels, ext: &Labels) -> Vec<Label> {
    let (a, b) = (series.as_slice(), ext.as_slice());
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    let push = |out: &mut Vec<Label>, l: &sightline_model::Label| {
        out.push(Label {
            name: l.name.to_string(),
            value: l.value.to_string(),
        })
    };
    while i < a.len() && j < b.len() {
        match a[i].name.cmp(&b[j].name) {
            std::cmp::Ordering::Less => {
                push(&mut out, &a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                push(&mut out, &b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                push(&mut out, &a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    a[i..].iter().for_each(|l| push(&mut out, l));
    b[j..].iter().for_each(|l| push(&mut out, l));
    out
}

/// The whole SAMPLES answer, snappy-compressed.
pub fn samples_response(
    h: &ReadHandler,
    req: &ReadRequest,
    ext: &Labels,
) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let limit = h.opts.sample_limit;
    let (mut nseries, mut nsamples) = (0usize, 0usize);
    for q in &req.queries {
        let mut w = QueryResultWriter::default();
        let mut n = 0usize;
        for mut s in select(h, q, ext, false)? {
            let mut buf = Vec::new();
            let mut hists = Vec::new();
            while let Some(smp) = s.samples.next_sample() {
                n += 1;
                if limit > 0 && n > limit {
                    h.metrics.rejected.with(&["sample_limit"]).inc();
                    return Err(Failure::bad(format!("exceeded sample limit ({limit})")));
                }
                match s.samples.histogram() {
                    Some(fh) => hists.push(crate::histconv::from_float(smp.t, fh)),
                    None => buf.push((smp.t, smp.v)),
                }
            }
            w.series_with_histograms(&merge_labels(&s.labels, ext), buf.into_iter(), &hists);
            nseries += 1;
        }
        nsamples += n;
        w.finish_into(&mut out);
    }
    h.metrics.series.inc_by(nseries as f64);
    h.metrics.samples.inc_by(nsamples as f64);
    Ok(crate::compress(&out))
}

/// Streams every query's series as frames through `send`, which returns false once the
/// client is gone (the stream then ends quietly). An error may come after frames were sent.
pub fn stream_frames(
    h: &ReadHandler,
    req: &ReadRequest,
    ext: &Labels,
    mut send: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), Failure> {
    let m = &h.metrics;
    for (qi, q) in req.queries.iter().enumerate() {
        for mut s in select(h, q, ext, true)? {
            let labels = merge_labels(&s.labels, ext);
            let budget = h.opts.max_bytes_in_frame as i64
                - labels
                    .iter()
                    .map(|l| label_size(&l.name, &l.value) as i64)
                    .sum::<i64>();
            let mut left = budget;
            let mut done: Vec<XorChunk> = Vec::new();
            let mut cur = XorChunk::new();
            let mut sent_any = false;
            let mut flush = |done: &mut Vec<XorChunk>| -> bool {
                let msg = messages::encode_frame(
                    qi as i64,
                    &labels,
                    done.iter().map(|c| (c.min_t(), c.max_t(), c.bytes())),
                );
                m.chunks.inc_by(done.len() as f64);
                m.samples
                    .inc_by(done.iter().map(XorChunk::len).sum::<usize>() as f64);
                m.frames.inc();
                done.clear();
                send(super::frame::frame(&msg))
            };
            while let Some(smp) = s.samples.next_sample() {
                if s.samples.histogram().is_some() {
                    // Streamed histogram chunks need Prometheus' histogram chunk encoding;
                    // refusing is better than leaving the samples out.
                    return Err(Failure::bad(format!(
                        "series {} holds native histograms, which streamed remote read does not \
                         carry yet: ask for SAMPLES",
                        s.labels
                    )));
                }
                if cur.len() == SAMPLES_PER_CHUNK {
                    // A next chunk exists: 2.42 keeps filling the frame while it has room.
                    let full = std::mem::take(&mut cur);
                    left -= chunk_wire_size(&full) as i64;
                    done.push(full);
                    if left <= 0 {
                        if !flush(&mut done) {
                            return Ok(());
                        }
                        sent_any = true;
                        left = budget;
                    }
                }
                cur.append(smp.t, smp.v);
            }
            if !cur.is_empty() {
                done.push(cur);
            }
            if !done.is_empty() {
                if !flush(&mut done) {
                    return Ok(());
                }
                sent_any = true;
            }
            if sent_any {
                m.series.inc();
            }
        }
    }
    Ok(())
}

fn chunk_wire_size(c: &XorChunk) -> usize {
    messages::chunk_size(&messages::Chunk {
        min_time_ms: c.min_t(),
        max_time_ms: c.max_t(),
        r#type: super::xor::ENCODING_XOR,
        data: Vec::new(),
    }) + 1
        + messages::varint_len(c.bytes().len() as u64)
        + c.bytes().len()
}

/// How many frames may wait between the producer and the connection.
const FRAMES_IN_FLIGHT: usize = 4;

async fn streamed<T: Send + 'static>(
    h: Arc<ReadHandler>,
    req: ReadRequest,
    ext: Labels,
    hold: T,
) -> Response {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, Failure>>(FRAMES_IN_FLIGHT);
    let hh = h.clone();
    tokio::task::spawn_blocking(move || {
        let _hold = hold;
        let r = stream_frames(&hh, &req, &ext, |f| {
            tx.blocking_send(Ok(Bytes::from(f))).is_ok()
        });
        if let Err(f) = r {
            warn!(error = %f.message, "remote read: streamed query failed");
            let _ = tx.blocking_send(Err(f));
        }
    });
    let first = match rx.recv().await {
        Some(Err(f)) => return h.answer("streamed", f.into_response()),
        other => other,
    };
    let rest = futures::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await? {
            Ok(b) => Some((Ok(b), rx)),
            // Cutting the body makes the client see an incomplete stream.
            Err(f) => Some((Err(std::io::Error::other(f.message)), rx)),
        }
    });
    let head =
        futures::stream::iter(first.map(|f| f.map_err(|e| std::io::Error::other(e.message))));
    let mut r = Response::new(Body::from_stream(futures::StreamExt::chain(head, rest)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(STREAMED_CONTENT_TYPE),
    );
    h.answer("streamed", r)
}
