//! Native-histogram arithmetic of the range functions: Prometheus' `histogramRate`,
//! `extendedHistogramRate`, `interpolateHistograms`, `correctForCounterResetsHistogram`, the
//! histogram branches of `instantValue`, `sum_over_time` and `avg_over_time`, with the
//! annotations they raise.
//!
//! Annotations are collected in an [`Annos`] first because Prometheus sometimes drops the
//! ones gathered so far when it gives up on a series (it returns a fresh set).

use sightline_model::histogram::{
    AddOutcome, CounterResetHint, FloatHistogram, HistogramError, HistogramErrorKind,
};

use super::rate::{is_start_timestamp_reset, start_time_overlaps, START_TIME_OVERLAP};
use super::*;
use crate::value::HPoint;

/// Annotations of one function call on one series, flushed at the end.
#[derive(Debug, Default)]
pub(super) struct Annos(Vec<(bool, String)>);

impl Annos {
    /// Adds a warning.
    pub(super) fn warn(&mut self, msg: String) {
        self.0.push((true, msg));
    }

    /// Adds an info.
    pub(super) fn info(&mut self, msg: String) {
        self.0.push((false, msg));
    }

    /// Drops what was collected and keeps only `msg` as a warning (Prometheus'
    /// `return nil, annotations.New().Add(...)`).
    fn replace_with_warning(&mut self, msg: String) {
        self.0.clear();
        self.warn(msg);
    }

    /// Hands the annotations to the query, all pointing at argument `arg`.
    pub(super) fn flush(self, ctx: &mut FnCtx<'_>, arg: usize) {
        if self.0.is_empty() {
            return;
        }
        let p = ctx.arg_pos(arg);
        for (warn, msg) in self.0 {
            if warn {
                ctx.warn(&msg, p);
            } else {
                ctx.info(&msg, p);
            }
        }
    }
}

/// What a histogram operation was doing, for annotations (`annotations.HistogramOperation`).
#[derive(Debug, Clone, Copy)]
pub(super) enum HistOp {
    Add,
    Sub,
    Agg,
}

impl HistOp {
    fn name(self) -> &'static str {
        match self {
            HistOp::Add => "addition",
            HistOp::Sub => "subtraction",
            HistOp::Agg => "aggregation",
        }
    }
}

/// `encountered a mix of histograms and floats for metric name "x"`.
pub(super) fn mixed_floats_histograms(name: &str) -> String {
    format!("encountered a mix of histograms and floats for metric name {name:?}")
}

/// `ignored histograms in a range containing both floats and histograms for metric name "x"`.
pub(super) fn histograms_ignored(name: &str) -> String {
    format!(
        "ignored histograms in a range containing both floats and histograms for metric name {name:?}"
    )
}

fn mixed_exponential_custom(name: &str) -> String {
    format!(
        "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {name:?}"
    )
}

fn not_counter(name: &str) -> String {
    format!("this native histogram metric is not a counter: {name:?}")
}

fn not_gauge(name: &str) -> String {
    format!("this native histogram metric is not a gauge: {name:?}")
}

fn reconciled(op: HistOp) -> String {
    format!(
        "mismatched custom buckets were reconciled during {}",
        op.name()
    )
}

fn collision(op: HistOp) -> String {
    format!("conflicting counter resets during histogram {}", op.name())
}

fn incompatible(e: &HistogramError) -> bool {
    e.kind() == HistogramErrorKind::IncompatibleSchema
}

fn is_gauge(h: &FloatHistogram) -> bool {
    h.counter_reset_hint == CounterResetHint::Gauge
}

/// `addHistogramWithAnnotations` / `subHistogramWithAnnotations`: false when the operation
/// failed (a warning says why when the schemas were incompatible).
fn combine(
    base: &mut FloatHistogram,
    other: &FloatHistogram,
    op: HistOp,
    annos: &mut Annos,
    name: &str,
) -> bool {
    let r = match op {
        HistOp::Sub => base.sub(other),
        _ => base.add(other),
    };
    match r {
        Ok(AddOutcome {
            nhcb_bounds_reconciled,
            ..
        }) => {
            if nhcb_bounds_reconciled {
                annos.info(reconciled(op));
            }
            true
        }
        Err(e) => {
            if incompatible(&e) {
                annos.warn(mixed_exponential_custom(name));
            }
            false
        }
    }
}

/// Prometheus' `histogramRate`: the increase from the first to the last point, counter
/// resets (by hint, bucket comparison or start timestamp, `sts` being parallel to `points`
/// or empty) added back for counters, as a gauge histogram in the lowest schema seen.
/// `None` when the histograms cannot be combined.
pub(super) fn histogram_rate(
    points: &[HPoint],
    sts: &[i64],
    is_counter: bool,
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    // A start timestamp pointing past the previous point also marks a reset.
    let st_reset = |i: usize| {
        i + 1 < sts.len()
            && is_start_timestamp_reset(sts[i], points[i].t, sts[i + 1], points[i + 1].t)
    };
    let last = &points[points.len() - 1].h;
    let empty;
    let mut prev: &FloatHistogram = &points[0].h;
    let mut using_custom = prev.uses_custom_buckets();
    // The loop below skips the first and last points, so their hints are checked here.
    if is_counter && (is_gauge(prev) || is_gauge(last)) {
        annos.warn(not_counter(name));
    }
    // A reset between the first two points makes the first irrelevant, including any
    // incompatibility of its bucket layout.
    if is_counter {
        let second = &points[1].h;
        if st_reset(0) || second.detect_reset(prev) {
            empty = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..FloatHistogram::default()
            };
            prev = &empty;
            using_custom = second.uses_custom_buckets();
        }
    }
    if last.uses_custom_buckets() != using_custom {
        annos.warn(mixed_exponential_custom(name));
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for p in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        if is_gauge(&p.h) {
            annos.warn(not_counter(name));
        }
        min_schema = min_schema.min(p.h.schema);
        if p.h.uses_custom_buckets() != using_custom {
            annos.replace_with_warning(mixed_exponential_custom(name));
            return None;
        }
    }
    let mut h = last.copy_to_schema(min_schema).ok()?;
    // Conflicting counter resets are deliberately ignored: resets are handled explicitly.
    match h.sub(prev) {
        Ok(o) => {
            if o.nhcb_bounds_reconciled {
                annos.info(reconciled(HistOp::Sub));
            }
        }
        Err(e) if incompatible(&e) => {
            annos.replace_with_warning(mixed_exponential_custom(name));
            return None;
        }
        Err(_) => {}
    }
    if is_counter {
        let mut overlap_seen = false;
        for (i, p) in points[1..].iter().enumerate() {
            let curr: &FloatHistogram = &p.h;
            if !overlap_seen
                && i + 1 < sts.len()
                && start_time_overlaps(sts[i], points[i].t, sts[i + 1])
            {
                annos.warn(format!("{START_TIME_OVERLAP} {name:?}"));
                overlap_seen = true;
            }
            if st_reset(i) || curr.detect_reset(prev) {
                match h.add(prev) {
                    Ok(o) => {
                        if o.nhcb_bounds_reconciled {
                            annos.info(reconciled(HistOp::Add));
                        }
                    }
                    Err(e) if incompatible(&e) => {
                        annos.replace_with_warning(mixed_exponential_custom(name));
                        return None;
                    }
                    Err(_) => {}
                }
            }
            prev = curr;
        }
    } else if !is_gauge(&points[0].h) || !is_gauge(last) {
        annos.warn(not_gauge(name));
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    Some(h)
}

/// The histogram branch of Prometheus' `extrapolatedRate`: [`histogram_rate`] extrapolated to
/// the window's edges as for floats. A counter whose first start timestamp lies inside the
/// window is taken to start from zero there instead of being extrapolated to the left (which
/// also gives a rate from a single point).
pub(super) fn extrapolated_histogram_rate(
    hs: &[HPoint],
    sts: Option<&[i64]>,
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    let sts = sts.filter(|s| s.len() == hs.len()).unwrap_or(&[]);
    let (first, last) = (&hs[0], &hs[hs.len() - 1]);
    let mut result = if hs.len() > 1 {
        Some(histogram_rate(hs, sts, is_counter, name, annos)?)
    } else {
        None
    };
    let mut to_start = (first.t - m.start) as f64 / 1000.0;
    let mut to_end = (m.end - last.t) as f64 / 1000.0;
    let mut sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = if hs.len() > 1 {
        sampled / (hs.len() - 1) as f64
    } else {
        0.0
    };
    let threshold = avg * 1.1;
    match sts.first() {
        Some(&st0) if is_counter && st0 != 0 && st0 > m.start && st0 < first.t => {
            // A zero at the first point's start replaces extrapolation to the left.
            to_start = 0.0;
            sampled = (last.t - st0) as f64 / 1000.0;
            match result.as_mut() {
                None => result = Some(first.h.copy()),
                Some(r) => {
                    if !combine(r, &first.h, HistOp::Add, annos, name) {
                        return None;
                    }
                }
            }
        }
        _ if hs.len() < 2 => return None,
        _ => {
            if to_start >= threshold {
                to_start = avg / 2.0;
            }
            if is_counter {
                // Counters cannot go below zero: extrapolate no further left than the zero
                // point.
                let mut to_zero = to_start;
                if let Some(r) = &result {
                    if r.count > 0.0 && first.h.count >= 0.0 {
                        to_zero = sampled * (first.h.count / r.count);
                    }
                }
                if to_zero < to_start {
                    to_start = to_zero;
                }
            }
        }
    }
    let mut result = result?;
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= m.range as f64 / 1000.0;
    }
    result.mul(factor);
    Some(result)
}

/// `interpolateHistograms`: the histogram at `t` between two points (from zero after a
/// counter reset).
#[allow(clippy::too_many_arguments)]
fn interpolate_histograms(
    h1: &FloatHistogram,
    t1: i64,
    h2: &FloatHistogram,
    t2: i64,
    t: i64,
    is_counter: bool,
    annos: &mut Annos,
) -> Result<FloatHistogram, HistogramError> {
    if t == t1 {
        return Ok(h1.copy());
    }
    if t == t2 {
        return Ok(h2.copy());
    }
    let fraction = (t - t1) as f64 / (t2 - t1) as f64;
    if is_counter && h2.detect_reset(h1) {
        let mut r = h2.copy();
        r.mul(fraction);
        return Ok(r);
    }
    // h1 + (h2 - h1) * fraction.
    let mut r = h2.copy();
    if r.sub(h1)?.nhcb_bounds_reconciled {
        annos.info(reconciled(HistOp::Sub));
    }
    r.mul(fraction);
    if r.add(h1)?.nhcb_bounds_reconciled {
        annos.info(reconciled(HistOp::Add));
    }
    Ok(r)
}

/// `correctForCounterResetsHistogram`: what counter resets strictly between the boundary
/// points add back (`Ok(None)` for nothing), `Err(())` when combining failed.
#[allow(clippy::too_many_arguments)]
fn correct_for_counter_resets(
    h: &[HPoint],
    first_idx: usize,
    last_idx: usize,
    left: &FloatHistogram,
    right: &FloatHistogram,
    range_start: i64,
    smoothed: bool,
    name: &str,
    annos: &mut Annos,
) -> Result<Option<FloatHistogram>, ()> {
    let mut first = first_idx + 1;
    let mut prev: &FloatHistogram = left;
    if smoothed && h[first_idx].t < range_start && h[first_idx + 1].h.detect_reset(&h[first_idx].h)
    {
        // The left interpolation already spanned this reset.
        prev = &h[first_idx + 1].h;
        first += 1;
    }
    // The last point is represented by `right` (which inherits its hint), so it is left out.
    if first > last_idx {
        return Ok(None);
    }
    let mut correction: Option<FloatHistogram> = None;
    let add = |c: &mut Option<FloatHistogram>, x: &FloatHistogram, annos: &mut Annos| match c {
        None => {
            *c = Some(x.copy());
            true
        }
        Some(c) => combine(c, x, HistOp::Add, annos, name),
    };
    for p in &h[first..last_idx] {
        if p.h.detect_reset(prev) && !add(&mut correction, prev, annos) {
            return Err(());
        }
        prev = &p.h;
    }
    if right.detect_reset(prev) && !add(&mut correction, prev, annos) {
        return Err(());
    }
    Ok(correction)
}

/// Prometheus' `extendedHistogramRate`: rate/increase/delta of histograms over an anchored
/// or smoothed window (interpolating at its edges when smoothed).
pub(super) fn extended_histogram_rate(
    h: &[HPoint],
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
    smoothed: bool,
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    let (range_start, range_end) = (m.start, m.end);
    let mut last = h.len() - 1;
    let first = h[..last]
        .partition_point(|p| p.t <= range_start)
        .saturating_sub(1);
    if smoothed {
        last = h[..last].partition_point(|p| p.t < range_end);
    }
    if h[last].t <= range_start || (smoothed && h[first].t > range_end) {
        return None;
    }
    let custom = h[first].h.uses_custom_buckets();
    for p in &h[first..=last] {
        if p.h.uses_custom_buckets() != custom {
            annos.warn(mixed_exponential_custom(name));
            return None;
        }
        if is_counter && is_gauge(&p.h) {
            annos.warn(not_counter(name));
        }
    }
    let left = if smoothed && h[first].t < range_start {
        interpolate_histograms(
            &h[first].h,
            h[first].t,
            &h[first + 1].h,
            h[first + 1].t,
            range_start,
            is_counter,
            annos,
        )
    } else {
        Ok(h[first].h.copy())
    };
    let right = if smoothed && last > 0 && h[last].t > range_end {
        interpolate_histograms(
            &h[last - 1].h,
            h[last - 1].t,
            &h[last].h,
            h[last].t,
            range_end,
            is_counter,
            annos,
        )
    } else {
        Ok(h[last].h.copy())
    };
    let (left, right) = match (left, right) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => {
            if incompatible(&e) {
                annos.warn(mixed_exponential_custom(name));
            }
            return None;
        }
    };
    if !is_counter && (!is_gauge(&left) || !is_gauge(&right)) {
        annos.warn(not_gauge(name));
    }
    let mut result = right.copy();
    if !combine(&mut result, &left, HistOp::Sub, annos, name) {
        return None;
    }
    if is_counter {
        let correction = correct_for_counter_resets(
            h,
            first,
            last,
            &left,
            &right,
            range_start,
            smoothed,
            name,
            annos,
        )
        .ok()?;
        if let Some(c) = correction {
            if !combine(&mut result, &c, HistOp::Add, annos, name) {
                return None;
            }
        }
    }
    if is_rate {
        result.div(m.range as f64 / 1000.0);
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    result.compact(0);
    Some(result)
}

/// The histogram branch of `instantValue` (`irate` / `idelta` of the last two points, both
/// histograms).
pub(super) fn instant_histogram(
    prev: &FloatHistogram,
    last: &FloatHistogram,
    interval_ms: i64,
    is_rate: bool,
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    let mut r = last.copy();
    if is_rate && (is_gauge(last) || is_gauge(prev)) {
        annos.warn(not_counter(name));
    }
    if !is_rate && (!is_gauge(last) || !is_gauge(prev)) {
        annos.warn(not_gauge(name));
    }
    if !is_rate || !last.detect_reset(prev) {
        match r.sub(prev) {
            Ok(o) => {
                if o.nhcb_bounds_reconciled {
                    annos.info(reconciled(HistOp::Sub));
                }
            }
            Err(e) if incompatible(&e) => {
                annos.warn(mixed_exponential_custom(name));
                return None;
            }
            Err(_) => {}
        }
    }
    r.counter_reset_hint = CounterResetHint::Gauge;
    r.compact(0);
    if is_rate {
        r.div(interval_ms as f64 / 1000.0);
    }
    Some(r)
}

/// Tracks the counter-reset hints an aggregation over time saw, for the collision warning.
#[derive(Default)]
struct HintTracker {
    reset: bool,
    not_reset: bool,
    reconciled: bool,
}

impl HintTracker {
    fn see(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset = true,
            CounterResetHint::NotCounterReset => self.not_reset = true,
            _ => {}
        }
    }

    fn report(&self, annos: &mut Annos) {
        if self.reset && self.not_reset {
            annos.warn(collision(HistOp::Agg));
        }
        if self.reconciled {
            annos.info(reconciled(HistOp::Agg));
        }
    }
}

/// The histogram branch of `sum_over_time` (Kahan-compensated).
pub(super) fn sum_histograms(
    hs: &[HPoint],
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    let mut t = HintTracker::default();
    let r = (|| -> Result<FloatHistogram, HistogramError> {
        let mut sum = hs[0].h.copy();
        t.see(&sum);
        let mut comp: Option<FloatHistogram> = None;
        for p in &hs[1..] {
            t.see(&p.h);
            let (c, o) = sum.kahan_add(&p.h, comp.take())?;
            t.reconciled |= o.nhcb_bounds_reconciled;
            comp = Some(c);
        }
        if let Some(c) = comp {
            t.reconciled |= sum.add(&c)?.nhcb_bounds_reconciled;
        }
        Ok(sum)
    })();
    finish_aggregation(r, t, name, annos)
}

/// The histogram branch of `avg_over_time`: the direct mean with Kahan summation while the
/// sum stays finite, an incremental mean after that.
pub(super) fn avg_histograms(
    hs: &[HPoint],
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    let mut t = HintTracker::default();
    let r = (|| -> Result<FloatHistogram, HistogramError> {
        let mut sum = hs[0].h.copy();
        t.see(&sum);
        let mut mean: Option<FloatHistogram> = None;
        let mut kahan_c: Option<FloatHistogram> = None;
        let mut count = 1.0;
        for (i, p) in hs[1..].iter().enumerate() {
            t.see(&p.h);
            count = (i + 2) as f64;
            if mean.is_none() {
                let mut sum_copy = sum.copy();
                let (c, o) = sum_copy.kahan_add(&p.h, kahan_c.as_ref().map(|c| c.copy()))?;
                t.reconciled |= o.nhcb_bounds_reconciled;
                if !sum_copy.has_overflow() {
                    sum = sum_copy;
                    kahan_c = Some(c);
                    continue;
                }
                // The sum overflows: switch to the incremental mean.
                let mut m = sum.copy();
                m.div(count - 1.0);
                mean = Some(m);
                if let Some(c) = kahan_c.as_mut() {
                    c.div(count - 1.0);
                }
            }
            let q = (count - 1.0) / count;
            if let Some(c) = kahan_c.as_mut() {
                c.mul(q);
            }
            let mut to_add = p.h.copy();
            to_add.div(count);
            if let Some(m) = mean.as_mut() {
                m.mul(q);
                let (c, o) = m.kahan_add(&to_add, kahan_c.take())?;
                t.reconciled |= o.nhcb_bounds_reconciled;
                kahan_c = Some(c);
            }
        }
        if let Some(mut m) = mean {
            if let Some(c) = kahan_c {
                m.add(&c)?;
            }
            return Ok(m);
        }
        sum.div(count);
        if let Some(mut c) = kahan_c {
            c.div(count);
            sum.add(&c)?;
        }
        Ok(sum)
    })();
    finish_aggregation(r, t, name, annos)
}

/// Reports what an aggregation over time saw; an incompatible schema instead drops the
/// result and everything but its warning.
fn finish_aggregation(
    r: Result<FloatHistogram, HistogramError>,
    t: HintTracker,
    name: &str,
    annos: &mut Annos,
) -> Option<FloatHistogram> {
    match r {
        Ok(h) => {
            t.report(annos);
            Some(h)
        }
        Err(e) if incompatible(&e) => {
            annos.replace_with_warning(mixed_exponential_custom(name));
            None
        }
        Err(_) => {
            t.report(annos);
            None
        }
    }
}

#[cfg(test)]
#[path = "hist_range_tests.rs"]
mod tests;
