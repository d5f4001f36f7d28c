//! Native histograms between the remote-write messages (`prometheus.Histogram`, shared by 1.0
//! and 2.0) and the model's [`Histogram`] / [`FloatHistogram`], as Prometheus'
//! `ToIntHistogram` / `ToFloatHistogram` / `FromIntHistogram` / `FromFloatHistogram`.

use std::sync::Arc;

use sightline_model::{CounterResetHint, FloatHistogram, Histogram, Span};

use crate::v1::{self, BucketSpan, Count};

/// A histogram sample as the store takes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelHistogram {
    /// Integer counts.
    Int(Histogram),
    /// Float counts.
    Float(FloatHistogram),
}

fn spans(s: &[BucketSpan]) -> Vec<Span> {
    s.iter().map(|s| Span::new(s.offset, s.length)).collect()
}

fn wire_spans(s: &[Span]) -> Vec<BucketSpan> {
    s.iter()
        .map(|s| BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

fn int(c: Count) -> u64 {
    match c {
        Count::Int(v) => v,
        // Not reached for integer histograms (`is_float` decides); Go reads 0 from a oneof
        // holding the other type.
        Count::Float(_) => 0,
    }
}

fn float(c: Count) -> f64 {
    match c {
        Count::Float(v) => v,
        Count::Int(_) => 0.0,
    }
}

/// The model histogram of a wire histogram: float counts when the message carries them
/// (`IsFloatHistogram`), else integer counts.
pub fn to_model(h: &v1::Histogram) -> ModelHistogram {
    let hint = CounterResetHint::from_code(h.reset_hint.clamp(0, 3) as u8);
    let custom_values: Arc<[f64]> = h.custom_values.as_slice().into();
    if h.is_float() {
        ModelHistogram::Float(FloatHistogram {
            counter_reset_hint: hint,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: float(h.zero_count),
            count: float(h.count),
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            negative_spans: spans(&h.negative_spans),
            positive_buckets: h.positive_counts.clone(),
            negative_buckets: h.negative_counts.clone(),
            custom_values,
        })
    } else {
        ModelHistogram::Int(Histogram {
            counter_reset_hint: hint,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: int(h.zero_count),
            count: int(h.count),
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            negative_spans: spans(&h.negative_spans),
            positive_buckets: h.positive_deltas.clone(),
            negative_buckets: h.negative_deltas.clone(),
            custom_values,
        })
    }
}

/// The wire form of an integer histogram at `t` (`FromIntHistogram`).
pub fn from_int(t: i64, h: &Histogram) -> v1::Histogram {
    v1::Histogram {
        count: Count::Int(h.count),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Count::Int(h.zero_count),
        negative_spans: wire_spans(&h.negative_spans),
        negative_deltas: h.negative_buckets.clone(),
        negative_counts: Vec::new(),
        positive_spans: wire_spans(&h.positive_spans),
        positive_deltas: h.positive_buckets.clone(),
        positive_counts: Vec::new(),
        reset_hint: i32::from(h.counter_reset_hint.code()),
        timestamp: t,
        custom_values: h.custom_values.to_vec(),
    }
}

/// The wire form of a float histogram at `t` (`FromFloatHistogram`).
pub fn from_float(t: i64, h: &FloatHistogram) -> v1::Histogram {
    v1::Histogram {
        count: Count::Float(h.count),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Count::Float(h.zero_count),
        negative_spans: wire_spans(&h.negative_spans),
        negative_deltas: Vec::new(),
        negative_counts: h.negative_buckets.clone(),
        positive_spans: wire_spans(&h.positive_spans),
        positive_deltas: Vec::new(),
        positive_counts: h.positive_buckets.clone(),
        reset_hint: i32::from(h.counter_reset_hint.code()),
        timestamp: t,
        custom_values: h.custom_values.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_and_float_round_trip() {
        let h = Histogram {
            counter_reset_hint: CounterResetHint::NotCounterReset,
            schema: 3,
            zero_threshold: 1e-128,
            zero_count: 2,
            count: 9,
            sum: 18.4,
            positive_spans: vec![Span::new(-2, 2), Span::new(3, 1)],
            positive_buckets: vec![1, 2, -1],
            negative_spans: vec![Span::new(0, 1)],
            negative_buckets: vec![1],
            custom_values: Arc::from(&[][..]),
        };
        let w = from_int(1000, &h);
        assert!(!w.is_float());
        assert_eq!(to_model(&w), ModelHistogram::Int(h.clone()));
        let f = FloatHistogram {
            custom_values: Arc::from(&[0.1, 1.0][..]),
            schema: sightline_model::histogram::CUSTOM_BUCKETS_SCHEMA,
            ..h.to_float()
        };
        let w = from_float(2000, &f);
        assert!(w.is_float());
        assert_eq!(to_model(&w), ModelHistogram::Float(f));
    }
}
