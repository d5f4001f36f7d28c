//! Stand-ins for the `FloatHistogram` operations the model crate is gaining (Prometheus'
//! `Mul` and `Div`), so the evaluator builds before they land. Inherent methods of the same
//! names take precedence over these trait methods, so this module can be deleted as soon as
//! the model has them.

use sightline_model::{CounterResetHint, FloatHistogram};

/// Prometheus' in-place scaling operations on float histograms.
#[allow(dead_code)]
pub(crate) trait HistogramScale {
    /// Scales every count and the sum by `factor` (a negative factor makes it a gauge).
    fn mul(&mut self, factor: f64) -> &mut Self;
    /// Divides every count and the sum by `scalar` (dividing by 0 removes all buckets).
    fn div(&mut self, scalar: f64) -> &mut Self;
}

impl HistogramScale for FloatHistogram {
    fn mul(&mut self, factor: f64) -> &mut Self {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        self.positive_buckets.iter_mut().for_each(|b| *b *= factor);
        self.negative_buckets.iter_mut().for_each(|b| *b *= factor);
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    fn div(&mut self, scalar: f64) -> &mut Self {
        self.zero_count /= scalar;
        self.count /= scalar;
        self.sum /= scalar;
        if scalar == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return self;
        }
        self.positive_buckets.iter_mut().for_each(|b| *b /= scalar);
        self.negative_buckets.iter_mut().for_each(|b| *b /= scalar);
        if scalar < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }
}
