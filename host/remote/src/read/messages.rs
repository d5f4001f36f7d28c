//! The remote-read messages of Prometheus 2.42 (`prompb/remote.proto`, `types.proto`):
//! `ReadRequest` with its queries, matchers and hints, `ReadResponse` (samples) and
//! `ChunkedReadResponse` (streamed XOR chunks). Each decodes and encodes both ways: the server
//! decodes requests and encodes responses, tests and clients do the reverse.

use crate::error::DecodeError;
use crate::proto::{fields, Budget, Writer};
use crate::v1::{self, Label, TimeSeries};

type R<T> = std::result::Result<T, DecodeError>;

/// `prometheus.ReadRequest`.
pub const READ_REQUEST: &str = "prometheus.ReadRequest";
/// `prometheus.ReadResponse`.
pub const READ_RESPONSE: &str = "prometheus.ReadResponse";
/// `prometheus.ChunkedReadResponse`.
pub const CHUNKED_READ_RESPONSE: &str = "prometheus.ChunkedReadResponse";

/// `ReadRequest.ResponseType.SAMPLES`.
pub const SAMPLES: i32 = 0;
/// `ReadRequest.ResponseType.STREAMED_XOR_CHUNKS`.
pub const STREAMED_XOR_CHUNKS: i32 = 1;

/// `LabelMatcher.Type` values.
pub mod matcher_type {
    /// `=`.
    pub const EQ: i32 = 0;
    /// `!=`.
    pub const NEQ: i32 = 1;
    /// `=~`.
    pub const RE: i32 = 2;
    /// `!~`.
    pub const NRE: i32 = 3;
}

/// `prometheus.ReadRequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadRequest {
    /// Field 1.
    pub queries: Vec<Query>,
    /// Field 2, in the client's order of preference; unknown values are kept (the server
    /// names them when it refuses the request).
    pub accepted_response_types: Vec<i32>,
}

/// `prometheus.Query`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Field 1, milliseconds.
    pub start_timestamp_ms: i64,
    /// Field 2, milliseconds.
    pub end_timestamp_ms: i64,
    /// Field 3.
    pub matchers: Vec<LabelMatcher>,
    /// Field 4; `None` when absent (which differs from present and empty: Prometheus' storage
    /// then reads the hints' range).
    pub hints: Option<ReadHints>,
}

/// `prometheus.LabelMatcher`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMatcher {
    /// Field 1 (see [`matcher_type`]; unknown values are kept).
    pub r#type: i32,
    /// Field 2.
    pub name: String,
    /// Field 3.
    pub value: String,
}

/// `prometheus.ReadHints`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadHints {
    /// Field 1.
    pub step_ms: i64,
    /// Field 2.
    pub func: String,
    /// Field 3.
    pub start_ms: i64,
    /// Field 4.
    pub end_ms: i64,
    /// Field 5.
    pub grouping: Vec<String>,
    /// Field 6.
    pub by: bool,
    /// Field 7.
    pub range_ms: i64,
}

/// `prometheus.ReadResponse`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadResponse {
    /// Field 1, one per query, in the request's order.
    pub results: Vec<QueryResult>,
}

/// `prometheus.QueryResult`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Field 1.
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.ChunkedReadResponse`: one frame of a streamed response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkedReadResponse {
    /// Field 1 (the server sends one series per frame).
    pub chunked_series: Vec<ChunkedSeries>,
    /// Field 2: the index of the query in the request.
    pub query_index: i64,
}

/// `prometheus.ChunkedSeries`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkedSeries {
    /// Field 1, sorted.
    pub labels: Vec<Label>,
    /// Field 2, in start time order.
    pub chunks: Vec<Chunk>,
}

/// `prometheus.Chunk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    /// Field 1, inclusive.
    pub min_time_ms: i64,
    /// Field 2, inclusive.
    pub max_time_ms: i64,
    /// Field 3: UNKNOWN 0, XOR 1, HISTOGRAM 2.
    pub r#type: i32,
    /// Field 4.
    pub data: Vec<u8>,
}

impl ReadRequest {
    /// Decodes a (decompressed) message.
    pub fn decode(buf: &[u8]) -> Result<ReadRequest, DecodeError> {
        decode_request(buf).map_err(|e| e.finish(READ_REQUEST))
    }

    /// Encodes the message (not compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for q in &self.queries {
            w.message(1, |w| {
                w.int64(1, q.start_timestamp_ms);
                w.int64(2, q.end_timestamp_ms);
                for m in &q.matchers {
                    w.message(3, |w| {
                        w.int32(1, m.r#type);
                        w.string(2, &m.name);
                        w.string(3, &m.value);
                    });
                }
                if let Some(h) = &q.hints {
                    w.message(4, |w| {
                        w.int64(1, h.step_ms);
                        w.string(2, &h.func);
                        w.int64(3, h.start_ms);
                        w.int64(4, h.end_ms);
                        for g in &h.grouping {
                            w.bytes(5, g.as_bytes());
                        }
                        w.uint64(6, u64::from(h.by));
                        w.int64(7, h.range_ms);
                    });
                }
            });
        }
        w.packed_varints(
            2,
            self.accepted_response_types
                .iter()
                .map(|&t| i64::from(t) as u64),
        );
        w.buf
    }
}

fn decode_request(buf: &[u8]) -> R<ReadRequest> {
    let budget = &Budget::for_input(buf.len());
    let mut req = ReadRequest::default();
    fields(buf, 0, |field, v, at| match field {
        1 => {
            let i = req.queries.len();
            let q = v
                .message(at)
                .and_then(|(b, off)| decode_query(b, off, budget))
                .map_err(|e| e.at("queries", Some(i)))?;
            req.queries.push(q);
            Ok(())
        }
        2 => {
            let mut n = 0usize;
            v.packed_varints(at, |x| {
                n += 1;
                req.accepted_response_types.push(x as i32);
            })
            .map_err(|e| e.at("accepted_response_types", None))?;
            budget.charge(n * 4, at)
        }
        _ => Ok(()),
    })?;
    Ok(req)
}

fn decode_query(buf: &[u8], base: usize, budget: &Budget) -> R<Query> {
    budget.charge(std::mem::size_of::<Query>(), base)?;
    let mut q = Query::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => {
                q.start_timestamp_ms = v.int64(at).map_err(|e| e.at("start_timestamp_ms", None))?
            }
            2 => q.end_timestamp_ms = v.int64(at).map_err(|e| e.at("end_timestamp_ms", None))?,
            3 => {
                let i = q.matchers.len();
                let m = v
                    .message(at)
                    .and_then(|(b, off)| decode_matcher(b, off, budget))
                    .map_err(|e| e.at("matchers", Some(i)))?;
                q.matchers.push(m);
            }
            4 => {
                // A repeated occurrence of a message field merges into the first, as protobuf
                // specifies.
                let h = q.hints.take().unwrap_or_default();
                let h = v
                    .message(at)
                    .and_then(|(b, off)| decode_hints(b, off, budget, h))
                    .map_err(|e| e.at("hints", None))?;
                q.hints = Some(h);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(q)
}

fn decode_matcher(buf: &[u8], base: usize, budget: &Budget) -> R<LabelMatcher> {
    budget.charge(std::mem::size_of::<LabelMatcher>(), base)?;
    let mut m = LabelMatcher::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => m.r#type = v.int32(at).map_err(|e| e.at("type", None))?,
            2 => m.name = v.string(at).map_err(|e| e.at("name", None))?,
            3 => m.value = v.string(at).map_err(|e| e.at("value", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(m)
}

fn decode_hints(buf: &[u8], base: usize, budget: &Budget, mut h: ReadHints) -> R<ReadHints> {
    budget.charge(std::mem::size_of::<ReadHints>(), base)?;
    fields(buf, base, |field, v, at| {
        match field {
            1 => h.step_ms = v.int64(at).map_err(|e| e.at("step_ms", None))?,
            2 => h.func = v.string(at).map_err(|e| e.at("func", None))?,
            3 => h.start_ms = v.int64(at).map_err(|e| e.at("start_ms", None))?,
            4 => h.end_ms = v.int64(at).map_err(|e| e.at("end_ms", None))?,
            5 => {
                let i = h.grouping.len();
                budget.charge(std::mem::size_of::<String>(), at)?;
                h.grouping
                    .push(v.string(at).map_err(|e| e.at("grouping", Some(i)))?);
            }
            6 => h.by = v.uint64(at).map_err(|e| e.at("by", None))? != 0,
            7 => h.range_ms = v.int64(at).map_err(|e| e.at("range_ms", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(h)
}

impl ReadResponse {
    /// Decodes a (decompressed) message.
    pub fn decode(buf: &[u8]) -> Result<ReadResponse, DecodeError> {
        decode_response(buf).map_err(|e| e.finish(READ_RESPONSE))
    }

    /// Encodes the message (not compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for r in &self.results {
            let mut q = QueryResultWriter::default();
            for ts in &r.timeseries {
                q.series(
                    &ts.labels,
                    ts.samples.iter().map(|s| (s.timestamp, s.value)),
                );
            }
            q.finish_into(&mut w.buf);
        }
        w.buf
    }
}

fn decode_response(buf: &[u8]) -> R<ReadResponse> {
    let budget = &Budget::for_input(buf.len());
    let mut resp = ReadResponse::default();
    fields(buf, 0, |field, v, at| {
        if field == 1 {
            let i = resp.results.len();
            let (b, off) = v.message(at).map_err(|e| e.at("results", Some(i)))?;
            budget.charge(std::mem::size_of::<QueryResult>(), off)?;
            let mut r = QueryResult::default();
            fields(b, off, |field, v, at| {
                if field == 1 {
                    let j = r.timeseries.len();
                    let (b, off) = v.message(at).map_err(|e| e.at("timeseries", Some(j)))?;
                    let ts = v1::decode_series(b, off, budget)
                        .map_err(|e| e.at("timeseries", Some(j)))?;
                    r.timeseries.push(ts);
                }
                Ok(())
            })
            .map_err(|e| e.at("results", Some(i)))?;
            resp.results.push(r);
        }
        Ok(())
    })?;
    Ok(resp)
}

/// Writes one `QueryResult` series by series, without building [`TimeSeries`] values: the
/// read handler's hot loop. Samples are written inline (no allocation per sample).
#[derive(Default)]
pub struct QueryResultWriter {
    body: Vec<u8>,
    series: Writer,
}

impl QueryResultWriter {
    /// Appends a series: its labels (name, value) and samples (timestamp, value).
    pub fn series<'a>(
        &mut self,
        labels: impl IntoIterator<Item = &'a Label>,
        samples: impl Iterator<Item = (i64, f64)>,
    ) {
        self.series_with_histograms(labels, samples, &[]);
    }

    /// Appends a series with native-histogram samples too (`TimeSeries.histograms`).
    pub fn series_with_histograms<'a>(
        &mut self,
        labels: impl IntoIterator<Item = &'a Label>,
        samples: impl Iterator<Item = (i64, f64)>,
        histograms: &[crate::v1::Histogram],
    ) {
        let w = &mut self.series;
        w.buf.clear();
        for l in labels {
            write_label(w, &l.name, &l.value);
        }
        for (t, v) in samples {
            write_sample(w, t, v);
        }
        for h in histograms {
            w.message(4, |w| crate::v1::encode_histogram(w, h));
        }
        let mut out = Writer {
            buf: std::mem::take(&mut self.body),
        };
        out.bytes(1, &w.buf);
        self.body = out.buf;
    }

    /// Bytes of the series written so far.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether no series was written.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Appends the finished `QueryResult` as field 1 of a `ReadResponse` being written into
    /// `out`.
    pub fn finish_into(self, out: &mut Vec<u8>) {
        let mut w = Writer {
            buf: std::mem::take(out),
        };
        w.bytes(1, &self.body);
        *out = w.buf;
    }
}

fn write_label(w: &mut Writer, name: &str, value: &str) {
    let len = field_len(name.len()) + field_len(value.len());
    w.varint((1 << 3) | 2);
    w.varint(len as u64);
    w.string(1, name);
    w.string(2, value);
}

/// A `prometheus.Sample` sub-message (field 2 of `TimeSeries`), written inline.
fn write_sample(w: &mut Writer, t: i64, v: f64) {
    let vlen = if v.to_bits() != 0 { 9 } else { 0 };
    let tlen = if t != 0 { 1 + varint_len(t as u64) } else { 0 };
    w.varint((2 << 3) | 2);
    w.varint((vlen + tlen) as u64);
    w.double(1, v);
    w.int64(2, t);
}

/// The size of a string or bytes field of `n` bytes (tag of one byte), 0 when empty.
fn field_len(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        1 + varint_len(n as u64) + n
    }
}

pub(crate) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// The size of a `Label` message as gogo's `Size()` computes it (its fields, without the
/// tag and length that embed it), which Prometheus charges against a frame's budget.
pub fn label_size(name: &str, value: &str) -> usize {
    field_len(name.len()) + field_len(value.len())
}

/// The size of a `Chunk` message as gogo's `Size()` computes it.
pub fn chunk_size(c: &Chunk) -> usize {
    let i = |v: i64| if v != 0 { 1 + varint_len(v as u64) } else { 0 };
    i(c.min_time_ms) + i(c.max_time_ms) + i(i64::from(c.r#type)) + field_len(c.data.len())
}

impl ChunkedReadResponse {
    /// Decodes one frame's message.
    pub fn decode(buf: &[u8]) -> Result<ChunkedReadResponse, DecodeError> {
        decode_chunked(buf).map_err(|e| e.finish(CHUNKED_READ_RESPONSE))
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for s in &self.chunked_series {
            w.message(1, |w| {
                for l in &s.labels {
                    write_label(w, &l.name, &l.value);
                }
                for c in &s.chunks {
                    w.message(2, |w| {
                        w.int64(1, c.min_time_ms);
                        w.int64(2, c.max_time_ms);
                        w.int32(3, c.r#type);
                        if !c.data.is_empty() {
                            w.bytes(4, &c.data);
                        }
                    });
                }
            });
        }
        w.int64(2, self.query_index);
        w.buf
    }
}

fn decode_chunked(buf: &[u8]) -> R<ChunkedReadResponse> {
    let budget = &Budget::for_input(buf.len());
    let mut resp = ChunkedReadResponse::default();
    fields(buf, 0, |field, v, at| {
        match field {
            1 => {
                let i = resp.chunked_series.len();
                let s = v
                    .message(at)
                    .and_then(|(b, off)| decode_chunked_series(b, off, budget))
                    .map_err(|e| e.at("chunked_series", Some(i)))?;
                resp.chunked_series.push(s);
            }
            2 => resp.query_index = v.int64(at).map_err(|e| e.at("query_index", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(resp)
}

fn decode_chunked_series(buf: &[u8], base: usize, budget: &Budget) -> R<ChunkedSeries> {
    budget.charge(std::mem::size_of::<ChunkedSeries>(), base)?;
    let mut s = ChunkedSeries::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => {
                let i = s.labels.len();
                let l = v
                    .message(at)
                    .and_then(|(b, off)| v1::decode_label(b, off, budget))
                    .map_err(|e| e.at("labels", Some(i)))?;
                s.labels.push(l);
            }
            2 => {
                let i = s.chunks.len();
                let c = v
                    .message(at)
                    .and_then(|(b, off)| decode_chunk(b, off, budget))
                    .map_err(|e| e.at("chunks", Some(i)))?;
                s.chunks.push(c);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn decode_chunk(buf: &[u8], base: usize, budget: &Budget) -> R<Chunk> {
    budget.charge(std::mem::size_of::<Chunk>(), base)?;
    let mut c = Chunk::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => c.min_time_ms = v.int64(at).map_err(|e| e.at("min_time_ms", None))?,
            2 => c.max_time_ms = v.int64(at).map_err(|e| e.at("max_time_ms", None))?,
            3 => c.r#type = v.int32(at).map_err(|e| e.at("type", None))?,
            4 => {
                let (b, _) = v.message(at).map_err(|e| e.at("data", None))?;
                c.data = b.to_vec();
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// Encodes one series' frame: labels and chunks already Prometheus-encoded, without copying
/// the chunk data twice.
#[cfg(any(feature = "receiver", test))]
pub(crate) fn encode_frame<'a>(
    query_index: i64,
    labels: &[Label],
    chunks: impl Iterator<Item = (i64, i64, &'a [u8])>,
) -> Vec<u8> {
    let mut series = Writer::default();
    for l in labels {
        write_label(&mut series, &l.name, &l.value);
    }
    for (min_t, max_t, data) in chunks {
        let c = |v: i64| if v != 0 { 1 + varint_len(v as u64) } else { 0 };
        let len = c(min_t) + c(max_t) + 2 + field_len(data.len());
        series.varint((2 << 3) | 2);
        series.varint(len as u64);
        series.int64(1, min_t);
        series.int64(2, max_t);
        series.int32(3, crate::read::xor::ENCODING_XOR);
        series.bytes(4, data);
    }
    let mut w = Writer::default();
    w.bytes(1, &series.buf);
    w.int64(2, query_index);
    w.buf
}
