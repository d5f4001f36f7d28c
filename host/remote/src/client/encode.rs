//! Request bodies straight from the queue's batches: one pass that writes protobuf with the
//! lengths computed up front, no intermediate message structs, no per-field allocation
//! (the generic [`crate::v1`]/[`crate::v2`] encoders build owned strings, which would cost
//! more than the whole send at the rates a queue runs).

use std::collections::HashMap;

use sightline_model::Labels;
use sightline_tsdb::HistValue;

/// A series as a queue sends it: its outgoing labels in their 1.0 encoding (the repeated
/// `labels` fields of a `TimeSeries`), made once when the series is first seen rather than
/// for every sample sent (during a catch-up a batch holds one sample of each of thousands of
/// series, and label bytes are most of a request). It is also the only copy the queue keeps:
/// 2.0 and the metadata lookup read the labels back from it, so a series costs its label
/// bytes plus about three bytes a label.
pub(crate) struct OutSeries {
    v1_labels: Box<[u8]>,
}

impl OutSeries {
    pub(crate) fn new(labels: &Labels) -> Self {
        let mut b = Vec::new();
        for l in labels.iter() {
            b.push(0x0a); // labels = 1
            put_varint(&mut b, label_len(&l.name, &l.value) as u64);
            if !l.name.is_empty() {
                b.push(0x0a);
                put_varint(&mut b, l.name.len() as u64);
                b.extend_from_slice(l.name.as_bytes());
            }
            if !l.value.is_empty() {
                b.push(0x12);
                put_varint(&mut b, l.value.len() as u64);
                b.extend_from_slice(l.value.as_bytes());
            }
        }
        OutSeries {
            v1_labels: b.into_boxed_slice(),
        }
    }

    /// A freed slot of the series table.
    pub(crate) fn empty() -> Self {
        OutSeries {
            v1_labels: Box::new([]),
        }
    }

    /// The labels, read back from their encoding (which this type wrote: well formed).
    pub(crate) fn labels(&self) -> LabelIter<'_> {
        LabelIter { b: &self.v1_labels }
    }

    /// The value of `__name__`.
    pub(crate) fn metric_name(&self) -> Option<&str> {
        self.labels().find(|l| l.0 == "__name__").map(|l| l.1)
    }
}

/// The labels of an [`OutSeries`].
pub(crate) struct LabelIter<'a> {
    b: &'a [u8],
}

fn get_varint(b: &mut &[u8]) -> usize {
    let (mut v, mut shift) = (0usize, 0);
    while let Some((&byte, rest)) = b.split_first() {
        *b = rest;
        v |= ((byte & 0x7f) as usize) << shift;
        if byte < 0x80 || shift > 56 {
            break;
        }
        shift += 7;
    }
    v
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> &'a [u8] {
    let n = n.min(b.len());
    let (head, rest) = b.split_at(n);
    *b = rest;
    head
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.b.is_empty() {
            return None;
        }
        self.b = &self.b[1..]; // the key of `labels`
        let len = get_varint(&mut self.b);
        let mut body = take(&mut self.b, len);
        let (mut name, mut value) = ("", "");
        while let Some((&key, rest)) = body.split_first() {
            body = rest;
            let n = get_varint(&mut body);
            let text = std::str::from_utf8(take(&mut body, n)).unwrap_or("");
            if key == 0x0a {
                name = text;
            } else {
                value = text;
            }
        }
        Some((name, value))
    }
}

/// One series of a batch and its samples, oldest first.
pub(crate) struct SeriesBatch<'a> {
    pub(crate) series: &'a OutSeries,
    pub(crate) samples: &'a [(i64, f64)],
    /// Its native-histogram samples, oldest first.
    pub(crate) histograms: &'a [(i64, &'a HistValue)],
}

/// The `prometheus.Histogram` bodies of a series' histograms (1.0 and 2.0 share the message;
/// 2.0 adds `custom_values`, which the generic encoder writes when there are any).
fn histogram_bodies(hs: &[(i64, &HistValue)]) -> Vec<Vec<u8>> {
    hs.iter()
        .map(|(t, h)| {
            let wire = match h {
                HistValue::Int(h) => crate::histconv::from_int(*t, h),
                HistValue::Float(h) => crate::histconv::from_float(*t, h),
            };
            let mut w = crate::proto::Writer::default();
            crate::v1::encode_histogram(&mut w, &wire);
            w.buf
        })
        .collect()
}

fn put_delimited(buf: &mut Vec<u8>, key: u8, body: &[u8]) {
    buf.push(key);
    put_varint(buf, body.len() as u64);
    buf.extend_from_slice(body);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Length of a length-delimited field with key < 16 and a body of `n` bytes.
fn delimited_len(n: usize) -> usize {
    1 + varint_len(n as u64) + n
}

/// A `Sample { double value = 1; int64 timestamp = 2; }` body (proto3: zeros left out).
fn sample_len(t: i64, v: f64) -> usize {
    let mut n = 0;
    if v.to_bits() != 0 {
        n += 9;
    }
    if t != 0 {
        n += 1 + varint_len(t as u64);
    }
    n
}

fn put_sample(buf: &mut Vec<u8>, field_key: u8, t: i64, v: f64) {
    buf.push(field_key);
    put_varint(buf, sample_len(t, v) as u64);
    if v.to_bits() != 0 {
        buf.push(0x09);
        buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    if t != 0 {
        buf.push(0x10);
        put_varint(buf, t as u64);
    }
}

fn label_len(name: &str, value: &str) -> usize {
    let mut n = 0;
    if !name.is_empty() {
        n += delimited_len(name.len());
    }
    if !value.is_empty() {
        n += delimited_len(value.len());
    }
    n
}

/// `prometheus.WriteRequest` (remote write 1.0).
pub(crate) fn encode_v1(series: &[SeriesBatch<'_>], buf: &mut Vec<u8>) {
    buf.clear();
    for s in series {
        let labels = &s.series.v1_labels;
        let hists = histogram_bodies(s.histograms);
        let mut body = labels.len();
        for &(t, v) in s.samples {
            body += delimited_len(sample_len(t, v));
        }
        for h in &hists {
            body += delimited_len(h.len());
        }
        buf.reserve(body + 11);
        buf.push(0x0a); // timeseries = 1
        put_varint(buf, body as u64);
        buf.extend_from_slice(labels);
        for &(t, v) in s.samples {
            put_sample(buf, 0x12, t, v); // samples = 2
        }
        for h in &hists {
            put_delimited(buf, 0x22, h); // histograms = 4
        }
    }
}

/// A 2.0 request's symbol table being built: text to reference.
type Symbols<'a> = HashMap<&'a str, u32, foldhash::fast::RandomState>;

/// The reference of `text` in the symbol table, added when new.
fn intern<'a>(symbols: &mut Symbols<'a>, order: &mut Vec<&'a str>, text: &'a str) -> u32 {
    let next = order.len() as u32;
    *symbols.entry(text).or_insert_with(|| {
        order.push(text);
        next
    })
}

/// `io.prometheus.write.v2.Request` (remote write 2.0): a symbol table (the empty string
/// first, as the specification requires) and series as references into it.
pub(crate) fn encode_v2(
    series: &[SeriesBatch<'_>],
    meta: Option<&super::meta::MetaMap>,
    buf: &mut Vec<u8>,
) {
    buf.clear();
    let found: Vec<Option<sightline_model::Metadata>> = series
        .iter()
        .map(|s| meta.and_then(|m| s.series.metric_name().and_then(|n| m.lookup(n))))
        .collect();
    let mut symbols: Symbols<'_> =
        HashMap::with_capacity_and_hasher(series.len() * 4, Default::default());
    let mut order: Vec<&str> = vec![""];
    symbols.insert("", 0);
    let mut refs: Vec<u32> = Vec::with_capacity(series.len() * 10);
    let mut spans = Vec::with_capacity(series.len());
    // Per series: (type, help ref, unit ref) of its family, when known.
    let mut metas: Vec<Option<(i32, u32, u32)>> = Vec::with_capacity(series.len());
    for (s, md) in series.iter().zip(&found) {
        let start = refs.len();
        for (name, value) in s.series.labels() {
            refs.push(intern(&mut symbols, &mut order, name));
            refs.push(intern(&mut symbols, &mut order, value));
        }
        metas.push(md.as_ref().map(|m| {
            (
                super::meta::type_code(m.metric_type),
                intern(&mut symbols, &mut order, &m.help),
                intern(&mut symbols, &mut order, &m.unit),
            )
        }));
        spans.push(start..refs.len());
    }
    for sym in &order {
        buf.push(0x22); // symbols = 4 (every one, the empty first one too)
        put_varint(buf, sym.len() as u64);
        buf.extend_from_slice(sym.as_bytes());
    }
    for ((s, span), md) in series.iter().zip(spans).zip(metas) {
        let r = &refs[span];
        let packed: usize = r.iter().map(|&x| varint_len(u64::from(x))).sum();
        let mut body = if r.is_empty() {
            0
        } else {
            delimited_len(packed)
        };
        for &(t, v) in s.samples {
            body += delimited_len(sample_len(t, v));
        }
        let hists = histogram_bodies(s.histograms);
        for h in &hists {
            body += delimited_len(h.len());
        }
        let md_len = md.map(|(ty, h, u)| {
            let mut n = 0;
            for (v, present) in [
                (ty as u64, ty != 0),
                (u64::from(h), h != 0),
                (u64::from(u), u != 0),
            ] {
                if present {
                    n += 1 + varint_len(v);
                }
            }
            n
        });
        if let Some(n) = md_len {
            body += delimited_len(n);
        }
        buf.push(0x2a); // timeseries = 5
        put_varint(buf, body as u64);
        if !r.is_empty() {
            buf.push(0x0a); // labels_refs = 1, packed
            put_varint(buf, packed as u64);
            for &x in r {
                put_varint(buf, u64::from(x));
            }
        }
        for &(t, v) in s.samples {
            put_sample(buf, 0x12, t, v); // samples = 2
        }
        for h in &hists {
            put_delimited(buf, 0x1a, h); // histograms = 3
        }
        if let (Some((ty, h, u)), Some(n)) = (md, md_len) {
            buf.push(0x2a); // metadata = 5
            put_varint(buf, n as u64);
            for (key, v) in [
                (0x08u8, ty as u64),
                (0x18, u64::from(h)),
                (0x20, u64::from(u)),
            ] {
                if v != 0 {
                    buf.push(key);
                    put_varint(buf, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Vec<(OutSeries, Vec<(i64, f64)>)> {
        vec![
            (
                OutSeries::new(&Labels::from_pairs([
                    ("__name__", "up"),
                    ("instance", "a:1"),
                    ("job", "j"),
                ])),
                vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, 0.0)],
            ),
            (
                OutSeries::new(&Labels::from_pairs([
                    ("__name__", "x"),
                    ("job", "j"),
                    ("le", ""),
                ])),
                vec![(-5, f64::NAN), (0, -2.5)],
            ),
        ]
    }

    fn batches(data: &[(OutSeries, Vec<(i64, f64)>)]) -> Vec<SeriesBatch<'_>> {
        data.iter()
            .map(|(l, s)| SeriesBatch {
                series: l,
                samples: s,
                histograms: &[],
            })
            .collect()
    }

    #[test]
    fn v1_matches_the_generic_encoder_and_decodes() {
        let data = batch();
        let series = batches(&data);
        let mut buf = Vec::new();
        encode_v1(&series, &mut buf);
        let generic = crate::v1::WriteRequest {
            timeseries: data
                .iter()
                .map(|(l, s)| crate::v1::TimeSeries {
                    labels: l
                        .labels()
                        .map(|(name, value)| crate::v1::Label {
                            name: name.to_string(),
                            value: value.to_string(),
                        })
                        .collect(),
                    samples: s
                        .iter()
                        .map(|&(t, v)| crate::v1::Sample {
                            value: v,
                            timestamp: t,
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            metadata: vec![],
        };
        assert_eq!(buf, generic.encode());
        let back = crate::v1::WriteRequest::decode(&buf).unwrap();
        assert_eq!(back.timeseries.len(), 2);
        assert_eq!(back.timeseries[0].samples[1].timestamp, 1_700_000_015_000);
        assert!(back.timeseries[1].samples[0].value.is_nan());
    }

    #[test]
    fn v2_round_trips_with_a_shared_symbol_table() {
        let data = batch();
        let series = batches(&data);
        let mut buf = Vec::new();
        encode_v2(&series, None, &mut buf);
        let req = crate::v2::Request::decode(&buf).unwrap();
        assert_eq!(req.symbols[0], "");
        // "job" and "j" appear once although two series use them.
        assert_eq!(req.symbols.iter().filter(|s| *s == "job").count(), 1);
        let l = req.labels(&req.timeseries[1].labels_refs).unwrap();
        // An empty value is no label at all (from_pairs drops it, as Prometheus does).
        assert_eq!(l, vec![("__name__", "x"), ("job", "j")]);
        assert_eq!(req.timeseries[0].samples[0].value, 1.0);
        assert_eq!(req.timeseries[1].samples[1].value, -2.5);
    }

    #[test]
    fn v2_carries_each_series_family_metadata_inline() {
        use sightline_model::{Metadata, MetricType};
        let meta = crate::client::meta::MetaMap::default();
        meta.insert(
            "up",
            Metadata {
                metric_type: MetricType::Gauge,
                help: "Whether the target answered.".into(),
                unit: String::new(),
            },
        );
        let data = batch();
        let series = batches(&data);
        let mut buf = Vec::new();
        encode_v2(&series, Some(&meta), &mut buf);
        let req = crate::v2::Request::decode(&buf).unwrap();
        let m = req.timeseries[0].metadata;
        assert_eq!(m.metric_type, 2);
        assert_eq!(
            req.symbol(m.help_ref).unwrap(),
            "Whether the target answered."
        );
        assert_eq!(m.unit_ref, 0, "no unit: the empty symbol");
        assert_eq!(req.timeseries[1].metadata, crate::v2::Metadata::default());
    }

    #[test]
    fn labels_read_back_from_their_encoding() {
        let long = "v".repeat(300);
        let l = Labels::from_pairs([("__name__", "m"), ("a", long.as_str()), ("b", "é")]);
        let s = OutSeries::new(&l);
        let back: Vec<(&str, &str)> = s.labels().collect();
        assert_eq!(
            back,
            vec![("__name__", "m"), ("a", long.as_str()), ("b", "é")]
        );
        assert_eq!(s.metric_name(), Some("m"));
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "{v}");
        }
    }
}
