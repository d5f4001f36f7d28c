//! Counter and gauge functions over range vectors: `rate`, `increase`, `delta`, `irate`,
//! `idelta`, `resets` and `changes`, with start-timestamp handling.

use sightline_model::FloatHistogram;

use super::hist_range::{
    extended_histogram_rate, extrapolated_histogram_rate, instant_histogram,
    mixed_floats_histograms, Annos,
};
use super::over_time::{window_fn, Res};
use super::*;
use crate::value::Window;

/// `__name__` and `__type__` without binary searches: labels starting with `__` sort before
/// every lowercase name, so a short scan from the front finds them.
fn name_and_type(l: &Labels) -> (Option<&str>, Option<&str>) {
    let (mut name, mut typ) = (None, None);
    for lb in l.iter() {
        let first = lb.name.as_bytes().first().copied().unwrap_or(0);
        if first > b'_' {
            break;
        }
        if lb.name == "__name__" {
            name = Some(lb.value.as_str());
        } else if lb.name == "__type__" {
            typ = Some(lb.value.as_str());
        }
    }
    (name, typ)
}

fn has_counter_suffix(name: &str) -> bool {
    name.ends_with("_total")
        || name.ends_with("_sum")
        || name.ends_with("_count")
        || name.ends_with("_bucket")
}

/// Whether a start timestamp says the counter restarted between two samples (Prometheus'
/// `isStartTimestampReset`): the current start lies after the previous sample, or points at it
/// while the previous sample had a known start of its own (a delta series).
pub(super) fn is_start_timestamp_reset(prev_st: i64, prev_t: i64, cur_st: i64, cur_t: i64) -> bool {
    // Unset (0), invalid (after the sample) or OTel's "unknown start" (equal to it).
    if cur_st == 0 || cur_st >= cur_t || cur_st < prev_t {
        return false;
    }
    if cur_st > prev_t {
        return true;
    }
    // cur_st == prev_t: a delta point, or a cumulative one with an unknown start.
    if prev_st > prev_t {
        return false;
    }
    prev_st != 0 && prev_st != prev_t
}

/// Whether a sample's start timestamp overlaps the previous sample (Prometheus'
/// `checkStartTimeOverlap`), which earns a warning.
pub(super) fn start_time_overlaps(prev_st: i64, prev_t: i64, cur_st: i64) -> bool {
    cur_st != 0 && cur_st < prev_t && cur_st != prev_st
}

pub(super) const START_TIME_OVERLAP: &str =
    "sample has start time that overlaps with previous sample timestamp for metric";

/// The index of the first sample whose value is below its predecessor's (a counter reset),
/// if any. Blocks of eight pairs are compared without branches, so a window without a reset,
/// the common case, costs a fraction of a compare-and-branch loop (`rate` over a range query
/// rescans each sample once for every step whose window holds it).
pub(super) fn first_drop(s: &[Sample]) -> Option<usize> {
    const BLOCK: usize = 8;
    let mut i = 1;
    while i + BLOCK <= s.len() {
        let mut any = false;
        for j in i..i + BLOCK {
            any |= s[j].v < s[j - 1].v;
        }
        if any {
            break;
        }
        i += BLOCK;
    }
    (i..s.len()).find(|&j| s[j].v < s[j - 1].v)
}

/// Prometheus' `extrapolatedRate`, with its use of stored start timestamps: a reset shown by a
/// start timestamp counts like a value drop, and a first sample whose start lies inside the
/// window stands for a zero at that start instead of extrapolating to the left.
/// Returns the value and whether start timestamps overlapped (a warning).
fn extrapolated_rate(
    s: &[Sample],
    no_drop: bool,
    sts: Option<&[i64]>,
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
) -> (Option<f64>, bool) {
    if s.is_empty() {
        return (None, false);
    }
    let sts = if is_counter { sts.unwrap_or(&[]) } else { &[] };
    let first = s[0];
    let last = s[s.len() - 1];
    let mut result = last.v - first.v;
    let mut overlap = false;
    if is_counter && sts.is_empty() {
        // Without start timestamps a reset is a drop in value, and most windows have none:
        // the window's builder may know there is none (`no_drop`, from a streamed series that
        // compared each sample with the one before it as it arrived), else a branch-free scan
        // finds whether there is one; only then are the drops added, in order (the same
        // additions, in the same order, as the loop below).
        let first = if no_drop { None } else { first_drop(s) };
        if let Some(k) = first {
            let mut prev = s[k - 1].v;
            for cur in &s[k..] {
                if cur.v < prev {
                    result += prev;
                }
                prev = cur.v;
            }
        }
    } else if is_counter {
        for i in 1..s.len() {
            let (prev, cur) = (s[i - 1], s[i]);
            let st_reset = match (sts.get(i - 1), sts.get(i)) {
                (Some(&prev_st), Some(&cur_st)) => {
                    overlap |= start_time_overlaps(prev_st, prev.t, cur_st);
                    is_start_timestamp_reset(prev_st, prev.t, cur_st, cur.t)
                }
                _ => false,
            };
            if cur.v < prev.v || st_reset {
                result += prev.v;
            }
        }
    }
    let mut dur_to_start = (first.t - m.start) as f64 / 1000.0;
    let mut dur_to_end = (m.end - last.t) as f64 / 1000.0;
    let mut sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = if s.len() > 1 {
        sampled / (s.len() - 1) as f64
    } else {
        0.0
    };
    let threshold = avg * 1.1;
    match sts.first() {
        Some(&st0) if st0 != 0 && st0 > m.start && st0 < first.t => {
            // A zero at the first sample's start replaces extrapolation to the left.
            dur_to_start = 0.0;
            sampled = (last.t - st0) as f64 / 1000.0;
            result += first.v;
        }
        _ if s.len() < 2 => return (None, overlap),
        _ => {
            if dur_to_start >= threshold {
                dur_to_start = avg / 2.0;
            }
            if is_counter {
                let mut dur_to_zero = dur_to_start;
                if result > 0.0 && first.v >= 0.0 {
                    dur_to_zero = sampled * (first.v / result);
                }
                if dur_to_zero < dur_to_start {
                    dur_to_start = dur_to_zero;
                }
            }
        }
    }
    if dur_to_end >= threshold {
        dur_to_end = avg / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + dur_to_start + dur_to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= m.range as f64 / 1000.0;
    }
    (Some(result * factor), overlap)
}

/// The value a series had at `t` by linear interpolation between neighbours (for anchored and
/// smoothed selectors).
fn interpolate(s: &[Sample], t: i64, smoothed: bool, is_counter: bool) -> Option<f64> {
    let idx = s.partition_point(|p| p.t <= t);
    if idx == 0 {
        return s.first().map(|p| p.v);
    }
    let a = s[idx - 1];
    if a.t == t || !smoothed || idx >= s.len() {
        return Some(a.v);
    }
    let b = s[idx];
    let f = (t - a.t) as f64 / (b.t - a.t) as f64;
    if is_counter && b.v < a.v {
        // A counter reset between the neighbours: the counter restarted from zero.
        return Some(b.v * f);
    }
    Some(a.v + (b.v - a.v) * f)
}

/// Rate/increase/delta over an anchored or smoothed window.
fn extended_rate(
    s: &[Sample],
    m: &MatrixArg,
    is_counter: bool,
    is_rate: bool,
    smoothed: bool,
) -> Option<f64> {
    // Samples strictly inside (start, end].
    let inside: Vec<Sample> = s
        .iter()
        .copied()
        .filter(|p| p.t > m.start && p.t <= m.end)
        .collect();
    let vstart = interpolate(s, m.start, smoothed, is_counter)?;
    let vend = if smoothed {
        interpolate(s, m.end, true, is_counter)?
    } else {
        inside.last().map(|p| p.v).unwrap_or(vstart)
    };
    let mut pts = vec![Sample {
        t: m.start,
        v: vstart,
    }];
    pts.extend(inside.iter().copied());
    if smoothed {
        if pts.last().is_some_and(|p| p.t != m.end) {
            pts.push(Sample { t: m.end, v: vend });
        } else if let Some(p) = pts.last_mut() {
            p.v = vend;
        }
    }
    if pts.len() < 2 && !smoothed {
        return None;
    }
    let mut result = pts[pts.len() - 1].v - pts[0].v;
    if is_counter {
        let mut prev = pts[0].v;
        for p in &pts[1..] {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    if is_rate {
        result /= m.range as f64 / 1000.0;
    }
    Some(result)
}

fn rate_fn(r: &mut FunctionRegistry, name: &'static str, is_counter: bool, is_rate: bool) {
    reg(
        r,
        name,
        &[M],
        0,
        false,
        V,
        Arc::new(move |ctx, mut a| {
            let m = take_mat(&mut a, 0);
            let (anchored, smoothed) = match ctx.args.first() {
                Some(Expr::Matrix { vs, .. }) => (vs.anchored, vs.smoothed),
                _ => (false, false),
            };
            let mut out = Vec::with_capacity(m.series.len());
            for w in &m.series {
                let s = w.samples();
                let hs = w.histograms();
                if !hs.is_empty() {
                    let name = metric_name(&w.labels);
                    let mut annos = Annos::default();
                    let h = if !s.is_empty() {
                        annos.warn(mixed_floats_histograms(name));
                        None
                    } else if anchored || smoothed {
                        extended_histogram_rate(
                            hs, &m, is_counter, is_rate, smoothed, name, &mut annos,
                        )
                    } else {
                        extrapolated_histogram_rate(
                            hs,
                            histogram_start_timestamps(w),
                            &m,
                            is_counter,
                            is_rate,
                            name,
                            &mut annos,
                        )
                    };
                    annos.flush(ctx, 0);
                    if let Some(h) = h {
                        out.push(Elem::histogram(w.labels.clone(), ctx.ts, Arc::new(h), true));
                    }
                    continue;
                }
                let v = if anchored || smoothed {
                    extended_rate(s, &m, is_counter, is_rate, smoothed)
                } else {
                    let (v, overlap) = extrapolated_rate(
                        s,
                        w.no_drop,
                        w.start_timestamps(),
                        &m,
                        is_counter,
                        is_rate,
                    );
                    if overlap {
                        warn_start_overlap(ctx, &w.labels);
                    }
                    v
                };
                // Each series is checked once per query: reading its labels every step costs
                // cache misses on large range queries.
                let first_visit = is_counter && !s.is_empty() && {
                    let key = (
                        ctx.call_pos.start | (1 << 48),
                        Arc::as_ptr(&w.labels) as usize,
                    );
                    match ctx.hash_cache.entry(key) {
                        std::collections::hash_map::Entry::Occupied(_) => false,
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert((w.labels.clone(), 0, 0.0));
                            true
                        }
                    }
                };
                if first_visit {
                    let (name, typ) = name_and_type(&w.labels);
                    if let Some(n) = name {
                        if let Some(t) = typ {
                            if t != "counter" && t != "histogram" {
                                let msg = format!("metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\": {n:?}");
                                let p = ctx.arg_pos(0);
                                ctx.info(&msg, p);
                            }
                        } else if !has_counter_suffix(n) {
                            let msg = format!(
                                "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {n:?}"
                            );
                            let p = ctx.arg_pos(0);
                            ctx.info(&msg, p);
                        }
                    }
                }
                if let Some(v) = v {
                    out.push(elem(w.labels.clone(), ctx.ts, v, true));
                }
            }
            Ok(FnOut::Vector(out))
        }),
    );
}

/// The start-time overlap warning, once per metric name and call site.
fn warn_start_overlap(ctx: &mut FnCtx<'_>, labels: &Labels) {
    let name = labels.metric_name().unwrap_or("");
    let msg = format!("{START_TIME_OVERLAP} {name:?}");
    let p = ctx.arg_pos(0);
    ctx.warn(&msg, p);
}

/// The start timestamps of a window's histograms (0 = unknown), parallel to
/// [`Window::histograms`], when the series has them.
fn histogram_start_timestamps(w: &Window) -> Option<&[i64]> {
    w.histogram_start_timestamps()
}

/// One point of a window, float or histogram, with its start timestamp (0 = unknown).
#[derive(Clone, Copy)]
struct Pt<'a> {
    t: i64,
    v: PtVal<'a>,
    st: i64,
}

#[derive(Clone, Copy)]
enum PtVal<'a> {
    F(f64),
    H(&'a FloatHistogram),
}

/// Prometheus' `instantValue`: `irate` and `idelta` of a window's last two points (floats or
/// histograms; a float next to a histogram gives nothing but a warning). For `irate` a
/// start-timestamp reset counts as a counter reset.
fn instant_value(w: &Window, is_rate: bool, annos: &mut Annos) -> Option<Res> {
    let (s, hs) = (w.samples(), w.histograms());
    if s.len() + hs.len() < 2 {
        return None;
    }
    let sts = w.start_timestamps();
    let mut ss: Vec<Pt<'_>> = (s.len().saturating_sub(2)..s.len())
        .map(|i| Pt {
            t: s[i].t,
            v: PtVal::F(s[i].v),
            st: sts.and_then(|x| x.get(i)).copied().unwrap_or(0),
        })
        .collect();
    // Merge the last two histograms in, keeping the newest two points in time order.
    let hsts = histogram_start_timestamps(w);
    let from = hs.len().saturating_sub(2);
    for (i, p) in hs.iter().enumerate().skip(from) {
        let x = Pt {
            t: p.t,
            v: PtVal::H(&p.h),
            st: hsts.and_then(|x| x.get(i)).copied().unwrap_or(0),
        };
        match ss.len() {
            0 => ss.push(x),
            1 if x.t < ss[0].t => ss.insert(0, x),
            1 => ss.push(x),
            _ if x.t < ss[0].t => {}
            _ if x.t > ss[1].t => {
                ss[0] = ss[1];
                ss[1] = x;
            }
            _ => ss[0] = x,
        }
    }
    let (a, b) = (ss[0], ss[1]);
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    match (a.v, b.v) {
        (PtVal::F(x), PtVal::F(y)) => {
            let reset = y < x || is_start_timestamp_reset(a.st, a.t, b.st, b.t);
            let mut r = if is_rate && reset { y } else { y - x };
            if is_rate {
                r /= interval as f64 / 1000.0;
            }
            Some(Res::F(r))
        }
        (PtVal::H(x), PtVal::H(y)) => {
            let st_reset = is_start_timestamp_reset(a.st, a.t, b.st, b.t);
            let name = metric_name(&w.labels);
            instant_histogram(x, y, interval, is_rate, st_reset, name, annos).map(Res::H)
        }
        _ => {
            annos.warn(mixed_floats_histograms(metric_name(&w.labels)));
            None
        }
    }
}

/// Prometheus' `pickFirstSampleIndices`: where `changes` and `resets` start in a window's
/// floats and histograms. An anchored window starts at its newest point at or before the
/// range start, whatever its type; `None` when no point lies after the range start.
fn pick_first(w: &Window, m: &MatrixArg, anchored: bool) -> Option<(usize, usize)> {
    if !anchored {
        return Some((0, 0));
    }
    let (s, hs) = (w.samples(), w.histograms());
    let lf = s.partition_point(|p| p.t <= m.start);
    let lh = hs.partition_point(|p| p.t <= m.start);
    if lf >= s.len() && lh >= hs.len() {
        return None;
    }
    match (lf.checked_sub(1), lh.checked_sub(1)) {
        (None, None) => Some((0, 0)),
        (Some(f), None) => Some((f, lh)),
        (Some(f), Some(h)) if s[f].t >= hs[h].t => Some((f, lh)),
        (_, Some(h)) => Some((lf, h)),
    }
}

/// A window's points from `first` on, floats and histograms merged in time order.
fn merged<'a>(w: &'a Window, first: (usize, usize)) -> Vec<Pt<'a>> {
    let (s, hs) = (w.samples(), w.histograms());
    let sts = w.start_timestamps();
    let hsts = histogram_start_timestamps(w);
    let (mut i, mut j) = first;
    let mut out = Vec::with_capacity(s.len() + hs.len() - i - j);
    while i < s.len() || j < hs.len() {
        if j >= hs.len() || (i < s.len() && s[i].t <= hs[j].t) {
            out.push(Pt {
                t: s[i].t,
                v: PtVal::F(s[i].v),
                st: sts.and_then(|x| x.get(i)).copied().unwrap_or(0),
            });
            i += 1;
        } else {
            out.push(Pt {
                t: hs[j].t,
                v: PtVal::H(&hs[j].h),
                st: hsts.and_then(|x| x.get(j)).copied().unwrap_or(0),
            });
            j += 1;
        }
    }
    out
}

/// `resets` of a window with histograms: a histogram counter reset, or a change between a
/// float and a histogram, counts as a reset.
fn resets_mixed(pts: &[Pt<'_>]) -> f64 {
    let mut n = 0.0;
    for p in pts.windows(2) {
        let (a, b) = (p[0], p[1]);
        let reset = match (a.v, b.v) {
            (PtVal::F(x), PtVal::F(y)) => y < x || is_start_timestamp_reset(a.st, a.t, b.st, b.t),
            (PtVal::H(x), PtVal::H(y)) => {
                is_start_timestamp_reset(a.st, a.t, b.st, b.t) || y.detect_reset(x)
            }
            _ => true,
        };
        if reset {
            n += 1.0;
        }
    }
    n
}

/// `changes` of a window with histograms: a histogram that differs from the previous one,
/// or a change between a float and a histogram, counts as a change.
fn changes_mixed(pts: &[Pt<'_>]) -> f64 {
    let mut n = 0.0;
    for p in pts.windows(2) {
        let changed = match (p[0].v, p[1].v) {
            (PtVal::F(x), PtVal::F(y)) => !(y == x || (y.is_nan() && x.is_nan())),
            (PtVal::H(x), PtVal::H(y)) => !y.equals(x),
            _ => true,
        };
        if changed {
            n += 1.0;
        }
    }
    n
}

fn is_anchored(ctx: &FnCtx<'_>) -> bool {
    matches!(ctx.args.first(), Some(Expr::Matrix { vs, .. }) if vs.anchored)
}

/// Registers the rate functions.
pub(super) fn register(r: &mut FunctionRegistry) {
    rate_fn(r, "rate", true, true);
    rate_fn(r, "increase", true, false);
    rate_fn(r, "delta", false, false);
    window_fn(r, "irate", true, |_, w, _, annos| {
        instant_value(w, true, annos)
    });
    window_fn(r, "idelta", true, |_, w, _, annos| {
        instant_value(w, false, annos)
    });
    window_fn(r, "changes", true, |ctx, w, m, _| {
        let s = w.samples();
        if w.histograms().is_empty() {
            let mut n = 0.0;
            for w in s.windows(2) {
                if !(w[1].v == w[0].v || (w[1].v.is_nan() && w[0].v.is_nan())) {
                    n += 1.0;
                }
            }
            return Some(Res::F(n));
        }
        let first = pick_first(w, m, is_anchored(ctx))?;
        Some(Res::F(changes_mixed(&merged(w, first))))
    });
    window_fn(r, "resets", true, |ctx, w, m, _| {
        let s = w.samples();
        if w.histograms().is_empty() {
            let sts = w.start_timestamps().filter(|x| x.len() == s.len());
            let mut n = 0.0;
            for i in 1..s.len() {
                let st_reset = sts.is_some_and(|st| {
                    is_start_timestamp_reset(st[i - 1], s[i - 1].t, st[i], s[i].t)
                });
                if s[i].v < s[i - 1].v || st_reset {
                    n += 1.0;
                }
            }
            return Some(Res::F(n));
        }
        let first = pick_first(w, m, is_anchored(ctx))?;
        Some(Res::F(resets_mixed(&merged(w, first))))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_drop_finds_the_first_reset_at_every_position() {
        let naive = |s: &[Sample]| (1..s.len()).find(|&j| s[j].v < s[j - 1].v);
        for len in 0..40usize {
            let rising: Vec<Sample> = (0..len)
                .map(|i| Sample {
                    t: i as i64,
                    v: i as f64,
                })
                .collect();
            assert_eq!(first_drop(&rising), None, "len {len}");
            for at in 1..len {
                for extra in [None, Some(at + 3), Some(at + 9)] {
                    let mut s = rising.clone();
                    s[at].v = -1.0;
                    if let Some(e) = extra.filter(|&e| e < len) {
                        s[e].v = 0.5;
                    }
                    assert_eq!(first_drop(&s), naive(&s), "len {len} at {at} {extra:?}");
                    assert_eq!(first_drop(&s), Some(at));
                }
            }
        }
        // NaN neither is nor hides a drop, as in the per-sample comparison.
        let s: Vec<Sample> = [1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample { t: i as i64, v })
            .collect();
        assert_eq!(first_drop(&s), naive(&s));
        assert_eq!(first_drop(&s), Some(10));
    }
}
