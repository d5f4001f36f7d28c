//! Request bodies straight from the queue's batches: one pass that writes protobuf with the
//! lengths computed up front, no intermediate message structs, no per-field allocation
//! (the generic [`crate::v1`]/[`crate::v2`] encoders build owned strings, which would cost
//! more than the whole send at the rates a queue runs).

use std::collections::HashMap;

use sightline_model::Labels;

/// One series of a batch: its labels (as sent) and its samples, oldest first.
pub(crate) struct SeriesBatch<'a> {
    pub(crate) labels: &'a Labels,
    pub(crate) samples: &'a [(i64, f64)],
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
        let mut body = 0;
        for l in s.labels.iter() {
            body += delimited_len(label_len(&l.name, &l.value));
        }
        for &(t, v) in s.samples {
            body += delimited_len(sample_len(t, v));
        }
        buf.push(0x0a); // timeseries = 1
        put_varint(buf, body as u64);
        for l in s.labels.iter() {
            buf.push(0x0a); // labels = 1
            put_varint(buf, label_len(&l.name, &l.value) as u64);
            if !l.name.is_empty() {
                buf.push(0x0a);
                put_varint(buf, l.name.len() as u64);
                buf.extend_from_slice(l.name.as_bytes());
            }
            if !l.value.is_empty() {
                buf.push(0x12);
                put_varint(buf, l.value.len() as u64);
                buf.extend_from_slice(l.value.as_bytes());
            }
        }
        for &(t, v) in s.samples {
            put_sample(buf, 0x12, t, v); // samples = 2
        }
    }
}

/// The reference of `text` in the symbol table, added when new.
fn intern<'a>(symbols: &mut HashMap<&'a str, u32>, order: &mut Vec<&'a str>, text: &'a str) -> u32 {
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
        .map(|s| meta.and_then(|m| s.labels.metric_name().and_then(|n| m.lookup(n))))
        .collect();
    let mut symbols: HashMap<&str, u32> = HashMap::with_capacity(series.len() * 4);
    let mut order: Vec<&str> = vec![""];
    symbols.insert("", 0);
    let mut refs: Vec<u32> = Vec::with_capacity(series.len() * 10);
    let mut spans = Vec::with_capacity(series.len());
    // Per series: (type, help ref, unit ref) of its family, when known.
    let mut metas: Vec<Option<(i32, u32, u32)>> = Vec::with_capacity(series.len());
    for (s, md) in series.iter().zip(&found) {
        let start = refs.len();
        for l in s.labels.iter() {
            refs.push(intern(&mut symbols, &mut order, &l.name));
            refs.push(intern(&mut symbols, &mut order, &l.value));
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

    fn batch() -> Vec<(Labels, Vec<(i64, f64)>)> {
        vec![
            (
                Labels::from_pairs([("__name__", "up"), ("instance", "a:1"), ("job", "j")]),
                vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, 0.0)],
            ),
            (
                Labels::from_pairs([("__name__", "x"), ("job", "j"), ("le", "")]),
                vec![(-5, f64::NAN), (0, -2.5)],
            ),
        ]
    }

    #[test]
    fn v1_matches_the_generic_encoder_and_decodes() {
        let data = batch();
        let series: Vec<_> = data
            .iter()
            .map(|(l, s)| SeriesBatch {
                labels: l,
                samples: s,
            })
            .collect();
        let mut buf = Vec::new();
        encode_v1(&series, &mut buf);
        let generic = crate::v1::WriteRequest {
            timeseries: data
                .iter()
                .map(|(l, s)| crate::v1::TimeSeries {
                    labels: l
                        .iter()
                        .map(|l| crate::v1::Label {
                            name: l.name.clone(),
                            value: l.value.clone(),
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
        let series: Vec<_> = data
            .iter()
            .map(|(l, s)| SeriesBatch {
                labels: l,
                samples: s,
            })
            .collect();
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
        let series: Vec<_> = data
            .iter()
            .map(|(l, s)| SeriesBatch {
                labels: l,
                samples: s,
            })
            .collect();
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
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "{v}");
        }
    }
}
