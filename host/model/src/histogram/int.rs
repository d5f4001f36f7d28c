//! [`Histogram`] (integer, delta-encoded) methods (Prometheus' `histogram.go`).

use std::fmt;

use super::error::{HistogramError, HistogramErrorKind};
use super::generic::{
    check_histogram_buckets, check_histogram_custom_bounds, check_histogram_spans, compact_buckets,
    custom_bucket_bounds_match, go_g, reduce_resolution, spans_match, Bucket,
};
use super::{is_custom_buckets, is_exponential_schema, FloatHistogram, Histogram};

impl Histogram {
    /// Whether the schema is the custom-buckets schema (`UsesCustomBuckets`).
    pub fn uses_custom_buckets(&self) -> bool {
        is_custom_buckets(self.schema)
    }

    /// A deep copy without the fields the schema does not use (`Copy`).
    pub fn copy(&self) -> Histogram {
        let mut c = Histogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            count: self.count,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            positive_buckets: self.positive_buckets.clone(),
            ..Histogram::default()
        };
        if self.uses_custom_buckets() {
            c.custom_values = self.custom_values.clone();
        } else {
            c.zero_threshold = self.zero_threshold;
            c.zero_count = self.zero_count;
            c.negative_spans = self.negative_spans.clone();
            c.negative_buckets = self.negative_buckets.clone();
        }
        c
    }

    /// The zero bucket (`ZeroBucket`; Go panics for custom buckets, here it is `[0,0]`).
    pub fn zero_bucket(&self) -> Bucket<u64> {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Data equality (`Equals`): like [`FloatHistogram::equals`] with integer counts.
    pub fn equals(&self, h2: &Histogram) -> bool {
        if self.schema != h2.schema
            || self.count != h2.count
            || self.sum.to_bits() != h2.sum.to_bits()
        {
            return false;
        }
        if self.uses_custom_buckets()
            && !custom_bucket_bounds_match(&self.custom_values, &h2.custom_values)
        {
            return false;
        }
        self.zero_threshold == h2.zero_threshold
            && self.zero_count == h2.zero_count
            && spans_match(&self.negative_spans, &h2.negative_spans)
            && self.negative_buckets == h2.negative_buckets
            && spans_match(&self.positive_spans, &h2.positive_spans)
            && self.positive_buckets == h2.positive_buckets
    }

    /// Compaction as [`FloatHistogram::compact`], keeping the delta encoding (`Compact`).
    pub fn compact(&mut self, max_empty_buckets: usize) -> &mut Self {
        compact_buckets(
            &mut self.positive_buckets,
            None,
            &mut self.positive_spans,
            max_empty_buckets,
            true,
        );
        compact_buckets(
            &mut self.negative_buckets,
            None,
            &mut self.negative_spans,
            max_empty_buckets,
            true,
        );
        self
    }

    /// The same histogram with float counts (`ToFloat`): a deep copy with absolute bucket
    /// counts; for custom buckets the zero bucket and the negative side are dropped and for
    /// exponential ones the custom values.
    pub fn to_float(&self) -> FloatHistogram {
        fn undelta(d: &[i64]) -> Vec<f64> {
            // Go sums the deltas as float64.
            let mut cur = 0.0f64;
            d.iter()
                .map(|x| {
                    cur += *x as f64;
                    cur
                })
                .collect()
        }
        let custom = self.uses_custom_buckets();
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: if custom { 0.0 } else { self.zero_threshold },
            zero_count: if custom { 0.0 } else { self.zero_count as f64 },
            count: self.count as f64,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: if custom {
                Vec::new()
            } else {
                self.negative_spans.clone()
            },
            positive_buckets: undelta(&self.positive_buckets),
            negative_buckets: if custom {
                Vec::new()
            } else {
                undelta(&self.negative_buckets)
            },
            custom_values: if custom {
                self.custom_values.clone()
            } else {
                Default::default()
            },
        }
    }

    /// Checks the layout and the counts (`Validate`), with Go's messages. Without NaN
    /// observations (sum not NaN) the count must equal the bucket total, otherwise be at
    /// least it.
    pub fn validate(&self) -> Result<(), HistogramError> {
        let mut n_count: u64 = 0;
        if self.uses_custom_buckets() {
            check_histogram_custom_bounds(
                &self.custom_values,
                &self.positive_spans,
                self.positive_buckets.len(),
            )
            .map_err(|e| e.context("custom buckets"))?;
            if self.zero_count != 0 {
                return Err(HistogramError::new(
                    HistogramErrorKind::CustomBucketsZeroCount,
                ));
            }
            if self.zero_threshold != 0.0 {
                return Err(HistogramError::new(
                    HistogramErrorKind::CustomBucketsZeroThresh,
                ));
            }
            if !self.negative_spans.is_empty() {
                return Err(HistogramError::new(
                    HistogramErrorKind::CustomBucketsNegSpans,
                ));
            }
            if !self.negative_buckets.is_empty() {
                return Err(HistogramError::new(
                    HistogramErrorKind::CustomBucketsNegBuckets,
                ));
            }
        } else if is_exponential_schema(self.schema) {
            check_histogram_spans(&self.positive_spans, self.positive_buckets.len())
                .map_err(|e| e.context("positive side"))?;
            check_histogram_spans(&self.negative_spans, self.negative_buckets.len())
                .map_err(|e| e.context("negative side"))?;
            let abs = check_histogram_buckets(&self.negative_buckets, true)
                .map_err(|e| e.context("negative side"))?;
            n_count = abs.iter().fold(0u64, |a, c| a.wrapping_add(*c as u64));
            if !self.custom_values.is_empty() {
                return Err(HistogramError::new(
                    HistogramErrorKind::ExpSchemaCustomBounds,
                ));
            }
        } else {
            return Err(HistogramError::invalid_schema(self.schema));
        }
        let abs = check_histogram_buckets(&self.positive_buckets, true)
            .map_err(|e| e.context("positive side"))?;
        let p_count = abs.iter().fold(0u64, |a, c| a.wrapping_add(*c as u64));
        let sum_of_buckets = n_count.wrapping_add(p_count).wrapping_add(self.zero_count);
        if self.sum.is_nan() {
            if sum_of_buckets > self.count {
                return Err(HistogramError::wrapped(
                    HistogramErrorKind::CountNotBigEnough,
                    format!(
                        "{sum_of_buckets} observations found in buckets, but the Count field is {}",
                        self.count
                    ),
                ));
            }
        } else if sum_of_buckets != self.count {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::CountMismatch,
                format!(
                    "{sum_of_buckets} observations found in buckets, but the Count field is {}",
                    self.count
                ),
            ));
        }
        Ok(())
    }

    /// Merges buckets to the lower `target_schema`, in place (`ReduceResolution`).
    pub fn reduce_resolution(&mut self, target_schema: i32) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() {
            return Err(HistogramError::usage(
                "cannot reduce resolution when there are custom buckets",
            ));
        }
        if is_custom_buckets(target_schema) {
            return Err(HistogramError::usage(
                "cannot reduce resolution to custom buckets schema",
            ));
        }
        if target_schema >= self.schema {
            return Err(HistogramError::usage(format!(
                "cannot reduce resolution from schema {} to {target_schema}",
                self.schema
            )));
        }
        let (ps, pb) = reduce_resolution(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            target_schema,
            true,
        )?;
        let (ns, nb) = reduce_resolution(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            target_schema,
            true,
        )?;
        (self.positive_spans, self.positive_buckets) = (ps, pb);
        (self.negative_spans, self.negative_buckets) = (ns, nb);
        self.schema = target_schema;
        Ok(())
    }
}

impl fmt::Display for Histogram {
    /// Go's `String()`: `{count:N, sum:S, <populated buckets ascending>}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{count:{}, sum:{}", self.count, go_g(self.sum))?;
        let negative: Vec<Bucket<u64>> = self
            .negative_bucket_iterator()
            .filter(|b| b.count != 0)
            .collect();
        for b in negative.iter().rev() {
            write!(f, ", {b}")?;
        }
        if self.zero_count != 0 {
            write!(f, ", {}", self.zero_bucket())?;
        }
        for b in self.positive_bucket_iterator().filter(|b| b.count != 0) {
            write!(f, ", {b}")?;
        }
        f.write_str("}")
    }
}
