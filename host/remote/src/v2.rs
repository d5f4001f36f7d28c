//! Remote write 2.0: `io.prometheus.write.v2.Request` (prompb/io/prometheus/write/v2 of
//! Prometheus 3): a symbol table, series as references into it, per-series metadata and
//! start timestamps (3.0's `TimeSeries.created_timestamp`, field 6; later versions'
//! `Sample.start_timestamp`, field 3; both are read).

use crate::error::DecodeError;
use crate::proto::{fields, Budget, Writer};
use crate::v1::{decode_histogram, encode_histogram, Histogram};

/// The protobuf message name, as `Content-Type: application/x-protobuf;proto=` names it.
pub const MESSAGE: &str = "io.prometheus.write.v2.Request";

type R<T> = std::result::Result<T, DecodeError>;

/// `io.prometheus.write.v2.Request`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Field 4. By the spec the first symbol is the empty string.
    pub symbols: Vec<String>,
    /// Field 5.
    pub timeseries: Vec<TimeSeries>,
}

/// `io.prometheus.write.v2.TimeSeries`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeries {
    /// Field 1: name and value references, alternating.
    pub labels_refs: Vec<u32>,
    /// Field 2.
    pub samples: Vec<Sample>,
    /// Field 3.
    pub histograms: Vec<Histogram>,
    /// Field 4.
    pub exemplars: Vec<Exemplar>,
    /// Field 5.
    pub metadata: Metadata,
    /// Field 6 (Prometheus 3.0; reserved later in favour of `Sample::start_timestamp`).
    pub created_timestamp: i64,
}

/// `io.prometheus.write.v2.Sample`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Field 1.
    pub value: f64,
    /// Field 2.
    pub timestamp: i64,
    /// Field 3 (0: unknown).
    pub start_timestamp: i64,
}

/// `io.prometheus.write.v2.Exemplar`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    /// Field 1.
    pub labels_refs: Vec<u32>,
    /// Field 2.
    pub value: f64,
    /// Field 3.
    pub timestamp: i64,
}

/// `io.prometheus.write.v2.Metadata`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Field 1: METRIC_TYPE_UNSPECIFIED 0, COUNTER 1, GAUGE 2, HISTOGRAM 3, GAUGEHISTOGRAM 4,
    /// SUMMARY 5, INFO 6, STATESET 7.
    pub metric_type: i32,
    /// Field 3.
    pub help_ref: u32,
    /// Field 4.
    pub unit_ref: u32,
}

impl Request {
    /// Decodes a (decompressed) message.
    pub fn decode(buf: &[u8]) -> Result<Request, DecodeError> {
        decode_request(buf).map_err(|e| e.finish(MESSAGE))
    }

    /// Encodes the message (not compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for s in &self.symbols {
            // Every symbol is written, the empty first one too: references are positions.
            w.bytes(4, s.as_bytes());
        }
        for ts in &self.timeseries {
            w.message(5, |w| encode_series(w, ts));
        }
        w.buf
    }

    /// The symbol `r`, or an error naming the reference.
    pub fn symbol(&self, r: u32) -> Result<&str, String> {
        self.symbols
            .get(r as usize)
            .map(String::as_str)
            .ok_or_else(|| {
                format!(
                    "symbol reference {r} is out of range (the table has {} symbols)",
                    self.symbols.len()
                )
            })
    }

    /// A series' (or exemplar's) label pairs from its references.
    pub fn labels(&self, refs: &[u32]) -> Result<Vec<(&str, &str)>, String> {
        if !refs.len().is_multiple_of(2) {
            return Err(format!(
                "labels_refs has {} references, not name/value pairs",
                refs.len()
            ));
        }
        refs.chunks_exact(2)
            .map(|p| Ok((self.symbol(p[0])?, self.symbol(p[1])?)))
            .collect()
    }
}

fn decode_request(buf: &[u8]) -> R<Request> {
    let budget = &Budget::for_input(buf.len());
    let mut req = Request::default();
    fields(buf, 0, |field, v, at| match field {
        4 => {
            let i = req.symbols.len();
            budget
                .charge(std::mem::size_of::<String>(), at)
                .map_err(|e| e.at("symbols", Some(i)))?;
            req.symbols
                .push(v.string(at).map_err(|e| e.at("symbols", Some(i)))?);
            Ok(())
        }
        5 => {
            let i = req.timeseries.len();
            let ts = v
                .message(at)
                .and_then(|(b, off)| decode_series(b, off, budget))
                .map_err(|e| e.at("timeseries", Some(i)))?;
            req.timeseries.push(ts);
            Ok(())
        }
        _ => Ok(()),
    })?;
    Ok(req)
}

fn decode_series(buf: &[u8], base: usize, budget: &Budget) -> R<TimeSeries> {
    budget.charge(std::mem::size_of::<TimeSeries>(), base)?;
    let mut ts = TimeSeries::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => v
                .packed_varints(at, |x| ts.labels_refs.push(x as u32))
                .map_err(|e| e.at("labels_refs", None))?,
            2 => {
                let i = ts.samples.len();
                let s = v
                    .message(at)
                    .and_then(|(b, off)| decode_sample(b, off, budget))
                    .map_err(|e| e.at("samples", Some(i)))?;
                ts.samples.push(s);
            }
            3 => {
                let i = ts.histograms.len();
                let h = v
                    .message(at)
                    .and_then(|(b, off)| decode_histogram(b, off, budget))
                    .map_err(|e| e.at("histograms", Some(i)))?;
                ts.histograms.push(h);
            }
            4 => {
                let i = ts.exemplars.len();
                let x = v
                    .message(at)
                    .and_then(|(b, off)| decode_exemplar(b, off, budget))
                    .map_err(|e| e.at("exemplars", Some(i)))?;
                ts.exemplars.push(x);
            }
            5 => {
                ts.metadata = v
                    .message(at)
                    .and_then(|(b, off)| decode_metadata(b, off, budget))
                    .map_err(|e| e.at("metadata", None))?;
            }
            6 => ts.created_timestamp = v.int64(at).map_err(|e| e.at("created_timestamp", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(ts)
}

fn decode_sample(buf: &[u8], base: usize, budget: &Budget) -> R<Sample> {
    budget.charge(std::mem::size_of::<Sample>(), base)?;
    let mut s = Sample::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => s.value = v.double(at).map_err(|e| e.at("value", None))?,
            2 => s.timestamp = v.int64(at).map_err(|e| e.at("timestamp", None))?,
            3 => s.start_timestamp = v.int64(at).map_err(|e| e.at("start_timestamp", None))?,
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
            1 => v
                .packed_varints(at, |r| x.labels_refs.push(r as u32))
                .map_err(|e| e.at("labels_refs", None))?,
            2 => x.value = v.double(at).map_err(|e| e.at("value", None))?,
            3 => x.timestamp = v.int64(at).map_err(|e| e.at("timestamp", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(x)
}

fn decode_metadata(buf: &[u8], base: usize, budget: &Budget) -> R<Metadata> {
    budget.charge(std::mem::size_of::<Metadata>(), base)?;
    let mut m = Metadata::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => m.metric_type = v.int32(at).map_err(|e| e.at("type", None))?,
            3 => m.help_ref = v.uint32(at).map_err(|e| e.at("help_ref", None))?,
            4 => m.unit_ref = v.uint32(at).map_err(|e| e.at("unit_ref", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(m)
}

fn encode_series(w: &mut Writer, ts: &TimeSeries) {
    w.packed_varints(1, ts.labels_refs.iter().map(|&r| u64::from(r)));
    for s in &ts.samples {
        w.message(2, |w| {
            w.double(1, s.value);
            w.int64(2, s.timestamp);
            w.int64(3, s.start_timestamp);
        });
    }
    for h in &ts.histograms {
        w.message(3, |w| encode_histogram(w, h));
    }
    for x in &ts.exemplars {
        w.message(4, |w| {
            w.packed_varints(1, x.labels_refs.iter().map(|&r| u64::from(r)));
            w.double(2, x.value);
            w.int64(3, x.timestamp);
        });
    }
    let m = ts.metadata;
    if m != Metadata::default() {
        w.message(5, |w| {
            w.int32(1, m.metric_type);
            w.uint64(3, u64::from(m.help_ref));
            w.uint64(4, u64::from(m.unit_ref));
        });
    }
    w.int64(6, ts.created_timestamp);
}
