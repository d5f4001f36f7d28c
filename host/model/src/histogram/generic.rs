//! Schema math shared by both histogram types (Prometheus' `generic.go`): bucket bounds,
//! schema reduction of spans and buckets, compaction, validation helpers, Go-style number
//! formatting and Kahan summation.

use super::bounds::EXPONENTIAL_BOUNDS;
use super::error::{HistogramError, HistogramErrorKind};
use super::{Span, CUSTOM_BUCKETS_SCHEMA};

/// A count as stored inside a histogram: absolute `f64` counts of a [`super::FloatHistogram`]
/// or delta-encoded `i64` counts of a [`super::Histogram`]. Integer arithmetic wraps, as Go's
/// does, so hostile input cannot make it panic.
pub(crate) trait InternalCount:
    Copy + PartialEq + PartialOrd + Default + std::fmt::Debug
{
    /// Zero.
    const ZERO: Self;
    /// `self + o`.
    fn plus(self, o: Self) -> Self;
    /// `self - o`.
    fn minus(self, o: Self) -> Self;
    /// `-self`.
    fn negated(self) -> Self;
    /// Go's `%v` rendering.
    fn go_fmt(self) -> String;
}

impl InternalCount for f64 {
    const ZERO: Self = 0.0;
    fn plus(self, o: Self) -> Self {
        self + o
    }
    fn minus(self, o: Self) -> Self {
        self - o
    }
    fn negated(self) -> Self {
        -self
    }
    fn go_fmt(self) -> String {
        go_g(self)
    }
}

impl InternalCount for i64 {
    const ZERO: Self = 0;
    fn plus(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    fn minus(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
    fn negated(self) -> Self {
        self.wrapping_neg()
    }
    fn go_fmt(self) -> String {
        self.to_string()
    }
}

/// Whether `schema` is known (custom, or within the reserved exponential range) but may need
/// its resolution reduced to a supported schema (`IsKnownSchema`).
pub fn is_known_schema(schema: i32) -> bool {
    schema == CUSTOM_BUCKETS_SCHEMA || is_exponential_schema_reserved(schema)
}

/// Whether `schema` is within the reserved exponential range `-9..=52`.
pub fn is_exponential_schema_reserved(schema: i32) -> bool {
    (super::error::EXPONENTIAL_SCHEMA_MIN_RESERVED..=super::error::EXPONENTIAL_SCHEMA_MAX_RESERVED)
        .contains(&schema)
}

/// Whether `schema` is a supported schema: exponential `-4..=8` or custom.
pub fn is_valid_schema(schema: i32) -> bool {
    super::is_custom_buckets(schema) || super::is_exponential_schema(schema)
}

/// Whether two sets of custom bounds are identical (`CustomBucketBoundsMatch`; `==` on each
/// value, so a NaN bound never matches).
pub fn custom_bucket_bounds_match(c1: &[f64], c2: &[f64]) -> bool {
    c1.len() == c2.len() && c1.iter().zip(c2).all(|(a, b)| a == b)
}

/// One bucket with its bounds (`histogram.Bucket`). For a cumulative view `lower` is `-Inf`
/// and `count` includes all smaller buckets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bucket<C> {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Whether `lower` belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether `upper` belongs to the bucket.
    pub upper_inclusive: bool,
    /// Observations in the bucket.
    pub count: C,
    /// Index within the schema (meaningless for the zero bucket).
    pub index: i32,
}

/// A bucket count that can be printed the way Go's `%v` prints it.
pub trait BucketCount: Copy + PartialEq + Default + std::fmt::Debug {
    /// Go's `%v` rendering.
    fn go_fmt(&self) -> String;
}

impl BucketCount for f64 {
    fn go_fmt(&self) -> String {
        go_g(*self)
    }
}

impl BucketCount for u64 {
    fn go_fmt(&self) -> String {
        self.to_string()
    }
}

impl<C: BucketCount> std::fmt::Display for Bucket<C> {
    /// `[lower,upper]:count` with `(`/`)` for exclusive bounds, numbers as Go's `%g`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = if self.lower_inclusive { '[' } else { '(' };
        let close = if self.upper_inclusive { ']' } else { ')' };
        write!(
            f,
            "{open}{},{}{close}:{}",
            go_g(self.lower),
            go_g(self.upper),
            self.count.go_fmt()
        )
    }
}

impl<C> Bucket<C> {
    /// The fraction of this bucket's width at or below `v`, for `lower < v < upper`
    /// (`FractionBelow`): linear for custom and zero buckets, logarithmic otherwise.
    pub fn fraction_below(&self, v: f64, linear: bool) -> f64 {
        if linear {
            return (v - self.lower) / (self.upper - self.lower);
        }
        // On a logarithmic scale exponential bounds are linear; negative buckets mirror.
        let log_lower = self.lower.abs().log2();
        let log_upper = self.upper.abs().log2();
        let log_v = v.abs().log2();
        if v > 0.0 {
            return (log_v - log_lower) / (log_upper - log_lower);
        }
        1.0 - ((log_v - log_upper) / (log_lower - log_upper))
    }
}

/// The index in `target_schema` of bucket `idx` of `origin_schema` (`targetIdx`).
pub(crate) fn target_idx(idx: i32, origin_schema: i32, target_schema: i32) -> i32 {
    // An arithmetic shift by 31 already yields Go's result for any larger shift.
    let shift = origin_schema.saturating_sub(target_schema).clamp(0, 31) as u32;
    (idx.wrapping_sub(1) >> shift).wrapping_add(1)
}

/// `2^e` as an exact power of two (subnormal when needed), or `0`/`+Inf` beyond the range.
fn pow2(e: i64) -> f64 {
    if (-1022..=1023).contains(&e) {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if (-1074..-1022).contains(&e) {
        f64::from_bits(1u64 << (e + 1074))
    } else if e > 1023 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Go's `math.Ldexp(frac, exp)` for `frac` in `[0.5, 1]`: one rounding only.
fn ldexp(frac: f64, exp: i64) -> f64 {
    if exp > 1023 {
        // Both products are exact until they overflow to +Inf.
        return frac * pow2(1023) * pow2(exp - 1023);
    }
    if exp < -1074 {
        return 0.0;
    }
    frac * pow2(exp)
}

/// The upper bound of bucket `idx` (`getBound`). For custom buckets, index `-1` is `-Inf`
/// and `len(custom_values)` is `+Inf`; Go panics beyond that, here the bound saturates to
/// the nearest infinity.
pub fn get_bound(idx: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if super::is_custom_buckets(schema) {
        let len = custom_values.len() as i64;
        let i = i64::from(idx);
        return if i >= len {
            f64::INFINITY
        } else if i < 0 {
            f64::NEG_INFINITY
        } else {
            custom_values[i as usize]
        };
    }
    get_bound_exponential(idx, schema)
}

/// The upper bound of bucket `idx` of an exponential schema (`getBoundExponential`). The
/// last bucket before the ±Inf overflow bucket ends at `f64::MAX`, as in Go.
pub fn get_bound_exponential(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(idx) << (-i64::from(schema)).min(32);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let Some(table) = EXPONENTIAL_BOUNDS.get(schema as usize) else {
        // Reserved schemas above 8 are not in Go's table either (Go would panic); compute.
        return 2f64.powf(f64::from(idx) / 2f64.powi(schema.min(1000)));
    };
    let frac_idx = (idx & ((1 << schema) - 1)) as usize;
    let frac = table[frac_idx];
    let exp = i64::from(idx >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Whether two span lists describe the same bucket layout once zero-length spans are folded
/// into their successors (`spansMatch`).
pub(crate) fn spans_match(s1: &[Span], s2: &[Span]) -> bool {
    if s1.is_empty() && s2.is_empty() {
        return true;
    }
    fn all_empty(s: &[Span]) -> bool {
        s.iter().all(|x| x.length == 0)
    }
    fn fold(s: &[Span], idx: &mut usize, mut cur: Span) -> Span {
        if cur.length == 0 {
            while *idx < s.len() && s[*idx].length == 0 {
                cur.offset = cur.offset.wrapping_add(s[*idx].offset);
                *idx += 1;
            }
            if *idx < s.len() {
                cur.offset = cur.offset.wrapping_add(s[*idx].offset);
                cur.length = s[*idx].length;
                *idx += 1;
            }
        }
        cur
    }
    let (mut i1, mut i2) = (0usize, 0usize);
    loop {
        if i1 >= s1.len() {
            return all_empty(&s2[i2..]);
        }
        if i2 >= s2.len() {
            return all_empty(&s1[i1..]);
        }
        let (c1, c2) = (s1[i1], s2[i2]);
        i1 += 1;
        i2 += 1;
        let c1 = fold(s1, &mut i1, c1);
        let c2 = fold(s2, &mut i2, c2);
        if c1.length == 0 && c2.length == 0 {
            return true;
        }
        if c1 != c2 {
            return false;
        }
    }
}

/// Checks that spans have non-negative offsets (after the first) and cover `num_buckets`
/// (`checkHistogramSpans`).
pub(crate) fn check_histogram_spans(
    spans: &[Span],
    num_buckets: usize,
) -> Result<(), HistogramError> {
    let mut span_buckets: u64 = 0;
    for (n, span) in spans.iter().enumerate() {
        if n > 0 && span.offset < 0 {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::SpanNegativeOffset,
                format!("span number {} with offset {}", n + 1, span.offset),
            ));
        }
        span_buckets += u64::from(span.length);
    }
    if span_buckets != num_buckets as u64 {
        return Err(HistogramError::wrapped(
            HistogramErrorKind::SpansBucketsMismatch,
            format!("spans need {span_buckets} buckets, have {num_buckets} buckets"),
        ));
    }
    Ok(())
}

/// Checks that no bucket count is negative and returns their total
/// (`checkHistogramBuckets`); `deltas` says whether the buckets are delta-encoded.
pub(crate) fn check_histogram_buckets<T: InternalCount>(
    buckets: &[T],
    deltas: bool,
) -> Result<Vec<T>, HistogramError> {
    let mut last = T::ZERO;
    let mut absolute = Vec::with_capacity(buckets.len());
    for (i, b) in buckets.iter().enumerate() {
        let c = if deltas { last.plus(*b) } else { *b };
        if c < T::ZERO {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::NegativeBucketCount,
                format!(
                    "bucket number {} has observation count of {}",
                    i + 1,
                    c.go_fmt()
                ),
            ));
        }
        last = c;
        absolute.push(c);
    }
    Ok(absolute)
}

/// Checks custom bounds (sorted, no NaN, no explicit +Inf), span offsets and that the bounds
/// cover the spans (`checkHistogramCustomBounds`).
pub(crate) fn check_histogram_custom_bounds(
    bounds: &[f64],
    spans: &[Span],
    num_buckets: usize,
) -> Result<(), HistogramError> {
    let mut prev = f64::NEG_INFINITY;
    for (i, &curr) in bounds.iter().enumerate() {
        if curr.is_nan() {
            return Err(HistogramError::new(HistogramErrorKind::CustomBucketsNaN));
        }
        if i > 0 && curr <= prev {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::CustomBucketsInvalid,
                format!(
                    "previous bound is {} and current is {}",
                    go_f6(prev),
                    go_f6(curr)
                ),
            ));
        }
        prev = curr;
    }
    if prev == f64::INFINITY {
        return Err(HistogramError::wrapped(
            HistogramErrorKind::CustomBucketsInfinite,
            "last +Inf bound must not be explicitly defined",
        ));
    }
    let mut span_buckets: u64 = 0;
    let mut total_span_length: i64 = 0;
    for (n, span) in spans.iter().enumerate() {
        if span.offset < 0 {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::SpanNegativeOffset,
                format!("span number {} with offset {}", n + 1, span.offset),
            ));
        }
        span_buckets += u64::from(span.length);
        total_span_length += i64::from(span.length) + i64::from(span.offset);
    }
    if span_buckets != num_buckets as u64 {
        return Err(HistogramError::wrapped(
            HistogramErrorKind::SpansBucketsMismatch,
            format!("spans need {span_buckets} buckets, have {num_buckets} buckets"),
        ));
    }
    if (bounds.len() as i64 + 1) < total_span_length {
        return Err(HistogramError::wrapped(
            HistogramErrorKind::CustomBucketsMismatch,
            format!(
                "only {} custom bounds defined which is insufficient to cover total span length of {}",
                bounds.len(),
                total_span_length
            ),
        ));
    }
    Ok(())
}

/// Reduces spans and buckets from `origin_schema` to the lower `target_schema`
/// (`reduceResolution`). `delta` says whether the buckets are delta-encoded. Errors when the
/// spans and the buckets disagree or a span after the first has a negative offset.
pub(crate) fn reduce_resolution<T: InternalCount>(
    origin_spans: &[Span],
    origin_buckets: &[T],
    origin_schema: i32,
    target_schema: i32,
    delta: bool,
) -> Result<(Vec<Span>, Vec<T>), HistogramError> {
    let mut target_spans: Vec<Span> = Vec::new();
    let mut target_buckets: Vec<T> = Vec::new();
    let mut bucket_idx: i32 = 0;
    let mut bucket_count_idx: usize = 0;
    let mut last_bucket_count = T::ZERO;
    let mut last_target_bucket_idx: i32 = 0;
    let mut last_target_bucket_count = T::ZERO;

    for (n, span) in origin_spans.iter().enumerate() {
        if n > 0 && span.offset < 0 {
            return Err(HistogramError::wrapped(
                HistogramErrorKind::SpanNegativeOffset,
                format!("span number {} with offset {}", n + 1, span.offset),
            ));
        }
        bucket_idx = bucket_idx.wrapping_add(span.offset);
        for _ in 0..span.length {
            let Some(&count) = origin_buckets.get(bucket_count_idx) else {
                return Err(HistogramError::wrapped(
                    HistogramErrorKind::SpansBucketsMismatch,
                    format!("have {} buckets but spans need more", origin_buckets.len()),
                ));
            };
            let target_bucket_idx = target_idx(bucket_idx, origin_schema, target_schema);
            if target_spans.is_empty() {
                target_spans.push(Span::new(target_bucket_idx, 1));
                target_buckets.push(count);
                last_target_bucket_idx = target_bucket_idx;
                last_bucket_count = count;
                last_target_bucket_count = count;
            } else if last_target_bucket_idx == target_bucket_idx {
                // Merged into the same target bucket as the previous bucket.
                let last = target_buckets.len() - 1;
                if delta {
                    last_bucket_count = last_bucket_count.plus(count);
                    target_buckets[last] = target_buckets[last].plus(last_bucket_count);
                    last_target_bucket_count = last_target_bucket_count.plus(last_bucket_count);
                } else {
                    target_buckets[last] = target_buckets[last].plus(count);
                }
            } else {
                if last_target_bucket_idx.wrapping_add(1) == target_bucket_idx {
                    // The next target bucket: extend the current span.
                    let last = target_spans.len() - 1;
                    target_spans[last].length = target_spans[last].length.wrapping_add(1);
                } else {
                    // A gap: a new span.
                    target_spans.push(Span::new(
                        target_bucket_idx
                            .wrapping_sub(last_target_bucket_idx)
                            .wrapping_sub(1),
                        1,
                    ));
                }
                last_target_bucket_idx = target_bucket_idx;
                if delta {
                    last_bucket_count = last_bucket_count.plus(count);
                    target_buckets.push(last_bucket_count.minus(last_target_bucket_count));
                    last_target_bucket_count = last_bucket_count;
                } else {
                    target_buckets.push(count);
                }
            }
            bucket_idx = bucket_idx.wrapping_add(1);
            bucket_count_idx += 1;
        }
    }
    if bucket_count_idx != origin_buckets.len() {
        return Err(HistogramError::wrapped(
            HistogramErrorKind::SpansBucketsMismatch,
            format!(
                "spans need {bucket_count_idx} buckets, have {} buckets",
                origin_buckets.len()
            ),
        ));
    }
    Ok((target_spans, target_buckets))
}

/// Removes empty buckets at the edges of spans, merges spans at most `max_empty_buckets`
/// apart and splits spans with longer runs of empty buckets (`compactBuckets`). `comp`, if
/// given, holds Kahan compensation values kept in step with `primary` (a bucket is only
/// empty when both are zero). `delta` says whether `primary` is delta-encoded.
pub(crate) fn compact_buckets<T: InternalCount>(
    primary: &mut Vec<T>,
    mut comp: Option<&mut Vec<f64>>,
    spans: &mut Vec<Span>,
    max_empty_buckets: usize,
    delta: bool,
) {
    let max_empty = i64::try_from(max_empty_buckets).unwrap_or(i64::MAX);
    if let Some(c) = comp.as_deref_mut() {
        // Go panics on a mismatch; keeping them the same length is the safe equivalent.
        c.resize(primary.len(), 0.0);
    }

    // Fast path: no empty bucket, no small offset, no zero-length span.
    let mut nothing_to_do = true;
    let mut cur = T::ZERO;
    for &b in primary.iter() {
        cur = if delta { cur.plus(b) } else { b };
        if cur == T::ZERO {
            nothing_to_do = false;
            break;
        }
    }
    if nothing_to_do
        && spans
            .iter()
            .all(|s| i64::from(s.offset) > max_empty && s.length != 0)
    {
        return;
    }

    let mut i_bucket = 0usize;
    let mut i_span = 0usize;
    let mut pos_in_span: u32 = 0;
    cur = T::ZERO;

    // Merge spans with zero offset to avoid special cases later.
    if spans.len() > 1 {
        for i in 0..spans.len() - 1 {
            let span = spans[i + 1];
            if span.offset == 0 {
                spans[i_span].length = spans[i_span].length.wrapping_add(span.length);
                continue;
            }
            i_span += 1;
            if i + 1 != i_span {
                spans[i_span] = span;
            }
        }
        spans.truncate(i_span + 1);
        i_span = 0;
    }

    // Merge zero-length spans into their successors.
    for i in 0..spans.len() {
        let span = spans[i];
        if span.length == 0 {
            if i + 1 < spans.len() {
                spans[i + 1].offset = spans[i + 1].offset.wrapping_add(span.offset);
            }
            continue;
        }
        if i != i_span {
            spans[i_span] = span;
        }
        i_span += 1;
    }
    spans.truncate(i_span);
    i_span = 0;

    if spans.is_empty() {
        primary.clear();
        if let Some(c) = comp.as_deref_mut() {
            c.clear();
        }
        return;
    }

    // Cut empty buckets at the start and end of spans always, and in the middle of a span
    // only when there are more than max_empty_buckets of them in a row.
    while i_bucket < primary.len() && i_span < spans.len() {
        cur = if delta {
            cur.plus(primary[i_bucket])
        } else {
            primary[i_bucket]
        };
        let n_empty = {
            let mut i = 0usize;
            let mut abs = cur;
            let mut c = comp.as_deref().map_or(0.0, |c| c[i_bucket]);
            while (i as u64) + u64::from(pos_in_span) < u64::from(spans[i_span].length)
                && abs == T::ZERO
                && c == 0.0
            {
                i += 1;
                if i + i_bucket >= primary.len() {
                    break;
                }
                abs = primary[i + i_bucket];
                c = comp.as_deref().map_or(0.0, |c| c[i + i_bucket]);
            }
            i
        };
        if n_empty > 0 {
            let remaining = (spans[i_span].length - pos_in_span) as usize;
            if pos_in_span > 0 && n_empty < remaining && n_empty as i64 <= max_empty {
                // Few enough empty buckets in the middle of a span: keep them.
                i_bucket += n_empty;
                if delta {
                    cur = T::ZERO;
                }
                pos_in_span += n_empty as u32;
                continue;
            }
            // Cut the empty buckets out.
            if delta && i_bucket + n_empty < primary.len() {
                cur = primary[i_bucket].negated();
                primary[i_bucket + n_empty] = primary[i_bucket + n_empty].plus(primary[i_bucket]);
            }
            primary.drain(i_bucket..i_bucket + n_empty);
            if let Some(c) = comp.as_deref_mut() {
                c.drain(i_bucket..(i_bucket + n_empty).min(c.len()));
            }
            let n = n_empty as u32;
            if pos_in_span == 0 {
                // At the start of a span.
                if n == spans[i_span].length {
                    // The whole span is empty.
                    let offset = spans[i_span].offset;
                    spans.remove(i_span);
                    if spans.len() > i_span {
                        spans[i_span].offset = spans[i_span]
                            .offset
                            .wrapping_add(offset)
                            .wrapping_add(n as i32);
                    }
                    continue;
                }
                spans[i_span].length -= n;
                spans[i_span].offset = spans[i_span].offset.wrapping_add(n as i32);
                continue;
            }
            // In the middle or at the end of the span: split it.
            let new_span = Span::new(n as i32, spans[i_span].length - pos_in_span - n);
            spans[i_span].length = pos_in_span;
            i_span += 1;
            pos_in_span = 0;
            if new_span.length == 0 {
                // We were at the end of the span: only the next span's offset grows.
                if i_span < spans.len() {
                    spans[i_span].offset = spans[i_span].offset.wrapping_add(n as i32);
                }
                continue;
            }
            spans.insert(i_span, new_span);
            continue;
        }
        i_bucket += 1;
        pos_in_span += 1;
        if pos_in_span >= spans[i_span].length {
            pos_in_span = 0;
            i_span += 1;
        }
    }
    if max_empty == 0 || primary.is_empty() || spans.is_empty() {
        return;
    }

    // Finally merge spans whose gap is small enough, filling in empty buckets.
    i_bucket = spans[0].length as usize;
    if delta {
        cur = T::ZERO;
        for b in primary.iter().take(i_bucket) {
            cur = cur.plus(*b);
        }
    }
    i_span = 1;
    while i_span < spans.len() {
        let l = spans[i_span].length as usize;
        if i64::from(spans[i_span].offset) > max_empty {
            if delta {
                for b in primary.iter().skip(i_bucket).take(l) {
                    cur = cur.plus(*b);
                }
            }
            i_bucket += l;
            i_span += 1;
            continue;
        }
        // Merge the span into the previous one with empty buckets in between.
        let offset = usize::try_from(spans[i_span].offset).unwrap_or(0);
        spans[i_span - 1].length = spans[i_span - 1]
            .length
            .wrapping_add(offset as u32)
            .wrapping_add(spans[i_span].length);
        spans.remove(i_span);
        let at = i_bucket.min(primary.len());
        primary.splice(at..at, std::iter::repeat_n(T::ZERO, offset));
        if delta && offset > 0 {
            primary[at] = cur.negated();
            if let Some(b) = primary.get_mut(at + offset) {
                *b = b.plus(cur);
            }
        }
        if let Some(c) = comp.as_deref_mut() {
            let at = i_bucket.min(c.len());
            c.splice(at..at, std::iter::repeat_n(0.0, offset));
        }
        i_bucket += offset;
        // The inserted empty buckets reset the running absolute count, so the deltas of the
        // merged span add up to the absolute count of its last bucket.
        if delta {
            cur = T::ZERO;
            for b in primary.iter().skip(i_bucket).take(l) {
                cur = cur.plus(*b);
            }
        }
        i_bucket += l;
    }
}

/// Kahan-Neumaier summation step (`kahansum.Inc`): adds `inc` to `sum` with compensation
/// `c`, returning the new sum and compensation.
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// `kahansum.Dec`: subtracts `dec`.
pub fn kahan_dec(dec: f64, sum: f64, c: f64) -> (f64, f64) {
    kahan_inc(-dec, sum, c)
}

/// Formats a float as Go's `%g`/`%v` (shortest representation): the `%e` form with an
/// at least two-digit exponent when the decimal exponent is below -4 or at least 6 (so
/// `100000` but `1e+06`), plain decimal otherwise; `+Inf`, `-Inf`, `NaN`.
pub fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.unsigned_abs());
    }
    // The same shortest digits, written out in decimal (the exponent is in -4..6).
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// Go's `%f` (six decimals; `+Inf`, `-Inf`, `NaN`).
pub(crate) fn go_f6(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    format!("{v:.6}")
}
