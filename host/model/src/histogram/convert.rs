//! Native histograms with custom buckets back to classic series (Prometheus'
//! `ConvertNHCBToClassic`, used e.g. by remote write 1.0).

use super::error::HistogramError;
use super::{FloatHistogram, Histogram};
use crate::{Labels, BUCKET_LABEL, METRIC_NAME};

/// The histogram to convert: either kind.
#[derive(Debug, Clone, Copy)]
pub enum NhcbRef<'a> {
    /// An integer histogram.
    Int(&'a Histogram),
    /// A float histogram.
    Float(&'a FloatHistogram),
}

/// The classic series of a custom-buckets histogram (`ConvertNHCBToClassic`): one cumulative
/// `<name>_bucket` per bound plus `le="+Inf"`, then `<name>_count` and `<name>_sum`, each
/// with `lset`'s other labels. Errors like Go's: no metric name, not a custom-buckets
/// schema, or the histogram's own validation error.
pub fn convert_nhcb_to_classic(
    nhcb: NhcbRef<'_>,
    lset: &Labels,
) -> Result<Vec<(Labels, f64)>, HistogramError> {
    let base = match lset.get(METRIC_NAME) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => {
            return Err(HistogramError::usage(
                "metric name label '__name__' is missing",
            ))
        }
    };
    let (custom_values, positive, count, sum) = match nhcb {
        NhcbRef::Int(h) => {
            if !h.uses_custom_buckets() {
                return Err(HistogramError::usage(
                    "unsupported histogram schema, not a NHCB",
                ));
            }
            h.validate()?;
            let mut buckets = vec![0.0; h.custom_values.len() + 1];
            // Delta-encoded: the gaps between spans repeat the running count, as Go does.
            let (mut idx, mut curr, mut acc) = (0usize, 0usize, 0i64);
            for s in &h.positive_spans {
                for _ in 0..s.offset.max(0) {
                    if let Some(b) = buckets.get_mut(idx) {
                        *b = acc as f64;
                    }
                    idx += 1;
                }
                for _ in 0..s.length {
                    acc = acc.wrapping_add(h.positive_buckets.get(curr).copied().unwrap_or(0));
                    if let Some(b) = buckets.get_mut(idx) {
                        *b = acc as f64;
                    }
                    idx += 1;
                    curr += 1;
                }
            }
            (h.custom_values.clone(), buckets, h.count as f64, h.sum)
        }
        NhcbRef::Float(h) => {
            if !h.uses_custom_buckets() {
                return Err(HistogramError::usage(
                    "unsupported histogram schema, not a NHCB",
                ));
            }
            h.validate()?;
            let mut buckets = vec![0.0; h.custom_values.len() + 1];
            let (mut idx, mut curr) = (0usize, 0usize);
            for s in &h.positive_spans {
                idx += s.offset.max(0) as usize;
                for _ in 0..s.length {
                    if let (Some(b), Some(v)) = (buckets.get_mut(idx), h.positive_buckets.get(curr))
                    {
                        *b = *v;
                    }
                    idx += 1;
                    curr += 1;
                }
            }
            (h.custom_values.clone(), buckets, h.count, h.sum)
        }
    };

    let with = |suffix: &str, le: Option<String>| {
        let mut b = lset.builder();
        b.set(METRIC_NAME, format!("{base}{suffix}"));
        if let Some(le) = le {
            b.set(BUCKET_LABEL, le);
        }
        b.build()
    };
    let mut out = Vec::with_capacity(custom_values.len() + 3);
    let mut cumulative = 0.0;
    for (i, v) in custom_values.iter().enumerate() {
        cumulative += positive[i];
        out.push((
            with("_bucket", Some(format_openmetrics_float(*v))),
            cumulative,
        ));
    }
    cumulative += positive[positive.len() - 1];
    out.push((with("_bucket", Some("+Inf".to_string())), cumulative));
    out.push((with("_count", None), count));
    out.push((with("_sum", None), sum));
    Ok(out)
}

/// Go's `labels.FormatOpenMetricsFloat`: shortest `%g`, with `.0` added to integers.
pub fn format_openmetrics_float(f: f64) -> String {
    if f == 0.0 {
        return "0.0".to_string();
    }
    if f.is_nan() || f.is_infinite() {
        return super::generic::go_g(f);
    }
    let s = super::generic::go_g(f);
    if s.contains(['e', '.']) {
        s
    } else {
        s + ".0"
    }
}
