//! Backfilling recording rules over existing history (prometheus#4357), online: instead of
//! promtool's offline dance (`promtool tsdb create-blocks-from rules` against a running
//! server, then moving blocks into the data directory and restarting), the daemon evaluates
//! a recording rule over a past range with range queries, on the rule's own evaluation grid,
//! and writes the results through a [`BackfillWriter`] (the daemon's: the head for what it
//! still accepts, new sealed partitions for what is older).
//!
//! A rule is backfilled only up to its first live evaluation, so backfilled and live samples
//! never overlap; rules are processed in group order, so a rule that reads another
//! recording rule's series sees that rule's backfilled history.

use std::collections::HashSet;
use std::sync::Arc;

use sightline_model::{Labels, METRIC_NAME};

use crate::file::RuleKind;
use crate::group::Group;
use crate::rule::duration_ms;

/// Evaluates PromQL over a range: `(expr, start, end, step)` → series with their points.
pub type RangeQueryFn = Arc<
    dyn Fn(&str, i64, i64, i64) -> Result<Vec<(Labels, Vec<(i64, f64)>)>, String> + Send + Sync,
>;

/// Writes backfilled series (each in time order); returns the samples written.
pub trait BackfillWriter: Send + Sync {
    /// Writes `series`. Samples the store already has are not an error.
    fn write(&self, series: Vec<(Labels, Vec<(i64, f64)>)>) -> Result<u64, String>;
}

/// What to backfill.
#[derive(Debug, Clone, Default)]
pub struct BackfillRequest {
    /// Only these groups (all when empty).
    pub groups: Vec<String>,
    /// Only these recording rules (all when empty).
    pub rules: Vec<String>,
    /// Start of the range (Unix ms).
    pub start: i64,
    /// End of the range (Unix ms); each rule stops before its first live evaluation.
    pub end: i64,
}

/// What one rule's backfill wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBackfill {
    /// The group.
    pub group: String,
    /// The recording rule.
    pub rule: String,
    /// First and last timestamp evaluated (Unix ms); `None` when the range was empty.
    pub range: Option<(i64, i64)>,
    /// Series written.
    pub series: usize,
    /// Samples written.
    pub samples: u64,
    /// Why it failed, if it did (other rules go on).
    pub error: Option<String>,
}

/// Most points per series in one range query (Prometheus refuses more than 11,000).
const MAX_POINTS_PER_QUERY: i64 = 10_000;

/// Backfills the recording rules of `g` matching `req`; `end_of` gives each rule's end
/// (exclusive): its first live evaluation, or `req.end` when it has none yet.
pub(crate) fn backfill_group(
    g: &Group,
    req: &BackfillRequest,
    range_query: &RangeQueryFn,
    writer: &dyn BackfillWriter,
) -> Vec<RuleBackfill> {
    let step = duration_ms(g.interval).max(1);
    let offset = duration_ms(g.query_offset);
    let mut out = Vec::new();
    for r in &g.rules {
        if r.kind() != RuleKind::Recording {
            continue;
        }
        if !req.rules.is_empty() && !req.rules.iter().any(|n| n == r.name()) {
            continue;
        }
        let end = r.info.first_evaluation.map_or(req.end, |f| f.min(req.end));
        // The rule's own evaluation grid: the group's timestamps, strictly before `end`.
        let mut first = g.eval_timestamp(req.start);
        if first < req.start {
            first += step;
        }
        let last = g.eval_timestamp(end - 1);
        let mut report = RuleBackfill {
            group: g.name.clone(),
            rule: r.name().to_string(),
            range: (first <= last).then_some((first, last)),
            series: 0,
            samples: 0,
            error: None,
        };
        if first > last {
            out.push(report);
            continue;
        }
        let mut series_seen = HashSet::new();
        let mut from = first;
        while from <= last {
            let to = (from + step * (MAX_POINTS_PER_QUERY - 1)).min(last);
            // Each point is what an evaluation at that time would have recorded: the query
            // runs `query_offset` earlier, its result is stamped with the evaluation time.
            let result = range_query(&r.spec.expr, from - offset, to - offset, step);
            let result = match result {
                Ok(v) => v,
                Err(e) => {
                    report.error = Some(e);
                    break;
                }
            };
            let mut batch = Vec::with_capacity(result.len());
            for (labels, points) in result {
                let mut b = labels.builder();
                b.set(METRIC_NAME, r.name().to_string());
                for l in r.labels.iter() {
                    b.set(l.name.clone(), l.value.clone());
                }
                let labels = b.build();
                series_seen.insert(labels.clone());
                let points = points.into_iter().map(|(t, v)| (t + offset, v)).collect();
                batch.push((labels, points));
            }
            match writer.write(batch) {
                Ok(n) => report.samples += n,
                Err(e) => {
                    report.error = Some(e);
                    break;
                }
            }
            from = to + step;
        }
        report.series = series_seen.len();
        out.push(report);
    }
    out
}
