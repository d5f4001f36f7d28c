//! The head's native-histogram side: per-series histogram state, the ordering rules for a
//! histogram sample, and Prometheus' chunk-cutting rules for histogram chunks.

use bytes::Bytes;

use sightline_model::TimestampMs;

use super::{
    partition_start, push_closed, ApplyStats, ClosedChunk, Cold, MemSeries, Reject, Verdict,
    FLAG_LAST_HIST,
};
use crate::anychunk::{HistOpen, HistValue};
use crate::error::Result;

/// Native-histogram state of a series that has ever held one (in the series' cold part:
/// most series never do).
pub(crate) struct HistState {
    /// The open histogram chunk; when it is non-empty the XOR chunk is empty.
    pub(super) open: Option<HistOpen>,
    /// The newest sample, when it is a histogram: to tell repeats from duplicates.
    pub(super) last: Option<HistValue>,
    /// Prometheus' `nextAt` and `histogramChunkHasComputedEndTime`: when to cut the chunk.
    pub(super) next_at: TimestampMs,
    pub(super) computed_end: bool,
}

/// What the append path needs to know of a series' newest sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastKind {
    Float,
    /// A histogram of integer counts.
    Int,
    /// A histogram of float counts.
    FloatHist,
}

impl MemSeries {
    /// The open chunk of either kind: (min_t, max_t, bytes).
    pub(super) fn open_chunk(&self) -> Option<(TimestampMs, TimestampMs, &[u8])> {
        if !self.open.is_empty() {
            return Some((self.open.min_t(), self.open.max_t(), self.open.bytes()));
        }
        let o = self.hist()?.open.as_ref()?;
        (!o.is_empty()).then(|| (o.min_t(), o.max_t(), o.bytes()))
    }

    /// The open float chunk as a closed one, if it holds samples; the open chunk is left
    /// empty. The bytes are handed over, not copied.
    pub(super) fn take_float(&mut self) -> Option<ClosedChunk> {
        if self.open.is_empty() {
            return None;
        }
        let full = std::mem::take(&mut self.open);
        Some(ClosedChunk {
            min_t: full.min_t(),
            max_t: full.max_t(),
            data: Bytes::from(full.into_bytes()),
        })
    }

    /// Closes the open chunk of either kind.
    pub(super) fn take_open(&mut self) -> Option<ClosedChunk> {
        if let Some(c) = self.take_float() {
            return Some(c);
        }
        let o = self.hist_mut()?.open.take()?;
        (!o.is_empty()).then(|| ClosedChunk {
            min_t: o.min_t(),
            max_t: o.max_t(),
            data: Bytes::from(o.into_bytes()),
        })
    }

    pub(super) fn last_kind(&self) -> LastKind {
        if self.flags & FLAG_LAST_HIST == 0 {
            return LastKind::Float;
        }
        match self.hist().and_then(|h| h.last.as_ref()) {
            Some(HistValue::Float(_)) => LastKind::FloatHist,
            _ => LastKind::Int,
        }
    }
}

/// Prometheus' `computeChunkEndTime`: an end time for the chunk so that it fills about
/// evenly up to `max_t` at the rate it filled so far.
fn compute_chunk_end_time(start: i64, cur: i64, max_t: i64, ratio_to_full: f64) -> i64 {
    let n = (max_t - start) as f64 / ((cur - start + 1) as f64 * ratio_to_full);
    if n <= 1.0 {
        return max_t;
    }
    (start as f64 + (max_t - start) as f64 / n.floor()) as i64
}

/// A stale marker as a histogram of either kind.
pub(crate) fn stale_hist(float: bool) -> HistValue {
    let sum = sightline_model::stale_nan();
    if float {
        HistValue::Float(sightline_model::FloatHistogram {
            sum,
            ..Default::default()
        })
    } else {
        HistValue::Int(sightline_model::Histogram {
            sum,
            ..Default::default()
        })
    }
}

/// The ordering rules for a histogram sample against the series' newest sample.
pub(super) fn check_order_hist(
    s: &MemSeries,
    t: TimestampMs,
    h: &HistValue,
    min_valid_t: TimestampMs,
) -> std::result::Result<Verdict, Reject> {
    if t < min_valid_t {
        return Err(Reject::OutOfBounds);
    }
    if s.last_t == i64::MIN || t > s.last_t {
        return Ok(Verdict::InOrder);
    }
    if t == s.last_t {
        let last = (s.flags & FLAG_LAST_HIST != 0)
            .then(|| s.hist().and_then(|x| x.last.as_ref()))
            .flatten();
        return match last {
            Some(l) if l.is_stale() && h.is_stale() => Ok(Verdict::Identical),
            Some(l) if l == h => Ok(Verdict::Identical),
            // A float stale marker at the time of a stale histogram is the same marker.
            None if h.is_stale() && sightline_model::is_stale_nan(f64::from_bits(s.last_v)) => {
                Ok(Verdict::Identical)
            }
            _ => Err(Reject::Duplicate),
        };
    }
    if h.is_stale() {
        // As for floats: a late stale marker says nothing.
        return Ok(Verdict::Identical);
    }
    Err(Reject::OutOfOrder)
}

/// Appends an in-order histogram sample, cutting chunks where Prometheus'
/// `histogramsAppendPreprocessor` and the chunk appender do.
pub(super) fn append_hist(
    s: &mut MemSeries,
    t: TimestampMs,
    h: &HistValue,
    partition_ms: i64,
    st: &mut ApplyStats,
) -> Result<()> {
    // A histogram after floats: the float chunk ends here.
    if let Some(c) = s.take_float() {
        push_closed(&mut s.cold().closed, c);
        st.chunks_cut += 1;
    }
    let cold: &mut Cold = s.cold();
    let hs = cold.hist.get_or_insert_with(|| {
        Box::new(HistState {
            open: None,
            last: None,
            next_at: i64::MIN,
            computed_end: false,
        })
    });
    let range_end = |t: TimestampMs| partition_start(t, partition_ms).saturating_add(partition_ms);
    let mut prev: Option<HistOpen> = None;
    let cut = match &hs.open {
        None => true,
        Some(o) if o.is_empty() => true,
        // A change of kind (integer ⇄ float counts) starts a new chunk.
        Some(o) if !o.same_kind(h) => true,
        Some(o) => {
            let (num, bytes) = (o.len(), o.bytes().len() - 1);
            let next_range = if hs.computed_end {
                range_end(o.min_t())
            } else {
                hs.next_at
            };
            if !hs.computed_end && bytes >= crate::histchunk::TARGET_BYTES / 4 {
                let ratio = crate::histchunk::TARGET_BYTES as f64 / bytes as f64;
                hs.next_at = compute_chunk_end_time(o.min_t(), o.max_t(), hs.next_at, ratio);
                hs.computed_end = true;
            }
            let cut = (t >= hs.next_at || bytes >= crate::histchunk::TARGET_BYTES * 2)
                && (num >= crate::histchunk::MIN_SAMPLES || t >= next_range);
            // Never cross a partition boundary, never overflow the u16 count.
            cut || t >= range_end(o.min_t()) || num >= u16::MAX - 1
        }
    };
    if cut {
        if let Some(o) = hs.open.take().filter(|o| !o.is_empty()) {
            push_closed(
                &mut cold.closed,
                ClosedChunk {
                    min_t: o.min_t(),
                    max_t: o.max_t(),
                    data: Bytes::copy_from_slice(o.bytes()),
                },
            );
            st.chunks_cut += 1;
            prev = Some(o);
        }
        hs.open = Some(HistOpen::for_value(h));
        hs.next_at = range_end(t);
        hs.computed_end = false;
    }
    let Some(open) = hs.open.as_mut() else {
        return Ok(());
    };
    if let Some(new) = open.append(prev.as_ref(), t, h)? {
        let full = std::mem::replace(open, new);
        push_closed(
            &mut cold.closed,
            ClosedChunk {
                min_t: full.min_t(),
                max_t: full.max_t(),
                data: Bytes::from(full.into_bytes()),
            },
        );
        st.chunks_cut += 1;
        hs.next_at = range_end(t);
    }
    hs.last = Some(h.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::HeadInner;

    /// Prometheus' size rule: histogram chunks aim at 1 KiB (an end time computed once a
    /// chunk holds a quarter of that) and are cut at 2 KiB, with at least 10 samples.
    #[test]
    fn histogram_chunks_are_cut_by_size_as_prometheus_does() {
        let mut head = HeadInner::new(2 * 3600 * 1000, 0);
        let labels = sightline_model::Labels::from_pairs([("__name__", "h")]);
        let id = head.create(None, labels.stable_hash(), &labels);
        let mut st = ApplyStats::default();
        for (t, h) in crate::bench_support::latency_histograms(400, 1) {
            head.apply_hist(id, t, &HistValue::Int(h), &mut st);
        }
        assert_eq!(st.appended, 400);
        let closed = head.closed_chunks();
        let chunks = &closed[0].1;
        assert!(chunks.len() >= 4, "{} chunks", chunks.len());
        for c in chunks {
            let n = crate::chunk::chunk_len(&c.data).unwrap_or(0);
            assert!(n >= 10, "{n} samples");
            assert!(c.data.len() < 2 * 1024 + 100, "{} bytes", c.data.len());
        }
    }
}
