//! Writing the protobuf exposition: client_model's messages as plain structs, encoded as
//! varint-length-delimited `MetricFamily` messages. For tests and fixtures (a target that
//! serves native histograms); field names follow `metrics.proto`.

use sightline_model::Span;

use super::wire::Writer;

/// `MetricType.COUNTER`.
pub const TYPE_COUNTER: i32 = 0;
/// `MetricType.GAUGE`.
pub const TYPE_GAUGE: i32 = 1;
/// `MetricType.SUMMARY`.
pub const TYPE_SUMMARY: i32 = 2;
/// `MetricType.UNTYPED`.
pub const TYPE_UNTYPED: i32 = 3;
/// `MetricType.HISTOGRAM`.
pub const TYPE_HISTOGRAM: i32 = 4;
/// `MetricType.GAUGE_HISTOGRAM`.
pub const TYPE_GAUGE_HISTOGRAM: i32 = 5;

/// `google.protobuf.Timestamp`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timestamp {
    /// Seconds since the epoch.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: i32,
}

impl Timestamp {
    /// The timestamp of `ms` milliseconds since the epoch.
    pub fn from_ms(ms: i64) -> Self {
        Timestamp {
            seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
        }
    }
}

/// `Exemplar`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    /// `label`.
    pub label: Vec<(String, String)>,
    /// `value`.
    pub value: f64,
    /// `timestamp`.
    pub timestamp: Option<Timestamp>,
}

/// `Counter`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counter {
    /// `value`.
    pub value: f64,
    /// `exemplar`.
    pub exemplar: Option<Exemplar>,
    /// `start_timestamp`.
    pub start_timestamp: Option<Timestamp>,
}

/// `Quantile`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantile {
    /// `quantile`.
    pub quantile: f64,
    /// `value`.
    pub value: f64,
}

/// `Summary`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// `sample_count`.
    pub sample_count: u64,
    /// `sample_sum`.
    pub sample_sum: f64,
    /// `quantile`.
    pub quantile: Vec<Quantile>,
    /// `start_timestamp`.
    pub start_timestamp: Option<Timestamp>,
}

/// A classic `Bucket`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    /// `cumulative_count`.
    pub cumulative_count: u64,
    /// `cumulative_count_float`.
    pub cumulative_count_float: f64,
    /// `upper_bound`.
    pub upper_bound: f64,
    /// `exemplar`.
    pub exemplar: Option<Exemplar>,
}

/// `Histogram` (classic and native parts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramMsg {
    /// `sample_count`.
    pub sample_count: u64,
    /// `sample_count_float`.
    pub sample_count_float: f64,
    /// `sample_sum`.
    pub sample_sum: f64,
    /// `bucket`.
    pub bucket: Vec<Bucket>,
    /// `start_timestamp`.
    pub start_timestamp: Option<Timestamp>,
    /// `schema`.
    pub schema: i32,
    /// `zero_threshold`.
    pub zero_threshold: f64,
    /// `zero_count`.
    pub zero_count: u64,
    /// `zero_count_float`.
    pub zero_count_float: f64,
    /// `negative_span`.
    pub negative_span: Vec<Span>,
    /// `negative_delta`.
    pub negative_delta: Vec<i64>,
    /// `negative_count`.
    pub negative_count: Vec<f64>,
    /// `positive_span`.
    pub positive_span: Vec<Span>,
    /// `positive_delta`.
    pub positive_delta: Vec<i64>,
    /// `positive_count`.
    pub positive_count: Vec<f64>,
    /// `exemplars`.
    pub exemplars: Vec<Exemplar>,
}

/// `Metric`: its labels, one value message and an optional timestamp.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metric {
    /// `label`.
    pub label: Vec<(String, String)>,
    /// `gauge` (its value).
    pub gauge: Option<f64>,
    /// `counter`.
    pub counter: Option<Counter>,
    /// `summary`.
    pub summary: Option<Summary>,
    /// `untyped` (its value).
    pub untyped: Option<f64>,
    /// `histogram`.
    pub histogram: Option<HistogramMsg>,
    /// `timestamp_ms` (0 = none).
    pub timestamp_ms: i64,
}

/// `MetricFamily`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricFamily {
    /// `name`.
    pub name: String,
    /// `help`.
    pub help: String,
    /// `type` (one of the `TYPE_*` constants).
    pub metric_type: i32,
    /// `metric`.
    pub metric: Vec<Metric>,
    /// `unit`.
    pub unit: String,
}

fn timestamp(w: &mut Writer, field: u32, t: &Option<Timestamp>) {
    if let Some(t) = t {
        w.message(field, |w| {
            w.int64(1, t.seconds);
            w.int32(2, t.nanos);
        });
    }
}

fn label_pairs(w: &mut Writer, field: u32, l: &[(String, String)]) {
    for (n, v) in l {
        w.message(field, |w| {
            w.string(1, n);
            w.string(2, v);
        });
    }
}

fn exemplar(w: &mut Writer, field: u32, e: &Exemplar) {
    w.message(field, |w| {
        label_pairs(w, 1, &e.label);
        w.double(2, e.value);
        timestamp(w, 3, &e.timestamp);
    });
}

fn spans(w: &mut Writer, field: u32, s: &[Span]) {
    for s in s {
        w.message(field, |w| {
            w.sint32(1, s.offset);
            w.uint64(2, u64::from(s.length));
        });
    }
}

fn histogram(w: &mut Writer, h: &HistogramMsg) {
    w.uint64(1, h.sample_count);
    w.double(2, h.sample_sum);
    for b in &h.bucket {
        w.message(3, |w| {
            w.uint64(1, b.cumulative_count);
            w.double(2, b.upper_bound);
            if let Some(e) = &b.exemplar {
                exemplar(w, 3, e);
            }
            w.double(4, b.cumulative_count_float);
        });
    }
    w.double(4, h.sample_count_float);
    w.sint32(5, h.schema);
    w.double(6, h.zero_threshold);
    w.uint64(7, h.zero_count);
    w.double(8, h.zero_count_float);
    spans(w, 9, &h.negative_span);
    w.packed_sint64(10, &h.negative_delta);
    w.packed_doubles(11, &h.negative_count);
    spans(w, 12, &h.positive_span);
    w.packed_sint64(13, &h.positive_delta);
    w.packed_doubles(14, &h.positive_count);
    timestamp(w, 15, &h.start_timestamp);
    for e in &h.exemplars {
        exemplar(w, 16, e);
    }
}

impl MetricFamily {
    /// The message's bytes (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.string(1, &self.name);
        w.string(2, &self.help);
        w.int32(3, self.metric_type);
        for m in &self.metric {
            w.message(4, |w| {
                label_pairs(w, 1, &m.label);
                if let Some(v) = m.gauge {
                    w.message(2, |w| w.double(1, v));
                }
                if let Some(c) = &m.counter {
                    w.message(3, |w| {
                        w.double(1, c.value);
                        if let Some(e) = &c.exemplar {
                            exemplar(w, 2, e);
                        }
                        timestamp(w, 3, &c.start_timestamp);
                    });
                }
                if let Some(s) = &m.summary {
                    w.message(4, |w| {
                        w.uint64(1, s.sample_count);
                        w.double(2, s.sample_sum);
                        for q in &s.quantile {
                            w.message(3, |w| {
                                w.double(1, q.quantile);
                                w.double(2, q.value);
                            });
                        }
                        timestamp(w, 4, &s.start_timestamp);
                    });
                }
                if let Some(v) = m.untyped {
                    w.message(5, |w| w.double(1, v));
                }
                w.int64(6, m.timestamp_ms);
                if let Some(h) = &m.histogram {
                    w.message(7, |w| histogram(w, h));
                }
            });
        }
        w.string(5, &self.unit);
        w.buf
    }
}

/// Families as a delimited protobuf exposition (each message prefixed with its length as a
/// varint), what a client library serves for the protobuf `Accept` type.
pub fn encode_delimited(families: &[MetricFamily]) -> Vec<u8> {
    let mut w = Writer::default();
    for f in families {
        let b = f.encode();
        w.varint(b.len() as u64);
        w.buf.extend_from_slice(&b);
    }
    w.buf
}
