//! Delta temporality to cumulative, in memory, per output series (Prometheus 3 does this with
//! the collector's `deltatocumulative` processor behind `--enable-feature=otlp-deltatocumulative`;
//! we always do it, since the store has no delta type).
//!
//! A series' state is its running sum, the start time of its cumulative stream and the time
//! of its last point. A delta point adds to the sum and is written as the sum, with the
//! stream's start as its start timestamp. A point at or before the last one is rejected
//! (`delta_out_of_order`), as is one whose start lies before the stream's start (it belongs
//! to an older stream). A point with no recorded value (a staleness marker) ends the stream.
//! A stream not updated for `max_stale` is forgotten: the next point starts a new stream
//! from zero, with its own start time, which queries see as a counter reset. The map is
//! bounded: when full, the least recently updated tenth is evicted (counted) so that new
//! series still get in.

use std::collections::HashMap;

use sightline_model::{is_stale_nan, Labels};

#[derive(Debug, Clone, Copy)]
struct State {
    sum: f64,
    start_ms: i64,
    last_ms: i64,
    /// When the state was last updated, in the receiver's clock (milliseconds).
    seen_ms: i64,
}

/// Why a delta point was not converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// At or before the stream's last point, or starting before the stream.
    OutOfOrder,
}

/// The accumulator; one per receiver, behind a mutex.
#[derive(Debug)]
pub struct Accumulator {
    streams: HashMap<Labels, State>,
    max_streams: usize,
    max_stale_ms: i64,
    /// Streams evicted because the map was full, since the last [`Accumulator::take_counts`].
    evicted: u64,
    /// Streams forgotten after `max_stale`, since the last [`Accumulator::take_counts`].
    expired: u64,
    last_sweep_ms: i64,
}

impl Accumulator {
    /// An accumulator holding at most `max_streams` series, each forgotten after
    /// `max_stale_ms` without a point.
    pub fn new(max_streams: usize, max_stale_ms: i64) -> Self {
        Accumulator {
            streams: HashMap::new(),
            max_streams: max_streams.max(1),
            max_stale_ms,
            evicted: 0,
            expired: 0,
            last_sweep_ms: 0,
        }
    }

    /// The streams evicted (map full) and expired (idle) since the last call.
    pub fn take_counts(&mut self) -> (u64, u64) {
        (
            std::mem::take(&mut self.evicted),
            std::mem::take(&mut self.expired),
        )
    }

    /// The number of streams held.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is held.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Adds a delta point; returns the cumulative value and its start timestamp.
    pub fn add(
        &mut self,
        labels: &Labels,
        start_ms: i64,
        t_ms: i64,
        v: f64,
        now_ms: i64,
    ) -> Result<(f64, i64), Rejected> {
        if now_ms - self.last_sweep_ms >= self.max_stale_ms.max(1000) {
            self.sweep(now_ms);
        }
        if is_stale_nan(v) {
            let start = self.streams.remove(labels).map_or(start_ms, |s| s.start_ms);
            return Ok((v, start));
        }
        if let Some(s) = self.streams.get_mut(labels) {
            if now_ms - s.seen_ms <= self.max_stale_ms {
                if t_ms <= s.last_ms || (start_ms != 0 && start_ms < s.start_ms) {
                    return Err(Rejected::OutOfOrder);
                }
                s.sum += v;
                s.last_ms = t_ms;
                s.seen_ms = now_ms;
                return Ok((s.sum, s.start_ms));
            }
            self.expired += 1;
        }
        if !self.streams.contains_key(labels) && self.streams.len() >= self.max_streams {
            self.evict();
        }
        let start = if start_ms != 0 && start_ms <= t_ms {
            start_ms
        } else {
            t_ms
        };
        self.streams.insert(
            labels.clone(),
            State {
                sum: v,
                start_ms: start,
                last_ms: t_ms,
                seen_ms: now_ms,
            },
        );
        Ok((v, start))
    }

    fn sweep(&mut self, now_ms: i64) {
        let max = self.max_stale_ms;
        let before = self.streams.len();
        self.streams.retain(|_, s| now_ms - s.seen_ms <= max);
        self.expired += (before - self.streams.len()) as u64;
        self.last_sweep_ms = now_ms;
    }

    /// Evicts the least recently updated tenth (at least one stream).
    fn evict(&mut self) {
        let n = (self.streams.len() / 10).max(1);
        let mut seen: Vec<i64> = self.streams.values().map(|s| s.seen_ms).collect();
        let idx = n.min(seen.len()) - 1;
        let (_, cut, _) = seen.select_nth_unstable(idx);
        let cut = *cut;
        let mut left = n;
        self.streams.retain(|_, s| {
            if left > 0 && s.seen_ms <= cut {
                left -= 1;
                false
            } else {
                true
            }
        });
        self.evicted += (n - left) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(name: &str) -> Labels {
        Labels::from_pairs([("__name__", name)])
    }

    #[test]
    fn deltas_accumulate_and_keep_the_stream_start() {
        let mut a = Accumulator::new(10, 300_000);
        let l = ls("a_total");
        assert_eq!(a.add(&l, 1000, 2000, 5.0, 0), Ok((5.0, 1000)));
        assert_eq!(a.add(&l, 2000, 3000, 2.0, 1), Ok((7.0, 1000)));
        // A gap (a missed export) still accumulates.
        assert_eq!(a.add(&l, 4000, 5000, 1.0, 2), Ok((8.0, 1000)));
        // Out of order and replays are rejected.
        assert_eq!(a.add(&l, 4000, 5000, 1.0, 3), Err(Rejected::OutOfOrder));
        assert_eq!(a.add(&l, 500, 6000, 1.0, 3), Err(Rejected::OutOfOrder));
        // A staleness marker ends the stream; the next point starts from zero.
        assert!(is_stale_nan(
            a.add(&l, 5000, 6000, sightline_model::stale_nan(), 4)
                .unwrap()
                .0
        ));
        assert_eq!(a.add(&l, 6000, 7000, 3.0, 5), Ok((3.0, 6000)));
    }

    #[test]
    fn stale_streams_expire_and_the_map_is_bounded() {
        let mut a = Accumulator::new(10, 1000);
        let l = ls("a_total");
        a.add(&l, 0, 1000, 1.0, 0).unwrap();
        // Idle longer than max_stale: a new stream.
        assert_eq!(a.add(&l, 0, 2000, 1.0, 5000), Ok((1.0, 2000)));
        assert_eq!(a.expired, 1);
        for i in 0..25 {
            a.add(&ls(&format!("m{i}")), 0, 1000, 1.0, 5001 + i)
                .unwrap();
        }
        assert!(a.len() <= 10);
        assert!(a.evicted >= 15);
        // The most recent survive.
        assert_eq!(a.add(&ls("m24"), 0, 2000, 1.0, 5100), Ok((2.0, 1000)));
    }
}
