//! Stand-ins for the `FloatHistogram` operations the model crate is gaining (Prometheus'
//! `Mul`, `Div`, `Add`, `Sub`, `Compact`, `Equals`), so the evaluator builds and is tested
//! before they land. They work on an index-to-count map rather than Prometheus' in-place
//! span merging: the bucket layout of a result may differ from Prometheus' before
//! compaction, but the compacted result is the same. Inherent methods of the same names take
//! precedence over these trait methods, so this module goes away once the model has them.

use std::collections::BTreeMap;
use std::sync::Arc;

use sightline_model::histogram::is_custom_buckets;
use sightline_model::{CounterResetHint, FloatHistogram, Span};

/// Adding or subtracting an exponential and a custom-buckets histogram (Prometheus'
/// `ErrHistogramsIncompatibleSchema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IncompatibleSchema;

/// What an addition or subtraction noticed besides its result (as the model's `AddOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AddOutcome {
    pub(crate) counter_reset_collision: bool,
    pub(crate) nhcb_bounds_reconciled: bool,
}

/// Prometheus' float histogram operations.
#[allow(dead_code)]
pub(crate) trait HistogramOps {
    /// Scales every count and the sum by `factor` (a negative factor makes it a gauge).
    fn mul(&mut self, factor: f64) -> &mut Self;
    /// Divides every count and the sum by `scalar` (dividing by 0 removes all buckets).
    fn div(&mut self, scalar: f64) -> &mut Self;
    /// Adds `other`.
    fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, IncompatibleSchema>;
    /// Subtracts `other`.
    fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, IncompatibleSchema>;
    /// Adds `other` with Kahan compensation `c` (here: none, the compensation stays empty).
    fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, AddOutcome), IncompatibleSchema>;
    /// Whether any count or the sum overflowed to infinity.
    fn has_overflow(&self) -> bool;
    /// Removes empty buckets and merges adjacent spans (only `max_empty_buckets == 0`).
    fn compact(&mut self, max_empty_buckets: usize) -> &mut Self;
    /// Exact equality with span layouts compared as Prometheus' `spansMatch`.
    fn equals(&self, other: &FloatHistogram) -> bool;
}

type Map = BTreeMap<i32, f64>;

fn to_map(spans: &[Span], buckets: &[f64], keep_zero: bool) -> Map {
    let mut m = Map::new();
    let mut next = 0i32;
    let mut it = buckets.iter();
    for s in spans {
        let start = next.saturating_add(s.offset);
        for k in 0..s.length {
            let Some(c) = it.next() else {
                return m;
            };
            if keep_zero || *c != 0.0 {
                *m.entry(start.saturating_add(k as i32)).or_insert(0.0) += *c;
            }
        }
        next = start.saturating_add(s.length as i32);
    }
    m
}

fn from_map(m: &Map) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::with_capacity(m.len());
    let mut next: Option<i32> = None;
    for (&i, &c) in m {
        match (next, spans.last_mut()) {
            (Some(n), Some(last)) if n == i => last.length += 1,
            (Some(n), _) => spans.push(Span::new(i - n, 1)),
            (None, _) => spans.push(Span::new(i, 1)),
        }
        buckets.push(c);
        next = Some(i + 1);
    }
    (spans, buckets)
}

fn reduce(m: Map, from: i32, to: i32) -> Map {
    if from <= to {
        return m;
    }
    let mut out = Map::new();
    for (i, c) in m {
        let t = ((i - 1) >> (from - to)) + 1;
        *out.entry(t).or_insert(0.0) += c;
    }
    out
}

/// The upper bound of exponential bucket `idx` (approximate: only used to decide which
/// buckets a wider zero bucket swallows).
fn bound(idx: i32, schema: i32) -> f64 {
    (f64::from(idx) * (-f64::from(schema)).exp2()).exp2()
}

/// Moves the buckets a zero bucket of width `t` covers into `zc` (Prometheus'
/// `zeroCountForLargerThreshold`), returning the final threshold.
fn widen(pos: &mut Map, neg: &mut Map, zc: &mut f64, mut t: f64, schema: i32) -> f64 {
    loop {
        let mut changed = false;
        for m in [&mut *pos, &mut *neg] {
            let keys: Vec<i32> = m.keys().copied().collect();
            for i in keys {
                let (lo, hi) = (bound(i - 1, schema), bound(i, schema));
                if lo >= t {
                    break;
                }
                let c = m.remove(&i).unwrap_or(0.0);
                *zc += c;
                if hi > t {
                    if c != 0.0 {
                        t = hi;
                        changed = true;
                    }
                    break;
                }
            }
        }
        if !changed {
            return t;
        }
    }
}

fn adjust_counter_reset(h: &mut FloatHistogram, other: &FloatHistogram) -> bool {
    use CounterResetHint::*;
    match (h.counter_reset_hint, other.counter_reset_hint) {
        (a, b) if a == b => false,
        (Gauge, _) => false,
        (_, Gauge) => {
            h.counter_reset_hint = Gauge;
            false
        }
        (Unknown, _) => false,
        (_, Unknown) => {
            h.counter_reset_hint = Unknown;
            false
        }
        _ => {
            h.counter_reset_hint = Unknown;
            true
        }
    }
}

fn intersect(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Maps custom bucket `i` of bounds `from` onto the (coarser) bounds `to`.
fn remap_custom(m: Map, from: &[f64], to: &[f64]) -> Map {
    let mut out = Map::new();
    for (i, c) in m {
        let upper = from.get(i as usize).copied().unwrap_or(f64::INFINITY);
        let j = to.partition_point(|b| *b < upper) as i32;
        *out.entry(j).or_insert(0.0) += c;
    }
    out
}

fn combine(
    h: &mut FloatHistogram,
    other: &FloatHistogram,
    sign: f64,
) -> Result<AddOutcome, IncompatibleSchema> {
    if is_custom_buckets(h.schema) != is_custom_buckets(other.schema) {
        return Err(IncompatibleSchema);
    }
    let collision = adjust_counter_reset(h, other);
    h.count += sign * other.count;
    h.sum += sign * other.sum;
    let mut pos = to_map(&h.positive_spans, &h.positive_buckets, true);
    let mut opos = to_map(&other.positive_spans, &other.positive_buckets, true);
    let mut reconciled = false;
    if is_custom_buckets(h.schema) {
        if h.custom_values[..] != other.custom_values[..] {
            reconciled = true;
            let bounds = intersect(&h.custom_values, &other.custom_values);
            pos = remap_custom(pos, &h.custom_values, &bounds);
            opos = remap_custom(opos, &other.custom_values, &bounds);
            h.custom_values = Arc::from(bounds);
        }
        for (i, c) in opos {
            *pos.entry(i).or_insert(0.0) += sign * c;
        }
        (h.positive_spans, h.positive_buckets) = from_map(&pos);
        return Ok(AddOutcome {
            counter_reset_collision: collision,
            nhcb_bounds_reconciled: reconciled,
        });
    }
    let mut neg = to_map(&h.negative_spans, &h.negative_buckets, true);
    let mut oneg = to_map(&other.negative_spans, &other.negative_buckets, true);
    let schema = h.schema.min(other.schema);
    pos = reduce(pos, h.schema, schema);
    neg = reduce(neg, h.schema, schema);
    opos = reduce(opos, other.schema, schema);
    oneg = reduce(oneg, other.schema, schema);
    h.schema = schema;
    let mut ozc = other.zero_count;
    let mut t = h.zero_threshold.max(other.zero_threshold);
    loop {
        let t1 = widen(&mut pos, &mut neg, &mut h.zero_count, t, schema);
        let t2 = widen(&mut opos, &mut oneg, &mut ozc, t1, schema);
        if t2 == t {
            break;
        }
        t = t2;
    }
    h.zero_threshold = t;
    h.zero_count += sign * ozc;
    for (i, c) in opos {
        *pos.entry(i).or_insert(0.0) += sign * c;
    }
    for (i, c) in oneg {
        *neg.entry(i).or_insert(0.0) += sign * c;
    }
    (h.positive_spans, h.positive_buckets) = from_map(&pos);
    (h.negative_spans, h.negative_buckets) = from_map(&neg);
    Ok(AddOutcome {
        counter_reset_collision: collision,
        nhcb_bounds_reconciled: reconciled,
    })
}

/// Prometheus' `spansMatch`: equal layouts, zero-length spans folded into the next.
fn spans_match(a: &[Span], b: &[Span]) -> bool {
    fn norm(s: &[Span]) -> Vec<Span> {
        let mut out: Vec<Span> = Vec::new();
        let mut carry = 0;
        for x in s {
            if x.length == 0 {
                carry += x.offset;
                continue;
            }
            out.push(Span::new(x.offset + carry, x.length));
            carry = 0;
        }
        out
    }
    norm(a) == norm(b)
}

impl HistogramOps for FloatHistogram {
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

    fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, IncompatibleSchema> {
        combine(self, other, 1.0)
    }

    fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, IncompatibleSchema> {
        combine(self, other, -1.0)
    }

    fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, AddOutcome), IncompatibleSchema> {
        let o = combine(self, other, 1.0)?;
        let c = c.unwrap_or_else(|| FloatHistogram {
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            ..FloatHistogram::default()
        });
        Ok((c, o))
    }

    fn has_overflow(&self) -> bool {
        let inf = |v: &f64| v.is_infinite();
        inf(&self.zero_count)
            || inf(&self.count)
            || inf(&self.sum)
            || self.positive_buckets.iter().any(inf)
            || self.negative_buckets.iter().any(inf)
    }

    fn compact(&mut self, _max_empty_buckets: usize) -> &mut Self {
        let pos = to_map(&self.positive_spans, &self.positive_buckets, false);
        let neg = to_map(&self.negative_spans, &self.negative_buckets, false);
        (self.positive_spans, self.positive_buckets) = from_map(&pos);
        (self.negative_spans, self.negative_buckets) = from_map(&neg);
        self
    }

    fn equals(&self, o: &FloatHistogram) -> bool {
        let bits_eq = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.schema == o.schema
            && self.count.to_bits() == o.count.to_bits()
            && self.sum.to_bits() == o.sum.to_bits()
            && (!is_custom_buckets(self.schema) || self.custom_values[..] == o.custom_values[..])
            && self.zero_threshold == o.zero_threshold
            && self.zero_count.to_bits() == o.zero_count.to_bits()
            && spans_match(&self.negative_spans, &o.negative_spans)
            && bits_eq(&self.negative_buckets, &o.negative_buckets)
            && spans_match(&self.positive_spans, &o.positive_spans)
            && bits_eq(&self.positive_buckets, &o.positive_buckets)
    }
}

/// Prometheus' `FloatHistogram.String` (what `count_values` puts in its label), for now
/// without the bucket list: the model's `Display` gives the full text.
pub(crate) fn histogram_string(h: &FloatHistogram) -> String {
    format!(
        "{{count:{}, sum:{}}}",
        crate::ast::fmt_number(h.count),
        crate::ast::fmt_number(h.sum)
    )
}
