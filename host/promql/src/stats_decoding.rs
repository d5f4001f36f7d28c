//! Prometheus' `HistogramStatsIterator`: selectors whose histograms only feed
//! `histogram_count`/`histogram_sum`/`histogram_avg` read them without buckets, detecting
//! counter resets on the fly (which is how a `CounterReset` hint can reach an aggregation).

use std::collections::HashSet;
use std::sync::Arc;

use sightline_model::{CounterResetHint, FloatHistogram};

use crate::ast::{BinOp, Expr, VectorSelector};
use crate::stack::guard;

/// The keys (addresses) of the selectors that may skip histogram buckets (Prometheus'
/// `detectHistogramStatsDecoding`): under one of the three functions, and under no
/// subquery, bucket-reading function or trim operator.
pub(crate) fn stats_selectors(e: &Expr) -> HashSet<usize> {
    let mut out = HashSet::new();
    walk(e, false, false, &mut out);
    out
}

fn walk(e: &Expr, stats: bool, blocked: bool, out: &mut HashSet<usize>) {
    guard(|| walk_node(e, stats, blocked, out))
}

fn walk_node(e: &Expr, stats: bool, blocked: bool, out: &mut HashSet<usize>) {
    let mut sel = |vs: &VectorSelector| {
        if stats && !blocked {
            out.insert(vs as *const VectorSelector as usize);
        }
    };
    match e {
        Expr::Vector(vs) | Expr::Matrix { vs, .. } => sel(vs),
        Expr::Subquery { expr, .. } => walk(expr, stats, true, out),
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => walk(expr, stats, blocked, out),
        Expr::Binary { op, lhs, rhs, .. } => {
            let b = blocked || matches!(op, BinOp::TrimUpper | BinOp::TrimLower);
            walk(lhs, stats, b, out);
            walk(rhs, stats, b, out);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                walk(p, stats, blocked, out);
            }
            walk(&a.expr, stats, blocked, out);
        }
        Expr::Call { func, args, .. } => {
            let (s, b) = match func.as_str() {
                "histogram_count" | "histogram_sum" | "histogram_avg" => (true, blocked),
                "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => {
                    (stats, true)
                }
                _ => (stats, blocked),
            };
            args.iter().for_each(|a| walk(a, s, b, out));
        }
        Expr::Number { .. } | Expr::Str { .. } => {}
    }
}

/// Reads one series' histograms as the stats iterator does: count, sum, schema and hint only,
/// an unknown hint replaced by what comparing with the previous histogram says.
#[derive(Debug, Default)]
pub(crate) struct StatsDecoder {
    last: Option<Arc<FloatHistogram>>,
}

impl StatsDecoder {
    /// The bucket-less form of `h`, the next histogram of the series.
    pub(crate) fn decode(&mut self, h: &Arc<FloatHistogram>) -> Arc<FloatHistogram> {
        let hint = match (h.counter_reset_hint, &self.last) {
            (CounterResetHint::Unknown, Some(last)) => {
                if h.detect_reset(last) {
                    CounterResetHint::CounterReset
                } else {
                    CounterResetHint::NotCounterReset
                }
            }
            (hint, _) => hint,
        };
        self.last = Some(h.clone());
        Arc::new(FloatHistogram {
            counter_reset_hint: hint,
            schema: h.schema,
            count: h.count,
            sum: h.sum,
            ..FloatHistogram::default()
        })
    }
}
