//! The result matrix of a range query whose expression is a bare precomputed call
//! (`rate(x[5m])` over a range), built straight from the precomputed per-step rows.
//!
//! The step loop (`range_steps.rs`) hands every step's row to [`super::range_steps`]'s
//! assembly, which keys each element by its finished label set: one name-dropped `Labels` and
//! a SipHash of it per series, a map holding a second copy, and a `Vec` per series grown one
//! sample at a time. Here the series are told apart by their label set's address (every row of
//! one call shares its series' `Arc`), the name is dropped once per series, each series'
//! samples are allocated once at their final size, and the order is the label order sorted
//! once. The result is what the step loop gives: the same series with the same samples in the
//! same order, and the same `out_samples`/`peak_samples`. Whatever makes the step loop fail or
//! merge (a series twice in one step, the samples limit, two series with the same label set
//! once their name is dropped) sends the rows back to the step loop, which then does exactly
//! what it did before; only the deadline and cancellation are checked here too.

use std::sync::Arc;

use sightline_model::{Labels, Sample};

use super::{drop_name_labels, Ev};
use crate::error::Result;
use crate::fxhash::FxMap;
use crate::select::hpoint_size;
use crate::value::{HPoint, RangeSeries};

/// One output series while its samples are counted.
struct Slot {
    labels: Arc<Labels>,
    drop_name: bool,
    floats: usize,
    histograms: usize,
    /// The last step with a sample, plus one (0: none yet).
    last_step: usize,
}

impl Ev<'_> {
    /// Builds the result matrix from the precomputed rows of the call at `key` over `n_steps`
    /// steps, or `None` (rows left in place) when the step loop would fail or merge series.
    pub(super) fn assemble_precomputed(
        &mut self,
        key: usize,
        n_steps: usize,
    ) -> Result<Option<Vec<RangeSeries>>> {
        let Some(rows) = self.precomputed.remove(&key) else {
            return Ok(None);
        };
        let rows_used = rows.len().min(n_steps);
        // Pass 1, in step order: which series each element belongs to, how many samples each
        // series gets, and the checks the step loop makes after each step.
        let mut slots: Vec<Slot> = Vec::new();
        let mut by_ptr: FxMap<(usize, bool), u32> = FxMap::default();
        let mut slot_of: Vec<u32> =
            Vec::with_capacity(rows[..rows_used].iter().map(Vec::len).sum());
        let mut out_samples = self.out_samples;
        for i in 0..n_steps {
            self.check()?;
            for e in rows.get(i).map_or(&[][..], Vec::as_slice) {
                let k = (Arc::as_ptr(&e.labels) as usize, e.drop_name);
                let s = *by_ptr.entry(k).or_insert_with(|| {
                    slots.push(Slot {
                        labels: e.labels.clone(),
                        drop_name: e.drop_name,
                        floats: 0,
                        histograms: 0,
                        last_step: 0,
                    });
                    (slots.len() - 1) as u32
                });
                let slot = &mut slots[s as usize];
                if slot.last_step == i + 1 {
                    self.precomputed.insert(key, rows);
                    return Ok(None);
                }
                slot.last_step = i + 1;
                match &e.h {
                    None => {
                        slot.floats += 1;
                        out_samples += 1;
                    }
                    Some(h) => {
                        slot.histograms += 1;
                        out_samples += hpoint_size(h);
                    }
                }
                slot_of.push(s);
            }
            if out_samples > self.max_samples {
                self.precomputed.insert(key, rows);
                return Ok(None);
            }
        }
        // The finished label sets, sorted once; a shared one sends the rows back.
        let labels: Vec<Labels> = slots
            .iter()
            .map(|s| {
                if s.drop_name {
                    drop_name_labels(&s.labels)
                } else {
                    (*s.labels).clone()
                }
            })
            .collect();
        let mut order: Vec<u32> = (0..slots.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| labels[a as usize].cmp(&labels[b as usize]));
        if order
            .windows(2)
            .any(|w| labels[w[0] as usize] == labels[w[1] as usize])
        {
            self.precomputed.insert(key, rows);
            return Ok(None);
        }
        let mut rank = vec![0u32; slots.len()];
        for (r, &s) in order.iter().enumerate() {
            rank[s as usize] = r as u32;
        }
        let mut labels: Vec<Option<Labels>> = labels.into_iter().map(Some).collect();
        let mut out: Vec<RangeSeries> = order
            .iter()
            .map(|&s| {
                let slot = &slots[s as usize];
                RangeSeries {
                    labels: labels[s as usize].take().unwrap_or_else(Labels::empty),
                    samples: Vec::with_capacity(slot.floats),
                    histograms: Vec::with_capacity(slot.histograms),
                }
            })
            .collect();
        drop(slots);
        // Pass 2: the samples, in step order into their series.
        let mut next = slot_of.iter();
        for (i, row) in rows.into_iter().take(rows_used).enumerate() {
            let ts = self.start + i as i64 * self.interval;
            for e in row {
                let Some(&s) = next.next() else {
                    break;
                };
                let rs = &mut out[rank[s as usize] as usize];
                match e.h {
                    None => rs.samples.push(Sample { t: ts, v: e.v }),
                    Some(h) => rs.histograms.push(HPoint { t: ts, h }),
                }
            }
        }
        self.out_samples = out_samples;
        self.step_samples = 0;
        self.note_peak(0);
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builder's answer, which `drop_name_labels` skips for well-formed label sets.
    fn by_builder(l: &Labels) -> Labels {
        let mut b = l.builder();
        b.del("__name__");
        b.del("__type__");
        b.del("__unit__");
        b.build()
    }

    #[test]
    fn dropping_the_name_gives_what_the_builder_gives() {
        for l in [
            Labels::from_pairs([("__name__", "x_total"), ("a", "1"), ("z", "2")]),
            Labels::from_pairs([
                ("__name__", "x_seconds"),
                ("__type__", "counter"),
                ("__unit__", "seconds"),
                ("job", "j"),
            ]),
            Labels::from_pairs([("a", "1")]),
            Labels::empty(),
            Labels::from_sorted_unchecked(vec![
                sightline_model::Label::new("__name__", "x"),
                sightline_model::Label::new("b", ""),
                sightline_model::Label::new("c", "3"),
            ]),
        ] {
            assert_eq!(drop_name_labels(&l), by_builder(&l), "{l:?}");
        }
    }
}
