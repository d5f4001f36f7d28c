//! Bucket iterators of both histogram types (Prometheus' `floatBucketIterator`,
//! `reverseFloatBucketIterator`, `allFloatBucketIterator`, `regularBucketIterator` and
//! `cumulativeBucketIterator`). They borrow the histogram and never panic on an invalid
//! layout: iteration simply stops where Go's would.

use super::generic::{get_bound, get_bound_exponential, target_idx, Bucket};
use super::{is_custom_buckets, is_exponential_schema, FloatHistogram, Histogram, Span};

/// The bucket at index `idx` (`baseBucketIterator.at`).
fn bucket_at<C>(
    positive: bool,
    idx: i32,
    schema: i32,
    custom_values: &[f64],
    count: C,
) -> Bucket<C> {
    let (lower, upper) = if positive {
        (
            get_bound(idx.wrapping_sub(1), schema, custom_values),
            get_bound(idx, schema, custom_values),
        )
    } else {
        (
            -get_bound(idx, schema, custom_values),
            -get_bound(idx.wrapping_sub(1), schema, custom_values),
        )
    };
    let (lower_inclusive, upper_inclusive) = if is_custom_buckets(schema) {
        (idx == 0, true)
    } else {
        (lower < 0.0, upper > 0.0)
    };
    Bucket {
        lower,
        upper,
        lower_inclusive,
        upper_inclusive,
        count,
        index: idx,
    }
}

/// Iterates the buckets of one side of a [`FloatHistogram`] away from zero, optionally
/// merged into a lower `target_schema` and skipping buckets whose absolute upper bound is at
/// most a start value (exponential schemas only).
#[derive(Debug, Clone)]
pub struct FloatBucketIterator<'a> {
    schema: i32,
    spans: &'a [Span],
    buckets: &'a [f64],
    positive: bool,
    custom_values: &'a [f64],
    spans_idx: usize,
    idx_in_span: u32,
    buckets_idx: usize,
    curr_count: f64,
    curr_idx: i32,
    target_schema: i32,
    orig_idx: i32,
    absolute_start_value: f64,
    bound_reached_start_value: bool,
}

impl<'a> FloatBucketIterator<'a> {
    /// The iterator over one side (`floatBucketIterator`). The caller guarantees that
    /// `target_schema` is at most the histogram's schema and of the same family (Go panics
    /// otherwise); a violating call yields no buckets.
    pub(crate) fn new(
        h: &'a FloatHistogram,
        positive: bool,
        absolute_start_value: f64,
        target_schema: i32,
    ) -> Self {
        let valid = target_schema <= h.schema
            && (h.uses_custom_buckets() == is_custom_buckets(target_schema))
            && (!h.uses_custom_buckets() || target_schema == h.schema);
        let (spans, buckets, custom_values): (&[Span], &[f64], &[f64]) = match (valid, positive) {
            (false, _) => (&[], &[], &[]),
            (true, true) => (&h.positive_spans, &h.positive_buckets, &h.custom_values),
            (true, false) => (&h.negative_spans, &h.negative_buckets, &[]),
        };
        FloatBucketIterator {
            schema: h.schema,
            spans,
            buckets,
            positive,
            custom_values,
            spans_idx: 0,
            idx_in_span: 0,
            buckets_idx: 0,
            curr_count: 0.0,
            curr_idx: 0,
            target_schema,
            orig_idx: 0,
            absolute_start_value,
            bound_reached_start_value: absolute_start_value == 0.0,
        }
    }

    /// Moves to the next bucket (`Next`).
    pub(crate) fn advance(&mut self) -> bool {
        loop {
            if self.spans_idx >= self.spans.len() {
                return false;
            }
            let mut span = self.spans[self.spans_idx];
            if self.schema == self.target_schema {
                // The common case: no merging.
                if self.buckets_idx == 0 {
                    self.curr_idx = span.offset;
                } else {
                    self.curr_idx = self.curr_idx.wrapping_add(1);
                }
                if self.buckets_idx >= self.buckets.len() {
                    return false;
                }
                while self.idx_in_span >= span.length {
                    // The current span is exhausted (or pathologically empty).
                    self.idx_in_span = 0;
                    self.spans_idx += 1;
                    if self.spans_idx >= self.spans.len() {
                        return false;
                    }
                    span = self.spans[self.spans_idx];
                    self.curr_idx = self.curr_idx.wrapping_add(span.offset);
                }
                self.curr_count = self.buckets[self.buckets_idx];
                self.idx_in_span += 1;
                self.buckets_idx += 1;
            } else {
                // Merge all origin buckets that fall into one target bucket, working on
                // copies so that the first bucket of the next target bucket is not consumed.
                let (mut orig_idx, mut spans_idx, mut idx_in_span) =
                    (self.orig_idx, self.spans_idx, self.idx_in_span);
                let mut first_pass = true;
                self.curr_count = 0.0;
                loop {
                    if self.buckets_idx == 0 {
                        orig_idx = span.offset;
                    } else {
                        orig_idx = orig_idx.wrapping_add(1);
                    }
                    if self.buckets_idx >= self.buckets.len() {
                        if first_pass {
                            return false;
                        }
                        break;
                    }
                    let mut exhausted = false;
                    while idx_in_span >= span.length {
                        idx_in_span = 0;
                        spans_idx += 1;
                        if spans_idx >= self.spans.len() {
                            exhausted = true;
                            break;
                        }
                        span = self.spans[spans_idx];
                        orig_idx = orig_idx.wrapping_add(span.offset);
                    }
                    if exhausted {
                        if first_pass {
                            return false;
                        }
                        break;
                    }
                    let curr_idx = target_idx(orig_idx, self.schema, self.target_schema);
                    if first_pass {
                        self.curr_idx = curr_idx;
                        first_pass = false;
                    } else if curr_idx != self.curr_idx {
                        break;
                    }
                    self.curr_count += self.buckets[self.buckets_idx];
                    idx_in_span += 1;
                    self.buckets_idx += 1;
                    self.orig_idx = orig_idx;
                    self.spans_idx = spans_idx;
                    self.idx_in_span = idx_in_span;
                }
            }
            // Skip buckets below the start value (exponential schemas only).
            if !self.bound_reached_start_value
                && is_exponential_schema(self.target_schema)
                && get_bound_exponential(self.curr_idx, self.target_schema)
                    <= self.absolute_start_value
            {
                continue;
            }
            self.bound_reached_start_value = true;
            return true;
        }
    }

    /// The current bucket (`At`), in the target schema.
    pub(crate) fn at(&self) -> Bucket<f64> {
        bucket_at(
            self.positive,
            self.curr_idx,
            self.target_schema,
            self.custom_values,
            self.curr_count,
        )
    }

    /// The current bucket's index and count, without computing bounds (`strippedAt`).
    pub(crate) fn stripped_at(&self) -> (i32, f64) {
        (self.curr_idx, self.curr_count)
    }
}

impl Iterator for FloatBucketIterator<'_> {
    type Item = Bucket<f64>;

    fn next(&mut self) -> Option<Bucket<f64>> {
        self.advance().then(|| self.at())
    }
}

/// Iterates the buckets of one side of a [`FloatHistogram`] towards zero
/// (`reverseFloatBucketIterator`).
#[derive(Debug, Clone)]
pub struct ReverseFloatBucketIterator<'a> {
    schema: i32,
    spans: &'a [Span],
    buckets: &'a [f64],
    positive: bool,
    custom_values: &'a [f64],
    spans_idx: isize,
    idx_in_span: i64,
    buckets_idx: isize,
    curr_count: f64,
    curr_idx: i32,
}

impl<'a> ReverseFloatBucketIterator<'a> {
    pub(crate) fn new(
        spans: &'a [Span],
        buckets: &'a [f64],
        schema: i32,
        positive: bool,
        custom_values: &'a [f64],
    ) -> Self {
        let spans_idx = spans.len() as isize - 1;
        let idx_in_span = spans.last().map_or(0, |s| i64::from(s.length) - 1);
        let curr_idx = spans.iter().fold(0i32, |acc, s| {
            acc.wrapping_add(s.offset).wrapping_add(s.length as i32)
        });
        ReverseFloatBucketIterator {
            schema,
            spans,
            buckets,
            positive,
            custom_values,
            spans_idx,
            idx_in_span,
            buckets_idx: buckets.len() as isize - 1,
            curr_count: 0.0,
            curr_idx,
        }
    }

    fn advance(&mut self) -> bool {
        self.curr_idx = self.curr_idx.wrapping_sub(1);
        if self.buckets_idx < 0 {
            return false;
        }
        while self.idx_in_span < 0 {
            // The current span is exhausted (or pathologically empty).
            self.spans_idx -= 1;
            if self.spans_idx < 0 {
                return false;
            }
            let s = self.spans_idx as usize;
            self.idx_in_span = i64::from(self.spans[s].length) - 1;
            self.curr_idx = self.curr_idx.wrapping_sub(self.spans[s + 1].offset);
        }
        self.curr_count = self.buckets[self.buckets_idx as usize];
        self.buckets_idx -= 1;
        self.idx_in_span -= 1;
        true
    }

    fn at(&self) -> Bucket<f64> {
        bucket_at(
            self.positive,
            self.curr_idx,
            self.schema,
            self.custom_values,
            self.curr_count,
        )
    }
}

impl Iterator for ReverseFloatBucketIterator<'_> {
    type Item = Bucket<f64>;

    fn next(&mut self) -> Option<Bucket<f64>> {
        self.advance().then(|| self.at())
    }
}

/// Iterates all buckets of a [`FloatHistogram`] (negative, zero, positive) in ascending or,
/// for [`FloatHistogram::all_reverse_bucket_iterator`], descending order. The zero bucket
/// comes only when populated; a bucket overlapping the zero bucket is clipped to the zero
/// threshold (`allFloatBucketIterator`).
#[derive(Debug, Clone)]
pub struct AllFloatBucketIterator<'a> {
    h: &'a FloatHistogram,
    left: ReverseFloatBucketIterator<'a>,
    right: FloatBucketIterator<'a>,
    state: i8,
}

impl Iterator for AllFloatBucketIterator<'_> {
    type Item = Bucket<f64>;

    fn next(&mut self) -> Option<Bucket<f64>> {
        let zt = self.h.zero_threshold;
        loop {
            match self.state {
                -1 => {
                    if self.left.advance() {
                        let mut b = self.left.at();
                        if b.upper < 0.0 && b.upper > -zt {
                            b.upper = -zt;
                        } else if b.lower > 0.0 && b.lower < zt {
                            b.lower = zt;
                        }
                        return Some(b);
                    }
                    self.state = 0;
                }
                0 => {
                    self.state = 1;
                    if self.h.zero_count > 0.0 {
                        return Some(self.h.zero_bucket());
                    }
                }
                1 => {
                    if self.right.advance() {
                        let mut b = self.right.at();
                        if b.lower > 0.0 && b.lower < zt {
                            b.lower = zt;
                        } else if b.upper < 0.0 && b.upper > -zt {
                            b.upper = -zt;
                        }
                        return Some(b);
                    }
                    self.state = 42;
                    return None;
                }
                _ => return None,
            }
        }
    }
}

impl FloatHistogram {
    /// Positive buckets in ascending order (`PositiveBucketIterator`).
    pub fn positive_bucket_iterator(&self) -> FloatBucketIterator<'_> {
        FloatBucketIterator::new(self, true, 0.0, self.schema)
    }

    /// Negative buckets in descending order, from next to zero downwards
    /// (`NegativeBucketIterator`).
    pub fn negative_bucket_iterator(&self) -> FloatBucketIterator<'_> {
        FloatBucketIterator::new(self, false, 0.0, self.schema)
    }

    /// Positive buckets from the highest down (`PositiveReverseBucketIterator`).
    pub fn positive_reverse_bucket_iterator(&self) -> ReverseFloatBucketIterator<'_> {
        ReverseFloatBucketIterator::new(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            true,
            &self.custom_values,
        )
    }

    /// Negative buckets from the lowest up (`NegativeReverseBucketIterator`).
    pub fn negative_reverse_bucket_iterator(&self) -> ReverseFloatBucketIterator<'_> {
        ReverseFloatBucketIterator::new(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            false,
            &[],
        )
    }

    /// All buckets in ascending order (`AllBucketIterator`).
    pub fn all_bucket_iterator(&self) -> AllFloatBucketIterator<'_> {
        AllFloatBucketIterator {
            h: self,
            left: self.negative_reverse_bucket_iterator(),
            right: FloatBucketIterator::new(self, true, 0.0, self.schema),
            state: -1,
        }
    }

    /// All buckets in descending order (`AllReverseBucketIterator`).
    pub fn all_reverse_bucket_iterator(&self) -> AllFloatBucketIterator<'_> {
        AllFloatBucketIterator {
            h: self,
            left: self.positive_reverse_bucket_iterator(),
            right: FloatBucketIterator::new(self, false, 0.0, self.schema),
            state: -1,
        }
    }

    /// One side's buckets merged into `target_schema` (at most this histogram's schema),
    /// skipping buckets whose absolute upper bound is at most `absolute_start_value`
    /// (`floatBucketIterator`).
    pub fn float_bucket_iterator(
        &self,
        positive: bool,
        absolute_start_value: f64,
        target_schema: i32,
    ) -> FloatBucketIterator<'_> {
        FloatBucketIterator::new(self, positive, absolute_start_value, target_schema)
    }
}

/// Iterates the buckets of one side of a [`Histogram`] away from zero, undoing the delta
/// encoding (`regularBucketIterator`).
#[derive(Debug, Clone)]
pub struct RegularBucketIterator<'a> {
    schema: i32,
    spans: &'a [Span],
    buckets: &'a [i64],
    positive: bool,
    custom_values: &'a [f64],
    spans_idx: usize,
    idx_in_span: u32,
    buckets_idx: usize,
    curr_count: i64,
    curr_idx: i32,
}

impl<'a> RegularBucketIterator<'a> {
    fn new(
        spans: &'a [Span],
        buckets: &'a [i64],
        schema: i32,
        positive: bool,
        custom_values: &'a [f64],
    ) -> Self {
        RegularBucketIterator {
            schema,
            spans,
            buckets,
            positive,
            custom_values,
            spans_idx: 0,
            idx_in_span: 0,
            buckets_idx: 0,
            curr_count: 0,
            curr_idx: 0,
        }
    }
}

impl Iterator for RegularBucketIterator<'_> {
    type Item = Bucket<u64>;

    fn next(&mut self) -> Option<Bucket<u64>> {
        if self.spans_idx >= self.spans.len() {
            return None;
        }
        let mut span = self.spans[self.spans_idx];
        if self.buckets_idx == 0 {
            self.curr_idx = span.offset;
        } else {
            self.curr_idx = self.curr_idx.wrapping_add(1);
        }
        while self.idx_in_span >= span.length {
            self.idx_in_span = 0;
            self.spans_idx += 1;
            if self.spans_idx >= self.spans.len() {
                return None;
            }
            span = self.spans[self.spans_idx];
            self.curr_idx = self.curr_idx.wrapping_add(span.offset);
        }
        let d = *self.buckets.get(self.buckets_idx)?;
        self.curr_count = self.curr_count.wrapping_add(d);
        self.idx_in_span += 1;
        self.buckets_idx += 1;
        Some(bucket_at(
            self.positive,
            self.curr_idx,
            self.schema,
            self.custom_values,
            self.curr_count as u64,
        ))
    }
}

/// Cumulative view of a [`Histogram`]'s zero and positive buckets, including the empty
/// buckets between spans (`cumulativeBucketIterator`).
#[derive(Debug, Clone)]
pub struct CumulativeBucketIterator<'a> {
    h: &'a Histogram,
    pos_spans_idx: isize,
    pos_buckets_idx: usize,
    idx_in_span: u32,
    initialized: bool,
    curr_idx: i32,
    curr_upper: f64,
    curr_count: i64,
    curr_cumulative_count: u64,
    empty_bucket_count: i32,
}

impl Iterator for CumulativeBucketIterator<'_> {
    type Item = Bucket<u64>;

    fn next(&mut self) -> Option<Bucket<u64>> {
        let h = self.h;
        loop {
            if self.pos_spans_idx == -1 {
                // The zero bucket.
                self.pos_spans_idx = 0;
                if h.zero_count == 0 {
                    continue;
                }
                self.curr_upper = h.zero_threshold;
                self.curr_count = h.zero_count as i64;
                self.curr_cumulative_count = self.curr_count as u64;
                return Some(self.at());
            }
            break;
        }
        let spans_idx = self.pos_spans_idx as usize;
        if spans_idx >= h.positive_spans.len() {
            return None;
        }
        if self.empty_bucket_count > 0 {
            // Walking through the empty buckets between two spans.
            self.curr_upper = get_bound(self.curr_idx, h.schema, &h.custom_values);
            self.curr_idx = self.curr_idx.wrapping_add(1);
            self.empty_bucket_count -= 1;
            return Some(self.at());
        }
        let span = h.positive_spans[spans_idx];
        if spans_idx == 0 && !self.initialized {
            self.curr_idx = span.offset;
            self.curr_count = 0;
            self.initialized = true;
        }
        let d = *h.positive_buckets.get(self.pos_buckets_idx)?;
        self.curr_count = self.curr_count.wrapping_add(d);
        self.curr_cumulative_count = self
            .curr_cumulative_count
            .wrapping_add(self.curr_count as u64);
        self.curr_upper = get_bound(self.curr_idx, h.schema, &h.custom_values);
        self.pos_buckets_idx += 1;
        self.idx_in_span += 1;
        self.curr_idx = self.curr_idx.wrapping_add(1);
        if self.idx_in_span >= span.length {
            self.pos_spans_idx += 1;
            self.idx_in_span = 0;
            if let Some(next) = h.positive_spans.get(self.pos_spans_idx as usize) {
                self.empty_bucket_count = next.offset;
            }
        }
        Some(self.at())
    }
}

impl CumulativeBucketIterator<'_> {
    fn at(&self) -> Bucket<u64> {
        Bucket {
            upper: self.curr_upper,
            lower: f64::NEG_INFINITY,
            upper_inclusive: true,
            lower_inclusive: true,
            count: self.curr_cumulative_count,
            index: self.curr_idx.wrapping_sub(1),
        }
    }
}

impl Histogram {
    /// Positive buckets in ascending order (`PositiveBucketIterator`).
    pub fn positive_bucket_iterator(&self) -> RegularBucketIterator<'_> {
        RegularBucketIterator::new(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            true,
            &self.custom_values,
        )
    }

    /// Negative buckets in descending order (`NegativeBucketIterator`).
    pub fn negative_bucket_iterator(&self) -> RegularBucketIterator<'_> {
        RegularBucketIterator::new(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            false,
            &[],
        )
    }

    /// Cumulative buckets (`CumulativeBucketIterator`). Go panics on a histogram with
    /// negative buckets; here that is `None`.
    pub fn cumulative_bucket_iterator(&self) -> Option<CumulativeBucketIterator<'_>> {
        if !self.negative_buckets.is_empty() {
            return None;
        }
        Some(CumulativeBucketIterator {
            h: self,
            pos_spans_idx: -1,
            pos_buckets_idx: 0,
            idx_in_span: 0,
            initialized: false,
            curr_idx: 0,
            curr_upper: 0.0,
            curr_count: 0,
            curr_cumulative_count: 0,
            empty_bucket_count: 0,
        })
    }
}
