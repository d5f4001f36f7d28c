//! `/federate`, as Prometheus 2.42's `web/federate.go` serves it: for every series matched by
//! one of the `match[]` selectors, its latest sample within the lookback window
//! (`--query.lookback-delta`) before now, skipped when that sample is a stale marker; the
//! configuration's external labels added to each series that lacks them (and `instance=""`
//! when the external labels have no `instance`, as Prometheus does); series grouped into one
//! untyped family per metric name, in name order; timestamps in milliseconds and values as
//! Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes them.
//!
//! Native histograms are federated as Prometheus 3 does: over the delimited protobuf format
//! (negotiated by `Accept`, as a Prometheus scraping with native histograms asks for it) as
//! native histograms, in a `HISTOGRAM` (or, for gauge histograms, `GAUGE_HISTOGRAM`) family of
//! their own; histograms with custom buckets (NHCB) as classic histograms in every format;
//! exponential ones are left out of the text formats, which cannot carry them.
//!
//! Differences from 2.42, each deliberate: OpenMetrics is served when the `Accept` header asks
//! for it (2.42 only negotiates the text format and delimited protobuf; Prometheus itself asks
//! for OpenMetrics first when it scrapes); within a family, series are in label order (2.42's
//! unstable sort by name leaves them in no particular order). Like
//! Prometheus, the samples are not counted against `--query.max-samples`: the response holds
//! one sample per matched series, which is what the selection already held in memory.
//!
//! Cost: one selection per selector, one pass over each series' samples in the window, one
//! sort by name (n log n), and the body is encoded in bounded chunks as the client reads it.

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::RwLock;
use sightline_exposition::proto as pb;
use sightline_model::histogram::is_custom_buckets;
use sightline_model::{
    format_timestamp_secs, is_stale_nan, CounterResetHint, FloatHistogram, Labels, MatchOp,
    Matcher, INSTANCE_LABEL, METRIC_NAME,
};
use sightline_storage_api::{Queryable, SelectHints};

use crate::params::Params;

/// What `/federate` reads.
#[derive(Clone)]
pub struct FederateOptions {
    /// Stored data.
    pub storage: Arc<dyn Queryable>,
    /// `--query.lookback-delta`: how old the latest sample of a series may be.
    pub lookback_delta: Duration,
    /// `global.external_labels` of the loaded configuration (replaced on reload).
    pub external_labels: Arc<RwLock<Labels>>,
}

/// The router serving `GET /federate`; [`crate::router`] merges it through
/// [`ApiState::root_routers`](crate::ApiState::root_routers), behind the readiness gate.
pub fn federate_router(opts: FederateOptions) -> Router {
    Router::new()
        .route("/federate", get(federate))
        .with_state(Arc::new(opts))
}

/// The two formats this endpoint writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    OpenMetrics,
    /// Varint-length-delimited `io.prometheus.client.MetricFamily` messages.
    Protobuf,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Protobuf => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }
}

/// `expfmt.NegotiateIncludingOpenMetrics`: the media ranges in decreasing quality (stable for
/// equal ones); the first that is delimited protobuf of `MetricFamily`, OpenMetrics (version
/// 0.0.1, 1.0.0 or none) or `text/plain` (version 0.0.4 or none) wins; the text format
/// otherwise.
fn negotiate(headers: &HeaderMap) -> Format {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Text;
    };
    let mut ranges: Vec<(f64, &str, Option<&str>, bool)> = Vec::new();
    for part in accept.split(',') {
        let mut fields = part.split(';').map(str::trim);
        let media = fields.next().unwrap_or_default();
        let (mut q, mut version) = (1.0, None);
        let (mut proto, mut delimited) = (false, false);
        for f in fields {
            if let Some((k, v)) = f.split_once('=') {
                match k.trim() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "version" => version = Some(v.trim()),
                    "proto" => proto = v.trim() == "io.prometheus.client.MetricFamily",
                    "encoding" => delimited = v.trim() == "delimited",
                    _ => {}
                }
            }
        }
        ranges.push((q, media, version, proto && delimited));
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, media, version, proto) in ranges {
        if media.eq_ignore_ascii_case("application/vnd.google.protobuf") && proto {
            return Format::Protobuf;
        }
        if media.eq_ignore_ascii_case("application/openmetrics-text")
            && matches!(version, None | Some("0.0.1") | Some("1.0.0"))
        {
            return Format::OpenMetrics;
        }
        if media.eq_ignore_ascii_case("text/plain") && matches!(version, None | Some("0.0.4")) {
            return Format::Text;
        }
    }
    Format::Text
}

/// Go's `http.Error`: plain text, the message and a newline, `nosniff`.
fn http_error(status: StatusCode, msg: &str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response();
    r.headers_mut().insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// One output series: its labels and latest sample (a float, or a native histogram).
struct Row {
    labels: Labels,
    t: i64,
    v: f64,
    h: Option<Arc<FloatHistogram>>,
}

async fn federate(
    State(opts): State<Arc<FederateOptions>>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    let mut sets = Vec::new();
    for s in p.all("match[]") {
        match sightline_promql::parse_metric_selector(s) {
            Ok(ms) => sets.push(ms),
            Err(e) => return http_error(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }
    let format = negotiate(&headers);
    let externals = external_pairs(&opts.external_labels.read());
    let sel = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || select(&opts, &sets, sightline_model::now_ms()))
    };
    let rows = match sel.await {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "federation failed");
            return http_error(StatusCode::INTERNAL_SERVER_ERROR, &e);
        }
        Err(e) => return http_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let chunks = Chunks {
        rows: rows.into_iter(),
        enc: FamilyWriter::new(format, externals),
        done: false,
    };
    (
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from_stream(futures::stream::iter(chunks.map(Ok::<_, Infallible>))),
    )
        .into_response()
}

/// The external labels as federation attaches them: sorted by name, with `instance=""` when
/// they have no `instance` (so a federating Prometheus does not give the series its own).
fn external_pairs(ext: &Labels) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = ext
        .iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect();
    if !ext.has(INSTANCE_LABEL) {
        v.push((INSTANCE_LABEL.to_string(), String::new()));
    }
    v.sort();
    v
}

/// The latest sample of every matched series within `[now - lookback, now]`, without stale
/// ones, sorted by metric name (then labels) and with duplicates across selectors merged.
fn select(opts: &FederateOptions, sets: &[Vec<Matcher>], now: i64) -> Result<Vec<Row>, String> {
    let lookback = i64::try_from(opts.lookback_delta.as_millis()).unwrap_or(i64::MAX);
    let (mint, maxt) = (now.saturating_sub(lookback), now);
    let q = opts
        .storage
        .querier(mint, maxt)
        .map_err(|e| e.to_string())?;
    let hints = SelectHints {
        start: mint,
        end: maxt,
        ..SelectHints::default()
    };
    let mut rows = Vec::new();
    for ms in sets {
        // Prometheus' index selects nothing without matchers; with only matchers that match
        // the empty string it selects every series they allow. Our queriers want one matcher
        // that does not match "", and `__name__!=""` adds no restriction that matters:
        // nameless series are never federated.
        if ms.is_empty() {
            continue;
        }
        let mut ms = ms.clone();
        if ms.iter().all(Matcher::matches_empty) {
            ms.push(Matcher::new(MatchOp::NotEqual, METRIC_NAME, "").map_err(|e| e.to_string())?);
        }
        for mut s in q
            // Unsorted: the rows are sorted by name below, which also merges duplicates.
            .select(false, Some(&hints), &ms)
            .map_err(|e| e.to_string())?
        {
            let mut last = None;
            while let Some(smp) = s.samples.next_sample() {
                last = Some((smp, s.samples.histogram().cloned()));
            }
            match last {
                Some((smp, h)) if h.is_some() || !is_stale_nan(smp.v) => rows.push(Row {
                    labels: s.labels,
                    t: smp.t,
                    v: smp.v,
                    h,
                }),
                _ => {}
            }
        }
    }
    rows.sort_unstable_by(|a, b| {
        let (na, nb) = (
            a.labels.get_or_empty(METRIC_NAME),
            b.labels.get_or_empty(METRIC_NAME),
        );
        na.cmp(nb).then_with(|| a.labels.cmp(&b.labels))
    });
    rows.dedup_by(|a, b| a.labels == b.labels);
    Ok(rows)
}

/// Encodes rows into chunks of about [`CHUNK`] bytes, lazily.
struct Chunks {
    rows: std::vec::IntoIter<Row>,
    enc: FamilyWriter,
    done: bool,
}

/// The size a chunk of the body grows to before it is handed to the connection.
const CHUNK: usize = 32 << 10;

impl Iterator for Chunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut out = Vec::with_capacity(CHUNK + 1024);
        while out.len() < CHUNK {
            match self.rows.next() {
                Some(r) => self.enc.write(&mut out, &r),
                None => {
                    self.enc.finish(&mut out);
                    self.done = true;
                    break;
                }
            }
        }
        if out.is_empty() {
            None
        } else {
            Some(Bytes::from(out))
        }
    }
}

/// Writes series as `federate.go` hands them to the Go encoder: a `# TYPE <name> untyped`
/// line (`unknown` in OpenMetrics) when the name changes, then the series' labels in order
/// without `__name__`, then the external labels it lacks, the value and the timestamp. A
/// family ends where the name, or the kind of sample (float, histogram, gauge histogram),
/// changes. In protobuf, each family is one delimited message.
struct FamilyWriter {
    format: Format,
    externals: Vec<(String, String)>,
    last_name: String,
    last_kind: Kind,
    /// The protobuf family being built.
    family: Option<pb::MetricFamily>,
}

/// What a family holds, as `federate.go` tells families apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Histogram,
    GaugeHistogram,
}

impl Kind {
    fn of(h: Option<&FloatHistogram>) -> Kind {
        match h {
            None => Kind::Float,
            Some(h) if h.counter_reset_hint == CounterResetHint::Gauge => Kind::GaugeHistogram,
            Some(_) => Kind::Histogram,
        }
    }
}

impl FamilyWriter {
    fn new(format: Format, externals: Vec<(String, String)>) -> FamilyWriter {
        FamilyWriter {
            format,
            externals,
            last_name: String::new(),
            last_kind: Kind::Float,
            family: None,
        }
    }

    /// The series' labels without `__name__` and empty ones, then the external labels it
    /// lacks.
    fn pairs<'a>(&'a self, labels: &'a Labels) -> impl Iterator<Item = (&'a str, &'a str)> {
        labels
            .iter()
            .filter(|l| l.name != METRIC_NAME && !l.value.is_empty())
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .chain(
                self.externals
                    .iter()
                    .filter(|(n, _)| !labels.has(n))
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            )
    }

    fn write(&mut self, out: &mut Vec<u8>, r: &Row) {
        let name = r.labels.get_or_empty(METRIC_NAME);
        if name.is_empty() {
            // Prometheus logs and skips nameless series.
            return;
        }
        let h = r.h.as_deref();
        if self.format == Format::Protobuf {
            return self.write_proto(out, name, r);
        }
        if h.is_some_and(|h| !is_custom_buckets(h.schema)) {
            // The text formats cannot carry exponential native histograms.
            return;
        }
        let kind = Kind::of(h);
        if name != self.last_name || kind != self.last_kind {
            out.extend_from_slice(b"# TYPE ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(match (self.format, kind) {
                (Format::Text, Kind::Float) => b" untyped\n".as_slice(),
                (_, Kind::Float) => b" unknown\n".as_slice(),
                (Format::Text, _) => b" histogram\n".as_slice(),
                (_, Kind::Histogram) => b" histogram\n".as_slice(),
                (_, Kind::GaugeHistogram) => b" gaugehistogram\n".as_slice(),
            });
            self.last_name.clear();
            self.last_name.push_str(name);
            self.last_kind = kind;
        }
        match h {
            None => self.sample(out, name, "", &r.labels, None, r.v, r.t),
            Some(h) => {
                // An NHCB as the classic histogram it came from: cumulative buckets with
                // `le`, `+Inf`, then `_sum` and `_count` (`makeClassicHistogram`).
                let bucket = format!("{name}_bucket");
                for (le, c) in classic_buckets(h) {
                    let le = go_float_text(le);
                    self.sample(out, &bucket, "", &r.labels, Some(&le), c, r.t);
                }
                self.sample(out, &bucket, "", &r.labels, Some("+Inf"), h.count, r.t);
                self.sample(out, name, "_sum", &r.labels, None, h.sum, r.t);
                self.sample(out, name, "_count", &r.labels, None, h.count, r.t);
            }
        }
    }

    /// One text line: `name{labels,le} value timestamp`.
    #[allow(clippy::too_many_arguments)]
    fn sample(
        &self,
        out: &mut Vec<u8>,
        name: &str,
        suffix: &str,
        labels: &Labels,
        le: Option<&str>,
        v: f64,
        t: i64,
    ) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        let mut first = true;
        let mut label = |out: &mut Vec<u8>, n: &str, v: &str| {
            out.push(if first { b'{' } else { b',' });
            first = false;
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_label_value(out, v);
            out.push(b'"');
        };
        for (n, v) in self.pairs(labels) {
            label(out, n, v);
        }
        if let Some(le) = le {
            label(out, "le", le);
        }
        if !first {
            out.push(b'}');
        }
        out.push(b' ');
        write_go_float(out, v);
        out.push(b' ');
        match self.format {
            Format::OpenMetrics => out.extend_from_slice(om_timestamp(t).as_bytes()),
            // Writing to a Vec cannot fail.
            _ => {
                let _ = write!(out, "{t}");
            }
        }
        out.push(b'\n');
    }

    fn write_proto(&mut self, out: &mut Vec<u8>, name: &str, r: &Row) {
        let h = r.h.as_deref();
        let kind = Kind::of(h);
        if self.family.is_none() || name != self.last_name || kind != self.last_kind {
            self.flush(out);
            self.family = Some(pb::MetricFamily {
                name: name.to_string(),
                metric_type: match kind {
                    Kind::Float => pb::TYPE_UNTYPED,
                    Kind::Histogram => pb::TYPE_HISTOGRAM,
                    Kind::GaugeHistogram => pb::TYPE_GAUGE_HISTOGRAM,
                },
                ..Default::default()
            });
            self.last_name.clear();
            self.last_name.push_str(name);
            self.last_kind = kind;
        }
        let label: Vec<(String, String)> = self
            .pairs(&r.labels)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut m = pb::Metric {
            label,
            timestamp_ms: r.t,
            ..Default::default()
        };
        match h {
            None => m.untyped = Some(r.v),
            Some(h) if is_custom_buckets(h.schema) => {
                m.histogram = Some(pb::HistogramMsg {
                    sample_count_float: h.count,
                    sample_sum: h.sum,
                    bucket: classic_buckets(h)
                        .into_iter()
                        .map(|(le, c)| pb::Bucket {
                            upper_bound: le,
                            cumulative_count_float: c,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                });
            }
            Some(h) => {
                m.histogram = Some(pb::HistogramMsg {
                    sample_count_float: h.count,
                    sample_sum: h.sum,
                    schema: h.schema,
                    zero_threshold: h.zero_threshold,
                    zero_count_float: h.zero_count,
                    negative_span: h.negative_spans.clone(),
                    negative_count: h.negative_buckets.clone(),
                    positive_span: h.positive_spans.clone(),
                    positive_count: h.positive_buckets.clone(),
                    ..Default::default()
                });
            }
        }
        if let Some(f) = &mut self.family {
            f.metric.push(m);
        }
    }

    /// Writes the protobuf family being built, if any.
    fn flush(&mut self, out: &mut Vec<u8>) {
        if let Some(f) = self.family.take() {
            out.extend_from_slice(&pb::encode_delimited(std::slice::from_ref(&f)));
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush(out);
        if self.format == Format::OpenMetrics {
            out.extend_from_slice(b"# EOF\n");
        }
    }
}

/// The cumulative classic buckets (upper bound, count) of a histogram with custom buckets,
/// one per custom value, without `+Inf` (`makeClassicHistogram`).
fn classic_buckets(h: &FloatHistogram) -> Vec<(f64, f64)> {
    let mut by_index: Vec<f64> = vec![0.0; h.custom_values.len()];
    let mut idx: i64 = 0;
    let mut k = 0usize;
    for s in &h.positive_spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            if let (Ok(i), Some(c)) = (usize::try_from(idx), h.positive_buckets.get(k)) {
                if let Some(slot) = by_index.get_mut(i) {
                    *slot += c;
                }
            }
            idx += 1;
            k += 1;
        }
    }
    let mut cum = 0.0;
    h.custom_values
        .iter()
        .zip(by_index)
        .map(|(le, c)| {
            cum += c;
            (*le, cum)
        })
        .collect()
}

/// A float as Go's text encoder writes it, as text.
fn go_float_text(v: f64) -> String {
    let mut out = Vec::new();
    write_go_float(&mut out, v);
    String::from_utf8(out).unwrap_or_default()
}

/// Escapes a label value as the text format and OpenMetrics do: `\`, `"` and newline.
fn escape_label_value(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// A value as Go's text encoder writes it: `NaN`, `+Inf`, `-Inf`, otherwise
/// `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest round-trip digits, in exponent form
/// (`1.5e-05`, `1.2345675e+06`, at least two exponent digits) when the decimal exponent is
/// below -4 or at least 6 — the 'g' verb's precision for the shortest representation is 6.
fn write_go_float(out: &mut Vec<u8>, v: f64) {
    if crate::render_num::push_non_finite(out, v) {
        return;
    }
    if v == 0.0 {
        // Go's encoder writes `0` for both zeros.
        out.push(b'0');
        return;
    }
    // The decimal exponent decides the form; from 1e-4 to 1e6 (exclusive), where most values
    // are, it is known without formatting. Writing to a Vec cannot fail.
    let a = v.abs();
    if (1e-4..1e6).contains(&a) {
        // Display is the shortest round-trip decimal without an exponent.
        let _ = write!(out, "{v}");
        return;
    }
    // Rust's `{:e}` is the shortest round-trip mantissa with an unpadded exponent.
    let start = out.len();
    let _ = write!(out, "{v:e}");
    let Some(e) = out[start..].iter().position(|&b| b == b'e') else {
        return;
    };
    let exp = out.split_off(start + e + 1);
    let (neg, digits) = match exp.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, exp.as_slice()),
    };
    out.push(if neg { b'-' } else { b'+' });
    if digits.len() < 2 {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

/// An OpenMetrics timestamp (seconds) that Prometheus' parser reads back as exactly `t_ms`.
/// The parser computes `int64(seconds * 1000)`, truncating: for the nearest double of
/// `t_ms / 1000` that product can fall just below `t_ms`, so the next doubles up are tried
/// until it does not (one or two steps at most), and the shortest decimal of that double is
/// written. Exact multiples of a second stay integers.
fn om_timestamp(t_ms: i64) -> String {
    if t_ms % 1000 == 0 {
        return format_timestamp_secs(t_ms);
    }
    let mut s = t_ms as f64 / 1000.0;
    for _ in 0..4 {
        if (s * 1000.0) as i64 >= t_ms {
            break;
        }
        s = s.next_up();
    }
    format!("{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_storage_api::{Appendable, MemStorage};

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        write_go_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_gos_g_format() {
        // Expected strings are what Prometheus 2.42's /federate wrote for these values.
        let cases = [
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "0"),
            (-1.0, "-1"),
            (123456.0, "123456"),
            (1e21, "1e+21"),
            (-1234567.5, "-1.2345675e+06"),
            (11297952.0, "1.1297952e+07"),
            (1.796465718536e12, "1.796465718536e+12"),
            (1.5196e-05, "1.5196e-05"),
            (0.000134425, "0.000134425"),
            (0.0001, "0.0001"),
            (1e6, "1e+06"),
            (999999.0, "999999"),
            (1e-300, "1e-300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(g(v), want, "{v}");
        }
    }

    /// Every value reads back exactly, and is in exponent form exactly when its shortest
    /// decimal's exponent is below -4 or at least 6.
    #[test]
    fn values_round_trip_in_the_right_form() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                // Values near the thresholds and ordinary magnitudes.
                (x % 10_000_000) as f64 / 10f64.powi((x % 14) as i32)
            };
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            let s = g(v);
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
            let e = format!("{v:e}");
            let exp: i32 = e.split_once('e').unwrap().1.parse().unwrap();
            assert_eq!(s.contains('e'), !(-4..6).contains(&exp), "{v:e} as {s}");
        }
    }

    #[test]
    fn om_timestamps_read_back_exactly() {
        for t in (1_796_465_719_000i64..1_796_465_721_000).step_by(7) {
            let s: f64 = om_timestamp(t).parse().unwrap();
            assert_eq!((s * 1000.0) as i64, t, "{t} -> {}", om_timestamp(t));
        }
        assert_eq!(om_timestamp(1_796_465_719_000), "1796465719");
        assert_eq!(om_timestamp(1_796_465_719_536), "1796465719.536");
    }

    #[test]
    fn negotiation() {
        let h = |a: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
            negotiate(&m)
        };
        assert_eq!(negotiate(&HeaderMap::new()), Format::Text);
        // What Prometheus 2.42 sends when it scrapes.
        assert_eq!(
            h("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            Format::OpenMetrics
        );
        assert_eq!(
            h("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"),
            Format::Text
        );
        assert_eq!(
            h("application/openmetrics-text;version=2.0.0"),
            Format::Text
        );
        assert_eq!(
            h("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"),
            Format::Protobuf
        );
        // What Prometheus 2.42 sends with native histograms enabled.
        assert_eq!(
            h("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.3"),
            Format::Protobuf
        );
        // The text form of protobuf is not offered.
        assert_eq!(
            h("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"),
            Format::Text
        );
        assert_eq!(h("*/*"), Format::Text);
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn render(format: Format, ext: &Labels, rows: Vec<Row>) -> String {
        let chunks = Chunks {
            rows: rows.into_iter(),
            enc: FamilyWriter::new(format, external_pairs(ext)),
            done: false,
        };
        String::from_utf8(chunks.flat_map(|b| b.to_vec()).collect()).unwrap()
    }

    #[test]
    fn families_and_external_labels_as_prometheus_writes_them() {
        let ext = labels(&[("cluster", "c1")]);
        let rows = vec![
            Row {
                labels: labels(&[("__name__", "up"), ("instance", "a:1"), ("job", "j")]),
                t: 1000,
                v: 1.0,
                h: None,
            },
            Row {
                labels: labels(&[("__name__", "up"), ("cluster", "own"), ("job", "k\"\n\\")]),
                t: 1001,
                v: 0.0,
                h: None,
            },
            Row {
                labels: labels(&[("__name__", "weird")]),
                t: 1002,
                v: 1e21,
                h: None,
            },
        ];
        assert_eq!(
            render(Format::Text, &ext, rows),
            "# TYPE up untyped\n\
             up{instance=\"a:1\",job=\"j\",cluster=\"c1\"} 1 1000\n\
             up{cluster=\"own\",job=\"k\\\"\\n\\\\\",instance=\"\"} 0 1001\n\
             # TYPE weird untyped\n\
             weird{cluster=\"c1\",instance=\"\"} 1e+21 1002\n"
        );
        let rows = vec![Row {
            labels: labels(&[("__name__", "up"), ("job", "j")]),
            t: 1_500,
            v: 1.0,
            h: None,
        }];
        let with_instance = labels(&[("instance", "zz")]);
        assert_eq!(
            render(Format::OpenMetrics, &with_instance, rows),
            "# TYPE up unknown\nup{job=\"j\",instance=\"zz\"} 1 1.5\n# EOF\n"
        );
        assert_eq!(render(Format::Text, &ext, Vec::new()), "");
        assert_eq!(render(Format::OpenMetrics, &ext, Vec::new()), "# EOF\n");
    }

    #[test]
    fn native_histograms_over_protobuf_and_nhcb_as_classic_in_text() {
        use sightline_model::histogram::CUSTOM_BUCKETS_SCHEMA;
        use sightline_model::Span;
        let exp = FloatHistogram {
            schema: 1,
            count: 6.0,
            sum: 9.5,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![2.0, 3.0],
            ..FloatHistogram::default()
        };
        let nhcb = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 7.0,
            sum: 3.25,
            positive_spans: vec![Span::new(0, 1), Span::new(1, 2)],
            positive_buckets: vec![1.0, 2.0, 4.0],
            custom_values: Arc::from(&[0.1, 0.5, 1.0][..]),
            ..FloatHistogram::default()
        };
        let rows = || {
            vec![
                Row {
                    labels: labels(&[("__name__", "lat"), ("job", "j")]),
                    t: 2000,
                    v: 0.0,
                    h: Some(Arc::new(exp.clone())),
                },
                Row {
                    labels: labels(&[("__name__", "lat"), ("job", "k")]),
                    t: 2000,
                    v: 0.0,
                    h: Some(Arc::new(FloatHistogram {
                        counter_reset_hint: CounterResetHint::Gauge,
                        ..exp.clone()
                    })),
                },
                Row {
                    labels: labels(&[("__name__", "req"), ("job", "j")]),
                    t: 3000,
                    v: 0.0,
                    h: Some(Arc::new(nhcb.clone())),
                },
                Row {
                    labels: labels(&[("__name__", "up"), ("job", "j")]),
                    t: 3000,
                    v: 1.0,
                    h: None,
                },
            ]
        };
        let ext = labels(&[("instance", "x")]);
        // Text: the exponential histograms are left out, the NHCB is a classic histogram.
        assert_eq!(
            render(Format::Text, &ext, rows()),
            "# TYPE req histogram\n\
             req_bucket{job=\"j\",instance=\"x\",le=\"0.1\"} 1 3000\n\
             req_bucket{job=\"j\",instance=\"x\",le=\"0.5\"} 1 3000\n\
             req_bucket{job=\"j\",instance=\"x\",le=\"1\"} 3 3000\n\
             req_bucket{job=\"j\",instance=\"x\",le=\"+Inf\"} 7 3000\n\
             req_sum{job=\"j\",instance=\"x\"} 3.25 3000\n\
             req_count{job=\"j\",instance=\"x\"} 7 3000\n\
             # TYPE up untyped\n\
             up{job=\"j\",instance=\"x\"} 1 3000\n"
        );
        // Protobuf: read back with the scrape parser, every histogram as it was.
        let chunks = Chunks {
            rows: rows().into_iter(),
            enc: FamilyWriter::new(Format::Protobuf, external_pairs(&ext)),
            done: false,
        };
        let body: Vec<u8> = chunks.flat_map(|b| b.to_vec()).collect();
        let mut p = sightline_exposition::proto::parse_proto(&body, Default::default());
        let mut hists = Vec::new();
        let mut floats = Vec::new();
        while let Some(e) = p.next_entry() {
            if let sightline_exposition::proto::ProtoEntry::Sample(s) = e.unwrap() {
                let mut b = sightline_model::LabelsBuilder::default();
                s.labels_into(&mut b);
                let l = b.build().to_string();
                match &s.value {
                    sightline_exposition::proto::ProtoValue::Float(v) => floats.push((l, *v)),
                    other => hists.push((l, format!("{other:?}"))),
                }
            }
        }
        // The two exponential histograms as native ones; the NHCB as a classic histogram.
        assert_eq!(hists.len(), 2, "{hists:?}");
        assert!(hists[0].0.contains("job=\"j\""), "{hists:?}");
        assert!(
            hists[0].1.contains("positive_buckets: [2.0, 3.0]"),
            "{hists:?}"
        );
        assert!(hists[1].1.contains("Gauge"), "{hists:?}");
        let has = |parts: &[&str], v: f64| {
            floats
                .iter()
                .any(|(l, x)| parts.iter().all(|p| l.contains(p)) && *x == v)
        };
        assert!(has(&["\"up\""], 1.0), "{floats:?}");
        assert!(has(&["\"req_bucket\"", "le=\"1.0\""], 3.0), "{floats:?}");
        assert!(has(&["\"req_bucket\"", "le=\"+Inf\""], 7.0), "{floats:?}");
        assert!(
            has(&["\"req_count\""], 7.0) && has(&["\"req_sum\""], 3.25),
            "{floats:?}"
        );
    }

    #[test]
    fn big_outputs_come_in_chunks() {
        let rows: Vec<Row> = (0..5000)
            .map(|i| Row {
                labels: labels(&[("__name__", "m"), ("i", &i.to_string())]),
                t: i,
                v: i as f64,
                h: None,
            })
            .collect();
        let chunks = Chunks {
            rows: rows.into_iter(),
            enc: FamilyWriter::new(Format::Text, Vec::new()),
            done: false,
        };
        let sizes: Vec<usize> = chunks.map(|b| b.len()).collect();
        assert!(sizes.len() > 2, "{sizes:?}");
        assert!(sizes.iter().all(|&s| s < CHUNK + 1024), "{sizes:?}");
    }

    fn opts(st: Arc<MemStorage>) -> FederateOptions {
        FederateOptions {
            storage: st,
            lookback_delta: Duration::from_secs(300),
            external_labels: Arc::new(RwLock::new(Labels::empty())),
        }
    }

    #[test]
    fn latest_sample_in_the_window_stale_skipped_duplicates_merged() {
        let st = Arc::new(MemStorage::new());
        let now = 1_000_000_000;
        {
            let mut a = st.appender();
            let l = |n: &str, i: &str| labels(&[("__name__", n), ("i", i)]);
            a.append(None, &l("b", "1"), now - 20_000, 1.0).unwrap();
            a.append(None, &l("b", "1"), now - 10_000, 2.0).unwrap();
            // Newer than "now": outside the window.
            a.append(None, &l("b", "1"), now + 10_000, 3.0).unwrap();
            a.append(None, &l("a", "1"), now - 10_000, 5.0).unwrap();
            a.append(
                None,
                &l("a", "1"),
                now - 5_000,
                sightline_model::stale_nan(),
            )
            .unwrap();
            a.append(None, &l("a", "2"), now - 400_000, 6.0).unwrap();
            a.append(None, &l("a", "3"), now - 299_000, 7.0).unwrap();
            a.commit().unwrap();
        }
        let o = opts(st);
        let sel = |s: &[&str]| {
            let sets: Vec<Vec<Matcher>> = s
                .iter()
                .map(|s| sightline_promql::parse_metric_selector(s).unwrap())
                .collect();
            select(&o, &sets, now)
                .unwrap()
                .into_iter()
                .map(|r| {
                    (
                        r.labels.get_or_empty("__name__").to_string() + r.labels.get_or_empty("i"),
                        r.t,
                        r.v,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            sel(&["b", "{i=~\".+\"}", "a"]),
            vec![
                ("a3".to_string(), now - 299_000, 7.0),
                ("b1".to_string(), now - 10_000, 2.0)
            ]
        );
        assert_eq!(sel(&["{}"]), vec![]);
        assert_eq!(sel(&["{x=\"\"}"]).len(), 2);
        assert_eq!(sel(&["nothing"]), vec![]);
    }

    #[test]
    fn selector_errors_are_prometheus_words() {
        // Texts Prometheus 2.42's /federate answered with (400, plain text).
        let err = |s: &str| {
            sightline_promql::parse_metric_selector(s)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("up{"),
            "1:4: parse error: unexpected end of input inside braces"
        );
        assert_eq!(err("foo[5m]"), "1:4: parse error: unexpected \"[\"");
        assert_eq!(err("rate(x[1m])"), "1:5: parse error: unexpected \"(\"");
        assert_eq!(err(""), "1:1: parse error: unexpected end of input");
        assert_eq!(err("up}"), "1:3: parse error: unexpected character: '}'");
        assert_eq!(
            err("{__name__=~\"x\""),
            "1:15: parse error: unexpected end of input inside braces"
        );
    }
}
