//! `robust_zscore(v range-vector)`: how unusual each series' latest value is against its own
//! recent history, as a robust z-score: `|last − median| / (1.4826 × MAD)`, where MAD is the
//! median absolute deviation of the range's points. Unlike a mean/stddev z-score, one spike
//! in the window does not hide the next; PromQL has medians (`quantile_over_time(0.5, ...)`)
//! but no median absolute deviation.
//!
//! A flat window (MAD 0) scores 0 when the latest value equals the median and `+Inf`
//! otherwise; a series with fewer than 3 points is left out. The result drops the metric
//! name, as the `*_over_time` functions do.

use sightline_sdk::{CallMode, Point, QueryFunction, Series, Signature, Value, ValueType};

/// Scales the MAD to the standard deviation of a normal distribution.
const NORMAL_CONSISTENCY: f64 = 1.4826;

struct RobustZscore;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The score of one window's values (at least 3, in time order).
pub fn score(values: &[f64]) -> f64 {
    let last = values[values.len() - 1];
    let mut sorted = values.to_vec();
    let m = median(&mut sorted);
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    let mad = median(&mut dev);
    if mad == 0.0 {
        return if last == m { 0.0 } else { f64::INFINITY };
    }
    (last - m).abs() / (NORMAL_CONSISTENCY * mad)
}

impl QueryFunction for RobustZscore {
    fn describe() -> Signature {
        Signature {
            name: "robust_zscore".to_string(),
            arg_types: vec![ValueType::RangeVector],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerSeries,
        }
    }

    fn call(args: Vec<Value>, eval_time_ms: i64) -> Result<Value, String> {
        let Some(Value::Vector(series)) = args.into_iter().next() else {
            return Err("robust_zscore expects a range vector".to_string());
        };
        let out = series
            .into_iter()
            .filter(|s| s.points.len() >= 3)
            .map(|s| {
                let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
                Series {
                    labels: s
                        .labels
                        .into_iter()
                        .filter(|l| l.name != "__name__")
                        .collect(),
                    points: vec![Point {
                        t_ms: eval_time_ms,
                        value: score(&values),
                    }],
                }
            })
            .collect();
        Ok(Value::Vector(out))
    }
}

sightline_sdk::export_query_function!(RobustZscore);

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn scores_are_robust_z_scores() {
        // Median 10, deviations 0 0 1 1 90 -> MAD 1; the last point 100 is 90 MADs out.
        let s = score(&[10.0, 9.0, 11.0, 10.0, 100.0]);
        assert!((s - 90.0 / 1.4826).abs() < 1e-9, "{s}");
        assert_eq!(score(&[5.0, 5.0, 5.0]), 0.0);
        assert_eq!(score(&[5.0, 5.0, 5.0, 6.0]), f64::INFINITY);
        // One earlier spike does not hide a later one.
        assert!(score(&[1.0, 50.0, 1.0, 2.0, 1.0, 40.0]) > 3.0);
    }
}
