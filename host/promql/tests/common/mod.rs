//! What more than one of the crate's test binaries checks.

use sightline_model::stale_nan;
use sightline_promql::{Engine, RangeSeries, Value};
use sightline_storage_api::MemStorage;

/// Runs `q` as a range query (5 min to 25 min at 15 s) and asserts that every step holds
/// exactly what the instant query at that step answers: the same label sets, bit-identical
/// values, nothing more. Returns the matrix for further checks.
pub(crate) fn assert_steps_match(engine: &Engine, st: &MemStorage, q: &str) -> Vec<RangeSeries> {
    let (start, end, step) = (300_000, 1_500_000, 15_000);
    let res = engine.range_query(st, q, start, end, step).unwrap();
    let Value::Matrix(m) = res.value else {
        panic!("{q}: not a matrix");
    };
    let mut t = start;
    while t <= end {
        let inst = engine.instant_query(st, q, t).unwrap();
        let Value::Vector(v) = inst.value else {
            panic!("{q}: not a vector");
        };
        let mut want: Vec<(String, u64)> = v
            .iter()
            .map(|s| (s.labels.to_string(), s.v.to_bits()))
            .collect();
        want.sort();
        let mut got: Vec<(String, u64)> = m
            .iter()
            .filter_map(|s| {
                s.samples
                    .iter()
                    .find(|p| p.t == t)
                    .map(|p| (s.labels.to_string(), p.v.to_bits()))
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{q} at {t}");
        t += step;
    }
    m
}

/// A counter's samples over the first 30 minutes as `(t, v)`: random steps of 5–25 s, gaps of
/// 200 s, staleness markers and resets, so the series comes and goes between steps.
pub(crate) fn random_counter(rng: &mut fastrand::Rng) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    let mut v = rng.u64(..100) as f64;
    let mut t = rng.u64(..60_000) as i64;
    while t < 1_800_000 {
        match rng.u64(..100) {
            0..=3 => t += 200_000,
            4 => {
                out.push((t, stale_nan()));
                t += 1_000;
            }
            5 => v = 0.0,
            _ => {}
        }
        v += rng.u64(..40) as f64 / 8.0;
        out.push((t, v));
        t += 5_000 + rng.u64(..20_000) as i64;
    }
    out
}
