//! What selectors see of one series: the sample an instant selector takes at a step (floats
//! and native histograms, smoothed or not) and the float and histogram windows of a range
//! selector (plain, anchored, smoothed), plus how histogram samples are counted.

use std::sync::Arc;

use sightline_model::{is_stale_nan, CounterResetHint, FloatHistogram, Sample};

use crate::ast::VectorSelector;
use crate::value::HPoint;

/// How many float samples a histogram sample counts as against `--query.max-samples` and in
/// the query statistics (Prometheus' `HPoint.size`: its bytes over the 16 of a float sample).
pub(crate) fn hpoint_size(h: &FloatHistogram) -> usize {
    (float_histogram_size(h) + 8) / 16
}

/// Prometheus' `FloatHistogram.Size`: the bytes a histogram takes.
fn float_histogram_size(h: &FloatHistogram) -> usize {
    168 + 8
        * (h.positive_spans.len()
            + h.negative_spans.len()
            + h.positive_buckets.len()
            + h.negative_buckets.len()
            + h.custom_values.len())
}

/// What an instant vector selector sees of one series at a time.
pub(crate) struct InstantPoint {
    /// Index of the histogram sample (for its start timestamp); `None` for a float.
    pub(crate) hidx: Option<usize>,
    /// Index of the float sample (for its start timestamp); `None` for a histogram.
    pub(crate) idx: Option<usize>,
    pub(crate) t: i64,
    pub(crate) v: f64,
    pub(crate) h: Option<Arc<FloatHistogram>>,
}

/// The sample an instant vector selector sees at `t_ref`: the newest float or histogram
/// sample within the lookback window unless it is a staleness marker (stale markers are
/// floats, also in histogram series); `smoothed` interpolates floats towards the next sample.
pub(crate) fn instant_sample(
    samples: &[Sample],
    hists: &[HPoint],
    t_ref: i64,
    lookback: i64,
    smoothed: bool,
) -> std::result::Result<Option<InstantPoint>, SmoothIssue> {
    if smoothed && !hists.is_empty() {
        return smoothed_histogram(samples, hists, t_ref, lookback);
    }
    Ok(plain_sample(samples, hists, t_ref, lookback, smoothed))
}

/// Why a smoothed selector dropped a series at a step (Prometheus warns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmoothIssue {
    /// Floats and histograms around the step.
    Mixed,
    /// An exponential and a custom-buckets histogram around the step.
    MixedSchemas,
}

/// A smoothed selector over a series with histograms (Prometheus' `smoothSeries`): the
/// histogram at the step, interpolated between its neighbours, or the previous one carried
/// forward (with an unknown counter reset hint).
pub(crate) fn smoothed_histogram(
    samples: &[Sample],
    hists: &[HPoint],
    t_ref: i64,
    lookback: i64,
) -> std::result::Result<Option<InstantPoint>, SmoothIssue> {
    let (lo_t, hi_t) = (
        t_ref.saturating_sub(lookback),
        t_ref.saturating_add(lookback),
    );
    let in_window = |t: i64| t > lo_t && t <= hi_t;
    let h_lo = hists.partition_point(|x| x.t <= lo_t);
    let h_hi = hists.partition_point(|x| x.t <= hi_t);
    let window = &hists[h_lo..h_hi];
    let floats = samples.iter().any(|x| in_window(x.t) && !is_stale_nan(x.v));
    if window.is_empty() {
        return Ok(if floats {
            plain_sample(samples, &[], t_ref, lookback, true)
        } else {
            None
        });
    }
    if floats {
        return Err(SmoothIssue::Mixed);
    }
    let i = window.partition_point(|x| x.t < t_ref);
    let point = |h: Arc<FloatHistogram>| {
        Some(InstantPoint {
            idx: None,
            hidx: None,
            t: t_ref,
            v: 0.0,
            h: Some(h),
        })
    };
    if let Some(p) = window.get(i).filter(|p| p.t == t_ref) {
        return Ok(point(p.h.clone()));
    }
    if i > 0 && i < window.len() {
        let (prev, next) = (&window[i - 1], &window[i]);
        if prev.h.uses_custom_buckets() != next.h.uses_custom_buckets() {
            return Err(SmoothIssue::MixedSchemas);
        }
        let is_counter = prev.h.counter_reset_hint != CounterResetHint::Gauge
            || next.h.counter_reset_hint != CounterResetHint::Gauge;
        let fraction = (t_ref - prev.t) as f64 / (next.t - prev.t) as f64;
        let mut res = (*next.h).clone();
        if is_counter && next.h.detect_reset(&prev.h) {
            res.mul(fraction);
        } else {
            res.sub(&prev.h).map_err(|_| SmoothIssue::MixedSchemas)?;
            res.mul(fraction);
            res.add(&prev.h).map_err(|_| SmoothIssue::MixedSchemas)?;
        }
        return Ok(point(Arc::new(res)));
    }
    if i > 0 {
        let mut h = (*window[i - 1].h).clone();
        h.counter_reset_hint = CounterResetHint::Unknown;
        return Ok(point(Arc::new(h)));
    }
    Ok(None)
}

/// The newest float or histogram sample at `t_ref` (see [`instant_sample`]).
pub(crate) fn plain_sample(
    samples: &[Sample],
    hists: &[HPoint],
    t_ref: i64,
    lookback: i64,
    smoothed: bool,
) -> Option<InstantPoint> {
    let idx = samples.partition_point(|x| x.t <= t_ref);
    let hidx = hists.partition_point(|x| x.t <= t_ref);
    if hidx > 0 {
        let hp = &hists[hidx - 1];
        if idx == 0 || samples[idx - 1].t < hp.t {
            if hp.t <= t_ref.saturating_sub(lookback) {
                return None;
            }
            return Some(InstantPoint {
                idx: None,
                hidx: Some(hidx - 1),
                t: hp.t,
                v: 0.0,
                h: Some(hp.h.clone()),
            });
        }
    }
    if idx == 0 {
        return None;
    }
    let smp = samples[idx - 1];
    if smp.t <= t_ref.saturating_sub(lookback) || is_stale_nan(smp.v) {
        return None;
    }
    let mut v = smp.v;
    if smoothed && smp.t < t_ref {
        if let Some(nx) = samples.get(idx) {
            if nx.t.saturating_sub(t_ref) < lookback && !is_stale_nan(nx.v) {
                v = smp.v + (nx.v - smp.v) * (t_ref - smp.t) as f64 / (nx.t - smp.t) as f64;
            }
        }
    }
    Some(InstantPoint {
        idx: Some(idx - 1),
        hidx: None,
        t: smp.t,
        v,
        h: None,
    })
}

/// A histogram window: the backing points (if the series has any) and the window's bounds.
pub(crate) type HistWindow = (Option<Arc<Vec<HPoint>>>, usize, usize);

/// The float window `lo..hi` and the histogram window of a range selector over one series.
/// Anchored and smoothed selectors add the one sample just before the window and (smoothed)
/// the one just after it, whichever kind it is. `None` for a part with no samples.
#[allow(clippy::too_many_arguments)]
pub(crate) fn windows(
    floats: &[Sample],
    lo: usize,
    hi: usize,
    hists: Option<&Arc<Vec<HPoint>>>,
    start: i64,
    t_ref: i64,
    vs: &VectorSelector,
    lookback: i64,
) -> (Option<(usize, usize)>, Option<HistWindow>) {
    let Some(hs) = hists else {
        return (
            window_bounds(floats, lo, hi, start, t_ref, vs, lookback),
            None,
        );
    };
    let hlo = hs.partition_point(|x| x.t <= start);
    let hhi = hs.partition_point(|x| x.t <= t_ref);
    if !(vs.anchored || vs.smoothed) {
        let fw = (lo < hi).then_some((lo, hi));
        let hw = (hlo < hhi).then(|| (Some(hs.clone()), hlo, hhi));
        return (fw, hw);
    }
    let inside = hi > lo || hhi > hlo;
    let floor = start.saturating_sub(lookback);
    // The newest sample before the window, of either kind.
    let fb = (lo > 0 && floats[lo - 1].t > floor).then(|| floats[lo - 1].t);
    let hb = (hlo > 0 && hs[hlo - 1].t > floor).then(|| hs[hlo - 1].t);
    let (f_before, h_before) = match (fb, hb) {
        (Some(f), Some(h)) => (f > h, h > f),
        (f, h) => (f.is_some(), h.is_some()),
    };
    // The oldest sample after the window, of either kind (smoothed only).
    let fa = (vs.smoothed && hi < floats.len() && floats[hi].t.saturating_sub(t_ref) < lookback)
        .then(|| floats[hi].t);
    let ha = (vs.smoothed && hhi < hs.len() && hs[hhi].t.saturating_sub(t_ref) < lookback)
        .then(|| hs[hhi].t);
    let (f_after, h_after) = match (fa, ha) {
        (Some(f), Some(h)) => (f < h, h < f),
        (f, h) => (f.is_some(), h.is_some()),
    };
    if vs.anchored && !inside {
        return (None, None);
    }
    let before = f_before || h_before;
    let after = f_after || h_after;
    if vs.smoothed && !inside && !(before && after) {
        return (None, None);
    }
    let (lo2, hi2) = (lo - usize::from(f_before), hi + usize::from(f_after));
    let (hlo2, hhi2) = (hlo - usize::from(h_before), hhi + usize::from(h_after));
    (
        (lo2 < hi2).then_some((lo2, hi2)),
        (hlo2 < hhi2).then(|| (Some(hs.clone()), hlo2, hhi2)),
    )
}

/// The sample count of histogram points `lo..hi` of `h` (see [`hpoint_size`]).
pub(crate) fn hist_samples(h: Option<&Vec<HPoint>>, lo: usize, hi: usize) -> usize {
    h.and_then(|h| h.get(lo..hi))
        .map_or(0, |h| h.iter().map(|p| hpoint_size(&p.h)).sum())
}

/// The part of `samples` a range selector passes on, given the plain window `lo..hi`:
/// anchored and smoothed selectors add the neighbours just outside it (within the lookback
/// delta). `None` when the series contributes nothing.
pub(crate) fn window_bounds(
    samples: &[Sample],
    lo: usize,
    hi: usize,
    start: i64,
    t_ref: i64,
    vs: &VectorSelector,
    lookback: i64,
) -> Option<(usize, usize)> {
    if vs.anchored || vs.smoothed {
        let before = lo > 0 && samples[lo - 1].t > start.saturating_sub(lookback);
        let lo2 = if before { lo - 1 } else { lo };
        let after =
            vs.smoothed && hi < samples.len() && samples[hi].t.saturating_sub(t_ref) < lookback;
        let hi2 = if after { hi + 1 } else { hi };
        let inside = hi > lo;
        if vs.anchored && !inside {
            return None;
        }
        if vs.smoothed && !inside && !(before && after) {
            return None;
        }
        return Some((lo2, hi2));
    }
    (lo < hi).then_some((lo, hi))
}
