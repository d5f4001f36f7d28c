//! The counter reset hints a TSDB head gives the histograms loaded into it, for test loaders
//! over `MemStorage` (which keeps hints as appended): the promqltest runner and promtool's
//! `test rules` expect what Prometheus' head reads back.

use std::sync::Arc;

use sightline_model::{is_stale_nan, FloatHistogram, Span};

/// The chunk a series' next sample goes to in Prometheus' TSDB head, which is where the
/// counter reset hints of stored histograms come from: a histogram continuing a counter chunk
/// reads back as `NotCounterReset`, the first of a chunk as `Unknown`, every sample of a
/// gauge chunk as `Gauge`. `MemStorage`
/// keeps hints as appended, so the runner sets them as the head would.
#[derive(Debug, Default)]
pub struct HeadHints {
    /// The last histogram of the current histogram chunk (`None`: a float chunk or none).
    last: Option<Arc<FloatHistogram>>,
    gauge: bool,
    /// The chunk ended with a stale marker: the next histogram starts a new chunk.
    stale: bool,
}

impl HeadHints {
    /// A float sample was appended (a stale marker after a histogram ends its chunk).
    pub fn float(&mut self, v: f64) {
        if is_stale_nan(v) && self.last.is_some() {
            // A stale marker after a histogram is a histogram stale marker in that chunk.
            self.stale = true;
            return;
        }
        self.last = None;
    }

    /// A histogram is appended: the histogram with the hint the head reads back.
    pub fn histogram(&mut self, h: &Arc<FloatHistogram>) -> Arc<FloatHistogram> {
        use sightline_model::CounterResetHint as H;
        let gauge = h.counter_reset_hint == H::Gauge;
        let prev = self.last.take();
        let continues = prev.as_ref().is_some_and(|p| {
            !self.stale
                && self.gauge == gauge
                && p.schema == h.schema
                && p.zero_threshold == h.zero_threshold
                && p.custom_values[..] == h.custom_values[..]
                && (gauge || (h.counter_reset_hint != H::CounterReset && !is_reset(p, h)))
        });
        // The first sample of a chunk reads back as `Unknown` even when the chunk was cut
        // for a counter reset (Prometheus issue 15346, which the suite's expectations follow).
        let hint = if gauge {
            H::Gauge
        } else if continues {
            H::NotCounterReset
        } else {
            H::Unknown
        };
        self.gauge = gauge;
        self.stale = false;
        let mut out = (**h).clone();
        out.counter_reset_hint = hint;
        let out = Arc::new(out);
        self.last = Some(out.clone());
        out
    }
}

/// Whether appending `cur` after `prev` is a counter reset to the TSDB head (the checks of
/// Prometheus' `FloatHistogramAppender.appendable`, in its order).
fn is_reset(prev: &FloatHistogram, cur: &FloatHistogram) -> bool {
    if cur.count < prev.count {
        return true;
    }
    if cur.schema != prev.schema || cur.zero_threshold != prev.zero_threshold {
        // A new chunk, but not a reset.
        return false;
    }
    if cur.schema == -53 && prev.custom_values[..] != cur.custom_values[..] {
        return true;
    }
    if cur.zero_count < prev.zero_count {
        return true;
    }
    let down = |p: Vec<(i32, f64)>, c: Vec<(i32, f64)>| {
        p.iter().any(|(i, pc)| {
            let cc = c.iter().find(|(j, _)| j == i).map_or(0.0, |x| x.1);
            cc < *pc
        })
    };
    down(
        compact_buckets(&prev.positive_spans, &prev.positive_buckets),
        compact_buckets(&cur.positive_spans, &cur.positive_buckets),
    ) || down(
        compact_buckets(&prev.negative_spans, &prev.negative_buckets),
        compact_buckets(&cur.negative_spans, &cur.negative_buckets),
    )
}

/// A histogram side's non-empty buckets as (index, count), spans resolved.
pub fn compact_buckets(spans: &[Span], buckets: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::new();
    let mut next = 0i32;
    let mut it = buckets.iter();
    for sp in spans {
        let start = next + sp.offset;
        for k in 0..sp.length as i32 {
            match it.next() {
                Some(c) if *c != 0.0 => out.push((start + k, *c)),
                Some(_) => {}
                None => return out,
            }
        }
        next = start + sp.length as i32;
    }
    out
}
