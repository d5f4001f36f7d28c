//! [`FloatHistogram`] arithmetic and counter-reset detection (Prometheus'
//! `float_histogram.go`): `Add`, `Sub`, `KahanAdd`, zero-bucket and schema reconciliation,
//! custom-bounds intersection, `DetectReset`.

use std::sync::Arc;

use super::error::{HistogramError, HistogramErrorKind};
use super::generic::{
    custom_bucket_bounds_match, get_bound_exponential, kahan_dec, kahan_inc, reduce_resolution,
    target_idx,
};
use super::iter::FloatBucketIterator;
use super::{is_exponential_schema, CounterResetHint, FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA};

/// What an addition or subtraction noticed besides its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddOutcome {
    /// One operand said `CounterReset` and the other `NotCounterReset`; the result's hint was
    /// set to `Unknown` (PromQL warns about this).
    pub counter_reset_collision: bool,
    /// The operands had different custom bounds; the result uses their intersection
    /// (PromQL reports this as an info annotation).
    pub nhcb_bounds_reconciled: bool,
}

impl FloatHistogram {
    /// Adds `other` into this histogram (`Add`): counts, sums and buckets add up, missing
    /// buckets are inserted (call [`FloatHistogram::compact`] to normalise). The schema and
    /// the zero threshold are reconciled (to the lower resolution, to the wider zero bucket),
    /// mismatched custom bounds to their intersection. Mixing exponential and custom schemas
    /// is [`HistogramErrorKind::IncompatibleSchema`], leaving `self` unchanged.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.add_or_sub(other, false)
    }

    /// Subtracts `other` (`Sub`), with the same reconciliation and counter-reset-hint logic
    /// as [`FloatHistogram::add`] (PromQL's `-` then marks the result a gauge itself).
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.add_or_sub(other, true)
    }

    fn add_or_sub(
        &mut self,
        other: &FloatHistogram,
        negative: bool,
    ) -> Result<AddOutcome, HistogramError> {
        self.check_schema_and_bounds(other)?;
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        if !self.uses_custom_buckets() {
            let (other_zero_count, _) = self.reconcile_zero_buckets(other, None);
            if negative {
                self.zero_count -= other_zero_count;
            } else {
                self.zero_count += other_zero_count;
            }
        }
        if negative {
            self.count -= other.count;
            self.sum -= other.sum;
        } else {
            self.count += other.count;
            self.sum += other.sum;
        }

        if self.uses_custom_buckets() {
            if custom_bucket_bounds_match(&self.custom_values, &other.custom_values) {
                add_buckets(
                    self.schema,
                    self.zero_threshold,
                    negative,
                    &mut self.positive_spans,
                    &mut self.positive_buckets,
                    &other.positive_spans,
                    &other.positive_buckets,
                    None,
                    None,
                );
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let intersected =
                    intersect_custom_bucket_bounds(&self.custom_values, &other.custom_values);
                let (spans, buckets, _) = add_custom_buckets_with_mismatches(
                    negative,
                    &self.positive_spans,
                    &self.positive_buckets,
                    &self.custom_values,
                    &other.positive_spans,
                    &other.positive_buckets,
                    &other.custom_values,
                    None,
                    &intersected,
                );
                self.positive_spans = spans;
                self.positive_buckets = buckets;
                self.custom_values = intersected;
            }
            return Ok(outcome);
        }

        let reduced = if other.schema > self.schema {
            Some((
                reduce_resolution(
                    &other.positive_spans,
                    &other.positive_buckets,
                    other.schema,
                    self.schema,
                    false,
                )?,
                reduce_resolution(
                    &other.negative_spans,
                    &other.negative_buckets,
                    other.schema,
                    self.schema,
                    false,
                )?,
            ))
        } else {
            if other.schema < self.schema {
                self.reduce_own_resolution(other.schema)?;
            }
            None
        };
        let (o_ps, o_pb, o_ns, o_nb): (&[Span], &[f64], &[Span], &[f64]) = match &reduced {
            Some(((ps, pb), (ns, nb))) => (ps, pb, ns, nb),
            None => (
                &other.positive_spans,
                &other.positive_buckets,
                &other.negative_spans,
                &other.negative_buckets,
            ),
        };
        add_buckets(
            self.schema,
            self.zero_threshold,
            negative,
            &mut self.positive_spans,
            &mut self.positive_buckets,
            o_ps,
            o_pb,
            None,
            None,
        );
        add_buckets(
            self.schema,
            self.zero_threshold,
            negative,
            &mut self.negative_spans,
            &mut self.negative_buckets,
            o_ns,
            o_nb,
            None,
            None,
        );
        Ok(outcome)
    }

    /// Merges this histogram's buckets into the lower `target_schema` and adopts it.
    fn reduce_own_resolution(&mut self, target_schema: i32) -> Result<(), HistogramError> {
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
        (self.positive_spans, self.positive_buckets) = (ps, pb);
        (self.negative_spans, self.negative_buckets) = (ns, nb);
        self.schema = target_schema;
        Ok(())
    }

    /// [`FloatHistogram::add`] with Kahan-Neumaier compensation (`KahanAdd`). `c` is the
    /// compensation histogram of earlier additions (`None` to start one); the updated one is
    /// returned and must be used for the next addition. The compensated total is
    /// `self + c` (add them at the end).
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, AddOutcome), HistogramError> {
        self.check_schema_and_bounds(other)?;
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        let mut c = c.unwrap_or_else(|| self.new_compensation_histogram());
        if !self.uses_custom_buckets() {
            let (other_zero_count, other_c_zero_count) =
                self.reconcile_zero_buckets(other, Some(&mut c));
            (self.zero_count, c.zero_count) =
                kahan_inc(other_zero_count, self.zero_count, c.zero_count);
            (self.zero_count, c.zero_count) =
                kahan_inc(other_c_zero_count, self.zero_count, c.zero_count);
        }
        (self.count, c.count) = kahan_inc(other.count, self.count, c.count);
        (self.sum, c.sum) = kahan_inc(other.sum, self.sum, c.sum);

        if self.uses_custom_buckets() {
            if custom_bucket_bounds_match(&self.custom_values, &other.custom_values) {
                add_buckets(
                    self.schema,
                    self.zero_threshold,
                    false,
                    &mut self.positive_spans,
                    &mut self.positive_buckets,
                    &other.positive_spans,
                    &other.positive_buckets,
                    Some(&mut c.positive_buckets),
                    None,
                );
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let intersected =
                    intersect_custom_bucket_bounds(&self.custom_values, &other.custom_values);
                let (spans, buckets, cb) = add_custom_buckets_with_mismatches(
                    false,
                    &self.positive_spans,
                    &self.positive_buckets,
                    &self.custom_values,
                    &other.positive_spans,
                    &other.positive_buckets,
                    &other.custom_values,
                    Some(&c.positive_buckets),
                    &intersected,
                );
                self.positive_spans = spans;
                self.positive_buckets = buckets;
                c.positive_buckets = cb;
                self.custom_values = intersected.clone();
                c.custom_values = intersected;
            }
            c.positive_spans = self.positive_spans.clone();
            return Ok((c, outcome));
        }

        let mut o_pos = (other.positive_spans.clone(), other.positive_buckets.clone());
        let mut o_neg = (other.negative_spans.clone(), other.negative_buckets.clone());
        let mut o_c_pos: Option<Vec<f64>> = None;
        let mut o_c_neg: Option<Vec<f64>> = None;
        if other.schema < self.schema {
            let (ps, pb, pc) = kahan_reduce_resolution(
                &self.positive_spans,
                &self.positive_buckets,
                &c.positive_buckets,
                self.schema,
                other.schema,
            );
            let (ns, nb, nc) = kahan_reduce_resolution(
                &self.negative_spans,
                &self.negative_buckets,
                &c.negative_buckets,
                self.schema,
                other.schema,
            );
            (
                self.positive_spans,
                self.positive_buckets,
                c.positive_buckets,
            ) = (ps, pb, pc);
            (
                self.negative_spans,
                self.negative_buckets,
                c.negative_buckets,
            ) = (ns, nb, nc);
            self.schema = other.schema;
        } else if other.schema > self.schema {
            if !o_pos.1.is_empty() {
                let zeros = vec![0.0; o_pos.1.len()];
                let (s, b, cb) =
                    kahan_reduce_resolution(&o_pos.0, &o_pos.1, &zeros, other.schema, self.schema);
                o_pos = (s, b);
                o_c_pos = Some(cb);
            }
            if !o_neg.1.is_empty() {
                let zeros = vec![0.0; o_neg.1.len()];
                let (s, b, cb) =
                    kahan_reduce_resolution(&o_neg.0, &o_neg.1, &zeros, other.schema, self.schema);
                o_neg = (s, b);
                o_c_neg = Some(cb);
            }
        }
        add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            &mut self.positive_spans,
            &mut self.positive_buckets,
            &o_pos.0,
            &o_pos.1,
            Some(&mut c.positive_buckets),
            o_c_pos.as_deref(),
        );
        add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            &mut self.negative_spans,
            &mut self.negative_buckets,
            &o_neg.0,
            &o_neg.1,
            Some(&mut c.negative_buckets),
            o_c_neg.as_deref(),
        );
        c.schema = self.schema;
        c.zero_threshold = self.zero_threshold;
        c.positive_spans = self.positive_spans.clone();
        c.negative_spans = self.negative_spans.clone();
        Ok((c, outcome))
    }

    /// A compensation histogram for [`FloatHistogram::kahan_add`]: this histogram's layout
    /// with all counts zero (`newCompensationHistogram`).
    pub fn new_compensation_histogram(&self) -> FloatHistogram {
        let custom = self.uses_custom_buckets();
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            positive_buckets: vec![0.0; self.positive_buckets.len()],
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            negative_buckets: if custom {
                Vec::new()
            } else {
                vec![0.0; self.negative_buckets.len()]
            },
            ..FloatHistogram::default()
        }
    }

    /// Both exponential or both custom (`checkSchemaAndBounds`).
    fn check_schema_and_bounds(&self, other: &FloatHistogram) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::new(HistogramErrorKind::IncompatibleSchema));
        }
        Ok(())
    }

    /// Combines the counter reset hints for an addition (`adjustCounterReset`); returns
    /// whether `CounterReset` met `NotCounterReset`.
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        let (h, o) = (self.counter_reset_hint, other.counter_reset_hint);
        if o == h || h == Gauge {
            return false;
        }
        if o == Gauge {
            self.counter_reset_hint = Gauge;
            return false;
        }
        if h == Unknown {
            return false;
        }
        self.counter_reset_hint = Unknown;
        // Either the other is Unknown, or CounterReset met NotCounterReset.
        o != Unknown
    }

    /// The zero count this histogram would have with the larger (or equal) threshold, the
    /// threshold moved up to the edge of a populated bucket it would cut, and the compensation
    /// zero count of `c` (`zeroCountForLargerThreshold`).
    pub(crate) fn zero_count_for_larger_threshold(
        &self,
        larger_threshold: f64,
        c: Option<&FloatHistogram>,
    ) -> (f64, f64, f64) {
        let mut c_zero_count = c.map_or(0.0, |c| c.zero_count);
        if larger_threshold == self.zero_threshold {
            return (self.zero_count, larger_threshold, c_zero_count);
        }
        let mut larger = larger_threshold;
        'outer: loop {
            // As in Go, a restart resets the zero count but keeps the compensation gathered.
            let mut h_zero_count = self.zero_count;
            for (i, b) in self.positive_bucket_iterator().enumerate() {
                if b.lower >= larger {
                    break;
                }
                (h_zero_count, c_zero_count) = kahan_inc(b.count, h_zero_count, c_zero_count);
                if let Some(cb) = c.and_then(|c| c.positive_buckets.get(i)) {
                    (h_zero_count, c_zero_count) = kahan_inc(*cb, h_zero_count, c_zero_count);
                }
                if b.upper > larger {
                    // The new threshold is inside this bucket: a populated one moves it up.
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for (i, b) in self.negative_bucket_iterator().enumerate() {
                if b.upper <= -larger {
                    break;
                }
                (h_zero_count, c_zero_count) = kahan_inc(b.count, h_zero_count, c_zero_count);
                if let Some(cb) = c.and_then(|c| c.negative_buckets.get(i)) {
                    (h_zero_count, c_zero_count) = kahan_inc(*cb, h_zero_count, c_zero_count);
                }
                if b.lower < -larger {
                    // Inside a populated bucket: move the threshold and redo the positive
                    // side, whose treatment is now invalid.
                    if b.count != 0.0 {
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (h_zero_count, larger, c_zero_count);
        }
    }

    /// Zeroes the buckets inside the zero bucket (their counts are already in the zero
    /// count) and compacts them away (`trimBucketsInZeroBucket`).
    fn trim_buckets_in_zero_bucket(&mut self, c: Option<&mut FloatHistogram>) {
        let zt = self.zero_threshold;
        let n_pos = self
            .positive_bucket_iterator()
            .take_while(|b| b.lower < zt)
            .count();
        let n_neg = self
            .negative_bucket_iterator()
            .take_while(|b| b.upper > -zt)
            .count();
        for b in self.positive_buckets.iter_mut().take(n_pos) {
            *b = 0.0;
        }
        for b in self.negative_buckets.iter_mut().take(n_neg) {
            *b = 0.0;
        }
        match c {
            Some(c) => {
                for b in c.positive_buckets.iter_mut().take(n_pos) {
                    *b = 0.0;
                }
                for b in c.negative_buckets.iter_mut().take(n_neg) {
                    *b = 0.0;
                }
                self.kahan_compact(0, c);
            }
            None => {
                self.compact(0);
            }
        }
    }

    /// Widens this histogram's zero bucket (and `c`'s) to cover both zero buckets, returning
    /// the zero count (and its compensation) `other` would have with that threshold
    /// (`reconcileZeroBuckets`).
    fn reconcile_zero_buckets(
        &mut self,
        other: &FloatHistogram,
        mut c: Option<&mut FloatHistogram>,
    ) -> (f64, f64) {
        let mut other_zero_count = other.zero_count;
        let mut other_zero_threshold = other.zero_threshold;
        let mut other_c_zero_count = 0.0;
        // A NaN threshold would loop forever in Go; it cannot be reconciled anyway.
        while other_zero_threshold != self.zero_threshold
            && !other_zero_threshold.is_nan()
            && !self.zero_threshold.is_nan()
        {
            if self.zero_threshold > other_zero_threshold {
                (other_zero_count, other_zero_threshold, other_c_zero_count) =
                    other.zero_count_for_larger_threshold(self.zero_threshold, None);
            }
            if other_zero_threshold > self.zero_threshold {
                let (zc, zt, czc) =
                    self.zero_count_for_larger_threshold(other_zero_threshold, c.as_deref());
                self.zero_count = zc;
                self.zero_threshold = zt;
                if let Some(c) = c.as_deref_mut() {
                    c.zero_count = czc;
                }
                self.trim_buckets_in_zero_bucket(c.as_deref_mut());
            }
        }
        (other_zero_count, other_c_zero_count)
    }

    /// Whether this histogram is a counter reset relative to `previous` (`DetectReset`): the
    /// hint decides if it is `CounterReset` or `NotCounterReset`; otherwise any count going
    /// down, a populated bucket disappearing, a resolution increase or a zero-threshold
    /// decrease is a reset. A gauge histogram is treated like a counter.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if !custom_bucket_bounds_match(&self.custom_values, &previous.custom_values) {
                return self.detect_reset_with_mismatched_custom_bounds(previous);
            }
        }
        if self.schema > previous.schema {
            return true;
        }
        if self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (previous_zero_count, new_threshold, _) =
            previous.zero_count_for_larger_threshold(self.zero_threshold, None);
        if new_threshold != self.zero_threshold {
            // The threshold falls inside a populated bucket of the previous histogram.
            return true;
        }
        if self.zero_count < previous_zero_count {
            return true;
        }
        for positive in [true, false] {
            let mut curr =
                FloatBucketIterator::new(self, positive, self.zero_threshold, self.schema);
            let mut prev =
                FloatBucketIterator::new(previous, positive, self.zero_threshold, self.schema);
            if detect_reset_iters(&mut curr, &mut prev) {
                return true;
            }
        }
        false
    }

    /// Reset detection between custom-bucket histograms with different bounds: the bucket
    /// totals up to each common bound must not decrease
    /// (`detectResetWithMismatchedCustomBounds`).
    fn detect_reset_with_mismatched_custom_bounds(&self, previous: &FloatHistogram) -> bool {
        if self.schema != CUSTOM_BUCKETS_SCHEMA || previous.schema != CUSTOM_BUCKETS_SCHEMA {
            return true;
        }
        let curr_bounds: &[f64] = &self.custom_values;
        let prev_bounds: &[f64] = &previous.custom_values;
        let mut curr_it = FloatBucketIterator::new(self, true, 0.0, CUSTOM_BUCKETS_SCHEMA);
        let mut prev_it = FloatBucketIterator::new(previous, true, 0.0, CUSTOM_BUCKETS_SCHEMA);

        // Sums the buckets up to `bound`; returns the sum, the first bucket beyond it and
        // whether there is one.
        fn rollup(
            it: &mut FloatBucketIterator<'_>,
            started: bool,
            mut bucket: super::Bucket<f64>,
            bound: f64,
        ) -> (f64, super::Bucket<f64>, bool) {
            if !started {
                if !it.advance() {
                    return (0.0, Default::default(), false);
                }
                bucket = it.at();
            }
            let mut sum = 0.0;
            while bucket.upper <= bound {
                sum += bucket.count;
                if !it.advance() {
                    return (sum, Default::default(), false);
                }
                bucket = it.at();
            }
            (sum, bucket, true)
        }

        let (mut ci, mut pi) = (0usize, 0usize);
        let (mut cb, mut pb) = (
            super::Bucket::<f64>::default(),
            super::Bucket::<f64>::default(),
        );
        let (mut c_started, mut c_more, mut p_started, mut p_more) = (false, false, false, false);
        while ci <= curr_bounds.len() && pi <= prev_bounds.len() {
            let curr_bound = curr_bounds.get(ci).copied().unwrap_or(f64::INFINITY);
            let prev_bound = prev_bounds.get(pi).copied().unwrap_or(f64::INFINITY);
            if curr_bound == prev_bound {
                let mut c_sum = 0.0;
                if !c_started || c_more {
                    (c_sum, cb, c_more) = rollup(&mut curr_it, c_started, cb, curr_bound);
                    c_started = true;
                }
                let mut p_sum = 0.0;
                if !p_started || p_more {
                    (p_sum, pb, p_more) = rollup(&mut prev_it, p_started, pb, curr_bound);
                    p_started = true;
                }
                if c_sum < p_sum {
                    return true;
                }
                ci += 1;
                pi += 1;
            } else if curr_bound < prev_bound {
                ci += 1;
            } else {
                pi += 1;
            }
        }
        false
    }
}

/// Compares the buckets of two iterators over the same schema (`detectReset`).
fn detect_reset_iters(
    curr: &mut FloatBucketIterator<'_>,
    prev: &mut FloatBucketIterator<'_>,
) -> bool {
    // True when a populated bucket remains in `prev` (from the current one on).
    fn any_populated(prev: &mut FloatBucketIterator<'_>, mut count: f64) -> bool {
        loop {
            if count != 0.0 {
                return true;
            }
            if !prev.advance() {
                return false;
            }
            count = prev.stripped_at().1;
        }
    }
    if !prev.advance() {
        return false;
    }
    let (mut p_idx, mut p_count) = prev.stripped_at();
    if !curr.advance() {
        return any_populated(prev, p_count);
    }
    let (mut c_idx, mut c_count) = curr.stripped_at();
    loop {
        while c_idx < p_idx {
            if !curr.advance() {
                return any_populated(prev, p_count);
            }
            (c_idx, c_count) = curr.stripped_at();
        }
        if c_idx > p_idx {
            if p_count != 0.0 {
                return true;
            }
        } else if c_count < p_count {
            return true;
        }
        if !prev.advance() {
            return false;
        }
        (p_idx, p_count) = prev.stripped_at();
    }
}

/// Adds (or, with `negative`, subtracts) buckets B into buckets A, inserting missing buckets
/// into A's layout (`addBuckets`). B's buckets whose absolute upper bound is at most
/// `threshold` are skipped (they are in the zero bucket). With `comp_a`, the addition is
/// Kahan-compensated into it and `comp_b` holds B's compensation (`kahanAddBuckets`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_buckets(
    schema: i32,
    threshold: f64,
    negative: bool,
    spans_a: &mut Vec<Span>,
    buckets_a: &mut Vec<f64>,
    spans_b: &[Span],
    buckets_b: &[f64],
    mut comp_a: Option<&mut Vec<f64>>,
    comp_b: Option<&[f64]>,
) {
    if let Some(c) = comp_a.as_deref_mut() {
        c.resize(buckets_a.len(), 0.0);
    }
    let mut i_span: isize = -1;
    let mut i_bucket: isize = -1;
    let mut i_in_span: i32 = 0;
    let mut index_a: i32 = 0;
    let mut index_b: i32 = 0;
    let mut b_idx_b: usize = 0;
    let mut lower_than_threshold = true;

    // Adds `b` (and its compensation `cb`) into bucket `i` of A.
    let add_at =
        |buckets_a: &mut Vec<f64>, comp_a: Option<&mut Vec<f64>>, i: usize, b: f64, cb: f64| {
            let Some(a) = buckets_a.get_mut(i) else {
                return;
            };
            match comp_a.and_then(|c| c.get_mut(i)) {
                None => *a += b,
                Some(c) => {
                    (*a, *c) = kahan_inc(b, *a, *c);
                    if cb != 0.0 {
                        (*a, *c) = kahan_inc(cb, *a, *c);
                    }
                }
            }
        };

    for span_b in spans_b {
        index_b = index_b.wrapping_add(span_b.offset);
        for _ in 0..span_b.length {
            if b_idx_b >= buckets_b.len() {
                // Spans promising more buckets than there are (Go would panic): stop.
                return;
            }
            'body: {
                if lower_than_threshold
                    && is_exponential_schema(schema)
                    && get_bound_exponential(index_b, schema) <= threshold
                {
                    break 'body;
                }
                lower_than_threshold = false;
                let Some(&raw_b) = buckets_b.get(b_idx_b) else {
                    break 'body;
                };
                let mut bucket_b = raw_b;
                let mut comp_bucket_b = comp_b.and_then(|c| c.get(b_idx_b)).copied().unwrap_or(0.0);
                if negative {
                    bucket_b = -bucket_b;
                    comp_bucket_b = -comp_bucket_b;
                }
                let insert =
                    |buckets_a: &mut Vec<f64>, comp_a: Option<&mut Vec<f64>>, at: usize| {
                        let at = at.min(buckets_a.len());
                        buckets_a.insert(at, bucket_b);
                        if let Some(c) = comp_a {
                            c.insert(at.min(c.len()), comp_bucket_b);
                        }
                    };

                if i_span == -1 {
                    if spans_a.is_empty() || spans_a[0].offset > index_b {
                        // The bucket goes before all others.
                        insert(buckets_a, comp_a.as_deref_mut(), 0);
                        if !spans_a.is_empty() && spans_a[0].offset == index_b.wrapping_add(1) {
                            spans_a[0].length = spans_a[0].length.wrapping_add(1);
                            spans_a[0].offset = spans_a[0].offset.wrapping_sub(1);
                            break 'body;
                        }
                        spans_a.insert(0, Span::new(index_b, 1));
                        if spans_a.len() > 1 {
                            // The formerly first span's absolute offset becomes relative.
                            spans_a[1].offset =
                                spans_a[1].offset.wrapping_sub(index_b.wrapping_add(1));
                        }
                        break 'body;
                    } else if spans_a[0].offset == index_b && spans_a[0].length > 0 {
                        // Go also takes this shortcut for an empty first span, adding into
                        // the wrong bucket; an empty span goes the general way here.
                        add_at(buckets_a, comp_a.as_deref_mut(), 0, bucket_b, comp_bucket_b);
                        break 'body;
                    }
                    i_span = 0;
                    i_bucket = 0;
                    i_in_span = 0;
                    index_a = spans_a[0].offset;
                }
                let mut delta_index = index_b.wrapping_sub(index_a);
                loop {
                    let remaining_in_span =
                        (spans_a[i_span as usize].length as i32).wrapping_sub(i_in_span);
                    if delta_index < remaining_in_span {
                        // The bucket is in the current span.
                        i_bucket += delta_index as isize;
                        i_in_span = i_in_span.wrapping_add(delta_index);
                        add_at(
                            buckets_a,
                            comp_a.as_deref_mut(),
                            i_bucket as usize,
                            bucket_b,
                            comp_bucket_b,
                        );
                        break;
                    }
                    delta_index = delta_index.wrapping_sub(remaining_in_span);
                    i_bucket += remaining_in_span as isize;
                    i_span += 1;
                    let is = i_span as usize;
                    if is == spans_a.len() || delta_index < spans_a[is].offset {
                        // The bucket is in the gap after the previous span (or after all).
                        insert(buckets_a, comp_a.as_deref_mut(), i_bucket as usize);
                        if delta_index == 0 {
                            // Right after the previous span: extend it.
                            if is < spans_a.len() {
                                spans_a[is].offset = spans_a[is].offset.wrapping_sub(1);
                            }
                            i_span -= 1;
                            let prev = i_span as usize;
                            i_in_span = spans_a[prev].length as i32;
                            spans_a[prev].length = spans_a[prev].length.wrapping_add(1);
                        } else if is < spans_a.len()
                            && delta_index == spans_a[is].offset.wrapping_sub(1)
                        {
                            // Right before the next span: extend it.
                            i_in_span = 0;
                            spans_a[is].offset = spans_a[is].offset.wrapping_sub(1);
                            spans_a[is].length = spans_a[is].length.wrapping_add(1);
                        } else {
                            // Not adjacent to any span: a new span.
                            i_in_span = 0;
                            if is < spans_a.len() {
                                spans_a[is].offset =
                                    spans_a[is].offset.wrapping_sub(delta_index.wrapping_add(1));
                            }
                            spans_a.insert(is, Span::new(delta_index, 1));
                        }
                        break 'body;
                    }
                    // Try the start of the next span.
                    delta_index = delta_index.wrapping_sub(spans_a[is].offset);
                    i_in_span = 0;
                }
            }
            index_a = index_b;
            index_b = index_b.wrapping_add(1);
            b_idx_b += 1;
        }
    }
}

/// Reduces buckets and their Kahan compensation to `target_schema`, merging with
/// compensated sums (`kahanReduceResolution`).
pub(crate) fn kahan_reduce_resolution(
    origin_spans: &[Span],
    origin_buckets: &[f64],
    origin_comp: &[f64],
    origin_schema: i32,
    target_schema: i32,
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets: Vec<f64> = Vec::new();
    let mut comp: Vec<f64> = Vec::new();
    let mut bucket_idx: i32 = 0;
    let mut count_idx = 0usize;
    let mut last_target_idx: i32 = 0;
    for span in origin_spans {
        bucket_idx = bucket_idx.wrapping_add(span.offset);
        for _ in 0..span.length {
            let Some(&b) = origin_buckets.get(count_idx) else {
                return (spans, buckets, comp);
            };
            let cb = origin_comp.get(count_idx).copied().unwrap_or(0.0);
            let t = target_idx(bucket_idx, origin_schema, target_schema);
            if spans.is_empty() {
                spans.push(Span::new(t, 1));
                buckets.push(b);
                comp.push(cb);
                last_target_idx = t;
            } else if last_target_idx == t {
                let last = buckets.len() - 1;
                (buckets[last], comp[last]) = kahan_inc(b, buckets[last], comp[last]);
                (buckets[last], comp[last]) = kahan_inc(cb, buckets[last], comp[last]);
            } else {
                if last_target_idx.wrapping_add(1) == t {
                    let last = spans.len() - 1;
                    spans[last].length = spans[last].length.wrapping_add(1);
                } else {
                    spans.push(Span::new(
                        t.wrapping_sub(last_target_idx).wrapping_sub(1),
                        1,
                    ));
                }
                last_target_idx = t;
                buckets.push(b);
                comp.push(cb);
            }
            bucket_idx = bucket_idx.wrapping_add(1);
            count_idx += 1;
        }
    }
    (spans, buckets, comp)
}

/// The bounds both lists share (`intersectCustomBucketBounds`).
pub(crate) fn intersect_custom_bucket_bounds(a: &[f64], b: &[f64]) -> Arc<[f64]> {
    let mut result = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            result.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    result.into()
}

/// Adds (or subtracts) custom-bucket histograms with different bounds by mapping both onto
/// the `intersected` bounds (`addCustomBucketsWithMismatches`); empty buckets are left out
/// of the result. Returns spans, buckets and compensation buckets.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_custom_buckets_with_mismatches(
    negative: bool,
    spans_a: &[Span],
    buckets_a: &[f64],
    bounds_a: &[f64],
    spans_b: &[Span],
    buckets_b: &[f64],
    bounds_b: &[f64],
    buckets_c: Option<&[f64]>,
    intersected: &[f64],
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let n = intersected.len() + 1;
    let mut target = vec![0.0; n];
    let mut c_target = vec![0.0; n];

    let mut map_buckets =
        |spans: &[Span], buckets: &[f64], bounds: &[f64], negative: bool, comp: Option<&[f64]>| {
            let mut src_idx: i64 = 0;
            let mut bucket_idx = 0usize;
            let mut intersect_idx = 0usize;
            for span in spans {
                src_idx += i64::from(span.offset);
                for _ in 0..span.length {
                    if bucket_idx >= buckets.len() {
                        return;
                    }
                    if let Some(&value) = buckets.get(bucket_idx) {
                        // The +Inf bucket unless a common bound at or above the source bound.
                        let mut t = n - 1;
                        if src_idx < bounds.len() as i64 {
                            let src_bound = bounds
                                .get(src_idx.max(0) as usize)
                                .copied()
                                .unwrap_or(f64::NEG_INFINITY);
                            while intersect_idx < intersected.len() {
                                if intersected[intersect_idx] >= src_bound {
                                    t = intersect_idx;
                                    break;
                                }
                                intersect_idx += 1;
                            }
                        }
                        if negative {
                            (target[t], c_target[t]) = kahan_dec(value, target[t], c_target[t]);
                        } else {
                            (target[t], c_target[t]) = kahan_inc(value, target[t], c_target[t]);
                            if let Some(cv) = comp.and_then(|c| c.get(bucket_idx)) {
                                (target[t], c_target[t]) = kahan_inc(*cv, target[t], c_target[t]);
                            }
                        }
                    }
                    src_idx += 1;
                    bucket_idx += 1;
                }
            }
        };
    map_buckets(spans_a, buckets_a, bounds_a, false, buckets_c);
    map_buckets(spans_b, buckets_b, bounds_b, negative, None);

    let mut dest_spans: Vec<Span> = Vec::new();
    let mut dest_buckets = Vec::new();
    let mut c_dest = Vec::new();
    let mut last_idx: i32 = -1;
    for i in 0..n {
        if target[i] == 0.0 && c_target[i] == 0.0 {
            continue;
        }
        dest_buckets.push(target[i]);
        c_dest.push(c_target[i]);
        let idx = i as i32;
        match dest_spans.last_mut() {
            Some(s) if idx == last_idx + 1 => s.length = s.length.wrapping_add(1),
            Some(_) => dest_spans.push(Span::new(idx - last_idx - 1, 1)),
            None => dest_spans.push(Span::new(idx, 1)),
        }
        last_idx = idx;
    }
    (dest_spans, dest_buckets, c_dest)
}
