//! WAL records of native-histogram samples, in Prometheus' record types and payloads
//! (`tsdb/record`, V1): `HistogramSamples` (7), `FloatHistogramSamples` (8),
//! `CustomBucketsHistogramSamples` (9), `CustomBucketsFloatHistogramSamples` (10). Our frame's
//! type byte is Prometheus' first record byte; the payload is the rest of its record.

use std::sync::Arc;

use sightline_model::histogram::{
    is_custom_buckets, CounterResetHint, FloatHistogram, Histogram, Span,
};
use sightline_model::TimestampMs;

use crate::anychunk::HistValue;
use crate::enc::{put_uvarint, put_varint, Dec};
use crate::error::{Error, Result};

pub(crate) const REC_HISTOGRAMS: u8 = 7;
pub(crate) const REC_FLOAT_HISTOGRAMS: u8 = 8;
pub(crate) const REC_CUSTOM_HISTOGRAMS: u8 = 9;
pub(crate) const REC_CUSTOM_FLOAT_HISTOGRAMS: u8 = 10;

/// One histogram sample of a batch: series id, timestamp, value.
pub(crate) type HistSample = (u64, TimestampMs, HistValue);

/// The record type a sample goes to.
fn rec_type(v: &HistValue) -> u8 {
    match v {
        HistValue::Int(h) if is_custom_buckets(h.schema) => REC_CUSTOM_HISTOGRAMS,
        HistValue::Int(_) => REC_HISTOGRAMS,
        HistValue::Float(h) if is_custom_buckets(h.schema) => REC_CUSTOM_FLOAT_HISTOGRAMS,
        HistValue::Float(_) => REC_FLOAT_HISTOGRAMS,
    }
}

/// Payloads of the records for `samples`: (type, payload), one per record type used.
pub(crate) fn encode(samples: &[HistSample]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    for typ in [
        REC_HISTOGRAMS,
        REC_FLOAT_HISTOGRAMS,
        REC_CUSTOM_HISTOGRAMS,
        REC_CUSTOM_FLOAT_HISTOGRAMS,
    ] {
        let mut it = samples.iter().filter(|s| rec_type(&s.2) == typ).peekable();
        let Some(first) = it.peek() else {
            continue;
        };
        let (first_id, first_t) = (first.0, first.1);
        let mut b = Vec::new();
        b.extend_from_slice(&first_id.to_be_bytes());
        b.extend_from_slice(&first_t.to_be_bytes());
        for (id, t, v) in it {
            put_varint(&mut b, (*id as i64).wrapping_sub(first_id as i64));
            put_varint(&mut b, t.wrapping_sub(first_t));
            match v {
                HistValue::Int(h) => encode_histogram(&mut b, h),
                HistValue::Float(h) => encode_float_histogram(&mut b, h),
            }
        }
        out.push((typ, b));
    }
    out
}

fn put_spans(b: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(b, spans.len() as u64);
    for s in spans {
        put_varint(b, i64::from(s.offset));
        put_uvarint(b, u64::from(s.length));
    }
}

fn put_f64_be(b: &mut Vec<u8>, v: f64) {
    b.extend_from_slice(&v.to_bits().to_be_bytes());
}

/// `EncodeHistogram`.
fn encode_histogram(b: &mut Vec<u8>, h: &Histogram) {
    b.push(h.counter_reset_hint.code());
    put_varint(b, i64::from(h.schema));
    put_f64_be(b, h.zero_threshold);
    put_uvarint(b, h.zero_count);
    put_uvarint(b, h.count);
    put_f64_be(b, h.sum);
    put_spans(b, &h.positive_spans);
    put_spans(b, &h.negative_spans);
    put_uvarint(b, h.positive_buckets.len() as u64);
    for x in &h.positive_buckets {
        put_varint(b, *x);
    }
    put_uvarint(b, h.negative_buckets.len() as u64);
    for x in &h.negative_buckets {
        put_varint(b, *x);
    }
    if is_custom_buckets(h.schema) {
        put_uvarint(b, h.custom_values.len() as u64);
        for v in h.custom_values.iter() {
            put_f64_be(b, *v);
        }
    }
}

/// `EncodeFloatHistogram`.
fn encode_float_histogram(b: &mut Vec<u8>, h: &FloatHistogram) {
    b.push(h.counter_reset_hint.code());
    put_varint(b, i64::from(h.schema));
    put_f64_be(b, h.zero_threshold);
    put_f64_be(b, h.zero_count);
    put_f64_be(b, h.count);
    put_f64_be(b, h.sum);
    put_spans(b, &h.positive_spans);
    put_spans(b, &h.negative_spans);
    put_uvarint(b, h.positive_buckets.len() as u64);
    for x in &h.positive_buckets {
        put_f64_be(b, *x);
    }
    put_uvarint(b, h.negative_buckets.len() as u64);
    for x in &h.negative_buckets {
        put_f64_be(b, *x);
    }
    if is_custom_buckets(h.schema) {
        put_uvarint(b, h.custom_values.len() as u64);
        for v in h.custom_values.iter() {
            put_f64_be(b, *v);
        }
    }
}

fn be64(d: &mut Dec<'_>) -> Result<u64> {
    let b = d.bytes(8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_be_bytes(a))
}

fn f64_be(d: &mut Dec<'_>) -> Result<f64> {
    be64(d).map(f64::from_bits)
}

/// A length that cannot exceed the bytes left (each item costs at least one byte).
fn len(d: &mut Dec<'_>, rest: usize) -> Result<usize> {
    let n = d.uvarint()?;
    if n > rest as u64 {
        return Err(Error::Corrupt(
            "histogram record claims more items than bytes".into(),
        ));
    }
    Ok(n as usize)
}

fn spans(d: &mut Dec<'_>, rest: usize) -> Result<Vec<Span>> {
    let n = len(d, rest)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let offset =
            i32::try_from(d.varint()?).map_err(|_| Error::Corrupt("span offset".into()))?;
        let length =
            u32::try_from(d.uvarint()?).map_err(|_| Error::Corrupt("span length".into()))?;
        v.push(Span { offset, length });
    }
    Ok(v)
}

/// Decodes a histogram record's payload (`typ` is one of this module's types).
pub(crate) fn decode(typ: u8, body: &[u8]) -> Result<Vec<HistSample>> {
    let mut out = Vec::new();
    if body.is_empty() {
        return Ok(out);
    }
    let rest = body.len();
    let mut d = Dec::new(body);
    let first_id = be64(&mut d)?;
    let first_t = be64(&mut d)? as i64;
    let end = body.len();
    let float = matches!(typ, REC_FLOAT_HISTOGRAMS | REC_CUSTOM_FLOAT_HISTOGRAMS);
    while d.pos() < end {
        let id = (first_id as i64).wrapping_add(d.varint()?) as u64;
        let t = first_t.wrapping_add(d.varint()?);
        let hint = CounterResetHint::from_code(d.u8()?);
        let schema = i32::try_from(d.varint()?).map_err(|_| Error::Corrupt("schema".into()))?;
        let zero_threshold = f64_be(&mut d)?;
        let v = if float {
            let zero_count = f64_be(&mut d)?;
            let count = f64_be(&mut d)?;
            let sum = f64_be(&mut d)?;
            let positive_spans = spans(&mut d, rest)?;
            let negative_spans = spans(&mut d, rest)?;
            let n = len(&mut d, rest)?;
            let positive_buckets = (0..n).map(|_| f64_be(&mut d)).collect::<Result<Vec<_>>>()?;
            let n = len(&mut d, rest)?;
            let negative_buckets = (0..n).map(|_| f64_be(&mut d)).collect::<Result<Vec<_>>>()?;
            let custom_values = custom(&mut d, schema, rest)?;
            HistValue::Float(FloatHistogram {
                counter_reset_hint: hint,
                schema,
                zero_threshold,
                zero_count,
                count,
                sum,
                positive_spans,
                negative_spans,
                positive_buckets,
                negative_buckets,
                custom_values,
            })
        } else {
            let zero_count = d.uvarint()?;
            let count = d.uvarint()?;
            let sum = f64_be(&mut d)?;
            let positive_spans = spans(&mut d, rest)?;
            let negative_spans = spans(&mut d, rest)?;
            let n = len(&mut d, rest)?;
            let positive_buckets = (0..n).map(|_| d.varint()).collect::<Result<Vec<_>>>()?;
            let n = len(&mut d, rest)?;
            let negative_buckets = (0..n).map(|_| d.varint()).collect::<Result<Vec<_>>>()?;
            let custom_values = custom(&mut d, schema, rest)?;
            HistValue::Int(Histogram {
                counter_reset_hint: hint,
                schema,
                zero_threshold,
                zero_count,
                count,
                sum,
                positive_spans,
                negative_spans,
                positive_buckets,
                negative_buckets,
                custom_values,
            })
        };
        // As Prometheus' decoder: a histogram of an unknown schema is skipped.
        if is_custom_buckets(schema) || sightline_model::histogram::is_exponential_schema(schema) {
            out.push((id, t, v));
        }
    }
    Ok(out)
}

fn custom(d: &mut Dec<'_>, schema: i32, rest: usize) -> Result<Arc<[f64]>> {
    if !is_custom_buckets(schema) {
        return Ok(Arc::from(Vec::new()));
    }
    let n = len(d, rest)?;
    let v = (0..n).map(|_| f64_be(d)).collect::<Result<Vec<_>>>()?;
    Ok(v.into())
}
