//! [`FloatHistogram`] methods other than arithmetic (Prometheus' `float_histogram.go`):
//! copying, `String`, scaling, equality, size, compaction, validation and resolution
//! reduction.

use std::fmt;

use super::error::{HistogramError, HistogramErrorKind};
use super::generic::{
    check_histogram_buckets, check_histogram_custom_bounds, check_histogram_spans, compact_buckets,
    custom_bucket_bounds_match, go_g, reduce_resolution, spans_match, Bucket,
};
use super::{is_custom_buckets, is_exponential_schema, CounterResetHint, FloatHistogram};

impl FloatHistogram {
    /// Whether the schema is the custom-buckets schema (`UsesCustomBuckets`).
    pub fn uses_custom_buckets(&self) -> bool {
        is_custom_buckets(self.schema)
    }

    /// A deep copy that, like Go's `Copy`, drops the fields a custom-buckets histogram does
    /// not use (zero bucket, negative side) and the custom values of an exponential one.
    pub fn copy(&self) -> FloatHistogram {
        let mut c = FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            count: self.count,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            positive_buckets: self.positive_buckets.clone(),
            ..FloatHistogram::default()
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

    /// A deep copy in the lower (or equal) `target_schema` (`CopyToSchema`). Go panics on
    /// custom buckets or a higher target schema; here that is an error.
    pub fn copy_to_schema(&self, target_schema: i32) -> Result<FloatHistogram, HistogramError> {
        if target_schema == self.schema {
            return Ok(self.copy());
        }
        if self.uses_custom_buckets() {
            return Err(HistogramError::usage(format!(
                "cannot reduce resolution to {target_schema} when there are custom buckets"
            )));
        }
        if is_custom_buckets(target_schema) {
            return Err(HistogramError::usage(
                "cannot reduce resolution to custom buckets schema",
            ));
        }
        if target_schema > self.schema {
            return Err(HistogramError::usage(format!(
                "cannot copy from schema {} to {target_schema}",
                self.schema
            )));
        }
        let (positive_spans, positive_buckets) = reduce_resolution(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            target_schema,
            false,
        )?;
        let (negative_spans, negative_buckets) = reduce_resolution(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            target_schema,
            false,
        )?;
        Ok(FloatHistogram {
            counter_reset_hint: CounterResetHint::Unknown,
            schema: target_schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            count: self.count,
            sum: self.sum,
            positive_spans,
            negative_spans,
            positive_buckets,
            negative_buckets,
            custom_values: Default::default(),
        })
    }

    /// The zero bucket `[-zero_threshold, zero_threshold]` (`ZeroBucket`). Go panics for
    /// custom buckets; there the bucket is `[0,0]` with the (zero) zero count.
    pub fn zero_bucket(&self) -> Bucket<f64> {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Scales all counts and the sum by `factor` (`Mul`); a negative factor makes the result
    /// a gauge histogram.
    pub fn mul(&mut self, factor: f64) -> &mut Self {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for b in &mut self.positive_buckets {
            *b *= factor;
        }
        for b in &mut self.negative_buckets {
            *b *= factor;
        }
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Divides all counts and the sum by `scalar` (`Div`). Dividing by zero removes all
    /// buckets (count, zero count and sum become ±Inf or NaN); a negative scalar makes the
    /// result a gauge histogram.
    pub fn div(&mut self, scalar: f64) -> &mut Self {
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
        for b in &mut self.positive_buckets {
            *b /= scalar;
        }
        for b in &mut self.negative_buckets {
            *b /= scalar;
        }
        if scalar < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Data equality (`Equals`): same schema, bit-identical count, sum, zero count and
    /// buckets, same zero threshold, same custom bounds (custom schema only) and the same
    /// bucket layout (zero-length spans may differ). The counter reset hint is ignored.
    pub fn equals(&self, h2: &FloatHistogram) -> bool {
        if self.schema != h2.schema
            || self.count.to_bits() != h2.count.to_bits()
            || self.sum.to_bits() != h2.sum.to_bits()
        {
            return false;
        }
        if self.uses_custom_buckets()
            && !custom_bucket_bounds_match(&self.custom_values, &h2.custom_values)
        {
            return false;
        }
        if self.zero_threshold != h2.zero_threshold
            || self.zero_count.to_bits() != h2.zero_count.to_bits()
        {
            return false;
        }
        spans_match(&self.negative_spans, &h2.negative_spans)
            && float_buckets_match(&self.negative_buckets, &h2.negative_buckets)
            && spans_match(&self.positive_spans, &h2.positive_spans)
            && float_buckets_match(&self.positive_buckets, &h2.positive_buckets)
    }

    /// The memory size Go accounts for this histogram (`Size`): a 168-byte struct plus 8
    /// bytes per span, bucket and custom value.
    pub fn size(&self) -> usize {
        168 + 8
            * (self.positive_spans.len()
                + self.negative_spans.len()
                + self.positive_buckets.len()
                + self.negative_buckets.len()
                + self.custom_values.len())
    }

    /// Removes empty buckets at span edges, merges spans at most `max_empty_buckets` apart
    /// and splits spans at longer runs of empty buckets, in place (`Compact`).
    pub fn compact(&mut self, max_empty_buckets: usize) -> &mut Self {
        compact_buckets(
            &mut self.positive_buckets,
            None,
            &mut self.positive_spans,
            max_empty_buckets,
            false,
        );
        compact_buckets(
            &mut self.negative_buckets,
            None,
            &mut self.negative_spans,
            max_empty_buckets,
            false,
        );
        self
    }

    /// `compact` that keeps the Kahan compensation histogram `c` in step (`kahanCompact`).
    pub(crate) fn kahan_compact(&mut self, max_empty_buckets: usize, c: &mut FloatHistogram) {
        compact_buckets(
            &mut self.positive_buckets,
            Some(&mut c.positive_buckets),
            &mut self.positive_spans,
            max_empty_buckets,
            false,
        );
        compact_buckets(
            &mut self.negative_buckets,
            Some(&mut c.negative_buckets),
            &mut self.negative_spans,
            max_empty_buckets,
            false,
        );
    }

    /// Checks the layout and the counts (`Validate`), with Go's messages. Unlike the
    /// integer histogram, the total count is not compared with the buckets (float rounding
    /// would give false alarms).
    pub fn validate(&self) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() {
            check_histogram_custom_bounds(
                &self.custom_values,
                &self.positive_spans,
                self.positive_buckets.len(),
            )
            .map_err(|e| e.context("custom buckets"))?;
            if self.zero_count != 0.0 {
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
            check_histogram_buckets(&self.negative_buckets, false)
                .map_err(|e| e.context("negative side"))?;
            if self.zero_count < 0.0 {
                return Err(HistogramError::wrapped(
                    HistogramErrorKind::NegativeBucketCount,
                    format!(
                        "zero bucket has observation count of {}",
                        go_g(self.zero_count)
                    ),
                ));
            }
            // Go tests `CustomValues != nil`; an empty list is the Rust equivalent of nil.
            if !self.custom_values.is_empty() {
                return Err(HistogramError::new(
                    HistogramErrorKind::ExpSchemaCustomBounds,
                ));
            }
        } else {
            return Err(HistogramError::invalid_schema(self.schema));
        }
        if self.count < 0.0 {
            // Go's message has the double space.
            return Err(HistogramError::wrapped(
                HistogramErrorKind::NegativeCount,
                format!("observation count is  {}", go_g(self.count)),
            ));
        }
        check_histogram_buckets(&self.positive_buckets, false)
            .map_err(|e| e.context("positive side"))?;
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
            false,
        )?;
        let (ns, nb) = reduce_resolution(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            target_schema,
            false,
        )?;
        self.positive_spans = ps;
        self.positive_buckets = pb;
        self.negative_spans = ns;
        self.negative_buckets = nb;
        self.schema = target_schema;
        Ok(())
    }

    /// Whether any count, the sum, a bucket or a custom bound is infinite (`HasOverflow`).
    pub fn has_overflow(&self) -> bool {
        self.zero_count.is_infinite()
            || self.count.is_infinite()
            || self.sum.is_infinite()
            || self.positive_buckets.iter().any(|v| v.is_infinite())
            || self.negative_buckets.iter().any(|v| v.is_infinite())
            || self.custom_values.iter().any(|v| v.is_infinite())
    }

    /// The histogram in the promqltest series notation (`TestExpression`), e.g.
    /// `{{schema:1 count:3 sum:4 buckets:[1 2]}}`. A side with several spans after full
    /// compaction cannot be written (Go panics); its buckets are then written flattened.
    pub fn test_expression(&self) -> String {
        let mut m = self.copy();
        // Merging all spans materialises the gaps as empty buckets; a hostile layout with
        // huge gaps would exhaust memory, so such a histogram keeps its gaps.
        let gaps: u64 = [&m.positive_spans, &m.negative_spans]
            .iter()
            .flat_map(|s| s.iter().skip(1))
            .map(|s| u64::from(s.offset.unsigned_abs()))
            .sum();
        m.compact(if gaps <= 100_000 { usize::MAX } else { 0 });
        let mut res: Vec<String> = Vec::new();
        if m.schema != 0 {
            res.push(format!("schema:{}", m.schema));
        }
        if m.count != 0.0 {
            res.push(format!("count:{}", go_g(m.count)));
        }
        if m.sum != 0.0 {
            res.push(format!("sum:{}", go_g(m.sum)));
        }
        if m.zero_count != 0.0 {
            res.push(format!("z_bucket:{}", go_g(m.zero_count)));
        }
        if m.zero_threshold != 0.0 {
            res.push(format!("z_bucket_w:{}", go_g(m.zero_threshold)));
        }
        if m.uses_custom_buckets() {
            let v: Vec<String> = m.custom_values.iter().map(|x| go_g(*x)).collect();
            res.push(format!("custom_values:[{}]", v.join(" ")));
        }
        match m.counter_reset_hint {
            CounterResetHint::Unknown => {}
            CounterResetHint::CounterReset => res.push("counter_reset_hint:reset".into()),
            CounterResetHint::NotCounterReset => res.push("counter_reset_hint:not_reset".into()),
            CounterResetHint::Gauge => res.push("counter_reset_hint:gauge".into()),
        }
        let mut add = |bkey: &str, okey: &str, buckets: &[f64], spans: &[super::Span]| {
            for s in spans {
                if s.offset != 0 {
                    res.push(format!("{okey}:{}", s.offset));
                }
            }
            if !buckets.is_empty() {
                let b: Vec<String> = buckets.iter().map(|x| go_g(*x)).collect();
                res.push(format!("{bkey}:[{}]", b.join(" ")));
            }
        };
        add("buckets", "offset", &m.positive_buckets, &m.positive_spans);
        add(
            "n_buckets",
            "n_offset",
            &m.negative_buckets,
            &m.negative_spans,
        );
        format!("{{{{{}}}}}", res.join(" "))
    }
}

/// Bit-exact comparison of bucket counts (`floatBucketsMatch`).
fn float_buckets_match(b1: &[f64], b2: &[f64]) -> bool {
    b1.len() == b2.len() && b1.iter().zip(b2).all(|(a, b)| a.to_bits() == b.to_bits())
}

impl fmt::Display for FloatHistogram {
    /// Go's `String()`: `{count:N, sum:S, <buckets>}` with the populated buckets in
    /// ascending order, e.g. `{count:5, sum:10, [-0.001,0.001]:1, (0.5,1]:4}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{count:{}, sum:{}", go_g(self.count), go_g(self.sum))?;
        let negative: Vec<Bucket<f64>> = self
            .negative_bucket_iterator()
            .filter(|b| b.count != 0.0)
            .collect();
        for b in negative.iter().rev() {
            write!(f, ", {b}")?;
        }
        if self.zero_count != 0.0 {
            write!(f, ", {}", self.zero_bucket())?;
        }
        for b in self.positive_bucket_iterator().filter(|b| b.count != 0.0) {
            write!(f, ", {b}")?;
        }
        f.write_str("}")
    }
}
