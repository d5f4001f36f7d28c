//! Start timestamps in the histogram rate paths (the engine does not hand histogram windows
//! start timestamps yet, so these are checked here rather than end to end).

use std::sync::Arc;

use sightline_model::histogram::{CounterResetHint, FloatHistogram};

use super::*;

fn pt(t: i64, count: f64) -> HPoint {
    HPoint {
        t,
        h: Arc::new(FloatHistogram {
            count,
            sum: count,
            counter_reset_hint: CounterResetHint::NotCounterReset,
            ..FloatHistogram::default()
        }),
    }
}

fn window(start: i64, end: i64) -> MatrixArg {
    MatrixArg {
        series: vec![],
        start,
        end,
        range: end - start,
    }
}

/// start_timestamps.test: one point whose start lies inside the window is a rate from zero.
#[test]
fn a_single_point_with_its_start_inside_the_window() {
    let hs = [pt(120_000, 60.0)];
    let m = window(-120_000, 180_000);
    let mut a = Annos::default();
    let r = extrapolated_histogram_rate(&hs, Some(&[60_000]), &m, true, true, "s", &mut a)
        .expect("a rate");
    assert!((r.count - 0.2).abs() < 1e-12, "{r:?}");
    // Without the start timestamp one point gives nothing.
    assert!(extrapolated_histogram_rate(&hs, None, &m, true, true, "s", &mut a).is_none());
    // A gauge (delta) is not extrapolated from its start.
    assert!(
        extrapolated_histogram_rate(&hs, Some(&[60_000]), &m, false, false, "s", &mut a).is_none()
    );
}

#[test]
fn a_start_timestamp_after_the_previous_point_is_a_reset() {
    let hs = [pt(0, 10.0), pt(60_000, 20.0)];
    let mut a = Annos::default();
    let h = histogram_rate(&hs, &[], true, "s", &mut a).expect("a rate");
    assert_eq!(h.count, 10.0);
    let h = histogram_rate(&hs, &[0, 30_000], true, "s", &mut a).expect("a rate");
    assert_eq!(h.count, 20.0);
    assert!(a.0.is_empty(), "{a:?}");
}

#[test]
fn overlapping_start_timestamps_warn_once() {
    let hs = [pt(10_000, 1.0), pt(20_000, 2.0), pt(30_000, 3.0)];
    let mut a = Annos::default();
    histogram_rate(&hs, &[5_000, 8_000, 9_000], true, "c", &mut a).expect("a rate");
    assert_eq!(
        a.0,
        vec![(
            true,
            "sample has start time that overlaps with previous sample timestamp for metric \"c\""
                .to_string()
        )]
    );
}
