//! Remote write 1.0: `prometheus.WriteRequest` (prompb/remote.proto and types.proto of
//! Prometheus 2.42), decoded and encoded by hand. The histogram and its spans are shared with
//! 2.0, which keeps the same field numbers.

use crate::error::DecodeError;
use crate::proto::{fields, Budget, Writer};

/// The protobuf message name, as `Content-Type: application/x-protobuf;proto=` names it.
pub const MESSAGE: &str = "prometheus.WriteRequest";

type R<T> = std::result::Result<T, DecodeError>;

/// `prometheus.WriteRequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteRequest {
    /// Field 1.
    pub timeseries: Vec<TimeSeries>,
    /// Field 3 (per metric family, not per series).
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeries {
    /// Field 1, in the sender's order (not necessarily sorted or unique).
    pub labels: Vec<Label>,
    /// Field 2.
    pub samples: Vec<Sample>,
    /// Field 3.
    pub exemplars: Vec<Exemplar>,
    /// Field 4 (native histograms).
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    /// Field 1.
    pub name: String,
    /// Field 2.
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Field 1.
    pub value: f64,
    /// Field 2, milliseconds since the epoch.
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    /// Field 1.
    pub labels: Vec<Label>,
    /// Field 2.
    pub value: f64,
    /// Field 3.
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Field 1: UNKNOWN 0, COUNTER 1, GAUGE 2, HISTOGRAM 3, GAUGEHISTOGRAM 4, SUMMARY 5,
    /// INFO 6, STATESET 7.
    pub metric_type: i32,
    /// Field 2.
    pub metric_family_name: String,
    /// Field 4.
    pub help: String,
    /// Field 5.
    pub unit: String,
}

/// A `oneof` count: integer for integer histograms, float for float histograms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// `count_int` / `zero_count_int`.
    Int(u64),
    /// `count_float` / `zero_count_float`.
    Float(f64),
}

impl Default for Count {
    fn default() -> Self {
        Count::Int(0)
    }
}

/// A native histogram sample (`prometheus.Histogram`; 2.0's `Histogram` adds
/// `custom_values`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Fields 1/2.
    pub count: Count,
    /// Field 3.
    pub sum: f64,
    /// Field 4.
    pub schema: i32,
    /// Field 5.
    pub zero_threshold: f64,
    /// Fields 6/7.
    pub zero_count: Count,
    /// Field 8.
    pub negative_spans: Vec<BucketSpan>,
    /// Field 9.
    pub negative_deltas: Vec<i64>,
    /// Field 10.
    pub negative_counts: Vec<f64>,
    /// Field 11.
    pub positive_spans: Vec<BucketSpan>,
    /// Field 12.
    pub positive_deltas: Vec<i64>,
    /// Field 13.
    pub positive_counts: Vec<f64>,
    /// Field 14.
    pub reset_hint: i32,
    /// Field 15.
    pub timestamp: i64,
    /// Field 16 (2.0 only: custom bucket bounds).
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// Whether this is a float histogram (as Prometheus' `IsFloatHistogram`).
    pub fn is_float(&self) -> bool {
        matches!(self.count, Count::Float(_))
    }
}

/// `prometheus.BucketSpan`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketSpan {
    /// Field 1.
    pub offset: i32,
    /// Field 2.
    pub length: u32,
}

impl WriteRequest {
    /// Decodes a (decompressed) message.
    pub fn decode(buf: &[u8]) -> Result<WriteRequest, DecodeError> {
        decode_request(buf).map_err(|e| e.finish(MESSAGE))
    }

    /// Encodes the message (not compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for ts in &self.timeseries {
            w.message(1, |w| encode_series(w, ts));
        }
        for m in &self.metadata {
            w.message(3, |w| {
                w.int32(1, m.metric_type);
                w.string(2, &m.metric_family_name);
                w.string(4, &m.help);
                w.string(5, &m.unit);
            });
        }
        w.buf
    }
}

fn decode_request(buf: &[u8]) -> R<WriteRequest> {
    let budget = &Budget::for_input(buf.len());
    let mut req = WriteRequest::default();
    fields(buf, 0, |field, v, at| match field {
        1 => {
            let i = req.timeseries.len();
            let (b, off) = v.message(at).map_err(|e| e.at("timeseries", Some(i)))?;
            let ts = decode_series(b, off, budget).map_err(|e| e.at("timeseries", Some(i)))?;
            req.timeseries.push(ts);
            Ok(())
        }
        3 => {
            let i = req.metadata.len();
            let m = v
                .message(at)
                .and_then(|(b, off)| decode_metadata(b, off, budget))
                .map_err(|e| e.at("metadata", Some(i)))?;
            req.metadata.push(m);
            Ok(())
        }
        _ => Ok(()),
    })?;
    Ok(req)
}

pub(crate) fn decode_series(buf: &[u8], base: usize, budget: &Budget) -> R<TimeSeries> {
    budget.charge(std::mem::size_of::<TimeSeries>(), base)?;
    let mut ts = TimeSeries::default();
    fields(buf, base, |field, v, at| match field {
        1 => {
            let i = ts.labels.len();
            let l = v
                .message(at)
                .and_then(|(b, off)| decode_label(b, off, budget))
                .map_err(|e| e.at("labels", Some(i)))?;
            ts.labels.push(l);
            Ok(())
        }
        2 => {
            let i = ts.samples.len();
            let s = v
                .message(at)
                .and_then(|(b, off)| decode_sample(b, off, budget))
                .map_err(|e| e.at("samples", Some(i)))?;
            ts.samples.push(s);
            Ok(())
        }
        3 => {
            let i = ts.exemplars.len();
            let x = v
                .message(at)
                .and_then(|(b, off)| decode_exemplar(b, off, budget))
                .map_err(|e| e.at("exemplars", Some(i)))?;
            ts.exemplars.push(x);
            Ok(())
        }
        4 => {
            let i = ts.histograms.len();
            let h = v
                .message(at)
                .and_then(|(b, off)| decode_histogram(b, off, budget))
                .map_err(|e| e.at("histograms", Some(i)))?;
            ts.histograms.push(h);
            Ok(())
        }
        _ => Ok(()),
    })?;
    Ok(ts)
}

pub(crate) fn decode_label(buf: &[u8], base: usize, budget: &Budget) -> R<Label> {
    budget.charge(std::mem::size_of::<Label>(), base)?;
    let mut l = Label::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => l.name = v.string(at).map_err(|e| e.at("name", None))?,
            2 => l.value = v.string(at).map_err(|e| e.at("value", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(l)
}

fn decode_sample(buf: &[u8], base: usize, budget: &Budget) -> R<Sample> {
    budget.charge(std::mem::size_of::<Sample>(), base)?;
    let mut s = Sample::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => s.value = v.double(at).map_err(|e| e.at("value", None))?,
            2 => s.timestamp = v.int64(at).map_err(|e| e.at("timestamp", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn decode_exemplar(buf: &[u8], base: usize, budget: &Budget) -> R<Exemplar> {
    budget.charge(std::mem::size_of::<Exemplar>(), base)?;
    let mut x = Exemplar::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => {
                let i = x.labels.len();
                let l = v
                    .message(at)
                    .and_then(|(b, off)| decode_label(b, off, budget))
                    .map_err(|e| e.at("labels", Some(i)))?;
                x.labels.push(l);
            }
            2 => x.value = v.double(at).map_err(|e| e.at("value", None))?,
            3 => x.timestamp = v.int64(at).map_err(|e| e.at("timestamp", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(x)
}

fn decode_metadata(buf: &[u8], base: usize, budget: &Budget) -> R<MetricMetadata> {
    budget.charge(std::mem::size_of::<MetricMetadata>(), base)?;
    let mut m = MetricMetadata::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => m.metric_type = v.int32(at).map_err(|e| e.at("type", None))?,
            2 => {
                m.metric_family_name = v.string(at).map_err(|e| e.at("metric_family_name", None))?
            }
            4 => m.help = v.string(at).map_err(|e| e.at("help", None))?,
            5 => m.unit = v.string(at).map_err(|e| e.at("unit", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(m)
}

pub(crate) fn decode_histogram(buf: &[u8], base: usize, budget: &Budget) -> R<Histogram> {
    budget.charge(std::mem::size_of::<Histogram>(), base)?;
    let mut h = Histogram::default();
    fields(buf, base, |field, v, at| {
        let name = match field {
            1 => "count_int",
            2 => "count_float",
            3 => "sum",
            4 => "schema",
            5 => "zero_threshold",
            6 => "zero_count_int",
            7 => "zero_count_float",
            8 => "negative_spans",
            9 => "negative_deltas",
            10 => "negative_counts",
            11 => "positive_spans",
            12 => "positive_deltas",
            13 => "positive_counts",
            14 => "reset_hint",
            15 => "timestamp",
            16 => "custom_values",
            _ => return Ok(()),
        };
        let r: R<()> = (|| {
            match field {
                1 => h.count = Count::Int(v.uint64(at)?),
                2 => h.count = Count::Float(v.double(at)?),
                3 => h.sum = v.double(at)?,
                4 => h.schema = v.sint32(at)?,
                5 => h.zero_threshold = v.double(at)?,
                6 => h.zero_count = Count::Int(v.uint64(at)?),
                7 => h.zero_count = Count::Float(v.double(at)?),
                8 => {
                    let (b, off) = v.message(at)?;
                    let i = h.negative_spans.len();
                    h.negative_spans
                        .push(decode_span(b, off, budget).map_err(|e| e.at(name, Some(i)))?);
                    return Ok(());
                }
                9 => v.packed_varints(at, |x| h.negative_deltas.push(crate::proto::unzigzag(x)))?,
                10 => v.packed_doubles(at, &mut h.negative_counts)?,
                11 => {
                    let (b, off) = v.message(at)?;
                    let i = h.positive_spans.len();
                    h.positive_spans
                        .push(decode_span(b, off, budget).map_err(|e| e.at(name, Some(i)))?);
                    return Ok(());
                }
                12 => {
                    v.packed_varints(at, |x| h.positive_deltas.push(crate::proto::unzigzag(x)))?
                }
                13 => v.packed_doubles(at, &mut h.positive_counts)?,
                14 => h.reset_hint = v.int32(at)?,
                15 => h.timestamp = v.int64(at)?,
                _ => v.packed_doubles(at, &mut h.custom_values)?,
            }
            Ok(())
        })();
        r.map_err(|e| if e.has_path() { e } else { e.at(name, None) })
    })?;
    Ok(h)
}

fn decode_span(buf: &[u8], base: usize, budget: &Budget) -> R<BucketSpan> {
    budget.charge(std::mem::size_of::<BucketSpan>(), base)?;
    let mut s = BucketSpan::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => s.offset = v.sint32(at).map_err(|e| e.at("offset", None))?,
            2 => s.length = v.uint32(at).map_err(|e| e.at("length", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn encode_series(w: &mut Writer, ts: &TimeSeries) {
    for l in &ts.labels {
        w.message(1, |w| encode_label(w, l));
    }
    for s in &ts.samples {
        w.message(2, |w| {
            w.double(1, s.value);
            w.int64(2, s.timestamp);
        });
    }
    for x in &ts.exemplars {
        w.message(3, |w| {
            for l in &x.labels {
                w.message(1, |w| encode_label(w, l));
            }
            w.double(2, x.value);
            w.int64(3, x.timestamp);
        });
    }
    for h in &ts.histograms {
        w.message(4, |w| encode_histogram(w, h));
    }
}

fn encode_label(w: &mut Writer, l: &Label) {
    w.string(1, &l.name);
    w.string(2, &l.value);
}

/// A oneof member is written even at its default, so that the variant survives.
fn encode_count(w: &mut Writer, int_field: u32, c: Count) {
    match c {
        Count::Int(0) => {}
        Count::Int(v) => w.uint64(int_field, v),
        Count::Float(v) => {
            w.varint((u64::from(int_field + 1) << 3) | 1);
            w.buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

pub(crate) fn encode_histogram(w: &mut Writer, h: &Histogram) {
    encode_count(w, 1, h.count);
    w.double(3, h.sum);
    w.sint32(4, h.schema);
    w.double(5, h.zero_threshold);
    encode_count(w, 6, h.zero_count);
    for s in &h.negative_spans {
        w.message(8, |w| encode_span(w, s));
    }
    w.packed_varints(
        9,
        h.negative_deltas.iter().map(|&d| crate::proto::zigzag(d)),
    );
    w.packed_doubles(10, &h.negative_counts);
    for s in &h.positive_spans {
        w.message(11, |w| encode_span(w, s));
    }
    w.packed_varints(
        12,
        h.positive_deltas.iter().map(|&d| crate::proto::zigzag(d)),
    );
    w.packed_doubles(13, &h.positive_counts);
    w.int32(14, h.reset_hint);
    w.int64(15, h.timestamp);
    w.packed_doubles(16, &h.custom_values);
}

fn encode_span(w: &mut Writer, s: &BucketSpan) {
    w.sint32(1, s.offset);
    w.uint64(2, u64::from(s.length));
}
